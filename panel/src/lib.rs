//! The staff web panel.

use poem::{Endpoint, EndpointExt, Route, get, handler};
use service::Context;
use url::Url;

#[derive(Debug, Clone)]
pub struct PanelConfig {
    pub public_url: Url,
    pub bot_username: Option<String>,
}

#[handler]
fn health() -> &'static str {
    "ok"
}

pub fn app(ctx: Context, config: PanelConfig) -> impl Endpoint + 'static {
    Route::new().at("/healthz", get(health)).data(ctx).data(config)
}
