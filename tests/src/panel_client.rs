//! A browser-like client for the real panel app in-process: it keeps its cookies and sends the
//! CSRF token from the last page it saw, as a browser submitting a form would. Its requests come
//! from 127.0.0.1 as the server sees them, or from another address ([`PanelClient::browser_at`]).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};

use poem::endpoint::BoxEndpoint;
use poem::http::uri::Scheme;
use poem::http::{HeaderMap, Method, StatusCode, header};
use poem::test::{TestClient, TestForm, TestFormField, TestRequestBuilder};
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

    /// The number next to `label` in a details table: `<label></th><td class="num">N`.
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

/// The panel's configuration in these tests.
pub fn test_panel_config() -> panel::PanelConfig {
    panel::PanelConfig {
        public_url: "http://127.0.0.1/".parse().expect("url"),
        bot_username: Arc::new(OnceLock::from("chernomorsk_test_bot".to_owned())),
        client_ip_header: None,
        metrics_token: None,
    }
}

/// The name of the panel's session cookie.
const SESSION_COOKIE: &str = "chernomorsk_session";

type Panel = BoxEndpoint<'static>;

pub struct PanelClient {
    client: Arc<TestClient<Panel>>,
    /// Where this browser's requests come from.
    peer: Peer,
    /// Cookies by name, as the server last set them.
    cookies: Mutex<BTreeMap<String, String>>,
    csrf: Mutex<Option<String>>,
}

/// The address a request comes from, as the server sees it.
#[derive(Clone, Copy)]
struct Peer(SocketAddr);

impl PanelClient {
    pub fn new(ctx: &Context) -> PanelClient {
        Self::for_endpoint(panel::app(ctx.clone(), test_panel_config()))
    }

    pub fn for_endpoint(app: impl Endpoint + 'static) -> PanelClient {
        let app = app.around(as_served).map_to_response().boxed();
        let client = Arc::new(TestClient::new(app));
        PanelClient { client, peer: Peer(PEER), cookies: Mutex::default(), csrf: Mutex::new(None) }
    }

