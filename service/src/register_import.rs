//! Loading the register the cooperative kept in spreadsheets at go-live: plots, consumers,
//! contracts, meters with their opening readings, and each contract's opening debt or credit.
//!
//! The file has one row per contract; [`SCHEMA`] lists the columns. Importing follows the
//! payment import ([`crate::ledger::payments::import`]) and reads the file the same way
//! ([`crate::spreadsheet`]): [`preview`] sorts the rows into new contracts, contracts already on
//! file, and bad rows with every reason, writing nothing; [`commit`] signs the new contracts in
//! one transaction after checking the rows again inside it. A contract on file must agree with its
//! row — a difference is a bad row, never an overwrite — so importing the same file again creates
//! nothing, and a file with any bad row is not imported at all.
//!
//! Rows with the same plot number are one plot; rows with the same phone are one consumer (and
//! must give the same name), rows without a phone are one consumer when they give the same name.
//! The opening reading becomes the meter's initial values and its date the installation date, so
//! billing counts the next reading from there and nothing before go-live is charged again. The
//! saldo becomes an opening-balance charge in the month before the opening reading: the debt the
//! first billed month starts with, in the debt, the report and the bot alike.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fmt::{self, Display};

use chrono::NaiveDate;
use domain::{ChargeKind, Kopecks, MeterValue, Period, Phone, PlotNumber, Service, TariffPlan};
use entities::{charge, consumer, contract, meter, plot};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, NotSet, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Actor};
use crate::db::find_in;
use crate::error::internal_errors;
use crate::inventory::{self, ConsumerRef, InventoryError, NewMeter, SignUp};
use crate::spreadsheet::{self, CellProblem, Column, FileError, Row, Schema, Table, normalize};
use crate::{Context, Internal, heavy};

const PLOT: &str = "Участок";
const ADDRESS: &str = "Адрес";
const NAME: &str = "ФИО";
const PHONE: &str = "Телефон";
const CONTRACT: &str = "Договор";
const SERVICE: &str = "Услуга";
const PLAN: &str = "Тариф";
const SIGNED_ON: &str = "Дата договора";
const SERIAL: &str = "Счётчик";
const SEAL: &str = "Пломба";
const VERIFICATION: &str = "Поверка до";
const READING: &str = "Показание";
const NIGHT: &str = "Показание ночь";
const READ_ON: &str = "Дата показания";
const SALDO: &str = "Сальдо";

/// The file format, for the import page, the template and the command line.
pub const SCHEMA: Schema = Schema {
    columns: &[
        Column {
            name: PLOT,
            required: true,
            meaning: "номер участка: 12, 12А, 7/2; строки с одним номером — один участок",
        },
        Column {
            name: ADDRESS, required: false, meaning: "адрес участка, если есть; у всех строк участка один"
        },
        Column { name: NAME, required: true, meaning: "потребитель, как в договоре" },
        Column {
            name: PHONE,
            required: false,
            meaning: "+7 978 123-45-67 или 8 978 123-45-67; по нему потребителя узнаёт бот. Строки с одним \
                      телефоном — один потребитель (ФИО должно совпадать), строки без телефона — по ФИО",
        },
        Column {
            name: CONTRACT, required: true, meaning: "номер договора, у каждой строки свой: В-012, Э-0345"
        },
        Column { name: SERVICE, required: true, meaning: "Вода или Электроэнергия" },
        Column {
            name: PLAN,
            required: true,
            meaning: "Однотарифный или День/ночь (день/ночь — только электроэнергия)",
        },
        Column {
            name: SIGNED_ON, required: false, meaning: "дата подписания договора; пусто — дата показания"
        },
        Column { name: SERIAL, required: true, meaning: "заводской номер счётчика" },
        Column { name: SEAL, required: false, meaning: "номер пломбы" },
        Column {
            name: VERIFICATION, required: false, meaning: "дата следующей поверки счётчика"
        },
        Column {
            name: READING,
            required: true,
            meaning: "показание на дату ввода в учёт: 12345,6 (для тарифа День/ночь — дневное); следующее \
                      показание считается от него",
        },
        Column {
            name: NIGHT, required: false, meaning: "ночное показание — только для тарифа День/ночь"
        },
        Column {
            name: READ_ON,
            required: true,
            meaning: "дата этого показания: 01.03.2026 или ячейка Excel с датой; с неё счётчик в учёте",
        },
        Column {
            name: SALDO,
            required: false,
            meaning: "долг по договору на дату показания, в рублях: 1500 — долг, -200,50 — переплата; пусто — 0",
        },
    ],
    row_genitive: "строки с договором",
    // Two contracts for each of a large cooperative's plots.
    max_rows: 5_000,
};

