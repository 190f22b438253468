//! Controller mode: walking the plots in route order and reading each meter with a seal check
//! and a photo. The role is checked on every update (see [`crate::who`]), not once on entry.

use std::collections::HashSet;

use domain::PlotNumber;
use service::Context;
use service::readings::walk;
use service::register::cards;
use teloxide::prelude::*;

use crate::consumer::stale_button;
use crate::state::{ChatDialogue, Mode, State};
use crate::who::Who;
use crate::{HandlerResult, keyboards, reading, say, text};

/// Plot buttons in the «not read this month» list; the rest follow as plots get read.
const UNREAD_SHOWN: usize = 24;

/// `/controller`.
pub async fn enter(bot: Bot, dialogue: ChatDialogue, msg: Message, who: Who) -> HandlerResult {
    if who.controller().is_none() {
        return say(&bot, msg.chat.id, text::CONTROLLER_ONLY).await;
    }
    bot.send_message(msg.chat.id, text::CONTROLLER_HOME).reply_markup(keyboards::unread()).await?;
    dialogue.update(State::Walk { plot_id: None }).await?;
    Ok(())
}

/// A plot number typed on the walk.
pub async fn plot_number(bot: Bot, dialogue: ChatDialogue, ctx: Context, msg: Message) -> HandlerResult {
    let number = match PlotNumber::parse(msg.text().unwrap_or_default()) {
        Ok(number) => number,
        Err(e) => return say(&bot, msg.chat.id, e.to_string()).await,
    };
    match cards::find_plot(ctx.db.conn(), &number).await? {
        Some(plot) => show_plot(&bot, &dialogue, &ctx, plot.id).await,
        None => say(&bot, msg.chat.id, text::plot_not_found(&number)).await,
    }
}

pub async fn open_plot(bot: Bot, dialogue: ChatDialogue, ctx: Context, plot_id: i64) -> HandlerResult {
    show_plot(&bot, &dialogue, &ctx, plot_id).await
}

/// «Не сняты в этом месяце»: the plots without a reading this period, in walking order.
pub async fn unread(bot: Bot, dialogue: ChatDialogue, ctx: Context) -> HandlerResult {
    let period = ctx.current_period();
    let plots = walk::unread_plots(ctx.db.conn(), period).await?;
    let shown = &plots[..plots.len().min(UNREAD_SHOWN)];
    bot.send_message(dialogue.chat_id(), text::unread(&plots, UNREAD_SHOWN, period))
        .reply_markup(keyboards::plots(shown))
        .await?;
    Ok(())
}

/// A meter of the plot on screen.
pub async fn pick_meter(
    bot: Bot,
    dialogue: ChatDialogue,
    ctx: Context,
    plot_id: Option<i64>,
    meter_id: i64,
) -> HandlerResult {
    let Some(plot_id) = plot_id else { return stale_button(bot, dialogue).await };
    let card = cards::plot_card(ctx.db.conn(), plot_id).await?;
    match card.and_then(|card| card.meters.into_iter().find(|m| m.meter.id == meter_id)) {
        Some(meter) => reading::begin(&bot, &dialogue, &meter, Mode::Controller { plot_id }).await,
        None => stale_button(bot, dialogue).await,
    }
}

/// The plot's card: its meters with their last readings, its debt, and the next plot to walk to.
pub async fn show_plot(bot: &Bot, dialogue: &ChatDialogue, ctx: &Context, plot_id: i64) -> HandlerResult {
    let conn = ctx.db.conn();
    let Some(card) = cards::plot_card(conn, plot_id).await? else {
        return say(bot, dialogue.chat_id(), text::PLOT_GONE).await;
    };
    let period = ctx.current_period();
    let meter_ids: Vec<i64> = card.meters.iter().map(|m| m.meter.id).collect();
    let read: HashSet<i64> = walk::read_in_period(conn, &meter_ids, period).await?.into_keys().collect();
    let next = walk::next_unread(conn, period, &card.plot.number).await?;
    bot.send_message(dialogue.chat_id(), text::plot_card(&card, &read, ctx.settings.tz))
        .reply_markup(keyboards::plot_card(&card, &read, next.as_ref()))
        .await?;
    dialogue.update(State::Walk { plot_id: Some(plot_id) }).await?;
    Ok(())
}
