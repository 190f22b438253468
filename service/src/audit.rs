//! The audit trail: who did what, when. Written in the same transaction as the change it records,
//! and read back per record for the office.

use std::collections::HashMap;

use entities::{audit_log, staff};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, NotSet, QueryFilter, QueryOrder, Set,
};
use serde_json::Value;

use crate::Context;

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Staff(i64),
    /// A consumer through a linked Telegram account.
    Consumer {
        consumer_id: i64,
        telegram_user_id: i64,
    },
    /// A Telegram user not (yet) linked, e.g. redeeming a code.
    Telegram(i64),
    /// The system itself (scheduler, imports run from the command line).
    System,
}

impl Actor {
    pub fn staff_id(self) -> Option<i64> {
        match self {
            Actor::Staff(id) => Some(id),
            _ => None,
        }
    }

    pub fn consumer_id(self) -> Option<i64> {
        match self {
            Actor::Consumer { consumer_id, .. } => Some(consumer_id),
            _ => None,
        }
    }
}

/// Appends one entry. `details` is any JSON (old and new values, a reason).
pub async fn record(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    actor: Actor,
    action: &str,
    entity: &str,
    entity_id: Option<i64>,
    details: Value,
) -> Result<(), DbErr> {
    let telegram_user_id = match actor {
        Actor::Consumer { telegram_user_id, .. } | Actor::Telegram(telegram_user_id) => Some(telegram_user_id),
        _ => None,
    };
    audit_log::ActiveModel {
        id: NotSet,
        at: Set(ctx.now()),
        staff_id: Set(actor.staff_id()),
        consumer_id: Set(actor.consumer_id()),
        telegram_user_id: Set(telegram_user_id),
        action: Set(action.to_owned()),
        entity: Set(entity.to_owned()),
        entity_id: Set(entity_id),
        details: Set(details.to_string()),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// An audit log entry with the name of the staff member who acted, if one did.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub entry: audit_log::Model,
    pub staff_name: Option<String>,
}

/// The audit log of records of one kind (`"reading"`, `"contract"` …), oldest first.
pub async fn audit_trail(conn: &impl ConnectionTrait, entity: &str, ids: &[i64]) -> Result<Vec<AuditEntry>, DbErr> {
    let entries = audit_log::Entity::find()
        .filter(audit_log::Column::Entity.eq(entity))
        .filter(audit_log::Column::EntityId.is_in(ids.iter().copied()))
        .order_by_asc(audit_log::Column::At)
        .order_by_asc(audit_log::Column::Id)
        .all(conn)
        .await?;
    let names: HashMap<i64, String> = staff::Entity::find()
        .filter(staff::Column::Id.is_in(entries.iter().filter_map(|e| e.staff_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|s| (s.id, s.full_name))
        .collect();
    Ok(entries
        .into_iter()
        .map(|entry| AuditEntry { staff_name: entry.staff_id.and_then(|id| names.get(&id).cloned()), entry })
        .collect())
}
