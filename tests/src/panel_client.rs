//! A browser-like client for the real panel app in-process: it keeps the session cookie and
//! sends the CSRF token from the last page it saw, as a browser submitting a form would.

use std::sync::Mutex;

use poem::endpoint::BoxEndpoint;
use poem::http::{HeaderMap, StatusCode, header};
use poem::test::{TestClient, TestForm};
use poem::{Endpoint, EndpointExt, IntoResponse};
use service::Context;

/// A response, read whole.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    /// Where a redirect points.
    pub fn location(&self) -> Option<&str> {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok())
    }

    pub fn assert_ok(&self) -> &Self {
        assert_eq!(self.status, StatusCode::OK, "body: {}", self.body);
        self
    }

    pub fn assert_contains(&self, text: &str) -> &Self {
        assert!(self.body.contains(text), "expected «{text}» in:\n{}", self.body);
        self
    }
}

pub struct PanelClient {
    client: TestClient<BoxEndpoint<'static>>,
    cookie: Mutex<Option<String>>,
    csrf: Mutex<Option<String>>,
}

impl PanelClient {
    pub fn new(ctx: &Context) -> PanelClient {
        let config = panel::PanelConfig {
            public_url: "http://127.0.0.1/".parse().expect("url"),
            bot_username: Some("chernomorsk_test_bot".into()),
        };
        Self::for_endpoint(panel::app(ctx.clone(), config))
    }

    pub fn for_endpoint(app: impl Endpoint + 'static) -> PanelClient {
        let app = app.map_to_response().boxed();
        PanelClient { client: TestClient::new(app), cookie: Mutex::new(None), csrf: Mutex::new(None) }
    }

    /// Logs in through the login form; panics unless it succeeds.
    pub async fn login(&self, login: &str, password: &str) -> Page {
        self.get("/login").await.assert_ok();
        let page = self.post_form("/login", &[("login", login), ("password", password)]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "login failed: {}", page.body);
        page
    }

    pub async fn get(&self, path: &str) -> Page {
        let request = self.client.get(path);
        let request = match self.cookie() {
            Some(cookie) => request.header(header::COOKIE, cookie),
            None => request,
        };
        self.read(request.send().await).await
    }

    /// A GET with a given cookie instead of this client's own (a stolen or planted session).
    pub async fn get_with_cookie(&self, path: &str, cookie: &str) -> Page {
        read_page(self.client.get(path).header(header::COOKIE, cookie).send().await.0.into_response()).await
    }

    /// Submits a urlencoded form with the current CSRF token.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut fields: Vec<(&str, String)> = fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        if let Some(token) = self.csrf() {
            fields.push((panel::csrf::FIELD, token));
        }
        self.post_raw_form(path, &fields).await
    }

    /// Submits a urlencoded form exactly as given (no CSRF token added).
    pub async fn post_raw_form(&self, path: &str, fields: &[(&str, String)]) -> Page {
        let request = self.client.post(path).form(&fields);
        let request = match self.cookie() {
            Some(cookie) => request.header(header::COOKIE, cookie),
            None => request,
        };
        self.read(request.send().await).await
    }

    /// Submits a multipart form (with the CSRF token as its first field).
    pub async fn post_multipart(&self, path: &str, form: TestForm) -> Page {
        let request = self.client.post(path).multipart(form);
        let request = match self.cookie() {
            Some(cookie) => request.header(header::COOKIE, cookie),
            None => request,
        };
        self.read(request.send().await).await
    }

    /// A multipart form that already carries the CSRF token.
    pub fn multipart(&self) -> TestForm {
        TestForm::new().text(panel::csrf::FIELD, self.csrf().unwrap_or_default())
    }

    /// Sends a request with an API bearer token and no cookie.
    pub async fn api_get(&self, path: &str, token: &str) -> Page {
        let response = self.client.get(path).header(header::AUTHORIZATION, format!("Bearer {token}")).send().await;
        read_page(response.0.into_response()).await
    }

    pub fn cookie(&self) -> Option<String> {
        self.cookie.lock().expect("lock").clone()
    }

    pub fn csrf(&self) -> Option<String> {
        self.csrf.lock().expect("lock").clone()
    }

    async fn read(&self, response: poem::test::TestResponse) -> Page {
        let page = read_page(response.0.into_response()).await;
        for set_cookie in page.headers.get_all(header::SET_COOKIE) {
            let value = set_cookie.to_str().expect("ascii cookie");
            let pair = value.split(';').next().unwrap_or_default().to_owned();
            let removed = value.contains("Max-Age=0") || pair.ends_with('=');
            *self.cookie.lock().expect("lock") = (!removed).then_some(pair);
        }
        if let Some(token) = csrf_in(&page.body) {
            *self.csrf.lock().expect("lock") = Some(token);
        }
        page
    }
}

async fn read_page(response: poem::Response) -> Page {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().into_string().await.expect("a text body");
    Page { status, headers, body }
}

/// The value of the hidden CSRF input on a page.
fn csrf_in(html: &str) -> Option<String> {
    let marker = format!("name=\"{}\" value=\"", panel::csrf::FIELD);
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}
