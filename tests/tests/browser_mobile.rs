//! The mobile form in a real headless Chromium at a phone's size, against the whole application on
//! a real TCP port: log in, open the «not read» list, open the plot, read a two-zone meter with a
//! photo, and find the reading, its author, seal state and photo in the database.
//!
//! Needs Debian's `chromium` (see [`tests::browser`]).

use std::path::Path;
use std::time::Duration;

use anyhow::ensure;
use chromiumoxide::Page;
use domain::{ReadingSource, Service, TariffPlan, meter_value};
use entities::reading;
use sea_orm::EntityTrait;
use service::register::sign_up::SignedUp;
use service::testing::{new_consumer, sign};
use tests::browser::{PHONE, Phone, attach, click, eval, fill, text, wait_for_path};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_controller_reads_a_meter_from_a_phone() {
    let Some((app, controller)) = tests::browser::field_app().await else {
        return;
    };
    let ctx = app.ctx();
    let owner = new_consumer("Потребитель участка 5", None);
    let plot = sign(ctx, "5", owner, "Э-5", Service::Electricity, TariffPlan::DayNight, &[1000, 500]).await;
    let next_owner = new_consumer("Потребитель участка 8", None);
    let next = sign(ctx, "8", next_owner, "В-8", Service::Water, TariffPlan::Single, &[10]).await;

    let photo_dir = tempfile::tempdir().expect("temp dir");
    let photo = photo_dir.path().join("meter.jpg");
    image::RgbImage::from_fn(1200, 900, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8]))
        .save(&photo)
        .expect("write a JPEG");

    let phone = Phone::launch().await;
    let base = app.app.panel_url();
    phone.run(Duration::from_secs(120), walk(&phone.page, base.as_str(), &plot, &next, &photo)).await;
    phone.close().await;

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

/// What a controller does on the phone; every step waits for the page it leads to.
async fn walk(page: &Page, base: &str, plot: &SignedUp, next: &SignedUp, photo: &Path) -> anyhow::Result<()> {
    page.goto(format!("{base}login")).await?;
    fill(page, "#login", "kontroler").await?;
    fill(page, "#password", "kontroler-password").await?;
    click(page, "button[type=submit]").await?;
    wait_for_path(page, "/m/").await?;

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
    attach(page, "input[type=file]", photo).await?;
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
    // Radio buttons count by their labels, which are what a thumb hits; hidden ones (the empty
    // queue's badge) are no target.
    let small: Vec<String> = eval(
        page,
        "[...document.querySelectorAll('a, button, textarea, .choices label, \
              input:not([type=hidden]):not([type=radio])')]
            .filter(e => e.checkVisibility() && e.getBoundingClientRect().height < 44)
            .map(e => e.outerHTML.slice(0, 80))",
    )
    .await?;
    ensure!(small.is_empty(), "controls under 44 px tall: {small:#?}");
    Ok(())
}
