//! How many parts of a send in two messages Telegram took (an announcement's photo, then its text
//! when too long for the photo's caption), so a retry after the text failed sends only the text.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let column = integer("parts_sent").default(0).take();
        manager.alter_table(Table::alter().table("deliveries").add_column(column).take()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("deliveries").drop_column("parts_sent").take()).await
    }
}
