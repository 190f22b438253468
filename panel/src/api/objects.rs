//! What the API sends and receives. Money is whole kopecks (`*_kopecks`), exact; meter values
//! are decimal strings (`"12345.678"`), exact to the thousandth; months are `YYYY-MM`; the
//! vocabularies (service, zone, source, status) are their stable codes.

use chrono::{DateTime, NaiveDate, Utc};
use domain::{Balance, MeterValue};
use entities::{meter, payment, reading, tariff};
use poem_openapi::types::{ParseFromJSON, ToJSON};
use poem_openapi::{ApiResponse, Object};
use service::ledger::debt::{ContractLine, Statement};
use service::ledger::payments::PaymentRow;
use service::paging::Paged;
use service::readings::history::ReadingRow;
use service::register::cards::ContractRef;
use service::register::lists::{ConsumerRow, ContractRow, PlotRow};

/// A refusal, in Russian, fit to show to a person.
#[derive(Debug, Object)]
pub struct ApiError {
    pub message: String,
}

impl ApiError {
    pub fn json(message: impl Into<String>) -> poem_openapi::payload::Json<ApiError> {
        poem_openapi::payload::Json(ApiError { message: message.into() })
    }
}

/// A record by id.
#[derive(ApiResponse)]
pub enum Found<T: ToJSON> {
    #[oai(status = 200)]
    Ok(poem_openapi::payload::Json<T>),
    /// No record with this id.
    #[oai(status = 404)]
    NotFound(poem_openapi::payload::Json<ApiError>),
}

/// A page of a list.
#[derive(Debug, Object)]
pub struct Page<T: ParseFromJSON + ToJSON> {
    pub items: Vec<T>,
    pub total: u64,
    /// From 1.
    pub page: u64,
    pub pages: u64,
}

impl<T: ParseFromJSON + ToJSON> Page<T> {
    pub fn of<R>(paged: Paged<R>, f: impl FnMut(R) -> T) -> Page<T> {
        let pages = paged.pages();
        let paged = paged.map(f);
        Page { items: paged.items, total: paged.total, page: paged.page, pages }
    }
}

/// A meter value as a decimal string with a dot.
pub fn value_text(value: MeterValue) -> String {
    value.to_string().replace(',', ".")
}

/// Charged minus paid; a negative debt is a credit.
#[derive(Debug, Object)]
pub struct BalanceOut {
    pub charged_kopecks: i64,
    pub paid_kopecks: i64,
    pub debt_kopecks: i64,
}

impl From<Balance> for BalanceOut {
    fn from(b: Balance) -> Self {
        BalanceOut { charged_kopecks: b.charged().get(), paid_kopecks: b.paid().get(), debt_kopecks: b.debt().get() }
    }
}

#[derive(Debug, Object)]
pub struct PlotOut {
    pub id: i64,
    pub number: String,
    #[oai(nullable)]
    pub address: Option<String>,
    /// Holders of the plot's open contracts.
    pub holders: Vec<String>,
    pub open_contracts: u64,
    pub balance: BalanceOut,
}

impl From<PlotRow> for PlotOut {
    fn from(r: PlotRow) -> Self {
        PlotOut {
            id: r.plot.id,
            number: r.plot.number.to_string(),
            address: r.plot.address,
            holders: r.holders,
            open_contracts: r.open_contracts as u64,
            balance: r.balance.into(),
        }
    }
}

#[derive(Debug, Object)]
pub struct PlotDetail {
    pub id: i64,
    pub number: String,
    #[oai(nullable)]
    pub address: Option<String>,
    #[oai(nullable)]
    pub notes: Option<String>,
    pub balance: BalanceOut,
    pub contracts: Vec<ContractOut>,
}

#[derive(Debug, Object)]
pub struct ConsumerOut {
    pub id: i64,
    pub full_name: String,
    /// E.164, e.g. `+79123456789`.
    #[oai(nullable)]
    pub phone: Option<String>,
    pub plots: Vec<String>,
    pub contracts: Vec<String>,
    pub balance: BalanceOut,
}

impl From<ConsumerRow> for ConsumerOut {
    fn from(r: ConsumerRow) -> Self {
        ConsumerOut {
            id: r.consumer.id,
            full_name: r.consumer.full_name,
            phone: r.consumer.phone.map(|p| p.to_string()),
            plots: r.plots.iter().map(ToString::to_string).collect(),
            contracts: r.contracts,
            balance: r.balance.into(),
        }
    }
}

#[derive(Debug, Object)]
pub struct ConsumerDetail {
    pub id: i64,
    pub full_name: String,
    #[oai(nullable)]
    pub phone: Option<String>,
    #[oai(nullable)]
    pub notes: Option<String>,
    pub reminders_enabled: bool,
    pub contracts: Vec<ContractOut>,
    pub debt: StatementOut,
}

/// What a consumer owes, contract by contract, as the bot tells them.
#[derive(Debug, Object)]
pub struct StatementOut {
    pub lines: Vec<DebtLineOut>,
    pub total: BalanceOut,
    /// The statement as the Telegram bot words it.
    pub text: String,
}

