//! Two instances on one PostgreSQL database behind a balancer, in webhook mode: Telegram delivers
//! every update to both (as a retry after a timeout would), and each reading, reminder and monthly
//! report still happens exactly once.
//!
//! It needs PostgreSQL (`TEST_DATABASE_URL=postgres://…`; an SQLite file is for one process).
//! Without it the test says so and passes, unless `CHERNOMORSK_REQUIRE_POSTGRES` is set, as CI
//! sets it in its PostgreSQL pass.

use std::time::Duration;

use bot::RunningApp;
use chrono::{TimeZone, Utc};
use domain::{ReadingSource, Service, TariffPlan};
use entities::{delivery, reading};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use service::access::telegram::LinkTarget;
use service::testing::{self, new_consumer};
use service::{Context, ManualClock};
use tests::FakeTelegram;
use tests::app::{start, test_config};
use tests::fake_telegram::{Call, updates};

const ACCOUNTANTS: i64 = -100_777;
const BENDER: i64 = 81_001;
const KOREJKO: i64 = 81_002;

struct Pair {
    instances: [RunningApp; 2],
    telegram: FakeTelegram,
    secret: String,
    next_update: std::sync::atomic::AtomicI64,
}

impl Pair {
    fn ctx(&self) -> &Context {
        &self.instances[0].ctx
    }

    /// Delivers `update` to both instances at once, as Telegram retrying through the balancer
    /// would, and waits until the bot has answered in `chat` and gone quiet.
    async fn deliver(&self, chat: i64, mut update: Value) {
        update["update_id"] = self.next_update.fetch_add(1, std::sync::atomic::Ordering::Relaxed).into();
        let since = self.telegram.calls().len();
        let body = update.to_string();
        let post = |app: &RunningApp| {
            let url = app.panel_url().join("telegram/webhook").unwrap();
            let request = reqwest::Client::new()
                .post(url)
                .header("Content-Type", "application/json")
                .header("X-Telegram-Bot-Api-Secret-Token", &self.secret)
                .body(body.clone());
            async move { request.send().await.expect("the instance answers").status().as_u16() }
        };
        let (a, b) = tokio::join!(post(&self.instances[0]), post(&self.instances[1]));
        assert_eq!((a, b), (200, 200));
        let answered = |c: &Call| (c.is("sendMessage") || c.is("editMessageText")) && c.chat_id() == Some(chat);
        self.telegram.wait_for_call(since, Duration::from_secs(10), answered).await;
        self.telegram.wait_idle().await;
    }

    /// A press of the button carrying `data` on the bot's latest message in `chat` that has it.
    async fn press(&self, chat: i64, data: &str) {
        let message = self
            .telegram
            .calls()
            .into_iter()
            .rev()
            .find(|c| c.chat_id() == Some(chat) && c.callback_data().iter().any(|d| d == data));
        let message_id = message.expect("a message with the button").result["message_id"].as_i64().unwrap();
        self.deliver(chat, updates::callback(chat, data, message_id)).await;
    }

    async fn looked(&self) {
        for app in &self.instances {
            app.scheduler_looked().await;
        }
    }

    /// Waits for a call to `chat` matching `pred`, lets both schedulers look again several times
    /// and once more at `later`, so a second send would have happened by then.
    async fn sent_once_then_settled(
        &self,
        chat: i64,
        pred: impl Fn(&Call) -> bool,
        clock: &ManualClock,
        later: chrono::DateTime<Utc>,
    ) {
        self.telegram.wait_for_call(0, Duration::from_secs(20), |c| c.chat_id() == Some(chat) && pred(c)).await;
        for _ in 0..5 {
            self.looked().await;
        }
        clock.set(later);
        self.looked().await;
    }

    fn sent_to(&self, chat: i64, pred: impl Fn(&Call) -> bool) -> usize {
        self.telegram.calls().iter().filter(|c| c.chat_id() == Some(chat) && pred(c)).count()
    }
}

/// Moscow is UTC+3 all year.
fn moscow(month: u32, day: u32, hour: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, day, hour - 3, 0, 0).unwrap()
}