/// A contract of the register, read whole from its row (serializable, so a preview can wait in
/// the session for confirmation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterRow {
    /// The row's number in the file, counting the header row.
    pub line: usize,
    pub plot: PlotNumber,
    pub address: Option<String>,
    pub full_name: String,
    pub phone: Option<Phone>,
    pub contract_number: String,
    pub service: Service,
    pub plan: TariffPlan,
    pub signed_on: NaiveDate,
    pub serial: String,
    pub seal_number: Option<String>,
    pub verification_due: Option<NaiveDate>,
    /// The opening reading, one value per register of the plan (day before night).
    pub opening: Vec<MeterValue>,
    /// When the opening reading was taken: the meter is in service from that day.
    pub read_on: NaiveDate,
    /// Debt (positive) or credit (negative) on the opening day.
    pub saldo: Kopecks,
}

impl RegisterRow {
    /// The month the opening balance is booked to: the one before the opening reading, so that
    /// it is the debt the first billed month opens with.
    pub fn balance_period(&self) -> Period {
        Period::of(self.read_on).prev()
    }

    fn consumer_key(&self) -> ConsumerKey {
        match &self.phone {
            Some(phone) => ConsumerKey::Phone(phone.clone()),
            None => ConsumerKey::Name(normalize(&self.full_name)),
        }
    }

    fn sign_up(&self, consumer: ConsumerRef, plot_address: Option<String>) -> SignUp {
        SignUp {
            plot: self.plot.clone(),
            plot_address,
            consumer,
            contract_number: self.contract_number.clone(),
            service: self.service,
            plan: self.plan,
            signed_on: self.signed_on,
            meter: NewMeter {
                serial: self.serial.clone(),
                installed_on: self.read_on,
                initial: self.opening.clone(),
                seal_number: self.seal_number.clone(),
                verification_due: self.verification_due,
            },
        }
    }
}

/// Who a row's consumer is: the same phone is the same person; without a phone, the same name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ConsumerKey {
    Phone(Phone),
    Name(String),
}

/// Where a conflicting value was met first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// In the database.
    OnFile,
    /// In an earlier row of the file.
    Line(usize),
}

impl Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::OnFile => f.write_str("в учёте"),
            Origin::Line(line) => write!(f, "в строке {line}"),
        }
    }
}

/// A column whose value on file is not the row's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{column}: в учёте «{on_file}», в файле «{in_file}»")]
pub struct Difference {
    pub column: &'static str,
    pub on_file: String,
    pub in_file: String,
}

/// Why a row is not imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error(transparent)]
    Cell(#[from] CellProblem),
    #[error("Тариф: «День/ночь» бывает только для электроэнергии.")]
    PlanNotForService,
    #[error("Показание ночь: заполняется только для тарифа «День/ночь».")]
    NightForSinglePlan,
    #[error("Дата показания: {} ещё не наступило.", .0.format("%d.%m.%Y"))]
    FutureReading(NaiveDate),
    #[error("Договор: № {number} уже есть в строке {line}.")]
    RepeatedContract { number: String, line: usize },
    #[error("Адрес: у участка {plot} {origin} {}, а здесь «{given}».", quoted_address(.known))]
    AddressDiffers { plot: PlotNumber, origin: Origin, known: Option<String>, given: String },
    #[error("Телефон: {phone} {origin} у потребителя «{name}»; у одного телефона одно ФИО.")]
    PhoneOfAnother { phone: Phone, origin: Origin, name: String },
    #[error("Договор: № {number} уже в учёте, но отличается — {}.", joined(.differences))]
    ContractDiffers { number: String, differences: Vec<Difference> },
    #[error("Сальдо: с этой строкой сальдо по файлу в сумме больше {}; разделите файл на части.", Kopecks::MAX)]
    OpeningTotalTooLarge,
}

fn quoted_address(address: &Option<String>) -> String {
    address.as_ref().map_or_else(|| "адрес не указан".to_owned(), |a| format!("адрес «{a}»"))
}

fn joined(items: &[impl Display]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// A row that is not imported, with every reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    pub line: usize,
    pub problems: Vec<Problem>,
}

impl BadRow {
    /// The reasons in one line, for tables and the command line.
    pub fn reason(&self) -> String {
        joined(&self.problems)
    }
}

/// What importing a good row does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// A new contract: signed with its meter and opening balance, on its plot (created unless
    /// on file) for its consumer (the one on file, or a new one created by the first such row).
    Create { new_plot: bool, consumer_on_file: Option<i64> },
    /// The contract is on file and agrees with the row: nothing to do.
    OnFile,
}

impl Status {
    /// The row's fate for the preview table.
    pub fn describe(self) -> String {
        let new = |is_new: bool| if is_new { "новый" } else { "из учёта" };
        match self {
            Status::Create { new_plot, consumer_on_file } => {
                format!("будет создан (участок — {}, потребитель — {})", new(new_plot), new(consumer_on_file.is_none()))
            }
            Status::OnFile => "уже в учёте, совпадает".to_owned(),
        }
    }
}

/// A good row and what importing it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub row: RegisterRow,
    pub status: Status,
}

