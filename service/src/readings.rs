//! Recording readings: one path for the consumer bot, the controller bot, the mobile form, the
//! panel and imports. Readings are only ever inserted; corrections supersede, reviews move status.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::validation::Baseline;
use domain::{
    JumpPolicy, MeterValue, Period, ReadingError, ReadingSource, ReadingStatus, ReadingVerdict, TextKind, TooLong,
    check_correction, check_reading,
};
use entities::{contract, meter, plot, reading};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, NotSet, QueryFilter,
    QueryOrder, QuerySelect, Set, SqlErr,
};
use serde_json::json;

use crate::audit::{self, Actor};
use crate::error::internal_errors;
use crate::{Context, Internal, billing, seals};

/// A reading as submitted.
#[derive(Debug, Clone)]
pub struct Submission {
    pub meter_id: i64,
    /// One value per register, in the meter's order (day before night).
    pub values: Vec<MeterValue>,
    pub source: ReadingSource,
    pub actor: Actor,
    pub seal_intact: Option<bool>,
    pub comment: Option<String>,
    pub photo_id: Option<i64>,
    /// The same key twice for the same meter from the same author records once (a retried
    /// Telegram update, a double-submitted form): 1 to [`MAX_KEY_LEN`] printable ASCII characters.
    pub idempotency_key: Option<String>,
    /// The submitter saw the warning about an unusual jump and confirmed the values.
    pub confirmed: bool,
    /// When the meter was read; now if not given (the panel may enter an earlier date).
    pub taken_at: Option<DateTime<Utc>>,
}

/// The longest idempotency key a caller may send.
pub const MAX_KEY_LEN: usize = 100;

impl Submission {
    /// The idempotency key as stored: scoped to the meter and the author, so that the same key
    /// sent for another meter or by another person is a new submission, never a repeat of
    /// theirs. The same shape as migration `m20261201_000002_scoped_reading_keys` gives old keys.
    fn stored_key(&self) -> Option<String> {
        let author = match (self.actor.staff_id(), self.actor.consumer_id()) {
            (Some(staff), _) => format!("s{staff}"),
            (None, Some(consumer)) => format!("c{consumer}"),
            (None, None) => "x".to_owned(),
        };
        self.idempotency_key.as_ref().map(|key| format!("m{}:{author}:{key}", self.meter_id))
    }

    /// Refuses a key that cannot tell one submission from another (empty, or beyond the limit)
    /// and a comment beyond its limit.
    fn check_text(&self) -> Result<(), SubmitError> {
        match &self.idempotency_key {
            Some(key) if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) => {
                Err(SubmitError::BadKey)
            }
            _ => Ok(TextKind::Comment.optional(self.comment.as_deref()).map(drop)?),
        }
    }
}

