//! Telegram delivers an update again when it is not sure the bot got it (a timeout, a restart
//! before the acknowledgement). Each update id is handled once: its id goes into
//! `telegram_updates` before any handler runs.

use chrono::Duration;
use entities::telegram_update::{ActiveModel, Column, Entity};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, Set};
use service::{Chain, Context};
use teloxide::types::{Update, UpdateId};

/// Telegram stops redelivering long before this.
const KEEP: Duration = Duration::days(2);
/// Old ids are deleted on every this-many-th update, which is often enough to keep the table small.
const PRUNE_EVERY: i64 = 100;

/// The filter at the top of the handler tree: false for an update seen before.
pub async fn first_delivery(update: Update, ctx: Context) -> bool {
    record(&ctx, update.id).await.unwrap_or_else(|e| {
        // Better to risk handling an update twice than to ignore the user.
        tracing::error!(update = update.id.0, "could not record the update id: {}", Chain(&e));
        true
    })
}

/// Stores the id; false when it was stored already.
async fn record(ctx: &Context, UpdateId(id): UpdateId) -> Result<bool, DbErr> {
    let id = i64::from(id);
    let now = ctx.now();
    let txn = ctx.db.begin_write().await?;
    let row = ActiveModel { update_id: Set(id), received_at: Set(now) };
    let inserted = Entity::insert(row)
        .on_conflict(OnConflict::column(Column::UpdateId).do_nothing().to_owned())
        .exec_without_returning(&txn)
        .await?;
    if id % PRUNE_EVERY == 0 {
        Entity::delete_many().filter(Column::ReceivedAt.lt(now - KEEP)).exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(inserted == 1)
}

#[cfg(test)]
mod tests {
    use service::testing::TestContext;

    use super::*;

    #[tokio::test]
    async fn an_id_is_new_once_and_old_ids_are_pruned() {
        let t = TestContext::new().await;
        assert!(record(&t.ctx, UpdateId(99)).await.unwrap());
        assert!(!record(&t.ctx, UpdateId(99)).await.unwrap());

        t.clock.advance(KEEP + Duration::minutes(1));
        assert!(record(&t.ctx, UpdateId(PRUNE_EVERY as u32)).await.unwrap());
        let left: Vec<i64> =
            Entity::find().all(t.ctx.db.conn()).await.unwrap().into_iter().map(|r| r.update_id).collect();
        assert_eq!(left, [PRUNE_EVERY]);
    }
}
