//! Stored balances for the months `m20261202_000002_ledger_months` closed. That migration closed
//! every month up to the last delivered report but stored no `period_balances` for them, and the
//! report's debts start from the last closed month's stored closing (a missing one reads as zero):
//! an upgraded installation's October report, written again, showed every debt as nothing.
//!
//! Each closed month without any stored balance gets them from the raw lines, as closing a month
//! stores them (`service::ledger::months::figures`): a closed month's lines never change, so the
//! figures are those it closed with.

use sea_orm_migration::prelude::*;

use crate::m20261202_000002_ledger_months::{exec, rows, sql};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A contract's total of `table` narrowed by `filter` (`AND period …`), as a BIGINT on both
/// backends (PostgreSQL's SUM of BIGINT is NUMERIC).
fn sum(table: &str, filter: &str) -> String {
    format!("CAST(COALESCE((SELECT SUM(amount_kopecks) FROM {table} WHERE contract_id = c.id {filter}), 0) AS BIGINT)")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let missing = rows(
            db,
            "SELECT period FROM closed_periods cp \
             WHERE NOT EXISTS (SELECT 1 FROM period_balances b WHERE b.period = cp.period) ORDER BY period",
        )
        .await?;
        // Network losses are booked in the consumption column, as closing books them.
        let figures = format!(
            "SELECT c.id AS contract_id, {charged_before} - {paid_before} AS opening, {consumption} AS consumption, \
               {recalculations} AS recalculations, {opening_balances} AS opening_balances, {paid} AS paid \
             FROM contracts c",
            charged_before = sum("charges", "AND period < ?"),
            paid_before = sum("payments", "AND period < ?"),
            consumption = sum("charges", "AND period = ? AND kind IN ('consumption', 'network_losses')"),
            recalculations = sum("charges", "AND period = ? AND kind = 'recalculation'"),
            opening_balances = sum("charges", "AND period = ? AND kind = 'opening_balance'"),
            paid = sum("payments", "AND period = ?"),
        );
        let insert = sql(
            db,
            &format!(
                "INSERT INTO period_balances \
                   (period, contract_id, opening, consumption, recalculations, opening_balances, paid, closing) \
                 SELECT ?, contract_id, opening, consumption, recalculations, opening_balances, paid, \
                   opening + consumption + recalculations + opening_balances - paid \
                 FROM ({figures}) f"
            ),
        );
        for row in missing {
            let period: String = row.try_get("", "period")?;
            exec(db, &insert, vec![period.into(); 7]).await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // The balances stay: closing a month stores the same ones.
        Ok(())
    }
}
