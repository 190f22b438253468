//! The controllers' walk: which plots still have a contract unread this month, in walking order,
//! and which meters count as read.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use domain::{Period, ReadingSource, ReadingStatus, RequestStatus};
use entities::{contract, member_request, meter, plot, reading, request_message};
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

/// A member's request turned into a controller's task: the plot to visit, the request's number
/// and its text, shown on the walk beside the unread plots.
#[derive(Debug, Clone)]
pub struct Task {
    pub plot: plot::Model,
    pub request_id: i64,
    pub text: String,
}

/// A task's text on the walk is the request's beginning: the list stays readable on a phone and
/// fits a Telegram message.
const TASK_TEXT: usize = 200;

/// The sources of a controller's own reading (always with a seal check), which do a task.
const BY_CONTROLLER: [ReadingSource; 2] = [ReadingSource::ControllerBot, ReadingSource::ControllerWeb];

/// Whether a controller has read a meter on `plot_id` since `since`: a task set then is done.
pub async fn visited_since(conn: &impl ConnectionTrait, plot_id: i64, since: DateTime<Utc>) -> Result<bool, DbErr> {
    let contracts = contract::Entity::find().filter(contract::Column::PlotId.eq(plot_id)).all(conn).await?;
    let meters =
        crate::db::find_in(conn, meter::Entity::find(), meter::Column::ContractId, contracts.iter().map(|c| c.id))
            .await?;
    let readings = reading::Entity::find()
        .filter(reading::Column::MeterId.is_in(meters.iter().map(|m| m.id)))
        .filter(reading::Column::Source.is_in(BY_CONTROLLER))
        .filter(reading::Column::CreatedAt.gte(since))
        .one(conn)
        .await?;
    Ok(readings.is_some())
}

/// The open tasks in walking order (a plot's oldest request first): set on a request not closed
/// and not yet done by a controller's reading on the plot.
pub async fn tasks(conn: &impl ConnectionTrait) -> Result<Vec<Task>, DbErr> {
    let requests = member_request::Entity::find()
        .filter(member_request::Column::TaskPlotId.is_not_null())
        .filter(member_request::Column::Status.ne(RequestStatus::Closed))
        .order_by_asc(member_request::Column::Id)
        .all(conn)
        .await?;
    let mut tasks = Vec::new();
    for request in requests {
        let (Some(plot_id), Some(since)) = (request.task_plot_id, request.task_set_at) else { continue };
        if visited_since(conn, plot_id, since).await? {
            continue;
        }
        let Some(plot) = plot::Entity::find_by_id(plot_id).one(conn).await? else { continue };
        let text = request_message::Entity::find()
            .filter(request_message::Column::RequestId.eq(request.id))
            .order_by_asc(request_message::Column::Id)
            .one(conn)
            .await?
            .map(|m| domain::text::excerpt(&m.body, TASK_TEXT))
            .unwrap_or_default();
        tasks.push(Task { plot, request_id: request.id, text });
    }
    tasks.sort_by(|a, b| domain::PlotNumber::route_order(a.plot.number.as_str(), b.plot.number.as_str()));
    Ok(tasks)
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
