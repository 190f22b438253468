//! Finding the plot to read: search by number, the «not read this month» list in walking order,
//! and the plot's card with its meters and the debt to tell the consumer.

use std::collections::HashMap;

use domain::{Period, PlotNumber};
use entities::{plot, reading};
use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Path, Query, Redirect};
use poem::{IntoResponse, Response, Result, handler};
use serde::Deserialize;
use service::Context;
use service::readings::walk;
use service::register::cards;
use service::register::cards::{MeterCard, PlotCard};

use super::{page, values_text};
use crate::auth::FieldStaff;
use crate::error::{found, internal};
use crate::layout::form_error;

pub(super) fn plot_url(plot_id: i64) -> String {
    format!("/m/plots/{plot_id}")
}

#[derive(Deserialize)]
pub struct Search {
    plot: Option<String>,
}

/// The walk's start: open a plot by its number, or pick one from the list of plots not read yet.
#[handler]
pub async fn home(user: FieldStaff, ctx: Data<&Context>, Query(search): Query<Search>) -> Result<Response> {
    let conn = ctx.db.conn();
    let refusal = match search.plot.as_deref().map(PlotNumber::parse) {
        None => None,
        Some(Err(e)) => Some((StatusCode::UNPROCESSABLE_ENTITY, e.to_string())),
        Some(Ok(number)) => match cards::find_plot(conn, &number).await.map_err(internal)? {
            Some(plot) => return Ok(Redirect::see_other(plot_url(plot.id)).into_response()),
            None => Some((StatusCode::NOT_FOUND, format!("Участка {number} нет в реестре."))),
        },
    };
    let period = ctx.current_period();
    let unread = walk::unread_plots(conn, period).await.map_err(internal)?.len();
    let typed = search.plot.as_deref().unwrap_or_default();
    let screen = home_screen(&user, period, unread, typed, refusal.as_ref().map(|(_, message)| message.as_str()));
    Ok(screen.with_status(refusal.map_or(StatusCode::OK, |(status, _)| status)).into_response())
}

fn home_screen(user: &FieldStaff, period: Period, unread: usize, typed: &str, error: Option<&str>) -> Markup {
    page(
        user,
        "Обход",
        html! {
            (form_error(error))
            form method="get" action=(super::HOME) {
                label for="plot" { "Номер участка" }
                input #plot type="search" name="plot" value=(typed) autocomplete="off" autocapitalize="characters"
                    enterkeyhint="go" required;
                button type="submit" { "Открыть участок" }
            }
            a.button.secondary href="/m/unread" { "Не сняты за " (period.russian()) ": " (unread) }
        },
    )
}

/// Plots with a meter not read this month, as buttons in walking order.
#[handler]
pub async fn unread_list(user: FieldStaff, ctx: Data<&Context>) -> Result<Markup> {
    let period = ctx.current_period();
    let plots = walk::unread_plots(ctx.db.conn(), period).await.map_err(internal)?;
    let tasks = walk::tasks(ctx.db.conn()).await.map_err(internal)?;
    Ok(page(
        &user,
        &format!("Не сняты за {}", period.russian()),
        html! {
            @if !tasks.is_empty() {
                p.muted { "Поручения по обращениям:" }
                ul.plots {
                    @for task in &tasks {
                        li {
                            a href=(plot_url(task.plot.id)) { (task.plot.number) }
                            " — обращение № " (task.request_id) ": «" (task.text) "»"
                        }
                    }
                }
            }
            @if plots.is_empty() {
                p.flash.ok { "Все участки обойдены." }
            } @else {
                p.muted { "Осталось: " (plots.len()) ". По порядку обхода:" }
                ul.plots {
                    @for plot in &plots {
                        li { a href=(plot_url(plot.id)) { (plot.number) } }
                    }
                }
            }
        },
    ))
}

