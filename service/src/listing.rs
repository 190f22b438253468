//! Lists for the panel and the API: the register (contracts, consumers, plots) searched and
//! filtered, readings and payments page by page, and the audit trail of a record.
//!
//! The register is filtered in Rust rather than SQL: searching names needs Unicode case folding
//! («иванов» finds «Иванов»), which SQLite's `LIKE` lacks, and a cooperative's register is a few
//! thousand rows at most, loaded with one query per table. Readings and payments grow without
//! bound, so they are filtered and paged in SQL.

use std::collections::{BTreeSet, HashMap, HashSet};

use domain::{Balance, PaymentSource, Period, PlotNumber, ReadingSource, ReadingStatus, Service, TextKind, TooLong};
use entities::{audit_log, consumer, contract, meter, payment, plot, reading, staff};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
};

use crate::ledger::debt::{self, Scope};

/// Rows per page unless the caller asks otherwise.
pub const PER_PAGE: u64 = 50;

/// One page of a longer list. Pages count from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

impl<T> Paged<T> {
    pub fn pages(&self) -> u64 {
        self.total.div_ceil(self.per_page).max(1)
    }

    /// The page `page` of a list already in memory (out-of-range pages are clamped).
    pub fn of(all: Vec<T>, page: u64, per_page: u64) -> Paged<T> {
        let per_page = per_page.max(1);
        let total = all.len() as u64;
        let page = page.clamp(1, total.div_ceil(per_page).max(1));
        let items = all.into_iter().skip(((page - 1) * per_page) as usize).take(per_page as usize).collect();
        Paged { items, total, page, per_page }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paged<U> {
        Paged {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            page: self.page,
            per_page: self.per_page,
        }
    }
}

/// One contract with everything a register row shows.
#[derive(Debug, Clone)]
pub struct ContractRow {
    pub contract: contract::Model,
    pub plot: plot::Model,
    pub consumer: consumer::Model,
    /// The meter in service (none once removed).
    pub meter: Option<meter::Model>,
    pub balance: Balance,
    /// Open, with a meter in service and no reading (accepted or under review) this period.
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
            && (!self.debtors || row.balance.debt().is_positive())
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
    let read = read_meters(conn, period, meters.values().map(|m| m.id)).await?;
    let mut rows: Vec<ContractRow> = contracts
        .into_iter()
        .filter_map(|contract| {
            let meter = meters.remove(&contract.id);
            let unread = contract.closed_on.is_none() && meter.as_ref().is_some_and(|m| !read.contains(&m.id));
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

/// The plots and the consumers of `contracts`, by id.
async fn plots_and_consumers(
    conn: &impl ConnectionTrait,
    contracts: &[contract::Model],
) -> Result<(HashMap<i64, plot::Model>, HashMap<i64, consumer::Model>), DbErr> {
    let plots = by_id(
        plot::Entity::find().filter(plot::Column::Id.is_in(contracts.iter().map(|c| c.plot_id))).all(conn).await?,
        |p| p.id,
    );
    let consumers = by_id(
        consumer::Entity::find()
            .filter(consumer::Column::Id.is_in(contracts.iter().map(|c| c.consumer_id)))
            .all(conn)
            .await?,
        |c| c.id,
    );
    Ok((plots, consumers))
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

fn by_id<K: std::hash::Hash + Eq, T>(items: Vec<T>, key: impl Fn(&T) -> K) -> HashMap<K, T> {
    items.into_iter().map(|item| (key(&item), item)).collect()
}

/// The meters among `meter_ids` with a reading accepted or under review in `period`.
async fn read_meters(
    conn: &impl ConnectionTrait,
    period: Period,
    meter_ids: impl IntoIterator<Item = i64>,
) -> Result<HashSet<i64>, DbErr> {
    let ids: Vec<i64> = reading::Entity::find()
        .select_only()
        .column(reading::Column::MeterId)
        .filter(reading::Column::MeterId.is_in(meter_ids))
        .filter(reading::Column::Period.eq(period))
        .filter(reading::Column::Status.is_in([ReadingStatus::Accepted, ReadingStatus::Flagged]))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(ids.into_iter().collect())
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

/// A contract with where it is and whose, for rows of readings and payments.
#[derive(Debug, Clone)]
pub struct ContractRef {
    pub contract: contract::Model,
    pub plot_number: PlotNumber,
    pub consumer_name: String,
}

async fn contract_refs(
    conn: &impl ConnectionTrait,
    contract_ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, ContractRef>, DbErr> {
    let contracts = contract::Entity::find().filter(contract::Column::Id.is_in(contract_ids)).all(conn).await?;
    let (plots, consumers) = plots_and_consumers(conn, &contracts).await?;
    Ok(contracts
        .into_iter()
        .filter_map(|contract| {
            let plot_number = plots.get(&contract.plot_id)?.number.clone();
            let consumer_name = consumers.get(&contract.consumer_id)?.full_name.clone();
            Some((contract.id, ContractRef { contract, plot_number, consumer_name }))
        })
        .collect())
}

/// Which readings to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadingFilter {
    pub period: Option<Period>,
    pub source: Option<ReadingSource>,
    pub status: Option<ReadingStatus>,
    pub meter_id: Option<i64>,
}

/// A reading with its meter and contract.
#[derive(Debug, Clone)]
pub struct ReadingRow {
    pub reading: reading::Model,
    pub meter: meter::Model,
    pub contract: ContractRef,
}

/// Readings matching `filter`, newest first.
pub async fn readings(
    conn: &impl ConnectionTrait,
    filter: &ReadingFilter,
    page: u64,
    per_page: u64,
) -> Result<Paged<ReadingRow>, DbErr> {
    let query = reading::Entity::find()
        .apply_if(filter.period, |q, period| q.filter(reading::Column::Period.eq(period)))
        .apply_if(filter.source, |q, source| q.filter(reading::Column::Source.eq(source)))
        .apply_if(filter.status, |q, status| q.filter(reading::Column::Status.eq(status)))
        .apply_if(filter.meter_id, |q, meter_id| q.filter(reading::Column::MeterId.eq(meter_id)))
        .order_by_desc(reading::Column::TakenAt)
        .order_by_desc(reading::Column::Id);
    let (page, items, total) = fetch_page(conn, query, page, per_page).await?;
    let rows = reading_rows(conn, items).await?;
    Ok(Paged { items: rows, total, page, per_page })
}

/// Adds meters and contracts to readings.
pub async fn reading_rows(
    conn: &impl ConnectionTrait,
    readings: Vec<reading::Model>,
) -> Result<Vec<ReadingRow>, DbErr> {
    let meters = by_id(
        meter::Entity::find().filter(meter::Column::Id.is_in(readings.iter().map(|r| r.meter_id))).all(conn).await?,
        |m| m.id,
    );
    let contracts = contract_refs(conn, meters.values().map(|m| m.contract_id)).await?;
    Ok(readings
        .into_iter()
        .filter_map(|reading| {
            let meter = meters.get(&reading.meter_id)?.clone();
            let contract = contracts.get(&meter.contract_id)?.clone();
            Some(ReadingRow { reading, meter, contract })
        })
        .collect())
}

/// Runs a query for one page, clamping the page number to the pages there are.
async fn fetch_page<E, C>(
    conn: &C,
    query: sea_orm::Select<E>,
    page: u64,
    per_page: u64,
) -> Result<(u64, Vec<E::Model>, u64), DbErr>
where
    E: EntityTrait,
    E::Model: Send + Sync,
    C: ConnectionTrait,
{
    let per_page = per_page.max(1);
    let paginator = query.paginate(conn, per_page);
    let total = paginator.num_items().await?;
    let page = page.clamp(1, total.div_ceil(per_page).max(1));
    Ok((page, paginator.fetch_page(page - 1).await?, total))
}

/// Which payments to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentFilter {
    /// An exact contract number.
    pub contract_number: Option<String>,
    pub contract_id: Option<i64>,
    pub period: Option<Period>,
    pub source: Option<PaymentSource>,
}

/// A payment with its contract.
#[derive(Debug, Clone)]
pub struct PaymentRow {
    pub payment: payment::Model,
    pub contract: ContractRef,
}

/// Payments matching `filter`, latest payment date first.
pub async fn payments(
    conn: &impl ConnectionTrait,
    filter: &PaymentFilter,
    page: u64,
    per_page: u64,
) -> Result<Paged<PaymentRow>, DbErr> {
    let mut query = payment::Entity::find();
    if let Some(number) = &filter.contract_number {
        let ids: Vec<i64> = contract::Entity::find()
            .select_only()
            .column(contract::Column::Id)
            .filter(contract::Column::Number.eq(number.trim()))
            .into_tuple()
            .all(conn)
            .await?;
        query = query.filter(payment::Column::ContractId.is_in(ids));
    }
    let query = query
        .apply_if(filter.contract_id, |q, id| q.filter(payment::Column::ContractId.eq(id)))
        .apply_if(filter.period, |q, period| q.filter(payment::Column::Period.eq(period)))
        .apply_if(filter.source, |q, source| q.filter(payment::Column::Source.eq(source)))
        .order_by_desc(payment::Column::PaidOn)
        .order_by_desc(payment::Column::Id);
    let (page, items, total) = fetch_page(conn, query, page, per_page).await?;
    Ok(Paged { items: payment_rows(conn, items).await?, total, page, per_page })
}

/// Adds contracts to payments.
pub async fn payment_rows(
    conn: &impl ConnectionTrait,
    payments: Vec<payment::Model>,
) -> Result<Vec<PaymentRow>, DbErr> {
    let contracts = contract_refs(conn, payments.iter().map(|p| p.contract_id)).await?;
    Ok(payments
        .into_iter()
        .filter_map(|payment| Some(PaymentRow { contract: contracts.get(&payment.contract_id)?.clone(), payment }))
        .collect())
}

/// Every version of a reading: the ones it corrected and the corrections of it, oldest first.
pub async fn reading_versions(conn: &impl ConnectionTrait, reading_id: i64) -> Result<Vec<reading::Model>, DbErr> {
    let Some(reading) = reading::Entity::find_by_id(reading_id).one(conn).await? else {
        return Ok(Vec::new());
    };
    // Corrections keep the meter and the time of what they replace, so the chain is among these.
    let same_moment = reading::Entity::find()
        .filter(reading::Column::MeterId.eq(reading.meter_id))
        .filter(reading::Column::TakenAt.eq(reading.taken_at))
        .order_by_asc(reading::Column::Id)
        .all(conn)
        .await?;
    let mut chain = vec![reading];
    while let Some(older) = chain[0].supersedes_id.and_then(|id| same_moment.iter().find(|r| r.id == id)) {
        chain.insert(0, older.clone());
    }
    while let Some(newer) = same_moment.iter().find(|r| r.supersedes_id == chain.last().map(|l| l.id)) {
        chain.push(newer.clone());
    }
    Ok(chain)
}

/// An audit log entry with the name of the staff member who acted, if one did.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub entry: audit_log::Model,
    pub staff_name: Option<String>,
}

/// The audit log of records of one kind (`"reading"`, `"contract"` …), oldest first.
pub async fn audit_trail(conn: &impl ConnectionTrait, entity: &str, ids: &[i64]) -> Result<Vec<AuditEntry>, DbErr> {
    let entries = audit_log::Entity::find()
        .filter(audit_log::Column::Entity.eq(entity))
        .filter(audit_log::Column::EntityId.is_in(ids.iter().copied()))
        .order_by_asc(audit_log::Column::At)
        .order_by_asc(audit_log::Column::Id)
        .all(conn)
        .await?;
    let names: HashMap<i64, String> = staff::Entity::find()
        .filter(staff::Column::Id.is_in(entries.iter().filter_map(|e| e.staff_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|s| (s.id, s.full_name))
        .collect();
    Ok(entries
        .into_iter()
        .map(|entry| AuditEntry { staff_name: entry.staff_id.and_then(|id| names.get(&id).cloned()), entry })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_clamped_and_counted() {
        let page = Paged::of((1..=7).collect::<Vec<_>>(), 3, 3);
        assert_eq!((page.items.as_slice(), page.total, page.pages()), (&[7][..], 7, 3));
        assert_eq!(Paged::of((1..=7).collect::<Vec<_>>(), 99, 3).page, 3);
        assert_eq!(Paged::of(Vec::<i32>::new(), 0, 3).pages(), 1);
    }

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