/// The dry run of an import.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Preview {
    pub rows: Vec<Checked>,
    /// In file order.
    pub bad: Vec<BadRow>,
    /// The opening balances of the new contracts: debts, and credits as a positive amount.
    opening_debt: Kopecks,
    opening_credit: Kopecks,
}

/// What an import creates (or, in a preview, would create), and what it finds on file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub plots: usize,
    pub consumers: usize,
    /// Each with its meter.
    pub contracts: usize,
    /// Rows whose contract is on file already.
    pub on_file: usize,
    /// Opening balances of the new contracts: debts, and credits (as a positive amount).
    pub opening_debt: Kopecks,
    pub opening_credit: Kopecks,
}

impl Preview {
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        let mut plots = HashSet::new();
        let mut consumers = HashSet::new();
        for Checked { row, status } in &self.rows {
            let Status::Create { new_plot, consumer_on_file } = *status else {
                counts.on_file += 1;
                continue;
            };
            counts.contracts += 1;
            if new_plot {
                plots.insert(&row.plot);
            }
            if consumer_on_file.is_none() {
                consumers.insert(row.consumer_key());
            }
        }
        Counts {
            plots: plots.len(),
            consumers: consumers.len(),
            opening_debt: self.opening_debt,
            opening_credit: self.opening_credit,
            ..counts
        }
    }

    /// Adds a new contract's saldo to the file's opening totals, if they stay within the bound.
    fn count_opening(&mut self, saldo: Kopecks) -> Result<(), Problem> {
        let (total, amount) =
            if saldo.is_positive() { (&mut self.opening_debt, saldo) } else { (&mut self.opening_credit, -saldo) };
        *total = total.checked_add(amount).map_err(|_| Problem::OpeningTotalTooLarge)?;
        Ok(())
    }

    /// A file is imported whole: only when every row is good and some contract is new.
    pub fn can_commit(&self) -> bool {
        self.bad.is_empty() && self.rows.iter().any(|c| c.status != Status::OnFile)
    }

    /// The rows to hand to [`commit`] once the user confirms.
    pub fn into_rows(self) -> Vec<RegisterRow> {
        self.rows.into_iter().map(|c| c.row).collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("Реестр не загружен: в нём строки с ошибками ({0}). Исправьте файл и загрузите его снова.")]
    NotClean(usize),
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(ImportError);

impl From<InventoryError> for ImportError {
    fn from(e: InventoryError) -> Self {
        match e {
            InventoryError::Internal(e) => ImportError::Internal(e),
            // Rows are checked in the same transaction, so a refusal here is a bug, not the user's.
            other => ImportError::Internal(Internal(anyhow::anyhow!("register row refused after check: {other}"))),
        }
    }
}

/// Reads a file (off the async threads) and sorts its rows, writing nothing.
pub async fn preview(ctx: &Context, file_name: &str, bytes: Vec<u8>) -> Result<Preview, ImportError> {
    let name = file_name.to_owned();
    let (rows, mut bad) =
        heavy::run(move || spreadsheet::read(&name, &bytes, &SCHEMA).map(|table| parse(&table))).await??;
    let mut preview = check(ctx.db.conn(), rows, ctx.today()).await?;
    preview.bad.append(&mut bad);
    preview.bad.sort_by_key(|b| b.line);
    Ok(preview)
}

/// Signs the new contracts of a previewed file in one transaction, with their opening balances.
/// The rows are checked again inside it; if any has gone bad meanwhile, nothing is stored.
pub async fn commit(
    ctx: &Context,
    file_name: &str,
    rows: Vec<RegisterRow>,
    actor: Actor,
) -> Result<Counts, ImportError> {
    let ctx2 = ctx.clone();
    let file_name = file_name.to_owned();
    ctx.db
        .write(move |txn| {
            Box::pin(async move {
                let checked = check(txn, rows, ctx2.today()).await?;
                if !checked.bad.is_empty() {
                    return Err(ImportError::NotClean(checked.bad.len()));
                }
                let addresses = plot_addresses(&checked.rows);
                let mut created: HashMap<ConsumerKey, i64> = HashMap::new();
                for Checked { row, status } in &checked.rows {
                    let Status::Create { consumer_on_file, .. } = *status else { continue };
                    let key = row.consumer_key();
                    let consumer = match consumer_on_file.or_else(|| created.get(&key).copied()) {
                        Some(id) => ConsumerRef::Existing(id),
                        None => ConsumerRef::New { full_name: row.full_name.clone(), phone: row.phone.clone() },
                    };
                    let address = addresses.get(&row.plot).map(|a| (*a).to_owned());
                    let signed = inventory::sign_up_in(txn, &ctx2, row.sign_up(consumer, address), actor).await?;
                    created.entry(key).or_insert(signed.consumer_id);
                    if row.saldo != Kopecks::ZERO {
                        book_opening_balance(txn, &ctx2, signed.contract_id, row, actor).await?;
                    }
                }
                let counts = checked.counts();
                audit::record(
                    txn,
                    &ctx2,
                    actor,
                    "register.import",
                    "contract",
                    None,
                    json!({"file": file_name, "contracts": counts.contracts, "plots": counts.plots,
                           "consumers": counts.consumers, "on_file": counts.on_file,
                           "opening_debt_kopecks": counts.opening_debt.get(),
                           "opening_credit_kopecks": counts.opening_credit.get()}),
                )
                .await?;
                Ok(counts)
            })
        })
        .await
}

