//! A backup taken while the system runs restores to the same data.

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
    let restored = Db::open(&format!("sqlite://{}", path.display())).await.unwrap();
    assert_eq!(backup::integrity_check(&restored).await.unwrap(), "ok");
    let original = counts(&t.ctx.db).await;
    assert!(original.iter().any(|(table, n)| table == "readings" && *n > 50), "{original:?}");
    assert_eq!(counts(&restored).await, original);
}
