//! Dialogue states kept in the application's database (`telegram_dialogues`), so a restart or a
//! deploy continues every chat where it was.

use std::sync::Arc;

use entities::telegram_dialogue::{ActiveModel, Column, Entity};
use futures::future::BoxFuture;
use sea_orm::sea_query::OnConflict;
use sea_orm::{DbErr, EntityTrait, Set};
use serde::Serialize;
use serde::de::DeserializeOwned;
use service::Context;
use teloxide::dispatching::dialogue::Storage;
use teloxide::types::ChatId;

/// A teloxide [`Storage`] over sea-orm, one JSON row per chat.
pub struct DbStorage {
    ctx: Context,
}

impl DbStorage {
    pub fn new(ctx: Context) -> Arc<DbStorage> {
        Arc::new(DbStorage { ctx })
    }
}

impl<D> Storage<D> for DbStorage
where
    D: Serialize + DeserializeOwned + Send + 'static,
{
    type Error = DbErr;

    fn remove_dialogue(self: Arc<Self>, ChatId(chat_id): ChatId) -> BoxFuture<'static, Result<(), DbErr>> {
        Box::pin(async move {
            let txn = self.ctx.db.begin_write().await?;
            Entity::delete_by_id(chat_id).exec(&txn).await?;
            txn.commit().await
        })
    }

    fn update_dialogue(self: Arc<Self>, ChatId(chat_id): ChatId, dialogue: D) -> BoxFuture<'static, Result<(), DbErr>> {
        Box::pin(async move {
            let state = serde_json::to_string(&dialogue).map_err(|e| DbErr::Json(e.to_string()))?;
            let row = ActiveModel { chat_id: Set(chat_id), state: Set(state), updated_at: Set(self.ctx.now()) };
            let upsert =
                OnConflict::column(Column::ChatId).update_columns([Column::State, Column::UpdatedAt]).to_owned();
            let txn = self.ctx.db.begin_write().await?;
            Entity::insert(row).on_conflict(upsert).exec_without_returning(&txn).await?;
            txn.commit().await
        })
    }

    fn get_dialogue(self: Arc<Self>, ChatId(chat_id): ChatId) -> BoxFuture<'static, Result<Option<D>, DbErr>> {
        Box::pin(async move {
            let Some(row) = Entity::find_by_id(chat_id).one(self.ctx.db.conn()).await? else {
                return Ok(None);
            };
            // A state written by an older version may not parse any more: start that chat over
            // rather than failing on every update it sends.
            Ok(serde_json::from_str(&row.state)
                .inspect_err(|e| tracing::warn!(chat_id, "unreadable dialogue state, starting over: {e}"))
                .ok())
        })
    }
}

#[cfg(test)]
mod tests {
    use service::testing::TestContext;

    use super::*;
    use crate::state::State;

    #[tokio::test]
    async fn stores_replaces_and_removes_states() {
        let t = TestContext::new().await;
        let storage = DbStorage::new(t.ctx.clone());
        let chat = ChatId(42);
        let get = || Arc::clone(&storage).get_dialogue(chat);

        assert_eq!(get().await.unwrap(), None::<State>);
        Arc::clone(&storage).update_dialogue(chat, State::PickMeter).await.unwrap();
        Arc::clone(&storage).update_dialogue(chat, State::Walk { plot_id: Some(3) }).await.unwrap();
        assert_eq!(get().await.unwrap(), Some(State::Walk { plot_id: Some(3) }));
        Storage::<State>::remove_dialogue(Arc::clone(&storage), chat).await.unwrap();
        assert_eq!(get().await.unwrap(), None::<State>);
    }

    #[tokio::test]
    async fn an_unreadable_state_reads_as_none() {
        let t = TestContext::new().await;
        let row = ActiveModel { chat_id: Set(7), state: Set(r#"{"Gone":{}}"#.into()), updated_at: Set(t.ctx.now()) };
        Entity::insert(row).exec_without_returning(t.ctx.db.conn()).await.unwrap();
        assert_eq!(DbStorage::new(t.ctx.clone()).get_dialogue(ChatId(7)).await.unwrap(), None::<State>);
    }
}
