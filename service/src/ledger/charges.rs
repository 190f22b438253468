//! Charges: the ledger's consumption lines, kept equal to what the domain computes from accepted
//! readings and the tariff history while their month is open; a change reaching a closed month
//! is booked as a recalculation line in the first open month (`domain::ledger::plan_recompute`).
//! Every change passes its cause, which says from which month on it can alter anything.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::ledger::{Booked, Cause, ClosedMonths, PlanError, Recalculation, plan_recompute};
use domain::money::MoneyError;
use domain::{
    Charge, ChargeKind, Kopecks, MeterSpec, MeterValue, Period, ReadingPoint, Service, TextKind, TooLong, Zone,
    charges_for_meter,
};
use entities::{charge, contract, meter, tariff};
use sea_orm::sea_query::Condition;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, JoinType, NotSet, QueryFilter, QueryOrder, QuerySelect,
    RelationTrait, Set,
};
use serde_json::json;

use super::lines::{self, LineError};
use super::months;
use crate::Context;
use crate::audit::{self, Actor};

#[derive(Debug, thiserror::Error)]
pub enum RecomputeError {
    #[error(transparent)]
    Billing(#[from] domain::BillingError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Line(#[from] LineError),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    #[error("счётчик {0} не найден")]
    NoMeter(i64),
}

impl From<RecomputeError> for crate::Internal {
    fn from(e: RecomputeError) -> Self {
        crate::Internal(e.into())
    }
}

/// Brings one meter's lines in line with its readings after `cause`: open months rebuilt, closed
/// ones corrected by recalculation lines. On a billing error (a missing tariff) the old lines
/// stay and the error is returned; the reading that triggered it is kept either way.
pub async fn recompute_meter(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    meter_id: i64,
    cause: Cause,
) -> Result<(), RecomputeError> {
    let (meter, contract) = meter::Entity::find_by_id(meter_id)
        .find_also_related(contract::Entity)
        .one(conn)
        .await?
        .and_then(|(m, c)| Some((m, c?)))
        .ok_or(RecomputeError::NoMeter(meter_id))?;
    // The cooperative's common meters measure what it bought, nobody is billed for it.
    if crate::network::line_contracts(conn).await?.contains(&contract.id) {
        return Ok(());
    }
    let tariffs = tariff_history(conn).await?;
    let closed = months::closed_months(conn).await?;
    recompute_loaded(conn, ctx, &meter, contract.service, &tariffs, closed, cause).await
}

/// Recomputes every meter of a service after a tariff change (`cause` is the tariff).
pub async fn recompute_service(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    service: Service,
    cause: Cause,
) -> Result<usize, RecomputeError> {
    let tariffs = tariff_history(conn).await?;
    let closed = months::closed_months(conn).await?;
    let common = crate::network::line_contracts(conn).await?;
    let meters: Vec<meter::Model> = meter::Entity::find()
        .join(JoinType::InnerJoin, meter::Relation::Contract.def())
        .filter(contract::Column::Service.eq(service))
        .all(conn)
        .await?
        .into_iter()
        .filter(|m| !common.contains(&m.contract_id))
        .collect();
    let mut failed = 0;
    for meter in &meters {
        if let Err(e) = recompute_loaded(conn, ctx, meter, service, &tariffs, closed, cause).await {
            match e {
                RecomputeError::Billing(e) => {
                    tracing::warn!(meter = meter.id, "charges not recomputed: {e}");
                    failed += 1;
                }
                other => return Err(other),
            }
        }
    }
    Ok(meters.len() - failed)
}

/// Every price ever set, as the domain prices consumption with.
async fn tariff_history(conn: &impl ConnectionTrait) -> Result<Vec<domain::Tariff>, sea_orm::DbErr> {
    Ok(tariff::Entity::find().all(conn).await?.into_iter().map(Into::into).collect())
}

async fn recompute_loaded(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    meter: &meter::Model,
    service: Service,
    tariffs: &[domain::Tariff],
    closed: ClosedMonths,
    cause: Cause,
) -> Result<(), RecomputeError> {
    let readings = crate::readings::accepted_in_order(conn, meter.id).await?;
    // In the order taken, dated in the cooperative's time zone, as the billing period is.
    let points: Vec<ReadingPoint> = readings
        .iter()
        .map(|r| ReadingPoint {
            reading_id: r.id,
            period: r.period,
            taken_on: ctx.local_date(r.taken_at),
            values: r.values(),
        })
        .collect();
    let spec = MeterSpec {
        service,
        zones: meter.zone_list().to_vec(),
        initial: meter.initial_values(),
        installed_on: meter.installed_on,
    };
    let desired = charges_for_meter(&spec, &points, tariffs)?;
    let booked = booked(conn, meter.id).await?;
    let plan = plan_recompute(&desired, &booked, closed, cause, ctx.today())?;

    // Open months' consumption and recalculation lines go; closed months' are never touched.
    let which = (!plan.rebuilt.is_empty()).then(|| {
        Condition::all()
            .add(charge::Column::MeterId.eq(meter.id))
            .add(charge::Column::Kind.is_in([ChargeKind::Consumption, ChargeKind::Recalculation]))
            .add(charge::Column::ForPeriod.is_in(plan.rebuilt.iter().copied()))
    });
    let now = ctx.now();
    let rows = plan
        .consumption
        .into_iter()
        .map(|c| consumption_line(meter.contract_id, meter.id, c, now))
        .chain(plan.recalculations.into_iter().map(|r| recalculation_line(meter.contract_id, meter.id, r, now)))
        .collect();
    lines::write(conn, closed, which, rows).await?;
    Ok(())
}

/// An opening-balance line: the go-live's own, or a correction of it (with its reason).
struct OpeningLine {
    contract_id: i64,
    go_live: NaiveDate,
    period: Period,
    dated_on: NaiveDate,
    amount: Kopecks,
    reason: Option<String>,
}

impl OpeningLine {
    fn charge(self, ctx: &Context) -> charge::ActiveModel {
        charge::ActiveModel {
            id: NotSet,
            contract_id: Set(self.contract_id),
            meter_id: Set(None),
            reading_id: Set(None),
            period: Set(self.period),
            for_period: Set(Period::of(self.go_live)),
            dated_on: Set(self.dated_on),
            from_on: Set(None),
            to_on: Set(None),
            reason: Set(self.reason),
            cause_kind: Set(None),
            cause_id: Set(None),
            consumption_change: Set(None),
            kind: Set(ChargeKind::OpeningBalance),
            zone: Set(None),
            previous_value: Set(None),
            current_value: Set(None),
            consumption: Set(None),
            price_kopecks: Set(None),
            amount_kopecks: Set(self.amount),
            created_at: Set(ctx.now()),
        }
    }
}

/// A contract's opening balance: the go-live day it is dated and its amount with every
/// correction; None when it carried nothing over.
pub async fn opening_balance(
    conn: &impl ConnectionTrait,
    contract_id: i64,
) -> Result<Option<(NaiveDate, Kopecks)>, OpeningBalanceError> {
    let lines = charge::Entity::find()
        .filter(charge::Column::ContractId.eq(contract_id))
        .filter(charge::Column::Kind.eq(ChargeKind::OpeningBalance))
        .order_by_asc(charge::Column::Id)
        .all(conn)
        .await?;
    let Some(first) = lines.first() else { return Ok(None) };
    let total = Kopecks::try_sum(lines.iter().map(|l| l.amount_kopecks)).map_err(MoneyError::from)?;
    Ok(Some((first.dated_on, total)))
}

#[derive(Debug, thiserror::Error)]
pub enum OpeningBalanceError {
    #[error("Договор не найден.")]
    NoContract,
    #[error("Укажите причину.")]
    NoReason,
    #[error(transparent)]
    Money(#[from] MoneyError),
    #[error(transparent)]
    Text(#[from] TooLong),
    #[error(transparent)]
    Internal(#[from] crate::Internal),
}
crate::error::internal_errors!(OpeningBalanceError);

/// Corrects a contract's opening balance, typed wrong at go-live (15 000,00 ₽ for 1 500,00) or
/// left out (a register row without its saldo, a contract signed up by hand), to `amount`: the
/// difference is one more opening-balance line with `reason`, booked as the go-live line would be
/// now — in the go-live month while it is open, else in the first open month after it, dated its
/// first day, as every correction of a sent month is. The go-live line stays as it was reported.
/// A contract that carried nothing over gets its first line, dated the day its first meter was
/// installed (the opening reading's, as a register's row dates its saldo) or, without a meter,
/// the day it was signed. The member's statement, the act and the report then carry the
/// corrected balance. Returns the difference booked (zero: nothing to book).
pub async fn correct_opening_balance(
    ctx: &Context,
    contract_id: i64,
    amount: Kopecks,
    reason: &str,
    actor: Actor,
) -> Result<Kopecks, OpeningBalanceError> {
    let amount = amount.carried_balance()?;
    let reason = TextKind::Reason.bounded(reason)?;
    if reason.is_empty() {
        return Err(OpeningBalanceError::NoReason);
    }
    let txn = ctx.db.begin_write().await?;
    let carried = opening_balance(&txn, contract_id).await?;
    let (go_live, was) = match carried {
        Some(carried) => carried,
        None => (went_live(&txn, contract_id).await?, Kopecks::ZERO),
    };
    let difference = amount.checked_sub(was).map_err(MoneyError::from)?;
    if difference == Kopecks::ZERO {
        return Ok(difference);
    }
    let closed = months::closed_months(&txn).await?;
    let period = closed.booking_period(go_live);
    // The first line is dated the go-live day, as a register's is: that day is what the statement
    // and a later correction read as the go-live (the act shows it in its booking month).
    let dated_on = if carried.is_some() { go_live.max(period.first_day()) } else { go_live };
    let text =
        format!("Исправление входящего сальдо на {}: было {was}, стало {amount}. {reason}", go_live.format("%d.%m.%Y"));
    let line = OpeningLine { contract_id, go_live, period, dated_on, amount: difference, reason: Some(text) };
    let line = line.charge(ctx);
    lines::write(&txn, closed, None, vec![line]).await.map_err(|e| crate::Internal(e.into()))?;
    let details = json!({"was_kopecks": was.get(), "amount_kopecks": amount.get(), "difference_kopecks": difference.get(),
                         "period": period, "reason": reason});
    audit::record(&txn, ctx, actor, "charge.opening_balance_correct", "contract", Some(contract_id), details).await?;
    txn.commit().await?;
    Ok(difference)
}

/// The day a contract that carried nothing over went live: its first meter's installation (the
/// opening reading), or the day it was signed when it has no meter.
async fn went_live(conn: &impl ConnectionTrait, contract_id: i64) -> Result<NaiveDate, OpeningBalanceError> {
    if let Some(first) = crate::meters::of_contract(conn, contract_id).await?.first() {
        return Ok(first.installed_on);
    }
    let contract = contract::Entity::find_by_id(contract_id).one(conn).await?;
    Ok(contract.ok_or(OpeningBalanceError::NoContract)?.signed_on)
}

/// A contract's latest recalculation lines, newest first (the contract page lists them).
pub async fn recalculations(
    conn: &impl ConnectionTrait,
    contract_id: i64,
    limit: u64,
) -> Result<Vec<charge::Model>, DbErr> {
    charge::Entity::find()
        .filter(charge::Column::ContractId.eq(contract_id))
        .filter(charge::Column::Kind.eq(ChargeKind::Recalculation))
        .order_by_desc(charge::Column::Id)
        .limit(limit)
        .all(conn)
        .await
}

/// One held line: for month, zone, consumption (consumption lines), change (recalculations), amount.
type HeldLine = (Period, Option<Zone>, Option<MeterValue>, Option<i64>, Kopecks);

/// What the ledger holds for a meter per for month and zone: consumption and recalculations.
async fn booked(conn: &impl ConnectionTrait, meter_id: i64) -> Result<Vec<Booked>, RecomputeError> {
    let held: Vec<HeldLine> = charge::Entity::find()
        .select_only()
        .columns([
            charge::Column::ForPeriod,
            charge::Column::Zone,
            charge::Column::Consumption,
            charge::Column::ConsumptionChange,
            charge::Column::AmountKopecks,
        ])
        .filter(charge::Column::MeterId.eq(meter_id))
        .filter(charge::Column::Kind.is_in([ChargeKind::Consumption, ChargeKind::Recalculation]))
        .into_tuple()
        .all(conn)
        .await?;
    // Thousandths and kopecks summed exactly (a few lines per month and zone), checked on the way out.
    let mut sums: BTreeMap<(Period, Zone), (i128, Kopecks)> = BTreeMap::new();
    for (for_period, zone, consumption, change, amount) in held {
        let sum = sums.entry((for_period, zone.unwrap_or(Zone::Single))).or_insert((0, Kopecks::ZERO));
        sum.0 += i128::from(consumption.map_or(0, |c| c.thousandths()) + change.unwrap_or(0));
        sum.1 = sum.1.checked_add(amount).map_err(|e| DbErr::Type(e.to_string()))?;
    }
    sums.into_iter()
        .map(|((for_period, zone), (consumption, amount))| {
            let thousandths = i64::try_from(consumption).unwrap_or(i64::MAX);
            let consumption = MeterValue::new(thousandths).map_err(|e| DbErr::Type(e.to_string()))?;
            Ok(Booked { for_period, zone, consumption, amount })
        })
        .collect()
}

/// The ledger line of a consumption charge the domain computed for a meter of a contract,
/// booked in the month it prices (an open one).
pub fn consumption_line(contract_id: i64, meter_id: i64, c: Charge, now: DateTime<Utc>) -> charge::ActiveModel {
    charge::ActiveModel {
        id: NotSet,
        contract_id: Set(contract_id),
        meter_id: Set(Some(meter_id)),
        reading_id: Set(Some(c.reading_id)),
        period: Set(c.for_period),
        for_period: Set(c.for_period),
        dated_on: Set(c.dated_on),
        from_on: Set(Some(c.from)),
        to_on: Set(Some(c.to)),
        reason: Set(None),
        cause_kind: Set(None),
        cause_id: Set(None),
        consumption_change: Set(None),
        kind: Set(ChargeKind::Consumption),
        zone: Set(Some(c.zone)),
        previous_value: Set(Some(c.previous)),
        current_value: Set(Some(c.current)),
        consumption: Set(Some(c.consumption)),
        price_kopecks: Set(Some(c.price)),
        amount_kopecks: Set(c.amount),
        created_at: Set(now),
    }
}

fn recalculation_line(contract_id: i64, meter_id: i64, r: Recalculation, now: DateTime<Utc>) -> charge::ActiveModel {
    charge::ActiveModel {
        id: NotSet,
        contract_id: Set(contract_id),
        meter_id: Set(Some(meter_id)),
        reading_id: Set(None),
        period: Set(r.period),
        for_period: Set(r.for_period),
        dated_on: Set(r.dated_on),
        from_on: Set(None),
        to_on: Set(None),
        reason: Set(Some(r.reason)),
        cause_kind: Set(Some(r.cause.kind)),
        cause_id: Set(Some(r.cause.id)),
        consumption_change: Set(Some(r.consumption.thousandths())),
        kind: Set(ChargeKind::Recalculation),
        zone: Set(Some(r.zone)),
        previous_value: Set(None),
        current_value: Set(None),
        consumption: Set(None),
        price_kopecks: Set(None),
        amount_kopecks: Set(r.amount),
        created_at: Set(now),
    }
}

/// A debt (or, negative, a credit) carried over at go-live, as a ledger line of its own dated
/// the go-live day (the opening reading's) and booked in that day's month (or the first open
/// one), which recomputing consumption charges leaves alone.
pub async fn book_opening_balance(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    contract_id: i64,
    amount: Kopecks,
    go_live: NaiveDate,
    actor: Actor,
) -> Result<(), RecomputeError> {
    let closed = months::closed_months(conn).await?;
    let period = closed.booking_period(go_live);
    let line = OpeningLine { contract_id, go_live, period, dated_on: go_live, amount, reason: None }.charge(ctx);
    lines::write(conn, closed, None, vec![line]).await?;
    audit::record(
        conn,
        ctx,
        actor,
        "charge.opening_balance",
        "contract",
        Some(contract_id),
        json!({"amount_kopecks": amount.get(), "period": period, "dated_on": go_live}),
    )
    .await?;
    Ok(())
}
