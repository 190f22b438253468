//! The mobile form in a real headless Chromium at a phone's size, against the whole application on
//! a real TCP port: log in, open the «not read» list, open the plot, read a two-zone meter with a
//! photo, and find the reading, its author, seal state and photo in the database.
//!
//! Needs Debian's `chromium` at /usr/bin/chromium. Without it the test says so and stops, unless
//! `CHERNOMORSK_REQUIRE_BROWSER` is set — as `.ci/run` does, so in CI it always runs.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, anyhow, ensure};
use chromiumoxide::cdp::browser_protocol::dom::SetFileInputFilesParams;
use chromiumoxide::cdp::browser_protocol::input::InsertTextParams;
use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::{Browser, BrowserConfig, Element, Page};
use domain::{ReadingSource, Role, Service, TariffPlan, meter_value};
use entities::reading;
use futures::StreamExt;
use sea_orm::EntityTrait;
use serde::de::DeserializeOwned;
use service::register::sign_up::SignedUp;
use service::testing::{default_now, new_consumer, sign, staff, standard_tariffs};
use tests::TestApp;

const CHROMIUM: &str = "/usr/bin/chromium";
/// A common Android phone's CSS viewport.
const PHONE: (u32, u32) = (360, 740);
/// How long any one step (a page load, an element) may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(50);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_controller_reads_a_meter_from_a_phone() {
    if !Path::new(CHROMIUM).exists() {
        let hint = "install Debian's Chromium: apt-get install -y chromium chromium-driver";
        assert!(std::env::var_os("CHERNOMORSK_REQUIRE_BROWSER").is_none(), "{CHROMIUM} not found; {hint}");
        eprintln!("SKIPPED the browser test: {CHROMIUM} not found ({hint})");
        return;
    }
    let app = TestApp::spawn_at(default_now()).await;
    let ctx = app.ctx();
    let controller = staff(ctx, "kontroler", Role::Controller).await;
    standard_tariffs(ctx).await;
    let owner = new_consumer("Потребитель участка 5", None);
    let plot = sign(ctx, "5", owner, "Э-5", Service::Electricity, TariffPlan::DayNight, &[1000, 500]).await;
    let next_owner = new_consumer("Потребитель участка 8", None);
    let next = sign(ctx, "8", next_owner, "В-8", Service::Water, TariffPlan::Single, &[10]).await;

    let photo_dir = tempfile::tempdir().expect("temp dir");
    let photo = photo_dir.path().join("meter.jpg");
    image::RgbImage::from_fn(1200, 900, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8]))
        .save(&photo)
        .expect("write a JPEG");

    let profile = tempfile::tempdir().expect("temp dir");
    let (mut browser, mut handler) = Browser::launch(browser_config(profile.path())).await.expect("Chromium starts");
    let events = tokio::spawn(async move { while handler.next().await.is_some() {} });
    let page = browser.new_page("about:blank").await.expect("a tab");

    let base = app.app.panel_url();
    let walked = tokio::time::timeout(Duration::from_secs(120), walk(&page, base.as_str(), &plot, &next, &photo))
        .await
        .unwrap_or_else(|_| Err(anyhow!("the walk took over two minutes")));
    if let Err(e) = walked {
        let url = page.url().await.ok().flatten().unwrap_or_default();
        let html = page.content().await.unwrap_or_else(|e| format!("(no page: {e})"));
        panic!("{e:#}\nat {url}, the page was:\n{html}");
    }
    browser.close().await.expect("close Chromium");
    browser.wait().await.expect("Chromium exits");
    events.await.expect("the CDP event loop ends");

    let [saved] = reading::Entity::find().all(ctx.db.conn()).await.expect("readings").try_into().expect("one reading");
    assert_eq!(saved.meter_id, plot.meter_id);
    assert_eq!(saved.values(), [meter_value!(1_234_500), meter_value!(567_000)]);
    assert_eq!(saved.source, ReadingSource::ControllerWeb);
    assert_eq!(saved.staff_id, Some(controller.id));
    assert_eq!(saved.seal_intact, Some(true));
    assert_eq!(saved.comment.as_deref(), Some("Пломба на месте"));
    let stored =
        service::meters::photos::file(ctx, saved.photo_id.expect("a photo"), false).await.unwrap().expect("stored");
    assert!(stored.starts_with(&ctx.settings.photo_dir) && stored.is_file(), "{}", stored.display());
}

