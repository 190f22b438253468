//! Meters: the list, a meter's page (photos, seal reports, readings, the meters of its contract),
//! editing and photos, the admin's replacement and rollover forms, and the meters due for
//! verification (поверка).

use domain::{MeterValue, Zone};
use entities::meter;
use maud::{Markup, html};
use poem::session::Session;
use poem::web::{Data, Form, Multipart, Path, Query};
use poem::{Response, Result, handler};
use serde::Deserialize;
use service::Context;
use service::dates::{parse_date, parse_optional_date};
use service::meters::{self, Replacement, VERIFICATION_NOTICE_DAYS};
use service::paging::PER_PAGE;
use service::readings::history;
use service::readings::history::ReadingFilter;
use service::register::cards::{MeterInfo, meter_info};
use service::register::changes::MeterDetails;
use service::register::lists::ContractRow;
use service::register::{cards, changes, lists};

use crate::auth::{Admin, Authorized, OfficeStaff, Policy};
use crate::error::{found, internal};
use crate::forms::{
    Errors, date_field, date_text, date_value, done, field, invalid, meter_value_field, optional, required_text_field,
    store, text_field,
};
use crate::layout::{self, csrf_input};
use crate::lists::{RegisterQuery, crumbs, pager, table};
use crate::{readings, seals};

/// Meters in service, with what a walk or a seal check needs.
#[handler]
pub async fn list(user: OfficeStaff, ctx: Data<&Context>, Query(query): Query<RegisterQuery>) -> Result<Markup> {
    let rows = lists::contracts(ctx.db.conn(), &query.filter()?, ctx.current_period()).await.map_err(internal)?;
    let metered: Vec<(ContractRow, meter::Model)> =
        rows.into_iter().filter_map(|mut row| row.meter.take().map(|meter| (row, meter))).collect();
    let page = query.page(metered);
    let headers = ["Счётчик", "Участок", "Договор", "Услуга", "Пломба", "Поверка до", "В этом месяце"];
    Ok(layout::page(
        &user,
        "Счётчики",
        html! {
            (query.form("/meters"))
            (table(&headers, page.items.iter().map(|(row, meter)| html! {
                tr {
                    td { a href={ "/meters/" (meter.id) } { (meter.serial) } }
                    td { a href={ "/plots/" (row.plot.id) } { (row.plot.number) } }
                    td { a href={ "/contracts/" (row.contract.id) } { (row.contract.number) } " · " (row.consumer.full_name) }
                    td { (row.contract.service) }
                    td { (meter.seal_number.as_deref().unwrap_or("—")) }
                    td { (meter.verification_due.map(date_text).unwrap_or_else(|| "—".into())) }
                    td { @if row.unread { span.warn { "не снято" } } @else { "снято" } }
                }
            })))
            (pager(&page, "/meters", &query))
            p { a href="/meters/verification" { "Сроки поверки" } }
        },
    ))
}

pub(crate) async fn load(ctx: &Context, id: i64) -> Result<MeterInfo> {
    found(meter_info(ctx.db.conn(), id).await)
}

fn meter_crumbs(info: &MeterInfo) -> Markup {
    let contract = format!("/contracts/{}", info.contract.id);
    crumbs(&[("/contracts", "Договоры"), (&contract, &format!("Договор № {}", info.contract.number))])
}

#[derive(Debug, Deserialize, Default)]
pub struct PageQuery {
    page: Option<u64>,
}

/// Which of the meter page's forms was sent: it shows its errors and keeps its input, the others
/// start fresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Posted {
    Photo,
    Replace,
    Rollover,
    Seal,
}

/// The state of the meter page's forms.
pub(crate) struct Forms {
    posted: Option<Posted>,
    errors: Errors,
    replace: ReplaceForm,
    rollover: RolloverForm,
    seal: seals::ResolveForm,
}

impl Forms {
    /// Empty forms, dated today.
    fn fresh(ctx: &Context) -> Forms {
        let today = date_value(ctx.today());
        Forms {
            posted: None,
            errors: Errors::default(),
            replace: ReplaceForm { replaced_on: today.clone(), ..ReplaceForm::default() },
            rollover: RolloverForm { rollover_on: today, ..RolloverForm::default() },
            seal: seals::ResolveForm::default(),
        }
    }

    /// `form` sent back with `errors`, the others fresh; its input is set on the result.
    pub(crate) fn posted(ctx: &Context, form: Posted, errors: Errors) -> Forms {
        Forms { posted: Some(form), errors, ..Forms::fresh(ctx) }
    }

