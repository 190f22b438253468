//! What consumers owe: charges minus payments, from one aggregate query per question.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use chrono::NaiveDate;
use domain::{ChargeKind, Kopecks, Period, Service, billing::Balance};
use sea_orm::{ConnectionTrait, DbErr, Value};

use crate::db::{self, Db, Row, Source};

/// Whose contracts to sum.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    Consumer(i64),
    Plot(i64),
    Contract(i64),
    All,
}

impl Scope {
    fn condition(self) -> (&'static str, Option<i64>) {
        match self {
            Scope::Consumer(id) => ("c.consumer_id = ?", Some(id)),
            Scope::Plot(id) => ("c.plot_id = ?", Some(id)),
            Scope::Contract(id) => ("c.id = ?", Some(id)),
            Scope::All => ("1 = 1", None),
        }
    }
}

/// Balance per contract in `scope`, counting charges and payments for periods up to `until`
/// (inclusive) or all of them.
pub async fn balances(
    conn: &impl ConnectionTrait,
    scope: Scope,
    until: Option<Period>,
) -> Result<HashMap<i64, Balance>, DbErr> {
    let (condition, scope_id) = scope.condition();
    let period_filter = if until.is_some() { "AND period <= ?" } else { "" };
    let sql = format!(
        "SELECT c.id AS contract_id, {charged} AS charged, {paid} AS paid FROM contracts c WHERE {condition}",
        charged = contract_sum("charges", period_filter),
        paid = contract_sum("payments", period_filter),
    );
    let until_value = until.map(|p| Value::from(p.to_string()));
    let values: Vec<Value> =
        until_value.clone().into_iter().chain(until_value).chain(scope_id.map(Value::from)).collect();
    let rows = db::query(conn, &sql, values).await?;
    rows.into_iter()
        .map(|row| {
            let id: i64 = row.try_get("", "contract_id")?;
            Ok((id, Balance::new(row.try_get("", "charged")?, row.try_get("", "paid")?)?))
        })
        .collect()
}

/// SQL: the total of `table`'s amounts for the contract `c`, narrowed by `filter` (`AND …`).
///
/// It cannot overflow: every stored amount is within ±`Kopecks::MAX` (10¹⁴), and a contract has a
/// few charges a month (one per register, plus an opening balance once) and payments of at most
/// `Kopecks::PAYMENT_MAX` (10⁹) each. Reaching `i64::MAX` (9.2·10¹⁸) would take 92 000 charges at
/// the bound (3 800 years of a two-zone meter) or 9·10⁹ payments. Past it, SQLite's `SUM` fails with «integer
/// overflow» and PostgreSQL's cast with «bigint out of range»: an error, never a wrapped sum. The
/// total is read through `Kopecks`' constructor, so one beyond `Kopecks::MAX` is an error too.
fn contract_sum(table: &str, filter: &str) -> String {
    format!("CAST(COALESCE((SELECT SUM(amount_kopecks) FROM {table} WHERE contract_id = c.id {filter}), 0) AS BIGINT)")
}

/// Every contract's debt at the end of `period` (negative: overpaid), as
/// `balances(conn, Scope::All, Some(period))` gives it, without summing the whole history: the
/// closing stored when the last month up to `period` was closed, plus what was booked after it.
/// A closed month's lines never change (a late correction is booked in an open month), so its
/// stored closing is everything before it summed once.
pub async fn closing_debts(conn: &impl Source, period: Period) -> Result<HashMap<i64, Kopecks>, DbErr> {
    // Months compare as `YYYY-MM` text; '' is before any of them.
    let after = "AND period > b.last AND period <= ?";
    let sql = format!(
        "SELECT c.id AS contract_id, \
           (SELECT closing FROM period_balances WHERE period = b.last AND contract_id = c.id) AS stored, \
           {charged} AS charged, {paid} AS paid \
         FROM contracts c, (SELECT COALESCE(MAX(period), '') AS last FROM closed_periods WHERE period <= ?) b",
        charged = contract_sum("charges", after),
        paid = contract_sum("payments", after),
    );
    let p = || Value::from(period.to_string());
    let rows: Vec<ClosingParts> = conn.rows(&sql, vec![p(), p(), p()]).await?;
    let out_of_range = |e: domain::AmountOutOfRange| DbErr::Type(e.to_string());
    rows.into_iter()
        .map(|row| {
            let debt =
                row.stored.unwrap_or(Kopecks::ZERO).checked_add(row.charged).and_then(|d| d.checked_sub(row.paid));
            Ok((row.contract_id, debt.map_err(out_of_range)?))
        })
        .collect()
}

