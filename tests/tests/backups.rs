//! The nightly backup as the running system takes it: nights simulated with the test clock, the
//! copies appearing and the older ones going, a failure told to the admins once a day, the panel's
//! page, and `chernomorsk restore` refusing while the server runs.

use std::path::Path;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use clap::Parser;
use domain::Role;
use entities::delivery;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use service::access::telegram::LinkTarget;
use service::testing;
use tests::bot_chat::BotChat;
use tests::fake_telegram::Call;
use tests::{PanelClient, TestApp};

const ADMIN_CHAT: i64 = 61_001;

fn nightly(config: &mut bot::Config) {
    config.backup_time = bot::config::BackupTime(Some(chrono::NaiveTime::from_hms_opt(3, 0, 0).unwrap()));
    config.time_zone = chrono_tz::Europe::Moscow;
}

fn copies(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

fn alert(call: &Call) -> bool {
    call.is("sendMessage")
        && call.chat_id() == Some(ADMIN_CHAT)
        && call.text().is_some_and(|t| t.starts_with("Резервная копия базы за"))
}

/// Runs `chernomorsk restore FILE` on the app's database, as the binary would.
async fn restore(database_url: &str, file: &Path) -> anyhow::Result<()> {
    let args = ["chernomorsk", "--database-url", database_url, "restore", file.to_str().unwrap()];
    bot::cli::Cli::try_parse_from(args)?.run().await
}

/// `/backups` as the admin «glavbukh» sees it, logged in afresh (the test clock outruns sessions).
async fn backups_page(app: &TestApp) -> tests::Page {
    let admin = PanelClient::new(app.ctx());
    let landed = admin.login("glavbukh", "glavbukh-password").await;
    admin.get(landed.location().expect("login redirects")).await.assert_ok();
    admin.get("/backups").await
}

#[tokio::test]
async fn nights_of_backups_rotate_a_failure_is_told_once_a_day_and_restore_waits_for_the_stop() {
    // Monday 2 November 2026, 03:30 in Moscow: that night's copy is due at start.
    let start = Utc.with_ymd_and_hms(2026, 11, 2, 0, 30, 0).unwrap();
    let app = TestApp::spawn_with(start, nightly).await;
    if app.ctx().db.backend() != sea_orm::DatabaseBackend::Sqlite {
        // PostgreSQL: the job only says what to run; the panel says it too.
        app.app.scheduler_looked().await;
        assert!(copies(&app.dir.path().join("backups")).is_empty());
        testing::staff(app.ctx(), "glavbukh", Role::Admin).await;
        backups_page(&app).await.assert_ok().assert_contains("pg_dump --format=custom");
        return;
    }
    testing::standard_tariffs(app.ctx()).await;
    let dir = app.dir.path().join("backups");
    app.app.scheduler_looked().await;
    assert_eq!(copies(&dir), ["chernomorsk-2026-11-02.db"]);

    // Fourteen more nights, to Monday the 16th: the last seven, and Sunday the 8th and the 15th
    // closing their weeks; the rest went as each new copy came.
    for _ in 0..14 {
        app.clock.advance(chrono::Duration::days(1));
        app.app.scheduler_looked().await;
    }
    let expected: Vec<String> =
        [8, 10, 11, 12, 13, 14, 15, 16].iter().map(|d| format!("chernomorsk-2026-11-{d:02}.db")).collect();
    assert_eq!(copies(&dir), expected);
    let rows =
        delivery::Entity::find().filter(delivery::Column::Kind.eq("backup")).all(app.ctx().db.conn()).await.unwrap();
    assert_eq!(rows.len(), 15);
    assert!(rows.iter().all(|r| r.sent_at.is_some() && r.attempts == 1), "{rows:?}");

    // The panel shows the last copy and the eight kept.
    testing::staff(app.ctx(), "glavbukh", Role::Admin).await;
    let page = backups_page(&app).await;
    page.assert_ok()
        .assert_contains("Последняя копия — за ночь <strong>16.11.2026</strong>")
        .assert_contains("chernomorsk-2026-11-08.db");
    assert_eq!(page.body.matches("<td><code>chernomorsk-2026-11-").count(), 8);

    // The directory becomes unusable (here a file where it was): the admin on Telegram is told,
    // once for the night however often it is retried, and again the next night.
    let member = testing::staff(app.ctx(), "admin-tg", Role::Admin).await;
    BotChat::new(&app.telegram, ADMIN_CHAT).link(app.ctx(), LinkTarget::Staff(member.id)).await;
    std::fs::rename(&dir, app.dir.path().join("moved")).unwrap();
    std::fs::write(&dir, "not a directory").unwrap();
    let seen = app.telegram.calls().len();
    app.clock.advance(chrono::Duration::days(1));
    let told = app.telegram.wait_for_call(seen, Duration::from_secs(10), alert).await;
    assert!(
        told.text().unwrap().starts_with("Резервная копия базы за 17.11.2026 не сделана: создание каталога"),
        "{told:?}"
    );
    for _ in 0..5 {
        app.clock.advance(chrono::Duration::minutes(30));
        app.app.scheduler_looked().await;
    }
    assert_eq!(app.telegram.count_since(seen, alert), 1);
    backups_page(&app).await.assert_contains("Копия за 17.11.2026 не сделана");
    app.clock.advance(chrono::Duration::days(1));
    app.telegram
        .wait_for_call(seen + 1, Duration::from_secs(10), |c| alert(c) && c.text().unwrap().contains("18.11.2026"))
        .await;
    // The alert goes before the failure is recorded: let that look finish, so its retry time is
    // counted from this clock, not from the one advanced below.
    app.app.scheduler_looked().await;

    // Mended: the next retry takes the night's copy.
    std::fs::remove_file(&dir).unwrap();
    std::fs::rename(app.dir.path().join("moved"), &dir).unwrap();
    app.clock.advance(chrono::Duration::hours(1));
    app.app.scheduler_looked().await;
    app.app.scheduler_looked().await;
    assert!(copies(&dir).contains(&"chernomorsk-2026-11-18.db".to_owned()), "{:?}", copies(&dir));

    // Restore refuses while the server runs, and works once it is stopped.
    let newest = dir.join("chernomorsk-2026-11-18.db");
    let url = app.database_url().to_owned();
    let refused = restore(&url, &newest).await.unwrap_err().to_string();
    assert!(refused.starts_with("сервер работает с этой базой"), "{refused}");
    let TestApp { app: running, dir: temp, .. } = app;
    running.stop().await;
    restore(&url, &newest).await.expect("restored with the server stopped");
    let aside = copies(temp.path()).into_iter().filter(|n| n.starts_with("test.db.replaced-")).count();
    assert!(aside >= 1, "the replaced database is kept: {:?}", copies(temp.path()));
}