/// A reading that was stored (or had been stored already under the same key).
#[derive(Debug, Clone)]
pub struct Recorded {
    pub reading: reading::Model,
    /// True when the idempotency key had been used: nothing new was stored.
    pub duplicate: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("Счётчик не найден.")]
    UnknownMeter,
    #[error("Этот счётчик не относится к вашим договорам.")]
    NotYourMeter,
    #[error("Счётчик снят; показания по нему не принимаются.")]
    MeterRemoved,
    #[error("Договор закрыт; показания по нему не принимаются.")]
    ContractClosed,
    #[error(
        "Ключ повторной отправки (idempotency_key) — от 1 до {} латинских букв, цифр и знаков, без пробелов.",
        MAX_KEY_LEN
    )]
    BadKey,
    #[error(transparent)]
    Text(#[from] TooLong),
    #[error(transparent)]
    Invalid(#[from] ReadingError),
    /// Not an error for the user: show the warning and ask to confirm.
    #[error("{0}")]
    NeedsConfirmation(String),
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(SubmitError);

/// A meter with the contract and plot it belongs to.
#[derive(Debug, Clone)]
pub struct MeterInfo {
    pub meter: meter::Model,
    pub contract: contract::Model,
    pub plot: plot::Model,
}

pub async fn meter_info(conn: &impl ConnectionTrait, meter_id: i64) -> Result<Option<MeterInfo>, DbErr> {
    let Some((meter, Some(contract))) =
        meter::Entity::find_by_id(meter_id).find_also_related(contract::Entity).one(conn).await?
    else {
        return Ok(None);
    };
    let plot = plot::Entity::find_by_id(contract.plot_id).one(conn).await?;
    Ok(plot.map(|plot| MeterInfo { meter, contract, plot }))
}

/// The baseline a new reading of `meter` is checked against: its last accepted reading and the
/// average monthly consumption since installation.
pub async fn baseline(conn: &impl ConnectionTrait, meter: &meter::Model) -> Result<Baseline, DbErr> {
    let accepted = reading::Entity::find()
        .filter(reading::Column::MeterId.eq(meter.id))
        .filter(reading::Column::Status.eq(ReadingStatus::Accepted))
        .order_by_asc(reading::Column::TakenAt)
        .order_by_asc(reading::Column::Id)
        .all(conn)
        .await?;
    let history: Vec<(Period, Vec<MeterValue>)> = accepted.iter().map(|r| (r.period, r.values())).collect();
    let installed = Period::of(meter.installed_on);
    Ok(Baseline::from_history(meter.initial_values(), installed, &history))
}

/// Checks a reading without storing it, so a dialogue can warn before asking to confirm.
pub async fn check(ctx: &Context, submission: &Submission) -> Result<ReadingVerdict, SubmitError> {
    submission.check_text()?;
    let conn = ctx.db.conn();
    let info = meter_info(conn, submission.meter_id).await?.ok_or(SubmitError::UnknownMeter)?;
    verify(conn, ctx, &info, submission).await
}

async fn verify(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    info: &MeterInfo,
    submission: &Submission,
) -> Result<ReadingVerdict, SubmitError> {
    if let Some(consumer_id) = submission.actor.consumer_id()
        && info.contract.consumer_id != consumer_id
    {
        return Err(SubmitError::NotYourMeter);
    }
    if info.meter.removed_on.is_some() {
        return Err(SubmitError::MeterRemoved);
    }
    if info.contract.closed_on.is_some() {
        return Err(SubmitError::ContractClosed);
    }
    let baseline = baseline(conn, &info.meter).await?;
    let period = Period::of(ctx.local_date(submission.taken_at.unwrap_or_else(|| ctx.now())));
    let policy = JumpPolicy::for_service(info.contract.service, ctx.settings.jump_factor);
    Ok(check_reading(info.meter.zone_list(), &submission.values, period, &baseline, policy)?)
}

/// Validates and stores a reading; accepted readings update the meter's charges at once.
pub async fn submit(ctx: &Context, submission: Submission) -> Result<Recorded, SubmitError> {
    submission.check_text()?;
    let ctx2 = ctx.clone();
    let key = submission.stored_key();
    let result = ctx
        .db
        .write(move |txn| {
            Box::pin(async move {
                if let Some(existing) = find_by_key(txn, submission.stored_key().as_deref()).await? {
                    return Ok(Recorded { reading: existing, duplicate: true });
                }
                let info = meter_info(txn, submission.meter_id).await?.ok_or(SubmitError::UnknownMeter)?;
                let verdict = verify(txn, &ctx2, &info, &submission).await?;
                if let Some(warning) = verdict.warning()
                    && !submission.confirmed
                {
                    return Err(SubmitError::NeedsConfirmation(warning));
                }
                let status = if verdict.is_suspicious() { ReadingStatus::Flagged } else { ReadingStatus::Accepted };
                let reading = insert(txn, &ctx2, &submission, status, None).await?;
                if submission.seal_intact.is_some() && submission.actor.staff_id().is_some() {
                    note_seal_check(txn, &ctx2, &info.meter, &reading).await?;
                }
                audit::record(
                    txn,
                    &ctx2,
                    submission.actor,
                    "reading.submit",
                    "reading",
                    Some(reading.id),
                    json!({"meter_id": info.meter.id, "values": submission.values, "status": status.code(),
                           "source": submission.source.code()}),
                )
                .await?;
                if status == ReadingStatus::Accepted {
                    recompute_logged(txn, &ctx2, info.meter.id).await?;
                }
                Ok(Recorded { reading, duplicate: false })
            })
        })
        .await;
    match result {
        // A concurrent submission with the same key won the race (PostgreSQL has no write gate).
        Err(SubmitError::Internal(e)) if key.is_some() && is_unique_violation(&e) => {
            let reading = find_by_key(ctx.db.conn(), key.as_deref()).await?.ok_or(SubmitError::Internal(e))?;
            Ok(Recorded { reading, duplicate: true })
        }
        other => other,
    }
}

/// The reading already stored under this submission's idempotency key, if any. A retry whose
/// answer was lost is answered with it before anything is checked or stored again: checked
/// again, it could be refused against a later reading, though it is stored.
pub async fn already_recorded(ctx: &Context, submission: &Submission) -> Result<Option<reading::Model>, SubmitError> {
    submission.check_text()?;
    Ok(find_by_key(ctx.db.conn(), submission.stored_key().as_deref()).await?)
}

fn is_unique_violation(e: &Internal) -> bool {
    e.0.downcast_ref::<DbErr>().is_some_and(|e| matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))))
}

async fn find_by_key(conn: &impl ConnectionTrait, key: Option<&str>) -> Result<Option<reading::Model>, DbErr> {
    match key {
        Some(key) => reading::Entity::find().filter(reading::Column::IdempotencyKey.eq(key)).one(conn).await,
        None => Ok(None),
    }
}