/// The browser, as this machine needs it: headless, no sandbox as root, no background traffic
/// (the network is closed), a fresh profile, a phone-sized touch screen.
fn browser_config(profile: &Path) -> BrowserConfig {
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

/// What a controller does on the phone; every step waits for the page it leads to.
async fn walk(page: &Page, base: &str, plot: &SignedUp, next: &SignedUp, photo: &Path) -> anyhow::Result<()> {
    page.goto(format!("{base}login")).await?;
    fill(page, "#login", "kontroler").await?;
    fill(page, "#password", "kontroler-password").await?;
    click(page, "button[type=submit]").await?;
    wait_for_path(page, "/m").await?;

    click(page, r#"a[href="/m/unread"]"#).await?;
    wait_for_path(page, "/m/unread").await?;
    click(page, &format!(r#"a[href="/m/plots/{}"]"#, plot.plot_id)).await?;
    wait_for_path(page, &format!("/m/plots/{}", plot.plot_id)).await?;
    ensure!(text(page, ".debt").await? == "Задолженности нет", "the plot's debt is shown");

    let form = format!("/m/meters/{}/reading", plot.meter_id);
    click(page, &format!(r#"a[href="{form}"]"#)).await?;
    wait_for_path(page, &form).await?;
    check_phone_layout(page).await?;

    fill(page, "#value0", "1234,5").await?;
    fill(page, "#value1", "567").await?;
    let file_input = element(page, "input[type=file]").await?;
    let attach = SetFileInputFilesParams::builder()
        .file(photo.to_str().context("a UTF-8 temp path")?)
        .backend_node_id(file_input.backend_node_id)
        .build()
        .map_err(|e| anyhow!(e))?;
    page.execute(attach).await?;
    click(page, r#"input[name=seal][value=yes]"#).await?;
    fill(page, "#comment", "Пломба на месте").await?;
    click(page, "main button[type=submit]").await?;

    wait_for_path(page, &format!("/m/plots/{}", plot.plot_id)).await?;
    let flash = text(page, "p.flash.ok").await?;
    ensure!(flash.starts_with("Сохранено:"), "a confirmation, got «{flash}»");
    ensure!(text(page, ".debt").await?.starts_with("Задолженность"), "the new charge shows in the debt");
    let onward = text(page, &format!(r#"a[href="/m/plots/{}"]"#, next.plot_id)).await?;
    ensure!(onward == "Следующий участок: 8", "the next unread plot is offered, got «{onward}»");
    Ok(())
}

/// One-handed use on a 360 px screen: nothing scrolls sideways, every control is a big target.
async fn check_phone_layout(page: &Page) -> anyhow::Result<()> {
    let width: f64 = eval(page, "document.documentElement.scrollWidth").await?;
    ensure!(width <= f64::from(PHONE.0), "the page is {width} px wide, wider than the {} px screen", PHONE.0);
    let submit: f64 =
        eval(page, "document.querySelector('main button[type=submit]').getBoundingClientRect().height").await?;
    ensure!(submit >= 44.0, "the submit button is {submit} px tall");
    // Radio buttons count by their labels, which are what a thumb hits.
    let small: Vec<String> = eval(
        page,
        "[...document.querySelectorAll('a, button, textarea, .choices label, \
              input:not([type=hidden]):not([type=radio])')]
            .filter(e => e.getBoundingClientRect().height < 44)
            .map(e => e.outerHTML.slice(0, 80))",
    )
    .await?;
    ensure!(small.is_empty(), "controls under 44 px tall: {small:#?}");
    Ok(())
}

async fn eval<T: DeserializeOwned>(page: &Page, js: &str) -> anyhow::Result<T> {
    Ok(page.evaluate(js).await?.into_value()?)
}

/// Waits until the document at `path` has loaded (a click's navigation has finished).
async fn wait_for_path(page: &Page, path: &str) -> anyhow::Result<()> {
    let js = &format!("location.pathname === {path:?} && document.readyState === 'complete'");
    // Evaluating fails while a navigation swaps documents: that is «not yet».
    poll(&format!("page {path}"), || async move { Ok(eval::<bool>(page, js).await.unwrap_or(false).then_some(())) })
        .await
}

async fn element(page: &Page, selector: &str) -> anyhow::Result<Element> {
    poll(selector, || async move { Ok(page.find_element(selector).await.ok()) }).await
}

async fn click(page: &Page, selector: &str) -> anyhow::Result<()> {
    element(page, selector).await?.click().await?;
    Ok(())
}

/// Types as a phone keyboard does: focus, then insert the text (any alphabet).
async fn fill(page: &Page, selector: &str, value: &str) -> anyhow::Result<()> {
    click(page, selector).await?;
    page.execute(InsertTextParams::new(value)).await?;
    Ok(())
}

async fn text(page: &Page, selector: &str) -> anyhow::Result<String> {
    let text = element(page, selector).await?.inner_text().await?.unwrap_or_default();
    Ok(text.trim().to_owned())
}

/// Retries `attempt` until it yields something, for at most [`STEP_TIMEOUT`].
async fn poll<T, F, Fut>(what: &str, mut attempt: F) -> anyhow::Result<T>
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
