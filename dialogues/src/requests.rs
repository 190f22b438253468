//! Members' requests to the board: «Написать в правление» → topic → text → photo or «Без фото»;
//! the staff answer as it arrives, with «Ответить» to write again under the same number.

use domain::RequestTopic;
use entities::consumer;
use service::Context;
use service::members::requests::{self, Member, RequestError};
use service::meters::photos::StoreError;
use teloxide::prelude::*;

use crate::reading::{photo_files, store_photo};
use crate::state::{ChatDialogue, State};
use crate::who::Who;
use crate::{HandlerResult, keyboards, say, text};

/// «Написать в правление»: the topics, unless the member's requests waiting for an answer are
/// already as many as one may have.
pub async fn begin(
    bot: Bot,
    dialogue: ChatDialogue,
    ctx: Context,
    msg: Message,
    consumer: consumer::Model,
) -> HandlerResult {
    if let Err(message) = refused_or(requests::may_open(ctx.db.conn(), consumer.id).await)? {
        return say(&bot, msg.chat.id, message).await;
    }
    bot.send_message(msg.chat.id, text::REQUEST_TOPIC).reply_markup(keyboards::topics()).await?;
    dialogue.update(State::RequestTopic).await?;
    Ok(())
}

pub async fn topic(bot: Bot, dialogue: ChatDialogue, topic: RequestTopic) -> HandlerResult {
    say(&bot, dialogue.chat_id(), text::request_text(topic)).await?;
    dialogue.update(State::RequestText { topic }).await?;
    Ok(())
}

/// The text, checked before the photo is asked for.
pub async fn typed(bot: Bot, dialogue: ChatDialogue, msg: Message, topic: RequestTopic) -> HandlerResult {
    let Some(typed) = msg.text() else { return say(&bot, msg.chat.id, text::request_text(topic)).await };
    match requests::checked_text(typed) {
        Ok(body) => {
            bot.send_message(msg.chat.id, text::REQUEST_PHOTO).reply_markup(keyboards::no_photo()).await?;
            dialogue.update(State::RequestPhoto { topic, body }).await?;
            Ok(())
        }
        Err(refused) => say(&bot, msg.chat.id, refused.to_string()).await,
    }
}

/// A photo of the meter, the seal or the bill, through the same intake as readings' photos.
pub async fn photo(
    bot: Bot,
    dialogue: ChatDialogue,
    ctx: Context,
    msg: Message,
    who: Who,
    consumer: consumer::Model,
    (topic, body): (RequestTopic, String),
) -> HandlerResult {
    let files = photo_files(&msg);
    if files.is_empty() {
        return say(&bot, msg.chat.id, text::REQUEST_PHOTO).await;
    }
    // Asked again before the photo is stored: another phone of the member may have written
    // meanwhile, and a refused request would leave its photo behind.
    if let Err(message) = refused_or(requests::may_open(ctx.db.conn(), consumer.id).await)? {
        dialogue.update(State::Idle).await?;
        return say(&bot, msg.chat.id, message).await;
    }
    match store_photo(&bot, &ctx, &files, Some(msg.chat.id)).await {
        Ok(photo) => finish(&bot, &dialogue, &ctx, &who, &consumer, topic, &body, Some(photo.id)).await,
        Err(StoreError::Internal(e)) => Err(e.into()),
        Err(refused) => say(&bot, msg.chat.id, refused.to_string()).await,
    }
}

pub async fn skip_photo(
    bot: Bot,
    dialogue: ChatDialogue,
    ctx: Context,
    who: Who,
    consumer: consumer::Model,
    (topic, body): (RequestTopic, String),
) -> HandlerResult {
    finish(&bot, &dialogue, &ctx, &who, &consumer, topic, &body, None).await
}

#[allow(clippy::too_many_arguments)]
async fn finish(
    bot: &Bot,
    dialogue: &ChatDialogue,
    ctx: &Context,
    who: &Who,
    consumer: &consumer::Model,
    topic: RequestTopic,
    body: &str,
    photo_id: Option<i64>,
) -> HandlerResult {
    let member = Member { consumer_id: consumer.id, telegram_user_id: who.telegram_id };
    let request = refused_or(requests::open(ctx, member, topic, body, photo_id).await)?;
    dialogue.update(State::Idle).await?;
    match request {
        Ok(request) => say(bot, dialogue.chat_id(), text::request_opened(request.id)).await,
        Err(message) => say(bot, dialogue.chat_id(), message).await,
    }
}

/// A refusal to tell the member, or an internal failure for the apology.
fn refused_or<T>(result: Result<T, RequestError>) -> Result<Result<T, String>, RequestError> {
    match result {
        Ok(done) => Ok(Ok(done)),
        Err(e @ RequestError::Internal(_)) => Err(e),
        Err(refused) => Ok(Err(refused.to_string())),
    }
}

/// «Ответить» under an answer, maybe days old: in any state.
pub async fn reply_to(bot: Bot, dialogue: ChatDialogue, id: i64) -> HandlerResult {
    say(&bot, dialogue.chat_id(), text::reply_text(id)).await?;
    dialogue.update(State::RequestReply { request_id: id }).await?;
    Ok(())
}

/// The member's reply, added to request `request_id` if it is theirs.
pub async fn reply(
    bot: Bot,
    dialogue: ChatDialogue,
    ctx: Context,
    msg: Message,
    who: Who,
    consumer: consumer::Model,
    request_id: i64,
) -> HandlerResult {
    let Some(typed) = msg.text() else { return say(&bot, msg.chat.id, text::reply_text(request_id)).await };
    let member = Member { consumer_id: consumer.id, telegram_user_id: who.telegram_id };
    match refused_or(requests::reply(&ctx, member, request_id, typed).await)? {
        Ok(_) => {
            dialogue.update(State::Idle).await?;
            say(&bot, msg.chat.id, text::reply_added(request_id)).await
        }
        // Too long or empty: they may type it again; someone else's or closed: back to the menu.
        Err(message) => {
            if !typed.trim().is_empty() && requests::checked_text(typed).is_ok() {
                dialogue.update(State::Idle).await?;
            }
            say(&bot, msg.chat.id, message).await
        }
    }
}

/// Sends a staff answer to request `request_id`, with «Ответить».
pub async fn send_answer<R: Requester>(bot: &R, chat: ChatId, request_id: i64, body: &str) -> Result<(), R::Err> {
    bot.send_message(chat, text::answer(request_id, body)).reply_markup(keyboards::reply_to(request_id)).await?;
    Ok(())
}