#[derive(Debug, Object)]
pub struct DebtLineOut {
    pub contract_id: i64,
    pub contract_number: String,
    pub service: String,
    pub plot_number: String,
    #[oai(nullable)]
    pub meter_serial: Option<String>,
    /// The latest charged month.
    #[oai(nullable)]
    pub last_charge_period: Option<String>,
    #[oai(nullable)]
    pub last_charge_kopecks: Option<i64>,
    #[oai(nullable)]
    pub last_payment_date: Option<NaiveDate>,
    #[oai(nullable)]
    pub last_payment_kopecks: Option<i64>,
    pub balance: BalanceOut,
}

impl From<ContractLine> for DebtLineOut {
    fn from(l: ContractLine) -> Self {
        DebtLineOut {
            contract_id: l.contract_id,
            contract_number: l.contract_number,
            service: l.service.code().to_owned(),
            plot_number: l.plot_number,
            meter_serial: l.meter_serial,
            last_charge_period: l.last_charge.map(|(period, _)| period.to_string()),
            last_charge_kopecks: l.last_charge.map(|(_, amount)| amount.get()),
            last_payment_date: l.last_payment.map(|(date, _)| date),
            last_payment_kopecks: l.last_payment.map(|(_, amount)| amount.get()),
            balance: l.balance.into(),
        }
    }
}

impl From<Statement> for StatementOut {
    fn from(s: Statement) -> Self {
        let text = s.to_string();
        StatementOut { total: s.total.into(), lines: s.lines.into_iter().map(Into::into).collect(), text }
    }
}

#[derive(Debug, Object)]
pub struct ContractOut {
    pub id: i64,
    pub number: String,
    /// `water` or `electricity`.
    pub service: String,
    /// `single` or `day_night`.
    pub tariff_plan: String,
    pub signed_on: NaiveDate,
    #[oai(nullable)]
    pub closed_on: Option<NaiveDate>,
    pub plot_id: i64,
    pub plot_number: String,
    pub consumer_id: i64,
    pub consumer_name: String,
    /// The meter in service.
    #[oai(nullable)]
    pub meter: Option<MeterOut>,
    /// Open, with a meter in service and no reading of any of its meters this month (the final
    /// reading of a meter replaced this month counts), as the controllers' walk and the reminders count.
    pub unread_this_month: bool,
    pub balance: BalanceOut,
}

impl From<ContractRow> for ContractOut {
    fn from(r: ContractRow) -> Self {
        let c = r.contract;
        ContractOut {
            meter: r.meter.map(MeterOut::from),
            id: c.id,
            number: c.number,
            service: c.service.code().to_owned(),
            tariff_plan: c.tariff_plan.code().to_owned(),
            signed_on: c.signed_on,
            closed_on: c.closed_on,
            plot_id: r.plot.id,
            plot_number: r.plot.number.to_string(),
            consumer_id: r.consumer.id,
            consumer_name: r.consumer.full_name,
            unread_this_month: r.unread,
            balance: r.balance.into(),
        }
    }
}

#[derive(Debug, Object)]
pub struct MeterOut {
    pub id: i64,
    pub contract_id: i64,
    pub serial: String,
    /// The registers in reading order: `single`, or `day` and `night`.
    pub zones: Vec<String>,
    pub installed_on: NaiveDate,
    pub initial_values: Vec<String>,
    #[oai(nullable)]
    pub seal_number: Option<String>,
    #[oai(nullable)]
    pub seal_checked_on: Option<NaiveDate>,
    #[oai(nullable)]
    pub verification_due: Option<NaiveDate>,
    #[oai(nullable)]
    pub removed_on: Option<NaiveDate>,
}

impl From<meter::Model> for MeterOut {
    fn from(m: meter::Model) -> Self {
        MeterOut {
            id: m.id,
            contract_id: m.contract_id,
            zones: m.zone_list().iter().map(|z| z.code().to_owned()).collect(),
            initial_values: m.initial_values().into_iter().map(value_text).collect(),
            serial: m.serial,
            installed_on: m.installed_on,
            seal_number: m.seal_number,
            seal_checked_on: m.seal_checked_on,
            verification_due: m.verification_due,
            removed_on: m.removed_on,
        }
    }
}

/// A meter with its contract, as listed.
#[derive(Debug, Object)]
pub struct MeterListItem {
    pub meter: MeterOut,
    pub contract_number: String,
    pub service: String,
    pub plot_number: String,
    pub consumer_name: String,
    pub unread_this_month: bool,
}

#[derive(Debug, Object)]
pub struct MeterDetail {
    pub meter: MeterOut,
    pub contract_number: String,
    pub service: String,
    pub plot_number: String,
    /// The latest readings, newest first.
    pub readings: Vec<ReadingOut>,
}

