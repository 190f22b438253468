//! A backup taken while the system runs restores to the same data.

use std::path::Path;

use chrono::{NaiveDate, TimeZone, Utc};
use sea_orm::ConnectionTrait;
use service::demo::{self, DemoSpec};
use service::testing::TestContext;
use service::{Db, backup};

const TABLES: &[&str] =
    &["plots", "consumers", "contracts", "meters", "readings", "charges", "payments", "tariffs", "audit_log"];

async fn counts(db: &Db) -> Vec<(String, i64)> {
    let mut counts = Vec::new();
    for table in TABLES {
        let rows = service::db::query(db.conn(), &format!("SELECT COUNT(*) AS n FROM {table}"), []).await.unwrap();
        counts.push((table.to_string(), rows[0].try_get::<i64>("", "n").unwrap()));
    }
    counts
}

#[tokio::test]
async fn backup_restores_every_row() {
    let t = TestContext::new().await;
    demo::generate(&t.ctx, DemoSpec { plots: 30, months: 4, seed: 3 }).await.unwrap();
    let path = t.dir.path().join("backup.db");
    if t.ctx.db.backend() != sea_orm::DatabaseBackend::Sqlite {
        // PostgreSQL is backed up with pg_dump; the command says so.
        assert!(matches!(backup::write(&t.ctx.db, &path).await, Err(backup::BackupError::NotSqlite)));
        return;
    }

    backup::write(&t.ctx.db, &path).await.unwrap();
    assert!(matches!(backup::write(&t.ctx.db, &path).await, Err(backup::BackupError::Exists(_))));

    // Restoring is opening the copy as the database.
    let restored = Db::open(&service::db::sqlite_url(&path, "rw")).await.unwrap();
    assert_eq!(backup::integrity_check(&restored).await.unwrap(), "ok");
    let original = counts(&t.ctx.db).await;
    assert!(original.iter().any(|(table, n)| table == "readings" && *n > 50), "{original:?}");
    assert_eq!(counts(&restored).await, original);
}