/// A contract's stored closing and what was booked after it, as [`closing_debts`] reads them.
struct ClosingParts {
    contract_id: i64,
    stored: Option<Kopecks>,
    charged: Kopecks,
    paid: Kopecks,
}

crate::from_row!(ClosingParts { contract_id, stored, charged, paid });

/// The total balance of a scope.
pub async fn total(conn: &impl ConnectionTrait, scope: Scope) -> Result<Balance, DbErr> {
    Ok(Balance::try_sum(balances(conn, scope, None).await?.into_values())?)
}

/// One contract's line in a consumer's statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractLine {
    pub contract_id: i64,
    pub contract_number: String,
    pub service: Service,
    pub plot_number: String,
    pub meter_serial: Option<String>,
    /// The latest month charged for consumption and its amount (all zones).
    pub last_charge: Option<(Period, Kopecks)>,
    /// The debt (or credit) carried over at go-live, and the go-live day it is dated.
    pub opening_balance: Option<(NaiveDate, Kopecks)>,
    /// The recalculations booked in the latest month that has any, in the order they were booked.
    pub recalculations: Vec<RecalculationLine>,
    pub last_payment: Option<(NaiveDate, Kopecks)>,
    pub balance: Balance,
}

/// A recalculation line of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecalculationLine {
    /// The charge's id: the lines are shown in this order, the order they were booked in.
    pub id: i64,
    pub reason: String,
    pub amount: Kopecks,
}

/// A consumer's debt, contract by contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub lines: Vec<ContractLine>,
    pub total: Balance,
}

/// The statement as a Telegram message (and the panel's text of it).
impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lines.is_empty() {
            return f.write_str("Договоров не найдено.");
        }
        for line in &self.lines {
            writeln!(f, "{} — договор № {}, участок {}", line.service, line.contract_number, line.plot_number)?;
            if let Some(serial) = &line.meter_serial {
                writeln!(f, "Счётчик: {serial}")?;
            }
            match line.last_charge {
                Some((period, amount)) => writeln!(f, "Начислено за {}: {amount}", period.russian())?,
                None => writeln!(f, "Начислений пока нет")?,
            }
            if let Some((dated_on, amount)) = line.opening_balance {
                let carried = Balance::of_debt(amount).describe().to_lowercase();
                writeln!(f, "Входящее сальдо на {}: {carried}", dated_on.format("%d.%m.%Y"))?;
            }
            for RecalculationLine { reason, amount, .. } in &line.recalculations {
                writeln!(f, "{reason}: {amount}")?;
            }
            match line.last_payment {
                Some((date, amount)) => writeln!(f, "Последняя оплата: {amount} от {}", date.format("%d.%m.%Y"))?,
                None => writeln!(f, "Оплат пока нет")?,
            }
            write!(f, "{}\n\n", line.balance.describe())?;
        }
        write!(f, "Итого: {}", self.total.describe().to_lowercase())
    }
}

/// Everything a consumer owes, per contract, with the latest charge and payment: one query, because
/// the bot asks this for every «Задолженность». On an SQLite file it runs on the calling thread
/// (`service::db`'s readers): handing it to sqlx's thread cost three times SQLite's own work
/// (issue 20).
pub async fn statement(db: &Db, consumer_id: i64) -> Result<Statement, DbErr> {
    let mut lines = Vec::new();
    match db.readers() {
        Some(readers) => {
            readers.each(&STATEMENT, [consumer_id], |row| add_row(&mut lines, row))?;
            // Nothing above awaited: a page of every consumer's statement (the receipts) must
            // still let the runtime's other tasks in between them.
            tokio::task::coop::consume_budget().await;
        }
        None => {
            for row in db::query(db.conn(), &STATEMENT, [consumer_id.into()]).await? {
                add_row(&mut lines, &row)?;
            }
        }
    }
    let total = Balance::try_sum(lines.iter().map(|l| l.balance))?;
    Ok(Statement { lines, total })
}