/// The address each plot is created with: the first one its rows give.
fn plot_addresses(rows: &[Checked]) -> HashMap<&PlotNumber, &str> {
    let mut addresses = HashMap::new();
    for Checked { row, .. } in rows {
        if let Some(address) = &row.address {
            addresses.entry(&row.plot).or_insert(address.as_str());
        }
    }
    addresses
}

/// The saldo as a ledger line of its own, which recomputing consumption charges leaves alone.
async fn book_opening_balance(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    contract_id: i64,
    row: &RegisterRow,
    actor: Actor,
) -> Result<(), DbErr> {
    let period = row.balance_period();
    charge::ActiveModel {
        id: NotSet,
        contract_id: Set(contract_id),
        meter_id: Set(None),
        reading_id: Set(None),
        period: Set(period),
        kind: Set(ChargeKind::OpeningBalance),
        zone: Set(None),
        previous_value: Set(None),
        current_value: Set(None),
        consumption: Set(None),
        price_kopecks: Set(None),
        amount_kopecks: Set(row.saldo),
        created_at: Set(ctx.now()),
    }
    .insert(conn)
    .await?;
    audit::record(
        conn,
        ctx,
        actor,
        "charge.opening_balance",
        "contract",
        Some(contract_id),
        json!({"amount_kopecks": row.saldo.get(), "period": period}),
    )
    .await
}

/// Splits a table into good rows and rows that cannot be read.
fn parse(table: &Table) -> (Vec<RegisterRow>, Vec<BadRow>) {
    let mut rows = Vec::new();
    let mut bad = Vec::new();
    for row in table.rows() {
        match parse_row(row) {
            Ok(row) => rows.push(row),
            Err(row) => bad.push(row),
        }
    }
    (rows, bad)
}

/// The contract in a row, or every reason it cannot be read.
fn parse_row(mut row: Row<'_>) -> Result<RegisterRow, BadRow> {
    use domain::TextKind::{Address, ContractNumber, FullName, MeterSerial, SealNumber};
    use spreadsheet::{choice, date, meter_value, optional, optional_text, required_text};
    let plot = row.read(PLOT, spreadsheet::plot);
    let address = row.read(ADDRESS, |c| optional_text(c, Address));
    let full_name = row.read(NAME, |c| required_text(c, FullName));
    let phone = row.read(PHONE, |c| optional(c, spreadsheet::phone));
    let contract_number = row.read(CONTRACT, |c| required_text(c, ContractNumber));
    let service = row.read(SERVICE, |c| choice(c, Service::ALL));
    let plan = row.read(PLAN, |c| choice(c, TariffPlan::ALL));
    let signed_on = row.read(SIGNED_ON, |c| optional(c, date));
    let serial = row.read(SERIAL, |c| required_text(c, MeterSerial));
    let seal_number = row.read(SEAL, |c| optional_text(c, SealNumber));
    let verification_due = row.read(VERIFICATION, |c| optional(c, date));
    let day = row.read(READING, meter_value);
    // The night register is read on a day/night plan only (on an unreadable plan, not at all).
    let night = match plan {
        Some(TariffPlan::DayNight) => row.read(NIGHT, meter_value).map(Some),
        _ => Some(None),
    };
    let read_on = row.read(READ_ON, date);
    let saldo = row.read(SALDO, |c| optional(c, |c| Ok(spreadsheet::money(c)?.carried_balance()?)));

    let mut problems: Vec<Problem> = row.problems().iter().cloned().map(Problem::from).collect();
    if let (Some(service), Some(plan)) = (service, plan)
        && !plan.allowed_for(service)
    {
        problems.push(Problem::PlanNotForService);
    }
    if plan == Some(TariffPlan::Single) && !row.cell(NIGHT).is_empty() {
        problems.push(Problem::NightForSinglePlan);
    }
    let line = row.line;
    let contract = (|| {
        Some(RegisterRow {
            line,
            plot: plot?,
            address: address?,
            full_name: full_name?,
            phone: phone?,
            contract_number: contract_number?,
            service: service?,
            plan: plan?,
            signed_on: signed_on?.unwrap_or(read_on?),
            serial: serial?,
            seal_number: seal_number?,
            verification_due: verification_due?,
            opening: std::iter::once(day?).chain(night?).collect(),
            read_on: read_on?,
            saldo: saldo?.unwrap_or_default(),
        })
    })();
    match contract {
        Some(contract) if problems.is_empty() => Ok(contract),
        _ => Err(BadRow { line, problems }),
    }
}