/// A plot on site: its debt, its meters with their state this month, and the next plot to walk to.
#[handler]
pub async fn show_plot(user: FieldStaff, ctx: Data<&Context>, Path(plot_id): Path<i64>) -> Result<Markup> {
    let conn = ctx.db.conn();
    let card = found(cards::plot_card(conn, plot_id).await)?;
    let period = ctx.current_period();
    let meter_ids: Vec<i64> = card.meters.iter().map(|m| m.meter.id).collect();
    let read = walk::read_in_period(conn, &meter_ids, period).await.map_err(internal)?;
    let mut photos = HashMap::new();
    for meter in &card.meters {
        if let Some(latest) = cards::meter_photos(conn, meter.meter.id).await.map_err(internal)?.first() {
            photos.insert(meter.meter.id, latest.photo_id);
        }
    }
    let next = walk::next_unread(conn, period, &card.plot.number).await.map_err(internal)?;
    Ok(plot_screen(&user, &card, period, &read, &photos, next.as_ref()))
}

fn plot_screen(
    user: &FieldStaff,
    card: &PlotCard,
    period: Period,
    read: &HashMap<i64, reading::Model>,
    photos: &HashMap<i64, i64>,
    next: Option<&plot::Model>,
) -> Markup {
    let done = card.meters.iter().all(|m| read.contains_key(&m.meter.id));
    // Once every meter here is read, going on is the main action, so it moves to the top.
    let next_plot = html! {
        @if let Some(next) = next {
            a.button.secondary[!done] href=(plot_url(next.id)) { "Следующий участок: " (next.number) }
        } @else if done {
            p.flash.ok { "Все участки за " (period.russian()) " обойдены." }
        }
    };
    page(
        user,
        &format!("Участок {}", card.plot.number),
        html! {
            @if let Some(address) = &card.plot.address { p.muted { (address) } }
            p.debt.owes[card.balance.is_debtor()] { (card.balance.describe()) }
            @if done { (next_plot) }
            @for meter in &card.meters {
                (meter_card(meter, period, read.get(&meter.meter.id), photos.get(&meter.meter.id).copied()))
            }
            @if card.meters.is_empty() { p { "На участке нет счётчиков по действующим договорам." } }
            @if !done { (next_plot) }
        },
    )
}

fn meter_card(card: &MeterCard, period: Period, read: Option<&reading::Model>, photo_id: Option<i64>) -> Markup {
    let zones = card.meter.zone_list();
    let unit = card.contract.service.unit();
    html! {
        section.card {
            h2 { (card.contract.service) ", счётчик " (card.meter.serial) }
            p.muted { (card.consumer_name) }
            @match read {
                Some(r) if r.status == domain::ReadingStatus::Flagged => {
                    p.status.review { "На проверке: " (values_text(zones, &r.values())) " " (unit) }
                }
                Some(r) => p.status.done { "Снят за " (period.russian()) ": " (values_text(zones, &r.values())) " " (unit) },
                None => p.status.todo { "Не снят за " (period.russian()) },
            }
            @match &card.last_reading {
                Some(last) => p.muted {
                    "Последнее принятое: " (values_text(zones, &last.values())) " (" (last.period.russian()) ")"
                },
                None => p.muted {
                    "Начальное: " (values_text(zones, &card.meter.initial_values()))
                    " (установлен " (card.meter.installed_on.format("%d.%m.%Y")) ")"
                },
            }
            @if let Some(seal) = &card.meter.seal_number {
                p.muted {
                    "Пломба " (seal)
                    @if let Some(checked) = card.meter.seal_checked_on { ", проверена " (checked.format("%d.%m.%Y")) }
                }
            }
            @if let Some(photo_id) = photo_id {
                a href={ "/photos/" (photo_id) } {
                    img src={ "/photos/" (photo_id) "/thumb" } alt="Фото счётчика из паспорта" loading="lazy";
                }
            }
            a.button.secondary[read.is_some()] href={ "/m/meters/" (card.meter.id) "/reading" } {
                @if read.is_some() { "Ввести заново" } @else { "Ввести показание" }
            }
        }
    }
}
