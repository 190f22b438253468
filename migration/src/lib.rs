//! The schema, as portable migrations: nothing here is SQLite-only, so the same migrations build
//! the PostgreSQL schema.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_initial;
mod m20261127_000001_seal_events;
mod m20261128_000001_ledger_indexes;
mod m20261129_000001_link_code_hashes;
mod m20261130_000001_session_owners;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_initial::Migration),
            Box::new(m20261127_000001_seal_events::Migration),
            Box::new(m20261128_000001_ledger_indexes::Migration),
            Box::new(m20261129_000001_link_code_hashes::Migration),
            Box::new(m20261130_000001_session_owners::Migration),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm_migration::sea_orm::{ConnectionTrait, Database};

    #[tokio::test]
    async fn migrates_up_and_down_on_a_sqlite_file() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display());
        let db = Database::connect(&url).await.unwrap();
        let count_tables = || async {
            db.query_all_raw(sea_orm_migration::sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            ))
            .await
            .unwrap()
            .len()
        };

        Migrator::up(&db, None).await.unwrap();
        let up = count_tables().await;
        assert_eq!(up, m20261126_000001_initial::TABLE_COUNT + 2, "the first schema, seal_events and seaql_migrations");
        // Running again is a no-op, as on every start.
        Migrator::up(&db, None).await.unwrap();
        Migrator::down(&db, None).await.unwrap();
        assert_eq!(count_tables().await, 1, "only seaql_migrations is left");
        Migrator::up(&db, None).await.unwrap();
        assert_eq!(count_tables().await, up);
    }

    #[tokio::test]
    async fn link_codes_issued_before_hashing_are_hashed_in_place() {
        use sea_orm_migration::sea_orm::Statement;
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display());
        let db = Database::connect(&url).await.unwrap();
        let hashing = "m20261129_000001_link_code_hashes";
        let before_hashing = Migrator::migrations().iter().position(|m| m.name() == hashing).unwrap();
        Migrator::up(&db, Some(before_hashing as u32)).await.unwrap();
        db.execute_unprepared(
            "INSERT INTO link_codes (code, expires_at, created_at) \
             VALUES ('ABCD2345', '2030-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        )
        .await
        .unwrap();

        Migrator::up(&db, None).await.unwrap();
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), "SELECT code_hash FROM link_codes"))
            .await
            .unwrap()
            .unwrap();
        let hash: String = row.try_get("", "code_hash").unwrap();
        // `printf ABCD2345 | sha256sum`
        assert_eq!(hash, "a00d76646eba91b057841554d5c8334f498dc592ed744bce404f21fe271cd36e");
    }
}