/// Every night from `first`, `nights` of them, as the scheduler takes them.
async fn nights(t: &TestContext, first: NaiveDate, nights: u64) -> Vec<backup::Taken> {
    let mut taken = Vec::new();
    for night in first.iter_days().take(nights as usize) {
        taken.push(backup::take_nightly(&t.ctx, night).await.expect("the night's backup"));
    }
    taken
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// Overwrites a stretch of the file's pages with garbage, as a failing disk would.
fn corrupt(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    assert!(bytes.len() > 12 * 4096, "a database of several pages: {}", bytes.len());
    for b in &mut bytes[2 * 4096..12 * 4096] {
        *b = 0x5A;
    }
    std::fs::write(path, bytes).unwrap();
}

#[tokio::test]
async fn nights_rotate_and_only_sound_copies_of_this_app_are_kept_or_restored() {
    let t = TestContext::new().await;
    if t.ctx.db.backend() != sea_orm::DatabaseBackend::Sqlite {
        assert!(matches!(backup::status(&t.ctx).await.unwrap(), backup::Status::Postgres));
        return;
    }
    demo::generate(&t.ctx, DemoSpec { plots: 10, months: 2, seed: 5 }).await.unwrap();
    let dir = t.ctx.settings.backup_dir.clone();
    // A file of the operator's in the same directory is none of the rotation's business.
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "мои заметки").unwrap();

    // Fifteen nights from Wednesday 28 October 2026 to Wednesday 11 November: the last seven,
    // Sunday 1 November closing its week, 31 October closing its month.
    let taken = nights(&t, date("2026-10-28"), 15).await;
    assert!(taken[..7].iter().all(|n| n.removed.is_empty()));
    let removed: Vec<_> =
        taken.iter().flat_map(|n| &n.removed).map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    let file = |d: &str| format!("chernomorsk-{d}.db");
    let removed_names: Vec<_> = ["2026-10-28", "2026-10-29", "2026-10-30", "2026-11-02", "2026-11-03", "2026-11-04"]
        .into_iter()
        .map(file)
        .collect();
    assert_eq!(removed, removed_names);
    let mut expected: Vec<String> = ["2026-10-31", "2026-11-01", "2026-11-05", "2026-11-06", "2026-11-07"]
        .into_iter()
        .chain(["2026-11-08", "2026-11-09", "2026-11-10", "2026-11-11"])
        .map(file)
        .collect();
    expected.push("notes.txt".into());
    assert_eq!(names(&dir), expected);
    let backup::Status::Sqlite { files, failing } = backup::status(&t.ctx).await.unwrap() else { unreachable!() };
    assert_eq!(files.len(), 9);
    assert_eq!(files[0].date, date("2026-11-11"));
    assert!(files[0].bytes > 4096, "{:?}", files[0]);
    assert!(failing.is_none());
    // The same night again (an attempt that died before it was recorded) keeps its copy.
    let again = backup::take_nightly(&t.ctx, date("2026-11-11")).await.unwrap();
    assert!(again.removed.is_empty());

    // A damaged copy is refused by the check the nightly job runs and by restore.
    let newest = files[0].path.clone();
    let damaged = t.dir.path().join("damaged.db");
    std::fs::copy(&newest, &damaged).unwrap();
    corrupt(&damaged);
    let db_url = t.database_url();
    let at = Utc.with_ymd_and_hms(2026, 11, 12, 10, 0, 0).unwrap();
    for refused in [backup::verify(&damaged).await, backup::restore(&db_url, &damaged, at).await.map(|_| ())] {
        let message = refused.expect_err("a damaged copy").to_string();
        assert!(message.contains("damaged.db повреждена: PRAGMA integrity_check"), "{message}");
    }
    // Not a database, and a database of something else.
    let text = t.dir.path().join("text.db");
    std::fs::write(&text, "SQLite? нет, это текст").unwrap();
    let message = backup::restore(&db_url, &text, at).await.unwrap_err().to_string();
    assert!(message.ends_with("text.db — не база SQLite (файл пуст, обрезан или это другой файл)"), "{message}");
    let foreign = t.dir.path().join("foreign.db");
    let other = Db::open(&service::db::sqlite_url(&t.dir.path().join("other.db"), "rwc")).await.unwrap();
    other.conn().execute_unprepared("DROP TABLE seaql_migrations").await.unwrap();
    backup::write(&other, &foreign).await.unwrap();
    let message = backup::restore(&db_url, &foreign, at).await.unwrap_err().to_string();
    assert!(message.contains("не «Черноморска»"), "{message}");
    // A database with no file to put the copy in, and one restored by its own tools.
    let memory = "база в памяти";
    for (url, says) in
        [("sqlite::memory:", memory), ("sqlite://x.db?mode=memory", memory), ("postgres://u@h/db", "pg_dump")]
    {
        let message = backup::restore(url, &newest, at).await.unwrap_err().to_string();
        assert!(message.contains(says), "{url}: {message}");
    }

    // While the server holds the database, restore refuses and changes nothing.
    let lock = backup::ServerLock::acquire(&db_url).unwrap().expect("an SQLite file has a lock");
    let message = backup::restore(&db_url, &newest, at).await.unwrap_err().to_string();
    assert!(message.starts_with("сервер работает с этой базой"), "{message}");
    drop(lock);

    // Stopped: the copy goes in, the replaced database is kept aside with its log.
    let before = counts(&t.ctx.db).await;
    let database = service::db::sqlite_file(&db_url).unwrap();
    t.ctx.db.conn().clone().close().await.unwrap();
    let restored = backup::restore(&db_url, &newest, at).await.unwrap();
    let aside = restored.kept_aside.expect("the replaced database is kept");
    assert_eq!(aside.file_name().unwrap(), "test.db.replaced-20261112T100000");
    assert!(aside.exists());
    assert_eq!(restored.database, database);
    assert_eq!(restored.migrated, 0);
    let reopened = Db::open(&db_url).await.unwrap();
    assert_eq!(counts(&reopened).await, before);
    reopened.conn().clone().close().await.unwrap();
    // Again in the same second: the first file kept aside stays, the second gets its own name.
    let again = backup::restore(&db_url, &newest, at).await.unwrap();
    assert_eq!(again.kept_aside.unwrap().file_name().unwrap(), "test.db.replaced-20261112T100000-2");
    assert!(aside.exists());
    assert!(newest.exists(), "the copy restored from stays as it was");
}

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}
