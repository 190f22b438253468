//! The mobile form as an installable web app that works without a signal: the manifest, the
//! service worker that keeps the pages the controller opened (`web/sw.js`), the script that
//! queues readings on the phone and sends them when the server can be reached (`web/app.js`),
//! and the session the script asks for before it sends.
//!
//! The files are built into the binary. They are served with `Cache-Control: no-cache` and one
//! ETag, the version of all of them together: a browser asks each time and mostly gets a 304,
//! and the service worker, which carries the version, is replaced when any of them changes.

use std::hash::{DefaultHasher, Hasher};
use std::sync::LazyLock;

use poem::http::{StatusCode, header};
use poem::web::Json;
use poem::{IntoResponse, Request, Response, handler};
use serde_json::{Value, json};

use crate::auth::FieldStaff;

const APP_JS: &str = include_str!("web/app.js");
const SERVICE_WORKER: &str = include_str!("web/sw.js");
const MANIFEST: &str = include_str!("web/manifest.webmanifest");
const ICON: &str = include_str!("web/icon.svg");

/// A digest of every file: the service worker names its cache after it.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut hasher = DefaultHasher::new();
    for file in [APP_JS, SERVICE_WORKER, MANIFEST, ICON] {
        hasher.write(file.as_bytes());
    }
    format!("{:016x}", hasher.finish())
});

static VERSIONED_SERVICE_WORKER: LazyLock<String> =
    LazyLock::new(|| SERVICE_WORKER.replace("__VERSION__", VERSION.as_str()));

fn asset(req: &Request, content_type: &'static str, body: &'static str) -> Response {
    let etag = format!("\"{}\"", *VERSION);
    let unchanged = req.header(header::IF_NONE_MATCH).is_some_and(|tag| tag == etag);
    let response = Response::builder().header(header::CACHE_CONTROL, "no-cache").header(header::ETAG, etag);
    if unchanged {
        response.status(StatusCode::NOT_MODIFIED).finish()
    } else {
        response.content_type(content_type).body(body)
    }
}

#[handler]
pub fn app_js(req: &Request) -> Response {
    asset(req, "text/javascript; charset=utf-8", APP_JS)
}

#[handler]
pub fn service_worker(req: &Request) -> Response {
    asset(req, "text/javascript; charset=utf-8", VERSIONED_SERVICE_WORKER.as_str())
}

#[handler]
pub fn manifest(req: &Request) -> Response {
    asset(req, "application/manifest+json", MANIFEST)
}

#[handler]
pub fn icon(req: &Request) -> Response {
    asset(req, "image/svg+xml", ICON)
}

/// Who is logged in and the session's CSRF token, asked for by the script before it sends the
/// queue: a page kept on the phone may hold the token of a session that has ended since. Without
/// a login the answer is the redirect to the login form, which the script tells the controller.
#[handler]
pub fn session(user: FieldStaff) -> impl IntoResponse {
    Json::<Value>(json!({"staff_id": user.id(), "csrf_token": user.csrf}))
}
