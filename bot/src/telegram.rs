//! The Telegram side of the process: the bot client and the dispatcher running the dialogues,
//! fed by long polling or, when `WEBHOOK_URL` is set, by the webhook.

use dialogues::PublicUrl;
use service::Context;
use teloxide::dispatching::ShutdownToken;
use teloxide::prelude::*;
use teloxide::utils::command::BotCommands;
use tokio::task::JoinHandle;
use url::Url;

use crate::webhook::{self, Inbox};

#[derive(Debug, Clone)]
pub struct TelegramConfig {
    pub token: String,
    pub api_url: Option<Url>,
    pub webhook_url: Option<Url>,
    /// The panel's public address, for photo links in reports.
    pub public_url: String,
}

/// A running dispatcher.
pub struct RunningBot {
    /// The bot's @username, for `t.me/<username>?start=CODE` links.
    pub username: String,
    /// In webhook mode, the endpoint to serve at [`webhook::PATH`].
    pub webhook: Option<Inbox>,
    shutdown: ShutdownToken,
    task: JoinHandle<()>,
}

impl RunningBot {
    /// Stops handling updates. The webhook stays registered: other instances may still serve it.
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
pub async fn start(ctx: Context, config: &TelegramConfig) -> anyhow::Result<RunningBot> {
    let bot = client(config);
    let me = bot.get_me().await?;
    let username = me.username.clone().unwrap_or_default();
    // The command menu Telegram shows next to the input field.
    bot.set_my_commands(dialogues::Command::bot_commands()).await?;
    let mut dispatcher = dialogues::dispatcher(bot.clone(), ctx, PublicUrl(config.public_url.clone()));
    let shutdown = dispatcher.shutdown_token();
    let (task, inbox) = match &config.webhook_url {
        None => {
            tracing::info!("Telegram bot @{username} is ON (long polling)");
            (tokio::spawn(async move { dispatcher.dispatch().await }), None)
        }
        Some(base) => {
            let url = webhook::url(base);
            let secret = webhook::secret(&config.token);
            bot.set_webhook(url.clone())
                .secret_token(secret.clone())
                .allowed_updates(dialogues::ALLOWED_UPDATES)
                .await?;
            let (inbox, listener) = webhook::channel(secret);
            let errors = LoggingErrorHandler::with_custom_text("webhook listener");
            tracing::info!("Telegram bot @{username} is ON (webhook at {url})");
            (tokio::spawn(async move { dispatcher.dispatch_with_listener(listener, errors).await }), Some(inbox))
        }
    };
    Ok(RunningBot { username, webhook: inbox, shutdown, task })
}
