//! The schema, as portable migrations: nothing here is SQLite-only, so the same migrations build
//! the PostgreSQL schema.

pub use sea_orm_migration::prelude::*;

/// The whole of a migration that only adds indexes: `table (columns)` for each pair of `$added`,
/// made on the way up and dropped on the way down, named by `m20261126_000001_initial::index`.
macro_rules! adds_indexes {
    ($added:expr) => {
        #[derive(DeriveMigrationName)]
        pub struct Migration;

        #[async_trait::async_trait]
        impl MigrationTrait for Migration {
            async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
                for (table, cols) in $added {
                    manager.create_index($crate::m20261126_000001_initial::index(table, cols)).await?;
                }
                Ok(())
            }

            async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
                for (table, cols) in $added {
                    manager.drop_index($crate::m20261126_000001_initial::drop_index(table, cols)).await?;
                }
                Ok(())
            }
        }
    };
}

mod m20261126_000001_initial;
mod m20261127_000001_seal_events;
mod m20261128_000001_ledger_indexes;
mod m20261129_000001_link_code_hashes;
mod m20261130_000001_import_drafts;
mod m20261130_000002_session_owners;
mod m20261201_000001_quarantine_out_of_range;
mod m20261201_000002_scoped_reading_keys;
mod m20261202_000001_bank_details;
mod m20261202_000002_ledger_months;
mod m20261203_000001_ledger_read_indexes;
mod m20261203_000002_bank_documents;
mod m20261203_000003_payment_reversals;
mod m20261203_000004_network_lines;
mod m20261203_000005_announcements;
mod m20261203_000006_pending_deliveries;
mod m20261204_000001_request_tasks;
mod m20261204_000002_announcement_photos;
mod m20261205_000001_reading_moments;
mod m20261206_000001_last_readings;
mod m20261207_000001_delivery_parts;
mod m20261207_000002_closed_month_balances;
mod m20261208_000001_document_notes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_initial::Migration),
            Box::new(m20261127_000001_seal_events::Migration),
            Box::new(m20261128_000001_ledger_indexes::Migration),
            Box::new(m20261129_000001_link_code_hashes::Migration),
            Box::new(m20261130_000001_import_drafts::Migration),
            Box::new(m20261130_000002_session_owners::Migration),
            Box::new(m20261201_000001_quarantine_out_of_range::Migration),
            Box::new(m20261201_000002_scoped_reading_keys::Migration),
            Box::new(m20261202_000001_bank_details::Migration),
            Box::new(m20261202_000002_ledger_months::Migration),
            Box::new(m20261203_000001_ledger_read_indexes::Migration),
            Box::new(m20261203_000002_bank_documents::Migration),
            Box::new(m20261203_000003_payment_reversals::Migration),
            Box::new(m20261203_000004_network_lines::Migration),
            Box::new(m20261203_000005_announcements::Migration),
            Box::new(m20261203_000006_pending_deliveries::Migration),
            Box::new(m20261204_000001_request_tasks::Migration),
            Box::new(m20261204_000002_announcement_photos::Migration),
            Box::new(m20261205_000001_reading_moments::Migration),
            Box::new(m20261206_000001_last_readings::Migration),
            Box::new(m20261207_000001_delivery_parts::Migration),
            Box::new(m20261207_000002_closed_month_balances::Migration),
            Box::new(m20261208_000001_document_notes::Migration),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm_migration::sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

    /// A new SQLite file in a temporary directory (removed when the directory is dropped).
    async fn sqlite_file() -> (tempfile::TempDir, DatabaseConnection) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display());
        (dir, Database::connect(&url).await.unwrap())
    }

    /// How many migrations come before the one named `name`.
    fn steps_before(name: &str) -> u32 {
        Migrator::migrations().iter().position(|m| m.name() == name).expect("a migration of that name") as u32
    }

    async fn texts(db: &DatabaseConnection, sql: &str) -> Vec<String> {
        let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
        rows.iter().map(|row| row.try_get::<String>("", "t").unwrap()).collect()
    }

    /// A migration's name is what a database records as applied: one made by `adds_indexes!`
    /// must still be named by its own file, not by the file the macro lives in.
    #[test]
    fn migrations_are_named_by_their_files() {
        let names: Vec<String> = Migrator::migrations().iter().map(|m| m.name().to_owned()).collect();
        for name in [
            "m20261203_000001_ledger_read_indexes",
            "m20261205_000001_reading_moments",
            "m20261206_000001_last_readings",
        ] {
            assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
        }
        assert!(names.is_sorted(), "{names:?}");
    }

    #[tokio::test]
    async fn migrates_up_and_down_on_a_sqlite_file() {
        let (_dir, db) = sqlite_file().await;
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
        assert_eq!(
            up,
            m20261126_000001_initial::TABLE_COUNT + 14,
            "the first schema, seal_events, import_drafts, bank_details, closed_periods, period_balances, \
             bank_documents, payer_accounts, network_lines, line_plots, loss_decisions, announcements, \
             member_requests, request_messages and seaql_migrations"
        );
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
        let (_dir, db) = sqlite_file().await;
        Migrator::up(&db, Some(steps_before("m20261129_000001_link_code_hashes"))).await.unwrap();
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

    #[tokio::test]
    async fn amounts_out_of_bounds_move_to_the_audit_log() {
        let (_dir, db) = sqlite_file().await;
        Migrator::up(&db, Some(steps_before("m20261201_000001_quarantine_out_of_range"))).await.unwrap();
        // A real price, one of a trillion rubles (accepted before prices were bounded), one of
        // i64::MAX and a negative one.
        db.execute_unprepared(
            "INSERT INTO tariffs (service, zone, price_kopecks, valid_from, created_at) VALUES \
             ('water', 'single', 4000, '2020-01-01', '2026-01-01T00:00:00Z'), \
             ('water', 'single', 99999999999900, '2026-02-01', '2026-02-01T00:00:00Z'), \
             ('electricity', 'single', 9223372036854775807, '2026-02-01', '2026-02-01T00:00:00Z'), \
             ('electricity', 'day', -5, '2026-02-01', '2026-02-01T00:00:00Z')",
        )
        .await
        .unwrap();

        Migrator::up(&db, None).await.unwrap();
        let left = texts(&db, "SELECT CAST(price_kopecks AS TEXT) AS t FROM tariffs").await;
        assert_eq!(left, ["4000"]);
        let moved =
            texts(&db, "SELECT details AS t FROM audit_log WHERE action = 'ledger.quarantine' ORDER BY entity_id")
                .await;
        assert_eq!(moved.len(), 3);
        let first: serde_json::Value = serde_json::from_str(&moved[0]).unwrap();
        assert_eq!(first["row"]["price_kopecks"], "99999999999900");
        assert_eq!(first["row"]["valid_from"], "2026-02-01");
        assert!(first["reason"].as_str().unwrap().contains("цена вне пределов"), "{first}");
        assert!(moved[1].contains("9223372036854775807"), "{}", moved[1]);
        let entities = texts(&db, "SELECT DISTINCT entity AS t FROM audit_log").await;
        assert_eq!(entities, ["tariff"]);
    }

    #[tokio::test]
    async fn reading_keys_stored_before_scoping_are_scoped_in_place_and_back() {
        use sea_orm_migration::sea_orm::Statement;
        let (_dir, db) = sqlite_file().await;
        Migrator::up(&db, Some(steps_before("m20261201_000002_scoped_reading_keys"))).await.unwrap();
        // A controller's, a consumer's and a system reading; their meter and people do not matter.
        db.execute_unprepared("PRAGMA foreign_keys = OFF").await.unwrap();
        for (id, staff, consumer, key) in [
            (1, "3", "NULL", "'web:k'"),
            (2, "NULL", "4", "'tg:5:n'"),
            (3, "NULL", "NULL", "'x'"),
            (4, "3", "NULL", "NULL"),
        ] {
            db.execute_unprepared(&format!(
                "INSERT INTO readings (id, meter_id, period, taken_at, value_t1, source, staff_id, consumer_id, \
                 status, idempotency_key, created_at) VALUES ({id}, 7, '2026-03', '2026-03-01T00:00:00Z', 1, \
                 'panel', {staff}, {consumer}, 'accepted', {key}, '2026-03-01T00:00:00Z')"
            ))
            .await
            .unwrap();
        }
        let keys = || async {
            let select = "SELECT idempotency_key FROM readings ORDER BY id";
            let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), select)).await.unwrap();
            rows.iter().map(|row| row.try_get::<Option<String>>("", "idempotency_key").unwrap()).collect::<Vec<_>>()
        };
        let before = keys().await;

        Migrator::up(&db, None).await.unwrap();
        let scoped = ["m7:s3:web:k", "m7:c4:tg:5:n", "m7:x:x"].map(|k| Some(k.to_owned()));
        assert_eq!(keys().await, [&scoped[..], &[None]].concat());

        // Down to just before it, whatever came after it.
        let after = Migrator::migrations().len() as u32 - steps_before("m20261201_000002_scoped_reading_keys");
        Migrator::down(&db, Some(after)).await.unwrap();
        assert_eq!(keys().await, before);
    }

    /// A database as the code before booking months wrote it: August's report delivered,
    /// September's not; payments booked by the month they were for; an opening balance in the
    /// month before go-live.
    #[tokio::test]
    async fn delivered_months_close_and_lines_move_to_their_booking_months() {
        let (_dir, db) = sqlite_file().await;
        Migrator::up(&db, Some(steps_before("m20261202_000002_ledger_months"))).await.unwrap();
        db.execute_unprepared("PRAGMA foreign_keys = OFF").await.unwrap();
        for sql in [
            "INSERT INTO deliveries (kind, period, target, sent_at, attempts, created_at) VALUES \
             ('monthly_report', '2026-07', '-1', '2026-08-01T06:00:00Z', 1, '2026-08-01T06:00:00Z'), \
             ('monthly_report', '2026-08', '-1', '2026-09-01T06:00:00Z', 1, '2026-09-01T06:00:00Z'), \
             ('monthly_report', '2026-09', '-1', NULL, 3, '2026-10-01T06:00:00Z'), \
             ('reminder', '2026-10', '5', '2026-10-20T06:00:00Z', 1, '2026-10-20T06:00:00Z')",
            "INSERT INTO contracts (id, number, consumer_id, plot_id, service, tariff_plan, signed_on, created_at) \
             VALUES (1, 'W-1', 1, 1, 'water', 'single', '2026-07-01', '2026-07-01T00:00:00Z')",
            "INSERT INTO meters (id, contract_id, serial, zones, installed_on, initial_t1, created_at) VALUES \
             (1, 1, 'SN-1', 1, '2026-07-01', 0, '2026-07-01T00:00:00Z')",
            "INSERT INTO readings (id, meter_id, period, taken_at, value_t1, source, status, created_at) VALUES \
             (1, 1, '2026-07', '2026-07-20T09:00:00Z', 10000, 'panel', 'accepted', '2026-07-20T09:00:00Z')",
            "INSERT INTO charges (id, contract_id, meter_id, reading_id, period, kind, zone, previous_value, \
             current_value, consumption, price_kopecks, amount_kopecks, created_at) VALUES \
             (1, 1, 1, 1, '2026-07', 'consumption', 'single', 0, 10000, 10000, 4000, 40000, '2026-07-20T09:00:00Z'), \
             (2, 1, NULL, NULL, '2026-06', 'opening_balance', NULL, NULL, NULL, NULL, NULL, 150000, \
              '2026-07-01T00:00:00Z')",
            "INSERT INTO payments (id, contract_id, amount_kopecks, paid_on, period, source, created_at) VALUES \
             (1, 1, 10000, '2026-08-20', '2026-08', 'panel', '2026-08-20T00:00:00Z'), \
             (2, 1, 20000, '2026-08-28', '2026-09', 'panel', '2026-09-02T00:00:00Z'), \
             (3, 1, 30000, '2026-10-30', '2026-11', 'import', '2026-11-02T00:00:00Z')",
        ] {
            db.execute_unprepared(sql).await.unwrap();
        }

        Migrator::up(&db, None).await.unwrap();
        let closed = texts(&db, "SELECT period || ' ' || how AS t FROM closed_periods ORDER BY period").await;
        // From the first month anything is booked in (June emptied) to the last delivered one.
        assert_eq!(closed, ["2026-07 migration", "2026-08 migration"]);
        let payments = texts(&db, "SELECT period || ' ' || for_period AS t FROM payments ORDER BY id").await;
        // Shown in August's report and paid in August: stays. Paid in closed August for
        // September, which no report showed yet: the first open month. Paid in October for
        // November: October, the month the money arrived.
        assert_eq!(payments, ["2026-08 2026-08", "2026-09 2026-09", "2026-10 2026-11"]);
        let charges =
            texts(&db, "SELECT period || ' ' || for_period || ' ' || dated_on AS t FROM charges ORDER BY id").await;
        // The opening balance leaves June for the go-live month, dated the go-live day.
        assert_eq!(charges, ["2026-07 2026-07 2026-07-20", "2026-07 2026-07 2026-07-01"]);
        // The closed months have their balances stored, as closing stores them: July opens at
        // nothing, books 400 ₽ of water and the 1 500 ₽ carried over; August is paid 100 ₽.
        let balances = texts(
            &db,
            "SELECT period || ': ' || opening || ' ' || consumption || ' ' || opening_balances || ' ' || paid \
             || ' → ' || closing AS t FROM period_balances ORDER BY period",
        )
        .await;
        assert_eq!(balances, ["2026-07: 0 40000 150000 0 → 190000", "2026-08: 190000 0 0 10000 → 180000"]);
    }
}
