//! `/metrics` for Prometheus and `/healthz` for the balancer and the container, and the
//! middleware that counts every request by the route pattern it matched.
//!
//! `/metrics` is closed to the public: with `METRICS_TOKEN` set it wants
//! `Authorization: Bearer <token>` from anywhere; unset, it answers only connections from this
//! machine's loopback (the connection's address, never a forwarded header) that no proxy passed
//! on: Caddy in the compose file connects from its container's address, and a reverse proxy on
//! the same host, which connects from loopback, names the client in `X-Forwarded-For`.

use std::time::Duration;

use poem::PathPattern;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result, handler};
use service::Context;
use subtle::ConstantTimeEq;

use crate::PanelConfig;

/// How long `/healthz` waits for the database before calling it unreachable.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

/// `200 ok` while the database answers `SELECT 1` within 2 s, else 503.
#[handler]
pub async fn health(Data(ctx): Data<&Context>) -> Response {
    let ping = service::db::query(ctx.db.conn(), "SELECT 1", []);
    match tokio::time::timeout(HEALTH_TIMEOUT, ping).await {
        Ok(Ok(_)) => "ok".into_response(),
        outcome => {
            let why = match outcome {
                Ok(Err(e)) => e.to_string(),
                _ => format!("no answer in {HEALTH_TIMEOUT:?}"),
            };
            tracing::error!("health check: the database is unreachable: {why}");
            (StatusCode::SERVICE_UNAVAILABLE, "база данных недоступна").into_response()
        }
    }
}

#[handler]
pub fn show(req: &Request, Data(ctx): Data<&Context>, Data(config): Data<&PanelConfig>) -> Response {
    let allowed = match &config.metrics_token {
        Some(token) => {
            let bearer = crate::auth::bearer_token(req);
            bearer.is_some_and(|given| bool::from(given.as_bytes().ct_eq(token.as_bytes())))
        }
        None => {
            let loopback = req.remote_addr().as_socket_addr().is_some_and(|peer| peer.ip().is_loopback());
            loopback && !forwarded(req, config)
        }
    };
    if !allowed {
        let hint = match config.metrics_token {
            Some(_) => "Нужен заголовок Authorization: Bearer <METRICS_TOKEN>.",
            None => "Метрики отдаются только на этом сервере (127.0.0.1) или по METRICS_TOKEN.",
        };
        return (StatusCode::FORBIDDEN, hint).into_response();
    }
    service::metrics::render(ctx).with_content_type(service::metrics::CONTENT_TYPE).into_response()
}

/// Whether a proxy passed the request on: a reverse proxy on this machine connects from loopback
/// too, but says whom it serves in one of these headers.
fn forwarded(req: &Request, config: &PanelConfig) -> bool {
    let proxy_headers = ["x-forwarded-for", "forwarded", "x-real-ip"];
    proxy_headers.iter().any(|name| req.headers().contains_key(*name))
        || config.client_ip_header.as_ref().is_some_and(|name| req.headers().contains_key(name))
}

/// Counts each request under the route pattern that answered it (`/plots/:id`), `unmatched` for
/// a path no route has, so the labels stay few however many ids and probes arrive.
pub struct Counted;

impl<E: Endpoint> Middleware<E> for Counted {
    type Output = CountedEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        CountedEndpoint(inner)
    }
}

pub struct CountedEndpoint<E>(E);

impl<E: Endpoint> Endpoint for CountedEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        let method = req.method().to_string();
        let (route, status, result) = match self.0.call(req).await.map(IntoResponse::into_response) {
            Ok(response) => (pattern(response.data::<PathPattern>()), response.status(), Ok(response)),
            Err(error) => (pattern(error.data::<PathPattern>()), error.status(), Err(error)),
        };
        service::metrics::http_request(&route, &method, status.as_u16());
        result
    }
}

fn pattern(found: Option<&PathPattern>) -> String {
    found.map_or_else(|| "unmatched".to_owned(), |p| p.0.to_string())
}
