//! The staff web panel: server-rendered pages for admins and accountants, the controllers' mobile
//! form under `/m`, and the JSON API under `/api`. Handlers only translate HTTP to service calls;
//! who may call what is in each handler's signature (see [`auth`]), and in the route tables
//! ([`pages`], [`api::OPERATIONS`]) that the access test walks.

mod act;
mod announcements;
pub mod api;
pub mod auth;
mod backups;
mod charts;
mod consumers;
mod contracts;
pub mod csrf;
pub mod error;
mod forms;
mod headers;
mod home;
mod imports;
pub mod layout;
mod links;
mod lists;
mod login;
mod meters;
pub mod metrics;
mod mobile;
mod network;
mod payee;
mod payments;
mod photos;
mod plots;
mod readings;
mod receipts;
mod register;
mod reports;
mod requests;
mod seals;
pub mod session;
mod staff;
mod tariffs;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use poem::endpoint::{BoxEndpoint, make_sync};
use poem::http::{HeaderName, Method};
use poem::middleware::Tracing;
use poem::session::{CookieConfig, ServerSession};
use poem::web::Html;
use poem::web::cookie::SameSite;
use poem::{Endpoint, EndpointExt, Response, Route, RouteMethod};
use service::Context;
use url::Url;

use crate::auth::Access;

#[derive(Debug, Clone)]
pub struct PanelConfig {
    /// The panel's public address: `https://` makes cookies `Secure`.
    pub public_url: Url,
    /// The bot's @username, for `t.me/<bot>?start=CODE` links: unset while the bot is off or
    /// has not reached Telegram yet.
    pub bot_username: Arc<OnceLock<String>>,
    /// Behind a reverse proxy: the header in which it passes the client's address
    /// (`X-Forwarded-For`, `X-Real-IP`), for the per-address limit on login attempts. None: the
    /// connection's peer is the client.
    pub client_ip_header: Option<HeaderName>,
    /// `/metrics` wants `Authorization: Bearer <this>`; none: only loopback connections.
    pub metrics_token: Option<String>,
}

/// The largest request body accepted: a phone photo plus form fields.
pub(crate) const MAX_BODY: usize = 20 * 1024 * 1024;

/// A page or form of the panel: how it is reached, who may use it, and its handler.
pub struct PageRoute {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    endpoint: BoxEndpoint<'static, Response>,
}

fn route(method: Method, path: &'static str, access: Access, endpoint: impl Endpoint + 'static) -> PageRoute {
    PageRoute { method, path, access, endpoint: endpoint.map_to_response().boxed() }
}

