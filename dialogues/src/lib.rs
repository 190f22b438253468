//! Telegram conversations as teloxide dialogue state machines.

use service::Context;
use teloxide::dispatching::{DefaultKey, Dispatcher, UpdateHandler};
use teloxide::prelude::*;

type HandlerResult = anyhow::Result<()>;

/// The whole handler tree.
pub fn schema() -> UpdateHandler<anyhow::Error> {
    Update::filter_message().endpoint(greet)
}

async fn greet(bot: Bot, msg: Message) -> HandlerResult {
    bot.send_message(msg.chat.id, "Здравствуйте! Бот садового товарищества «Черноморск».").await?;
    Ok(())
}

/// A dispatcher running [`schema`] with the service context as a dependency.
pub fn dispatcher(bot: Bot, ctx: Context) -> Dispatcher<Bot, anyhow::Error, DefaultKey> {
    Dispatcher::builder(bot, schema()).dependencies(dptree::deps![ctx]).build()
}
