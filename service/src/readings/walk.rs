//! The controllers' walk: which plots still have a contract unread this month, in walking order,
//! and which meters count as read.

use std::collections::HashMap;

use domain::{Period, ReadingStatus};
use entities::{plot, reading};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

/// SQL condition: the contract `k` is to be read (open, with a meter in service).
macro_rules! to_read {
    () => {
        "k.closed_on IS NULL AND EXISTS (SELECT 1 FROM meters m WHERE m.contract_id = k.id AND m.removed_on IS NULL)"
    };
}

/// SQL condition: the reading `r` counts as read in its period. A reading waiting for review
/// counts, and so does the final reading of a meter replaced in the period, as in the monthly report.
macro_rules! counts_as_read {
    () => {
        "r.status IN ('accepted', 'flagged')"
    };
}

/// [`to_read!`], for queries elsewhere in the service.
pub(crate) const TO_READ_CONTRACT: &str = to_read!();
/// [`counts_as_read!`], for queries elsewhere in the service.
pub(crate) const COUNTS_AS_READ: &str = counts_as_read!();

/// SQL condition: the contract `k` is to be read and has no reading in the period bound to `?`.
pub(crate) const UNREAD_CONTRACT: &str = concat!(
    to_read!(),
    " AND NOT EXISTS (SELECT 1 FROM readings r JOIN meters rm ON rm.id = r.meter_id \
       WHERE rm.contract_id = k.id AND r.period = ? AND ",
    counts_as_read!(),
    ")"
);

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
