//! Importing payments from the bank's spreadsheet (xlsx or CSV).
//!
//! The file has a header row naming at least the columns Договор, Сумма, Дата оплаты and Период
//! (in any order, any case; Номер платежа is optional and other columns are ignored), then one
//! payment per row. See [`SCHEMA`] for what each cell may hold; the file and its cells are read
//! by [`crate::spreadsheet`].
//!
//! Importing is two steps. [`preview`] reads the file and sorts each row into matched (will be
//! stored), unmatched (no such contract), duplicate (already on file or repeated in the file) and
//! bad (unreadable, with the reason); it writes nothing. [`commit`] stores the matched rows in one
//! transaction, classifying them again inside it, so a payment entered meanwhile is not counted
//! twice and importing the same file again adds nothing. A file with bad or unmatched rows is not
//! imported at all: it is fixed and uploaded again, rather than half-imported.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Days, NaiveDate};
use domain::{Kopecks, PaymentSource, TextKind};
use entities::{bank_document, contract, payment};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::statement::{DAYS_ON_THE_WAY, typed_days};
use super::{NewPayment, PaymentError};
use crate::audit::{self, Actor};
use crate::db::find_in;
use crate::error::internal_errors;
use crate::spreadsheet::{self, Cell, CellError, Column, FileError, Row, Schema, Table};
use crate::{Context, Internal, heavy};

/// The file format, as shown to accountants on the import page.
pub const SCHEMA: Schema = Schema {
    columns: &[
        Column {
            name: CONTRACT, required: true, meaning: "номер договора, как в учёте: W-12, Э-0345"
        },
        Column {
            name: AMOUNT,
            required: true,
            meaning: "сумма в рублях: 1234,56 или 1 234.56; больше нуля, не больше двух знаков после запятой",
        },
        Column {
            name: PAID_ON,
            required: true,
            meaning: "дата оплаты: 15.03.2026, 15.03.26, 2026-03-15 или ячейка Excel с датой",
        },
        Column {
            name: PERIOD,
            required: true,
            meaning: "месяц, за который оплата: 2026-03 или 03.2026 (или дата внутри этого месяца)",
        },
        Column {
            name: REFERENCE,
            required: false,
            meaning: "номер платежа из банковской выписки; по нему повторная загрузка не учитывается дважды",
        },
    ],
    row_genitive: "оплаты",
    // A month's statement of a large cooperative has a few thousand.
    max_rows: 10_000,
};

const CONTRACT: &str = "Договор";
const AMOUNT: &str = "Сумма";
const PAID_ON: &str = "Дата оплаты";
const PERIOD: &str = "Период";
const REFERENCE: &str = "Номер платежа";

/// A row that was read whole. `line` is its row number in the file, counting the header as 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRow {
    pub line: usize,
    pub payment: NewPayment,
}

/// A row that could not be read, with the reasons, in Russian.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    pub line: usize,
    pub reason: String,
}

/// What a file holds: readable rows and unreadable ones.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed {
    pub rows: Vec<ImportRow>,
    pub bad: Vec<BadRow>,
}

/// Where a readable row stands against the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Its contract exists and the payment is new: it will be stored.
    Matched,
    /// No contract has this number.
    Unmatched,
    /// Its payment number is on file for another payment (its contract, amount or day differ):
    /// a receipt's number typed in by hand, or another bank's numbering. The number is a
    /// payment's identity, so the file waits for the accountant to fix or drop it.
    NumberTaken { payment_id: i64 },
    /// Its payment number is on an earlier row of the file with another contract, amount or day:
    /// one of the two numbers is wrong.
    NumberTwice { line: usize },
    /// Already stored, or repeats an earlier row of the file: it will be skipped.
    Duplicate(Duplicate),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicate {
    /// A payment with this reference is on file: this one (the same contract, amount and day).
    ReferenceOnFile,
    /// An earlier row of this file has the same reference.
    ReferenceInFile { line: usize },
    /// No reference, and a payment with the same contract, amount and date is on file.
    SamePaymentOnFile,
    /// A bank statement's document of the same amount, ordered or arrived on the row's day or
    /// between, paid this contract or its plot (divided among the plot's contracts, or moved here
    /// since): its payments carry the bank's document instead of a reference to compare.
    SamePaymentFromStatement,
}

