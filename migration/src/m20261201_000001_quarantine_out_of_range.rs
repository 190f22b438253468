//! Quarantine for amounts stored before every amount was bounded (issue 18): an API payment of
//! `i64::MAX` kopecks, a price of a trillion rubles, and the charges priced by it. Such a row can
//! no longer be read (the domain's constructors refuse it) and its sums overflow or wrap, so every
//! page showing the ledger would fail. Each row out of bounds is copied whole into the audit log
//! (action `ledger.quarantine`, entity and id of the row, its columns as text and the reason),
//! logged, and removed from the ledger. Nothing is lost: an admin can read the row in the audit log
//! (and the full export) and enter what was meant. Charges rebuild from readings and tariffs.
//!
//! The bounds are those of `domain::Kopecks` when this was written. A migration keeps its own copy:
//! what it did must not change when the domain's bounds change later.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `Kopecks::PAYMENT_MAX`: ten million rubles; also the largest opening balance either way.
const PAYMENT_MAX: i64 = 1_000_000_000;
/// `Kopecks::PRICE_MAX`: ten thousand rubles per unit.
const PRICE_MAX: i64 = 1_000_000;
/// `Kopecks::MAX`: a trillion rubles.
const AMOUNT_MAX: i64 = 100_000_000_000_000;

/// Rows of a table that no bounded type can hold, and why.
struct Rule {
    table: &'static str,
    /// The audit log's name for a row of the table.
    entity: &'static str,
    columns: &'static [&'static str],
    out_of_bounds: String,
    reason: String,
}

fn rules() -> [Rule; 3] {
    [
        Rule {
            table: "payments",
            entity: "payment",
            columns: &[
                "contract_id",
                "amount_kopecks",
                "paid_on",
                "period",
                "reference",
                "staff_id",
                "source",
                "created_at",
            ],
            out_of_bounds: format!("amount_kopecks NOT BETWEEN 1 AND {PAYMENT_MAX}"),
            reason: format!("сумма платежа вне пределов от 1 до {PAYMENT_MAX} коп."),
        },
        Rule {
            table: "tariffs",
            entity: "tariff",
            columns: &["service", "zone", "price_kopecks", "valid_from", "created_at"],
            out_of_bounds: format!("price_kopecks NOT BETWEEN 1 AND {PRICE_MAX}"),
            reason: format!("цена вне пределов от 1 до {PRICE_MAX} коп. за единицу"),
        },
        Rule {
            table: "charges",
            entity: "charge",
            columns: &[
                "contract_id",
                "meter_id",
                "reading_id",
                "period",
                "kind",
                "zone",
                "previous_value",
                "current_value",
                "consumption",
                "price_kopecks",
                "amount_kopecks",
                "created_at",
            ],
            // A missing price (an opening balance) makes its comparison NULL: not selected by it.
            out_of_bounds: format!(
                "amount_kopecks NOT BETWEEN -{AMOUNT_MAX} AND {AMOUNT_MAX} OR price_kopecks NOT BETWEEN 1 AND {PRICE_MAX} \
                 OR (kind = 'opening_balance' AND amount_kopecks NOT BETWEEN -{PAYMENT_MAX} AND {PAYMENT_MAX})"
            ),
            reason: format!(
                "начисление вне пределов (сумма по модулю до {AMOUNT_MAX} коп., цена от 1 до {PRICE_MAX} коп., \
                 сальдо по модулю до {PAYMENT_MAX} коп.)"
            ),
        },
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        for rule in rules() {
            // Every column as text: the values do not fit the types that would read them.
            let columns: Vec<String> = rule.columns.iter().map(|c| format!("CAST({c} AS TEXT) AS {c}")).collect();
            let select = format!(
                "SELECT id, {} FROM {} WHERE {} ORDER BY id",
                columns.join(", "),
                rule.table,
                rule.out_of_bounds
            );
            let rows = db.query_all_raw(Statement::from_string(backend, select)).await?;
            for row in &rows {
                let id: i64 = row.try_get("", "id")?;
                let mut fields = serde_json::Map::new();
                for column in rule.columns {
                    fields.insert((*column).to_owned(), row.try_get::<Option<String>>("", column)?.into());
                }
                let details = serde_json::json!({"reason": rule.reason, "row": fields});
                tracing::warn!(table = rule.table, id, "quarantined a row out of bounds into the audit log: {details}");
                let insert = Query::insert()
                    .into_table("audit_log")
                    .columns(["at", "action", "entity", "entity_id", "details"])
                    .values([
                        chrono::Utc::now().into(),
                        "ledger.quarantine".into(),
                        rule.entity.into(),
                        id.into(),
                        details.to_string().into(),
                    ])
                    .map_err(|e| DbErr::Custom(e.to_string()))?
                    .to_owned();
                db.execute(&insert).await?;
            }
            if !rows.is_empty() {
                let delete = format!("DELETE FROM {} WHERE {}", rule.table, rule.out_of_bounds);
                db.execute_raw(Statement::from_string(backend, delete)).await?;
                tracing::warn!(table = rule.table, rows = rows.len(), "rows out of bounds moved to the audit log");
            }
        }
        Ok(())
    }

    /// Nothing to undo: putting the rows back would break every page again.
    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
