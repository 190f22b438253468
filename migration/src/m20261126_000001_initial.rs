//! The whole first schema. Money columns are kopecks and meter values thousandths of a unit, both
//! BIGINT: exact, summable in SQL, the same on SQLite and PostgreSQL.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[cfg(test)]
pub(crate) const TABLE_COUNT: usize = TABLES.len();

/// Tables in creation order; dropped in reverse.
const TABLES: &[&str] = &[
    "staff",
    "plots",
    "consumers",
    "holdings",
    "contracts",
    "meters",
    "photos",
    "meter_photos",
    "readings",
    "tariffs",
    "charges",
    "payments",
    "telegram_links",
    "link_codes",
    "audit_log",
    "deliveries",
    "telegram_dialogues",
    "telegram_updates",
    "web_sessions",
];

pub(crate) fn table(name: &'static str) -> TableCreateStatement {
    Table::create().table(name).if_not_exists().col(big_pk_auto("id")).take()
}

fn created_at() -> ColumnDef {
    timestamp_with_time_zone("created_at")
}

/// A foreign key column `col` → `target.id`.
pub(crate) fn fk(
    table: &mut TableCreateStatement,
    col: &'static str,
    target: &'static str,
    on_delete: ForeignKeyAction,
) {
    table.foreign_key(ForeignKey::create().from_col(col).to(target, "id").on_delete(on_delete));
}

pub(crate) fn index(table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(format!("idx_{table}_{}", cols.join("_"))).table(table).if_not_exists();
    for col in cols {
        idx.col(*col);
    }
    idx.take()
}

/// Drops the index [`index`] made on `table`'s `cols` (the name is the same rule).
pub(crate) fn drop_index(table: &'static str, cols: &[&str]) -> IndexDropStatement {
    Index::drop().name(format!("idx_{table}_{}", cols.join("_"))).table(table).to_owned()
}

pub(crate) fn unique(table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut idx = index(table, cols);
    idx.name(format!("uq_{table}_{}", cols.join("_"))).unique();
    idx
}