impl Status {
    /// The row's state for the preview table.
    pub fn describe(self) -> String {
        match self {
            Status::Matched => "будет внесена".to_owned(),
            Status::Unmatched => "договор не найден".to_owned(),
            Status::Duplicate(Duplicate::ReferenceOnFile) => "уже внесена (номер платежа есть в учёте)".to_owned(),
            Status::NumberTaken { payment_id } => format!(
                "этот номер платежа уже у платежа № {payment_id} с другим договором, суммой или датой — если это \
                 другой платёж, уберите или исправьте номер в файле и загрузите его снова"
            ),
            Status::NumberTwice { line } => format!(
                "этот номер платежа уже в строке {line} с другим договором, суммой или датой — исправьте номер в \
                 файле и загрузите его снова"
            ),
            Status::Duplicate(Duplicate::ReferenceInFile { line }) => {
                format!("повтор: тот же номер платежа в строке {line}")
            }
            Status::Duplicate(Duplicate::SamePaymentOnFile) => {
                "возможный повтор: оплата по этому договору на ту же сумму и дату уже есть в учёте".to_owned()
            }
            Status::Duplicate(Duplicate::SamePaymentFromStatement) => {
                format!(
                    "возможный повтор: оплата этого участка на ту же сумму уже внесена из выписки банка (документ \
                     этого дня или пришедший не позже чем через {} дн.)",
                    DAYS_ON_THE_WAY - 1
                )
            }
        }
    }
}

/// A readable row with its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub row: ImportRow,
    pub status: Status,
}

/// The dry run of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub rows: Vec<Checked>,
    pub bad: Vec<BadRow>,
    matched_total: Kopecks,
}

impl Preview {
    fn count(&self, pred: impl Fn(Status) -> bool) -> usize {
        self.rows.iter().filter(|c| pred(c.status)).count()
    }

    pub fn matched(&self) -> usize {
        self.count(|s| s == Status::Matched)
    }

    pub fn unmatched(&self) -> usize {
        self.count(|s| s == Status::Unmatched)
    }

    pub fn numbers_taken(&self) -> usize {
        self.count(|s| matches!(s, Status::NumberTaken { .. } | Status::NumberTwice { .. }))
    }

    pub fn duplicates(&self) -> usize {
        self.count(|s| matches!(s, Status::Duplicate(_)))
    }

    /// Rows the accountant must fix before the file can be imported.
    pub fn to_fix(&self) -> usize {
        self.bad.len() + self.unmatched() + self.numbers_taken()
    }

    /// The total of the rows that will be stored.
    pub fn matched_total(&self) -> Kopecks {
        self.matched_total
    }

    /// A file is imported whole: only when every row is readable, names a known contract and
    /// carries no other payment's number.
    pub fn can_commit(&self) -> bool {
        self.to_fix() == 0 && self.matched() > 0
    }

    /// The rows to hand to [`commit`] once the user confirms.
    pub fn into_rows(self) -> Vec<ImportRow> {
        self.rows.into_iter().map(|c| c.row).collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentImportError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error(
        "В файле есть строки с ошибками, неизвестными договорами или чужими номерами платежей; исправьте файл и \
         загрузите его снова."
    )]
    NotClean,
    #[error("Оплат в файле больше чем на {}: разделите файл на части.", Kopecks::MAX)]
    TotalTooLarge,
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(PaymentImportError);

impl From<PaymentError> for PaymentImportError {
    fn from(e: PaymentError) -> Self {
        match e {
            PaymentError::Internal(e) => PaymentImportError::Internal(e),
            // Rows are checked in the same transaction, so a refusal here is a bug, not the user's.
            other => PaymentImportError::Internal(Internal(anyhow::anyhow!("import row refused after check: {other}"))),
        }
    }
}

/// What a confirmed import stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    pub stored: usize,
    pub skipped: usize,
    pub total: Kopecks,
}

