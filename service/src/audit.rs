//! The audit trail: who did what, when. Written in the same transaction as the change it records.

use entities::audit_log;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, NotSet, Set};
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
