//! Announcements from the board: the message the scheduler sends (with «Не присылать
//! объявления» under those that are not urgent), and `/announcements` to see and switch them.

use entities::{announcement, consumer};
use service::Context;
use service::audit::Actor;
use teloxide::prelude::*;
use teloxide::types::InputFile;

use crate::state::ChatDialogue;
use crate::who::Who;
use crate::{HandlerResult, keyboards, say, text};

/// Sends `announcement`; one that is not urgent carries the button that mutes them. A text too
/// long for the photo's caption goes as its own message after the photo, and `photo_sent` runs
/// between the two, so that a retry after the text failed can leave the photo out.
pub async fn send<R: Requester>(
    bot: &R,
    chat: ChatId,
    announcement: &announcement::Model,
    photo: Option<Vec<u8>>,
    photo_sent: impl AsyncFnOnce(),
) -> Result<(), R::Err> {
    let text = text::announcement(&announcement.body, announcement.urgent);
    // Not urgent: with the button that mutes them, on the message that carries the text.
    let mute = (!announcement.urgent).then(|| keyboards::announcements(true));
    if let Some(photo) = photo {
        let picture = InputFile::memory(photo).file_name(format!("obyavlenie-{}.jpg", announcement.id));
        // Telegram counts a caption in UTF-16 units: an emoji is two.
        if text.encode_utf16().count() <= CAPTION_MAX {
            let message = bot.send_photo(chat, picture).caption(text);
            match mute {
                Some(mute) => message.reply_markup(mute).await?,
                None => message.await?,
            };
            return Ok(());
        }
        // Too long for a caption: the photo, then the text as its own message.
        bot.send_photo(chat, picture).await?;
        photo_sent().await;
    }
    let message = bot.send_message(chat, text);
    match mute {
        Some(mute) => message.reply_markup(mute).await?,
        None => message.await?,
    };
    Ok(())
}

/// Telegram's limit on a photo's caption, in UTF-16 units.
const CAPTION_MAX: usize = 1024;

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