/// Reads a file (off the async threads) and classifies its rows, writing nothing.
pub async fn preview(ctx: &Context, file_name: &str, bytes: Vec<u8>) -> Result<Preview, PaymentImportError> {
    let name = file_name.to_owned();
    let Parsed { rows, mut bad } = heavy::run(move || read_file(&name, &bytes)).await??;
    // Storing refuses a day still to come; the file is told so on its line, before confirming.
    let today = ctx.today();
    let (rows, ahead): (Vec<ImportRow>, Vec<ImportRow>) = rows.into_iter().partition(|r| r.payment.paid_on <= today);
    bad.extend(
        ahead.iter().map(|r| BadRow { line: r.line, reason: PaymentError::InFuture(r.payment.paid_on).to_string() }),
    );
    bad.sort_by_key(|b| b.line);
    let rows = check(ctx.db.conn(), rows).await?;
    let matched = rows.iter().filter(|c| c.status == Status::Matched).map(|c| c.row.payment.amount);
    let matched_total = Kopecks::try_sum(matched).map_err(|_| PaymentImportError::TotalTooLarge)?;
    Ok(Preview { rows, bad, matched_total })
}

/// Stores the rows of a previewed file in one transaction, skipping those that are duplicates by
/// now. Refuses the whole file if any row names an unknown contract or, by now, another
/// payment's number.
pub async fn commit(
    ctx: &Context,
    file_name: &str,
    rows: Vec<ImportRow>,
    actor: Actor,
) -> Result<Committed, PaymentImportError> {
    let txn = ctx.db.begin_write().await?;
    let checked = check(&txn, rows).await?;
    if checked
        .iter()
        .any(|c| matches!(c.status, Status::Unmatched | Status::NumberTaken { .. } | Status::NumberTwice { .. }))
    {
        return Err(PaymentImportError::NotClean);
    }
    let mut committed = Committed { stored: 0, skipped: 0, total: Kopecks::ZERO };
    for c in checked {
        if c.status == Status::Matched {
            super::insert(&txn, ctx, &c.row.payment, PaymentSource::Import, actor).await?;
            committed.stored += 1;
            committed.total =
                committed.total.checked_add(c.row.payment.amount).map_err(|_| PaymentImportError::TotalTooLarge)?;
        } else {
            committed.skipped += 1;
        }
    }
    let details = json!({"file": file_name, "stored": committed.stored, "skipped": committed.skipped,
                         "total_kopecks": committed.total.get()});
    audit::record(&txn, ctx, actor, "payment.import", "payment", None, details).await?;
    txn.commit().await?;
    crate::metrics::recorded("payment", PaymentSource::Import.code(), committed.stored as u64);
    Ok(committed)
}

/// A bank statement's document, as a register row may bring its money again.
struct StatementDocument {
    amount: Kopecks,
    arrived_on: NaiveDate,
    /// Where its money went: each line's contract, that contract's plot, and the amount (a
    /// share of a plot's payment, or a line moved to another contract since).
    lines: Vec<(i64, i64, Kopecks)>,
    /// Taken by a row already: each document accounts for one row.
    taken: bool,
}

impl StatementDocument {
    /// How surely `amount` to `contract` on `plot` is this document's money, surest first: the
    /// whole of it with a line on the contract, the whole of it to the plot, one of its lines
    /// exactly; none when it is not.
    fn repeats(&self, contract: i64, plot: i64, amount: Kopecks) -> Option<u8> {
        let whole = self.amount == amount;
        if whole && self.lines.iter().any(|&(c, ..)| c == contract) {
            Some(0)
        } else if whole && self.lines.iter().any(|&(_, p, _)| p == plot) {
            Some(1)
        } else {
            self.lines.iter().any(|&(c, _, a)| c == contract && a == amount).then_some(2)
        }
    }
}