    /// The seal form's input kept.
    pub(crate) fn with_seal(self, seal: seals::ResolveForm) -> Forms {
        Forms { seal, ..self }
    }

    /// The errors of `form`, if it was the one sent.
    fn errors_of(&self, form: Posted) -> Option<&Errors> {
        (self.posted == Some(form)).then_some(&self.errors)
    }
}

/// A meter's page: for a meter in service, admins also get the replacement and rollover forms.
pub(crate) async fn meter_page<P: Policy>(
    user: &Authorized<P>,
    ctx: &Context,
    info: &MeterInfo,
    page: u64,
    forms: &Forms,
) -> Result<Markup> {
    let m = &info.meter;
    let conn = ctx.db.conn();
    let photos = cards::meter_photos(conn, m.id).await.map_err(internal)?;
    let filter = ReadingFilter { meter_id: Some(m.id), ..ReadingFilter::default() };
    let history = history::list(conn, &filter, page, PER_PAGE).await.map_err(internal)?;
    let chain = meters::of_contract(conn, info.contract.id).await.map_err(internal)?;
    let seal_events = service::meters::seals::meter_events(conn, m.id).await.map_err(internal)?;
    let zones = m.zone_list();
    let in_service = m.removed_on.is_none() && info.contract.closed_on.is_none();
    let none = Errors::default();
    let photo_errors = forms.errors_of(Posted::Photo).unwrap_or(&none);
    Ok(layout::page(
        user,
        &format!("Счётчик № {}", m.serial),
        html! {
            (meter_crumbs(info))
            table.details {
                tr { th { "Участок" } td { a href={ "/plots/" (info.plot.id) } { (info.plot.number) } } }
                tr { th { "Услуга" } td { (info.contract.service) } }
                tr { th { "Установлен" } td { (date_text(m.installed_on)) } }
                @for (zone, value) in zones.iter().zip(m.initial_values()) {
                    tr { th { "Начальное показание (" (zone.label().to_lowercase()) ")" } td { (value) } }
                }
                tr { th { "Пломба" } td { (m.seal_number.as_deref().unwrap_or("—")) } }
                tr { th { "Пломба проверена" } td { (m.seal_checked_on.map(date_text).unwrap_or_else(|| "—".into())) } }
                tr { th { "Срок поверки" } td { (m.verification_due.map(date_text).unwrap_or_else(|| "—".into())) } }
                @if let Some(removed) = m.removed_on { tr { th { "Снят" } td { (date_text(removed)) } } }
            }
            @if user.is_admin() { p { a.button.secondary href={ "/meters/" (m.id) "/edit" } { "Изменить" } } }
            @if chain.len() > 1 {
                h2 { "Счётчики по договору" }
                (chain_table(&chain, Some(m.id)))
            }
            (seals::meter_section(user, ctx, m.id, &seal_events, &forms.seal, forms.errors_of(Posted::Seal)))
            h2 { "Фото" }
            @if photos.is_empty() { p.muted { "Фото пока нет." } }
            div.gallery {
                @for photo in &photos {
                    a href={ "/photos/" (photo.photo_id) } {
                        img.thumb src={ "/photos/" (photo.photo_id) "/thumb" } alt={ "Фото счётчика " (m.serial) } loading="lazy";
                    }
                }
            }
            @if user.is_admin() {
                (photo_errors.banner())
                form.stack method="post" action={ "/meters/" (m.id) "/photos" } enctype="multipart/form-data" {
                    (csrf_input(&user.csrf))
                    (field(photo_errors, "photo", "Добавить фото (JPEG, PNG, WebP)", html! {
                        input #photo type="file" name="photo" accept="image/*" required;
                    }))
                    button type="submit" { "Загрузить" }
                }
            }
            @if user.is_admin() && in_service {
                h2 { "Замена и переход через ноль" }
                details open[forms.posted == Some(Posted::Replace)] {
                    summary { "Заменить счётчик" }
                    (replace_form(&user.csrf, m, &forms.replace, forms.errors_of(Posted::Replace).unwrap_or(&none)))
                }
                details open[forms.posted == Some(Posted::Rollover)] {
                    summary { "Переход через ноль" }
                    (rollover_form(&user.csrf, m, &forms.rollover, forms.errors_of(Posted::Rollover).unwrap_or(&none)))
                }
            }
            h2 { "Показания" }
            (readings::rows_table(ctx, &history.items))
            (pager(&history, &format!("/meters/{}", m.id), &()))
        },
    ))
}

