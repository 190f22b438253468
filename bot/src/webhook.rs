//! Webhook mode: Telegram POSTs each update to [`PATH`] on the panel's server. The [`Inbox`]
//! endpoint checks Telegram's secret header, queues the update and answers at once; the
//! dispatcher takes updates from the queue through a [`Listener`].
//!
//! Several instances may serve one webhook URL behind a balancer: each registers the same URL
//! and secret at start and leaves them registered at stop, and the update dedup table makes an
//! update that Telegram delivers twice (to one instance or two) harmless.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::future::Future;
use futures::stream::{self, BoxStream, StreamExt};
use poem::error::ReadBodyError;
use poem::http::StatusCode;
use poem::{Endpoint, Request};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use teloxide::stop::{StopFlag, StopToken, mk_stop_token};
use teloxide::types::Update;
use teloxide::update_listeners::{AsUpdateStream, UpdateListener};
use tokio::sync::mpsc;
use url::Url;

/// Where Telegram posts updates, under `WEBHOOK_URL`.
pub const PATH: &str = "/telegram/webhook";
const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";
/// Updates are a few kilobytes; anything near this is not from Telegram.
const MAX_UPDATE_BYTES: usize = 1024 * 1024;
/// Updates acknowledged to Telegram but not yet taken by the dispatcher. When it is full,
/// Telegram is asked to deliver later.
const QUEUE: usize = 256;

/// The URL to register: [`PATH`] under `base` (which may have a path of its own).
pub fn url(base: &Url) -> Url {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        base.set_path(&format!("{}/", base.path()));
    }
    base.join(PATH.trim_start_matches('/')).expect("a relative path joins any base URL")
}

/// The secret Telegram sends with every update. Derived from the bot token, so all instances
/// agree on it without another setting, and whoever knows it could run the bot anyway.
pub fn secret(token: &str) -> String {
    hex::encode(Sha256::new().chain_update("chernomorsk webhook secret:").chain_update(token).finalize())
}

/// The receiving end of the webhook and the listener the dispatcher reads it from.
pub fn channel(secret: String) -> (Inbox, Listener) {
    let (sender, updates) = mpsc::channel(QUEUE);
    let (stop, stopped) = mk_stop_token();
    let read = Arc::new(AtomicBool::new(false));
    (Inbox { secret: secret.into(), updates: sender, read: read.clone() }, Listener { updates, stop, stopped, read })
}

/// The endpoint Telegram posts to.
#[derive(Clone)]
pub struct Inbox {
    secret: Arc<str>,
    updates: mpsc::Sender<Update>,
    /// Whether the dispatcher reads the queue. Until then (the bot still reaching Telegram) an
    /// update is not taken: Telegram delivers it again, maybe to an instance that can answer.
    read: Arc<AtomicBool>,
}

impl Inbox {
    /// Whether updates are taken: the dispatcher reads them.
    pub fn is_open(&self) -> bool {
        self.read.load(Ordering::Acquire)
    }
}

impl Endpoint for Inbox {
    type Output = StatusCode;

    async fn call(&self, req: Request) -> poem::Result<StatusCode> {
        // In constant time, so the secret cannot be guessed byte by byte.
        let given = req.header(SECRET_HEADER).unwrap_or_default();
        if !bool::from(given.as_bytes().ct_eq(self.secret.as_bytes())) {
            return Ok(StatusCode::UNAUTHORIZED);
        }
        if !self.is_open() {
            return Ok(StatusCode::SERVICE_UNAVAILABLE);
        }
        let body = match req.into_body().into_bytes_limit(MAX_UPDATE_BYTES).await {
            Ok(body) => body,
            Err(ReadBodyError::PayloadTooLarge) => return Ok(StatusCode::PAYLOAD_TOO_LARGE),
            Err(_) => return Ok(StatusCode::BAD_REQUEST),
        };
        // From text, as teloxide parses updates: its untagged enums do not parse from a `Value`.
        let Some(update) = std::str::from_utf8(&body).ok().and_then(|text| serde_json::from_str::<Update>(text).ok())
        else {
            return Ok(StatusCode::BAD_REQUEST);
        };
        match self.updates.try_send(update) {
            Ok(()) => Ok(StatusCode::OK),
            // The bot is stopping or behind: Telegram retries, maybe at another instance.
            Err(e) => {
                tracing::warn!("webhook update refused: {e}");
                Ok(StatusCode::SERVICE_UNAVAILABLE)
            }
        }
    }
}

/// The updates the [`Inbox`] queued, as a teloxide update listener.
pub struct Listener {
    updates: mpsc::Receiver<Update>,
    stop: StopToken,
    stopped: StopFlag,
    read: Arc<AtomicBool>,
}

impl UpdateListener for Listener {
    type Err = Infallible;

    fn stop_token(&mut self) -> StopToken {
        self.stop.clone()
    }
}

impl<'a> AsUpdateStream<'a> for Listener {
    type StreamErr = Infallible;
    type Stream = BoxStream<'a, Result<Update, Infallible>>;

    fn as_stream(&'a mut self) -> Self::Stream {
        let Listener { updates, stopped, read, .. } = self;
        read.store(true, Ordering::Release);
        stream::poll_fn(move |cx| {
            // Once stopped, take no more, but hand over what Telegram was already told we have.
            if Pin::new(&mut *stopped).poll(cx).is_ready() {
                updates.close();
            }
            updates.poll_recv(cx).map(|update| update.map(Ok))
        })
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_goes_under_the_base_url() {
        let at = |base: &str| url(&base.parse().unwrap()).to_string();
        assert_eq!(at("https://snt.example"), "https://snt.example/telegram/webhook");
        assert_eq!(at("https://example.org/snt"), "https://example.org/snt/telegram/webhook");
        assert_eq!(at("https://example.org/snt/"), "https://example.org/snt/telegram/webhook");
    }

    #[test]
    fn the_secret_is_stable_and_fits_telegram() {
        let s = secret("123:ABC");
        assert_eq!(s, secret("123:ABC"));
        assert_ne!(s, secret("123:ABD"));
        // Telegram accepts 1–256 characters of A-Z, a-z, 0-9, _ and -.
        assert!(s.len() <= 256 && s.bytes().all(|b| b.is_ascii_alphanumeric()), "{s}");
    }
}
