//! Readings: the list with filters and photos, a reading's page with its versions and audit
//! trail, the review of flagged readings and corrections.

use domain::{MeterValue, Period, ReadingSource, ReadingStatus, values_text};
use entities::reading;
use maud::{Markup, html};
use poem::session::Session;
use poem::web::{Data, Form, Path, Query};
use poem::{Response, Result, handler};
use sea_orm::EntityTrait;
use serde::{Deserialize, Serialize};
use service::paging::PER_PAGE;
use service::readings::history;
use service::readings::history::{ReadingFilter, ReadingRow};
use service::readings::review::Decision;
use service::{Context, audit};

use crate::auth::{Admin, Authorized, OfficeStaff, Policy};
use crate::error::{found, internal};
use crate::forms::{Errors, done, invalid, meter_value_field, moment_text, options, parse_choice, required_text_field};
use crate::layout::{self, csrf_input};
use crate::lists::{crumbs, filters, pager, table};

/// Readings with their meter, contract and photo thumbnail.
pub fn rows_table(ctx: &Context, rows: &[ReadingRow]) -> Markup {
    let headers = ["Снято", "Участок", "Договор", "Показания", "Источник", "Статус", "Фото"];
    table(
        &headers,
        rows.iter().map(|r| {
            let reading = &r.reading;
            html! {
                tr {
                    td { a href={ "/readings/" (reading.id) } { (moment_text(ctx, reading.taken_at)) } }
                    td { (r.contract.plot_number) }
                    td { a href={ "/contracts/" (r.contract.contract.id) } { (r.contract.contract.number) } " · " (r.contract.consumer_name) }
                    td.num { (values_text(r.meter.zone_list(), &reading.values())) }
                    td { (reading.source) }
                    td class=(if reading.status == ReadingStatus::Flagged { "warn" } else { "" }) { (reading.status) }
                    td {
                        @if let Some(photo) = reading.photo_id {
                            a href={ "/photos/" (photo) } { img.thumb src={ "/photos/" (photo) "/thumb" } alt="Фото показания" loading="lazy"; }
                        }
                    }
                }
            }
        }),
    )
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ReadingsQuery {
    period: String,
    source: String,
    status: String,
    page: Option<u64>,
}

impl ReadingsQuery {
    fn filter(&self) -> ReadingFilter {
        ReadingFilter {
            period: Period::parse(&self.period).ok(),
            source: parse_choice::<ReadingSource>(&self.source).ok().flatten(),
            status: parse_choice::<ReadingStatus>(&self.status).ok().flatten(),
            meter_id: None,
        }
    }
}

#[handler]
pub async fn list(user: OfficeStaff, ctx: Data<&Context>, Query(query): Query<ReadingsQuery>) -> Result<Markup> {
    let page =
        history::list(ctx.db.conn(), &query.filter(), query.page.unwrap_or(1), PER_PAGE).await.map_err(internal)?;
    Ok(layout::page(
        &user,
        "Показания",
        html! {
            (filters("/readings", html! {
                input type="month" name="period" value=(query.period) aria-label="Месяц";
                select name="source" aria-label="Источник" { (options::<ReadingSource>(&query.source, Some("Все источники"))) }
                select name="status" aria-label="Статус" { (options::<ReadingStatus>(&query.status, Some("Все статусы"))) }
            }))
            p { a href="/readings?status=flagged" { "Показания на проверке" } }
            (rows_table(&ctx, &page.items))
            (pager(&page, "/readings", &query))
        },
    ))
}

/// The audit log's actions, as office staff call them.
fn action_label(action: &str) -> &str {
    match action {
        "reading.submit" => "Передано",
        "reading.review" => "Проверено",
        "reading.correct" => "Исправлено",
        other => other,
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct CorrectForm {
    value_t1: String,
    value_t2: String,
    reason: String,
}

impl CorrectForm {
    /// The form filled with the reading's values, for the admin to change.
    fn of(reading: &reading::Model) -> CorrectForm {
        CorrectForm {
            value_t1: reading.value_t1.to_string(),
            value_t2: reading.value_t2.map(|v| v.to_string()).unwrap_or_default(),
            reason: String::new(),
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ReviewForm {
    decision: String,
}

async fn reading_page<P: Policy>(
    user: &Authorized<P>,
    ctx: &Context,
    id: i64,
    correction: &CorrectForm,
    errors: &Errors,
) -> Result<Markup> {
    let conn = ctx.db.conn();
    let reading = found(reading::Entity::find_by_id(id).one(conn).await)?;
    let row = found(history::rows(conn, vec![reading]).await.map(|rows| rows.into_iter().next()))?;
    let versions = history::versions(conn, id).await.map_err(internal)?;
    let ids: Vec<i64> = versions.iter().map(|v| v.id).collect();
    let trail = audit::audit_trail(conn, "reading", &ids).await.map_err(internal)?;
    let (r, zones) = (&row.reading, row.meter.zone_list());
    let current = matches!(r.status, ReadingStatus::Accepted | ReadingStatus::Flagged);
    Ok(layout::page(
        user,
        &format!("Показание от {}", moment_text(ctx, r.taken_at)),
        html! {
            (crumbs(&[("/readings", "Показания"), (&format!("/meters/{}", row.meter.id), &format!("Счётчик № {}", row.meter.serial))]))
            table.details {
                tr { th { "Договор" } td { a href={ "/contracts/" (row.contract.contract.id) } { (row.contract.contract.number) } " · " (row.contract.consumer_name) ", участок " (row.contract.plot_number) } }
                tr { th { "Месяц" } td { (r.period.russian()) } }
                tr { th { "Показания" } td { (values_text(zones, &r.values())) } }
                tr { th { "Источник" } td { (r.source) } }
                tr { th { "Статус" } td { (r.status) } }
                tr { th { "Пломба" } td { (match r.seal_intact { Some(true) => "цела", Some(false) => "нарушена", None => "—" }) } }
                tr { th { "Комментарий" } td { (r.comment.as_deref().unwrap_or("—")) } }
            }
            @if let Some(photo) = r.photo_id {
                p { a href={ "/photos/" (photo) } { img.thumb src={ "/photos/" (photo) "/thumb" } alt="Фото показания"; } }
            }
            @if user.is_admin() {
                (errors.banner())
                @if r.status == ReadingStatus::Flagged {
                    h2 { "Проверка" }
                    p.muted { "Показание задержано: расход намного больше обычного. Принятое показание попадёт в начисления." }
                    form.inline method="post" action={ "/readings/" (id) "/review" } {
                        (csrf_input(&user.csrf))
                        button type="submit" name="decision" value="accept" { "Принять" } " "
                        button.secondary type="submit" name="decision" value="reject" { "Отклонить" }
                    }
                }
                @if current {
                    h2 { "Исправить" }
                    p.muted { "Исправление записывается новым показанием; это остаётся в истории." }
                    form.stack method="post" action={ "/readings/" (id) "/correct" } {
                        (csrf_input(&user.csrf))
                        @for (i, zone) in zones.iter().enumerate() {
                            @let (name, value) = if i == 0 { ("value_t1", &correction.value_t1) } else { ("value_t2", &correction.value_t2) };
                            (meter_value_field(errors, name, &format!("Показание ({})", zone.label().to_lowercase()), value))
                        }
                        (required_text_field(errors, "reason", "Причина исправления", &correction.reason))
                        button type="submit" { "Исправить" }
                    }
                }
            }
            @if versions.len() > 1 {
                h2 { "Версии" }
                (table(&["Создано", "Показания", "Статус"], versions.iter().map(|v| html! {
                    tr {
                        td { a href={ "/readings/" (v.id) } { (moment_text(ctx, v.created_at)) } @if v.id == id { " (эта)" } }
                        td.num { (values_text(zones, &v.values())) }
                        td { (v.status) }
                    }
                })))
            }
            h2 { "Журнал" }
            (table(&["Когда", "Кто", "Действие", "Подробности"], trail.iter().map(|e| html! {
                tr {
                    td { (moment_text(ctx, e.entry.at)) }
                    td { (e.staff_name.as_deref().unwrap_or(if e.entry.consumer_id.is_some() { "потребитель" } else { "система" })) }
                    td { (action_label(&e.entry.action)) }
                    td { code { (e.entry.details) } }
                }
            })))
        },
    ))
}

#[handler]
pub async fn show(user: OfficeStaff, ctx: Data<&Context>, Path(id): Path<i64>) -> Result<Markup> {
    let reading = found(reading::Entity::find_by_id(id).one(ctx.db.conn()).await)?;
    reading_page(&user, &ctx, id, &CorrectForm::of(&reading), &Errors::default()).await
}

#[handler]
pub async fn review(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<ReviewForm>,
) -> Result<Response> {
    let decision = match form.decision.as_str() {
        "accept" => Some(Decision::Accept),
        "reject" => Some(Decision::Reject),
        _ => None,
    };
    let errors = match decision {
        Some(decision) => match service::readings::review::review(&ctx, id, decision, user.id()).await {
            Ok(reading) => {
                return Ok(done(
                    session,
                    format!("Показание: {}.", reading.status.label().to_lowercase()),
                    format!("/readings/{id}"),
                ));
            }
            Err(e) => Errors::refused(e)?,
        },
        None => Errors::form("Выберите: принять или отклонить."),
    };
    let reading = found(reading::Entity::find_by_id(id).one(ctx.db.conn()).await)?;
    Ok(invalid(reading_page(&user, &ctx, id, &CorrectForm::of(&reading), &errors).await?))
}

#[handler]
pub async fn correct(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<CorrectForm>,
) -> Result<Response> {
    let reading = found(reading::Entity::find_by_id(id).one(ctx.db.conn()).await)?;
    let mut errors = Errors::default();
    let mut values: Vec<MeterValue> = errors.check("value_t1", MeterValue::parse(&form.value_t1)).into_iter().collect();
    // Readings of a two-register meter always carry the night value.
    if reading.value_t2.is_some() {
        values.extend(errors.check("value_t2", MeterValue::parse(&form.value_t2)));
    }
    if errors.is_empty() {
        match service::readings::review::correct(&ctx, id, values, &form.reason, user.id()).await {
            Ok(new) => return Ok(done(session, "Показание исправлено.", format!("/readings/{}", new.id))),
            Err(e) => errors = Errors::refused(e)?,
        }
    }
    Ok(invalid(reading_page(&user, &ctx, id, &form, &errors).await?))
}
