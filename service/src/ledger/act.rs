//! The акт сверки (statement of account): a contract's or a consumer's ledger lines over a date
//! range, each with the running balance, between the opening balance at the start of the range
//! and the closing balance at its end.
//!
//! Each line carries the day it stands on the statement, which always lies in its booking month
//! (so an акт over whole months agrees with the monthly reports, and one up to today with the
//! debt): a charge its `dated_on` (consumption: the closing reading's day; a recalculation: the
//! day it was booked; an opening balance: the go-live day; a share of the network's losses: the
//! last day of the month booked, or the day of booking in the current month); a payment the day
//! the money arrived. A line whose day fell in a month already closed when it was booked (a
//! payment that arrived then, an opening balance loaded after its go-live month closed) stands on
//! the first day of the month it was booked in, and its text names its own day.

use std::collections::HashMap;

use chrono::{Datelike, Months, NaiveDate};
use domain::{ChargeKind, Kopecks, MeterValue, PaymentSource, Period, Service, Zone};
use entities::{charge, consumer, contract, payment, plot};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait};

use crate::dates::{self, DateError};
use crate::error::internal_errors;
use crate::payee::details;
use crate::{Context, Internal};

/// Whose lines the акт shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActScope {
    Contract(i64),
    /// Every contract of the consumer, each with its subtotal.
    Consumer(i64),
}

/// The longest range an акт covers: ten years of lines is several thousand rows, still one sheet.
pub const MAX_YEARS: u32 = 10;

/// Why an акт was not made.
#[derive(Debug, thiserror::Error)]
pub enum ActError {
    #[error("Начало периода: {0}")]
    From(DateError),
    #[error("Конец периода: {0}")]
    To(DateError),
    #[error("Начало периода {} позже его конца {}.", dmy(*.0), dmy(*.1))]
    Reversed(NaiveDate, NaiveDate),
    #[error("Период акта — не длиннее {MAX_YEARS} лет, а с {} по {} больше.", dmy(*.0), dmy(*.1))]
    TooLong(NaiveDate, NaiveDate),
    #[error("Договор или потребитель не найден.")]
    NotFound,
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(ActError);

fn dmy(date: NaiveDate) -> String {
    date.format("%d.%m.%Y").to_string()
}

/// The days `from..=to` of an акт: within [`Period::YEARS`], `from` ≤ `to`, at most
/// [`MAX_YEARS`] long. Built only through [`ActRange::new`] or [`ActRange::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActRange {
    from: NaiveDate,
    to: NaiveDate,
}

impl ActRange {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<ActRange, ActError> {
        let from = dates::check(from).map_err(ActError::From)?;
        let to = dates::check(to).map_err(ActError::To)?;
        if from > to {
            return Err(ActError::Reversed(from, to));
        }
        if from.checked_add_months(Months::new(12 * MAX_YEARS)).is_none_or(|limit| to >= limit) {
            return Err(ActError::TooLong(from, to));
        }
        Ok(ActRange { from, to })
    }

    /// Two dates as a person typed them.
    pub fn parse(from: &str, to: &str) -> Result<ActRange, ActError> {
        ActRange::new(dates::parse_date(from).map_err(ActError::From)?, dates::parse_date(to).map_err(ActError::To)?)
    }

    /// 1 January of `today`'s year → `today`: what the panel offers first.
    pub fn this_year(today: NaiveDate) -> ActRange {
        let from = today.with_ordinal(1).unwrap_or(today);
        ActRange::new(from, today).unwrap_or(ActRange { from: today, to: today })
    }

    pub fn from(self) -> NaiveDate {
        self.from
    }

    pub fn to(self) -> NaiveDate {
        self.to
    }
}

/// What a line of the акт is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Charge(ChargeKind),
    Payment,
    /// A payment's reversal (сторно): a negative payment.
    Reversal,
}

/// One line: a charge is a debit, a payment a credit (a negative recalculation or a reversal is
/// a negative one); `balance` is the contract's debt after it (negative: overpaid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActLine {
    pub date: NaiveDate,
    pub kind: LineKind,
    /// What the line is, for people: «Потребление (T1)», «Оплата, Выписка банка, № 17»…
    pub text: String,
    /// The month the line is about (consumption, the month corrected, the month paid for).
    pub for_period: Period,
    /// A consumption line's, a recalculation's or a loss share's quantity (a recalculation's may
    /// be negative, in thousandths).
    pub quantity: Option<i64>,
    pub debit: Kopecks,
    pub credit: Kopecks,
    pub balance: Kopecks,
}