/// Statement documents that rows are compared with, each taken by one row at most.
#[derive(Default)]
struct Documents {
    all: Vec<StatementDocument>,
    /// For each day, the documents whose money may have been paid that day: those arriving that
    /// day first, then each later day's, in the order stored within a day.
    by_day: HashMap<NaiveDate, Vec<usize>>,
}

impl Documents {
    /// Adds a document whose money may have been paid on any of `days`.
    fn add(&mut self, document: StatementDocument, days: impl IntoIterator<Item = NaiveDate>) {
        for day in days {
            self.by_day.entry(day).or_default().push(self.all.len());
        }
        self.all.push(document);
    }

    /// Orders each day's documents, nearest arrival first (see [`Documents::by_day`]).
    fn nearest_first(mut self) -> Documents {
        let all = &self.all;
        for of_day in self.by_day.values_mut() {
            of_day.sort_by_key(|&i| (all[i].arrived_on, i));
        }
        self
    }
}

/// The documents bank statements brought whose money rows of `rows` may be, for each day nearest
/// arrival first and then in the order stored (so a preview and its confirmation pair rows and
/// documents alike). A register
/// dates a row the day the member paid, and the money may arrive days later: a document is
/// compared with rows of any day from its order's date to its arrival, as money typed in from a
/// receipt is (`statement::typed_days`). Its payments carry the document instead of a reference,
/// so a row is compared with them by its contents. A line reversed since still counts (the
/// register would bring the same money back); a line moved to another contract keeps its
/// document.
async fn statement_documents_for(conn: &impl ConnectionTrait, rows: &[ImportRow]) -> Result<Documents, DbErr> {
    let named: HashSet<&str> = rows.iter().filter_map(|r| r.payment.reference.as_deref()).collect();
    // A document's lines are dated its arrival: on a row's day or up to the most days later.
    let arrivals: HashSet<NaiveDate> = rows
        .iter()
        .flat_map(|r| (0..DAYS_ON_THE_WAY).filter_map(move |n| r.payment.paid_on.checked_add_days(Days::new(n))))
        .collect();
    let from_statements = payment::Entity::find().filter(payment::Column::BankDocumentId.is_not_null());
    let lines = find_in(conn, from_statements, payment::Column::PaidOn, arrivals).await?;
    let plots: HashMap<i64, i64> =
        find_in(conn, contract::Entity::find(), contract::Column::Id, lines.iter().map(|p| p.contract_id))
            .await?
            .into_iter()
            .map(|c| (c.id, c.plot_id))
            .collect();
    let ids = lines.iter().filter_map(|p| p.bank_document_id);
    let stored: HashMap<i64, bank_document::Model> =
        find_in(conn, bank_document::Entity::find(), bank_document::Column::Id, ids)
            .await?
            .into_iter()
            .map(|d| (d.id, d))
            .collect();
    let mut documents: BTreeMap<i64, StatementDocument> = BTreeMap::new();
    for p in lines {
        let (Some(stored), Some(&plot)) =
            (p.bank_document_id.and_then(|id| stored.get(&id)), plots.get(&p.contract_id))
        else {
            continue;
        };
        let document = documents.entry(stored.id).or_insert_with(|| StatementDocument {
            amount: stored.amount_kopecks,
            arrived_on: stored.arrived_on,
            lines: Vec::new(),
            taken: false,
        });
        document.lines.push((p.contract_id, plot, p.amount_kopecks));
        // A register's payment linked to the document afterwards («Уже внесён») keeps its number:
        // a row naming that number (a repeat on file) accounts for the document.
        document.taken |= p.reference.as_deref().is_some_and(|r| named.contains(r));
    }
    let mut found = Documents::default();
    for (id, document) in documents {
        found.add(document, typed_days(stored[&id].doc_date, stored[&id].arrived_on));
    }
    Ok(found.nearest_first())
}

