//! Webhook mode: Telegram posts updates to the panel's server, which checks the secret Telegram
//! was given, and the bot answers each update once; the Bot API is never polled.

use serde_json::{Value, json};
use service::testing::default_now;
use tests::TestApp;
use tests::fake_telegram::updates;
use url::Url;

const USER: i64 = 51_001;

fn webhook_mode(config: &mut bot::Config) {
    config.webhook_url = Some("https://snt.example/".parse().unwrap());
}

/// Posts `body` as Telegram would, with the secret header when given; returns the HTTP status.
async fn post(url: &Url, secret: Option<&str>, body: String) -> u16 {
    let mut request = reqwest::Client::new().post(url.clone()).header("Content-Type", "application/json").body(body);
    if let Some(secret) = secret {
        request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
    }
    request.send().await.expect("the panel answers").status().as_u16()
}

fn replies(app: &TestApp) -> usize {
    app.telegram.calls_to("sendMessage").iter().filter(|c| c.chat_id() == Some(USER)).count()
}

#[tokio::test]
async fn updates_arrive_by_webhook_with_the_secret_and_are_handled_once() {
    let app = TestApp::spawn_with(default_now(), webhook_mode).await;
    let registered = app.telegram.calls_to("setWebhook");
    let [registration] = &registered[..] else { panic!("setWebhook once: {registered:?}") };
    assert_eq!(registration.params["url"], "https://snt.example/telegram/webhook");
    // teloxide sends setWebhook as multipart (it may carry a certificate): lists come as JSON text.
    let allowed: Value = serde_json::from_str(registration.params["allowed_updates"].as_str().unwrap()).unwrap();
    assert_eq!(allowed, json!(["message", "callback_query"]));
    let secret = registration.params["secret_token"].as_str().expect("a secret").to_owned();
    // The balancer forwards https://snt.example/telegram/webhook to the panel's server.
    let endpoint = app.app.panel_url().join("telegram/webhook").unwrap();
    let mut start = updates::text(USER, "/start");
    start["update_id"] = 7.into();
    let start = start.to_string();

    assert_eq!(post(&endpoint, None, start.clone()).await, 401);
    assert_eq!(post(&endpoint, Some("not-the-secret"), start.clone()).await, 401);
    app.telegram.wait_idle().await;
    assert_eq!(replies(&app), 0);

    let since = app.telegram.calls().len();
    assert_eq!(post(&endpoint, Some(&secret), start.clone()).await, 200);
    let greeting = app.telegram.next_text_to(USER, since).await;
    assert!(greeting.contains("бот садового товарищества «Черноморск»"), "{greeting}");
    // Telegram delivering it again, here or at another instance.
    assert_eq!(post(&endpoint, Some(&secret), start).await, 200);
    app.telegram.wait_idle().await;
    assert_eq!(replies(&app), 1);

    assert_eq!(post(&endpoint, Some(&secret), "{not json".into()).await, 400);
    let huge = json!({"update_id": 8, "padding": "x".repeat(2 << 20)});
    assert_eq!(post(&endpoint, Some(&secret), huge.to_string()).await, 413);

    // The panel is served beside the webhook as before: its root leads to the login page.
    let health = reqwest::get(app.app.panel_url().join("healthz").unwrap()).await.unwrap();
    assert_eq!((health.status().as_u16(), health.text().await.unwrap()), (200, "ok".to_owned()));
    let root = reqwest::get(app.app.panel_url()).await.unwrap();
    assert_eq!((root.status().as_u16(), root.url().path()), (200, "/login"));

    assert_eq!(app.telegram.polls(), 0, "the Bot API is not polled in webhook mode");
    // Other instances still serve the webhook: stopping leaves it registered.
    let TestApp { app: running, telegram, .. } = app;
    running.stop().await;
    assert!(telegram.calls_to("deleteWebhook").is_empty());
}

#[tokio::test]
async fn polling_mode_does_not_register_a_webhook() {
    let app = TestApp::spawn_at(default_now()).await;
    // The dispatcher starts polling in the background; give it a moment to ask.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while app.telegram.polls() == 0 {
        assert!(std::time::Instant::now() < deadline, "the bot never polled for updates");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(app.telegram.calls_to("setWebhook").is_empty());
}
