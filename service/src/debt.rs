//! What consumers owe: charges minus payments, from one aggregate query per question.

use std::collections::HashMap;

use chrono::NaiveDate;
use domain::{ChargeKind, Kopecks, Period, Service, billing::Balance};
use entities::{contract, meter, plot};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Value};

use crate::db;

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
        "SELECT c.id AS contract_id, \
           CAST(COALESCE((SELECT SUM(amount_kopecks) FROM charges WHERE contract_id = c.id {period_filter}), 0) AS BIGINT) AS charged, \
           CAST(COALESCE((SELECT SUM(amount_kopecks) FROM payments WHERE contract_id = c.id {period_filter}), 0) AS BIGINT) AS paid \
         FROM contracts c WHERE {condition}"
    );
    let until_value = until.map(|p| Value::from(p.to_string()));
    let values: Vec<Value> =
        until_value.clone().into_iter().chain(until_value).chain(scope_id.map(Value::from)).collect();
    let rows = db::query(conn, &sql, values).await?;
    rows.into_iter()
        .map(|row| {
            let id: i64 = row.try_get("", "contract_id")?;
            let charged: i64 = row.try_get("", "charged")?;
            let paid: i64 = row.try_get("", "paid")?;
            Ok((id, Balance { charged: Kopecks(charged), paid: Kopecks(paid) }))
        })
        .collect()
}

/// The total balance of a scope.
pub async fn total(conn: &impl ConnectionTrait, scope: Scope) -> Result<Balance, DbErr> {
    Ok(balances(conn, scope, None).await?.into_values().sum())
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
    /// The debt (or credit) carried over at go-live, and the month before the first billed one.
    pub opening_balance: Option<(Period, Kopecks)>,
    pub last_payment: Option<(NaiveDate, Kopecks)>,
    pub balance: Balance,
}

/// A consumer's debt, contract by contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub lines: Vec<ContractLine>,
    pub total: Balance,
}

impl Statement {
    /// The statement as a Telegram message.
    pub fn to_message(&self) -> String {
        if self.lines.is_empty() {
            return "Договоров не найдено.".to_owned();
        }
        let mut out = String::new();
        for line in &self.lines {
            out.push_str(&format!(
                "{} — договор № {}, участок {}\n",
                line.service, line.contract_number, line.plot_number
            ));
            if let Some(serial) = &line.meter_serial {
                out.push_str(&format!("Счётчик: {serial}\n"));
            }
            match line.last_charge {
                Some((period, amount)) => out.push_str(&format!("Начислено за {}: {amount}\n", period.russian())),
                None => out.push_str("Начислений пока нет\n"),
            }
            if let Some((period, amount)) = line.opening_balance {
                let opened = period.next().first_day().format("%d.%m.%Y");
                let carried = Balance { charged: amount, paid: Kopecks::ZERO }.describe().to_lowercase();
                out.push_str(&format!("Входящее сальдо на {opened}: {carried}\n"));
            }
            match line.last_payment {
                Some((date, amount)) => {
                    out.push_str(&format!("Последняя оплата: {amount} от {}\n", date.format("%d.%m.%Y")));
                }
                None => out.push_str("Оплат пока нет\n"),
            }
            out.push_str(&format!("{}\n\n", line.balance.describe()));
        }
        out.push_str(&format!("Итого: {}", self.total.describe().to_lowercase()));
        out
    }
}

/// Everything a consumer owes, per contract, with the latest charge and payment.
pub async fn statement(conn: &impl ConnectionTrait, consumer_id: i64) -> Result<Statement, DbErr> {
    let balances = balances(conn, Scope::Consumer(consumer_id), None).await?;
    let contracts = contract::Entity::find()
        .filter(contract::Column::ConsumerId.eq(consumer_id))
        .find_also_related(plot::Entity)
        .order_by_asc(contract::Column::Id)
        .all(conn)
        .await?;
    let ids: Vec<i64> = contracts.iter().map(|(c, _)| c.id).collect();
    let meters: HashMap<i64, meter::Model> = meter::Entity::find()
        .filter(meter::Column::ContractId.is_in(ids.clone()))
        .filter(meter::Column::RemovedOn.is_null())
        .all(conn)
        .await?
        .into_iter()
        .map(|m| (m.contract_id, m))
        .collect();
    let latest_charges = latest_charges(conn, consumer_id).await?;
    let last_payments = last_payments(conn, consumer_id).await?;

    let lines: Vec<ContractLine> = contracts
        .into_iter()
        .map(|(c, plot)| ContractLine {
            contract_id: c.id,
            meter_serial: meters.get(&c.id).map(|m| m.serial.clone()),
            last_charge: latest_charges.get(&(c.id, ChargeKind::Consumption)).copied(),
            opening_balance: latest_charges.get(&(c.id, ChargeKind::OpeningBalance)).copied(),
            last_payment: last_payments.get(&c.id).copied(),
            balance: balances.get(&c.id).copied().unwrap_or_default(),
            plot_number: plot.map(|p| p.number.to_string()).unwrap_or_default(),
            contract_number: c.number,
            service: c.service,
        })
        .collect();
    let total = lines.iter().map(|l| l.balance).sum();
    Ok(Statement { lines, total })
}

/// The latest charged period per contract of a consumer and kind of charge, with its total.
async fn latest_charges(
    conn: &impl ConnectionTrait,
    consumer_id: i64,
) -> Result<HashMap<(i64, ChargeKind), (Period, Kopecks)>, DbErr> {
    let sql = "SELECT ch.contract_id, ch.kind, ch.period, CAST(SUM(ch.amount_kopecks) AS BIGINT) AS amount \
               FROM charges ch JOIN contracts c ON c.id = ch.contract_id \
               WHERE c.consumer_id = ? AND ch.period = \
                 (SELECT MAX(period) FROM charges WHERE contract_id = ch.contract_id AND kind = ch.kind) \
               GROUP BY ch.contract_id, ch.kind, ch.period";
    let rows = db::query(conn, sql, [consumer_id.into()]).await?;
    rows.into_iter()
        .map(|row| {
            let unreadable = |e: &dyn std::fmt::Display| DbErr::Type(e.to_string());
            let kind: String = row.try_get("", "kind")?;
            let kind: ChargeKind = kind.parse().map_err(|e| unreadable(&e))?;
            let period: String = row.try_get("", "period")?;
            let period = Period::parse(&period).map_err(|e| unreadable(&e))?;
            Ok(((row.try_get("", "contract_id")?, kind), (period, Kopecks(row.try_get("", "amount")?))))
        })
        .collect()
}

/// The latest payment per contract of a consumer.
async fn last_payments(
    conn: &impl ConnectionTrait,
    consumer_id: i64,
) -> Result<HashMap<i64, (NaiveDate, Kopecks)>, DbErr> {
    let sql = "SELECT p.contract_id, p.paid_on, p.amount_kopecks FROM payments p \
               JOIN contracts c ON c.id = p.contract_id \
               WHERE c.consumer_id = ? ORDER BY p.paid_on, p.id";
    let rows = db::query(conn, sql, [consumer_id.into()]).await?;
    let mut latest = HashMap::new();
    for row in rows {
        let paid_on: NaiveDate = row.try_get("", "paid_on")?;
        latest.insert(row.try_get("", "contract_id")?, (paid_on, Kopecks(row.try_get("", "amount_kopecks")?)));
    }
    Ok(latest)
}
