//! Why a bank document was set aside in «Разобрать» as no payment for services (membership fees,
//! a bank's register total whose rows came in its own file, bank interest): the accountant's words.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let column = text_null("resolution_note");
        manager.alter_table(Table::alter().table("bank_documents").add_column(column).take()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("bank_documents").drop_column("resolution_note").take()).await
    }
}
