//! The replies every user may get, whatever they are doing: help, cancel, access lost or never
//! given, a command or message the bot does not expect, a stale button, a group chat.

use teloxide::prelude::*;
use teloxide::types::UpdateKind;

use crate::state::{ChatDialogue, State};
use crate::who::Who;
use crate::{HandlerResult, keyboards, say, text};

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
