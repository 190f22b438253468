//! The bank's own statement (issue 13): each bank document stored once, and what the
//! accountant chose for a payer's account.
//!
//! - `bank_documents`: one row per incoming document of a 1CClientBankExchange statement, unique by
//!   its identity (account + date + number + amount + payer account, `identity_key`), so an
//!   overlapping statement or the same file again adds nothing. `status` is `posted` (its
//!   payments are in `payments`) or `review` (waiting in «Разобрать» with `review_reason`).
//! - `payments.bank_document_id`: the document a payment was posted from (several when one
//!   payment was split between a plot's contracts).
//! - `payer_accounts`: a payer's account and the contracts the accountant chose for it, matched
//!   again in the next statement.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_initial::{fk, index, table, unique};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut t = table("bank_documents");
        t.col(string_uniq("identity_key"))
            .col(string("account"))
            .col(date("doc_date"))
            .col(string("number"))
            .col(big_integer("amount_kopecks"))
            .col(string("payer_account"))
            .col(text("payer"))
            .col(text("purpose"))
            .col(date("arrived_on"))
            .col(string("status"))
            .col(text_null("review_reason"))
            .col(text("file_name"))
            .col(big_integer_null("staff_id"))
            .col(timestamp_with_time_zone("created_at"))
            .col(big_integer_null("resolved_by"))
            .col(timestamp_with_time_zone_null("resolved_at"));
        fk(&mut t, "staff_id", "staff", ForeignKeyAction::SetNull);
        fk(&mut t, "resolved_by", "staff", ForeignKeyAction::SetNull);
        manager.create_table(t).await?;
        manager.create_index(index("bank_documents", &["status"])).await?;

        let mut t = table("payer_accounts");
        t.col(string("payer_account"))
            .col(big_integer("contract_id"))
            .col(big_integer_null("staff_id"))
            .col(timestamp_with_time_zone("created_at"));
        fk(&mut t, "contract_id", "contracts", ForeignKeyAction::Cascade);
        fk(&mut t, "staff_id", "staff", ForeignKeyAction::SetNull);
        manager.create_table(t).await?;
        manager.create_index(unique("payer_accounts", &["payer_account", "contract_id"])).await?;

        // SQLite adds a column but not a foreign key to an existing table: the service writes the
        // link in the same transaction as the document, and documents are never deleted.
        let column = big_integer_null("bank_document_id");
        manager.alter_table(Table::alter().table("payments").add_column(column).take()).await?;
        manager.create_index(index("payments", &["bank_document_id"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let payments_index = Index::drop().name("idx_payments_bank_document_id").table("payments").to_owned();
        manager.drop_index(payments_index).await?;
        manager.alter_table(Table::alter().table("payments").drop_column("bank_document_id").take()).await?;
        manager.drop_table(Table::drop().table("payer_accounts").take()).await?;
        manager.drop_table(Table::drop().table("bank_documents").take()).await
    }
}
