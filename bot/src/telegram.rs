//! The Telegram side of the process: the bot client and the dispatcher running the dialogues,
//! fed by long polling or, when `WEBHOOK_URL` is set, by the webhook.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use dialogues::PublicUrl;
use service::Context;
use teloxide::dispatching::ShutdownToken;
use teloxide::prelude::*;
use teloxide::update_listeners;
use teloxide::utils::command::BotCommands;
use teloxide::{ApiError, RequestError};
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
    /// The bot's @username, for `t.me/<username>?start=CODE` links: set once Telegram has
    /// answered.
    pub username: Arc<OnceLock<String>>,
    /// In webhook mode, the endpoint to serve at [`webhook::PATH`].
    pub webhook: Option<Inbox>,
    shutdown: ShutdownToken,
    task: JoinHandle<()>,
}

impl RunningBot {
    /// Stops handling updates. The webhook stays registered: other instances may still serve it.
    pub async fn stop(self) {
        match self.shutdown.shutdown() {
            Ok(done) => done.await,
            // Still waiting for Telegram: nothing to finish.
            Err(_) => self.task.abort(),
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

/// The longest wait between two attempts to reach Telegram at start.
const LONGEST_WAIT: Duration = Duration::from_secs(60);

/// Connects to Telegram and starts handling updates in the background. When Telegram does not
/// answer, or refuses the webhook's address, the rest of the system need not wait: the bot keeps
/// trying, one second after the first attempt and then twice as long each time up to a minute
/// (or as long as Telegram asks), and starts when Telegram takes it. A token Telegram refuses
/// stops the start.
pub async fn start(ctx: Context, config: &TelegramConfig) -> anyhow::Result<RunningBot> {
    let bot = client(config);
    let mut dispatcher = dialogues::dispatcher(bot.clone(), ctx, PublicUrl(config.public_url.clone()));
    let shutdown = dispatcher.shutdown_token();
    let webhook = config.webhook_url.as_ref().map(|base| (webhook::url(base), webhook::secret(&config.token)));
    let (inbox, listener) = match &webhook {
        Some((_, secret)) => {
            let (inbox, listener) = webhook::channel(secret.clone());
            (Some(inbox), Some(listener))
        }
        None => (None, None),
    };
    let username = Arc::new(OnceLock::new());
    let retry_in = match connect(&bot, webhook.as_ref()).await {
        Ok(found) => {
            let _ = username.set(found);
            None
        }
        Err(Failure::Retry(e)) => {
            tracing::error!(
                "Telegram does not take the bot yet ({e}): the panel and the scheduler run, the bot starts when it can"
            );
            Some(next_wait(&e, Duration::ZERO))
        }
        Err(Failure::Refused(e)) => return Err(e.into()),
    };
    let name = username.clone();
    let task = tokio::spawn(async move {
        if let Some(wait) = retry_in {
            let Some(found) = reconnect(&bot, webhook.as_ref(), wait).await else { return };
            let _ = name.set(found);
        }
        let found = name.get().cloned().unwrap_or_default();
        // `try_`: the dispatcher asks Telegram who the bot is once more, and the plain call
        // panics when that fails.
        let dispatched = match listener {
            None => {
                tracing::info!("Telegram bot @{found} is ON (long polling)");
                let polling = update_listeners::polling_default(bot.clone()).await;
                let errors = LoggingErrorHandler::with_custom_text("polling");
                dispatcher.try_dispatch_with_listener(polling, errors).await
            }
            Some(listener) => {
                let url = webhook.map(|(url, _)| url.to_string()).unwrap_or_default();
                tracing::info!("Telegram bot @{found} is ON (webhook at {url})");
                let errors = LoggingErrorHandler::with_custom_text("webhook listener");
                dispatcher.try_dispatch_with_listener(listener, errors).await
            }
        };
        if let Err(e) = dispatched {
            tracing::error!("the Telegram bot stopped at its start ({e}); it is OFF until the next start");
        }
    });
    Ok(RunningBot { username, webhook: inbox, shutdown, task })
}

/// Why connecting to Telegram failed.
enum Failure {
    /// Telegram refused the bot itself (its token): no retry mends that.
    Refused(RequestError),
    /// Worth another try: Telegram did not answer as it does when all is well, or refused the
    /// webhook's address, as it does while a first deployment's DNS record is still spreading
    /// (an address that stays wrong is logged at every try, while the panel runs).
    Retry(RequestError),
}

/// Asks Telegram who the bot is, sets the command menu and, in webhook mode, registers the
/// webhook; returns the bot's username.
async fn connect(bot: &Bot, webhook: Option<&(Url, String)>) -> Result<String, Failure> {
    let refused = |e: RequestError| if unreachable(&e) { Failure::Retry(e) } else { Failure::Refused(e) };
    let me = bot.get_me().await.map_err(refused)?;
    // The command menu Telegram shows next to the input field.
    bot.set_my_commands(dialogues::Command::bot_commands()).await.map_err(refused)?;
    if let Some((url, secret)) = webhook {
        let registration =
            bot.set_webhook(url.clone()).secret_token(secret.clone()).allowed_updates(dialogues::ALLOWED_UPDATES);
        registration.await.map_err(Failure::Retry)?;
    }
    Ok(me.username.clone().unwrap_or_default())
}

/// Tries to connect, the first time after `wait`, until Telegram takes the bot; none when it
/// refuses it.
async fn reconnect(bot: &Bot, webhook: Option<&(Url, String)>, mut wait: Duration) -> Option<String> {
    loop {
        tokio::time::sleep(wait).await;
        match connect(bot, webhook).await {
            Ok(found) => return Some(found),
            Err(Failure::Retry(e)) => {
                wait = next_wait(&e, wait);
                tracing::warn!("Telegram still does not take the bot ({e}); next try in {wait:?}");
            }
            Err(Failure::Refused(e)) => {
                tracing::error!("Telegram refused the bot: {e}; the bot is OFF until the next start");
                return None;
            }
        }
    }
}

/// The wait after `waited` before the next try: twice as long, from a second up to a minute, or
/// as long as Telegram asked.
fn next_wait(error: &RequestError, waited: Duration) -> Duration {
    let doubled = (waited * 2).clamp(Duration::from_secs(1), LONGEST_WAIT);
    match error {
        RequestError::RetryAfter(asked) => doubled.max(asked.duration()),
        _ => doubled,
    }
}

/// Whether Telegram did not answer as it does when all is well (no connection, a gateway's error
/// page, «wait»), rather than refusing what it was asked.
fn unreachable(error: &RequestError) -> bool {
    matches!(
        error,
        RequestError::Network(_)
            | RequestError::Io(_)
            | RequestError::RetryAfter(_)
            | RequestError::InvalidJson { .. }
            | RequestError::Api(ApiError::Unknown(_))
    )
}
