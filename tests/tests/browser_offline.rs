//! The controller's round without a signal, in a real headless Chromium at a phone's size against
//! the whole application on a real TCP port: open the walk and the plots while there is a signal,
//! lose it (the browser's network emulation), read three meters with photos, reload the page,
//! get the signal back, and find each reading stored once with its photo — and the one lower than
//! the meter's last reading refused, with the message on its queued item. And log out in the
//! middle of keeping pages, to find none of them left on the phone.
//!
//! Needs Debian's `chromium` (see [`tests::browser`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, ensure};
use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::fetch::{
    self, ContinueRequestParams, EventRequestPaused, RequestPattern, RequestStage,
};
use chrono::{SubsecRound, Utc};
use domain::{ReadingSource, Service, TariffPlan, meter_value};
use entities::reading;
use futures::StreamExt;
use sea_orm::EntityTrait;
use service::Context;
use service::register::sign_up::{ConsumerRef, SignedUp};
use service::testing::{new_consumer, sign};
use tests::TestApp;
use tests::browser::{Phone, STEP_TIMEOUT, Signal, attach, click, eval, fill, text, wait_for_path, wait_until};

struct Round {
    water: SignedUp,
    power: SignedUp,
    /// Plot 8, read last month at 50 m³: today's 40 is refused.
    eight: SignedUp,
    photos: [PathBuf; 3],
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_without_a_signal_is_sent_when_the_signal_returns() {
    let Some((app, controller)) = tests::browser::field_app().await else {
        return;
    };
    let ctx = app.ctx();
    let water =
        sign(ctx, "5", new_consumer("Потребитель участка 5", None), "В-5", Service::Water, TariffPlan::Single, &[100])
            .await;
    let same_owner = ConsumerRef::Existing(water.consumer_id);
    let power = sign(ctx, "5", same_owner, "Э-5", Service::Electricity, TariffPlan::DayNight, &[1000, 500]).await;
    let eight =
        sign(ctx, "8", new_consumer("Потребитель участка 8", None), "В-8", Service::Water, TariffPlan::Single, &[10])
            .await;
    let last_month = (Utc::now() - chrono::Duration::days(40)).date_naive().to_string();
    tests::seed::reading(ctx, eight.meter_id, &[meter_value!(50_000)], &last_month).await;

    // A phone camera's photo (shrunk on the phone to 1600 px) and two smaller ones, all different.
    let dir = tempfile::tempdir().expect("temp dir");
    let photos = [(2400, 1800, 0), (900, 700, 1), (800, 600, 2)].map(|(width, height, seed)| {
        let path = dir.path().join(format!("meter-{seed}.jpg"));
        image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, (seed * 90) as u8])
        })
        .save(&path)
        .expect("write a JPEG");
        path
    });
    let round = Round { water, power, eight, photos };

    let signal = Signal::relay_to(app.app.panel_addr).await;
    let phone = Phone::launch().await;
    let started = Utc::now();
    phone.run(Duration::from_secs(180), walk(&phone.page, &signal, &app, &round)).await;
    let finished = Utc::now();
    phone.close().await;

    let stored = readings(ctx).await;
    assert_eq!(stored.len(), 3, "the two readings sent, and plot 8's earlier one: {stored:#?}");
    for (signed, values) in [
        (&round.water, vec![meter_value!(105_000)]),
        (&round.power, vec![meter_value!(1_100_000), meter_value!(560_000)]),
    ] {
        let [saved] =
            stored.iter().filter(|r| r.meter_id == signed.meter_id).collect::<Vec<_>>().try_into().expect("once");
        assert_eq!(saved.values(), values);
        assert_eq!(
            (saved.source, saved.staff_id, saved.seal_intact),
            (ReadingSource::ControllerWeb, Some(controller.id), Some(true))
        );
        // The server's clock stood still and then moved on an hour: the time is the phone's.
        assert!(started <= saved.taken_at && saved.taken_at <= finished, "taken by the phone's clock: {saved:?}");
        // In microseconds: PostgreSQL keeps no finer time.
        assert_eq!(
            saved.created_at.trunc_subsecs(6),
            ctx.now().trunc_subsecs(6),
            "sent when the signal returned, an hour later"
        );
        let photo =
            service::meters::photos::file(ctx, saved.photo_id.expect("a photo"), false).await.unwrap().expect("stored");
        assert!(photo.is_file(), "{}", photo.display());
    }
}

