//! Planning an import: each readable row checked against the database and the rows before it,
//! and sorted into a new contract to sign or one already on file, or turned away.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fmt::Display;

use chrono::NaiveDate;
use domain::{ChargeKind, Kopecks, Phone, PlotNumber};
use entities::{charge, consumer, contract, meter, plot};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::problems::{BadRow, Difference, Origin, Problem};
use super::read::{
    NAME, NIGHT, PHONE, PLAN, PLOT, READ_ON, READING, RegisterRow, SALDO, SEAL, SERIAL, SERVICE, SIGNED_ON,
    VERIFICATION,
};
use crate::db::find_in;
use crate::spreadsheet::normalize;

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

    /// The rows to hand to [`commit`](super::commit) once the user confirms.
    pub fn into_rows(self) -> Vec<RegisterRow> {
        self.rows.into_iter().map(|c| c.row).collect()
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
pub(super) async fn check(
    conn: &impl ConnectionTrait,
    rows: Vec<RegisterRow>,
    today: NaiveDate,
) -> Result<Preview, DbErr> {
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
