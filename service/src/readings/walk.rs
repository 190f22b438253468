//! The controllers' walk: which plots still have a contract unread this month, in walking order,
//! and which meters count as read.

use std::collections::{HashMap, HashSet};

use domain::{Period, ReadingStatus};
use entities::{plot, reading};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

/// SQL condition: the contract `k` is to be read (open, with a meter in service).
macro_rules! to_read {
    () => {
        "k.closed_on IS NULL AND EXISTS (SELECT 1 FROM meters m WHERE m.contract_id = k.id AND m.removed_on IS NULL)"
    };
}

/// The statuses of a reading that count as read in its period: accepted, or waiting for review
/// (a flagged reading was taken; only its value is in doubt).
pub const COUNTED: [ReadingStatus; 2] = [ReadingStatus::Accepted, ReadingStatus::Flagged];

/// SQL condition on a reading `r`: it counts as read ([`COUNTED`], spelled out for SQL; a test
/// keeps the two equal).
macro_rules! counted_sql {
    () => {
        "r.status IN ('accepted', 'flagged')"
    };
}
/// [`COUNTED`] as an SQL condition on a reading aliased `r`, for queries outside `service` (the
/// monthly report).
pub const COUNTED_SQL: &str = counted_sql!();
/// [`to_read!`], for queries elsewhere in the service (the charts' round).
pub(crate) const TO_READ_CONTRACT: &str = to_read!();

/// SQL condition: the contract `k` is to be read (open, with a meter in service) and has no
/// reading of any of its meters in the period bound to `?`. So the final reading of a meter
/// replaced in the period counts, as in the monthly report. This is the one definition of "not
/// read this month" for the walk, the reminders, the register lists and the API; the monthly
/// report counts readings with [`COUNTED_SQL`], and `tests/tests/unread_agreement.rs` keeps
/// them all in agreement.
pub const UNREAD_CONTRACT: &str = concat!(
    to_read!(),
    " AND NOT EXISTS (SELECT 1 FROM readings r JOIN meters rm ON rm.id = r.meter_id \
                    WHERE rm.contract_id = k.id AND r.period = ? AND ",
    counted_sql!(),
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

/// The ids of the contracts unread in `period` (see [`UNREAD_CONTRACT`]).
pub async fn unread_contracts(conn: &impl ConnectionTrait, period: Period) -> Result<HashSet<i64>, DbErr> {
    let sql = format!("SELECT k.id FROM contracts k WHERE {UNREAD_CONTRACT}");
    let rows = crate::db::query(conn, &sql, [period.to_string().into()]).await?;
    rows.iter().map(|r| r.try_get("", "id")).collect()
}

/// The latest reading of each meter in `period` that counts as read there ([`COUNTED`]), for
/// cards that mark each meter.
pub async fn read_in_period(
    conn: &impl ConnectionTrait,
    meter_ids: &[i64],
    period: Period,
) -> Result<HashMap<i64, reading::Model>, DbErr> {
    let readings = reading::Entity::find()
        .filter(reading::Column::MeterId.is_in(meter_ids.iter().copied()))
        .filter(reading::Column::Period.eq(period))
        .filter(reading::Column::Status.is_in(COUNTED))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sql_condition_names_the_counted_statuses() {
        let codes: Vec<String> = COUNTED.iter().map(|s| format!("'{}'", s.code())).collect();
        assert_eq!(COUNTED_SQL, format!("r.status IN ({})", codes.join(", ")));
        assert!(UNREAD_CONTRACT.ends_with(&format!("{COUNTED_SQL})")));
    }
}
