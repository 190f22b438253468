//! The plot a controller stands at: its meters with whether each was read this month, its debt,
//! and the next plot to walk to.

use std::collections::HashSet;

use service::Context;
use service::readings::walk;
use service::register::cards;
use teloxide::prelude::*;

use crate::state::{ChatDialogue, State};
use crate::{HandlerResult, keyboards, say, text};

/// The plot's card: its meters with their last readings, its debt, and the next plot to walk to.
pub async fn show(bot: &Bot, dialogue: &ChatDialogue, ctx: &Context, plot_id: i64) -> HandlerResult {
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
