//! The register as the office lists it: contracts, consumers and plots, searched and filtered.
//!
//! The register is filtered in Rust rather than SQL: searching names needs Unicode case folding
//! («иванов» finds «Иванов»), which SQLite's `LIKE` lacks, and a cooperative's register is a few
//! thousand rows at most, loaded with one query per table.

use std::collections::{BTreeSet, HashMap};

use domain::{Balance, Period, PlotNumber, Service, TextKind, TooLong};
use entities::{consumer, contract, meter, plot};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::cards::{by_id, plots_and_consumers};
use crate::ledger::debt::{self, Scope};
use crate::readings::walk;

/// One contract with everything a register row shows.
#[derive(Debug, Clone)]
pub struct ContractRow {
    pub contract: contract::Model,
    pub plot: plot::Model,
    pub consumer: consumer::Model,
    /// The meter in service (none once removed).
    pub meter: Option<meter::Model>,
    pub balance: Balance,
    /// Not read in the period, as the walk and the reminders count it
    /// ([`walk::unread_contracts`]).
    pub unread: bool,
}

/// The register's search box and filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisterFilter {
    /// Part of a plot number, name, phone, contract number or meter serial (see [`Self::search`]).
    text: String,
    pub service: Option<Service>,
    /// Only contracts with a debt.
    pub debtors: bool,
    /// Only contracts not read this period.
    pub unread: bool,
}

impl RegisterFilter {
    /// A search for `text` (blank: everything), refused when longer than a search box allows.
    pub fn search(text: &str) -> Result<RegisterFilter, TooLong> {
        Ok(RegisterFilter { text: TextKind::Search.bounded(text)?, ..RegisterFilter::default() })
    }

    fn has_flags(&self) -> bool {
        self.service.is_some() || self.debtors || self.unread
    }

    /// Whether `row` passes every filter and the search text.
    pub fn matches(&self, row: &ContractRow) -> bool {
        self.service.is_none_or(|s| row.contract.service == s)
            && (!self.debtors || row.balance.is_debtor())
            && (!self.unread || row.unread)
            && self.text_matches(
                [
                    row.plot.number.as_str(),
                    row.consumer.full_name.as_str(),
                    row.contract.number.as_str(),
                    row.meter.as_ref().map_or("", |m| m.serial.as_str()),
                ],
                row.consumer.phone.as_ref().map(|p| p.as_str()),
            )
    }

    /// Whether a plot or a consumer is listed: one of its contract `rows` passes, or (with no
    /// filter ticked) the search matches its own `fields` or `phone`.
    fn matches_holder<'a>(
        &self,
        rows: &[ContractRow],
        fields: impl IntoIterator<Item = &'a str>,
        phone: Option<&str>,
    ) -> bool {
        let own = !self.has_flags() && self.text_matches(fields, phone);
        own || rows.iter().any(|r| self.matches(r))
    }

    /// Case-insensitive substring search; phones compare by digits, `8…` as `+7…`.
    fn text_matches<'a>(&self, fields: impl IntoIterator<Item = &'a str>, phone: Option<&str>) -> bool {
        let needle = self.text.trim().to_lowercase();
        if needle.is_empty() {
            return true;
        }
        if fields.into_iter().any(|f| f.to_lowercase().contains(&needle)) {
            return true;
        }
        let phone_like = needle.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
        let mut digits: String = needle.chars().filter(char::is_ascii_digit).collect();
        if digits.len() == 11 && digits.starts_with('8') {
            digits.replace_range(..1, "7");
        }
        phone_like && digits.len() >= 3 && phone.is_some_and(|p| p.contains(&digits))
    }
}