/// A contract on file, with what a row is compared against.
struct ContractOnFile {
    contract: contract::Model,
    plot: PlotNumber,
    consumer: consumer::Model,
    /// The meter installed with it (a later replacement does not change the register's row).
    meter: Option<meter::Model>,
    saldo: Kopecks,
}

impl ContractOnFile {
    fn differences(&self, row: &RegisterRow) -> Vec<Difference> {
        fn shown(value: Option<impl Display>) -> String {
            value.map_or_else(|| "—".to_owned(), |v| v.to_string())
        }
        let day = |d: NaiveDate| d.format("%d.%m.%Y").to_string();
        let meter = self.meter.as_ref();
        let mut differences = Vec::new();
        if normalize(&self.consumer.full_name) != normalize(&row.full_name) {
            differences.push(Difference {
                column: NAME,
                on_file: self.consumer.full_name.clone(),
                in_file: row.full_name.clone(),
            });
        }
        let columns = [
            (PLOT, self.plot.to_string(), row.plot.to_string()),
            (PHONE, shown(self.consumer.phone.as_ref()), shown(row.phone.as_ref())),
            (SERVICE, self.contract.service.to_string(), row.service.to_string()),
            (PLAN, self.contract.tariff_plan.to_string(), row.plan.to_string()),
            (SIGNED_ON, day(self.contract.signed_on), day(row.signed_on)),
            (SERIAL, shown(meter.map(|m| &m.serial)), row.serial.clone()),
            (SEAL, shown(meter.and_then(|m| m.seal_number.as_ref())), shown(row.seal_number.as_ref())),
            (
                VERIFICATION,
                shown(meter.and_then(|m| m.verification_due).map(day)),
                shown(row.verification_due.map(day)),
            ),
            (READING, shown(meter.map(|m| m.initial_t1)), shown(row.opening.first())),
            (NIGHT, shown(meter.and_then(|m| m.initial_t2)), shown(row.opening.get(1))),
            (READ_ON, shown(meter.map(|m| day(m.installed_on))), day(row.read_on)),
            (SALDO, self.saldo.plain(), row.saldo.plain()),
        ];
        differences.extend(
            columns
                .into_iter()
                .filter(|(_, on_file, in_file)| on_file != in_file)
                .map(|(column, on_file, in_file)| Difference { column, on_file, in_file }),
        );
        differences
    }
}

/// What the database holds that a file's rows are checked against.
struct OnFile {
    contracts: HashMap<String, ContractOnFile>,
    /// Plots named in the file, with their addresses.
    plots: HashMap<PlotNumber, Option<String>>,
    /// Consumers with the phones in the file: id and name.
    by_phone: HashMap<Phone, Vec<(i64, String)>>,
    /// Consumers without a phone, by normalized name (the first one, if namesakes).
    by_name: HashMap<String, i64>,
}

impl OnFile {
    /// Everything the rows refer to, in a fixed number of queries (in batches, for a long file).
    async fn load(conn: &impl ConnectionTrait, rows: &[RegisterRow]) -> Result<OnFile, DbErr> {
        let numbers = rows.iter().map(|r| r.contract_number.as_str());
        let contracts = find_in(conn, contract::Entity::find(), contract::Column::Number, numbers).await?;
        let contract_ids = || contracts.iter().map(|c| c.id);

        let mut plots =
            find_in(conn, plot::Entity::find(), plot::Column::Number, rows.iter().map(|r| r.plot.clone())).await?;
        plots.extend(find_in(conn, plot::Entity::find(), plot::Column::Id, contracts.iter().map(|c| c.plot_id)).await?);
        let phones = rows.iter().filter_map(|r| r.phone.clone());
        let mut consumers = find_in(conn, consumer::Entity::find(), consumer::Column::Phone, phones).await?;
        let holders = contracts.iter().map(|c| c.consumer_id);
        consumers.extend(find_in(conn, consumer::Entity::find(), consumer::Column::Id, holders).await?);
        consumers.extend(consumer::Entity::find().filter(consumer::Column::Phone.is_null()).all(conn).await?);
        // In the order they were created: the first of namesakes is the one a row means.
        consumers.sort_by_key(|c| c.id);
        consumers.dedup_by_key(|c| c.id);
        let mut meters: HashMap<i64, meter::Model> = HashMap::new();
        let installed = meter::Entity::find().order_by_asc(meter::Column::Id);
        for meter in find_in(conn, installed, meter::Column::ContractId, contract_ids()).await? {
            meters.entry(meter.contract_id).or_insert(meter);
        }
        let mut saldos: HashMap<i64, Kopecks> = HashMap::new();
        let balances = charge::Entity::find().filter(charge::Column::Kind.eq(ChargeKind::OpeningBalance));
        for balance in find_in(conn, balances, charge::Column::ContractId, contract_ids()).await? {
            let saldo = saldos.entry(balance.contract_id).or_default();
            *saldo = saldo.checked_add(balance.amount_kopecks)?;
        }

        let plot_numbers: HashMap<i64, PlotNumber> = plots.iter().map(|p| (p.id, p.number.clone())).collect();
        let consumers_by_id: HashMap<i64, &consumer::Model> = consumers.iter().map(|c| (c.id, c)).collect();
        let mut by_phone: HashMap<Phone, Vec<(i64, String)>> = HashMap::new();
        let mut by_name = HashMap::new();
        for consumer in &consumers {
            match &consumer.phone {
                Some(phone) => {
                    by_phone.entry(phone.clone()).or_default().push((consumer.id, consumer.full_name.clone()))
                }
                None => {
                    by_name.entry(normalize(&consumer.full_name)).or_insert(consumer.id);
                }
            }
        }
        let contracts = contracts
            .into_iter()
            .map(|contract| {
                let on_file = ContractOnFile {
                    plot: plot_numbers[&contract.plot_id].clone(),
                    consumer: consumers_by_id[&contract.consumer_id].clone(),
                    meter: meters.remove(&contract.id),
                    saldo: saldos.get(&contract.id).copied().unwrap_or_default(),
                    contract,
                };
                (on_file.contract.number.clone(), on_file)
            })
            .collect();
        let plots = plots.into_iter().map(|p| (p.number, p.address)).collect();
        Ok(OnFile { contracts, plots, by_phone, by_name })
    }

