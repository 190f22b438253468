//! Getting access (a one-time code or the user's own contact), the consumer's menu (debt,
//! history, the start of a reading) and the replies every user may get.

use entities::consumer;
use service::Context;
use service::access::telegram::{self, LinkError};
use service::register::cards;
use teloxide::prelude::*;
use teloxide::types::UpdateKind;

use crate::state::{ChatDialogue, Mode, State};
use crate::who::{Who, telegram_id};
use crate::{HandlerResult, keyboards, reading, say, text};

/// How many readings per meter the history shows.
const HISTORY_DEPTH: u64 = 5;

/// `/start`, or `/start CODE` from a link code or a `t.me/<bot>?start=CODE` deep link.
pub async fn start(
    bot: Bot,
    dialogue: ChatDialogue,
    ctx: Context,
    msg: Message,
    who: Who,
    code: String,
) -> HandlerResult {
    dialogue.reset().await?;
    let code = code.trim();
    if code.is_empty() {
        return greet(&bot, msg.chat.id, &who).await;
    }
    match telegram::redeem(&ctx, code, who.telegram_id).await {
        Ok(identity) => greet(&bot, msg.chat.id, &Who::new(who.telegram_id, identity)).await,
        Err(e) => refuse_link(&bot, msg.chat.id, &who, e).await,
    }
}

/// A shared contact: links the consumer with that phone, if the contact is the sender's own.
pub async fn contact(bot: Bot, ctx: Context, msg: Message, who: Who) -> HandlerResult {
    let Some(contact) = msg.contact() else { return Ok(()) };
    let owner = contact.user_id.map(telegram_id);
    match telegram::link_by_contact(&ctx, who.telegram_id, owner, &contact.phone_number).await {
        Ok(identity) => greet(&bot, msg.chat.id, &Who::new(who.telegram_id, identity)).await,
        Err(e) => refuse_link(&bot, msg.chat.id, &who, e).await,
    }
}

async fn greet(bot: &Bot, chat: ChatId, who: &Who) -> HandlerResult {
    bot.send_message(chat, text::greeting(who)).reply_markup(keyboards::for_who(who)).await?;
    Ok(())
}

async fn refuse_link(bot: &Bot, chat: ChatId, who: &Who, error: LinkError) -> HandlerResult {
    if let LinkError::Internal(e) = error {
        return Err(e.into());
    }
    bot.send_message(chat, error.to_string()).reply_markup(keyboards::for_who(who)).await?;
    Ok(())
}

/// Everything from someone the bot does not know yet: how to get access, nothing else.
pub async fn stranger(bot: Bot, msg: Message) -> HandlerResult {
    bot.send_message(msg.chat.id, text::STRANGER).reply_markup(keyboards::share_contact()).await?;
    Ok(())
}

pub async fn help(bot: Bot, msg: Message, who: Who) -> HandlerResult {
    bot.send_message(msg.chat.id, text::help(&who)).reply_markup(keyboards::for_who(&who)).await?;
    Ok(())
}

pub async fn cancel(bot: Bot, dialogue: ChatDialogue, msg: Message, who: Who) -> HandlerResult {
    dialogue.reset().await?;
    let reply = if who.is_known() { text::CANCELLED } else { text::STRANGER };
    bot.send_message(msg.chat.id, reply).reply_markup(keyboards::for_who(&who)).await?;
    Ok(())
}

pub async fn unknown_command(bot: Bot, msg: Message, who: Who) -> HandlerResult {
    let reply = format!("{}\n\n{}", text::UNKNOWN_COMMAND, text::help(&who));
    say(&bot, msg.chat.id, reply).await
}

/// A message the current step did not expect: say what it does expect.
pub async fn unexpected(bot: Bot, msg: Message, state: State, who: Who) -> HandlerResult {
    say(&bot, msg.chat.id, text::hint(&state, &who)).await
}

/// Staff pressing a consumer's menu button.
pub async fn not_a_consumer(bot: Bot, msg: Message) -> HandlerResult {
    say(&bot, msg.chat.id, text::NOT_A_CONSUMER).await
}

/// The sender's link or role changed mid-dialogue: the dialogue ends.
pub async fn access_lost(bot: Bot, dialogue: ChatDialogue, who: Who) -> HandlerResult {
    dialogue.reset().await?;
    bot.send_message(dialogue.chat_id(), text::ACCESS_LOST).reply_markup(keyboards::for_who(&who)).await?;
    Ok(())
}

/// A button from an older message, after the dialogue moved on.
pub async fn stale_button(bot: Bot, dialogue: ChatDialogue) -> HandlerResult {
    say(&bot, dialogue.chat_id(), text::STALE_BUTTON).await
}

pub async fn private_only(bot: Bot, update: Update) -> HandlerResult {
    // Only commands get an answer: the bot must not chatter in a group.
    if let UpdateKind::Message(msg) = update.kind
        && msg.text().is_some_and(|t| t.starts_with('/'))
    {
        say(&bot, msg.chat.id, text::PRIVATE_ONLY).await?;
    }
    Ok(())
}

pub async fn debt(bot: Bot, ctx: Context, msg: Message, consumer: consumer::Model) -> HandlerResult {
    let statement = service::ledger::debt::statement(ctx.db.conn(), consumer.id).await?;
    bot.send_message(msg.chat.id, text::debt(&statement, ctx.today())).reply_markup(keyboards::main_menu()).await?;
    Ok(())
}

pub async fn history(bot: Bot, ctx: Context, msg: Message, consumer: consumer::Model) -> HandlerResult {
    let conn = ctx.db.conn();
    let mut meters = Vec::new();
    for card in cards::consumer_meters(conn, consumer.id).await? {
        let readings = service::readings::history::history(conn, card.meter.id, HISTORY_DEPTH).await?;
        meters.push((card, readings));
    }
    say(&bot, msg.chat.id, text::history(&meters, ctx.settings.tz)).await
}

/// «Передать показания»: straight to the value for one meter, a choice for several.
pub async fn send_reading(
    bot: Bot,
    dialogue: ChatDialogue,
    ctx: Context,
    msg: Message,
    consumer: consumer::Model,
) -> HandlerResult {
    match cards::consumer_meters(ctx.db.conn(), consumer.id).await?.as_slice() {
        [] => say(&bot, msg.chat.id, text::NO_METERS).await,
        [card] => reading::begin(&bot, &dialogue, card, Mode::Consumer).await,
        cards => {
            bot.send_message(msg.chat.id, text::PICK_METER).reply_markup(keyboards::meters(cards)).await?;
            dialogue.update(State::PickMeter).await?;
            Ok(())
        }
    }
}

pub async fn pick_meter(
    bot: Bot,
    dialogue: ChatDialogue,
    ctx: Context,
    consumer: consumer::Model,
    meter_id: i64,
) -> HandlerResult {
    let cards = cards::consumer_meters(ctx.db.conn(), consumer.id).await?;
    match cards.iter().find(|card| card.meter.id == meter_id) {
        Some(card) => reading::begin(&bot, &dialogue, card, Mode::Consumer).await,
        None => stale_button(bot, dialogue).await,
    }
}
