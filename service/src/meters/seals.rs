//! Seal events: a seal reported broken with a reading stays open, on the panel's front page,
//! until an admin writes down what was done about it (usually: sealed again, a new number).

use std::collections::HashMap;

use domain::{PlotNumber, TextKind, TooLong};
use entities::{contract, meter, plot, reading, seal_event, staff};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, NotSet, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;

use crate::audit::{self, Actor};
use crate::error::internal_errors;
use crate::{Context, Internal};

/// An event with what the lists show about it.
#[derive(Debug, Clone)]
pub struct SealEventRow {
    pub event: seal_event::Model,
    pub meter: meter::Model,
    pub plot_number: PlotNumber,
    pub reported_by: Option<String>,
    pub resolved_by: Option<String>,
}

/// Opens an event for `reading`, which reports a broken seal, in the reading's transaction.
pub(crate) async fn report(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    reading: &reading::Model,
) -> Result<seal_event::Model, DbErr> {
    seal_event::ActiveModel {
        id: NotSet,
        meter_id: Set(reading.meter_id),
        reading_id: Set(Some(reading.id)),
        reported_by_staff: Set(reading.staff_id),
        reported_at: Set(ctx.now()),
        comment: Set(reading.comment.clone()),
        resolved_at: Set(None),
        resolved_by: Set(None),
        resolution: Set(None),
    }
    .insert(conn)
    .await
}

/// What an admin did about a broken seal.
#[derive(Debug, Clone)]
pub struct Resolution {
    /// «Опломбирован заново, пломба № …».
    pub note: String,
    /// The number of the new seal, written into the meter's card.
    pub new_seal_number: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("Сообщение о пломбе не найдено.")]
    UnknownEvent,
    #[error("Это сообщение о пломбе уже закрыто.")]
    AlreadyResolved,
    #[error("Опишите, что сделано: например, «опломбирован заново, пломба № …».")]
    NoNote,
    #[error(transparent)]
    Text(#[from] TooLong),
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(SealError);

/// Closes an event with the admin's note; a new seal number goes into the meter's card, checked today.
pub async fn resolve(
    ctx: &Context,
    event_id: i64,
    resolution: Resolution,
    staff_id: i64,
) -> Result<seal_event::Model, SealError> {
    let note = TextKind::Reason.bounded(&resolution.note)?;
    if note.is_empty() {
        return Err(SealError::NoNote);
    }
    let new_seal = TextKind::SealNumber.optional(resolution.new_seal_number.as_deref())?;
    let txn = ctx.db.begin_write().await?;
    let event = seal_event::Entity::find_by_id(event_id).one(&txn).await?.ok_or(SealError::UnknownEvent)?;
    if event.resolved_at.is_some() {
        return Err(SealError::AlreadyResolved);
    }
    let mut details = json!({"meter_id": event.meter_id, "resolution": note});
    if let Some(seal) = new_seal {
        let meter = meter::Entity::find_by_id(event.meter_id).one(&txn).await?.ok_or(SealError::UnknownEvent)?;
        details["seal_number"] = json!([meter.seal_number, seal]);
        let mut meter = meter.into_active_model();
        meter.seal_number = Set(Some(seal));
        meter.seal_checked_on = Set(Some(ctx.today()));
        meter.update(&txn).await?;
    }
    let mut active = event.into_active_model();
    active.resolved_at = Set(Some(ctx.now()));
    active.resolved_by = Set(Some(staff_id));
    active.resolution = Set(Some(note));
    let resolved = active.update(&txn).await?;
    audit::record(&txn, ctx, Actor::Staff(staff_id), "seal.resolve", "seal_event", Some(event_id), details).await?;
    txn.commit().await?;
    Ok(resolved)
}

/// Events not resolved yet, oldest first.
pub async fn open_events(conn: &impl ConnectionTrait) -> Result<Vec<SealEventRow>, DbErr> {
    let events = seal_event::Entity::find()
        .filter(seal_event::Column::ResolvedAt.is_null())
        .order_by_asc(seal_event::Column::ReportedAt)
        .order_by_asc(seal_event::Column::Id)
        .all(conn)
        .await?;
    rows(conn, events).await
}

/// Every event of a meter, newest first.
pub async fn meter_events(conn: &impl ConnectionTrait, meter_id: i64) -> Result<Vec<SealEventRow>, DbErr> {
    let events = seal_event::Entity::find()
        .filter(seal_event::Column::MeterId.eq(meter_id))
        .order_by_desc(seal_event::Column::ReportedAt)
        .order_by_desc(seal_event::Column::Id)
        .all(conn)
        .await?;
    rows(conn, events).await
}

/// Adds meters, plots and staff names to events, in a fixed number of queries.
async fn rows(conn: &impl ConnectionTrait, events: Vec<seal_event::Model>) -> Result<Vec<SealEventRow>, DbErr> {
    let meters: HashMap<i64, meter::Model> = meter::Entity::find()
        .filter(meter::Column::Id.is_in(events.iter().map(|e| e.meter_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let plot_of_contract: HashMap<i64, i64> = contract::Entity::find()
        .filter(contract::Column::Id.is_in(meters.values().map(|m| m.contract_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, c.plot_id))
        .collect();
    let plots: HashMap<i64, PlotNumber> = plot::Entity::find()
        .filter(plot::Column::Id.is_in(plot_of_contract.values().copied()))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p.number))
        .collect();
    let people = events.iter().flat_map(|e| [e.reported_by_staff, e.resolved_by]).flatten();
    let names: HashMap<i64, String> = staff::Entity::find()
        .filter(staff::Column::Id.is_in(people))
        .all(conn)
        .await?
        .into_iter()
        .map(|s| (s.id, s.full_name))
        .collect();
    let name = |id: Option<i64>| id.and_then(|id| names.get(&id).cloned());
    Ok(events
        .into_iter()
        .filter_map(|event| {
            let meter = meters.get(&event.meter_id)?.clone();
            let plot_number = plots.get(plot_of_contract.get(&meter.contract_id)?)?.clone();
            Some(SealEventRow {
                reported_by: name(event.reported_by_staff),
                resolved_by: name(event.resolved_by),
                event,
                meter,
                plot_number,
            })
        })
        .collect())
}
