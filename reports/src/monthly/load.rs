//! Everything the monthly report reads, in a fixed number of queries whatever the size of the
//! cooperative; the joining happens in memory.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::{ChargeKind, Kopecks, MeterValue, PaymentSource, Period, ReadingSource, ReadingStatus, Service, Zone};
use entities::{meter, reading};
use sea_orm::{DbErr, Value};
use service::db::{FromRow, Row, Source};
use service::from_row;
use service::ledger::debt;
use service::readings::walk::COUNTED_SQL;

/// A contract with the names the sheets show.
#[derive(Debug)]
pub(super) struct ContractRecord {
    pub id: i64,
    pub number: String,
    pub service: Service,
    pub signed_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub plot_id: i64,
    pub plot_number: String,
    pub consumer_name: String,
    pub phone: Option<String>,
}

impl ContractRecord {
    /// Signed by the end of the month and not closed before it began.
    pub fn active_in(&self, period: Period) -> bool {
        self.signed_on <= period.last_day() && self.closed_on.is_none_or(|closed| closed >= period.first_day())
    }
}

/// A charge of the month.
#[derive(Debug)]
pub(super) struct ChargeRecord {
    pub contract_id: i64,
    pub kind: ChargeKind,
    pub amount_kopecks: Kopecks,
    /// Consumption charges only (not opening balances or recalculations, which count as charges
    /// of the month they are booked in without a register).
    pub metered: Option<MeteredRecord>,
}

impl FromRow for ChargeRecord {
    /// A consumption charge carries its register and reading whole: one missing a part (its
    /// reading is held by a foreign key) is an error, not a charge shown without its register.
    fn from_row(row: &impl Row) -> Result<Self, DbErr> {
        let metered = match row.cell::<Option<i64>>("meter_id")? {
            Some(_) => Some(MeteredRecord::from_row(row)?),
            None => None,
        };
        Ok(ChargeRecord {
            contract_id: row.cell("contract_id")?,
            kind: row.cell("kind")?,
            amount_kopecks: row.cell("amount_kopecks")?,
            metered,
        })
    }
}

/// A consumption charge's register and the reading that closed the month.
#[derive(Debug)]
pub(super) struct MeteredRecord {
    pub meter_id: i64,
    pub zone: Zone,
    pub previous_value: MeterValue,
    pub current_value: MeterValue,
    pub consumption: MeterValue,
    pub price_kopecks: Kopecks,
    pub taken_at: DateTime<Utc>,
    pub source: ReadingSource,
    pub seal_intact: Option<bool>,
    pub photo_id: Option<i64>,
}

/// A payment booked in the month (the money arrived in it).
#[derive(Debug)]
pub(super) struct PaymentRecord {
    pub id: i64,
    pub contract_id: i64,
    pub amount_kopecks: Kopecks,
    pub paid_on: NaiveDate,
    pub for_period: Period,
    pub reference: Option<String>,
    pub source: PaymentSource,
    /// A reversal: the payment it reverses, and why (a moved payment has a reason too).
    pub reverses_id: Option<i64>,
    pub reason: Option<String>,
    /// Its reversal, when that is booked in this month or before (so a closed month's report,
    /// written again after a later reversal, stays as it was sent).
    pub reversed_by: Option<i64>,
    pub reversed_on: Option<NaiveDate>,
}

/// A recalculation line booked in the month.
#[derive(Debug)]
pub(super) struct RecalculationRecord {
    pub contract_id: i64,
    pub for_period: Period,
    /// In thousandths of a unit, negative when consumption went down.
    pub consumption_change: Option<i64>,
    pub amount_kopecks: Kopecks,
    pub reason: Option<String>,
}

/// A reading of the month that counts as "read": accepted, or waiting for review.
#[derive(Debug)]
pub(super) struct ActivityRecord {
    pub meter_id: i64,
    pub status: ReadingStatus,
}

/// A meter's last accepted reading before the month.
#[derive(Debug)]
pub(super) struct LastRecord {
    pub meter_id: i64,
    pub taken_at: DateTime<Utc>,
    pub value_t1: MeterValue,
    pub value_t2: Option<MeterValue>,
}

impl LastRecord {
    pub fn values(&self) -> Vec<MeterValue> {
        reading::register_values(self.value_t1, self.value_t2)
    }
}

/// The month's own rows.
pub(super) struct Loaded {
    pub contracts: Vec<ContractRecord>,
    pub meters: Vec<meter::Model>,
    pub charges: Vec<ChargeRecord>,
    pub payments: Vec<PaymentRecord>,
    pub recalculations: Vec<RecalculationRecord>,
    pub activity: Vec<ActivityRecord>,
    /// When the month was closed, if it is: a closed month's report carries this time, so its
    /// money (charges, payments, balances, the readings billed) is the same whenever it is
    /// written again. What was read in the month («Не сняты», the counts of plots read) and the
    /// network's balance are read as the readings stand now: a reading of the month recorded
    /// after the closing shows there, while its money goes to the open month.
    pub closed_at: Option<DateTime<Utc>>,
}