    /// The consumer on file a new contract is signed for, if any.
    fn consumer_for(&self, row: &RegisterRow) -> Result<Option<i64>, Problem> {
        let Some(phone) = &row.phone else {
            return Ok(self.by_name.get(&normalize(&row.full_name)).copied());
        };
        let Some(holders) = self.by_phone.get(phone) else { return Ok(None) };
        match holders.iter().find(|(_, name)| normalize(name) == normalize(&row.full_name)) {
            Some((id, _)) => Ok(Some(*id)),
            None => Err(Problem::PhoneOfAnother {
                phone: phone.clone(),
                origin: Origin::OnFile,
                name: holders[0].1.clone(),
            }),
        }
    }
}

/// What the rows met so far said, for checking each row against the earlier ones.
#[derive(Default)]
struct Earlier {
    contracts: HashMap<String, usize>,
    /// The first address given for a plot not on file, and its row.
    addresses: HashMap<PlotNumber, (String, usize)>,
    /// The first name given with a phone, and its row.
    names: HashMap<Phone, (String, usize)>,
}

impl Earlier {
    fn repeated_contract(&mut self, row: &RegisterRow) -> Option<Problem> {
        match self.contracts.entry(row.contract_number.clone()) {
            Entry::Occupied(first) => {
                Some(Problem::RepeatedContract { number: row.contract_number.clone(), line: *first.get() })
            }
            Entry::Vacant(slot) => {
                slot.insert(row.line);
                None
            }
        }
    }

    fn other_address(&mut self, row: &RegisterRow, on_file: &OnFile) -> Option<Problem> {
        let given = row.address.as_ref()?;
        let (origin, known) = match on_file.plots.get(&row.plot) {
            Some(address) => (Origin::OnFile, address.clone()),
            None => match self.addresses.entry(row.plot.clone()) {
                Entry::Occupied(first) => (Origin::Line(first.get().1), Some(first.get().0.clone())),
                Entry::Vacant(slot) => {
                    slot.insert((given.clone(), row.line));
                    return None;
                }
            },
        };
        (known.as_ref() != Some(given)).then(|| Problem::AddressDiffers {
            plot: row.plot.clone(),
            origin,
            known,
            given: given.clone(),
        })
    }

    fn other_name(&mut self, row: &RegisterRow) -> Option<Problem> {
        let phone = row.phone.as_ref()?;
        match self.names.entry(phone.clone()) {
            Entry::Occupied(first) if normalize(&first.get().0) != normalize(&row.full_name) => {
                let (name, line) = first.get().clone();
                Some(Problem::PhoneOfAnother { phone: phone.clone(), origin: Origin::Line(line), name })
            }
            Entry::Occupied(_) => None,
            Entry::Vacant(slot) => {
                slot.insert((row.full_name.clone(), row.line));
                None
            }
        }
    }
}

