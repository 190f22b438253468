//! Announcements from the board: the message the scheduler sends (with «Не присылать
//! объявления» under those that are not urgent), and `/announcements` to see and switch them.

use entities::{announcement, consumer};
use service::Context;
use service::audit::Actor;
use teloxide::prelude::*;

use crate::state::ChatDialogue;
use crate::who::Who;
use crate::{HandlerResult, keyboards, say, text};

/// Sends `announcement`; one that is not urgent carries the button that mutes them.
pub async fn send<R: Requester>(bot: &R, chat: ChatId, announcement: &announcement::Model) -> Result<(), R::Err> {
    let message = bot.send_message(chat, text::announcement(&announcement.body, announcement.urgent));
    match announcement.urgent {
        true => message.await?,
        false => message.reply_markup(keyboards::announcements(true)).await?,
    };
    Ok(())
}

/// `/announcements`: whether they come, with the button that switches them.
pub async fn show(bot: Bot, msg: Message, who: Who) -> HandlerResult {
    let Some(consumer) = who.consumer else { return say(&bot, msg.chat.id, text::NOT_A_CONSUMER).await };
    let on = !consumer.announcements_muted;
    bot.send_message(msg.chat.id, text::announcements_status(on)).reply_markup(keyboards::announcements(on)).await?;
    Ok(())
}

/// «Не присылать объявления» or «Присылать объявления».
pub async fn switch(
    bot: Bot,
    dialogue: ChatDialogue,
    ctx: Context,
    who: Who,
    consumer: consumer::Model,
    on: bool,
) -> HandlerResult {
    let actor = Actor::Consumer { consumer_id: consumer.id, telegram_user_id: who.telegram_id };
    service::members::announcements::set_muted(&ctx, consumer.id, !on, actor).await?;
    say(&bot, dialogue.chat_id(), if on { text::ANNOUNCEMENTS_ON } else { text::ANNOUNCEMENTS_OFF }).await
}