#[derive(Debug, Object)]
pub struct ReadingOut {
    pub id: i64,
    pub meter_id: i64,
    pub meter_serial: String,
    pub contract_id: i64,
    pub contract_number: String,
    pub plot_number: String,
    pub consumer_name: String,
    /// The billing month, `YYYY-MM`.
    pub period: String,
    pub taken_at: DateTime<Utc>,
    /// One value per register, in the order of `zones`.
    pub values: Vec<String>,
    pub zones: Vec<String>,
    /// `consumer_bot`, `controller_bot`, `controller_web`, `panel` or `import`.
    pub source: String,
    /// `accepted`, `flagged` (waits for review), `superseded` (corrected) or `rejected`.
    pub status: String,
    #[oai(nullable)]
    pub seal_intact: Option<bool>,
    #[oai(nullable)]
    pub comment: Option<String>,
    /// The photo, at `/photos/{photo_id}` for logged-in staff.
    #[oai(nullable)]
    pub photo_id: Option<i64>,
    /// The reading this one corrects.
    #[oai(nullable)]
    pub supersedes_id: Option<i64>,
}

impl ReadingOut {
    fn new(r: reading::Model, meter: &meter::Model, contract: &ContractRef) -> ReadingOut {
        ReadingOut {
            id: r.id,
            meter_id: meter.id,
            meter_serial: meter.serial.clone(),
            contract_id: contract.contract.id,
            contract_number: contract.contract.number.clone(),
            plot_number: contract.plot_number.to_string(),
            consumer_name: contract.consumer_name.clone(),
            period: r.period.to_string(),
            taken_at: r.taken_at,
            values: r.values().into_iter().map(value_text).collect(),
            zones: meter.zone_list().iter().map(|z| z.code().to_owned()).collect(),
            source: r.source.code().to_owned(),
            status: r.status.code().to_owned(),
            seal_intact: r.seal_intact,
            comment: r.comment,
            photo_id: r.photo_id,
            supersedes_id: r.supersedes_id,
        }
    }
}

impl From<ReadingRow> for ReadingOut {
    fn from(row: ReadingRow) -> Self {
        ReadingOut::new(row.reading, &row.meter, &row.contract)
    }
}

/// A reading entered through the API (recorded with source `panel`).
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NewReadingIn {
    pub meter_id: i64,
    /// One value per register of the meter, day before night: `"12345.6"` or `"12345,6"`.
    pub values: Vec<String>,
    #[oai(nullable)]
    pub seal_intact: Option<bool>,
    #[oai(nullable)]
    pub comment: Option<String>,
    /// Set after a 409 answer, to record an unusual jump anyway (it then waits for review).
    #[oai(default)]
    pub confirmed: bool,
    /// The same key twice records once: safe retries.
    #[oai(nullable)]
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Object)]
pub struct PaymentOut {
    pub id: i64,
    pub contract_id: i64,
    pub contract_number: String,
    pub plot_number: String,
    pub consumer_name: String,
    pub amount_kopecks: i64,
    pub paid_on: NaiveDate,
    /// The booking month, `YYYY-MM`: the month the money arrived (or the first open month).
    pub period: String,
    /// The month the payer said it is for, `YYYY-MM`.
    pub for_period: String,
    #[oai(nullable)]
    pub reference: Option<String>,
    /// `panel` (entered by hand), `api` or `import`.
    pub source: String,
}

impl PaymentOut {
    fn new(p: payment::Model, contract: &ContractRef) -> PaymentOut {
        PaymentOut {
            id: p.id,
            contract_id: contract.contract.id,
            contract_number: contract.contract.number.clone(),
            plot_number: contract.plot_number.to_string(),
            consumer_name: contract.consumer_name.clone(),
            amount_kopecks: p.amount_kopecks.get(),
            paid_on: p.paid_on,
            period: p.period.to_string(),
            for_period: p.for_period.to_string(),
            reference: p.reference,
            source: p.source.code().to_owned(),
        }
    }
}

impl From<PaymentRow> for PaymentOut {
    fn from(row: PaymentRow) -> Self {
        PaymentOut::new(row.payment, &row.contract)
    }
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NewPaymentIn {
    pub contract_number: String,
    /// More than zero and at most 10 000 000 ₽: `123456` is 1 234,56 ₽.
    pub amount_kopecks: i64,
    /// A day of the years 2000–2999.
    pub paid_on: NaiveDate,
    /// The month it pays for, `YYYY-MM` (information; the payment counts in the month of
    /// `paid_on`). Left out: the month of `paid_on`.
    #[oai(nullable)]
    pub period: Option<String>,
    /// Bank or receipt reference; a reference already on file is refused.
    #[oai(nullable)]
    pub reference: Option<String>,
    /// `true` to store it although a payment of the same contract, amount and day is on file
    /// (otherwise 409).
    #[oai(nullable)]
    pub confirm_duplicate: Option<bool>,
}

#[derive(Debug, Object)]
pub struct TariffOut {
    pub id: i64,
    pub service: String,
    pub zone: String,
    /// Per m³ of water or kWh of electricity.
    pub price_kopecks: i64,
    pub valid_from: NaiveDate,
}

impl From<tariff::Model> for TariffOut {
    fn from(t: tariff::Model) -> Self {
        TariffOut {
            id: t.id,
            service: t.service.code().to_owned(),
            zone: t.zone.code().to_owned(),
            price_kopecks: t.price_kopecks.get(),
            valid_from: t.valid_from,
        }
    }
}
