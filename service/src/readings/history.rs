//! What was read: a meter's latest readings, the office's list of readings filtered and paged
//! (in SQL: they grow without bound), and every version of a corrected reading.

use domain::{Period, ReadingSource, ReadingStatus};
use entities::{meter, reading};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};

use crate::paging::{Paged, fetch_page};
use crate::register::cards::{ContractRef, by_id, contract_refs};

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

/// Which readings to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadingFilter {
    pub period: Option<Period>,
    pub source: Option<ReadingSource>,
    pub status: Option<ReadingStatus>,
    pub meter_id: Option<i64>,
}

/// A reading with its meter and contract.
#[derive(Debug, Clone)]
pub struct ReadingRow {
    pub reading: reading::Model,
    pub meter: meter::Model,
    pub contract: ContractRef,
}

/// Readings matching `filter`, newest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    filter: &ReadingFilter,
    page: u64,
    per_page: u64,
) -> Result<Paged<ReadingRow>, DbErr> {
    let query = reading::Entity::find()
        .apply_if(filter.period, |q, period| q.filter(reading::Column::Period.eq(period)))
        .apply_if(filter.source, |q, source| q.filter(reading::Column::Source.eq(source)))
        .apply_if(filter.status, |q, status| q.filter(reading::Column::Status.eq(status)))
        .apply_if(filter.meter_id, |q, meter_id| q.filter(reading::Column::MeterId.eq(meter_id)))
        .order_by_desc(reading::Column::TakenAt)
        .order_by_desc(reading::Column::Id);
    let (page, items, total) = fetch_page(conn, query, page, per_page).await?;
    let rows = rows(conn, items).await?;
    Ok(Paged { items: rows, total, page, per_page })
}

/// Adds meters and contracts to readings.
pub async fn rows(conn: &impl ConnectionTrait, readings: Vec<reading::Model>) -> Result<Vec<ReadingRow>, DbErr> {
    let meters = by_id(
        meter::Entity::find().filter(meter::Column::Id.is_in(readings.iter().map(|r| r.meter_id))).all(conn).await?,
        |m| m.id,
    );
    let contracts = contract_refs(conn, meters.values().map(|m| m.contract_id)).await?;
    Ok(readings
        .into_iter()
        .filter_map(|reading| {
            let meter = meters.get(&reading.meter_id)?.clone();
            let contract = contracts.get(&meter.contract_id)?.clone();
            Some(ReadingRow { reading, meter, contract })
        })
        .collect())
}

/// Every version of a reading: the ones it corrected and the corrections of it, oldest first.
pub async fn versions(conn: &impl ConnectionTrait, reading_id: i64) -> Result<Vec<reading::Model>, DbErr> {
    let Some(reading) = reading::Entity::find_by_id(reading_id).one(conn).await? else {
        return Ok(Vec::new());
    };
    // Corrections keep the meter and the time of what they replace, so the chain is among these.
    let same_moment = reading::Entity::find()
        .filter(reading::Column::MeterId.eq(reading.meter_id))
        .filter(reading::Column::TakenAt.eq(reading.taken_at))
        .order_by_asc(reading::Column::Id)
        .all(conn)
        .await?;
    let mut chain = vec![reading];
    while let Some(older) = chain[0].supersedes_id.and_then(|id| same_moment.iter().find(|r| r.id == id)) {
        chain.insert(0, older.clone());
    }
    while let Some(newer) = same_moment.iter().find(|r| r.supersedes_id == chain.last().map(|l| l.id)) {
        chain.push(newer.clone());
    }
    Ok(chain)
}