/// A row as compared with the statements' documents: its day, contract and plot, amount.
type Paid = (NaiveDate, (i64, i64), Kopecks);

/// Which of `rows` repeat a statement's document, each document accounting for one row. Rows are
/// paired at the surest rank first, all of them, then the next: a row that only shares a plot
/// with a document does not take it from a later row whose contract it paid. Within a rank rows
/// go by day (in file order within a day), each taking the document arriving soonest: a row of
/// an earlier day is not left without the one document its day allows because a later day's row
/// came first in the file.
fn pair_with_documents(documents: &mut Documents, rows: &[Option<Paid>]) -> Vec<bool> {
    let mut repeats = vec![false; rows.len()];
    let mut by_day: Vec<usize> = (0..rows.len()).collect();
    by_day.sort_by_key(|&i| rows[i].map(|(day, ..)| day));
    for rank in 0..=2 {
        for &i in &by_day {
            let Some((day, (contract, plot), amount)) = rows[i] else { continue };
            if repeats[i] {
                continue;
            }
            let of_day = documents.by_day.get(&day).map(Vec::as_slice).unwrap_or_default();
            let all = &documents.all;
            let free =
                of_day.iter().copied().find(|&i| !all[i].taken && all[i].repeats(contract, plot, amount) == Some(rank));
            if let Some(taken) = free {
                documents.all[taken].taken = true;
                repeats[i] = true;
            }
        }
    }
    repeats
}

