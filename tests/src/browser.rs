//! A real headless Chromium at a phone's size, driven over the DevTools protocol, for the mobile
//! form's end-to-end tests, and the steps a controller takes in it. Every step waits for what it
//! needs by polling with a time limit, never by sleeping a fixed time.
//!
//! Needs Debian's `chromium` at /usr/bin/chromium. Without it a test says so and stops, unless
//! `CHERNOMORSK_REQUIRE_BROWSER` is set — as `.ci/run` does, so in CI it always runs.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use chromiumoxide::cdp::browser_protocol::dom::SetFileInputFilesParams;
use chromiumoxide::cdp::browser_protocol::input::InsertTextParams;
#[allow(deprecated)] // see `Signal::set_offline`
use chromiumoxide::cdp::browser_protocol::network::{EmulateNetworkConditionsParams, EnableParams};
use chromiumoxide::cdp::browser_protocol::target::SetAutoAttachParams;
use chromiumoxide::cdp::js_protocol::runtime::{EventConsoleApiCalled, EventExceptionThrown, RemoteObject};
use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::{Browser, BrowserConfig, Element, Page};
use futures::StreamExt;
use serde::de::DeserializeOwned;
use tempfile::TempDir;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

use crate::TestApp;

const CHROMIUM: &str = "/usr/bin/chromium";
/// A common Android phone's CSS viewport.
pub const PHONE: (u32, u32) = (360, 740);
/// How long any one step (a page load, an element, a queue to empty) may take.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(50);

/// Whether Chromium is here; without it the test should return at once, and is told so.
pub fn available() -> bool {
    if Path::new(CHROMIUM).exists() {
        return true;
    }
    let hint = "install Debian's Chromium: apt-get install -y chromium";
    assert!(std::env::var_os("CHERNOMORSK_REQUIRE_BROWSER").is_none(), "{CHROMIUM} not found; {hint}");
    eprintln!("SKIPPED the browser test: {CHROMIUM} not found ({hint})");
    false
}

/// The app a phone walks in, or None without Chromium (see [`available`]): started now, not on
/// the tests' usual fixed day, since the phone dates readings by its own clock; with the
/// controller «kontroler» (password «kontroler-password») and the standard tariffs.
pub async fn field_app() -> Option<(TestApp, entities::staff::Model)> {
    if !available() {
        return None;
    }
    let app = TestApp::spawn().await;
    let controller = service::testing::staff(app.ctx(), "kontroler", domain::Role::Controller).await;
    service::testing::standard_tariffs(app.ctx()).await;
    Some((app, controller))
}

/// A browser with one tab open, on a fresh profile that is removed with it.
pub struct Phone {
    pub browser: Browser,
    pub page: Page,
    events: JoinHandle<()>,
    /// What the page's scripts logged or threw, shown when a step fails.
    console: Arc<Mutex<Vec<String>>>,
    _profile: TempDir,
}

