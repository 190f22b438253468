//! Reminders to send readings: the message the scheduler sends, its «Не напоминать» button, and
//! `/reminders` to see and switch them.

use domain::{Kopecks, Period};
use entities::consumer;
use service::Context;
use service::audit::Actor;
use teloxide::prelude::*;

use crate::state::ChatDialogue;
use crate::who::Who;
use crate::{HandlerResult, keyboards, say, text};

/// Sends the monthly reminder, with the button that turns reminders off.
pub async fn send<R: Requester>(bot: &R, chat: ChatId, period: Period, debt: Option<Kopecks>) -> Result<(), R::Err> {
    bot.send_message(chat, text::reminder(period, debt)).reply_markup(keyboards::reminders(true)).await?;
    Ok(())
}

/// `/reminders`: whether they are on, with the button that switches them.
pub async fn show(bot: Bot, msg: Message, who: Who) -> HandlerResult {
    let Some(consumer) = who.consumer else { return say(&bot, msg.chat.id, text::NOT_A_CONSUMER).await };
    let on = consumer.reminders_enabled;
    bot.send_message(msg.chat.id, text::reminders_status(on)).reply_markup(keyboards::reminders(on)).await?;
    Ok(())
}

/// «Не напоминать» or «Напоминать».
pub async fn switch(
    bot: Bot,
    dialogue: ChatDialogue,
    ctx: Context,
    who: Who,
    consumer: consumer::Model,
    on: bool,
) -> HandlerResult {
    let actor = Actor::Consumer { consumer_id: consumer.id, telegram_user_id: who.telegram_id };
    service::readings::reminders::set_enabled(&ctx, consumer.id, on, actor).await?;
    say(&bot, dialogue.chat_id(), if on { text::REMINDERS_ON } else { text::REMINDERS_OFF }).await
}
