//! A flood of logins against the real panel app in this process: refused cheaply where it comes
//! from one address, hashed one per core where it comes from many, with memory bounded and the
//! panel answering throughout. Alone in its test binary, so that the process's peak memory is
//! this test's.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use domain::Role;
use futures::future::join_all;
use poem::http::StatusCode;
use service::testing::TestContext;
use tests::memory::{peak_mb, reset_peak, rss_mb};
use tests::{Page, PanelClient};

/// Parallel logins in each flood.
const FLOOD: u32 = 200;
/// The target for the peak above the idle process: every login used to hash at once
/// (19 MiB each); now at most one hash per core runs.
const TARGET_MB: f64 = 300.0;

/// Sends one wrong login from each browser at once, while another browser keeps asking
/// `/healthz`; returns the answers and how many health checks were answered.
async fn flood(browsers: &[Arc<PanelClient>], watcher: &PanelClient) -> (Vec<Page>, usize) {
    let logins = browsers.iter().cloned().map(|browser| {
        tokio::spawn(async move { browser.post_form("/login", &[("login", "buh"), ("password", "a guess")]).await })
    });
    let answers = tokio::spawn(join_all(logins));
    let mut healthy = 0;
    while !answers.is_finished() {
        assert_eq!(watcher.get("/healthz").await.status, StatusCode::OK);
        healthy += 1;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let answers = answers.await.expect("the flood ends").into_iter().map(|a| a.expect("answered")).collect();
    (answers, healthy)
}

fn count(answers: &[Page], status: StatusCode) -> usize {
    answers.iter().filter(|page| page.status == status).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_flood_is_refused_cheaply_and_hashed_one_per_core() {
    let t = TestContext::new().await;
    t.staff("buh", Role::Accountant).await;
    let server = PanelClient::new(&t.ctx);
    let machine = |n: u32| IpAddr::V4(Ipv4Addr::from(0x0A00_0000 + n));
    let one_address: Vec<Arc<PanelClient>> = (0..FLOOD).map(|_| Arc::new(server.browser_at(machine(0)))).collect();
    let many: Vec<Arc<PanelClient>> = (1..=FLOOD).map(|n| Arc::new(server.browser_at(machine(n)))).collect();
    for browser in one_address.iter().chain(&many) {
        browser.get("/login").await.assert_ok();
    }
    // Warm up what the first login sets up (the pool's connections, argon2's first allocation).
    let watcher = server.browser_at(machine(10_000));
    watcher.login("buh", "buh-password").await;
    let idle = rss_mb().expect("/proc/self/status");
    assert!(reset_peak(), "the peak can be reset");

    let (answers, healthy_one) = flood(&one_address, &watcher).await;
    assert_eq!(count(&answers, StatusCode::UNAUTHORIZED), service::access::throttle::BURST as usize);
    assert_eq!(
        count(&answers, StatusCode::TOO_MANY_REQUESTS),
        (FLOOD - service::access::throttle::BURST as u32) as usize
    );
    let peak_one = peak_mb().expect("/proc/self/status") - idle;

    let (answers, healthy_many) = flood(&many, &watcher).await;
    assert_eq!(count(&answers, StatusCode::UNAUTHORIZED), FLOOD as usize, "each address's first attempt is checked");
    let (peak_many, after_many) = (peak_mb().expect("/proc/self/status") - idle, rss_mb().expect("/proc/self/status"));
    assert!(healthy_many > 0, "/healthz answered during the flood");

    eprintln!(
        "login flood: idle {:.1} MB resident; {FLOOD} logins from one address: peak +{peak_one:.1} MB \
         ({healthy_one} health checks answered meanwhile); {FLOOD} from {FLOOD} addresses: peak +{peak_many:.1} MB, \
         resident after +{:.1} MB ({healthy_many} health checks answered meanwhile)",
        idle,
        after_many - idle,
    );
    assert!(peak_many < TARGET_MB, "peak +{peak_many:.1} MB above the idle process");
}
