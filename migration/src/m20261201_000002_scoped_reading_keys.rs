//! A reading's idempotency key is stored scoped to its meter and author
//! (`m<meter>:s<staff>:<key>`, `m<meter>:c<consumer>:<key>`, `m<meter>:x:<key>`), so the same key
//! sent for another meter or by another person is a new submission and never answers with
//! someone else's reading. The unique index on the column now holds per meter and author. Keys
//! stored before are scoped in place, so a retry of one of them is still recognised.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE readings SET idempotency_key = 'm' || CAST(meter_id AS TEXT) || ':' || \
                 CASE WHEN staff_id IS NOT NULL THEN 's' || CAST(staff_id AS TEXT) \
                      WHEN consumer_id IS NOT NULL THEN 'c' || CAST(consumer_id AS TEXT) \
                      ELSE 'x' END || ':' || idempotency_key \
                 WHERE idempotency_key IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    /// Back to the callers' keys; where two meters or authors used the same key, only the first
    /// reading keeps it (its retries are long over).
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let select = Query::select()
            .columns(["id", "idempotency_key"])
            .from("readings")
            .and_where(Expr::col("idempotency_key").is_not_null())
            .order_by("id", Order::Asc)
            .to_owned();
        let mut seen = std::collections::HashSet::new();
        for row in db.query_all(&select).await? {
            let (id, scoped): (i64, String) = (row.try_get("", "id")?, row.try_get("", "idempotency_key")?);
            let key = scoped.splitn(3, ':').nth(2).map(str::to_owned);
            let key = key.filter(|key| seen.insert(key.clone()));
            let update = Query::update()
                .table("readings")
                .value("idempotency_key", key)
                .and_where(Expr::col("id").eq(id))
                .to_owned();
            db.execute(&update).await?;
        }
        Ok(())
    }
}