/// One contract's part of the акт: `closing = opening + charged − paid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractAct {
    pub contract_id: i64,
    pub number: String,
    pub service: Service,
    pub plot: String,
    pub opening: Kopecks,
    pub lines: Vec<ActLine>,
    pub charged: Kopecks,
    pub paid: Kopecks,
    pub closing: Kopecks,
}

/// The акт: the contracts in the order they were signed, and their sums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Act {
    /// The cooperative's name as on its bank details, or the default one before they are set.
    pub cooperative: String,
    pub consumer: String,
    pub range: ActRange,
    pub contracts: Vec<ContractAct>,
    pub opening: Kopecks,
    pub charged: Kopecks,
    pub paid: Kopecks,
    pub closing: Kopecks,
}

/// A month of the акт, as the bot's «История расчётов» lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActMonth {
    pub period: Period,
    pub charged: Kopecks,
    pub paid: Kopecks,
    /// The debt at the end of the month (or of the range, for its last month).
    pub closing: Kopecks,
}

/// The name the акт carries until the bank details are set.
pub const COOPERATIVE: &str = "СНТ «Черноморск»";

impl Act {
    /// The plots of the акт's contracts, once each, in order: for headings and file names.
    pub fn plots(&self) -> Vec<&str> {
        let mut plots: Vec<&str> = Vec::new();
        for c in &self.contracts {
            if !plots.contains(&c.plot.as_str()) {
                plots.push(&c.plot);
            }
        }
        plots
    }

    /// The range month by month, every calendar month of it (all contracts together): what was
    /// charged and paid in it and the balance at its end (the range's end, for the last one).
    pub fn months(&self) -> Result<Vec<ActMonth>, Internal> {
        let mut lines: Vec<&ActLine> = self.contracts.iter().flat_map(|c| &c.lines).collect();
        lines.sort_by_key(|line| line.date);
        let mut lines = lines.into_iter().peekable();
        let mut months = Vec::new();
        let mut balance = self.opening;
        let (mut period, last) = (Period::of(self.range.from), Period::of(self.range.to));
        while period <= last {
            let (mut charged, mut paid) = (Kopecks::ZERO, Kopecks::ZERO);
            while let Some(line) = lines.next_if(|line| period.contains(line.date)) {
                charged = charged.checked_add(line.debit)?;
                paid = paid.checked_add(line.credit)?;
                balance = balance.checked_add(line.debit)?.checked_sub(line.credit)?;
            }
            months.push(ActMonth { period, charged, paid, closing: balance });
            period = period.next();
        }
        Ok(months)
    }
}

/// The акт of `scope` over `range`, from one consistent read of the ledger.
pub async fn act(ctx: &Context, scope: ActScope, range: ActRange) -> Result<Act, ActError> {
    let txn = ctx.db.conn().begin().await?;
    let read = read(&txn, scope, range).await?;
    txn.commit().await?;
    Ok(read.act)
}

/// The акт of `scope` from its first line (the go-live day, for most) up to today: the bot's
/// full history. Longer than [`MAX_YEARS`], it starts that many years back.
pub async fn since_go_live(ctx: &Context, scope: ActScope) -> Result<Act, ActError> {
    let today = ctx.today();
    let txn = ctx.db.conn().begin().await?;
    let whole = ActRange { from: Period::of(today).first_day(), to: today };
    let first = read(&txn, scope, whole).await?.first_day.unwrap_or(today).min(today);
    let earliest = today.checked_sub_months(Months::new(12 * MAX_YEARS)).and_then(|d| d.succ_opt()).unwrap_or(today);
    let act = read(&txn, scope, ActRange::new(first.max(earliest), today)?).await?;
    txn.commit().await?;
    Ok(act.act)
}

struct Read {
    act: Act,
    /// The day of the earliest line of the scope, in the range or before it.
    first_day: Option<NaiveDate>,
}

