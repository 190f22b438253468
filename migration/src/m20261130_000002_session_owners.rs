//! Sessions know whose they are, so the service can end them when a password or access changes:
//! `web_sessions.staff_id` (indexed) names the staff member logged in with the session, and
//! `staff.session_epoch` counts credential and access changes — a session carries the epoch it
//! was opened in and stops counting once the epoch moves on, even if a request still in flight
//! writes its row back after the service deleted it.
//!
//! Sessions opened before this migration name no owner and no epoch; they are dropped (staff log
//! in again once).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_initial::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute(&Query::delete().from_table("web_sessions").to_owned()).await?;
        manager
            .alter_table(Table::alter().table("web_sessions").add_column(big_integer_null("staff_id")).to_owned())
            .await?;
        manager.create_index(index("web_sessions", &["staff_id"])).await?;
        manager
            .alter_table(Table::alter().table("staff").add_column(integer("session_epoch").default(0)).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("staff").drop_column("session_epoch").to_owned()).await?;
        manager.drop_index(Index::drop().name("idx_web_sessions_staff_id").table("web_sessions").to_owned()).await?;
        manager.alter_table(Table::alter().table("web_sessions").drop_column("staff_id").to_owned()).await
    }
}
