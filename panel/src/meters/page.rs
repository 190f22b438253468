//! A meter's page: its details, the meters of its contract, seal reports, photos, readings, and
//! for admins the forms that change it, each shown again with its errors when it was sent.

use entities::meter;
use maud::{Markup, html};
use poem::web::{Data, Path, Query};
use poem::{Result, handler};
use serde::Deserialize;
use service::Context;
use service::meters;
use service::paging::PER_PAGE;
use service::readings::history::{self, ReadingFilter};
use service::register::cards::{self, MeterInfo, meter_info};

use super::swap::{ReplaceForm, RolloverForm, replace_form, rollover_form};
use crate::auth::{Authorized, OfficeStaff, Policy};
use crate::error::{found, internal};
use crate::forms::{Errors, date_text, date_value, field};
use crate::layout::{self, csrf_input};
use crate::lists::{crumbs, pager, table};
use crate::{readings, seals};

pub(crate) async fn load(ctx: &Context, id: i64) -> Result<MeterInfo> {
    found(meter_info(ctx.db.conn(), id).await)
}

pub(super) fn meter_crumbs(info: &MeterInfo) -> Markup {
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
            replace: ReplaceForm::on(today.clone()),
            rollover: RolloverForm::on(today),
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

    /// The replacement form's input kept.
    pub(super) fn with_replace(self, replace: ReplaceForm) -> Forms {
        Forms { replace, ..self }
    }

    /// The rollover form's input kept.
    pub(super) fn with_rollover(self, rollover: RolloverForm) -> Forms {
        Forms { rollover, ..self }
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
                    td.num { (domain::values_text(m.zone_list(), &m.initial_values())) }
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
