//! The staff web panel: server-rendered pages for admins and accountants, the controllers' mobile
//! form under `/m`, and the JSON API under `/api`. Handlers only translate HTTP to service calls;
//! who may call what is in each handler's signature (see [`auth`]).

pub mod auth;
pub mod csrf;
pub mod error;
mod home;
pub mod layout;
mod login;
mod mobile;
pub mod session;

use poem::middleware::Tracing;
use poem::session::{CookieConfig, ServerSession};
use poem::web::cookie::SameSite;
use poem::{Endpoint, EndpointExt, Route, get, handler, post};
use service::Context;
use url::Url;

#[derive(Debug, Clone)]
pub struct PanelConfig {
    /// The panel's public address: `https://` makes cookies `Secure`.
    pub public_url: Url,
    /// The bot's @username, for `t.me/<bot>?start=CODE` links (none when the bot is off).
    pub bot_username: Option<String>,
}

/// The largest request body accepted: a phone photo plus form fields.
const MAX_BODY: usize = 20 * 1024 * 1024;

#[handler]
fn health() -> &'static str {
    "ok"
}

/// The whole panel as one endpoint.
pub fn app(ctx: Context, config: PanelConfig) -> impl Endpoint + 'static {
    let cookie = CookieConfig::default()
        .name("chernomorsk_session")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(config.public_url.scheme() == "https")
        .max_age(std::time::Duration::from_secs(12 * 3600));
    Route::new()
        .at("/", get(home::dashboard))
        .at("/login", get(login::show).post(login::log_in))
        .at("/logout", post(login::logout))
        .at("/account", get(login::account))
        .at("/account/password", post(login::change_password))
        .at("/healthz", get(health))
        .nest("/m", mobile::routes())
        .with(csrf::CsrfGuard { max_body: MAX_BODY })
        .with(ServerSession::new(cookie, session::DbSessionStorage::new(ctx.clone())))
        .with(Tracing)
        .data(ctx)
        .data(config)
}
