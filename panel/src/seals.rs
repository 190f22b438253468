//! Seal reports on the panel: the open ones on the front page, all of a meter's on its page, and
//! the admin's form that closes one with a note of what was done (posted to
//! [`crate::meters::actions::resolve_seal`]).

use maud::{Markup, html};
use serde::Deserialize;
use service::Context;
use service::meters::seals::SealEventRow;

use crate::auth::{Authorized, Policy};
use crate::forms::{Errors, moment_text};
use crate::layout::csrf_input;
use crate::lists::table;

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ResolveForm {
    pub event_id: String,
    pub resolution: String,
    pub seal_number: String,
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
