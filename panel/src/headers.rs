//! Security headers on every response — pages, the mobile form, the API, photos, redirects and
//! errors alike — set in one middleware around the whole panel.
//!
//! The pages run no script at all and style themselves with one inline `<style>` element, so
//! their policy allows exactly that: images and forms from this site, nothing else, and no
//! framing by anyone. The mobile form under `/m` adds its own script, service worker and
//! manifest, and the requests they make to this site — from this site only, nothing inline.
//! The API's description (`/api/docs`) is Swagger UI, whose page is an inline script and
//! stylesheet with inline images; it gets a policy of its own that allows them.
//! Responses are not stored by caches unless a handler says otherwise (photos do): pages show
//! consumer data, API tokens and link codes.

use poem::http::{HeaderName, HeaderValue, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};

const PAGE_POLICY: &str = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'self'; \
                           frame-ancestors 'none'; base-uri 'none'";
const MOBILE_POLICY: &str = "default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'; \
                            manifest-src 'self'; img-src 'self'; style-src 'unsafe-inline'; form-action 'self'; \
                            frame-ancestors 'none'; base-uri 'none'";
const SWAGGER_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                              img-src 'self' data:; font-src data:; connect-src 'self'; form-action 'self'; \
                              frame-ancestors 'none'; base-uri 'none'";
/// Where Swagger UI is served (see `crate::pages`).
const SWAGGER_PATH: &str = "/api/docs";

pub struct SecurityHeaders {
    /// Served over https: browsers are told to keep to it.
    pub https: bool,
}

impl<E: Endpoint> Middleware<E> for SecurityHeaders {
    type Output = SecurityHeadersEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        SecurityHeadersEndpoint { inner, https: self.https }
    }
}

pub struct SecurityHeadersEndpoint<E> {
    inner: E,
    https: bool,
}

impl<E: Endpoint> Endpoint for SecurityHeadersEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let path = req.original_uri().path();
        let policy = if path == SWAGGER_PATH {
            SWAGGER_POLICY
        } else if path == "/m" || path.starts_with("/m/") {
            MOBILE_POLICY
        } else {
            PAGE_POLICY
        };
        let mut response = match self.inner.call(req).await {
            Ok(output) => output.into_response(),
            Err(e) => e.into_response(),
        };
        let headers = response.headers_mut();
        let mut set = |name: HeaderName, value: &'static str| {
            headers.insert(name, HeaderValue::from_static(value));
        };
        set(header::CONTENT_SECURITY_POLICY, policy);
        set(header::X_FRAME_OPTIONS, "DENY");
        set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
        set(header::REFERRER_POLICY, "same-origin");
        if self.https {
            set(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
        }
        headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
        Ok(response)
    }
}
