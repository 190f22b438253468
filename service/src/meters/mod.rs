//! A meter's life after installation: replaced by another meter, or rolled over past its maximum,
//! and the meters due for verification (поверка); its seal ([`seals`]) and photos ([`photos`]).
//!
//! A meter record's readings only go forward and billing counts each record from its initial
//! values. So a replacement closes the old record with a final reading and installs a new record
//! on the same contract: consumption up to the final reading is charged on the old meter, from
//! the new meter's initial values on the new one, and a month with both pays for both. A rollover
//! is the meter replaced by itself (see [`domain::rollover()`]).

pub mod photos;
pub mod seals;

use std::collections::HashMap;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use domain::{
    MeterValue, ReadingError, ReadingSource, ReadingStatus, RolloverError, TextKind, TooLong, check_correction,
};
use entities::{contract, meter, plot, reading};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;

use crate::audit::{self, Actor};
use crate::error::internal_errors;
use crate::readings::Submission;
use crate::register::cards::{MeterCard, MeterInfo};
use crate::register::sign_up::NewMeter;
use crate::register::{cards, sign_up};
use crate::{Context, Internal, readings};
use domain::CauseKind;
use domain::ledger::Cause;

/// How far ahead the office looks for verification dates.
pub const VERIFICATION_NOTICE_DAYS: u32 = 60;

/// An admin's replacement of a meter: the old one's final reading and the new one's details.
#[derive(Debug, Clone)]
pub struct Replacement {
    pub meter_id: i64,
    /// One value per register, what the old meter showed when taken off.
    pub final_values: Vec<MeterValue>,
    /// The day of the replacement: the old meter's removal and the new one's installation.
    pub final_taken_on: NaiveDate,
    pub new_serial: String,
    pub new_initial_values: Vec<MeterValue>,
    pub new_seal_number: Option<String>,
    pub new_verification_due: Option<NaiveDate>,
    pub reason: String,
}

/// A replacement or rollover done.
#[derive(Debug, Clone)]
pub struct Replaced {
    /// The old record, now removed.
    pub old_meter: meter::Model,
    pub final_reading: reading::Model,
    pub new_meter: meter::Model,
    /// The new record's first reading: a rollover's value read after passing zero.
    pub first_reading: Option<reading::Model>,
}

