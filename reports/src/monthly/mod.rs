//! The monthly report for accounting: what every meter showed and cost, what each contract was
//! charged and paid, who was not read, and the totals.
//!
//! [`monthly_data`] computes the report as plain data; [`write_monthly`] only lays it out, so
//! tests can hold the sheets against the data and the data against the service layer.
//! [`monthly_report`] does both at once: the sheets are laid out while the network is read.

mod load;
mod network;
mod sheets;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use domain::ledger::MonthFigures;
use domain::{
    AmountOutOfRange, ChargeKind, Kopecks, MeterValue, PaymentSource, Period, PlotNumber, ReadingSource, ReadingStatus,
    Service, Zone,
};
use entities::meter;
use sea_orm::DbErr;
use service::Context;
use service::db::{SnapshotRead, Source};
use tokio::sync::oneshot;

use crate::ReportError;
use load::{Carried, ContractRecord, LastRecord, Loaded, MeteredRecord};

pub use network::{LineRow, ShareLine};
use sheets::Draft;
pub use sheets::write_monthly;

/// The monthly report of `period` as xlsx bytes. Photo links point into the panel at `public_url`.
///
/// The same bytes as [`write_monthly`] of [`monthly_data`], sooner: the month is read on two
/// connections at once, and the sheets but «Баланс сети» are laid out while the network's balance
/// is read (BENCHMARKS.md, runs 10 and 11).
pub async fn monthly_report(ctx: &Context, period: Period, public_url: &str) -> Result<Vec<u8>, ReportError> {
    let (draft, network) = read_month(ctx, period, public_url, |data| Draft::lay_out(&data)).await?;
    service::heavy::run(move || draft.finish(&network)).await?
}

/// What the monthly report of `period` shows, read from one snapshot of the database.
pub async fn monthly_data(ctx: &Context, period: Period, public_url: &str) -> Result<MonthlyData, ReportError> {
    let (data, network) = read_month(ctx, period, public_url, Ok).await?;
    Ok(MonthlyData { network, ..data })
}

/// Reads `period` on one snapshot and, on a heavy-work thread, gives `then` the report but its
/// network's balance as soon as that is read, while the snapshot goes on to read the balance.
/// The reading or the laying out failing drops the other: a read given up stops at its next
/// query or row, a job still waiting for a heavy-work thread never runs.
async fn read_month<T: Send + 'static>(
    ctx: &Context,
    period: Period,
    public_url: &str,
    then: impl FnOnce(MonthlyData) -> Result<T, ReportError> + Send + 'static,
) -> Result<(T, Vec<LineRow>), ReportError> {
    if period > ctx.current_period() {
        return Err(ReportError::FuturePeriod(period));
    }
    let (loaded_to, loaded) = oneshot::channel();
    let (carried_to, carried) = oneshot::channel();
    // Carried first: where the two run one after the other, the sheets are laid out while the
    // network is read, last.
    let (carried_read, month) = (CarriedRead { period, carried_to }, MonthRead { ctx: ctx.clone(), period, loaded_to });
    let read = async { Ok(ctx.db.read_snapshots(carried_read, month).await?.1) };
    let (ctx, public_url) = (ctx.clone(), public_url.to_owned());
    let lay_out = async move {
        // The reads hand their rows over before they can succeed, so nothing handed over means
        // one failed, and its error ends the join.
        let (Ok(loaded), Ok(carried)) = (loaded.await, carried.await) else { return std::future::pending().await };
        service::heavy::run(move || then(assemble(&ctx, period, &public_url, loaded, carried)?)).await?
    };
    let (network, laid_out) = tokio::try_join!(read, lay_out)?;
    Ok((laid_out, network))
}