    /// Another browser, on the machine at `address`, talking to the same server.
    pub fn browser_at(&self, address: IpAddr) -> PanelClient {
        let peer = Peer(SocketAddr::new(address, PEER.port()));
        PanelClient { client: self.client.clone(), peer, cookies: Mutex::default(), csrf: Mutex::new(None) }
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
        let page = self.try_login(login, password).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "login failed: {}", page.body);
        page
    }

    /// Opens the login form and sends it, as a person does; returns the answer to the form.
    pub async fn try_login(&self, login: &str, password: &str) -> Page {
        self.get("/login").await.assert_ok();
        self.post_form("/login", &[("login", login), ("password", password)]).await
    }

    pub async fn get(&self, path: &str) -> Page {
        let request = self.with_cookies(self.client.get(path));
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
            fields.push((panel::layout::CSRF_FIELD, token));
        }
        self.post_raw_form(path, &fields).await
    }

    /// Submits a urlencoded form exactly as given (no CSRF token added).
    pub async fn post_raw_form(&self, path: &str, fields: &[(&str, String)]) -> Page {
        let request = self.with_cookies(self.client.post(path).form(&fields));
        self.read(request.send().await).await
    }

    /// Submits a multipart form (with the CSRF token as its first field).
    pub async fn post_multipart(&self, path: &str, form: TestForm) -> Page {
        let request = self.with_cookies(self.client.post(path).multipart(form));
        self.read(request.send().await).await
    }

    /// Posts a multipart form as the mobile form's script does: asking for JSON, with the CSRF
    /// token in `X-CSRF-Token` (the token it got from `/m/session`).
    pub async fn post_multipart_as_script(&self, path: &str, form: TestForm) -> Page {
        let request =
            self.with_cookies(self.client.post(path).multipart(form)).header(header::ACCEPT, "application/json");
        let request = match self.csrf() {
            Some(token) => request.header("x-csrf-token", token),
            None => request,
        };
        self.read(request.send().await).await
    }

    /// Sends a GET with extra headers (`If-None-Match`, `Accept`…).
    pub async fn get_with(&self, path: &str, headers: &[(header::HeaderName, &str)]) -> Page {
        let request =
            headers.iter().fold(self.with_cookies(self.client.get(path)), |r, (name, value)| r.header(name, *value));
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
        TestForm::new().text(panel::layout::CSRF_FIELD, self.csrf().unwrap_or_default())
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
        let request = self.with_cookies(self.client.post(path).body_json(body));
        let request = match self.csrf() {
            Some(token) => request.header("x-csrf-token", token),
            None => request,
        };
        self.read(request.send().await).await
    }

    /// The session cookie as a `name=value` pair, to replay it from elsewhere.
    pub fn cookie(&self) -> Option<String> {
        let cookies = self.cookies.lock().expect("lock");
        cookies.get(SESSION_COOKIE).map(|value| format!("{SESSION_COOKIE}={value}"))
    }

    /// Sets a cookie as another site or an earlier visit might have left it.
    pub fn plant_cookie(&self, name: &str, value: &str) {
        self.cookies.lock().expect("lock").insert(name.to_owned(), value.to_owned());
    }

    /// `request` from this browser's address, with the `Cookie` header a browser would send
    /// (paths are not told apart).
    fn with_cookies<'a>(&self, request: TestRequestBuilder<'a, Panel>) -> TestRequestBuilder<'a, Panel> {
        let request = request.data(self.peer);
        let cookies = self.cookies.lock().expect("lock");
        let pairs: Vec<String> = cookies.iter().map(|(name, value)| format!("{name}={value}")).collect();
        if pairs.is_empty() { request } else { request.header(header::COOKIE, pairs.join("; ")) }
    }

    pub fn csrf(&self) -> Option<String> {
        self.csrf.lock().expect("lock").clone()
    }

    async fn read(&self, response: poem::test::TestResponse) -> Page {
        let page = read_page(response.0.into_response()).await;
        for set_cookie in page.headers.get_all(header::SET_COOKIE) {
            let value = set_cookie.to_str().expect("ascii cookie");
            let pair = value.split(';').next().unwrap_or_default();
            let (name, cookie) = pair.split_once('=').expect("a cookie is name=value");
            let mut cookies = self.cookies.lock().expect("lock");
            if value.contains("Max-Age=0") || cookie.is_empty() {
                cookies.remove(name);
            } else {
                cookies.insert(name.to_owned(), cookie.to_owned());
            }
        }
        if let Some(token) = csrf_in(&page.body) {
            *self.csrf.lock().expect("lock") = Some(token);
        }
        page
    }
}

/// Where requests come from unless a browser says otherwise.
const PEER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 40_000);

/// poem's test client leaves [`Request::original_uri`] at `/` and the peer's address unknown,
/// where a server sets them to the URI the browser asked for and the connection's peer; the panel
/// reads the URI under nested routes (`/m`, `/api`) and the address at login.
async fn as_served<E: Endpoint>(app: Arc<E>, req: Request) -> poem::Result<E::Output> {
    let peer = req.data::<Peer>().map_or(PEER, |peer| peer.0);
    let (parts, body) = req.into_parts();
    let mut head = poem::http::Request::new(());
    *head.method_mut() = parts.method;
    *head.uri_mut() = parts.uri;
    *head.version_mut() = parts.version;
    *head.headers_mut() = parts.headers;
    *head.extensions_mut() = parts.extensions;
    let (head, ()) = head.into_parts();
    let parts = RequestParts::from((head, LocalAddr::default(), RemoteAddr(peer.into()), Scheme::HTTP));
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
    input_value(html, panel::layout::CSRF_FIELD)
}

/// The value of the first `<input name=… value=…>` with this name, as maud writes it.
fn input_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}
