//! Recording readings: one path for the consumer bot, the controller bot, the mobile form, the
//! panel and imports. Readings are only ever inserted; corrections supersede, reviews move status
//! ([`review`]). What was read shows in [`history`]; what is still to read this month in
//! [`walk`]; who is reminded to send theirs in [`reminders`].

pub mod history;
pub mod reminders;
pub mod review;
pub mod walk;

use chrono::{DateTime, Utc};
use domain::validation::Baseline;
use domain::{
    JumpPolicy, MeterValue, Period, ReadingError, ReadingSource, ReadingStatus, ReadingVerdict, TextKind, TooLong,
    check_correction, check_reading,
};
use entities::{meter, reading};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, NotSet, QueryFilter,
    QueryOrder, Set, SqlErr,
};
use serde_json::json;

use crate::audit::{self, Actor};
use crate::error::internal_errors;
use crate::ledger::charges;
use crate::meters::seals;
use crate::register::cards::{MeterInfo, meter_info};
use crate::{Context, Internal};
use domain::CauseKind;
use domain::ledger::Cause;

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
    /// `values` for `meter_id` from `actor` through `source`, nothing else stated: no seal,
    /// comment, photo or key, not confirmed, taken now. The rest is set by struct update.
    pub fn new(meter_id: i64, values: Vec<MeterValue>, source: ReadingSource, actor: Actor) -> Submission {
        Submission {
            meter_id,
            values,
            source,
            actor,
            seal_intact: None,
            comment: None,
            photo_id: None,
            idempotency_key: None,
            confirmed: false,
            taken_at: None,
        }
    }

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
    /// A controller's reading states the seal.
    #[error("Отметьте, цела ли пломба: без этого показание контролёра не принимается.")]
    SealNotStated,
    /// A controller's reading brings a photo.
    #[error("Прикрепите фото счётчика, на котором видны цифры: без фото показание контролёра не принимается.")]
    NoPhoto,
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

/// A meter's accepted readings in the order they were taken: what its charges are priced from and
/// a new reading is checked against.
pub(crate) async fn accepted_in_order(
    conn: &impl ConnectionTrait,
    meter_id: i64,
) -> Result<Vec<reading::Model>, DbErr> {
    reading::Entity::find()
        .filter(reading::Column::MeterId.eq(meter_id))
        .filter(reading::Column::Status.eq(ReadingStatus::Accepted))
        .order_by_asc(reading::Column::TakenAt)
        .order_by_asc(reading::Column::Id)
        .all(conn)
        .await
}

/// The baseline a reading of `meter` is checked against, from the accepted readings taken before
/// it: the last of them and the average monthly consumption since installation.
fn baseline(meter: &meter::Model, before: &[reading::Model]) -> Baseline {
    let history: Vec<(Period, Vec<MeterValue>)> = before.iter().map(|r| (r.period, r.values())).collect();
    Baseline::from_history(meter.initial_values(), Period::of(meter.installed_on), &history)
}

/// A controller reads on the spot, so their reading states the seal and brings a photo of the
/// meter; others may leave both out. `has_photo` lets a form ask before it stores the photo it
/// carries, so a refused reading leaves no photo behind; [`submit`] asks again with the stored one.
pub fn check_evidence(source: ReadingSource, seal_intact: Option<bool>, has_photo: bool) -> Result<(), SubmitError> {
    let by_controller = matches!(source, ReadingSource::ControllerBot | ReadingSource::ControllerWeb);
    match (by_controller, seal_intact, has_photo) {
        (true, None, _) => Err(SubmitError::SealNotStated),
        (true, Some(_), false) => Err(SubmitError::NoPhoto),
        _ => Ok(()),
    }
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
    let taken_at = submission.taken_at.unwrap_or_else(|| ctx.now());
    let period = Period::of(ctx.local_date(taken_at));
    let accepted = accepted_in_order(conn, info.meter.id).await?;
    if let Some(latest) = accepted.last()
        && period < latest.period
    {
        return Err(ReadingError::PeriodClosed { period: period.russian() }.into());
    }
    // A reading queued on a phone without a signal may arrive after one taken later the same
    // month: it is checked against the reading before it, and may not pass the one after it.
    let (before, after) = accepted.split_at(accepted.partition_point(|r| r.taken_at <= taken_at));
    let baseline = baseline(&info.meter, before);
    let zones = info.meter.zone_list();
    if let Some(next) = after.first() {
        check_correction(zones, &submission.values, &baseline.last, Some(&next.values()))?;
    }
    let policy = JumpPolicy::for_service(info.contract.service, ctx.settings.jump_factor);
    Ok(check_reading(zones, &submission.values, period, &baseline, policy)?)
}

/// Validates and stores a reading; accepted readings update the meter's charges at once.
pub async fn submit(ctx: &Context, submission: Submission) -> Result<Recorded, SubmitError> {
    submission.check_text()?;
    check_evidence(submission.source, submission.seal_intact, submission.photo_id.is_some())?;
    let key = submission.stored_key();
    match record(ctx, &submission).await {
        // A concurrent submission with the same key won the race (PostgreSQL has no write gate).
        Err(SubmitError::Internal(e)) if key.is_some() && is_unique_violation(&e) => {
            let reading = find_by_key(ctx.db.conn(), key.as_deref()).await?.ok_or(SubmitError::Internal(e))?;
            Ok(Recorded { reading, duplicate: true })
        }
        other => other,
    }
}

/// The write of [`submit`], in one transaction.
async fn record(ctx: &Context, submission: &Submission) -> Result<Recorded, SubmitError> {
    let txn = ctx.db.begin_write().await?;
    if let Some(existing) = find_by_key(&txn, submission.stored_key().as_deref()).await? {
        return Ok(Recorded { reading: existing, duplicate: true });
    }
    let info = meter_info(&txn, submission.meter_id).await?.ok_or(SubmitError::UnknownMeter)?;
    let verdict = verify(&txn, ctx, &info, submission).await?;
    if let Some(warning) = verdict.warning()
        && !submission.confirmed
    {
        return Err(SubmitError::NeedsConfirmation(warning));
    }
    let status = if verdict.is_suspicious() { ReadingStatus::Flagged } else { ReadingStatus::Accepted };
    let reading = insert(&txn, ctx, submission, status, None).await?;
    if submission.seal_intact.is_some() && submission.actor.staff_id().is_some() {
        note_seal_check(&txn, ctx, &info.meter, &reading).await?;
    }
    let details = json!({"meter_id": info.meter.id, "values": submission.values, "status": status.code(),
                         "source": submission.source.code()});
    audit::record(&txn, ctx, submission.actor, "reading.submit", "reading", Some(reading.id), details).await?;
    if status == ReadingStatus::Accepted {
        let cause = Cause { kind: CauseKind::LateReading, id: reading.id, on: ctx.local_date(reading.taken_at) };
        recompute_logged(&txn, ctx, info.meter.id, cause).await?;
    }
    txn.commit().await?;
    crate::metrics::recorded("reading", submission.source.code(), 1);
    Ok(Recorded { reading, duplicate: false })
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

/// Recomputes a meter's charges after `cause`; a missing tariff is logged, not fatal: the
/// reading stays.
pub(crate) async fn recompute_logged(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    meter_id: i64,
    cause: Cause,
) -> Result<(), Internal> {
    match charges::recompute_meter(conn, ctx, meter_id, cause).await {
        Ok(()) => Ok(()),
        Err(charges::RecomputeError::Billing(e)) => {
            tracing::error!(meter = meter_id, "charges not updated: {e}");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}
