//! Controller mode: walking the plots in route order and reading each meter with a seal check
//! and a photo. The role is checked on every update (see [`crate::who`]), not once on entry.

use domain::PlotNumber;
use service::Context;
use service::readings::walk;
use service::register::cards;
use teloxide::prelude::*;

use crate::state::{ChatDialogue, Mode, State};
use crate::who::Who;
use crate::{HandlerResult, keyboards, plot, reading, replies, say, text};

/// Plot buttons in the «not read this month» list; the rest follow as plots get read.
const UNREAD_SHOWN: usize = 24;
/// Members' requests turned into tasks shown before them (each text up to 200 characters, so
/// the message stays within Telegram's 4 096).
const TASKS_SHOWN: usize = 10;

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
        Some(plot) => plot::show(&bot, &dialogue, &ctx, plot.id).await,
        None => say(&bot, msg.chat.id, text::plot_not_found(&number)).await,
    }
}

pub async fn open_plot(bot: Bot, dialogue: ChatDialogue, ctx: Context, plot_id: i64) -> HandlerResult {
    plot::show(&bot, &dialogue, &ctx, plot_id).await
}

/// «Не сняты в этом месяце»: the plots without a reading this period, in walking order.
pub async fn unread(bot: Bot, dialogue: ChatDialogue, ctx: Context) -> HandlerResult {
    let period = ctx.current_period();
    let plots = walk::unread_plots(ctx.db.conn(), period).await?;
    let tasks = walk::tasks(ctx.db.conn()).await?;
    let tasks = &tasks[..tasks.len().min(TASKS_SHOWN)];
    // The tasks' plots lead the buttons, each plot once.
    let mut shown: Vec<_> = Vec::new();
    for plot in tasks.iter().map(|t| &t.plot).chain(plots.iter().take(UNREAD_SHOWN)) {
        if !shown.iter().any(|p: &&entities::plot::Model| p.id == plot.id) {
            shown.push(plot);
        }
    }
    let shown: Vec<_> = shown.into_iter().cloned().collect();
    let message = format!("{}{}", text::tasks(tasks), text::unread(&plots, UNREAD_SHOWN, period));
    bot.send_message(dialogue.chat_id(), message).reply_markup(keyboards::plots(&shown)).await?;
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
    let Some(plot_id) = plot_id else { return replies::stale_button(bot, dialogue).await };
    let card = cards::plot_card(ctx.db.conn(), plot_id).await?;
    match card.and_then(|card| card.meters.into_iter().find(|m| m.meter.id == meter_id)) {
        Some(meter) => reading::begin(&bot, &dialogue, &meter, Mode::Controller { plot_id }).await,
        None => replies::stale_button(bot, dialogue).await,
    }
}
