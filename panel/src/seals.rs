//! Seal reports on the panel: the open ones on the front page, all of a meter's on its page, and
//! the admin's form that closes one with a note of what was done.

use maud::{Markup, html};
use poem::session::Session;
use poem::web::{Data, Form, Path};
use poem::{Response, Result, handler};
use serde::Deserialize;
use service::Context;
use service::meters::seals::{self, Resolution, SealError, SealEventRow};

use crate::auth::{Admin, Authorized, Policy};
use crate::forms::{Errors, done, invalid, moment_text, optional};
use crate::layout::csrf_input;
use crate::lists::table;
use crate::meters::{self, Forms, Posted};

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ResolveForm {
    event_id: String,
    resolution: String,
    seal_number: String,
}

/// Open reports for the front page: where, when, who and what, with a link to resolve each.
pub fn open_table(ctx: &Context, rows: &[SealEventRow]) -> Markup {
    let headers = ["Участок", "Счётчик", "Сообщено", "Контролёр", "Комментарий", ""];
    table(
        &headers,
        rows.iter().map(|row| {
            html! {
                tr {
                    td { (row.plot_number) }
                    td { a href={ "/meters/" (row.meter.id) } { (row.meter.serial) } }
                    td { (moment_text(ctx, row.event.reported_at)) }
                    td { (row.reported_by.as_deref().unwrap_or("—")) }
                    td { (row.event.comment.as_deref().unwrap_or("—")) }
                    td { a href={ "/meters/" (row.meter.id) "#seal-" (row.event.id) } { "Решить" } }
                }
            }
        }),
    )
}

/// A meter's seal reports: each open one with the admin's form to resolve it, then the resolved
/// ones with what was done. `errors` are those of the form just sent, `form` its input.
pub fn meter_section<P: Policy>(
    user: &Authorized<P>,
    ctx: &Context,
    meter_id: i64,
    rows: &[SealEventRow],
    form: &ResolveForm,
    errors: Option<&Errors>,
) -> Markup {
    let (open, resolved): (Vec<&SealEventRow>, Vec<&SealEventRow>) =
        rows.iter().partition(|row| row.event.resolved_at.is_none());
    html! {
        h2 { "Нарушения пломбы" }
        @if let Some(errors) = errors { (errors.banner()) }
        @if rows.is_empty() { p.muted { "О нарушении пломбы не сообщали." } }
        @for row in open {
            @let id = row.event.id;
            @let kept = (form.event_id == id.to_string()).then_some(form);
            section id={ "seal-" (id) } {
                p {
                    span.warn { "Не решено. " }
                    "Сообщено " (moment_text(ctx, row.event.reported_at))
                    @if let Some(who) = &row.reported_by { ", " (who) }
                    @if let Some(comment) = &row.event.comment { ": «" (comment) "»" }
                    @if let Some(reading) = row.event.reading_id { " (" a href={ "/readings/" (reading) } { "показание" } ")" }
                }
                @if user.is_admin() {
                    form.stack method="post" action={ "/meters/" (meter_id) "/seal/resolve" } {
                        (csrf_input(&user.csrf))
                        input type="hidden" name="event_id" value=(id);
                        label for={ "resolution-" (id) } { "Что сделано" }
                        textarea id={ "resolution-" (id) } name="resolution" rows="2" required
                            placeholder="Опломбирован заново, пломба № …" { (kept.map_or("", |f| f.resolution.as_str())) }
                        label for={ "seal-number-" (id) } { "Номер новой пломбы, если поставлена" }
                        input id={ "seal-number-" (id) } type="text" name="seal_number"
                            value=(kept.map_or("", |f| f.seal_number.as_str()));
                        button type="submit" { "Закрыть сообщение" }
                    }
                }
            }
        }
        @if !resolved.is_empty() {
            (table(&["Сообщено", "Кем", "Комментарий", "Решено", "Что сделано"], resolved.iter().map(|row| html! {
                tr {
                    td { (moment_text(ctx, row.event.reported_at)) }
                    td { (row.reported_by.as_deref().unwrap_or("—")) }
                    td { (row.event.comment.as_deref().unwrap_or("—")) }
                    td {
                        @if let Some(at) = row.event.resolved_at { (moment_text(ctx, at)) }
                        @if let Some(who) = &row.resolved_by { ", " (who) }
                    }
                    td { (row.event.resolution.as_deref().unwrap_or("—")) }
                }
            })))
        }
    }
}

#[handler]
pub async fn resolve(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<ResolveForm>,
) -> Result<Response> {
    let info = meters::load(&ctx, id).await?;
    let resolution = Resolution { note: form.resolution.clone(), new_seal_number: optional(&form.seal_number) };
    let resolved = match form.event_id.trim().parse() {
        Ok(event_id) => seals::resolve(&ctx, event_id, resolution, user.id()).await,
        Err(_) => Err(SealError::UnknownEvent),
    };
    let errors = match resolved {
        Ok(_) => return Ok(done(session, "Сообщение о пломбе закрыто.", format!("/meters/{id}"))),
        Err(e) => Errors::refused(e)?,
    };
    let forms = Forms::posted(&ctx, Posted::Seal, errors).with_seal(form);
    Ok(invalid(meters::meter_page(&user, &ctx, &info, 1, &forms).await?))
}
