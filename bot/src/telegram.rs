//! The Telegram side of the process: the bot client and the dispatcher running the dialogues.

use service::Context;
use teloxide::dispatching::ShutdownToken;
use teloxide::prelude::*;
use tokio::task::JoinHandle;
use url::Url;

#[derive(Debug, Clone)]
pub struct TelegramConfig {
    pub token: String,
    pub api_url: Option<Url>,
    pub webhook_url: Option<Url>,
}

/// A running dispatcher.
pub struct RunningBot {
    /// The bot's @username, for `t.me/<username>?start=CODE` links.
    pub username: String,
    shutdown: ShutdownToken,
    task: JoinHandle<()>,
}

impl RunningBot {
    pub async fn stop(self) {
        if let Ok(done) = self.shutdown.shutdown() {
            done.await;
        }
        let _ = self.task.await;
    }
}

pub fn client(config: &TelegramConfig) -> Bot {
    let bot = Bot::new(&config.token);
    match &config.api_url {
        Some(url) => bot.set_api_url(url.clone()),
        None => bot,
    }
}

/// Connects to Telegram and starts handling updates in the background.
pub async fn start(ctx: Context, config: TelegramConfig) -> anyhow::Result<RunningBot> {
    let bot = client(&config);
    let me = bot.get_me().await?;
    let username = me.username.clone().unwrap_or_default();
    let mut dispatcher = dialogues::dispatcher(bot, ctx);
    let shutdown = dispatcher.shutdown_token();
    let task = tokio::spawn(async move { dispatcher.dispatch().await });
    tracing::info!("Telegram bot @{username} is ON (long polling)");
    Ok(RunningBot { username, shutdown, task })
}
