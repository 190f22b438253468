//! «Баланс сети» and «Потери в сетях»: each line's month as `service::network` balances it, and
//! the plots' shares of the losses booked in the month (counted in «Сводка» as consumption, as
//! `domain::ledger::MonthFigures` counts them).

use domain::network::percent_text;
use domain::{Kopecks, Period, PlotNumber, Service};
use service::Context;
use service::db::Source;
use service::network;

use super::ContractLabel;
use crate::sheet::Cell;

pub(super) const LINES_SHEET: &str = "Баланс сети";
pub(super) const SHARES_SHEET: &str = "Потери в сетях";

pub(super) const LINE_HEADERS: [&str; 11] = [
    "Услуга",
    "Линия",
    "Счётчик стоит",
    "Отпущено",
    "Продано участкам",
    "Потери",
    "Ед.",
    "Потери, %",
    "Выше порога",
    "Участков",
    "Не сняты после общего счётчика",
];

pub(super) const SHARE_AMOUNT_HEADER: &str = "Доля потерь, ₽";
pub(super) const SHARE_HEADERS: [&str; 5] = ["Участок", "Потребитель", "Договор", "Услуга", SHARE_AMOUNT_HEADER];

/// One line's month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRow {
    pub service: Service,
    pub name: String,
    pub point: PlotNumber,
    /// Supplied, sold and lost in thousandths; none when the common meter was not read in the month.
    pub figures: Option<(i64, i64, i64)>,
    pub losses_basis_points: Option<i64>,
    pub flagged: bool,
    pub contracts: usize,
    pub unread: usize,
}

/// A plot's share of the network's losses booked in the month (a correction of a closed month's
/// sharing included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareLine {
    pub contract: ContractLabel,
    pub amount: Kopecks,
}

/// Every line's balance of `period`, read on the report's snapshot.
pub(super) async fn lines(conn: &impl Source, ctx: &Context, period: Period) -> Result<Vec<LineRow>, sea_orm::DbErr> {
    Ok(network::balances(conn, ctx, period)
        .await?
        .into_iter()
        .map(|b| LineRow {
            service: b.line.service,
            name: b.line.name,
            point: b.point,
            figures: b.interval.map(|_| (b.balance.supplied, b.balance.sold, b.balance.losses())),
            losses_basis_points: b.interval.and(b.balance.losses_basis_points()),
            flagged: b.flagged,
            contracts: b.contracts,
            unread: b.unread,
        })
        .collect())
}

pub(super) fn line_cells(line: &LineRow) -> Vec<Cell<'_>> {
    let (supplied, sold, lost) = match line.figures {
        Some((supplied, sold, lost)) => (Cell::UnitsChange(supplied), Cell::UnitsChange(sold), Cell::UnitsChange(lost)),
        None => ("не снят".into(), Cell::Empty, Cell::Empty),
    };
    vec![
        line.service.label().into(),
        line.name.as_str().into(),
        line.point.as_str().into(),
        supplied,
        sold,
        lost,
        line.service.unit().into(),
        line.losses_basis_points.map_or(Cell::Empty, |bp| percent_text(bp).into()),
        (if line.flagged { "да" } else { "" }).into(),
        Cell::Int(line.contracts as i64),
        Cell::Int(line.unread as i64),
    ]
}

pub(super) fn share_cells(line: &ShareLine) -> Vec<Cell<'_>> {
    let c = &line.contract;
    vec![
        c.plot.as_str().into(),
        c.consumer.as_str().into(),
        c.number.as_str().into(),
        c.service.label().into(),
        line.amount.into(),
    ]
}
