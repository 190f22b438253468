//! A member's request about a meter turned into a controller's task on one of their plots: the
//! plot and the moment it was set (the task is done by a controller's reading after it).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER.
        for column in [big_integer_null("task_plot_id"), timestamp_with_time_zone_null("task_set_at")] {
            let mut column = column;
            manager.alter_table(Table::alter().table("member_requests").add_column(&mut column).take()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["task_plot_id", "task_set_at"] {
            manager.alter_table(Table::alter().table("member_requests").drop_column(column).take()).await?;
        }
        Ok(())
    }
}