fn schema() -> (Vec<TableCreateStatement>, Vec<IndexCreateStatement>) {
    use ForeignKeyAction::{Cascade, Restrict, SetNull};

    let mut tables = Vec::new();

    let mut t = table("staff");
    t.col(string_uniq("login"))
        .col(string("full_name"))
        .col(string("password_hash"))
        .col(string("role"))
        .col(boolean("active").default(true))
        .col(integer("failed_attempts").default(0))
        .col(timestamp_with_time_zone_null("locked_until"))
        .col(big_integer_null("telegram_user_id").unique_key())
        .col(string_null("api_token_hash").unique_key())
        .col(created_at());
    tables.push(t);

    let mut t = table("plots");
    t.col(string_uniq("number")).col(string_null("address")).col(text_null("notes")).col(created_at());
    tables.push(t);

    let mut t = table("consumers");
    t.col(string("full_name"))
        .col(string_null("phone"))
        .col(text_null("notes"))
        .col(boolean("reminders_enabled").default(true))
        .col(created_at());
    tables.push(t);

    let mut t = table("holdings");
    t.col(big_integer("plot_id")).col(big_integer("consumer_id")).col(date("since")).col(date_null("until"));
    fk(&mut t, "plot_id", "plots", Cascade);
    fk(&mut t, "consumer_id", "consumers", Cascade);
    tables.push(t);

    let mut t = table("contracts");
    t.col(string_uniq("number"))
        .col(big_integer("consumer_id"))
        .col(big_integer("plot_id"))
        .col(string("service"))
        .col(string("tariff_plan"))
        .col(date("signed_on"))
        .col(date_null("closed_on"))
        .col(created_at());
    fk(&mut t, "consumer_id", "consumers", Restrict);
    fk(&mut t, "plot_id", "plots", Restrict);
    tables.push(t);

    let mut t = table("meters");
    t.col(big_integer("contract_id"))
        .col(string("serial"))
        .col(small_integer("zones"))
        .col(date("installed_on"))
        .col(big_integer("initial_t1"))
        .col(big_integer_null("initial_t2"))
        .col(string_null("seal_number"))
        .col(date_null("seal_checked_on"))
        .col(date_null("verification_due"))
        .col(date_null("removed_on"))
        .col(created_at());
    fk(&mut t, "contract_id", "contracts", Restrict);
    tables.push(t);

    let mut t = table("photos");
    t.col(string_uniq("sha256"))
        .col(string("path"))
        .col(string("thumb_path"))
        .col(integer("width"))
        .col(integer("height"))
        .col(big_integer("bytes"))
        .col(created_at());
    tables.push(t);

    let mut t = table("meter_photos");
    t.col(big_integer("meter_id"))
        .col(big_integer("photo_id"))
        .col(timestamp_with_time_zone("taken_at"))
        .col(big_integer_null("staff_id"))
        .col(created_at());
    fk(&mut t, "meter_id", "meters", Cascade);
    fk(&mut t, "photo_id", "photos", Restrict);
    fk(&mut t, "staff_id", "staff", SetNull);
    tables.push(t);

    let mut t = table("readings");
    t.col(big_integer("meter_id"))
        .col(string_len("period", 7))
        .col(timestamp_with_time_zone("taken_at"))
        .col(big_integer("value_t1"))
        .col(big_integer_null("value_t2"))
        .col(string("source"))
        .col(big_integer_null("staff_id"))
        .col(big_integer_null("consumer_id"))
        .col(boolean_null("seal_intact"))
        .col(text_null("comment"))
        .col(big_integer_null("photo_id"))
        .col(string("status"))
        .col(big_integer_null("supersedes_id"))
        .col(string_null("idempotency_key").unique_key())
        .col(created_at());
    fk(&mut t, "meter_id", "meters", Restrict);
    fk(&mut t, "staff_id", "staff", SetNull);
    fk(&mut t, "consumer_id", "consumers", SetNull);
    fk(&mut t, "photo_id", "photos", Restrict);
    fk(&mut t, "supersedes_id", "readings", Restrict);
    tables.push(t);

    let mut t = table("tariffs");
    t.col(string("service"))
        .col(string("zone"))
        .col(big_integer("price_kopecks"))
        .col(date("valid_from"))
        .col(created_at());
    tables.push(t);

    let mut t = table("charges");
    t.col(big_integer("contract_id"))
        .col(big_integer_null("meter_id"))
        .col(big_integer_null("reading_id"))
        .col(string_len("period", 7))
        .col(string("kind"))
        .col(string_null("zone"))
        .col(big_integer_null("previous_value"))
        .col(big_integer_null("current_value"))
        .col(big_integer_null("consumption"))
        .col(big_integer_null("price_kopecks"))
        .col(big_integer("amount_kopecks"))
        .col(created_at());
    fk(&mut t, "contract_id", "contracts", Restrict);
    fk(&mut t, "meter_id", "meters", Restrict);
    fk(&mut t, "reading_id", "readings", Restrict);
    tables.push(t);

    let mut t = table("payments");
    t.col(big_integer("contract_id"))
        .col(big_integer("amount_kopecks"))
        .col(date("paid_on"))
        .col(string_len("period", 7))
        .col(string_null("reference").unique_key())
        .col(big_integer_null("staff_id"))
        .col(string("source"))
        .col(created_at());
    fk(&mut t, "contract_id", "contracts", Restrict);
    fk(&mut t, "staff_id", "staff", SetNull);
    tables.push(t);

    let mut t = table("telegram_links");
    t.col(big_integer("consumer_id"))
        .col(big_integer_uniq("telegram_user_id"))
        .col(timestamp_with_time_zone("linked_at"));
    fk(&mut t, "consumer_id", "consumers", Cascade);
    tables.push(t);

    let mut t = table("link_codes");
    t.col(string_uniq("code"))
        .col(big_integer_null("consumer_id"))
        .col(big_integer_null("staff_id"))
        .col(timestamp_with_time_zone("expires_at"))
        .col(timestamp_with_time_zone_null("used_at"))
        .col(big_integer_null("used_by_telegram_id"))
        .col(big_integer_null("created_by"))
        .col(created_at());
    fk(&mut t, "consumer_id", "consumers", Cascade);
    fk(&mut t, "staff_id", "staff", Cascade);
    tables.push(t);

    let mut t = table("audit_log");
    t.col(timestamp_with_time_zone("at"))
        .col(big_integer_null("staff_id"))
        .col(big_integer_null("consumer_id"))
        .col(big_integer_null("telegram_user_id"))
        .col(string("action"))
        .col(string("entity"))
        .col(big_integer_null("entity_id"))
        .col(text("details"));
    tables.push(t);

    let mut t = table("deliveries");
    t.col(string("kind"))
        .col(string_len("period", 7))
        .col(string("target"))
        .col(timestamp_with_time_zone_null("sent_at"))
        .col(integer("attempts").default(0))
        .col(text_null("last_error"))
        .col(timestamp_with_time_zone_null("next_attempt_at"))
        .col(created_at());
    tables.push(t);

    tables.push(
        Table::create()
            .table("telegram_dialogues")
            .if_not_exists()
            .col(big_integer("chat_id").primary_key())
            .col(text("state"))
            .col(timestamp_with_time_zone("updated_at"))
            .take(),
    );
    tables.push(
        Table::create()
            .table("telegram_updates")
            .if_not_exists()
            .col(big_integer("update_id").primary_key())
            .col(timestamp_with_time_zone("received_at"))
            .take(),
    );
    tables.push(
        Table::create()
            .table("web_sessions")
            .if_not_exists()
            .col(string("id").primary_key())
            .col(text("entries"))
            .col(timestamp_with_time_zone("expires_at"))
            .take(),
    );

    let indexes = vec![
        index("consumers", &["phone"]),
        index("holdings", &["plot_id"]),
        index("holdings", &["consumer_id"]),
        index("contracts", &["consumer_id"]),
        index("contracts", &["plot_id"]),
        index("meters", &["contract_id"]),
        index("meters", &["serial"]),
        index("meter_photos", &["meter_id"]),
        index("readings", &["meter_id", "period"]),
        index("readings", &["period", "status"]),
        index("readings", &["status"]),
        unique("tariffs", &["service", "zone", "valid_from"]),
        index("charges", &["contract_id", "period"]),
        index("charges", &["meter_id"]),
        index("payments", &["contract_id", "period"]),
        index("telegram_links", &["consumer_id"]),
        index("audit_log", &["entity", "entity_id"]),
        unique("deliveries", &["kind", "period", "target"]),
        index("web_sessions", &["expires_at"]),
    ];
    (tables, indexes)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let (tables, indexes) = schema();
        for table in tables {
            manager.create_table(table).await?;
        }
        for index in indexes {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in TABLES.iter().rev() {
            manager.drop_table(Table::drop().table(*name).if_exists().take()).await?;
        }
        Ok(())
    }
}
