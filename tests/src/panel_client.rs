//! A browser-like client for the real panel app in-process: it keeps the session cookie and
//! sends the CSRF token from the last page it saw, as a browser submitting a form would.

use std::sync::{Arc, Mutex};

use poem::endpoint::BoxEndpoint;
use poem::http::uri::Scheme;
use poem::http::{HeaderMap, Method, StatusCode, header};
use poem::test::{TestClient, TestForm, TestFormField};
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, RequestParts};
use service::Context;

/// A response, read whole.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as text (lossy for binary bodies such as photos; see `bytes`).
    pub body: String,
    pub bytes: Vec<u8>,
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

    /// The value of the first input named `name` (hidden fields a form carries between steps).
    pub fn input_value(&self, name: &str) -> Option<String> {
        input_value(&self.body, name)
    }

    pub fn assert_lacks(&self, text: &str) -> &Self {
        assert!(!self.body.contains(text), "did not expect «{text}» in:\n{}", self.body);
        self
    }

    /// The number next to `label` in a details table: «<label></th><td class="num">N».
    pub fn number_after(&self, label: &str) -> usize {
        let start = self.body.find(label).unwrap_or_else(|| panic!("no «{label}» in:\n{}", self.body)) + label.len();
        let digits: String = self.body[start..]
            .trim_start_matches("</th><td class=\"num\">")
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().unwrap_or_else(|_| panic!("no count after «{label}»"))
    }

    /// The link code a «Код привязки Telegram» page shows (only its hash is stored).
    pub fn link_code(&self) -> String {
        let start = self.body.find("<code>").unwrap_or_else(|| panic!("no code in:\n{}", self.body)) + "<code>".len();
        self.body[start..].chars().take_while(char::is_ascii_alphanumeric).collect()
    }

    /// The body as JSON; panics if it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
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
        let app = app.around(as_served).map_to_response().boxed();
        PanelClient { client: TestClient::new(app), cookie: Mutex::new(None), csrf: Mutex::new(None) }
    }

    /// A client logged in as a new staff member `login` with `role`.
    pub async fn staff(t: &service::testing::TestContext, login: &str, role: domain::Role) -> PanelClient {
        t.staff(login, role).await;
        let client = PanelClient::new(&t.ctx);
        let landed = client.login(login, &format!("{login}-password")).await;
        // As a browser does; the page it lands on carries the new session's CSRF token.
        client.get(landed.location().expect("login redirects")).await.assert_ok();
        client
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

    /// Uploads `bytes` as the file `file_name` to the import page at `path`, as its form does.
    pub async fn upload_file(&self, path: &str, file_name: &str, bytes: Vec<u8>) -> Page {
        let form = self.multipart().field(TestFormField::bytes(bytes).name("file").filename(file_name));
        self.post_multipart(path, form).await
    }

    /// Confirms the import that `preview`, from the import page at `path`, offers.
    pub async fn confirm_import(&self, path: &str, preview: &Page) -> Page {
        let id = preview.input_value("import_id").expect("the preview offers to import");
        self.post_form(&format!("{path}/confirm"), &[("import_id", &id)]).await
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

    /// Posts JSON with an API bearer token and no cookie.
    pub async fn api_post(&self, path: &str, token: &str, body: &serde_json::Value) -> Page {
        let request = self.client.post(path).header(header::AUTHORIZATION, format!("Bearer {token}"));
        read_page(request.body_json(body).send().await.0.into_response()).await
    }

    /// Sends any request with an API bearer token and no cookie: `body` as it is, under
    /// `content_type` when given.
    pub async fn api_send(
        &self,
        method: Method,
        path: &str,
        token: &str,
        content_type: Option<&str>,
        body: impl Into<poem::Body>,
    ) -> Page {
        let request = self.client.request(method, path).header(header::AUTHORIZATION, format!("Bearer {token}"));
        let request = match content_type {
            Some(content_type) => request.content_type(content_type),
            None => request,
        };
        read_page(request.body(body).send().await.0.into_response()).await
    }

    /// Posts JSON as the browser's script would: the session cookie and the `X-CSRF-Token` header.
    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> Page {
        let request = self.client.post(path).body_json(body);
        let request = match self.cookie() {
            Some(cookie) => request.header(header::COOKIE, cookie),
            None => request,
        };
        let request = match self.csrf() {
            Some(token) => request.header("x-csrf-token", token),
            None => request,
        };
        self.read(request.send().await).await
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

/// poem's test client leaves [`Request::original_uri`] at `/`, where a server sets it to the URI
/// the browser asked for; the panel reads it under nested routes (`/m`, `/api`).
async fn as_served<E: Endpoint>(app: Arc<E>, req: Request) -> poem::Result<E::Output> {
    let (parts, body) = req.into_parts();
    let mut head = poem::http::Request::new(());
    *head.method_mut() = parts.method;
    *head.uri_mut() = parts.uri;
    *head.version_mut() = parts.version;
    *head.headers_mut() = parts.headers;
    *head.extensions_mut() = parts.extensions;
    let (head, ()) = head.into_parts();
    let parts = RequestParts::from((head, LocalAddr::default(), RemoteAddr::default(), Scheme::HTTP));
    app.call(Request::from_parts(parts, body)).await
}

async fn read_page(response: poem::Response) -> Page {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().into_vec().await.expect("a readable body");
    Page { status, headers, body: String::from_utf8_lossy(&bytes).into_owned(), bytes }
}

/// The value of the hidden CSRF input on a page.
fn csrf_in(html: &str) -> Option<String> {
    input_value(html, panel::csrf::FIELD)
}

/// The value of the first `<input name=… value=…>` with this name, as maud writes it.
fn input_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}
