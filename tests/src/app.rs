//! The whole application, started as `chernomorsk` starts it, on a temporary SQLite file with a
//! fake Telegram Bot API and a clock the test controls.

use std::path::PathBuf;

use bot::{App, Config, RunningApp};
use chrono::{DateTime, Utc};
use service::{Context, ManualClock};
use tempfile::TempDir;

use crate::fake_telegram::FakeTelegram;

pub struct TestApp {
    pub app: RunningApp,
    pub telegram: FakeTelegram,
    pub clock: ManualClock,
    /// Holds the database and photos; removed when the test ends.
    pub dir: TempDir,
    /// An SQLite file in `dir`, or a fresh PostgreSQL schema when `TEST_DATABASE_URL` is set.
    database_url: String,
}

impl TestApp {
    /// Starts the system now, with the bot connected to a fresh fake Bot API.
    pub async fn spawn() -> TestApp {
        Self::spawn_at(Utc::now()).await
    }

    pub async fn spawn_at(now: DateTime<Utc>) -> TestApp {
        Self::spawn_with(now, |_| {}).await
    }

    /// Like [`TestApp::spawn_at`], with the configuration adjusted by `tweak` (e.g. the
    /// accountants' chat, the report schedule).
    pub async fn spawn_with(now: DateTime<Utc>, tweak: impl Fn(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = service::testing::fresh_database_url(dir.path()).await;
        let telegram = FakeTelegram::start().await;
        let clock = ManualClock::new(now);
        let app = start(test_config(&dir, &database_url, Some(&telegram)), &clock, tweak).await;
        TestApp { app, telegram, clock, dir, database_url }
    }

    pub fn ctx(&self) -> &Context {
        &self.app.ctx
    }

    /// Stops the process and starts it again on the same database, Bot API and clock, as after
    /// a crash or a deploy.
    pub async fn restart(self, tweak: impl Fn(&mut Config)) -> TestApp {
        let TestApp { app, telegram, clock, dir, database_url } = self;
        app.stop().await;
        let app = start(test_config(&dir, &database_url, Some(&telegram)), &clock, tweak).await;
        TestApp { app, telegram, clock, dir, database_url }
    }

    pub fn database_url(&self) -> &str {
        &self.database_url
    }
}

/// The configuration of a test instance: everything local, the panel on a free port.
pub fn test_config(dir: &TempDir, database_url: &str, telegram: Option<&FakeTelegram>) -> Config {
    Config {
        database_url: database_url.to_owned(),
        panel_addr: "127.0.0.1:0".parse().expect("address"),
        public_url: "http://127.0.0.1/".parse().expect("url"),
        telegram_token: telegram.map(|t| t.token().to_owned()),
        telegram_api_url: telegram.map(FakeTelegram::api_url),
        webhook_url: None,
        accountants_chat_id: None,
        report_day: 1,
        report_time: chrono::NaiveTime::from_hms_opt(9, 0, 0).expect("time"),
        reminder_days: 20..=25,
        reminder_time: chrono::NaiveTime::from_hms_opt(10, 0, 0).expect("time"),
        reminder_debt_threshold: domain::kopecks!(1000_00),
        time_zone: chrono_tz::Europe::Moscow,
        photo_dir: PathBuf::from(dir.path()).join("photos"),
        backup_dir: PathBuf::from(dir.path()).join("backups"),
        // Off unless a test is about it: a copy every test start is work no other test needs.
        backup_time: bot::config::BackupTime(None),
        jump_factor: domain::JumpPolicy::DEFAULT_FACTOR,
        bootstrap_admin_password: Some("admin-password".to_owned()),
        client_ip_header: None,
        metrics_token: None,
    }
}

/// Starts an instance with `config` (adjusted by `tweak`) on `clock`; tests of several instances
/// start each one with it.
pub async fn start(mut config: Config, clock: &ManualClock, tweak: impl Fn(&mut Config)) -> RunningApp {
    tweak(&mut config);
    // The scheduler looks at the (manual) clock often, so moving it takes effect at once.
    let app = App { config, clock: clock.clock(), scheduler_tick: std::time::Duration::from_millis(20) }
        .start()
        .await
        .expect("the app starts");
    // As Telegram finds a webhook once it is registered: taking updates (until the dispatcher
    // reads them, the inbox answers 503 and Telegram delivers again).
    if let Some(inbox) =
        app.bot.as_ref().filter(|bot| bot.username.get().is_some()).and_then(|bot| bot.webhook.as_ref())
    {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !inbox.is_open() {
            assert!(std::time::Instant::now() < deadline, "the webhook's dispatcher never started");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
    app
}