/// The report made of what [`MonthRead`] and [`CarriedRead`] read first; its network's balance is
/// left empty. The rows are gone by the time the report is laid out.
fn assemble(
    ctx: &Context,
    period: Period,
    public_url: &str,
    loaded: Loaded,
    carried: Carried,
) -> Result<MonthlyData, ReportError> {
    // A closed month's report is dated when the month closed, so writing it again later gives
    // the same bytes unless a reading of the month was recorded since (see `Loaded::closed_at`);
    // an open month's report is dated now.
    let created = loaded.closed_at.unwrap_or_else(|| ctx.now()).with_timezone(&ctx.settings.tz);
    Month::new(&loaded, &carried, period, ctx.settings.tz)?.report(public_url, created)
}

/// The month's own rows, then the network's balance, on one side of the report's snapshot (see
/// [`CarriedRead`] for the other): on an SQLite file a reader's, off sqlx's thread, which took
/// the cold report of 10 000 plots × 24 months from 1.65 / 1.77 s to 0.65 / 0.70 s (BENCHMARKS.md,
/// runs 7 and 9). The rows go to `loaded_to` before the network's balance, which only «Баланс
/// сети» shows, is read.
struct MonthRead {
    ctx: Context,
    period: Period,
    loaded_to: oneshot::Sender<Loaded>,
}

impl SnapshotRead for MonthRead {
    type Output = Vec<LineRow>;

    async fn run(self, source: &impl Source) -> Result<Self::Output, DbErr> {
        let loaded = Loaded::load(source, self.period).await?;
        // Nobody to hand it to means the caller is gone, and the snapshot stops at its next query.
        let _ = self.loaded_to.send(loaded);
        network::lines(source, &self.ctx, self.period).await
    }
}

/// The other side of the report's snapshot: what the month starts from, read beside the month's
/// own rows (BENCHMARKS.md, run 11).
struct CarriedRead {
    period: Period,
    carried_to: oneshot::Sender<Carried>,
}

impl SnapshotRead for CarriedRead {
    type Output = ();

    async fn run(self, source: &impl Source) -> Result<(), DbErr> {
        // As above: nobody to hand it to means the caller is gone.
        let _ = self.carried_to.send(Carried::load(source, self.period).await?);
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthlyData {
    pub period: Period,
    /// When the report was made, in the cooperative's time zone: shown on every sheet.
    pub created: DateTime<Tz>,
    /// «Показания»: a line per register of every meter read or due in the month, in walking order.
    pub meters: Vec<MeterLine>,
    /// «Начисления и оплаты»: contracts active in the month or with money on them.
    pub accounts: Vec<AccountLine>,
    /// «Не сняты»: contracts due a reading that has none this month.
    pub unread: Vec<UnreadLine>,
    /// «Оплаты»: every payment booked in the month (the money arrived in it), by date.
    pub payments: Vec<PaymentLine>,
    /// «Перерасчёты»: every recalculation line booked in the month, as written.
    pub recalculations: Vec<RecalculationLine>,
    /// «Сводка».
    pub summary: Summary,
    /// «Баланс сети»: each line of the cooperative's network.
    pub network: Vec<LineRow>,
    /// «Потери в сетях»: the plots' shares of the losses booked in the month.
    pub losses: Vec<ShareLine>,
}

/// The contract a line is about, named as people know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractLabel {
    pub id: i64,
    pub number: String,
    pub service: Service,
    pub plot: String,
    pub consumer: String,
}

/// A meter value and the day it was read (or the meter installed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dated {
    pub value: MeterValue,
    pub date: NaiveDate,
}

/// One register of one meter over the month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterLine {
    pub contract: ContractLabel,
    pub meter_id: i64,
    pub serial: String,
    pub zone: Zone,
    /// What billing counts from: the last month read before this one, or the installation.
    pub previous: Dated,
    /// The month's charge, when the meter was read and billed.
    pub billed: Option<Billed>,
    /// A reading of the month waits for an admin's review.
    pub flagged: bool,
}

/// A stored consumption charge and the reading that closed the month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Billed {
    pub current: Dated,
    pub consumption: MeterValue,
    pub price: Kopecks,
    pub amount: Kopecks,
    pub source: ReadingSource,
    pub seal_intact: Option<bool>,
    pub photo_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountLine {
    pub contract: ContractLabel,
    pub movement: Movement,
}