pub(crate) async fn insert(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    s: &Submission,
    status: ReadingStatus,
    supersedes: Option<i64>,
) -> Result<reading::Model, DbErr> {
    let taken_at = s.taken_at.unwrap_or_else(|| ctx.now());
    reading::ActiveModel {
        id: NotSet,
        meter_id: Set(s.meter_id),
        period: Set(Period::of(ctx.local_date(taken_at))),
        taken_at: Set(taken_at),
        value_t1: Set(s.values[0]),
        value_t2: Set(s.values.get(1).copied()),
        source: Set(s.source),
        staff_id: Set(s.actor.staff_id()),
        consumer_id: Set(s.actor.consumer_id()),
        seal_intact: Set(s.seal_intact),
        comment: Set(s.comment.clone().filter(|c| !c.trim().is_empty())),
        photo_id: Set(s.photo_id),
        status: Set(status),
        supersedes_id: Set(supersedes),
        idempotency_key: Set(s.stored_key()),
        created_at: Set(ctx.now()),
    }
    .insert(conn)
    .await
}

/// Notes a staff member's seal check; a broken seal opens a seal event for the admins.
async fn note_seal_check(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    meter: &meter::Model,
    reading: &reading::Model,
) -> Result<(), DbErr> {
    let mut active = meter.clone().into_active_model();
    active.seal_checked_on = Set(Some(ctx.today()));
    active.update(conn).await?;
    if reading.seal_intact == Some(false) {
        seals::report(conn, ctx, reading).await?;
    }
    Ok(())
}