async fn read(conn: &impl ConnectionTrait, scope: ActScope, range: ActRange) -> Result<Read, ActError> {
    let condition = match scope {
        ActScope::Contract(id) => contract::Column::Id.eq(id),
        ActScope::Consumer(id) => contract::Column::ConsumerId.eq(id),
    };
    let contracts = contract::Entity::find()
        .filter(condition)
        .find_also_related(plot::Entity)
        .order_by_asc(contract::Column::SignedOn)
        .order_by_asc(contract::Column::Id)
        .all(conn)
        .await?;
    let consumer_id = match (scope, contracts.first()) {
        (ActScope::Consumer(id), _) => id,
        (ActScope::Contract(_), Some((c, _))) => c.consumer_id,
        (ActScope::Contract(_), None) => return Err(ActError::NotFound),
    };
    let consumer = consumer::Entity::find_by_id(consumer_id).one(conn).await?.ok_or(ActError::NotFound)?;
    let ids: Vec<i64> = contracts.iter().map(|(c, _)| c.id).collect();
    let mut lines: HashMap<i64, Vec<Dated>> = HashMap::new();
    let units: HashMap<i64, &'static str> = contracts.iter().map(|(c, _)| (c.id, c.service.unit())).collect();
    let charges = charge::Entity::find().filter(charge::Column::ContractId.is_in(ids.clone())).all(conn).await?;
    for charge in charges {
        let unit = units.get(&charge.contract_id).copied().unwrap_or_default();
        lines.entry(charge.contract_id).or_default().push(charge_line(charge, unit));
    }
    let payments = payment::Entity::find().filter(payment::Column::ContractId.is_in(ids)).all(conn).await?;
    let by_id: HashMap<i64, &payment::Model> = payments.iter().map(|p| (p.id, p)).collect();
    for p in &payments {
        let original = p.reverses_id.and_then(|id| by_id.get(&id).copied());
        lines.entry(p.contract_id).or_default().push(payment_line(p, original));
    }
    let first_day = lines.values().flatten().map(|line| line.date).min();
    let mut parts = Vec::with_capacity(contracts.len());
    for (c, plot) in contracts {
        let mut dated = lines.remove(&c.id).unwrap_or_default();
        dated.sort_by_key(|line| (line.date, line.order));
        parts.push(contract_act(c, plot.map(|p| p.number.to_string()).unwrap_or_default(), dated, range)?);
    }
    let sum = |f: fn(&ContractAct) -> Kopecks| Kopecks::try_sum(parts.iter().map(f));
    let (opening, charged, paid) = (sum(|c| c.opening)?, sum(|c| c.charged)?, sum(|c| c.paid)?);
    let cooperative = details::saved(conn).await?.map_or_else(|| COOPERATIVE.to_owned(), |saved| saved.row.payee);
    let act = Act {
        cooperative,
        consumer: consumer.full_name,
        range,
        contracts: parts,
        opening,
        charged,
        paid,
        closing: opening.checked_add(charged)?.checked_sub(paid)?,
    };
    Ok(Read { act, first_day })
}

/// A line before the running balance: its day, and its place among the day's lines (charges
/// before payments, each in the order booked).
struct Dated {
    date: NaiveDate,
    order: (u8, i64),
    line: ActLine,
}

/// A charge line; `unit` is what its contract's consumption is measured in.
fn charge_line(c: charge::Model, unit: &str) -> Dated {
    let kind = c.kind;
    // The zone only where there are two: «(день)», «(ночь)».
    let zone =
        c.zone.filter(|z| *z != Zone::Single).map(|z| format!(" ({})", z.label().to_lowercase())).unwrap_or_default();
    let text = match kind {
        ChargeKind::Consumption => format!("Потребление за {}{zone}, {unit}", c.for_period.russian()),
        // A correction says what it corrected; the go-live line has no reason.
        ChargeKind::OpeningBalance => {
            c.reason.clone().unwrap_or_else(|| format!("Входящее сальдо на {}", dmy(c.dated_on)))
        }
        ChargeKind::Recalculation | ChargeKind::NetworkLosses => {
            c.reason.clone().unwrap_or_else(|| format!("{} за {}{zone}", kind.label(), c.for_period.russian()))
        }
    };
    let quantity = match kind {
        ChargeKind::Recalculation => c.consumption_change,
        _ => c.consumption.map(MeterValue::thousandths),
    };
    // An opening balance loaded after its go-live month closed stands in its booking month.
    let date = c.dated_on.max(c.period.first_day());
    Dated {
        date,
        order: (0, c.id),
        line: ActLine {
            date,
            kind: LineKind::Charge(kind),
            text,
            for_period: c.for_period,
            quantity,
            debit: c.amount_kopecks,
            credit: Kopecks::ZERO,
            balance: Kopecks::ZERO,
        },
    }
}