/// A contract's money over the month, so that `closing = opening + charged − paid`. Debts are
/// positive, overpayments negative.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Movement {
    pub opening: Kopecks,
    pub charged: Kopecks,
    pub paid: Kopecks,
    pub closing: Kopecks,
}

impl Movement {
    /// The month that ended at `closing` after `charged` and `paid`: it opened at the debt the
    /// ledger held before them.
    fn ending_at(closing: Kopecks, charged: Kopecks, paid: Kopecks) -> Result<Movement, AmountOutOfRange> {
        let opening = closing.checked_sub(charged)?.checked_add(paid)?;
        Ok(Movement { opening, charged, paid, closing })
    }

    fn checked_add(self, rhs: Movement) -> Result<Movement, AmountOutOfRange> {
        Ok(Movement {
            opening: self.opening.checked_add(rhs.opening)?,
            charged: self.charged.checked_add(rhs.charged)?,
            paid: self.paid.checked_add(rhs.paid)?,
            closing: self.closing.checked_add(rhs.closing)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentLine {
    /// The payment's number in the system, which a reversal names.
    pub id: i64,
    pub contract: ContractLabel,
    pub paid_on: NaiveDate,
    pub amount: Kopecks,
    pub reference: Option<String>,
    pub source: PaymentSource,
    /// The month the payer said it was for (information only).
    pub for_period: Period,
    /// Reversals (сторно) and moved payments: «Сторно платежа № 12: …», «Сторнирован 15.11.2026
    /// (№ 31)», or why the line exists.
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecalculationLine {
    pub contract: ContractLabel,
    /// The (closed) month whose consumption was recalculated.
    pub for_period: Period,
    /// The change of consumption in thousandths of a unit, negative when it went down.
    pub consumption_change: Option<i64>,
    pub amount: Kopecks,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadLine {
    pub contract: ContractLabel,
    pub phone: Option<String>,
    /// The meter to read: the contract's newest meter in service.
    pub meter_id: i64,
    pub serial: String,
    /// Its last accepted reading, if it ever had one.
    pub last: Option<LastReading>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastReading {
    /// One value per register.
    pub values: Vec<MeterValue>,
    pub date: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Consumption and charges of the month per service and register.
    pub by_zone: Vec<ZoneTotal>,
    /// Their charges together: the month's charges without opening balances.
    pub charged_for_consumption: Kopecks,
    /// The month's recalculation lines together (the total of «Перерасчёты»).
    pub recalculated: Kopecks,
    /// The month's money per service, so `opening + consumption + recalculations +
    /// opening_balances − paid = closing` for each.
    pub by_service: Vec<ServiceFigures>,
    /// Plots with at least one meter due, split by whether all of them were read.
    pub plots_read: usize,
    pub plots_unread: usize,
    /// The column totals of «Начисления и оплаты».
    pub totals: Movement,
    /// What debtors owe at the end of the month, not netted against overpayments.
    pub owed: Kopecks,
    pub overpaid: Kopecks,
    /// Contracts in debt at the end of the month.
    pub debtors: usize,
}

/// One service's money over the month, as «Сводка» shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceFigures {
    pub service: Service,
    pub figures: MonthFigures,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZoneTotal {
    pub service: Service,
    pub zone: Zone,
    pub consumption: MeterValue,
    pub charged: Kopecks,
}

/// The loaded rows indexed for joining, in walking order: by plot as on the map, then by contract
/// number, then by meter installation.
struct Month<'a> {
    loaded: &'a Loaded,
    /// Each contract's debt at the end of the month.
    closing: &'a HashMap<i64, Kopecks>,
    period: Period,
    tz: Tz,
    contracts: Vec<&'a ContractRecord>,
    contract: HashMap<i64, &'a ContractRecord>,
    meters: Vec<&'a meter::Model>,
    /// Each meter's charges of the month with their amounts, register by register.
    metered: HashMap<i64, Vec<(&'a MeteredRecord, Kopecks)>>,
    /// Each contract's charges and payments of the month.
    charged: HashMap<i64, Kopecks>,
    paid: HashMap<i64, Kopecks>,
    last_before: HashMap<i64, &'a LastRecord>,
    /// Meters with a reading of the month, accepted or waiting for review.
    read: HashSet<i64>,
    flagged: HashSet<i64>,
}

impl<'a> Month<'a> {
    fn new(loaded: &'a Loaded, carried: &'a Carried, period: Period, tz: Tz) -> Result<Month<'a>, AmountOutOfRange> {
        let mut contracts: Vec<&ContractRecord> = loaded.contracts.iter().collect();
        contracts.sort_by(|a, b| {
            PlotNumber::route_order(&a.plot_number, &b.plot_number).then_with(|| a.number.cmp(&b.number))
        });
        let position: HashMap<i64, usize> = contracts.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
        let mut meters: Vec<&meter::Model> =
            loaded.meters.iter().filter(|m| position.contains_key(&m.contract_id)).collect();
        meters.sort_by_cached_key(|m| (position[&m.contract_id], m.installed_on, m.id));

        let mut metered: HashMap<i64, Vec<(&MeteredRecord, Kopecks)>> = HashMap::new();
        let mut charged: HashMap<i64, Kopecks> = HashMap::new();
        for charge in &loaded.charges {
            add_to(&mut charged, charge.contract_id, charge.amount_kopecks)?;
            if let Some(register) = &charge.metered {
                metered.entry(register.meter_id).or_default().push((register, charge.amount_kopecks));
            }
        }
        for registers in metered.values_mut() {
            registers.sort_by_key(|(register, _)| register.zone);
        }
        let mut paid: HashMap<i64, Kopecks> = HashMap::new();
        for payment in &loaded.payments {
            add_to(&mut paid, payment.contract_id, payment.amount_kopecks)?;
        }
        let flagged = loaded.activity.iter().filter(|a| a.status == ReadingStatus::Flagged).map(|a| a.meter_id);
        Ok(Month {
            contract: contracts.iter().map(|c| (c.id, *c)).collect(),
            contracts,
            meters,
            metered,
            charged,
            paid,
            last_before: carried.last_before.iter().map(|r| (r.meter_id, r)).collect(),
            closing: &carried.closing,
            read: loaded.activity.iter().map(|a| a.meter_id).collect(),
            flagged: flagged.collect(),
            loaded,
            period,
            tz,
        })
    }

    fn report(&self, public_url: &str, created: DateTime<Tz>) -> Result<MonthlyData, ReportError> {
        let meters = self.meter_lines(public_url);
        let accounts = self.account_lines()?;
        let unread = self.unread_lines();
        let payments = self.payment_lines();
        let recalculations = self.recalculation_lines();
        let losses = self.loss_lines();
        let summary = self.summary(&meters, &accounts, &unread, &recalculations, &losses)?;
        Ok(MonthlyData {
            period: self.period,
            created,
            meters,
            accounts,
            unread,
            payments,
            recalculations,
            summary,
            network: Vec::new(),
            losses,
        })
    }

    /// A meter is due a reading when it was in service on a contract active in the month.
    fn is_due(&self, meter: &meter::Model) -> bool {
        let in_service = meter.installed_on <= self.period.last_day()
            && meter.removed_on.is_none_or(|removed| removed >= self.period.first_day());
        in_service && self.contract[&meter.contract_id].active_in(self.period)
    }

    fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// Billed meters show their charges; meters due but not billed show one empty line per
    /// register, so every meter of the month is on the sheet.
    fn meter_lines(&self, public_url: &str) -> Vec<MeterLine> {
        let photos = format!("{}/photos", public_url.trim_end_matches('/'));
        let mut lines = Vec::with_capacity(self.loaded.charges.len() + self.meters.len() / 4);
        for meter in &self.meters {
            match self.metered.get(&meter.id) {
                Some(registers) => lines.extend(
                    registers.iter().map(|(register, amount)| self.billed_line(meter, register, *amount, &photos)),
                ),
                None if self.is_due(meter) => lines.extend(self.unbilled_lines(meter)),
                None => {}
            }
        }
        lines
    }

    fn billed_line(&self, meter: &meter::Model, register: &MeteredRecord, amount: Kopecks, photos: &str) -> MeterLine {
        let previous_date = self.last_before.get(&meter.id).map_or(meter.installed_on, |r| self.local_date(r.taken_at));
        let billed = Billed {
            current: Dated { value: register.current_value, date: self.local_date(register.taken_at) },
            consumption: register.consumption,
            price: register.price_kopecks,
            amount,
            source: register.source,
            seal_intact: register.seal_intact,
            photo_url: register.photo_id.map(|id| format!("{photos}/{id}")),
        };
        self.line(meter, register.zone, Dated { value: register.previous_value, date: previous_date }, Some(billed))
    }

    fn unbilled_lines(&self, meter: &meter::Model) -> impl Iterator<Item = MeterLine> {
        let (values, date) = match self.last_before.get(&meter.id) {
            Some(last) => (last.values(), self.local_date(last.taken_at)),
            None => (meter.initial_values(), meter.installed_on),
        };
        meter
            .zone_list()
            .iter()
            .zip(values)
            .map(move |(zone, value)| self.line(meter, *zone, Dated { value, date }, None))
    }

    fn line(&self, meter: &meter::Model, zone: Zone, previous: Dated, billed: Option<Billed>) -> MeterLine {
        MeterLine {
            contract: label(self.contract[&meter.contract_id]),
            meter_id: meter.id,
            serial: meter.serial.clone(),
            zone,
            previous,
            billed,
            flagged: self.flagged.contains(&meter.id),
        }
    }

    fn account_lines(&self) -> Result<Vec<AccountLine>, AmountOutOfRange> {
        let month = |sums: &HashMap<i64, Kopecks>, id| sums.get(&id).copied().unwrap_or_default();
        let mut lines = Vec::with_capacity(self.contracts.len());
        for contract in &self.contracts {
            let closing = self.closing.get(&contract.id).copied().unwrap_or_default();
            let movement =
                Movement::ending_at(closing, month(&self.charged, contract.id), month(&self.paid, contract.id))?;
            if contract.active_in(self.period) || movement != Movement::default() {
                lines.push(AccountLine { contract: label(contract), movement });
            }
        }
        Ok(lines)
    }

    fn payment_lines(&self) -> Vec<PaymentLine> {
        let payments = self.loaded.payments.iter().filter_map(|p| Some((self.contract.get(&p.contract_id)?, p)));
        payments
            .map(|(contract, p)| PaymentLine {
                id: p.id,
                note: payment_note(p),
                contract: label(contract),
                paid_on: p.paid_on,
                amount: p.amount_kopecks,
                reference: p.reference.clone(),
                source: p.source,
                for_period: p.for_period,
            })
            .collect()
    }

    fn recalculation_lines(&self) -> Vec<RecalculationLine> {
        let lines = self.loaded.recalculations.iter().filter_map(|r| Some((self.contract.get(&r.contract_id)?, r)));
        lines
            .map(|(contract, r)| RecalculationLine {
                contract: label(contract),
                for_period: r.for_period,
                consumption_change: r.consumption_change,
                amount: r.amount_kopecks,
                reason: r.reason.clone(),
            })
            .collect()
    }

    fn loss_lines(&self) -> Vec<ShareLine> {
        let lines = self.loaded.charges.iter().filter(|c| c.kind == ChargeKind::NetworkLosses);
        lines
            .filter_map(|c| {
                Some(ShareLine { contract: label(self.contract.get(&c.contract_id)?), amount: c.amount_kopecks })
            })
            .collect()
    }

    /// A contract is unread when none of its meters due has a reading of the month (a reading
    /// waiting for review counts: someone did read the meter).
    fn unread_lines(&self) -> Vec<UnreadLine> {
        self.meters
            .chunk_by(|a, b| a.contract_id == b.contract_id)
            .filter_map(|meters| {
                let due: Vec<&meter::Model> = meters.iter().copied().filter(|m| self.is_due(m)).collect();
                let newest = due.last()?;
                if due.iter().any(|m| self.read.contains(&m.id)) {
                    return None;
                }
                let contract = self.contract[&newest.contract_id];
                let last = self.last_before.get(&newest.id);
                Some(UnreadLine {
                    contract: label(contract),
                    phone: contract.phone.clone(),
                    meter_id: newest.id,
                    serial: newest.serial.clone(),
                    last: last.map(|r| LastReading { values: r.values(), date: self.local_date(r.taken_at) }),
                })
            })
            .collect()
    }

    /// A plot counts as read when every meter due on it was read; plots with nothing due are
    /// counted neither way.
    fn summary(
        &self,
        meters: &[MeterLine],
        accounts: &[AccountLine],
        unread: &[UnreadLine],
        recalculations: &[RecalculationLine],
        losses: &[ShareLine],
    ) -> Result<Summary, ReportError> {
        let mut by_zone: BTreeMap<(Service, Zone), (MeterValue, Kopecks)> = BTreeMap::new();
        for line in meters {
            if let Some(billed) = &line.billed {
                let (consumption, charged) = by_zone.entry((line.contract.service, line.zone)).or_default();
                *consumption = consumption.checked_add(billed.consumption)?;
                *charged = charged.checked_add(billed.amount)?;
            }
        }
        let plot_of = |contract_id: i64| self.contract[&contract_id].plot_id;
        let due_plots: HashSet<i64> =
            self.meters.iter().filter(|m| self.is_due(m)).map(|m| plot_of(m.contract_id)).collect();
        let unread_plots: HashSet<i64> = unread.iter().map(|line| plot_of(line.contract.id)).collect();
        let closing: Vec<Kopecks> = accounts.iter().map(|line| line.movement.closing).collect();
        let by_zone: Vec<ZoneTotal> = by_zone
            .into_iter()
            .map(|((service, zone), (consumption, charged))| ZoneTotal { service, zone, consumption, charged })
            .collect();
        let mut by_service = Vec::with_capacity(Service::ALL.len());
        for &service in Service::ALL {
            let accounts = accounts.iter().filter(|line| line.contract.service == service);
            let movement = accounts.map(|line| line.movement).try_fold(Movement::default(), Movement::checked_add)?;
            let opening_balances = self.loaded.charges.iter().filter(|charge| {
                charge.kind == ChargeKind::OpeningBalance && self.contract[&charge.contract_id].service == service
            });
            let recalculations = recalculations.iter().filter(|line| line.contract.service == service);
            // Shares of the network's losses count as consumption (`MonthFigures::book`).
            let metered = by_zone.iter().filter(|t| t.service == service).map(|t| t.charged);
            let shared = losses.iter().filter(|line| line.contract.service == service).map(|line| line.amount);
            let figures = MonthFigures {
                opening: movement.opening,
                consumption: Kopecks::try_sum(metered.chain(shared))?,
                recalculations: Kopecks::try_sum(recalculations.map(|line| line.amount))?,
                opening_balances: Kopecks::try_sum(opening_balances.map(|charge| charge.amount_kopecks))?,
                paid: movement.paid,
                closing: movement.closing,
            };
            by_service.push(ServiceFigures { service, figures });
        }
        Ok(Summary {
            by_service,
            charged_for_consumption: Kopecks::try_sum(by_zone.iter().map(|total| total.charged))?,
            recalculated: Kopecks::try_sum(recalculations.iter().map(|line| line.amount))?,
            by_zone,
            plots_read: due_plots.len() - unread_plots.len(),
            plots_unread: unread_plots.len(),
            totals: accounts.iter().try_fold(Movement::default(), |total, line| total.checked_add(line.movement))?,
            owed: Kopecks::try_sum(closing.iter().copied().filter(|debt| debt.is_positive()))?,
            overpaid: -Kopecks::try_sum(closing.iter().copied().filter(|debt| debt.is_negative()))?,
            debtors: closing.iter().filter(|debt| debt.is_positive()).count(),
        })
    }
}

/// How «Оплаты» marks a reversal and the payment it reverses, so the pair is seen together.
fn payment_note(p: &load::PaymentRecord) -> Option<String> {
    let reason = p.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
    match (p.reverses_id, p.reversed_by.zip(p.reversed_on)) {
        (Some(original), _) => Some(format!("Сторно платежа № {original}{reason}")),
        (None, Some((reversal, on))) => Some(format!("Сторнирован {} (№ {reversal})", on.format("%d.%m.%Y"))),
        (None, None) => p.reason.clone(),
    }
}

/// Adds `amount` to the sum kept for `id`, checked.
fn add_to(sums: &mut HashMap<i64, Kopecks>, id: i64, amount: Kopecks) -> Result<(), AmountOutOfRange> {
    let sum = sums.entry(id).or_default();
    *sum = sum.checked_add(amount)?;
    Ok(())
}

fn label(contract: &ContractRecord) -> ContractLabel {
    ContractLabel {
        id: contract.id,
        number: contract.number.clone(),
        service: contract.service,
        plot: contract.plot_number.clone(),
        consumer: contract.consumer_name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::ConnectionTrait;
    use service::demo::{self, DemoSpec};
    use service::testing::TestContext;

    use super::*;

    /// On an SQLite file the report reads through a reader; the same job on the pool, as
    /// PostgreSQL reads it, must give the same report, the network's balance included. And the
    /// report laid out while its network is read is the report laid out at once.
    #[tokio::test]
    async fn the_report_is_the_same_through_either_source_and_either_way_of_writing() {
        let t = TestContext::new().await;
        demo::generate(&t.ctx, DemoSpec { plots: 40, months: 6, seed: 11 }).await.unwrap();
        demo::network(&t.ctx).await.unwrap();
        let url = "https://panel.example";
        for period in [t.ctx.current_period().prev(), t.ctx.current_period()] {
            let through_snapshot = monthly_data(&t.ctx, period, url).await.unwrap();
            let ((loaded_to, loaded), (carried_to, carried)) = (oneshot::channel(), oneshot::channel());
            let reads = (CarriedRead { period, carried_to }, MonthRead { ctx: t.ctx.clone(), period, loaded_to });
            let ((), network) = reads.run(t.ctx.db.conn()).await.unwrap();
            let (loaded, carried) = (loaded.await.unwrap(), carried.await.unwrap());
            let through_pool = MonthlyData { network, ..assemble(&t.ctx, period, url, loaded, carried).unwrap() };
            assert_eq!(through_snapshot, through_pool, "{period}");
            let at_once = write_monthly(&through_snapshot).unwrap();
            assert!(monthly_report(&t.ctx, period, url).await.unwrap() == at_once, "{period}: the same bytes");
            assert!(through_pool.meters.iter().any(|m| m.billed.is_some()), "{period}: meters billed");
            assert!(!through_pool.payments.is_empty(), "{period}: payments");
            assert!(through_pool.network.iter().any(|l| l.figures.is_some()), "{period}: a line balanced");
        }
    }

    /// A read that fails says why, whether it failed before the sheets were handed over (the
    /// month's closing is read first, by both sides), on the side that reads what the month
    /// carries over (the stored balances), or after (the network is read last).
    #[tokio::test]
    async fn a_failed_read_is_the_reports_error_before_or_after_the_handover() {
        for table in ["closed_periods", "period_balances", "network_lines"] {
            let t = TestContext::new().await;
            demo::generate(&t.ctx, DemoSpec { plots: 10, months: 2, seed: 3 }).await.unwrap();
            t.ctx.db.conn().execute_unprepared(&format!("ALTER TABLE {table} RENAME TO gone")).await.unwrap();
            let error = monthly_report(&t.ctx, t.ctx.current_period(), "https://panel.example").await.unwrap_err();
            assert!(format!("{error:?}").contains(table), "{table}: {error:?}");
        }
    }
}
