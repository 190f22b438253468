//! Cross-site request forgery protection for every form, checked in one place.
//!
//! Each logged-in session holds a random token; pages put it in a hidden `csrf_token` field. The
//! guard checks every state-changing request that relies on the session cookie, whatever handler
//! it reaches, so a new form cannot forget it. API calls with a bearer token carry no cookie and
//! need no token, nor do API calls without a login (they are refused as unauthenticated anyway).
//!
//! Before login there is no session: storing one for every visitor of the login page would let
//! anyone fill the sessions table. The login form's token is a double-submit cookie instead
//! (`login_token`): a `SameSite=Strict` cookie that another site can neither read nor send,
//! which a request without a logged-in session must repeat in its form.
//!
//! The guard reads the whole body to find the token, so it also bounds the size of every
//! state-changing request — to a few kilobytes for anyone neither logged in nor holding an API
//! token, whose only forms are the login and logout buttons.

use bytes::Bytes;
use poem::error::ReadBodyError;
use poem::http::{Method, StatusCode};
use poem::session::Session;
use poem::web::cookie::{Cookie, CookieJar, SameSite};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use service::Context;
use subtle::ConstantTimeEq;

use crate::auth::bearer_token;
use crate::error::{internal, is_api, page_response};
use crate::layout::CSRF_FIELD;
use crate::session::STAFF_ID;

/// The cookie holding the login form's token.
pub const LOGIN_COOKIE: &str = "chernomorsk_login";
/// The largest body accepted from someone not logged in: the login form with room to spare.
const ANONYMOUS_MAX_BODY: usize = 16 * 1024;
const TOKEN_LEN: usize = 32;

/// The session's token, created on first use.
pub fn token(session: &Session) -> String {
    match session.get::<String>(CSRF_FIELD) {
        Some(token) => token,
        None => {
            let token = service::access::secrets::random_token(32);
            session.set(CSRF_FIELD, &token);
            token
        }
    }
}

/// The token for a form shown to anyone, logged in or not (the login form): the session's when
/// logged in, otherwise the login cookie's — as the guard checks them. `secure` when the panel is
/// served over https.
pub fn form_token(session: &Session, cookies: &CookieJar, secure: bool) -> String {
    if is_logged_in(session) { token(session) } else { login_token(cookies, secure) }
}

/// The browser's login token, or a new one set in its cookie.
fn login_token(cookies: &CookieJar, secure: bool) -> String {
    let current = cookies.get(LOGIN_COOKIE).map(|c| c.value_str().to_owned());
    if let Some(token) = current.filter(|t| t.len() == TOKEN_LEN && t.chars().all(|c| c.is_ascii_alphanumeric())) {
        return token;
    }
    let token = service::access::secrets::random_token(TOKEN_LEN);
    let mut cookie = Cookie::new_with_str(LOGIN_COOKIE, &token);
    cookie.set_path("/login");
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Strict);
    cookie.set_secure(secure);
    cookies.add(cookie);
    token
}

pub struct CsrfGuard {
    /// The largest body accepted, in bytes.
    pub max_body: usize,
}

impl<E: Endpoint> Middleware<E> for CsrfGuard {
    type Output = CsrfGuardEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        CsrfGuardEndpoint { inner, max_body: self.max_body }
    }
}

pub struct CsrfGuardEndpoint<E> {
    inner: E,
    max_body: usize,
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn uses_bearer_token(req: &Request) -> bool {
    bearer_token(req).is_some()
}

/// Whether the request's bearer token is an active staff member's API token.
async fn holds_api_token(req: &Request) -> Result<bool> {
    let token = bearer_token(req).unwrap_or_default();
    let Some(ctx) = req.data::<Context>() else { return Ok(false) };
    let staff = service::access::staff::by_api_token(ctx.db.conn(), token.trim()).await.map_err(internal)?;
    Ok(staff.is_some())
}

fn is_logged_in(session: &Session) -> bool {
    session.get::<i64>(STAFF_ID).is_some()
}

impl<E: Endpoint> Endpoint for CsrfGuardEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        if is_safe(req.method()) {
            return self.inner.call(req).await.map(IntoResponse::into_response);
        }
        let logged_in = req.extensions().get::<Session>().is_some_and(is_logged_in);
        // An API call from no one: there is no session to abuse, and the API answers it with 401.
        let needs_no_token = uses_bearer_token(&req) || (is_api(&req) && !logged_in);
        // Only someone known may send a large body: a made-up bearer token gets a stranger's.
        let known = logged_in || (uses_bearer_token(&req) && holds_api_token(&req).await?);
        let limit = if known { self.max_body } else { ANONYMOUS_MAX_BODY };
        let body = match req.take_body().into_bytes_limit(limit).await {
            Ok(body) => body,
            Err(ReadBodyError::PayloadTooLarge) => {
                let message = if limit == self.max_body {
                    format!("Можно отправить не больше {} МБ. Уменьшите фото и попробуйте ещё раз.", limit >> 20)
                } else {
                    format!("Без входа в панель можно отправить не больше {} КБ.", limit >> 10)
                };
                return Ok(page_response(StatusCode::PAYLOAD_TOO_LARGE, "Слишком большой запрос", &message));
            }
            Err(e) => return Err(e.into()),
        };
        if needs_no_token {
            req.set_body(body);
            return self.inner.call(req).await.map(IntoResponse::into_response);
        }
        let expected = if logged_in {
            req.extensions().get::<Session>().and_then(|s| s.get::<String>(CSRF_FIELD))
        } else {
            req.cookie().get(LOGIN_COOKIE).map(|c| c.value_str().to_owned())
        };
        let presented = match req.header("x-csrf-token") {
            Some(token) => Some(token.to_owned()),
            None => token_in_body(req.content_type(), &body).await,
        };
        let valid =
            matches!((&expected, &presented), (Some(e), Some(p)) if bool::from(e.as_bytes().ct_eq(p.as_bytes())));
        if !valid {
            tracing::warn!(path = %req.uri().path(), "request without a valid CSRF token refused");
            return Ok(page_response(
                StatusCode::FORBIDDEN,
                "Форма устарела",
                "Страница была открыта слишком давно или отправлена с другого сайта. Вернитесь назад, обновите страницу и отправьте форму ещё раз.",
            ));
        }
        req.set_body(body);
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}

/// The `csrf_token` field of a urlencoded or multipart body.
async fn token_in_body(content_type: Option<&str>, body: &Bytes) -> Option<String> {
    let content_type = content_type?;
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .ok()?
            .into_iter()
            .find_map(|(k, v)| (k == CSRF_FIELD).then_some(v));
    }
    let boundary = multer::parse_boundary(content_type).ok()?;
    let stream = futures::stream::once(std::future::ready(Ok::<_, std::io::Error>(body.clone())));
    let mut multipart = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some(CSRF_FIELD) {
            return field.text().await.ok();
        }
    }
    None
}