fn payment_line(p: &payment::Model, original: Option<&payment::Model>) -> Dated {
    // A payment that arrived in a month closed before it was entered stands in its booking month.
    let date = p.paid_on.max(p.period.first_day());
    let mut text = match (p.reverses_id, original) {
        (Some(_), Some(o)) => format!("Сторно оплаты № {} от {} на {}", o.id, dmy(o.paid_on), o.amount_kopecks),
        (Some(id), None) => format!("Сторно оплаты № {id}"),
        (None, _) => format!("Оплата № {}, {}", p.id, source_text(p.source)),
    };
    if let Some(reference) = p.reference.as_deref().filter(|r| !r.is_empty()) {
        text.push_str(&format!(", док. {reference}"));
    }
    if date != p.paid_on {
        text.push_str(&format!(", поступила {}", dmy(p.paid_on)));
    }
    if let Some(reason) = p.reason.as_deref() {
        text.push_str(&format!(": {reason}"));
    }
    Dated {
        date,
        order: (1, p.id),
        line: ActLine {
            date,
            kind: if p.reverses_id.is_some() { LineKind::Reversal } else { LineKind::Payment },
            text,
            for_period: p.for_period,
            quantity: None,
            debit: Kopecks::ZERO,
            credit: p.amount_kopecks,
            balance: Kopecks::ZERO,
        },
    }
}

fn source_text(source: PaymentSource) -> String {
    source.label().to_lowercase()
}

/// The contract's lines of `range` with the running balance, from the sum of those before it.
fn contract_act(c: contract::Model, plot: String, dated: Vec<Dated>, range: ActRange) -> Result<ContractAct, Internal> {
    let mut opening = Kopecks::ZERO;
    let (mut charged, mut paid) = (Kopecks::ZERO, Kopecks::ZERO);
    let mut lines = Vec::new();
    for Dated { date, mut line, .. } in dated {
        if date < range.from {
            opening = opening.checked_add(line.debit)?.checked_sub(line.credit)?;
        } else if date <= range.to {
            charged = charged.checked_add(line.debit)?;
            paid = paid.checked_add(line.credit)?;
            line.balance = opening.checked_add(charged)?.checked_sub(paid)?;
            lines.push(line);
        }
    }
    let closing = opening.checked_add(charged)?.checked_sub(paid)?;
    Ok(ContractAct {
        contract_id: c.id,
        number: c.number,
        service: c.service,
        plot,
        opening,
        lines,
        charged,
        paid,
        closing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_range_is_ordered_bounded_and_at_most_ten_years() {
        let range = ActRange::parse("01.01.2026", "2026-12-01").unwrap();
        assert_eq!((range.from(), range.to()), (d("2026-01-01"), d("2026-12-01")));
        assert!(ActRange::new(d("2016-12-02"), d("2026-12-01")).is_ok());
        let refused = |from: &str, to: &str| ActRange::parse(from, to).unwrap_err().to_string();
        assert_eq!(refused("02.12.2026", "01.12.2026"), "Начало периода 02.12.2026 позже его конца 01.12.2026.");
        assert_eq!(
            refused("01.12.2016", "01.12.2026"),
            "Период акта — не длиннее 10 лет, а с 01.12.2016 по 01.12.2026 больше."
        );
        assert_eq!(refused("", "01.12.2026"), "Начало периода: Дата не указана.");
        assert!(refused("01.01.1999", "01.12.2026").starts_with("Начало периода: «01.01.1999» — не дата"));
        assert!(refused("01.01.2026", "завтра").starts_with("Конец периода: «завтра» — не дата"));
        assert_eq!(ActRange::this_year(d("2026-12-01")), ActRange::parse("01.01.2026", "01.12.2026").unwrap());
    }
}