/// The statement's query. A contract comes as one row per recalculation line of its latest month
/// with any, or one row without. The month's condition stays out of the join: in it, SQLite
/// walked every charge of that month by `idx_charges_period` instead of the contract's
/// recalculations. Ordered by contract only, which the consumer's index gives as it is walked:
/// ordering the recalculations too cost SQLite a sorter per question (`add_row` orders them).
static STATEMENT: LazyLock<String> = LazyLock::new(|| {
    // The latest month charged for consumption, and that month's total (a few lines: it cannot
    // overflow, see `contract_sum`).
    let consumption = {
        let kind = ChargeKind::Consumption.code();
        let last = format!("SELECT MAX(period) FROM charges WHERE contract_id = c.id AND kind = '{kind}'");
        format!(
            "({last}) AS consumption_period, \
             CAST((SELECT SUM(amount_kopecks) FROM charges \
                   WHERE contract_id = c.id AND kind = '{kind}' AND period = ({last})) AS BIGINT) AS consumption_amount"
        )
    };
    // The latest money that stayed: not a reversal, nor a payment reversed (a moved one's new
    // line is a payment of its own), found once and joined by its id. The unary `+` keeps SQLite
    // walking the contract's payments by day: on the `reverses_id` index instead it read every
    // payment ever made (×30 the statement).
    let last_payment = "LEFT JOIN payments lp ON lp.id = \
        (SELECT pay.id FROM payments pay WHERE pay.contract_id = c.id AND +pay.reverses_id IS NULL \
           AND NOT EXISTS (SELECT 1 FROM payments rev WHERE rev.reverses_id = pay.id) \
         ORDER BY pay.paid_on DESC, pay.id DESC LIMIT 1)";
    format!(
        "SELECT c.id, c.number, c.service, p.number AS plot_number, \
           (SELECT serial FROM meters WHERE contract_id = c.id AND removed_on IS NULL \
            ORDER BY id DESC LIMIT 1) AS serial, \
           {charged} AS charged, {paid} AS paid, {consumption}, {opening}, \
           lp.paid_on AS payment_paid_on, lp.amount_kopecks AS payment_amount_kopecks, \
           r.id AS recalculation_id, r.reason AS recalculation_reason, r.amount_kopecks AS recalculation_amount \
         FROM contracts c JOIN plots p ON p.id = c.plot_id {last_payment} \
         LEFT JOIN charges r ON r.contract_id = c.id AND r.kind = 'recalculation' \
         WHERE c.consumer_id = ? AND (r.id IS NULL OR r.period = \
           (SELECT MAX(period) FROM charges WHERE contract_id = c.id AND kind = 'recalculation')) \
         ORDER BY c.id",
        charged = contract_sum("charges", ""),
        paid = contract_sum("payments", ""),
        opening = "(SELECT MIN(dated_on) FROM charges WHERE contract_id = c.id AND kind = 'opening_balance') \
                   AS opening_on, \
                   CAST((SELECT SUM(amount_kopecks) FROM charges WHERE contract_id = c.id \
                         AND kind = 'opening_balance') AS BIGINT) AS opening_amount",
    )
});