/// Contracts in `scope` with plot, consumer, meter, balance and whether read in `period`, in
/// walking order of plots.
pub async fn contract_rows(
    conn: &impl ConnectionTrait,
    scope: Scope,
    period: Period,
) -> Result<Vec<ContractRow>, DbErr> {
    let condition: Condition = match scope {
        Scope::Consumer(id) => contract::Column::ConsumerId.eq(id).into(),
        Scope::Plot(id) => contract::Column::PlotId.eq(id).into(),
        Scope::Contract(id) => contract::Column::Id.eq(id).into(),
        Scope::All => Condition::all(),
    };
    let contracts = contract::Entity::find().filter(condition).all(conn).await?;
    let (plots, consumers) = plots_and_consumers(conn, &contracts).await?;
    let mut meters = by_id(
        meter::Entity::find()
            .filter(meter::Column::ContractId.is_in(contracts.iter().map(|c| c.id)))
            .filter(meter::Column::RemovedOn.is_null())
            .all(conn)
            .await?,
        |m| m.contract_id,
    );
    let balances = debt::balances(conn, scope, None).await?;
    let unread = walk::unread_contracts(conn, period).await?;
    let mut rows: Vec<ContractRow> = contracts
        .into_iter()
        .filter_map(|contract| {
            let meter = meters.remove(&contract.id);
            let unread = unread.contains(&contract.id);
            Some(ContractRow {
                plot: plots.get(&contract.plot_id)?.clone(),
                consumer: consumers.get(&contract.consumer_id)?.clone(),
                balance: balances.get(&contract.id).copied().unwrap_or_default(),
                meter,
                unread,
                contract,
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        PlotNumber::route_order(a.plot.number.as_str(), b.plot.number.as_str())
            .then_with(|| a.contract.number.cmp(&b.contract.number))
    });
    Ok(rows)
}

/// Every contract row, grouped by `key`: its plot's or its consumer's id.
async fn contract_rows_by(
    conn: &impl ConnectionTrait,
    period: Period,
    key: impl Fn(&ContractRow) -> i64,
) -> Result<HashMap<i64, Vec<ContractRow>>, DbErr> {
    let mut groups: HashMap<i64, Vec<ContractRow>> = HashMap::new();
    for row in contract_rows(conn, Scope::All, period).await? {
        groups.entry(key(&row)).or_default().push(row);
    }
    Ok(groups)
}

/// The contracts matching `filter`.
pub async fn contracts(
    conn: &impl ConnectionTrait,
    filter: &RegisterFilter,
    period: Period,
) -> Result<Vec<ContractRow>, DbErr> {
    let rows = contract_rows(conn, Scope::All, period).await?;
    Ok(rows.into_iter().filter(|row| filter.matches(row)).collect())
}

/// A consumer with their plots, contracts and total balance.
#[derive(Debug, Clone)]
pub struct ConsumerRow {
    pub consumer: consumer::Model,
    pub plots: Vec<PlotNumber>,
    pub contracts: Vec<String>,
    pub balance: Balance,
}

/// Consumers with a contract matching `filter`, or (with no filter ticked) whose name or phone
/// matches the search; sorted by name.
pub async fn consumers(
    conn: &impl ConnectionTrait,
    filter: &RegisterFilter,
    period: Period,
) -> Result<Vec<ConsumerRow>, DbErr> {
    let mut rows_by_consumer = contract_rows_by(conn, period, |row| row.consumer.id).await?;
    let mut consumers = consumer::Entity::find().all(conn).await?;
    consumers.sort_by_cached_key(|c| c.full_name.to_lowercase());
    consumers
        .into_iter()
        .filter_map(|consumer| {
            let rows = rows_by_consumer.remove(&consumer.id).unwrap_or_default();
            let phone = consumer.phone.as_ref().map(|p| p.as_str());
            filter.matches_holder(&rows, [consumer.full_name.as_str()], phone).then(|| {
                Ok(ConsumerRow {
                    // Rows come in walking order, so equal plots are adjacent.
                    plots: {
                        let mut plots: Vec<PlotNumber> = rows.iter().map(|r| r.plot.number.clone()).collect();
                        plots.dedup();
                        plots
                    },
                    contracts: rows.iter().map(|r| r.contract.number.clone()).collect(),
                    balance: Balance::try_sum(rows.iter().map(|r| r.balance))?,
                    consumer,
                })
            })
        })
        .collect()
}

/// A plot with the holders of its open contracts and its total balance.
#[derive(Debug, Clone)]
pub struct PlotRow {
    pub plot: plot::Model,
    pub holders: Vec<String>,
    pub open_contracts: usize,
    pub balance: Balance,
}

/// Plots with a contract matching `filter`, or (with no filter ticked) whose number or address
/// matches the search; in walking order.
pub async fn plots(
    conn: &impl ConnectionTrait,
    filter: &RegisterFilter,
    period: Period,
) -> Result<Vec<PlotRow>, DbErr> {
    let mut rows_by_plot = contract_rows_by(conn, period, |row| row.plot.id).await?;
    let mut plots = plot::Entity::find().all(conn).await?;
    plots.sort_by(|a, b| PlotNumber::route_order(a.number.as_str(), b.number.as_str()));
    plots
        .into_iter()
        .filter_map(|plot| {
            let rows = rows_by_plot.remove(&plot.id).unwrap_or_default();
            let fields = [plot.number.as_str(), plot.address.as_deref().unwrap_or_default()];
            let open: Vec<&ContractRow> = rows.iter().filter(|r| r.contract.closed_on.is_none()).collect();
            filter.matches_holder(&rows, fields, None).then(|| {
                Ok(PlotRow {
                    holders: open
                        .iter()
                        .map(|r| r.consumer.full_name.clone())
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect(),
                    open_contracts: open.len(),
                    balance: Balance::try_sum(rows.iter().map(|r| r.balance))?,
                    plot,
                })
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_folds_case_and_reads_phones_by_digits() {
        let filter = |text: &str| RegisterFilter::search(text).unwrap();
        let phone = Some("+79123456789");
        assert!(filter("иванов").text_matches(["Иванов Иван"], None));
        assert!(filter("12а").text_matches(["12А"], None));
        assert!(filter("8 (912) 345-67-89").text_matches(["Иванов"], phone));
        assert!(filter("345-67").text_matches(["Иванов"], phone));
        assert!(!filter("91").text_matches(["Иванов"], phone), "too few digits to mean a phone");
        assert!(!filter("' OR 1=1 --").text_matches(["Иванов"], phone));
        assert!(filter("").text_matches(["anything"], None));
        let error = RegisterFilter::search(&"1".repeat(101)).unwrap_err();
        assert_eq!(error.to_string(), "Поисковый запрос: не длиннее 100 символов, а здесь 101.");
    }
}