/// Sorts rows into matched, unmatched and duplicates, with one query per kind of lookup (in
/// batches, for a long file).
pub async fn check(conn: &impl ConnectionTrait, rows: Vec<ImportRow>) -> Result<Vec<Checked>, DbErr> {
    let numbers = rows.iter().map(|r| r.payment.contract_number.as_str());
    let contracts: HashMap<String, (i64, i64)> =
        find_in(conn, contract::Entity::find(), contract::Column::Number, numbers)
            .await?
            .into_iter()
            .map(|c| (c.number, (c.id, c.plot_id)))
            .collect();
    let references = rows.iter().filter_map(|r| r.payment.reference.as_deref());
    // Each reference on file with its payment: (id, contract, amount, day).
    let on_file_refs: HashMap<String, (i64, i64, Kopecks, NaiveDate)> =
        find_in(conn, payment::Entity::find(), payment::Column::Reference, references)
            .await?
            .into_iter()
            .filter_map(|p| Some((p.reference?, (p.id, p.contract_id, p.amount_kopecks, p.paid_on))))
            .collect();
    // Payments without a reference are compared by their contents.
    let unreferenced_contracts = rows
        .iter()
        .filter(|r| r.payment.reference.is_none())
        .filter_map(|r| contracts.get(&r.payment.contract_number).map(|&(id, _)| id));
    let on_contracts =
        find_in(conn, payment::Entity::find(), payment::Column::ContractId, unreferenced_contracts).await?;
    // A payment reversed is no money on file (typed by mistake, say, to load the bank's file
    // instead), as a statement leaves it out; its reversal is on the same contract.
    let reversed: HashSet<i64> = on_contracts.iter().filter_map(|p| p.reverses_id).collect();
    let on_file_payments: HashSet<(i64, Kopecks, NaiveDate)> = on_contracts
        .into_iter()
        .filter(|p| p.reverses_id.is_none() && !reversed.contains(&p.id))
        .map(|p| (p.contract_id, p.amount_kopecks, p.paid_on))
        .collect();
    let mut from_statements = statement_documents_for(conn, &rows).await?;

    // First what a row is on its own: an unknown contract, a payment number on file or earlier
    // in the file. The others are compared with the statements' documents, then (without a
    // number) with the payments on file.
    // Each number of the file with its first row: (line, contract, amount, day).
    let mut seen_refs: HashMap<String, (usize, i64, Kopecks, NaiveDate)> = HashMap::new();
    let alone: Vec<Option<Status>> = rows
        .iter()
        .map(|row| match (contracts.get(&row.payment.contract_number), &row.payment.reference) {
            (None, _) => Some(Status::Unmatched),
            (Some(&(contract, _)), Some(reference)) if let Some(&on_file) = on_file_refs.get(reference) => {
                let (id, on_contract, amount, day) = on_file;
                let p = &row.payment;
                if (on_contract, amount, day) == (contract, p.amount, p.paid_on) {
                    Some(Status::Duplicate(Duplicate::ReferenceOnFile))
                } else {
                    Some(Status::NumberTaken { payment_id: id })
                }
            }
            (Some(&(contract, _)), Some(reference)) => {
                let p = &row.payment;
                match seen_refs.get(reference) {
                    Some(&(line, first, amount, day)) if (first, amount, day) == (contract, p.amount, p.paid_on) => {
                        Some(Status::Duplicate(Duplicate::ReferenceInFile { line }))
                    }
                    Some(&(line, ..)) => Some(Status::NumberTwice { line }),
                    None => {
                        seen_refs.insert(reference.clone(), (row.line, contract, p.amount, p.paid_on));
                        None
                    }
                }
            }
            (Some(_), None) => None,
        })
        .collect();
    let paid: Vec<Option<Paid>> = rows
        .iter()
        .zip(&alone)
        .map(|(row, status)| {
            let p = &row.payment;
            let contract = contracts.get(&p.contract_number).filter(|_| status.is_none())?;
            Some((p.paid_on, *contract, p.amount))
        })
        .collect();
    let from_statement = pair_with_documents(&mut from_statements, &paid);
    Ok(rows
        .into_iter()
        .zip(alone)
        .zip(from_statement)
        .map(|((row, alone), from_statement)| {
            let p = &row.payment;
            let on_file = p.reference.is_none()
                && contracts
                    .get(&p.contract_number)
                    .is_some_and(|&(id, _)| on_file_payments.contains(&(id, p.amount, p.paid_on)));
            let status = match alone {
                Some(status) => status,
                None if from_statement => Status::Duplicate(Duplicate::SamePaymentFromStatement),
                None if on_file => Status::Duplicate(Duplicate::SamePaymentOnFile),
                None => Status::Matched,
            };
            Checked { row, status }
        })
        .collect())
}

/// Reads an xlsx workbook (its first sheet) or a CSV file into payments and bad rows.
pub fn read_file(file_name: &str, bytes: &[u8]) -> Result<Parsed, FileError> {
    Ok(parse(&spreadsheet::read(file_name, bytes, &SCHEMA)?))
}

/// Splits a table into payments and bad rows.
fn parse(table: &Table) -> Parsed {
    let mut parsed = Parsed::default();
    for row in table.rows() {
        let line = row.line;
        match payment(row) {
            Ok(payment) => parsed.rows.push(ImportRow { line, payment }),
            Err(problems) => parsed.bad.push(BadRow { line, reason: problems.join("; ") }),
        }
    }
    parsed
}

/// The payment in a row, or every reason it cannot be read.
fn payment(mut row: Row<'_>) -> Result<NewPayment, Vec<String>> {
    let contract_number = row.read(CONTRACT, |c| spreadsheet::required_text(c, TextKind::ContractNumber));
    let amount = row.read(AMOUNT, amount_cell);
    let paid_on = row.read(PAID_ON, spreadsheet::date);
    let period = row.read(PERIOD, spreadsheet::period);
    let reference = row.read(REFERENCE, |c| spreadsheet::optional_text(c, TextKind::PaymentReference));
    match (contract_number, amount, paid_on, period, reference) {
        (Some(contract_number), Some(amount), Some(paid_on), Some(period), Some(reference)) => Ok(NewPayment {
            contract_number,
            amount,
            paid_on,
            for_period: Some(period),
            reference,
            confirm_duplicate: false,
        }),
        _ => Err(row.problems().iter().map(ToString::to_string).collect()),
    }
}

