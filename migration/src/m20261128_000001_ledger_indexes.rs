//! Indexes for reading the whole ledger at once (the monthly report, everyone's debts): the
//! balance query sums amounts per contract and period from the index alone, without touching
//! the tables.

use sea_orm_migration::prelude::*;

use crate::m20261126_000001_initial::{drop_index, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Covering indexes and the narrower ones they replace.
const WIDENED: &[(&str, &[&str], &[&str])] = &[
    ("charges", &["contract_id", "period", "amount_kopecks"], &["contract_id", "period"]),
    ("payments", &["contract_id", "period", "amount_kopecks"], &["contract_id", "period"]),
];

/// Indexes for the report's per-month queries.
const ADDED: &[(&str, &[&str])] = &[("charges", &["period"]), ("readings", &["period", "status", "meter_id"])];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, wide, narrow) in WIDENED {
            manager.create_index(index(table, wide)).await?;
            manager.drop_index(drop_index(table, narrow)).await?;
        }
        for (table, cols) in ADDED {
            manager.create_index(index(table, cols)).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, cols) in ADDED {
            manager.drop_index(drop_index(table, cols)).await?;
        }
        for (table, wide, narrow) in WIDENED {
            manager.create_index(index(table, narrow)).await?;
            manager.drop_index(drop_index(table, wide)).await?;
        }
        Ok(())
    }
}
