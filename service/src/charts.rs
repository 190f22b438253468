//! The charts' data, read from the database: each function builds one chart's input with one
//! bounded query (the last [`MONTHS`] months), and [`render`] draws it on a heavy-work thread.

use std::collections::BTreeMap;

pub use charts::{Chart, Format, Size};
use charts::{
    ChartError, CollectionHistory, CollectionMonth, ConsumptionHistory, ConsumptionMonth, DebtHistory, DebtMonth,
    LossLine, LossesHistory, Renderer, RoundMonth, RoundProgress, SourcesHistory, SourcesMonth,
};
use chrono::{DateTime, Datelike, Utc};
use domain::billing::Balance;
use domain::{ChargeKind, Kopecks, MeterValue, Period, ReadingSource, Zone};
use entities::{charge, contract, plot};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QueryResult};

use crate::readings::walk::{COUNTED_SQL, TO_READ_CONTRACT};
use crate::{Context, Internal, db, heavy};

/// The longest history a chart reads: two years, enough for twelve months beside the same months
/// a year before.
pub const MONTHS: u32 = 24;

/// How many months a consumption chart shows; the year before fills the rest of [`MONTHS`].
const SHOWN: usize = 12;

/// The first month of the last [`MONTHS`], this one included.
fn first_month(ctx: &Context) -> Period {
    (1..MONTHS).fold(ctx.current_period(), |p, _| p.prev())
}

/// Losses in % by month and line over the 12 months (`SHOWN`) ending with `until` (the panel: this
/// month; the monthly report: its month), the flagged lines first.
pub async fn losses(ctx: &Context, until: Period) -> Result<LossesHistory, Internal> {
    let periods: Vec<Period> = (1..SHOWN).fold(vec![until], |mut ps, _| {
        ps.insert(0, ps[0].prev());
        ps
    });
    let history = crate::network::history(ctx.db.conn(), ctx, &periods).await?;
    let mut lines: Vec<(bool, LossLine)> = Vec::new();
    for (period, balances) in history {
        for b in balances {
            let name = format!("{}: {}", b.line.service, b.line.name);
            let at = match lines.iter().position(|(_, l)| l.name == name) {
                Some(at) => at,
                None => {
                    lines.push((false, LossLine { name, months: Vec::new() }));
                    lines.len() - 1
                }
            };
            lines[at].0 |= b.flagged;
            if let (Some(_), Some(bp)) = (b.interval, b.balance.losses_basis_points()) {
                lines[at].1.months.push((period, bp));
            }
        }
    }
    // Stable: the flagged lines first, each group in the order the lines were added.
    lines.sort_by_key(|(flagged, _)| !flagged);
    Ok(LossesHistory {
        title: "Потери в сетях".to_owned(), lines: lines.into_iter().map(|(_, l)| l).collect()
    })
}

/// Each contract of the consumer (its id) with its consumption and charges by month, in contract
/// order; a contract with nothing charged in the last [`MONTHS`] months has no months.
pub async fn consumption(ctx: &Context, consumer_id: i64) -> Result<Vec<(i64, ConsumptionHistory)>, Internal> {
    let conn = ctx.db.conn();
    let contracts = contract::Entity::find()
        .filter(contract::Column::ConsumerId.eq(consumer_id))
        .find_also_related(plot::Entity)
        .order_by_asc(contract::Column::Id)
        .all(conn)
        .await?;
    let charges = charge::Entity::find()
        .filter(charge::Column::ContractId.is_in(contracts.iter().map(|(c, _)| c.id)))
        .filter(charge::Column::Period.gte(first_month(ctx)))
        .all(conn)
        .await?;
    let mut histories = Vec::with_capacity(contracts.len());
    for (contract, plot) in contracts {
        let mut months: BTreeMap<Period, (BTreeMap<Zone, MeterValue>, Kopecks)> = BTreeMap::new();
        for c in charges.iter().filter(|c| c.contract_id == contract.id) {
            // The carried-over opening balance is no month's charge.
            if c.kind == ChargeKind::OpeningBalance {
                continue;
            }
            let (zones, charged) = months.entry(c.period).or_insert_with(|| (BTreeMap::new(), Kopecks::ZERO));
            *charged = charged.checked_add(c.amount_kopecks)?;
            if let (ChargeKind::Consumption, Some(zone), Some(used)) = (c.kind, c.zone, c.consumption) {
                let sum = zones.entry(zone).or_insert(MeterValue::ZERO);
                *sum = sum.checked_add(used)?;
            }
        }
        let plot = plot.map_or_else(String::new, |p| format!("Участок {}, ", p.number));
        histories.push((
            contract.id,
            ConsumptionHistory {
                contract: format!("{plot}договор {}", contract.number),
                service: contract.service,
                shown: SHOWN,
                months: months
                    .into_iter()
                    .map(|(period, (zones, charged))| ConsumptionMonth {
                        period,
                        zones: zones.into_iter().collect(),
                        charged,
                    })
                    .collect(),
            },
        ));
    }
    Ok(histories)
}

