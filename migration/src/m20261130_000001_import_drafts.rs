//! Import drafts: a previewed file's rows waiting for the user's confirmation, kept here rather
//! than in the login session, whose row every later request reads and writes.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_initial::{fk, index, table, unique};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut t = table("import_drafts");
        t.col(string_uniq("token"))
            .col(big_integer("staff_id"))
            .col(string("kind"))
            .col(text("file_name"))
            .col(text("rows"))
            .col(timestamp_with_time_zone("created_at"));
        fk(&mut t, "staff_id", "staff", ForeignKeyAction::Cascade);
        manager.create_table(t).await?;
        // One draft per person and import: a new upload replaces the one before it.
        manager.create_index(unique("import_drafts", &["staff_id", "kind"])).await?;
        manager.create_index(index("import_drafts", &["created_at"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("import_drafts").if_exists().take()).await
    }
}