/// What the month starts from: each meter's last reading before it, each contract's debt.
pub(super) struct Carried {
    pub last_before: Vec<LastRecord>,
    /// Debts at the end of the month, from the last closed month's stored balances on. The
    /// opening balances follow from these and the month's charges and payments, which saves a
    /// second pass over the ledger.
    pub closing: HashMap<i64, Kopecks>,
}

const CONTRACTS: &str = "\
    SELECT c.id, c.number, c.service, c.signed_on, c.closed_on, c.plot_id, \
           p.number AS plot_number, k.full_name AS consumer_name, k.phone \
    FROM contracts c JOIN plots p ON p.id = c.plot_id JOIN consumers k ON k.id = c.consumer_id";

const CHARGES: &str = "\
    SELECT ch.contract_id, ch.kind, ch.amount_kopecks, \
           CASE WHEN ch.kind = 'consumption' THEN ch.meter_id END AS meter_id, \
           CASE WHEN ch.kind = 'consumption' THEN ch.zone END AS zone, ch.previous_value, ch.current_value, \
           ch.consumption, ch.price_kopecks, r.taken_at, r.source, r.seal_intact, r.photo_id \
    FROM charges ch LEFT JOIN readings r ON r.id = ch.reading_id \
    WHERE ch.period = ?";

const PAYMENTS: &str = "\
    SELECT p.id, p.contract_id, p.amount_kopecks, p.paid_on, p.for_period, p.reference, p.source, p.reverses_id, \
           p.reason, r.id AS reversed_by, r.paid_on AS reversed_on \
    FROM payments p LEFT JOIN payments r ON r.reverses_id = p.id AND r.period <= ? \
    WHERE p.period = ? ORDER BY p.paid_on, p.id";

const RECALCULATIONS: &str = "\
    SELECT contract_id, for_period, consumption_change, amount_kopecks, reason FROM charges \
    WHERE period = ? AND kind = ? ORDER BY id";

/// Readings that count as read, as the walk and the reminders count them.
fn activity() -> String {
    format!("SELECT DISTINCT r.meter_id, r.status FROM readings r WHERE r.period = ? AND {COUNTED_SQL}")
}

/// The reading that closed the last month read before this one: billing's previous values. The
/// meters are walked in `id` order, so their seeks go through the readings' index in its own
/// order: left free, SQLite walked them by serial (a covering index) and jumped about the
/// readings' index, reading 33 700 pages where it now reads 14 300 (`.stats` in the `sqlite3`
/// shell, 10 000 plots × 24 months).
const LAST_BEFORE: &str = "\
    SELECT r.meter_id, r.taken_at, r.value_t1, r.value_t2 FROM meters m JOIN readings r ON r.id = ( \
        SELECT id FROM readings WHERE meter_id = m.id AND status = ? AND period < ? \
        ORDER BY period DESC, taken_at DESC, id DESC LIMIT 1) \
    ORDER BY m.id";

const CLOSED_AT: &str = "SELECT closed_at FROM closed_periods WHERE period = ?";

impl Loaded {
    pub async fn load(conn: &impl Source, period: Period) -> Result<Loaded, DbErr> {
        let month = || Value::from(period.to_string());
        let recalculation = Value::from(ChargeKind::Recalculation.code());
        let closed: Vec<ClosedAt> = conn.rows(CLOSED_AT, vec![month()]).await?;
        Ok(Loaded {
            contracts: conn.rows(CONTRACTS, vec![]).await?,
            meters: conn.rows("SELECT * FROM meters", vec![]).await?,
            charges: conn.rows(CHARGES, vec![month()]).await?,
            payments: conn.rows(PAYMENTS, vec![month(), month()]).await?,
            recalculations: conn.rows(RECALCULATIONS, vec![month(), recalculation]).await?,
            activity: conn.rows(&activity(), vec![month()]).await?,
            closed_at: closed.into_iter().next().map(|closed| closed.closed_at),
        })
    }
}

impl Carried {
    pub async fn load(conn: &impl Source, period: Period) -> Result<Carried, DbErr> {
        let accepted = Value::from(ReadingStatus::Accepted.code());
        Ok(Carried {
            last_before: conn.rows(LAST_BEFORE, vec![accepted, Value::from(period.to_string())]).await?,
            closing: debt::closing_debts(conn, period).await?,
        })
    }
}

struct ClosedAt {
    closed_at: DateTime<Utc>,
}

from_row!(ClosedAt { closed_at });
from_row!(ContractRecord { id, number, service, signed_on, closed_on, plot_id, plot_number, consumer_name, phone });
from_row!(MeteredRecord {
    meter_id,
    zone,
    previous_value,
    current_value,
    consumption,
    price_kopecks,
    taken_at,
    source,
    seal_intact,
    photo_id
});
from_row!(PaymentRecord {
    id,
    contract_id,
    amount_kopecks,
    paid_on,
    for_period,
    reference,
    source,
    reverses_id,
    reason,
    reversed_by,
    reversed_on
});
from_row!(RecalculationRecord { contract_id, for_period, consumption_change, amount_kopecks, reason });
from_row!(ActivityRecord { meter_id, status });
from_row!(LastRecord { meter_id, taken_at, value_t1, value_t2 });