/// Draws `chart` off the async runtime (see [`heavy`]).
pub async fn render<C: charts::Chart + Send + 'static>(
    chart: C,
    format: Format,
    size: Size,
) -> Result<Vec<u8>, Internal> {
    heavy::run(move || Renderer::new().render(&chart, format, size)).await?.map_err(|e: ChartError| Internal(e.into()))
}

/// Money per month: what was charged and what was received.
struct MonthSums {
    period: Period,
    charged: Kopecks,
    received: Kopecks,
}

/// Charges and payments summed by month, from `since` on (all months if none); with the
/// carried-over opening balances or without. One aggregate query: a row a month.
async fn monthly_sums(ctx: &Context, since: Option<Period>, opening: bool) -> Result<Vec<MonthSums>, Internal> {
    let since_filter = if since.is_some() { "AND period >= ?" } else { "" };
    let opening_filter =
        if opening { String::new() } else { format!("AND kind <> '{}'", ChargeKind::OpeningBalance.code()) };
    let sql = format!(
        "SELECT period, CAST(SUM(charged) AS BIGINT) AS charged, CAST(SUM(received) AS BIGINT) AS received FROM ( \
           SELECT period, amount_kopecks AS charged, 0 AS received FROM charges WHERE 1 = 1 {since_filter} {opening_filter} \
           UNION ALL \
           SELECT period, 0 AS charged, amount_kopecks AS received FROM payments WHERE 1 = 1 {since_filter} \
         ) t GROUP BY period ORDER BY period"
    );
    let since = since.map(|p| sea_orm::Value::from(p.to_string()));
    let rows = db::query(ctx.db.conn(), &sql, since.clone().into_iter().chain(since)).await?;
    rows.iter()
        .map(|row| {
            Ok(MonthSums {
                period: period(row)?,
                charged: Kopecks::new(row.try_get("", "charged")?)?,
                received: Kopecks::new(row.try_get("", "received")?)?,
            })
        })
        .collect()
}

fn period(row: &QueryResult) -> Result<Period, Internal> {
    let text: String = row.try_get("", "period")?;
    Period::parse(&text).map_err(|e| Internal(anyhow::anyhow!("a stored period «{text}»: {e}")))
}

/// The cooperative's charges (opening balances aside) against payments, month by month.
pub async fn collection(ctx: &Context) -> Result<CollectionHistory, Internal> {
    let months = monthly_sums(ctx, Some(first_month(ctx)), false).await?;
    Ok(CollectionHistory {
        title: "Начислено и оплачено".into(),
        months: months
            .into_iter()
            .map(|m| CollectionMonth { period: m.period, charged: m.charged, received: m.received })
            .collect(),
    })
}

/// The cooperative's total balance at the end of each of the last [`MONTHS`] months: everything
/// charged up to the month less everything paid, as [`Balance`] counts a contract's debt; an
/// overpayment offsets a debt.
pub async fn debt(ctx: &Context) -> Result<DebtHistory, Internal> {
    let from = first_month(ctx);
    let (mut charged, mut paid) = (Kopecks::ZERO, Kopecks::ZERO);
    let mut sums = monthly_sums(ctx, None, true).await?.into_iter().peekable();
    let mut months = Vec::new();
    let mut month = sums.peek().map(|m| m.period.max(from));
    // Every month from the first with money in it: a quiet month carries the balance on.
    while let Some(period) = month.filter(|p| *p <= ctx.current_period()) {
        while let Some(m) = sums.next_if(|m| m.period <= period) {
            charged = charged.checked_add(m.charged)?;
            paid = paid.checked_add(m.received)?;
        }
        months.push(DebtMonth { period, debt: Balance::new(charged, paid)?.debt() });
        month = Some(period.next());
    }
    Ok(DebtHistory { title: "Сальдо: долг за вычетом переплат".into(), months })
}