impl Phone {
    pub async fn launch() -> Phone {
        let profile = tempfile::tempdir().expect("temp dir");
        let (browser, mut handler) = Browser::launch(config(profile.path())).await.expect("Chromium starts");
        let events = tokio::spawn(async move { while handler.next().await.is_some() {} });
        let page = browser.new_page("about:blank").await.expect("a tab");
        // chromiumoxide holds each worker the page starts until it tells it to run, and a
        // service worker is never told: let them run from the start.
        let attach = SetAutoAttachParams::builder().auto_attach(true).wait_for_debugger_on_start(false).flatten(true);
        page.execute(attach.build().expect("auto-attach")).await.expect("workers run");
        let console = Arc::new(Mutex::new(Vec::new()));
        let mut logged = page.event_listener::<EventConsoleApiCalled>().await.expect("console events");
        let mut thrown = page.event_listener::<EventExceptionThrown>().await.expect("exception events");
        let lines = console.clone();
        tokio::spawn(async move {
            let text = |args: &[RemoteObject]| {
                args.iter()
                    .map(|a| {
                        a.description.clone().or_else(|| a.value.as_ref().map(|v| v.to_string())).unwrap_or_default()
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            loop {
                let line = tokio::select! {
                    Some(event) = logged.next() => format!("console.{:?}: {}", event.r#type, text(&event.args)),
                    Some(event) = thrown.next() => {
                        let details = &event.exception_details;
                        let exception = details.exception.as_ref().and_then(|e| e.description.clone());
                        format!("{} {} at {}:{}", details.text, exception.unwrap_or_default(),
                            details.url.as_deref().unwrap_or_default(), details.line_number)
                    }
                    else => break,
                };
                lines.lock().expect("lock").push(line);
            }
        });
        Phone { browser, page, events, console, _profile: profile }
    }

    /// Runs `steps` for at most `limit`; on failure panics with the page as it was.
    pub async fn run(&self, limit: Duration, steps: impl Future<Output = anyhow::Result<()>>) {
        let done = tokio::time::timeout(limit, steps).await.unwrap_or_else(|_| Err(anyhow!("took over {limit:?}")));
        if let Err(e) = done {
            let url = self.page.url().await.ok().flatten().unwrap_or_default();
            let html = self.page.content().await.unwrap_or_else(|e| format!("(no page: {e})"));
            let console = self.console.lock().expect("lock").join("\n");
            panic!("{e:#}\nat {url}, the page was:\n{html}\nthe console said:\n{console}");
        }
    }

    pub async fn close(mut self) {
        self.browser.close().await.expect("close Chromium");
        self.browser.wait().await.expect("Chromium exits");
        self.events.await.expect("the CDP event loop ends");
    }
}

/// The browser, as this machine needs it: headless, no sandbox as root, no background traffic
/// (the network is closed), a phone-sized touch screen.
fn config(profile: &Path) -> BrowserConfig {
    BrowserConfig::builder()
        .chrome_executable(CHROMIUM)
        .no_sandbox()
        .user_data_dir(profile)
        .args([
            "disable-gpu",
            "disable-quic",
            "no-first-run",
            "disable-background-networking",
            "disable-component-update",
            "disable-sync",
        ])
        .window_size(PHONE.0, PHONE.1)
        .viewport(Viewport {
            width: PHONE.0,
            height: PHONE.1,
            device_scale_factor: Some(2.0),
            emulating_mobile: true,
            is_landscape: false,
            has_touch: true,
        })
        .build()
        .expect("a browser configuration")
}

pub async fn eval<T: DeserializeOwned>(page: &Page, js: &str) -> anyhow::Result<T> {
    Ok(page.evaluate(js).await?.into_value()?)
}

/// Waits until `js` is true in the page; evaluating fails while a navigation swaps documents,
/// which is «not yet».
pub async fn wait_until(page: &Page, what: &str, js: &str) -> anyhow::Result<()> {
    poll(what, || async move { Ok(eval::<bool>(page, js).await.unwrap_or(false).then_some(())) }).await
}

/// Waits until the document at `path` has loaded (a click's navigation has finished).
pub async fn wait_for_path(page: &Page, path: &str) -> anyhow::Result<()> {
    let js = format!("location.pathname === {path:?} && document.readyState === 'complete'");
    wait_until(page, &format!("page {path}"), &js).await
}

pub async fn element(page: &Page, selector: &str) -> anyhow::Result<Element> {
    poll(selector, || async move { Ok(page.find_element(selector).await.ok()) }).await
}

pub async fn click(page: &Page, selector: &str) -> anyhow::Result<()> {
    element(page, selector).await?.click().await?;
    Ok(())
}

/// Types as a phone keyboard does: focus, then insert the text (any alphabet).
pub async fn fill(page: &Page, selector: &str, value: &str) -> anyhow::Result<()> {
    click(page, selector).await?;
    page.execute(InsertTextParams::new(value)).await?;
    Ok(())
}

pub async fn text(page: &Page, selector: &str) -> anyhow::Result<String> {
    let text = element(page, selector).await?.inner_text().await?.unwrap_or_default();
    Ok(text.trim().to_owned())
}

/// Chooses `file` in the file input `selector`, as the phone's camera or gallery would.
pub async fn attach(page: &Page, selector: &str, file: &Path) -> anyhow::Result<()> {
    let input = element(page, selector).await?;
    let attach = SetFileInputFilesParams::builder()
        .file(file.to_str().context("a UTF-8 path")?)
        .backend_node_id(input.backend_node_id)
        .build()
        .map_err(|e| anyhow!(e))?;
    page.execute(attach).await?;
    Ok(())
}

/// The phone's way to the server, which a test can cut as a dead spot does. The browser's own
/// network emulation is per tab: it takes the page offline (`navigator.onLine`, the `offline` and
/// `online` events) but not the service worker, whose fetches would still reach the server. So
/// the browser talks to the server through this relay, and cutting the signal does both.
pub struct Signal {
    /// The relay's address, the server's address as the phone knows it.
    pub addr: SocketAddr,
    cut: Arc<AtomicBool>,
    /// The connections relayed so far: cutting the signal ends them too (a kept-alive connection
    /// would otherwise outlive it).
    relayed: Arc<Mutex<Vec<AbortHandle>>>,
    accepting: JoinHandle<()>,
}

impl Signal {
    pub async fn relay_to(server: SocketAddr) -> Signal {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a relay port");
        let addr = listener.local_addr().expect("the relay's address");
        let cut = Arc::new(AtomicBool::new(false));
        let relayed = Arc::new(Mutex::new(Vec::new()));
        let (is_cut, connections) = (cut.clone(), relayed.clone());
        let accepting = tokio::spawn(async move {
            while let Ok((mut phone, _)) = listener.accept().await {
                // Without a signal a connection is closed at once: the request fails, as in a dead spot.
                if is_cut.load(Ordering::SeqCst) {
                    continue;
                }
                let relay = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(server).await {
                        let _ = tokio::io::copy_bidirectional(&mut phone, &mut server).await;
                    }
                });
                connections.lock().expect("lock").push(relay.abort_handle());
            }
        });
        Signal { addr, cut, relayed, accepting }
    }

    /// The server's address as the phone reaches it.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Takes the phone off the network, or puts it back.
    pub async fn set_offline(&self, page: &Page, offline: bool) -> anyhow::Result<()> {
        self.cut.store(offline, Ordering::SeqCst);
        if offline {
            self.relayed.lock().expect("lock").drain(..).for_each(|relay| relay.abort());
        }
        page.execute(EnableParams::default()).await?;
        // Deprecated for `emulateNetworkConditionsByRule` and `overrideNetworkState`, which
        // chromiumoxide 0.9's protocol does not have yet; Chromium still runs it.
        #[allow(deprecated)]
        page.execute(EmulateNetworkConditionsParams::new(offline, 0.0, -1.0, -1.0)).await?;
        Ok(())
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        self.accepting.abort();
        self.relayed.lock().expect("lock").drain(..).for_each(|relay| relay.abort());
    }
}

/// Retries `attempt` until it yields something, for at most [`STEP_TIMEOUT`].
pub async fn poll<T, F, Fut>(what: &str, mut attempt: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + STEP_TIMEOUT;
    loop {
        if let Some(found) = attempt().await? {
            return Ok(found);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(anyhow!("waited {STEP_TIMEOUT:?} for {what}"));
        }
        tokio::time::sleep(POLL).await;
    }
}