#[derive(Debug, thiserror::Error)]
pub enum MeterError {
    #[error("Счётчик не найден или уже не в работе (снят, договор закрыт).")]
    NotInService,
    #[error("У счётчика есть показания на проверке: сначала примите или отклоните их.")]
    PendingReview,
    #[error("Укажите заводской номер нового счётчика.")]
    NoSerial,
    #[error("Укажите причину замены.")]
    NoReason,
    #[error("Дата не может быть раньше {} — последнего показания или установки счётчика.", .0.format("%d.%m.%Y"))]
    TooEarly(NaiveDate),
    #[error("Дата не может быть позже сегодняшней.")]
    InFuture,
    #[error(transparent)]
    Invalid(#[from] ReadingError),
    #[error(transparent)]
    Rollover(#[from] RolloverError),
    #[error(transparent)]
    Text(#[from] TooLong),
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(MeterError);

/// Replaces a meter: the old one's final reading (not below its last accepted reading), its
/// removal, and the new meter on the same contract, all in one transaction.
pub async fn replace(ctx: &Context, replacement: Replacement, staff_id: i64) -> Result<Replaced, MeterError> {
    let reason = TextKind::Reason.bounded(&replacement.reason)?;
    if reason.is_empty() {
        return Err(MeterError::NoReason);
    }
    let next = NewMeter {
        serial: replacement.new_serial,
        installed_on: replacement.final_taken_on,
        initial: replacement.new_initial_values,
        seal_number: replacement.new_seal_number,
        verification_due: replacement.new_verification_due,
    }
    .checked(|| MeterError::NoSerial)?;
    let (meter_id, final_values, taken_on) =
        (replacement.meter_id, replacement.final_values, replacement.final_taken_on);
    let txn = ctx.db.begin_write().await?;
    let card = removable(&txn, ctx, meter_id, taken_on).await?;
    let zones = card.meter.zone_list();
    check_correction(zones, &final_values, &card.last_values(), None)?;
    if next.initial.len() != zones.len() {
        let got = next.initial.len();
        return Err(ReadingError::WrongZoneCount { expected: zones.len(), got }.into());
    }
    let swap = Swap {
        action: "meter.replace",
        reason,
        closing: final_values,
        next,
        // A new meter is sealed when it is installed.
        seal_checked_on: Some(taken_on),
    };
    let replaced = swap.run(&txn, ctx, &card, staff_id).await?;
    txn.commit().await?;
    Ok(replaced)
}

/// Records a counter that passed its maximum (`digits` whole digits) and now shows `new_values`:
/// the meter record closes at the wrap value and a new record of the same meter restarts from
/// zero with `new_values` as its first reading. Refused unless some register went down.
pub async fn rollover(
    ctx: &Context,
    meter_id: i64,
    digits: u32,
    new_values: Vec<MeterValue>,
    taken_on: NaiveDate,
    staff_id: i64,
) -> Result<Replaced, MeterError> {
    let txn = ctx.db.begin_write().await?;
    let card = removable(&txn, ctx, meter_id, taken_on).await?;
    let split = domain::rollover(digits, card.meter.zone_list(), &card.last_values(), &new_values)?;
    let old = &card.meter;
    let swap = Swap {
        action: "meter.rollover",
        reason: format!("Переход через ноль (табло из {digits} цифр до запятой)"),
        closing: split.closing,
        next: NewMeter {
            serial: old.serial.clone(),
            installed_on: taken_on,
            initial: split.restart,
            seal_number: old.seal_number.clone(),
            verification_due: old.verification_due,
        },
        // Nobody touched the seal.
        seal_checked_on: old.seal_checked_on,
    };
    let reason = swap.reason.clone();
    let mut done = swap.run(&txn, ctx, &card, staff_id).await?;
    let first = panel_reading(done.new_meter.id, new_values, done.final_reading.taken_at, reason, staff_id);
    let first = readings::insert(&txn, ctx, &first, ReadingStatus::Accepted, None).await?;
    let cause = Cause { kind: CauseKind::Rollover, id: first.id, on: taken_on };
    readings::recompute_logged(&txn, ctx, done.new_meter.id, cause).await?;
    done.first_reading = Some(first);
    txn.commit().await?;
    Ok(done)
}

/// The meter in service on an open contract, if `on` may be the day it is taken off: not in
/// the future, not before its installation or its last accepted reading. A reading waiting for
/// review is decided first: accepted after the meter's final reading, it would break its history.
async fn removable(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    meter_id: i64,
    on: NaiveDate,
) -> Result<MeterCard, MeterError> {
    let card = cards::meter_card(conn, meter_id).await?.ok_or(MeterError::NotInService)?;
    let pending = reading::Entity::find()
        .filter(reading::Column::MeterId.eq(meter_id))
        .filter(reading::Column::Status.eq(ReadingStatus::Flagged))
        .count(conn)
        .await?;
    if pending > 0 {
        return Err(MeterError::PendingReview);
    }
    if on > ctx.today() {
        return Err(MeterError::InFuture);
    }
    let last_read = card.last_reading.as_ref().map(|r| ctx.local_date(r.taken_at));
    let earliest = last_read.map_or(card.meter.installed_on, |last| last.max(card.meter.installed_on));
    if on < earliest {
        return Err(MeterError::TooEarly(earliest));
    }
    Ok(card)
}

/// A meter record closed with a final reading and another installed in its place.
struct Swap {
    /// The audit log's action on the old record.
    action: &'static str,
    reason: String,
    closing: Vec<MeterValue>,
    next: NewMeter,
    seal_checked_on: Option<NaiveDate>,
}

impl Swap {
    async fn run(
        self,
        conn: &impl ConnectionTrait,
        ctx: &Context,
        card: &MeterCard,
        staff_id: i64,
    ) -> Result<Replaced, MeterError> {
        let on = self.next.installed_on;
        let closing = panel_reading(card.meter.id, self.closing, moment(ctx, on), self.reason.clone(), staff_id);
        let final_reading = readings::insert(conn, ctx, &closing, ReadingStatus::Accepted, None).await?;
        let mut old = card.meter.clone().into_active_model();
        old.removed_on = Set(Some(on));
        let old_meter = old.update(conn).await?;
        let new_meter = sign_up::install(conn, card.contract.id, &self.next, self.seal_checked_on, ctx.now()).await?;

        let staff = Actor::Staff(staff_id);
        let details = json!({"final_reading_id": final_reading.id, "final_values": closing.values,
                             "removed_on": on, "new_meter_id": new_meter.id, "reason": self.reason});
        audit::record(conn, ctx, staff, self.action, "meter", Some(old_meter.id), details).await?;
        let details = json!({"replaces": old_meter.id, "serial": new_meter.serial, "installed_on": on,
                             "initial": self.next.initial, "reason": self.reason});
        audit::record(conn, ctx, staff, "meter.install", "meter", Some(new_meter.id), details).await?;
        let kind = if self.action == "meter.rollover" { CauseKind::Rollover } else { CauseKind::Replacement };
        let cause = Cause { kind, id: final_reading.id, on };
        readings::recompute_logged(conn, ctx, old_meter.id, cause).await?;
        Ok(Replaced { old_meter, final_reading, new_meter, first_reading: None })
    }
}

/// An accepted reading an admin enters with a meter's replacement.
fn panel_reading(
    meter_id: i64,
    values: Vec<MeterValue>,
    taken_at: DateTime<Utc>,
    comment: String,
    staff_id: i64,
) -> Submission {
    Submission {
        comment: Some(comment),
        confirmed: true,
        taken_at: Some(taken_at),
        ..Submission::new(meter_id, values, ReadingSource::Panel, Actor::Staff(staff_id))
    }
}

/// When a reading entered for day `on` was taken: now if that is today, else the end of that
/// day, so that it follows every other reading of the day.
fn moment(ctx: &Context, on: NaiveDate) -> DateTime<Utc> {
    if on == ctx.today() {
        return ctx.now();
    }
    let end = on.and_time(NaiveTime::from_hms_opt(23, 59, 59).expect("a valid time"));
    ctx.settings.tz.from_local_datetime(&end).earliest().map_or_else(|| end.and_utc(), |t| t.to_utc())
}

/// Every meter a contract has had, in the order they were installed.
pub async fn of_contract(conn: &impl ConnectionTrait, contract_id: i64) -> Result<Vec<meter::Model>, DbErr> {
    meter::Entity::find()
        .filter(meter::Column::ContractId.eq(contract_id))
        .order_by_asc(meter::Column::InstalledOn)
        .order_by_asc(meter::Column::Id)
        .all(conn)
        .await
}

/// Meters in service on open contracts due for verification within `within_days` of `today`
/// (that day included), by date: the overdue ones first.
pub async fn verification_due(
    conn: &impl ConnectionTrait,
    today: NaiveDate,
    within_days: u32,
) -> Result<Vec<MeterInfo>, DbErr> {
    let until = today + Days::new(within_days.into());
    let due = meter::Entity::find()
        .find_also_related(contract::Entity)
        .filter(meter::Column::RemovedOn.is_null())
        .filter(contract::Column::ClosedOn.is_null())
        .filter(meter::Column::VerificationDue.lte(until))
        .order_by_asc(meter::Column::VerificationDue)
        .order_by_asc(meter::Column::Id)
        .all(conn)
        .await?;
    let plot_ids = due.iter().filter_map(|(_, contract)| contract.as_ref().map(|c| c.plot_id));
    let plots: HashMap<i64, plot::Model> = plot::Entity::find()
        .filter(plot::Column::Id.is_in(plot_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    Ok(due
        .into_iter()
        .filter_map(|(meter, contract)| {
            let contract = contract?;
            let plot = plots.get(&contract.plot_id)?.clone();
            Some(MeterInfo { meter, contract, plot })
        })
        .collect())
}