/// Readings that count as read, by month and source, over the last [`MONTHS`] months.
pub async fn sources(ctx: &Context) -> Result<SourcesHistory, Internal> {
    let sql = format!(
        "SELECT r.period AS period, r.source AS source, COUNT(*) AS n FROM readings r \
         WHERE r.period >= ? AND {COUNTED_SQL} GROUP BY r.period, r.source"
    );
    let rows = db::query(ctx.db.conn(), &sql, [first_month(ctx).to_string().into()]).await?;
    let mut months: BTreeMap<Period, Vec<(ReadingSource, u32)>> = BTreeMap::new();
    for row in &rows {
        let source: String = row.try_get("", "source")?;
        let source: ReadingSource =
            source.parse().map_err(|_| Internal(anyhow::anyhow!("a stored reading source «{source}»")))?;
        let n: i64 = row.try_get("", "n")?;
        months.entry(period(row)?).or_default().push((source, u32::try_from(n).unwrap_or(u32::MAX)));
    }
    Ok(SourcesHistory { months: months.into_iter().map(|(period, counts)| SourcesMonth { period, counts }).collect() })
}

/// This month's round against last month's: of the contracts to be read now, how many had a
/// reading that counts by each day. One query over the two months' readings.
pub async fn round(ctx: &Context) -> Result<RoundProgress, Internal> {
    let (now, before) = (ctx.current_period(), ctx.current_period().prev());
    let sql = format!(
        "SELECT r.period AS period, MIN(r.taken_at) AS first_taken, \
                (SELECT COUNT(*) FROM contracts k WHERE {TO_READ_CONTRACT}) AS contracts \
         FROM contracts k JOIN meters rm ON rm.contract_id = k.id JOIN readings r ON r.meter_id = rm.id \
         WHERE {TO_READ_CONTRACT} AND r.period IN (?, ?) AND {COUNTED_SQL} \
         GROUP BY r.period, k.id"
    );
    let rows = db::query(ctx.db.conn(), &sql, [now.to_string().into(), before.to_string().into()]).await?;
    let contracts = match rows.first() {
        Some(row) => row.try_get::<i64>("", "contracts")?,
        None => {
            db::query(ctx.db.conn(), &format!("SELECT COUNT(*) AS n FROM contracts k WHERE {TO_READ_CONTRACT}"), [])
                .await?
                .first()
                .map(|row| row.try_get::<i64>("", "n"))
                .transpose()?
                .unwrap_or(0)
        }
    };
    let contracts = u32::try_from(contracts).unwrap_or(u32::MAX);
    let month = |period: Period, days: u32| -> Result<RoundMonth, Internal> {
        let mut read_by_day = vec![0u32; days as usize];
        for row in &rows {
            if self::period(row)? != period {
                continue;
            }
            let first: DateTime<Utc> = row.try_get("", "first_taken")?;
            let day = ctx.local_date(first).day0() as usize;
            for count in read_by_day.iter_mut().skip(day) {
                *count += 1;
            }
        }
        Ok(RoundMonth { period, contracts, read_by_day })
    };
    let current = month(now, ctx.today().day())?;
    let previous = month(before, before.last_day().day())?;
    Ok(RoundProgress { current, previous: Some(previous) })
}

#[cfg(test)]
mod tests {
    use domain::{ReadingSource, Service, TariffPlan, kopecks, meter_value};

    use super::*;
    use crate::audit::Actor;
    use crate::ledger::debt::{self, Scope};
    use crate::readings::{self, Submission};
    use crate::testing::{TestContext, new_consumer};

    #[tokio::test]
    async fn the_debt_trend_ends_at_the_ledgers_debt_and_carries_it_through_quiet_months() {
        // Today is 15 March 2026; one reading on 20 January, nothing since.
        let t = TestContext::new().await;
        t.standard_tariffs().await;
        let signed = t.sign("9", new_consumer("Синицкий", None), "W-9", Service::Water, TariffPlan::Single, &[0]).await;
        let taken_at = chrono::NaiveDate::from_ymd_opt(2026, 1, 20).unwrap().and_hms_opt(9, 0, 0).unwrap().and_utc();
        let reading = Submission {
            meter_id: signed.meter_id,
            values: vec![meter_value!(5_000)],
            source: ReadingSource::Panel,
            actor: Actor::System,
            seal_intact: None,
            comment: None,
            photo_id: None,
            idempotency_key: None,
            confirmed: true,
            taken_at: Some(taken_at),
        };
        readings::submit(&t.ctx, reading).await.unwrap();

        let trend = super::debt(&t.ctx).await.unwrap();
        let months: Vec<(String, Kopecks)> = trend.months.iter().map(|m| (m.period.to_string(), m.debt)).collect();
        let owed = debt::total(t.ctx.db.conn(), Scope::All).await.unwrap().debt();
        assert_eq!(owed, kopecks!(200_00));
        assert_eq!(months, [("2026-01".into(), owed), ("2026-02".into(), owed), ("2026-03".into(), owed)]);
    }
}