/// A payment's amount: above zero, and no more than a payment can be.
fn amount_cell(cell: &Cell) -> Result<Kopecks, CellError> {
    Ok(spreadsheet::money(cell)?.payment()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::kopecks;
    use domain::money::MoneyError;

    fn text(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }
    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }
    fn header() -> Vec<Cell> {
        ["Договор", "Сумма", "Дата оплаты", "Период", "Номер платежа"].map(text).to_vec()
    }
    fn parse_rows(rows: Vec<Vec<Cell>>) -> Parsed {
        let numbered = rows.into_iter().enumerate().map(|(i, r)| (i + 1, r)).collect();
        parse(&Table::new(numbered, &SCHEMA).unwrap())
    }

    #[test]
    fn amounts_are_positive_and_exact_to_the_kopeck() {
        assert_eq!(amount_cell(&text("1 234,56")), Ok(kopecks!(123_456)));
        assert_eq!(amount_cell(&Cell::Number(19.99)), Ok(kopecks!(1_999)));
        for zero_or_less in [text("0"), Cell::Number(-5.0)] {
            assert_eq!(amount_cell(&zero_or_less).unwrap_err().to_string(), "Сумма должна быть больше нуля.");
        }
        assert_eq!(amount_cell(&Cell::Empty).unwrap_err().to_string(), "Сумма не указана.");
        let ceiling = "Платёж не может быть больше 10\u{202f}000\u{202f}000,00 ₽.";
        for too_large in [text("10 000 000,01"), Cell::Number(1e12)] {
            assert_eq!(amount_cell(&too_large).unwrap_err().to_string(), ceiling);
        }
        assert_eq!(amount_cell(&Cell::Number(1e300)).unwrap_err(), MoneyError::TooLarge.into());
        assert_eq!(amount_cell(&Cell::Number(10_000_000.0)), Ok(Kopecks::PAYMENT_MAX));
    }

    #[test]
    fn a_row_becomes_a_payment() {
        let parsed = parse_rows(vec![
            vec![text("ПЕРИОД"), text(" сумма "), text("Примечание"), text("договор"), text("Дата  оплаты")],
            vec![text("2026-03"), text("100"), text("что угодно"), text("W-1"), text("01.03.2026")],
        ]);
        assert_eq!(parsed.bad, vec![]);
        assert_eq!(
            parsed.rows[0].payment,
            NewPayment {
                contract_number: "W-1".into(),
                amount: kopecks!(10_000),
                paid_on: date(2026, 3, 1),
                for_period: Some(domain::Period::new(2026, 3).unwrap()),
                reference: None,
                confirm_duplicate: false,
            }
        );
        assert_eq!(parsed.rows[0].line, 2);
    }

    #[test]
    fn bad_rows_carry_every_reason() {
        let parsed = parse_rows(vec![
            header(),
            vec![text("W-1"), text("abc"), text("32.13.2026"), text("2026-03"), Cell::Empty],
        ]);
        assert!(parsed.rows.is_empty());
        assert_eq!(parsed.bad.len(), 1);
        assert_eq!(parsed.bad[0].line, 2);
        assert!(parsed.bad[0].reason.starts_with("Сумма: «abc» — не сумма."), "{}", parsed.bad[0].reason);
        assert!(parsed.bad[0].reason.contains("; Дата оплаты: «32.13.2026» — не дата."));
    }

    #[test]
    fn csv_payments_are_read() {
        let csv = "Договор;Сумма;Дата оплаты;Период;Номер платежа\nW-1;\"1 234,56\";15.03.2026;2026-03;П-1\n";
        let parsed = read_file("bank.csv", csv.as_bytes()).unwrap();
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rows[0].payment.amount, kopecks!(123_456));
        assert_eq!(parsed.rows[0].payment.reference.as_deref(), Some("П-1"));
        assert_eq!(read_file("x.csv", b"").unwrap_err(), FileError::Empty);
    }

    /// Two documents of one day: 1 500 ₽ «уч 12» divided E-12 600 / W-12 900, and 600 ₽ to
    /// E-12. Rows «E-12 600» and «E-12 1 500» are both the statement's money, whichever document
    /// was stored first and whichever row comes first; a third row has no document left.
    #[test]
    fn each_row_takes_the_document_it_repeats_most_surely() {
        let day = date(2026, 3, 3);
        let (e12, w12, plot) = (1, 2, 12);
        let make = |i: usize| match i {
            0 => StatementDocument {
                amount: kopecks!(1500_00),
                arrived_on: day,
                lines: vec![(e12, plot, kopecks!(600_00)), (w12, plot, kopecks!(900_00))],
                taken: false,
            },
            _ => StatementDocument {
                amount: kopecks!(600_00),
                arrived_on: day,
                lines: vec![(e12, plot, kopecks!(600_00))],
                taken: false,
            },
        };
        let row = |contract: i64, amount: Kopecks| Some((day, (contract, plot), amount));
        for order in [[0, 1], [1, 0]] {
            let mut documents = Documents::default();
            for document in order.map(make) {
                documents.add(document, [day]);
            }
            let rows = [row(e12, kopecks!(600_00)), row(e12, kopecks!(1500_00)), row(w12, kopecks!(900_00))];
            assert_eq!(pair_with_documents(&mut documents, &rows), [true, true, false], "{order:?}");
        }
    }

    /// E-14 paid 800 ₽ twice: ordered on 07.03 and arrived 10.03, and on 10.03 itself. A register
    /// listing the 10.03 row first still finds both: the 07.03 row, taken first, gets the only
    /// document its day allows.
    #[test]
    fn a_file_in_any_order_pairs_each_row_with_a_document_its_day_allows() {
        let (ordered, arrived) = (date(2026, 3, 7), date(2026, 3, 10));
        let (e14, plot) = (1, 14);
        let paid = |arrived_on| StatementDocument {
            amount: kopecks!(800_00),
            arrived_on,
            lines: vec![(e14, plot, kopecks!(800_00))],
            taken: false,
        };
        let row = |day| Some((day, (e14, plot), kopecks!(800_00)));
        for rows in [[row(arrived), row(ordered)], [row(ordered), row(arrived)]] {
            let mut documents = Documents::default();
            documents.add(paid(arrived), [arrived, date(2026, 3, 9), date(2026, 3, 8), ordered]);
            documents.add(paid(arrived), [arrived]);
            let documents = &mut documents.nearest_first();
            assert_eq!(pair_with_documents(documents, &rows), [true, true], "{rows:?}");
        }
    }

    /// 500 ₽ «уч 12» went wholly to E-12; the register lists a real W-12 500 ₽ of the same day
    /// before E-12's repeat: E-12's row takes the document, W-12's is new.
    #[test]
    fn a_plots_other_contract_does_not_take_the_document_from_the_contract_it_paid() {
        let day = date(2026, 3, 3);
        let (e12, w12, plot) = (1, 2, 12);
        let paid_e12 = StatementDocument {
            amount: kopecks!(500_00),
            arrived_on: day,
            lines: vec![(e12, plot, kopecks!(500_00))],
            taken: false,
        };
        let mut documents = Documents::default();
        documents.add(paid_e12, [day]);
        let rows = [Some((day, (w12, plot), kopecks!(500_00))), None, Some((day, (e12, plot), kopecks!(500_00)))];
        assert_eq!(pair_with_documents(&mut documents, &rows), [false, false, true]);
    }
}
