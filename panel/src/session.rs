//! Login sessions kept in the database (table `web_sessions`), so they survive restarts, are
//! shared by several instances, and logging out really ends them. Each row names the staff member
//! logged in with it, so the service can end their sessions when their password or access changes.
//! Only sessions with something in them are stored: the login form keeps its token in a cookie
//! ([`crate::csrf`]), so anonymous visitors cost no row.

use std::collections::BTreeMap;
use std::time::Duration;

use entities::web_session;
use poem::session::SessionStorage;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::Value;
use service::Context;

use crate::error::internal;

/// The session entry holding the logged-in staff member's id.
pub const STAFF_ID: &str = "staff_id";
/// The session entry holding the account's epoch when the session was opened (see
/// [`service::access::staff::session_holder`]).
pub const STAFF_EPOCH: &str = "staff_epoch";

/// Sessions without an explicit lifetime live this long.
const DEFAULT_TTL: Duration = Duration::from_secs(12 * 3600);

pub struct DbSessionStorage {
    ctx: Context,
}

impl DbSessionStorage {
    pub fn new(ctx: Context) -> Self {
        DbSessionStorage { ctx }
    }
}

impl SessionStorage for DbSessionStorage {
    async fn load_session<'a>(&'a self, session_id: &'a str) -> poem::Result<Option<BTreeMap<String, Value>>> {
        let row = web_session::Entity::find_by_id(session_id.to_owned())
            .filter(web_session::Column::ExpiresAt.gt(self.ctx.now()))
            .one(self.ctx.db.conn())
            .await
            .map_err(internal)?;
        // A damaged row is treated as no session: the user logs in again.
        Ok(row.and_then(|row| serde_json::from_str(&row.entries).ok()))
    }

    async fn update_session<'a>(
        &'a self,
        session_id: &'a str,
        entries: &'a BTreeMap<String, Value>,
        expires: Option<Duration>,
    ) -> poem::Result<()> {
        let now = self.ctx.now();
        let ttl = chrono::Duration::from_std(expires.unwrap_or(DEFAULT_TTL)).map_err(internal)?;
        let row = web_session::ActiveModel {
            id: Set(session_id.to_owned()),
            entries: Set(serde_json::to_string(entries).map_err(internal)?),
            expires_at: Set(now + ttl),
            staff_id: Set(entries.get(STAFF_ID).and_then(Value::as_i64)),
        };
        let txn = self.ctx.db.begin_write().await.map_err(internal)?;
        web_session::Entity::insert(row)
            .on_conflict(
                OnConflict::column(web_session::Column::Id)
                    .update_columns([
                        web_session::Column::Entries,
                        web_session::Column::ExpiresAt,
                        web_session::Column::StaffId,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await
            .map_err(internal)?;
        // Expired sessions are swept as new ones are written; no background job needed.
        web_session::Entity::delete_many()
            .filter(web_session::Column::ExpiresAt.lte(now))
            .exec(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)
    }

    async fn remove_session<'a>(&'a self, session_id: &'a str) -> poem::Result<()> {
        let txn = self.ctx.db.begin_write().await.map_err(internal)?;
        web_session::Entity::delete_by_id(session_id.to_owned()).exec(&txn).await.map_err(internal)?;
        txn.commit().await.map_err(internal)
    }
}