/// One row of [`STATEMENT`]: a contract's line, or another recalculation of the last one.
fn add_row(lines: &mut Vec<ContractLine>, row: &impl Row) -> Result<(), DbErr> {
    let contract_id: i64 = row.cell("id")?;
    if lines.last().is_none_or(|line| line.contract_id != contract_id) {
        lines.push(ContractLine {
            contract_id,
            contract_number: row.cell("number")?,
            service: row.cell("service")?,
            plot_number: row.cell("plot_number")?,
            meter_serial: row.cell("serial")?,
            last_charge: row.cell::<Option<Period>>("consumption_period")?.zip(row.cell("consumption_amount")?),
            opening_balance: row.cell::<Option<NaiveDate>>("opening_on")?.zip(row.cell("opening_amount")?),
            recalculations: Vec::new(),
            last_payment: row.cell::<Option<NaiveDate>>("payment_paid_on")?.zip(row.cell("payment_amount_kopecks")?),
            balance: Balance::new(row.cell("charged")?, row.cell("paid")?)?,
        });
    }
    let id: Option<i64> = row.cell("recalculation_id")?;
    if let (Some(line), Some(id)) = (lines.last_mut(), id) {
        let reason: Option<String> = row.cell("recalculation_reason")?;
        let recalculation =
            RecalculationLine { id, reason: reason.unwrap_or_default(), amount: row.cell("recalculation_amount")? };
        let at = line.recalculations.partition_point(|r| r.id < id);
        line.recalculations.insert(at, recalculation);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use sea_orm::EntityTrait;

    use super::*;
    use crate::demo::{self, DemoSpec};
    use crate::testing::TestContext;

    /// On an SQLite file the statement is read on the calling thread; the same query through the
    /// pool, as PostgreSQL reads it, must give every consumer the same statement. On either, a
    /// contract's recalculations come in the order they were booked.
    #[tokio::test]
    async fn the_statement_is_the_same_through_either_driver() {
        let t = TestContext::new().await;
        demo::generate(&t.ctx, DemoSpec { plots: 40, months: 14, seed: 7 }).await.unwrap();
        let contracts = entities::contract::Entity::find().all(t.ctx.db.conn()).await.unwrap();
        // The demo books neither opening balances nor recalculations: one contract gets both.
        let txn = t.ctx.db.begin_write().await.unwrap();
        let month = Value::from(t.ctx.current_period().to_string());
        for (kind, amount, reason) in [
            (ChargeKind::OpeningBalance, 1_234_567, None),
            // Booked in the order opposite to their amounts', the order SQLite reads them in by
            // `idx_charges_contract_id_kind_period_amount_kopecks` (PostgreSQL's is any).
            (ChargeKind::Recalculation, 70_001, Some("Ошибка в показаниях")),
            (ChargeKind::Recalculation, -50_000, Some("Поверка счётчика")),
        ] {
            let values = [
                contracts[0].id.into(),
                month.clone(),
                month.clone(),
                t.ctx.today().into(),
                reason.into(),
                kind.code().into(),
                Kopecks::new(amount).unwrap().into(),
                t.ctx.now().into(),
            ];
            let insert = "INSERT INTO charges (contract_id, period, for_period, dated_on, reason, kind, \
                          amount_kopecks, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
            txn.execute_raw(db::sql(t.ctx.db.backend(), insert, values)).await.unwrap();
        }
        txn.commit().await.unwrap();
        let mut consumers: Vec<i64> = contracts.iter().map(|c| c.consumer_id).collect();
        consumers.sort_unstable();
        consumers.dedup();
        let (mut lines, mut paid) = (0, 0);
        for consumer in consumers {
            let mut from_pool = Vec::new();
            for row in db::query(t.ctx.db.conn(), &STATEMENT, [consumer.into()]).await.unwrap() {
                add_row(&mut from_pool, &row).unwrap();
            }
            let statement = statement(&t.ctx.db, consumer).await.unwrap();
            assert_eq!(statement.lines, from_pool, "consumer {consumer}");
            lines += from_pool.len();
            paid += from_pool.iter().filter(|l| l.last_payment.is_some() && l.last_charge.is_some()).count();
        }
        // Compared on lines with every part of the statement filled in, not on empty ones.
        assert!(lines >= 40 && paid > 0, "{lines} lines, {paid} paid and charged");
        let booked = statement(&t.ctx.db, contracts[0].consumer_id).await.unwrap();
        let line = booked.lines.iter().find(|l| l.contract_id == contracts[0].id).unwrap();
        assert_eq!(line.opening_balance, Some((t.ctx.today(), Kopecks::new(1_234_567).unwrap())));
        let reasons: Vec<&str> = line.recalculations.iter().map(|r| r.reason.as_str()).collect();
        assert_eq!(reasons, ["Ошибка в показаниях", "Поверка счётчика"], "{line:?}");
    }
}