/// The pages kept on the phone show consumers' debts: logging out takes them all off it, those of
/// a keep the service worker is in the middle of too, and without a signal as well.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_out_takes_the_kept_pages_off_the_phone() {
    let Some((app, _)) = tests::browser::field_app().await else {
        return;
    };
    let consumer = new_consumer("Потребитель участка 5", None);
    let water = sign(app.ctx(), "5", consumer, "В-5", Service::Water, TariffPlan::Single, &[100]).await;
    let signal = Signal::relay_to(app.app.panel_addr).await;
    let phone = Phone::launch().await;
    phone.run(Duration::from_secs(60), log_out_while_keeping(&phone.page, &signal, &water)).await;
    phone.close().await;
}

async fn log_out_while_keeping(page: &Page, signal: &Signal, water: &SignedUp) -> anyhow::Result<()> {
    log_in(page, signal).await?;
    open(page, r#"a[href="/m/unread"]"#, "/m/unread").await?;
    open(page, &format!(r#"a[href="{}"]"#, plot_url(water)), &plot_url(water)).await?;
    let pages = ["/m/unread".to_owned(), plot_url(water), form_url(water)];
    wait_until(page, "the plot kept", &kept(&pages)).await?;

    // Without a signal the session cannot end, but the pages go all the same, and the page says so.
    signal.set_offline(page, true).await?;
    click(page, r#"form[action="/logout"] button"#).await?;
    let said = text(page, "main > p.flash.said").await?;
    ensure!(said.starts_with("Выход не подтверждён: нет связи с сервером. Страницы обхода удалены"), "«{said}»");
    let gone = "caches.has('obhod-pages').then(has => !has)";
    ensure!(eval::<bool>(page, gone).await?, "pages kept after logging out offline");
    // The signal returns while the session still stands: this page asks for nothing to be kept
    // (a page whose worker became ready only now would ask), or its message would be untrue.
    signal.set_offline(page, false).await?;
    ensure!(eval::<bool>(page, "keepForms().then(() => true)").await?);
    tokio::time::sleep(Duration::from_secs(1)).await;
    ensure!(eval::<bool>(page, gone).await?, "pages kept again after the message said they were deleted");
    page.reload().await?;
    wait_until(page, "the plot kept again", &kept(&pages[1..])).await?;

    // The logout is held on its way to the server, so that the session stands meanwhile.
    let mut paused = page.event_listener::<EventRequestPaused>().await?;
    let only_logout = RequestPattern::builder().url_pattern("*/logout").request_stage(RequestStage::Request);
    page.execute(fetch::EnableParams::builder().pattern(only_logout.build()).build()).await?;
    // The worker is asked to keep the pages again, as if they were new (a controller who opened
    // a plot and logged out straight away), and the controller logs out at once.
    let log_out = format!(
        r#"caches.delete('obhod-pages').then(() => {{
            const pages = {pages:?}.map(path => new URL(path, location.href).href);
            navigator.serviceWorker.controller.postMessage({{ keep: pages }});
            document.querySelector('form[action="/logout"] button').click();
            return true;
        }})"#
    );
    ensure!(eval::<bool>(page, &log_out).await?);
    let logout = tokio::time::timeout(STEP_TIMEOUT, paused.next()).await?.context("the logout request")?;
    // The keep's pages come within milliseconds on loopback, while the session still stands. None
    // may stay: the worker drops what a keep begun before the logout fetched, and the page deletes
    // the kept pages once the session has ended (either alone would do: this fails without both).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    page.execute(ContinueRequestParams::new(logout.request_id.clone())).await?;
    wait_for_path(page, "/login").await?;
    let left: Vec<String> = eval(
        page,
        "caches.keys().then(async names => names.includes('obhod-pages')
            ? (await (await caches.open('obhod-pages')).keys()).map(r => new URL(r.url).pathname) : [])",
    )
    .await?;
    ensure!(left.is_empty(), "pages left on the phone after logout: {left:?}");
    // And the session ended on the server: the round asks for a login again.
    page.goto(format!("{}m/", signal.url())).await?;
    wait_for_path(page, "/login").await
}

