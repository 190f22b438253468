//! The cooperative's bank details, for the payment QR code: one row, changed by an admin.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_initial::{fk, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut t = table("bank_details");
        t.col(text("payee"))
            .col(string("inn"))
            .col(string("kpp"))
            .col(string("account"))
            .col(text("bank_name"))
            .col(string("bic"))
            .col(string("correspondent_account"))
            .col(big_integer_null("updated_by"))
            .col(timestamp_with_time_zone("updated_at"));
        fk(&mut t, "updated_by", "staff", ForeignKeyAction::SetNull);
        manager.create_table(t).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("bank_details").if_exists().take()).await
    }
}
