//! Charges: the ledger's consumption lines, kept equal to what the domain computes from accepted
//! readings and the tariff history. Lines are rebuilt per meter inside the transaction that
//! changed its readings, and for a whole service when a tariff changes.

use chrono::{DateTime, Utc};
use domain::{Charge, ChargeKind, Kopecks, MeterSpec, Period, ReadingPoint, ReadingStatus, Service, charges_for_meter};
use entities::{charge, contract, meter, reading, tariff};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, JoinType, NotSet, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait, Set,
};
use serde_json::json;

use crate::Context;
use crate::audit::{self, Actor};

#[derive(Debug, thiserror::Error)]
pub enum RecomputeError {
    #[error(transparent)]
    Billing(#[from] domain::BillingError),
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

/// Rebuilds the consumption charges of one meter. On a billing error (a missing tariff) the old
/// lines stay and the error is returned; the reading that triggered it is kept either way.
pub async fn recompute_meter(conn: &impl ConnectionTrait, ctx: &Context, meter_id: i64) -> Result<(), RecomputeError> {
    let (meter, contract) = meter::Entity::find_by_id(meter_id)
        .find_also_related(contract::Entity)
        .one(conn)
        .await?
        .and_then(|(m, c)| Some((m, c?)))
        .ok_or(RecomputeError::NoMeter(meter_id))?;
    let tariffs = tariff_history(conn).await?;
    recompute_loaded(conn, ctx, &meter, contract.service, &tariffs).await
}

/// Rebuilds the charges of every meter of a service (after a tariff change).
pub async fn recompute_service(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    service: Service,
) -> Result<usize, RecomputeError> {
    let tariffs = tariff_history(conn).await?;
    let meters = meter::Entity::find()
        .join(JoinType::InnerJoin, meter::Relation::Contract.def())
        .filter(contract::Column::Service.eq(service))
        .all(conn)
        .await?;
    let mut failed = 0;
    for meter in &meters {
        if let Err(e) = recompute_loaded(conn, ctx, meter, service, &tariffs).await {
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
) -> Result<(), RecomputeError> {
    let readings = reading::Entity::find()
        .filter(reading::Column::MeterId.eq(meter.id))
        .filter(reading::Column::Status.eq(ReadingStatus::Accepted))
        .order_by_asc(reading::Column::TakenAt)
        .order_by_asc(reading::Column::Id)
        .all(conn)
        .await?;
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
    let charges = charges_for_meter(&spec, &points, tariffs)?;

    charge::Entity::delete_many()
        .filter(charge::Column::MeterId.eq(meter.id))
        .filter(charge::Column::Kind.eq(ChargeKind::Consumption))
        .exec(conn)
        .await?;
    if charges.is_empty() {
        return Ok(());
    }
    let now = ctx.now();
    let rows = charges.into_iter().map(|c| consumption_line(meter.contract_id, meter.id, c, now));
    charge::Entity::insert_many(rows).exec(conn).await?;
    Ok(())
}

/// The ledger line of a consumption charge the domain computed for a meter of a contract.
pub fn consumption_line(contract_id: i64, meter_id: i64, c: Charge, now: DateTime<Utc>) -> charge::ActiveModel {
    charge::ActiveModel {
        id: NotSet,
        contract_id: Set(contract_id),
        meter_id: Set(Some(meter_id)),
        reading_id: Set(Some(c.reading_id)),
        period: Set(c.for_period),
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

/// A debt (or, negative, a credit) carried over at go-live, as a ledger line of its own dated
/// `period`, which recomputing consumption charges leaves alone.
pub(crate) async fn book_opening_balance(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    contract_id: i64,
    amount: Kopecks,
    period: Period,
    actor: Actor,
) -> Result<(), DbErr> {
    charge::ActiveModel {
        id: NotSet,
        contract_id: Set(contract_id),
        meter_id: Set(None),
        reading_id: Set(None),
        period: Set(period),
        kind: Set(ChargeKind::OpeningBalance),
        zone: Set(None),
        previous_value: Set(None),
        current_value: Set(None),
        consumption: Set(None),
        price_kopecks: Set(None),
        amount_kopecks: Set(amount),
        created_at: Set(ctx.now()),
    }
    .insert(conn)
    .await?;
    audit::record(
        conn,
        ctx,
        actor,
        "charge.opening_balance",
        "contract",
        Some(contract_id),
        json!({"amount_kopecks": amount.get(), "period": period}),
    )
    .await
}