async fn readings(ctx: &Context) -> Vec<reading::Model> {
    reading::Entity::find().all(ctx.db.conn()).await.expect("readings")
}

fn plot_url(signed: &SignedUp) -> String {
    format!("/m/plots/{}", signed.plot_id)
}

fn form_url(signed: &SignedUp) -> String {
    format!("/m/meters/{}/reading", signed.meter_id)
}

/// JavaScript: whether every one of `paths` is kept on the phone.
fn kept(paths: &[String]) -> String {
    format!(
        "caches.open('obhod-pages').then(c => c.keys()).then(keys => {{
            const kept = keys.map(r => new URL(r.url).pathname);
            return {paths:?}.every(path => kept.includes(path));
        }})"
    )
}

/// What a controller does on the phone; every step waits for what it leads to.
async fn walk(page: &Page, signal: &Signal, app: &TestApp, round: &Round) -> anyhow::Result<()> {
    let Round { water, power, eight, photos } = round;
    let ctx = app.ctx();
    log_in(page, signal).await?;

    // With a signal: the walking list and both plots, whose reading forms are kept too.
    open(page, r#"a[href="/m/unread"]"#, "/m/unread").await?;
    // The controller looks at each plot before moving on, long enough for its forms to be kept.
    open(page, &format!(r#"a[href="{}"]"#, plot_url(water)), &plot_url(water)).await?;
    wait_until(page, "the first plot's forms kept", &kept(&[form_url(water), form_url(power)])).await?;
    open(page, &format!(r#"a[href="{}"]"#, plot_url(eight)), &plot_url(eight)).await?;
    let all = ["/m/".to_owned(), "/m/unread".into(), plot_url(water), plot_url(eight), form_url(eight)];
    wait_until(page, "the pages kept on the phone", &kept(&all)).await?;

    signal.set_offline(page, true).await?;
    wait_until(page, "the phone offline", "navigator.onLine === false").await?;
    open(page, r#"header a[href="/m/"]"#, "/m/").await?;
    open(page, r#"a[href="/m/unread"]"#, "/m/unread").await?;
    open(page, &format!(r#"a[href="{}"]"#, plot_url(water)), &plot_url(water)).await?;
    let banner = text(page, "p.kept").await?;
    ensure!(banner.starts_with("Нет сети, данные от ") && banner.len() > "Нет сети, данные от ".len(), "«{banner}»");
    read(page, water, &["105"], &photos[0]).await?;
    read(page, power, &["1100", "560"], &photos[1]).await?;
    open(page, &format!(r#"a[href="{}"]"#, plot_url(eight)), &plot_url(eight)).await?;
    read(page, eight, &["40"], &photos[2]).await?;

    // What waits on the phone: three readings, under keys made there, the big photo shrunk.
    let queued: Vec<(String, String, u32, u32)> = eval(
        page,
        "new Promise(resolve => indexedDB.open('obhod').onsuccess = event => {
            const all = event.target.result.transaction('queue').objectStore('queue').getAll();
            all.onsuccess = async () => resolve(await Promise.all(all.result.map(async item => {
                const bitmap = await createImageBitmap(item.photo);
                return [item.key, item.photo.type, bitmap.width, bitmap.height];
            })));
        })",
    )
    .await?;
    let mut sizes: Vec<_> = queued.iter().map(|(_, kind, width, height)| (kind.as_str(), *width, *height)).collect();
    sizes.sort();
    ensure!(sizes == [("image/jpeg", 800, 600), ("image/jpeg", 900, 700), ("image/jpeg", 1600, 1200)], "{queued:?}");
    ensure!(queued.iter().all(|(key, ..)| key.len() == 36), "keys from crypto.randomUUID: {queued:?}");

    // Closing and opening the page keeps the queue; nothing has reached the server.
    page.reload().await?;
    wait_until(page, "the queue after a reload", "document.querySelectorAll('#queue li.waiting').length === 3").await?;
    ensure!(text(page, "#queue-badge").await? == "Очередь: 3");
    ensure!(text(page, "#queue li.waiting .state").await? == "ждёт сети");
    ensure!(readings(ctx).await.len() == 1, "nothing sent without a signal");

    // The signal returns an hour later: the queue goes, one by one.
    app.clock.advance(chrono::Duration::hours(1));
    signal.set_offline(page, false).await?;
    wait_until(page, "the queue sent", "document.querySelectorAll('#queue li.stored').length === 2").await?;
    wait_until(page, "the refusal", "document.querySelectorAll('#queue li.refused').length === 1").await?;
    let refused = text(page, "#queue li.refused").await?;
    ensure!(
        refused.contains("Участок 8") && refused.contains("отказ: Показание (общая) 40 меньше предыдущего (50)."),
        "«{refused}»"
    );
    ensure!(text(page, "#queue li.stored .state").await? == "сохранено");
    ensure!(text(page, "#queue-badge").await? == "Очередь: 1", "the refusal waits for the controller");

    // The page was closed while sending, its photo still on the phone: the same items go again,
    // under the same keys, and are recognised — still one reading each.
    let resend = "new Promise(async resolve => {
        const canvas = Object.assign(document.createElement('canvas'), { width: 640, height: 480 });
        const photo = await new Promise(done => canvas.toBlob(done, 'image/jpeg', 0.8));
        indexedDB.open('obhod').onsuccess = event => {
            const queue = event.target.result.transaction('queue', 'readwrite').objectStore('queue');
            queue.getAll().onsuccess = all => {
                for (const item of all.target.result.filter(item => item.state === 'stored')) {
                    queue.put(Object.assign(item, { state: 'sending', photo }));
                }
                queue.transaction.oncomplete = () => resolve(true);
            };
        };
    })";
    ensure!(eval::<bool>(page, resend).await?);
    page.reload().await?;
    wait_until(page, "the resent queue", "document.querySelectorAll('#queue li.stored').length === 2").await?;
    ensure!(readings(ctx).await.len() == 3, "a retry stores nothing twice");

    // Dismissed by the controller, the refusal goes.
    click(page, "#queue li.refused button").await?;
    wait_until(page, "the refusal dismissed", "document.querySelector('#queue li.refused') === null").await?;
    Ok(())
}

async fn log_in(page: &Page, signal: &Signal) -> anyhow::Result<()> {
    page.goto(format!("{}login", signal.url())).await?;
    fill(page, "#login", "kontroler").await?;
    fill(page, "#password", "kontroler-password").await?;
    click(page, "button[type=submit]").await?;
    wait_for_path(page, "/m/").await?;
    wait_until(page, "the service worker", "navigator.serviceWorker.controller !== null").await
}

async fn open(page: &Page, link: &str, path: &str) -> anyhow::Result<()> {
    click(page, link).await?;
    wait_for_path(page, path).await
}

/// Reads a meter from its plot's page and comes back to it.
async fn read(page: &Page, meter: &SignedUp, values: &[&str], photo: &Path) -> anyhow::Result<()> {
    open(page, &format!(r#"a[href="{}"]"#, form_url(meter)), &form_url(meter)).await?;
    for (i, value) in values.iter().enumerate() {
        fill(page, &format!("#value{i}"), value).await?;
    }
    attach(page, "input[type=file]", photo).await?;
    click(page, "input[name=seal][value=yes]").await?;
    click(page, "main button[type=submit]").await?;
    wait_for_path(page, &plot_url(meter)).await?;
    let flash = text(page, "p.flash.ok").await.context("the queued reading's message")?;
    ensure!(flash.ends_with("показание в очереди, отправится при появлении сети."), "«{flash}»");
    Ok(())
}
