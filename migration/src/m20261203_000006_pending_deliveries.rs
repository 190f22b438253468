//! The sends still to be made, found without reading the sent ones: `deliveries::waiting` (the
//! payment notices, announcements and answers, every look of each) asks for the pending rows of
//! one kind in id order, and with only the unique (kind, period, target) index SQLite scanned the
//! whole table in id order, every kind and every row ever sent. A partial index on the unsent rows
//! makes it a seek (`EXPLAIN QUERY PLAN`: `SEARCH deliveries USING INDEX idx_deliveries_pending`).
//! Same statement on SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("CREATE INDEX idx_deliveries_pending ON deliveries (kind, id) WHERE sent_at IS NULL")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("idx_deliveries_pending").table("deliveries").to_owned()).await
    }
}