/// Every page and form of the panel with who may use it, the mobile form's (`/m`) and the photos
/// included. [`app`] mounts exactly these and the API ([`api::OPERATIONS`]); the access test calls
/// each of them as every role, and fails when a route is mounted anywhere else, so no route
/// exists without a row here.
pub fn pages() -> Vec<PageRoute> {
    use Access::*;
    const GET: Method = Method::GET;
    const POST: Method = Method::POST;
    let api = api::service();
    let docs = api.swagger_ui_html();
    vec![
        route(GET, "/", Office, home::dashboard),
        route(GET, "/login", Public, login::show),
        route(POST, "/login", Public, login::log_in),
        route(POST, "/logout", Public, login::logout),
        route(GET, "/account", AnyStaff, login::account),
        route(POST, "/account/password", AnyStaff, login::change_password),
        route(GET, "/healthz", Public, metrics::health),
        // Public in the table: the handler admits only loopback or the METRICS_TOKEN bearer.
        route(GET, "/metrics", Public, metrics::show),
        // The register.
        route(GET, "/plots", Office, plots::list),
        route(GET, "/plots/new", Admin, plots::new),
        route(POST, "/plots", Admin, plots::create),
        route(GET, "/plots/:id", Office, plots::show),
        route(GET, "/plots/:id/edit", Admin, plots::edit),
        route(POST, "/plots/:id", Admin, plots::update),
        route(GET, "/consumers", Office, consumers::list),
        route(GET, "/consumers/:id", Office, consumers::show),
        route(GET, "/consumers/:id/edit", Admin, consumers::edit),
        route(POST, "/consumers/:id", Admin, consumers::update),
        route(POST, "/consumers/:id/link-code", Office, consumers::link_code),
        route(GET, "/consumers/:id/akt", Office, act::consumer),
        route(GET, "/contracts", Office, contracts::list),
        route(GET, "/contracts/new", Admin, contracts::new),
        route(POST, "/contracts", Admin, contracts::create),
        route(GET, "/contracts/:id", Office, contracts::show),
        route(GET, "/contracts/:id/akt", Office, act::contract),
        route(GET, "/contracts/:id/edit", Admin, contracts::edit),
        route(POST, "/contracts/:id", Admin, contracts::update),
        route(POST, "/contracts/:id/close", Admin, contracts::close),
        route(POST, "/contracts/:id/opening-balance", Admin, contracts::correct_opening_balance),
        route(GET, "/meters", Office, meters::lists::list),
        route(GET, "/meters/:id", Office, meters::page::show),
        route(GET, "/meters/:id/edit", Admin, meters::edit::edit),
        route(POST, "/meters/:id", Admin, meters::edit::update),
        route(POST, "/meters/:id/photos", Admin, meters::actions::upload_photo),
        route(POST, "/meters/:id/replace", Admin, meters::actions::replace),
        route(POST, "/meters/:id/rollover", Admin, meters::actions::rollover),
        route(POST, "/meters/:id/seal/resolve", Admin, meters::actions::resolve_seal),
        route(GET, "/meters/verification", Office, meters::lists::verification),
        // Loading the register kept in a spreadsheet, at go-live.
        route(GET, "/register/import", Admin, register::show),
        route(POST, "/register/import", Admin, register::upload),
        route(POST, "/register/import/confirm", Admin, register::confirm),
        route(GET, "/register/template", Admin, register::template),
        // Readings and money.
        route(GET, "/readings", Office, readings::list),
        route(GET, "/readings/:id", Office, readings::show),
        route(POST, "/readings/:id/review", Admin, readings::review),
        route(POST, "/readings/:id/correct", Admin, readings::correct),
        route(GET, "/payments", Office, payments::list),
        route(GET, "/payments/new", Office, payments::new),
        route(POST, "/payments", Office, payments::create),
        route(GET, "/payments/:id", Office, payments::reversal::show),
        route(POST, "/payments/:id/reverse", Office, payments::reversal::reverse),
        route(POST, "/payments/:id/transfer", Office, payments::reversal::transfer),
        route(POST, "/payments/:id/unlink", Office, payments::reversal::unlink),
        route(GET, "/payments/import", Office, payments::import::show),
        route(POST, "/payments/import", Office, payments::import::upload),
        route(POST, "/payments/import/confirm", Office, payments::import::confirm),
        // The bank's own statement (1C) and «Разобрать», the payments it could not match.
        route(GET, "/payments/statement", Office, payments::statement::show),
        route(POST, "/payments/statement", Office, payments::statement::upload),
        route(POST, "/payments/statement/confirm", Office, payments::statement::confirm),
        route(GET, "/payments/review", Office, payments::statement::queue),
        route(GET, "/payments/review/:id", Office, payments::statement::review),
        route(POST, "/payments/review/:id", Office, payments::statement::resolve),
        route(POST, "/payments/review/:id/entered", Office, payments::statement::entered_already),
        route(POST, "/payments/review/:id/aside", Office, payments::statement::set_aside),
        route(POST, "/payments/review/:id/return", Office, payments::statement::return_set_aside),
        route(GET, "/payments/accounts", Office, payments::accounts::list),
        route(POST, "/payments/accounts/forget", Office, payments::accounts::forget),
        route(GET, "/reports", Office, reports::show),
        route(GET, "/reports/monthly", Office, reports::monthly),
        route(GET, "/reports/export", Office, reports::export),
        // The dashboard's and a consumer's charts, as SVG.
        route(GET, "/charts/collection", Office, charts::collection),
        route(GET, "/charts/debt", Office, charts::debt),
        route(GET, "/charts/round", Office, charts::round),
        route(GET, "/charts/sources", Office, charts::sources),
        route(GET, "/charts/losses", Office, charts::losses),
        route(GET, network::PATH, Office, network::show),
        route(POST, "/network/lines", Admin, network::add_line),
        route(POST, "/network/decision", Admin, network::decide),
        route(POST, "/network/share", Admin, network::share),
        route(GET, "/consumers/:id/charts/:contract", Office, charts::consumption),
        route(GET, "/receipts", Office, receipts::show),
        route(POST, "/reports/close", Office, reports::close),
        route(POST, "/reports/reopen", Admin, reports::reopen),
        // Members' requests, answered into their Telegram chats.
        route(GET, "/requests", Office, requests::list),
        route(GET, "/requests/:id", Office, requests::show),
        route(POST, "/requests/:id/answer", Office, requests::answer),
        route(POST, "/requests/:id/status", Office, requests::set_status),
        route(POST, "/requests/:id/task", Office, requests::task),
        // Announcements to members through the bot.
        route(GET, "/announcements", Admin, announcements::list),
        route(POST, "/announcements/preview", Admin, announcements::preview),
        route(POST, "/announcements", Admin, announcements::send),
        route(GET, "/announcements/:id", Admin, announcements::show),
        route(GET, "/tariffs", Admin, tariffs::list),
        route(POST, "/tariffs", Admin, tariffs::create),
        // The cooperative's bank details and the payment QR codes drawn from them.
        route(GET, "/bank-details", Admin, payee::show),
        route(POST, "/bank-details", Admin, payee::save),
        route(GET, "/contracts/:id/qr.png", Office, payee::contract_png),
        // The nightly backups.
        route(GET, "/backups", Admin, backups::show),
        // Staff accounts.
        route(GET, "/staff", Admin, staff::list),
        route(GET, "/staff/new", Admin, staff::new),
        route(POST, "/staff", Admin, staff::create),
        route(GET, "/staff/:id", Admin, staff::show),
        route(POST, "/staff/:id/role", Admin, staff::set_role),
        route(POST, "/staff/:id/active", Admin, staff::set_active),
        route(POST, "/staff/:id/password", Admin, staff::reset_password),
        route(POST, "/staff/:id/token", Admin, staff::issue_token),
        route(POST, "/staff/:id/link-code", Admin, staff::link_code),
        // The API's description; the operations themselves are in `api::OPERATIONS`.
        route(GET, "/api/docs", Public, make_sync(move |_| Html(docs.clone()))),
        route(GET, "/api/openapi.json", Public, api.spec_endpoint()),
        // Meter photos, for every page that shows one.
        route(GET, "/photos/:id", AnyStaff, photos::full),
        route(GET, "/photos/:id/thumb", AnyStaff, photos::thumbnail),
    ]
    .into_iter()
    .chain(mobile::pages())
    .collect()
}

/// The pages as routes, one entry per path with its methods.
fn mount(pages: Vec<PageRoute>) -> Route {
    let mut paths: BTreeMap<&str, RouteMethod> = BTreeMap::new();
    for page in pages {
        let methods = paths.remove(page.path).unwrap_or_default();
        paths.insert(page.path, methods.method(page.method, page.endpoint));
    }
    paths.into_iter().fold(Route::new(), |route, (path, methods)| route.at(path, methods))
}

/// The whole panel as one endpoint.
pub fn app(ctx: Context, config: PanelConfig) -> impl Endpoint + 'static {
    let https = config.public_url.scheme() == "https";
    let cookie = CookieConfig::default()
        .name("chernomorsk_session")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(https)
        .max_age(std::time::Duration::from_secs(12 * 3600));
    mount(pages())
        .nest("/api", api::service())
        .with(csrf::CsrfGuard { max_body: MAX_BODY })
        .around(api::json_errors)
        .with(ServerSession::new(cookie, session::DbSessionStorage::new(ctx.clone())))
        .around(error::in_russian)
        .with(headers::SecurityHeaders { https })
        .with(Tracing)
        .data(ctx)
        .data(config)
}
