//! Cross-site request forgery protection for every form, checked in one place.
//!
//! Each session holds a random token; pages put it in a hidden `csrf_token` field. The guard
//! checks every state-changing request that relies on the session cookie, whatever handler it
//! reaches, so a new form cannot forget it. API calls with a bearer token carry no cookie and
//! need no token, nor do API calls without a login (they are refused as unauthenticated anyway).
//! The guard reads the whole body to find the token, so it also bounds the size
//! of every state-changing request.

use bytes::Bytes;
use poem::error::ReadBodyError;
use poem::http::{Method, StatusCode, header};
use poem::session::Session;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use subtle::ConstantTimeEq;

/// The session entry and form field holding the token.
pub const FIELD: &str = "csrf_token";

/// The session's token, created on first use.
pub fn token(session: &Session) -> String {
    match session.get::<String>(FIELD) {
        Some(token) => token,
        None => {
            let token = service::staff::random_token(32);
            session.set(FIELD, &token);
            token
        }
    }
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
    req.header(header::AUTHORIZATION).is_some_and(|v| v.starts_with("Bearer "))
}

/// An API call from no one: there is no session to abuse, and the API answers it with 401.
fn is_anonymous_api_call(req: &Request) -> bool {
    req.original_uri().path().starts_with("/api")
        && req.extensions().get::<Session>().is_none_or(|s| s.get::<i64>(crate::auth::STAFF_ID).is_none())
}

impl<E: Endpoint> Endpoint for CsrfGuardEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        if is_safe(req.method()) {
            return self.inner.call(req).await.map(IntoResponse::into_response);
        }
        let body = match req.take_body().into_bytes_limit(self.max_body).await {
            Ok(body) => body,
            Err(ReadBodyError::PayloadTooLarge) => {
                return Ok(crate::error::page_response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Слишком большой запрос",
                    &format!(
                        "Можно отправить не больше {} МБ. Уменьшите фото и попробуйте ещё раз.",
                        self.max_body >> 20
                    ),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        if uses_bearer_token(&req) || is_anonymous_api_call(&req) {
            req.set_body(body);
            return self.inner.call(req).await.map(IntoResponse::into_response);
        }
        let expected = req.extensions().get::<Session>().and_then(|s| s.get::<String>(FIELD));
        let presented = match req.header("x-csrf-token") {
            Some(token) => Some(token.to_owned()),
            None => token_in_body(req.content_type(), &body).await,
        };
        let valid =
            matches!((&expected, &presented), (Some(e), Some(p)) if bool::from(e.as_bytes().ct_eq(p.as_bytes())));
        if !valid {
            tracing::warn!(path = %req.uri().path(), "request without a valid CSRF token refused");
            return Ok(crate::error::page_response(
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
            .find_map(|(k, v)| (k == FIELD).then_some(v));
    }
    let boundary = multer::parse_boundary(content_type).ok()?;
    let stream = futures::stream::once(std::future::ready(Ok::<_, std::io::Error>(body.clone())));
    let mut multipart = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some(FIELD) {
            return field.text().await.ok();
        }
    }
    None
}
