//! Link codes are kept as SHA-256 hashes, like API tokens: whoever reads the database or a
//! backup cannot use a live code to take over a consumer's or a staff member's Telegram link.
//! Codes issued before this migration are hashed in place, so they keep working.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;
use sha2::{Digest, Sha256};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("link_codes").rename_column("code", "code_hash").to_owned()).await?;
        let db = manager.get_connection();
        let select = Query::select().columns(["id", "code_hash"]).from("link_codes").to_owned();
        for row in db.query_all(&select).await? {
            let (id, code): (i64, String) = (row.try_get("", "id")?, row.try_get("", "code_hash")?);
            let update = Query::update()
                .table("link_codes")
                .value("code_hash", hex::encode(Sha256::digest(code.as_bytes())))
                .and_where(Expr::col("id").eq(id))
                .to_owned();
            db.execute(&update).await?;
        }
        Ok(())
    }

    /// Hashes cannot be turned back into codes: the codes not used yet are dropped.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let unused = Query::delete().from_table("link_codes").and_where(Expr::col("used_at").is_null()).to_owned();
        db.execute(&unused).await?;
        manager.alter_table(Table::alter().table("link_codes").rename_column("code_hash", "code").to_owned()).await
    }
}