/// Recomputes a meter's charges; a missing tariff is logged, not fatal: the reading stays.
pub(crate) async fn recompute_logged(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    meter_id: i64,
) -> Result<(), Internal> {
    match billing::recompute_meter(conn, ctx, meter_id).await {
        Ok(()) => Ok(()),
        Err(billing::RecomputeError::Billing(e)) => {
            tracing::error!(meter = meter_id, "charges not updated: {e}");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

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
    let ctx2 = ctx.clone();
    ctx.db
        .write(move |txn| {
            Box::pin(async move {
                let old =
                    reading::Entity::find_by_id(reading_id).one(txn).await?.ok_or(CorrectionError::UnknownReading)?;
                if !matches!(old.status, ReadingStatus::Accepted | ReadingStatus::Flagged) {
                    return Err(CorrectionError::NotCurrent);
                }
                let meter =
                    meter::Entity::find_by_id(old.meter_id).one(txn).await?.ok_or(CorrectionError::UnknownReading)?;
                let neighbours = reading::Entity::find()
                    .filter(reading::Column::MeterId.eq(meter.id))
                    .filter(reading::Column::Status.eq(ReadingStatus::Accepted))
                    .filter(reading::Column::Id.ne(old.id))
                    .order_by_asc(reading::Column::TakenAt)
                    .order_by_asc(reading::Column::Id)
                    .all(txn)
                    .await?;
                let (before, after): (Vec<_>, Vec<_>) = neighbours.iter().partition(|r| r.taken_at <= old.taken_at);
                let before_values = before.last().map(|r| r.values()).unwrap_or_else(|| meter.initial_values());
                let after_values = after.first().map(|r| r.values());
                check_correction(meter.zone_list(), &values, &before_values, after_values.as_deref())?;

                let submission = Submission {
                    meter_id: meter.id,
                    values: values.clone(),
                    source: ReadingSource::Panel,
                    actor: Actor::Staff(staff_id),
                    seal_intact: old.seal_intact,
                    comment: Some(reason.clone()),
                    photo_id: old.photo_id,
                    idempotency_key: None,
                    confirmed: true,
                    taken_at: Some(old.taken_at),
                };
                let new = insert(txn, &ctx2, &submission, ReadingStatus::Accepted, Some(old.id)).await?;
                set_status(txn, &old, ReadingStatus::Superseded).await?;
                audit::record(
                    txn,
                    &ctx2,
                    Actor::Staff(staff_id),
                    "reading.correct",
                    "reading",
                    Some(new.id),
                    json!({"supersedes": old.id, "old_values": old.values(), "new_values": values, "reason": reason}),
                )
                .await?;
                recompute_logged(txn, &ctx2, meter.id).await?;
                Ok(new)
            })
        })
        .await
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
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(ReviewError);

pub async fn review(
    ctx: &Context,
    reading_id: i64,
    decision: Decision,
    staff_id: i64,
) -> Result<reading::Model, ReviewError> {
    let ctx2 = ctx.clone();
    ctx.db
        .write(move |txn| {
            Box::pin(async move {
                let reading =
                    reading::Entity::find_by_id(reading_id).one(txn).await?.ok_or(ReviewError::UnknownReading)?;
                if reading.status != ReadingStatus::Flagged {
                    return Err(ReviewError::NotFlagged);
                }
                let status = match decision {
                    Decision::Accept => ReadingStatus::Accepted,
                    Decision::Reject => ReadingStatus::Rejected,
                };
                let updated = set_status(txn, &reading, status).await?;
                audit::record(
                    txn,
                    &ctx2,
                    Actor::Staff(staff_id),
                    "reading.review",
                    "reading",
                    Some(reading.id),
                    json!({"status": status.code()}),
                )
                .await?;
                if status == ReadingStatus::Accepted {
                    recompute_logged(txn, &ctx2, reading.meter_id).await?;
                }
                Ok(updated)
            })
        })
        .await
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

/// The latest readings of a meter, newest first (all statuses, for history screens).
pub async fn history(conn: &impl ConnectionTrait, meter_id: i64, limit: u64) -> Result<Vec<reading::Model>, DbErr> {
    reading::Entity::find()
        .filter(reading::Column::MeterId.eq(meter_id))
        .order_by_desc(reading::Column::TakenAt)
        .order_by_desc(reading::Column::Id)
        .limit(limit)
        .all(conn)
        .await
}

/// The last accepted reading of each meter.
pub async fn last_accepted(
    conn: &impl ConnectionTrait,
    meter_ids: &[i64],
) -> Result<HashMap<i64, reading::Model>, DbErr> {
    let readings = reading::Entity::find()
        .filter(reading::Column::MeterId.is_in(meter_ids.iter().copied()))
        .filter(reading::Column::Status.eq(ReadingStatus::Accepted))
        .order_by_asc(reading::Column::TakenAt)
        .order_by_asc(reading::Column::Id)
        .all(conn)
        .await?;
    Ok(readings.into_iter().map(|r| (r.meter_id, r)).collect())
}

/// SQL condition: the contract `k` is to be read (open, with a meter in service) and has no
/// reading in the period bound to `?`. A reading waiting for review counts, and so does the final
/// reading of a meter replaced in the period, as in the monthly report.
pub(crate) const UNREAD_CONTRACT: &str = "k.closed_on IS NULL \
    AND EXISTS (SELECT 1 FROM meters m WHERE m.contract_id = k.id AND m.removed_on IS NULL) \
    AND NOT EXISTS (SELECT 1 FROM readings r JOIN meters rm ON rm.id = r.meter_id \
                    WHERE rm.contract_id = k.id AND r.period = ? AND r.status IN ('accepted', 'flagged'))";

/// Plots with a contract unread in `period` (see [`UNREAD_CONTRACT`]), in walking order.
pub async fn unread_plots(conn: &impl ConnectionTrait, period: Period) -> Result<Vec<plot::Model>, DbErr> {
    let sql = format!("SELECT DISTINCT k.plot_id FROM contracts k WHERE {UNREAD_CONTRACT}");
    let rows = crate::db::query(conn, &sql, [period.to_string().into()]).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.try_get("", "plot_id")).collect::<Result<_, _>>()?;
    let mut plots = plot::Entity::find().filter(plot::Column::Id.is_in(ids)).all(conn).await?;
    plots.sort_by(|a, b| domain::PlotNumber::route_order(a.number.as_str(), b.number.as_str()));
    Ok(plots)
}

/// The latest reading of each meter in `period` that counts as read there (accepted or waiting
/// for review, as in [`unread_plots`]).
pub async fn read_in_period(
    conn: &impl ConnectionTrait,
    meter_ids: &[i64],
    period: Period,
) -> Result<HashMap<i64, reading::Model>, DbErr> {
    let readings = reading::Entity::find()
        .filter(reading::Column::MeterId.is_in(meter_ids.iter().copied()))
        .filter(reading::Column::Period.eq(period))
        .filter(reading::Column::Status.is_in([ReadingStatus::Accepted, ReadingStatus::Flagged]))
        .order_by_asc(reading::Column::TakenAt)
        .order_by_asc(reading::Column::Id)
        .all(conn)
        .await?;
    Ok(readings.into_iter().map(|r| (r.meter_id, r)).collect())
}

/// The first plot unread in `period` after `current` on the walking route, wrapping round to the
/// start; never `current` itself.
pub async fn next_unread(
    conn: &impl ConnectionTrait,
    period: Period,
    current: &domain::PlotNumber,
) -> Result<Option<plot::Model>, DbErr> {
    let unread = unread_plots(conn, period).await?;
    let after = |p: &&plot::Model| domain::PlotNumber::route_order(p.number.as_str(), current.as_str()).is_gt();
    Ok(unread.iter().find(after).or_else(|| unread.iter().find(|p| p.number != *current)).cloned())
}
