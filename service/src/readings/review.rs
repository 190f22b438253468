//! An admin's decisions on stored readings: a correction that supersedes a reading, and the
//! review that accepts or rejects one held for an unusual jump.

use domain::{MeterValue, ReadingError, ReadingSource, ReadingStatus, TextKind, TooLong, check_correction};
use entities::{meter, reading};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use super::{Submission, insert, recompute_logged};
use crate::audit::{self, Actor};
use crate::error::internal_errors;
use crate::{Context, Internal};
use domain::CauseKind;
use domain::ledger::Cause;

#[derive(Debug, thiserror::Error)]
pub enum CorrectionError {
    #[error("Показание не найдено.")]
    UnknownReading,
    #[error("Это показание уже исправлено или отклонено; исправляйте последнюю версию.")]
    NotCurrent,
    #[error("Укажите причину исправления.")]
    NoReason,
    #[error(transparent)]
    Text(#[from] TooLong),
    #[error(transparent)]
    Invalid(#[from] ReadingError),
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(CorrectionError);

/// An admin's correction: a new accepted reading that supersedes `reading_id`, taken at the same
/// time. The new values must fit between the accepted readings before and after it.
pub async fn correct(
    ctx: &Context,
    reading_id: i64,
    values: Vec<MeterValue>,
    reason: &str,
    staff_id: i64,
) -> Result<reading::Model, CorrectionError> {
    let reason = TextKind::Reason.bounded(reason)?;
    if reason.is_empty() {
        return Err(CorrectionError::NoReason);
    }
    let txn = ctx.db.begin_write().await?;
    let old = reading::Entity::find_by_id(reading_id).one(&txn).await?.ok_or(CorrectionError::UnknownReading)?;
    if !matches!(old.status, ReadingStatus::Accepted | ReadingStatus::Flagged) {
        return Err(CorrectionError::NotCurrent);
    }
    let meter = meter::Entity::find_by_id(old.meter_id).one(&txn).await?.ok_or(CorrectionError::UnknownReading)?;
    fits_between_neighbours(&txn, &meter, &old, &values).await??;

    let submission = Submission {
        seal_intact: old.seal_intact,
        comment: Some(reason.clone()),
        photo_id: old.photo_id,
        confirmed: true,
        taken_at: Some(old.taken_at),
        ..Submission::new(meter.id, values.clone(), ReadingSource::Panel, Actor::Staff(staff_id))
    };
    let new = insert(&txn, ctx, &submission, ReadingStatus::Accepted, Some(old.id)).await?;
    set_status(&txn, &old, ReadingStatus::Superseded).await?;
    let details = json!({"supersedes": old.id, "old_values": old.values(), "new_values": values, "reason": reason});
    audit::record(&txn, ctx, Actor::Staff(staff_id), "reading.correct", "reading", Some(new.id), details).await?;
    let cause = Cause { kind: CauseKind::Correction, id: new.id, on: ctx.local_date(old.taken_at) };
    recompute_logged(&txn, ctx, meter.id, cause).await?;
    txn.commit().await?;
    Ok(new)
}

/// An admin's decision on a flagged reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Accept,
    Reject,
}

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("Показание не найдено.")]
    UnknownReading,
    #[error("Это показание не ждёт проверки.")]
    NotFlagged,
    /// Readings accepted while it waited leave it out of order: accepted, it would stop the
    /// meter's billing.
    #[error("{}", out_of_order(.0))]
    OutOfOrder(ReadingError),
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(ReviewError);

fn out_of_order(error: &ReadingError) -> String {
    let fix = "Исправьте одно из них или отклоните это показание.";
    match error {
        ReadingError::AboveNext { zone_label, next, new } => {
            format!("Принять нельзя: показание ({zone_label}) {new} больше принятого после него ({next}). {fix}")
        }
        ReadingError::Decreasing { zone_label, previous, new } => {
            format!("Принять нельзя: показание ({zone_label}) {new} меньше предыдущего ({previous}). {fix}")
        }
        other => format!("Принять нельзя: {other} {fix}"),
    }
}

pub async fn review(
    ctx: &Context,
    reading_id: i64,
    decision: Decision,
    staff_id: i64,
) -> Result<reading::Model, ReviewError> {
    let txn = ctx.db.begin_write().await?;
    let reading = reading::Entity::find_by_id(reading_id).one(&txn).await?.ok_or(ReviewError::UnknownReading)?;
    if reading.status != ReadingStatus::Flagged {
        return Err(ReviewError::NotFlagged);
    }
    let status = match decision {
        Decision::Accept => ReadingStatus::Accepted,
        Decision::Reject => ReadingStatus::Rejected,
    };
    if status == ReadingStatus::Accepted {
        let meter = meter::Entity::find_by_id(reading.meter_id).one(&txn).await?.ok_or(ReviewError::UnknownReading)?;
        fits_between_neighbours(&txn, &meter, &reading, &reading.values()).await?.map_err(ReviewError::OutOfOrder)?;
    }
    let updated = set_status(&txn, &reading, status).await?;
    let details = json!({"status": status.code()});
    audit::record(&txn, ctx, Actor::Staff(staff_id), "reading.review", "reading", Some(reading.id), details).await?;
    if status == ReadingStatus::Accepted {
        let cause = Cause { kind: CauseKind::Review, id: reading.id, on: ctx.local_date(reading.taken_at) };
        recompute_logged(&txn, ctx, reading.meter_id, cause).await?;
    }
    txn.commit().await?;
    Ok(updated)
}

/// Whether `values`, for `reading`'s moment, fit between the meter's accepted readings around it
/// (the reading itself left out).
async fn fits_between_neighbours(
    conn: &impl ConnectionTrait,
    meter: &meter::Model,
    reading: &reading::Model,
    values: &[MeterValue],
) -> Result<Result<(), ReadingError>, DbErr> {
    let neighbours = reading::Entity::find()
        .filter(reading::Column::MeterId.eq(meter.id))
        .filter(reading::Column::Status.eq(ReadingStatus::Accepted))
        .filter(reading::Column::Id.ne(reading.id))
        .order_by_asc(reading::Column::TakenAt)
        .order_by_asc(reading::Column::Id)
        .all(conn)
        .await?;
    let (before, after): (Vec<_>, Vec<_>) = neighbours.iter().partition(|r| r.taken_at <= reading.taken_at);
    let before_values = before.last().map(|r| r.values()).unwrap_or_else(|| meter.initial_values());
    let after_values = after.first().map(|r| r.values());
    Ok(check_correction(meter.zone_list(), values, &before_values, after_values.as_deref()))
}

async fn set_status(
    conn: &impl ConnectionTrait,
    reading: &reading::Model,
    status: ReadingStatus,
) -> Result<reading::Model, DbErr> {
    let mut active = reading.clone().into_active_model();
    active.status = Set(status);
    active.update(conn).await
}
