//! Reversals (сторно) of payments (issue 13.4): a reversal is a negative payment whose
//! `reverses_id` points at the original. The unique index lets an original be reversed once, even
//! by two requests at the same moment; `reason` says why a reversal or a transferred payment
//! exists, for the report's «Оплаты» sheet (who and when are in the audit log).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_initial::unique;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("payments").add_column(text_null("reason")).take()).await?;
        manager.create_index(unique("payments", &["reverses_id"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("uq_payments_reverses_id").table("payments").to_owned()).await?;
        manager.alter_table(Table::alter().table("payments").drop_column("reason").take()).await
    }
}