#[tokio::test]
async fn two_instances_on_one_postgres_record_remind_and_report_once() {
    let postgres = std::env::var("TEST_DATABASE_URL").is_ok_and(|url| url.starts_with("postgres"));
    if !postgres {
        assert!(
            std::env::var_os("CHERNOMORSK_REQUIRE_POSTGRES").is_none(),
            "CHERNOMORSK_REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not a postgres:// URL"
        );
        eprintln!("two_instances: skipped, it needs PostgreSQL (TEST_DATABASE_URL=postgres://…)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let database_url = service::testing::fresh_database_url(dir.path()).await;
    let telegram = FakeTelegram::start().await;
    // 15 March 2026, noon in Moscow.
    let clock = ManualClock::new(moscow(3, 15, 12));
    let config = test_config(&dir, &database_url, Some(&telegram));
    let behind_balancer = |config: &mut bot::Config| {
        config.webhook_url = Some("https://snt.example/".parse().unwrap());
        config.accountants_chat_id = Some(ACCOUNTANTS);
    };
    let first = start(config.clone(), &clock, behind_balancer).await;
    let second = start(config, &clock, behind_balancer).await;
    let registrations = telegram.calls_to("setWebhook");
    assert_eq!(registrations.len(), 2, "each instance registers the same webhook");
    let secret = registrations[0].params["secret_token"].as_str().unwrap().to_owned();
    assert_eq!(registrations[1].params["secret_token"], registrations[0].params["secret_token"]);
    let pair = Pair { instances: [first, second], telegram, secret, next_update: 1.into() };
    let ctx = pair.ctx().clone();

    testing::standard_tariffs(&ctx).await;
    let bender =
        testing::sign(&ctx, "7", new_consumer("Бендер О. И.", None), "W-7", Service::Water, TariffPlan::Single, &[100])
            .await;
    let korejko =
        testing::sign(&ctx, "3", new_consumer("Корейко А. И.", None), "W-3", Service::Water, TariffPlan::Single, &[0])
            .await;
    for (chat, consumer) in [(BENDER, bender.consumer_id), (KOREJKO, korejko.consumer_id)] {
        let code = service::access::telegram::issue_code(&ctx, LinkTarget::Consumer(consumer), None).await.unwrap();
        pair.deliver(chat, updates::text(chat, &format!("/start {}", code.code))).await;
    }

    // A reading through the bot, every step delivered to both instances.
    pair.deliver(BENDER, updates::text(BENDER, "Передать показания")).await;
    pair.deliver(BENDER, updates::text(BENDER, "105")).await;
    pair.press(BENDER, "np").await;
    pair.press(BENDER, "ok").await;
    let accepted = |c: &Call| c.text().is_some_and(|t| t.contains("Показание принято"));
    assert_eq!(pair.sent_to(BENDER, accepted), 1);
    let stored = reading::Entity::find()
        .filter(reading::Column::MeterId.eq(bender.meter_id))
        .filter(reading::Column::Source.eq(ReadingSource::ConsumerBot))
        .all(ctx.db.conn())
        .await
        .unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");

    // The reminder window opens on the 20th at 10:00: Корейко has no reading this month.
    clock.set(moscow(3, 20, 10));
    let reminded = |c: &Call| c.is("sendMessage") && c.text().is_some_and(|t| t.starts_with("Напоминаем"));
    pair.sent_once_then_settled(KOREJKO, reminded, &clock, moscow(3, 22, 12)).await;
    assert_eq!(pair.sent_to(KOREJKO, reminded), 1);
    assert_eq!(pair.sent_to(BENDER, reminded), 0, "Бендер sent his reading");

    // 1 April, 09:00: March's report goes to the accountants once.
    clock.set(moscow(4, 1, 9));
    let report = |c: &Call| c.is("sendDocument") && c.text() == Some("Отчёт за март 2026");
    pair.sent_once_then_settled(ACCOUNTANTS, report, &clock, moscow(4, 2, 12)).await;
    assert_eq!(pair.sent_to(ACCOUNTANTS, report), 1);
    // With February's, overdue when both started: two reports in all.
    assert_eq!(pair.sent_to(ACCOUNTANTS, |c| c.is("sendDocument")), 2);
    let rows = delivery::Entity::find().all(ctx.db.conn()).await.unwrap();
    assert!(rows.iter().all(|r| r.sent_at.is_some()), "{rows:?}");

    let Pair { instances: [first, second], .. } = pair;
    first.stop().await;
    second.stop().await;
}
