//! Telegram out of reach when the system starts, or refusing the webhook's address: the panel
//! runs at once, and the bot connects by itself once Telegram takes it, without a restart.

use std::time::Duration;

use bot::{Config, RunningApp};
use service::ManualClock;
use tempfile::TempDir;
use tests::fake_telegram::{AwayPort, FakeTelegram, TOKEN, updates};

const USER: i64 = 4_242;

/// The system started while Telegram does not answer, with `tweak` applied to its settings; and
/// where Telegram will be: a port held, that nothing listens on yet.
async fn start_without_telegram(tweak: impl Fn(&mut Config)) -> (TempDir, RunningApp, AwayPort) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = service::testing::fresh_database_url(dir.path()).await;
    let telegram_at = AwayPort::hold();
    let mut config = tests::app::test_config(&dir, &url, None);
    config.telegram_token = Some(TOKEN.to_owned());
    config.telegram_api_url = Some(format!("http://{}/", telegram_at.addr()).parse().unwrap());
    let app = tests::app::start(config, &ManualClock::new(chrono::Utc::now()), tweak).await;
    (dir, app, telegram_at)
}

#[tokio::test]
async fn the_panel_runs_while_telegram_is_out_of_reach_and_the_bot_joins_when_it_answers() {
    let (_dir, app, telegram_at) = start_without_telegram(|_| {}).await;

    let health = reqwest::get(app.panel_url().join("healthz").unwrap()).await.unwrap();
    assert_eq!((health.status().as_u16(), health.text().await.unwrap()), (200, "ok".to_owned()));
    assert!(app.bot.as_ref().is_some_and(|bot| bot.username.get().is_none()), "not connected yet");

    // Telegram answers again: the bot asks who it is and starts taking updates.
    let telegram = FakeTelegram::start_at(telegram_at).await;
    telegram.push_update(updates::text(USER, "/start"));
    let greeting = telegram.next_text_to(USER, 0).await;
    assert!(greeting.contains("бот садового товарищества «Черноморск»"), "{greeting}");
    assert_eq!(telegram.calls()[0].method, "getMe");
    let username = app.bot.as_ref().and_then(|bot| bot.username.get().cloned());
    assert_eq!(username.as_deref(), Some("chernomorsk_test_bot"));
    tokio::time::timeout(Duration::from_secs(30), app.stop()).await.expect("stops");
}

#[tokio::test]
async fn stopping_while_telegram_is_out_of_reach_does_not_wait_for_it() {
    let (_dir, app, _telegram_at) = start_without_telegram(|_| {}).await;
    tokio::time::timeout(Duration::from_secs(10), app.stop()).await.expect("stops at once");
}

/// In webhook mode the inbox is served from the start, but takes no update until the bot has
/// reached Telegram: 503, so Telegram delivers it again, maybe to an instance that can answer.
#[tokio::test]
async fn the_webhook_takes_no_update_before_the_bot_has_reached_telegram() {
    let webhook = |config: &mut Config| config.webhook_url = Some("https://snt.example/".parse().unwrap());
    let (_dir, app, telegram_at) = start_without_telegram(webhook).await;
    let endpoint = app.panel_url().join("telegram/webhook").unwrap();
    let mut update = updates::text(USER, "/start");
    update["update_id"] = 1.into();
    let post = || {
        reqwest::Client::new()
            .post(endpoint.clone())
            .header("Content-Type", "application/json")
            .header("X-Telegram-Bot-Api-Secret-Token", bot::webhook::secret(TOKEN))
            .body(update.to_string())
            .send()
    };
    assert_eq!(post().await.unwrap().status().as_u16(), 503);

    let telegram = FakeTelegram::start_at(telegram_at).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while post().await.unwrap().status().as_u16() == 503 {
        assert!(std::time::Instant::now() < deadline, "the webhook never opened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let greeting = telegram.next_text_to(USER, 0).await;
    assert!(greeting.contains("бот садового товарищества «Черноморск»"), "{greeting}");
    assert_eq!(telegram.calls_to("setWebhook").len(), 1);
    tokio::time::timeout(Duration::from_secs(30), app.stop()).await.expect("stops");
}

/// A webhook address Telegram refuses (on a first deployment, a DNS record still spreading) does
/// not stop the system: the panel runs, and the bot registers the webhook when Telegram takes it.
#[tokio::test]
async fn a_refused_webhook_address_is_tried_again_while_the_panel_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = service::testing::fresh_database_url(dir.path()).await;
    let telegram = FakeTelegram::start().await;
    telegram.refuse_next("setWebhook", "Bad Request: bad webhook: Failed to resolve host: Name or service not known");
    let config = tests::app::test_config(&dir, &url, Some(&telegram));
    let webhook = |config: &mut Config| config.webhook_url = Some("https://snt.example/".parse().unwrap());
    let app = tests::app::start(config, &ManualClock::new(chrono::Utc::now()), webhook).await;
    let health = reqwest::get(app.panel_url().join("healthz").unwrap()).await.unwrap();
    assert_eq!(health.status().as_u16(), 200);

    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while telegram.calls_to("setWebhook").iter().all(|call| call.result.is_null()) {
        assert!(std::time::Instant::now() < deadline, "the webhook was not registered again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(telegram.calls_to("setWebhook").len(), 2, "refused once, then taken");
    tokio::time::timeout(Duration::from_secs(30), app.stop()).await.expect("stops");
}