/// Sorts readable rows into new contracts and contracts on file, and turns away those that
/// contradict an earlier row or the database. `today` bounds the opening readings' dates.
async fn check(conn: &impl ConnectionTrait, rows: Vec<RegisterRow>, today: NaiveDate) -> Result<Preview, DbErr> {
    let on_file = OnFile::load(conn, &rows).await?;
    let mut earlier = Earlier::default();
    let mut preview = Preview::default();
    for row in rows {
        let mut problems: Vec<Problem> =
            [earlier.repeated_contract(&row), earlier.other_address(&row, &on_file), earlier.other_name(&row)]
                .into_iter()
                .flatten()
                .collect();
        if row.read_on > today {
            problems.push(Problem::FutureReading(row.read_on));
        }
        let status = match on_file.contracts.get(&row.contract_number) {
            Some(contract) => {
                let differences = contract.differences(&row);
                if !differences.is_empty() {
                    problems.push(Problem::ContractDiffers { number: row.contract_number.clone(), differences });
                }
                Status::OnFile
            }
            None => {
                let consumer_on_file = on_file.consumer_for(&row).unwrap_or_else(|problem| {
                    problems.push(problem);
                    None
                });
                Status::Create { new_plot: !on_file.plots.contains_key(&row.plot), consumer_on_file }
            }
        };
        if problems.is_empty()
            && status != Status::OnFile
            && let Err(problem) = preview.count_opening(row.saldo)
        {
            problems.push(problem);
        }
        if problems.is_empty() {
            preview.rows.push(Checked { row, status });
        } else {
            preview.bad.push(BadRow { line: row.line, problems });
        }
    }
    Ok(preview)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spreadsheet::Cell;
    use domain::{kopecks, meter_value};

    const HEADER: [&str; 15] = [
        "Участок",
        "Адрес",
        "ФИО",
        "Телефон",
        "Договор",
        "Услуга",
        "Тариф",
        "Дата договора",
        "Счётчик",
        "Пломба",
        "Поверка до",
        "Показание",
        "Показание ночь",
        "Дата показания",
        "Сальдо",
    ];

    fn cell(s: &str) -> Cell {
        if s.is_empty() { Cell::Empty } else { Cell::Text(s.to_owned()) }
    }

    /// Rows under the header, from `|`-separated cells in the order of [`HEADER`].
    fn parse_lines(lines: &[&str]) -> (Vec<RegisterRow>, Vec<BadRow>) {
        let rows = std::iter::once(HEADER.map(cell).to_vec())
            .chain(lines.iter().map(|line| line.split('|').map(cell).collect()))
            .enumerate()
            .map(|(i, cells)| (i + 1, cells))
            .collect();
        parse(&Table::new(rows, &SCHEMA).unwrap())
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_row_is_a_contract_with_its_meter_and_saldo() {
        let (rows, bad) = parse_lines(&[
            "12а|ул. Морская, 1|Иванова А. П.|8 978 123-45-67|В-12|вода|Однотарифный||SN-1|П-7||123,5||01.03.2026|1 500",
            "12А||Иванова А. П.|+79781234567|Э-12|Электроэнергия|день/ночь|15.01.2020|SN-2||01.06.2030|1000|500,25|01.03.2026|-200,5",
        ]);
        assert_eq!(bad, vec![]);
        assert_eq!(
            rows[0],
            RegisterRow {
                line: 2,
                plot: PlotNumber::parse("12А").unwrap(),
                address: Some("ул. Морская, 1".into()),
                full_name: "Иванова А. П.".into(),
                phone: Some(Phone::parse("+79781234567").unwrap()),
                contract_number: "В-12".into(),
                service: Service::Water,
                plan: TariffPlan::Single,
                signed_on: date(2026, 3, 1),
                serial: "SN-1".into(),
                seal_number: Some("П-7".into()),
                verification_due: None,
                opening: vec![meter_value!(123_500)],
                read_on: date(2026, 3, 1),
                saldo: kopecks!(150_000),
            }
        );
        assert_eq!(rows[0].balance_period(), Period::new(2026, 2).unwrap());
        assert_eq!(rows[1].opening, [meter_value!(1_000_000), meter_value!(500_250)]);
        assert_eq!((rows[1].signed_on, rows[1].verification_due), (date(2020, 1, 15), Some(date(2030, 6, 1))));
        assert_eq!(rows[1].saldo, kopecks!(-20_050));
        assert_eq!(rows[0].consumer_key(), rows[1].consumer_key());
    }

    #[test]
    fn every_reason_of_a_bad_row_is_given() {
        let (rows, bad) = parse_lines(&[
            "|||звоните|В-1|Газ|Однотарифный|32.01.2026||||-5||вчера|много",
            "3||Петров|||Вода|День/ночь||SN||||||",
            "4||Сидоров||Э-4|Электроэнергия|Однотарифный||SN|||10|5|01.03.2026|",
            "5||Кузнецов||Э-5|Электроэнергия|День/ночь||SN|||10|||",
        ]);
        assert!(rows.is_empty());
        let reasons: Vec<Vec<String>> =
            bad.iter().map(|b| b.problems.iter().map(ToString::to_string).collect()).collect();
        assert_eq!(
            reasons[0],
            [
                "Участок: Номер участка не указан.",
                "ФИО: не заполнено.",
                "Телефон: «звоните» — не номер телефона. Пример: +7 912 345-67-89.",
                "Услуга: «Газ» — нет такого значения. Возможные: Вода, Электроэнергия.",
                "Дата договора: «32.01.2026» — не дата. Укажите дату в виде ДД.ММ.ГГГГ, например 15.03.2026.",
                "Счётчик: не заполнено.",
                "Показание: Показание не может быть отрицательным.",
                "Дата показания: «вчера» — не дата. Укажите дату в виде ДД.ММ.ГГГГ, например 15.03.2026.",
                "Сальдо: «много» — не сумма. Пример: 1 234,56",
            ]
        );
        assert_eq!(
            reasons[1],
            [
                "Договор: не заполнено.",
                "Показание: не заполнено.",
                "Показание ночь: не заполнено.",
                "Дата показания: Дата не указана.",
                "Тариф: «День/ночь» бывает только для электроэнергии.",
            ]
        );
        assert_eq!(reasons[2], ["Показание ночь: заполняется только для тарифа «День/ночь»."]);
        assert_eq!(reasons[3], ["Показание ночь: не заполнено.", "Дата показания: Дата не указана."]);
        assert_eq!(bad.iter().map(|b| b.line).collect::<Vec<_>>(), [2, 3, 4, 5]);
    }

    #[test]
    fn number_cells_are_read_exactly() {
        let mut cells: Vec<Cell> = HEADER.iter().map(|_| Cell::Empty).collect();
        for (column, value) in [
            ("Участок", Cell::Number(7.0)),
            ("ФИО", cell("Бендер О. И.")),
            ("Телефон", Cell::Number(79_781_234_567.0)),
            ("Договор", Cell::Number(1024.0)),
            ("Услуга", cell("Вода")),
            ("Тариф", cell("Однотарифный")),
            ("Счётчик", Cell::Number(556_677.0)),
            ("Показание", Cell::Number(12_345.678)),
            ("Дата показания", Cell::Date(date(2026, 3, 1))),
            ("Сальдо", Cell::Number(-0.07)),
        ] {
            cells[HEADER.iter().position(|h| *h == column).unwrap()] = value;
        }
        let table = Table::new(vec![(1, HEADER.map(cell).to_vec()), (2, cells)], &SCHEMA).unwrap();
        let (rows, bad) = parse(&table);
        assert_eq!(bad, vec![]);
        let row = &rows[0];
        assert_eq!((row.plot.as_str(), row.contract_number.as_str(), row.serial.as_str()), ("7", "1024", "556677"));
        assert_eq!(row.phone.as_ref().map(Phone::as_str), Some("+79781234567"));
        assert_eq!((row.opening.clone(), row.saldo), (vec![meter_value!(12_345_678)], kopecks!(-7)));
    }

    #[test]
    fn a_saldo_beyond_ten_million_either_way_is_refused() {
        let line = |saldo: &str| {
            let cells =
                ["1", "", "Бендер О. И.", "", "В-1", "Вода", "Однотарифный", "", "SN", "", "", "10", "", "01.03.2026"];
            cells.iter().map(|c| cell(c)).chain([cell(saldo)]).collect::<Vec<_>>()
        };
        let table = Table::new(
            vec![
                (1, HEADER.map(cell).to_vec()),
                (2, line("10 000 000")),
                (3, line("-10 000 000,01")),
                (4, line("1e20")),
            ],
            &SCHEMA,
        )
        .unwrap();
        let (rows, bad) = parse(&table);
        assert_eq!(rows.iter().map(|r| r.saldo).collect::<Vec<_>>(), [Kopecks::PAYMENT_MAX]);
        let reasons: Vec<String> = bad.iter().map(BadRow::reason).collect();
        assert_eq!(reasons[0], "Сальдо: Сальдо по модулю не может быть больше 10\u{202f}000\u{202f}000,00 ₽.");
        assert_eq!(reasons[1], "Сальдо: «1e20» — не сумма. Пример: 1 234,56");
    }

    #[test]
    fn differences_name_each_column() {
        let problem = Problem::ContractDiffers {
            number: "В-1".into(),
            differences: vec![
                Difference { column: SERIAL, on_file: "A".into(), in_file: "B".into() },
                Difference { column: SALDO, on_file: "0,00".into(), in_file: "1\u{202f}500,00".into() },
            ],
        };
        assert_eq!(
            problem.to_string(),
            "Договор: № В-1 уже в учёте, но отличается — Счётчик: в учёте «A», в файле «B»; \
             Сальдо: в учёте «0,00», в файле «1\u{202f}500,00»."
        );
        let address = Problem::AddressDiffers {
            plot: PlotNumber::parse("3").unwrap(),
            origin: Origin::Line(2),
            known: Some("ул. Морская, 1".into()),
            given: "ул. Морская, 2".into(),
        };
        assert_eq!(
            address.to_string(),
            "Адрес: у участка 3 в строке 2 адрес «ул. Морская, 1», а здесь «ул. Морская, 2»."
        );
    }
}