/// The meters a contract has had, oldest first; `current` is marked.
pub(crate) fn chain_table(chain: &[meter::Model], current: Option<i64>) -> Markup {
    let headers = ["Счётчик", "Установлен", "Начальные показания", "Снят"];
    table(
        &headers,
        chain.iter().map(|m| {
            html! {
                tr {
                    td { a href={ "/meters/" (m.id) } { (m.serial) } @if current == Some(m.id) { " (этот)" } }
                    td { (date_text(m.installed_on)) }
                    td.num { (readings::values_text(m.zone_list(), &m.initial_values())) }
                    td { @match m.removed_on { Some(removed) => (date_text(removed)), None => "в работе" } }
                }
            }
        }),
    )
}

#[handler]
pub async fn show(
    user: OfficeStaff,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> Result<Markup> {
    let info = load(&ctx, id).await?;
    meter_page(&user, &ctx, &info, q.page.unwrap_or(1), &Forms::fresh(&ctx)).await
}

/// Stores an uploaded photo and files it in the meter's gallery.
#[handler]
pub async fn upload_photo(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> Result<Response> {
    let info = load(&ctx, id).await?;
    let mut bytes = Vec::new();
    while let Some(part) = multipart.next_field().await? {
        if part.name() == Some("photo") {
            bytes = part.bytes().await?;
        }
    }
    let mut errors = Errors::default();
    if bytes.is_empty() {
        errors.add("photo", "Выберите файл с фотографией.");
    } else {
        match service::meters::photos::store(&ctx, bytes).await {
            Ok(photo) => match changes::add_meter_photo(&ctx, id, photo.id, user.actor()).await {
                Ok(_) => return Ok(done(session, "Фото добавлено.", format!("/meters/{id}"))),
                Err(e) => errors = Errors::refused(e)?,
            },
            Err(e) => {
                let message = crate::error::refusal(e)?;
                errors.add("photo", message);
            }
        }
    }
    let forms = Forms::posted(&ctx, Posted::Photo, errors);
    Ok(invalid(meter_page(&user, &ctx, &info, 1, &forms).await?))
}

/// One value input per register: the single or day one as `names[0]`, the night one as `names[1]`.
fn register_fields(errors: &Errors, zones: &[Zone], label: &str, fields: [(&str, &str); 2]) -> Markup {
    html! {
        @for (zone, (name, value)) in zones.iter().zip(fields) {
            (meter_value_field(errors, name, &format!("{label} ({})", zone.label().to_lowercase()), value))
        }
    }
}

/// The values of [`register_fields`], one per register, or their errors noted.
fn register_values(errors: &mut Errors, zones: &[Zone], fields: [(&'static str, &str); 2]) -> Vec<MeterValue> {
    zones.iter().zip(fields).filter_map(|(_, (name, text))| errors.check(name, MeterValue::parse(text))).collect()
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ReplaceForm {
    final_t1: String,
    final_t2: String,
    replaced_on: String,
    serial: String,
    initial_t1: String,
    initial_t2: String,
    seal_number: String,
    verification_due: String,
    reason: String,
}

impl ReplaceForm {
    fn parse(&self, meter: &meter::Model) -> Result<Replacement, Errors> {
        let mut e = Errors::default();
        let zones = meter.zone_list();
        let final_values = register_values(&mut e, zones, [("final_t1", &self.final_t1), ("final_t2", &self.final_t2)]);
        let replaced_on = e.check("replaced_on", parse_date(&self.replaced_on));
        let initial =
            register_values(&mut e, zones, [("initial_t1", &self.initial_t1), ("initial_t2", &self.initial_t2)]);
        let verification_due = e.check("verification_due", parse_optional_date(&self.verification_due));
        match (replaced_on, verification_due) {
            (Some(on), Some(due)) if e.is_empty() => Ok(Replacement {
                meter_id: meter.id,
                final_values,
                final_taken_on: on,
                new_serial: self.serial.clone(),
                new_initial_values: initial,
                new_seal_number: optional(&self.seal_number),
                new_verification_due: due,
                reason: self.reason.clone(),
            }),
            _ => Err(e),
        }
    }
}

fn replace_form(csrf: &str, m: &meter::Model, form: &ReplaceForm, errors: &Errors) -> Markup {
    let zones = m.zone_list();
    html! {
        p.muted { "Снимаемый счётчик закрывается конечным показанием, новый начинает учёт со своих начальных показаний. Расход месяца замены — сумма по обоим." }
        (errors.banner())
        form.stack method="post" action={ "/meters/" (m.id) "/replace" } {
            (csrf_input(csrf))
            fieldset {
                legend { "Снимаемый счётчик № " (m.serial) }
                (register_fields(errors, zones, "Конечное показание", [("final_t1", &form.final_t1), ("final_t2", &form.final_t2)]))
                (date_field(errors, "replaced_on", "Дата замены", &form.replaced_on))
            }
            fieldset {
                legend { "Новый счётчик" }
                (required_text_field(errors, "serial", "Заводской номер", &form.serial))
                (register_fields(errors, zones, "Начальное показание", [("initial_t1", &form.initial_t1), ("initial_t2", &form.initial_t2)]))
                (text_field(errors, "seal_number", "Номер пломбы", &form.seal_number))
                (date_field(errors, "verification_due", "Срок поверки", &form.verification_due))
            }
            (required_text_field(errors, "reason", "Причина замены", &form.reason))
            button type="submit" { "Заменить счётчик" }
        }
    }
}

#[handler]
pub async fn replace(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<ReplaceForm>,
) -> Result<Response> {
    let info = load(&ctx, id).await?;
    let errors = match form.parse(&info.meter) {
        Ok(replacement) => match meters::replace(&ctx, replacement, user.id()).await {
            Ok(replaced) => {
                let (old, new) = (&replaced.old_meter, &replaced.new_meter);
                let message = format!("Счётчик № {} снят, установлен № {}.", old.serial, new.serial);
                return Ok(done(session, message, format!("/meters/{}", new.id)));
            }
            Err(e) => Errors::refused(e)?,
        },
        Err(errors) => errors,
    };
    let forms = Forms { replace: form, ..Forms::posted(&ctx, Posted::Replace, errors) };
    Ok(invalid(meter_page(&user, &ctx, &info, 1, &forms).await?))
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct RolloverForm {
    digits: String,
    rollover_t1: String,
    rollover_t2: String,
    rollover_on: String,
}

/// A rollover as typed: the display's whole digits, the values after it, the day.
struct Rollover {
    digits: u32,
    values: Vec<MeterValue>,
    on: chrono::NaiveDate,
}

impl RolloverForm {
    fn parse(&self, meter: &meter::Model) -> Result<Rollover, Errors> {
        let mut e = Errors::default();
        let digits =
            e.check("digits", self.digits.trim().parse().map_err(|_| "Укажите число цифр до запятой, например 5."));
        let values = register_values(
            &mut e,
            meter.zone_list(),
            [("rollover_t1", &self.rollover_t1), ("rollover_t2", &self.rollover_t2)],
        );
        let on = e.check("rollover_on", parse_date(&self.rollover_on));
        match (digits, on) {
            (Some(digits), Some(on)) if e.is_empty() => Ok(Rollover { digits, values, on }),
            _ => Err(e),
        }
    }
}

fn rollover_form(csrf: &str, m: &meter::Model, form: &RolloverForm, errors: &Errors) -> Markup {
    html! {
        p.muted {
            "Табло дошло до максимума (99999…) и пошло с нуля. Учёт до перехода закроется на максимуме, "
            "после — продолжится с нуля: расход = (максимум − предыдущее) + новое показание. "
            "У двухтарифного счётчика через ноль переходит только та шкала, чьё показание меньше прежнего."
        }
        (errors.banner())
        form.stack method="post" action={ "/meters/" (m.id) "/rollover" } {
            (csrf_input(csrf))
            (field(errors, "digits", "Цифр до запятой на табло", html! {
                input #digits type="number" name="digits" min="1" max="9" value=(form.digits) required;
            }))
            (register_fields(errors, m.zone_list(), "Показание после перехода", [("rollover_t1", &form.rollover_t1), ("rollover_t2", &form.rollover_t2)]))
            (date_field(errors, "rollover_on", "Дата показания", &form.rollover_on))
            button type="submit" { "Записать переход через ноль" }
        }
    }
}

#[handler]
pub async fn rollover(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<RolloverForm>,
) -> Result<Response> {
    let info = load(&ctx, id).await?;
    let errors = match form.parse(&info.meter) {
        Ok(r) => match meters::rollover(&ctx, id, r.digits, r.values, r.on, user.id()).await {
            Ok(rolled) => {
                let message =
                    format!("Переход через ноль записан: счётчик № {} считает с нуля.", rolled.new_meter.serial);
                return Ok(done(session, message, format!("/meters/{}", rolled.new_meter.id)));
            }
            Err(e) => Errors::refused(e)?,
        },
        Err(errors) => errors,
    };
    let forms = Forms { rollover: form, ..Forms::posted(&ctx, Posted::Rollover, errors) };
    Ok(invalid(meter_page(&user, &ctx, &info, 1, &forms).await?))
}

/// Meters in service whose verification is overdue or due soon, the most urgent first.
#[handler]
pub async fn verification(user: OfficeStaff, ctx: Data<&Context>) -> Result<Markup> {
    let today = ctx.today();
    let due = meters::verification_due(ctx.db.conn(), today, VERIFICATION_NOTICE_DAYS).await.map_err(internal)?;
    let headers = ["Срок поверки", "Счётчик", "Участок", "Договор", "Услуга"];
    Ok(layout::page(
        &user,
        "Поверка счётчиков",
        html! {
            (crumbs(&[("/meters", "Счётчики")]))
            p.muted { "Счётчики в работе, у которых срок поверки прошёл или наступит в ближайшие " (VERIFICATION_NOTICE_DAYS) " дней." }
            (table(&headers, due.iter().map(|info| {
                let date = info.meter.verification_due.unwrap_or(today);
                html! {
                    tr {
                        td class=(if date < today { "warn" } else { "" }) {
                            (date_text(date)) @if date < today { " — просрочена" }
                        }
                        td { a href={ "/meters/" (info.meter.id) } { (info.meter.serial) } }
                        td { a href={ "/plots/" (info.plot.id) } { (info.plot.number) } }
                        td { a href={ "/contracts/" (info.contract.id) } { (info.contract.number) } }
                        td { (info.contract.service) }
                    }
                }
            })))
        },
    ))
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct MeterForm {
    serial: String,
    seal_number: String,
    seal_checked_on: String,
    verification_due: String,
}

impl MeterForm {
    fn of(meter: &meter::Model) -> MeterForm {
        MeterForm {
            serial: meter.serial.clone(),
            seal_number: meter.seal_number.clone().unwrap_or_default(),
            seal_checked_on: meter.seal_checked_on.map(date_value).unwrap_or_default(),
            verification_due: meter.verification_due.map(date_value).unwrap_or_default(),
        }
    }

    fn parse(&self) -> Result<MeterDetails, Errors> {
        let mut errors = Errors::default();
        let seal_checked_on = errors.check("seal_checked_on", parse_optional_date(&self.seal_checked_on));
        let verification_due = errors.check("verification_due", parse_optional_date(&self.verification_due));
        match (seal_checked_on, verification_due) {
            (Some(seal_checked_on), Some(verification_due)) => Ok(MeterDetails {
                serial: self.serial.clone(),
                seal_number: optional(&self.seal_number),
                seal_checked_on,
                verification_due,
            }),
            _ => Err(errors),
        }
    }
}

fn edit_page(user: &Admin, info: &MeterInfo, form: &MeterForm, errors: &Errors) -> Markup {
    let id = info.meter.id;
    layout::page(
        user,
        &format!("Счётчик № {}: изменить", info.meter.serial),
        html! {
            (meter_crumbs(info))
            p.muted { "Начальные показания и число шкал не меняют: по ним посчитаны начисления. Новый счётчик — новый договор или замена." }
            (errors.banner())
            form.stack method="post" action={ "/meters/" (id) } {
                (csrf_input(&user.csrf))
                (required_text_field(errors, "serial", "Заводской номер", &form.serial))
                (text_field(errors, "seal_number", "Номер пломбы", &form.seal_number))
                (date_field(errors, "seal_checked_on", "Пломба проверена", &form.seal_checked_on))
                (date_field(errors, "verification_due", "Срок поверки", &form.verification_due))
                button type="submit" { "Сохранить" }
            }
        },
    )
}

#[handler]
pub async fn edit(user: Admin, ctx: Data<&Context>, Path(id): Path<i64>) -> Result<Markup> {
    let info = load(&ctx, id).await?;
    Ok(edit_page(&user, &info, &MeterForm::of(&info.meter), &Errors::default()))
}

#[handler]
pub async fn update(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<MeterForm>,
) -> Result<Response> {
    let info = load(&ctx, id).await?;
    match store(form.parse(), |details| changes::update_meter(&ctx, id, details, user.actor())).await? {
        Ok(meter) => Ok(done(session, format!("Счётчик № {} сохранён.", meter.serial), format!("/meters/{id}"))),
        Err(errors) => Ok(invalid(edit_page(&user, &info, &form, &errors))),
    }
}
