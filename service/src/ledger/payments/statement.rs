//! Loading the bank's own statement (1CClientBankExchange), beside the spreadsheet import and in
//! the same two steps.
//!
//! [`preview`] reads the file (bounded, on a heavy-work thread: `bank::statement`), matches each
//! incoming document to contracts (`bank::purpose`: our QR purpose, contract number, «л/с», plot,
//! a remembered payer account, the payer's name), divides a plot's payment that names no service
//! among its contracts (`bank::purpose::split`: oldest debt first, the rest to electricity), and
//! says which documents are already loaded; it writes nothing. [`commit`] stores every new
//! document once by its identity, posts the matched ones as payments (source «Выписка банка»,
//! `paid_on` = the day the money arrived) and leaves the others waiting in «Разобрать» — all in
//! one transaction. [`resolve`] posts a waiting document to the contracts the accountant chose,
//! and may remember them for the payer's account.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::LazyLock;

use bank::purpose::{Candidates, ContractCandidate, ContractDebt, Payment, Verdict};
use bank::statement::{self, Document, StatementError};
use chrono::{Days, NaiveDate};
use domain::{Kopecks, PaymentSource, Period, Service, TextKind};
use entities::{bank_document, charge, contract, payer_account, payment};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, NotSet, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::import::PaymentImportError;
use super::{NewPayment, PaymentError};
use crate::audit::{self, Actor};
use crate::db::find_in;
use crate::error::internal_errors;
use crate::payee::qr::PayError;
use crate::register::cards::contract_refs;
use crate::{Context, Internal, dates, heavy, payee};

/// The largest statement accepted, checked before anything else is done with it.
pub const MAX_FILE_BYTES: usize = statement::MAX_FILE_BYTES;
/// The most contracts one document may be divided among in «Разобрать».
pub const MAX_SHARES: usize = 10;

const POSTED: &str = "posted";
const REVIEW: &str = "review";
/// Set aside in «Разобрать»: money that came, but no payment for services.
const OTHER: &str = "other";

/// One incoming document of the statement and what loading it does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRow {
    /// The line of its `СекцияДокумент`.
    pub line: usize,
    pub identity_key: String,
    pub account: String,
    pub number: String,
    pub date: NaiveDate,
    pub arrived_on: NaiveDate,
    pub amount: Kopecks,
    pub payer: String,
    pub payer_account: String,
    pub purpose: String,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Posted to these contracts: one, or a plot's contracts with the split.
    Post {
        why: String,
        shares: Vec<Share>,
        /// Every contract the document pointed at (one left without a share too), id and number:
        /// confirming looks again for its money typed in by hand meanwhile.
        #[serde(default)]
        matched: Vec<(i64, String)>,
    },
    /// Stored and left for the accountant in «Разобрать», with why.
    Review { reason: String },
    /// Its identity is on file: loading adds nothing.
    AlreadyLoaded,
}

/// A contract's part of a payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    pub contract_id: i64,
    pub contract_number: String,
    pub amount: Kopecks,
}

impl Outcome {
    /// The outcome for the preview table, in Russian.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Post { why, shares, .. } if shares.len() > 1 => {
                format!("будет внесена, {why}, разделена по долгам")
            }
            Outcome::Post { why, .. } => format!("будет внесена, {why}"),
            Outcome::Review { reason } => reason.clone(),
            Outcome::AlreadyLoaded => "уже загружен".to_owned(),
        }
    }
}

/// A document that is not a payment to the cooperative, or not one to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub line: usize,
    pub number: String,
    pub reason: String,
}

/// The dry run of loading a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementPreview {
    pub account: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub documents: Vec<DocumentRow>,
    pub skipped: Vec<Skipped>,
    /// Documents that cannot be read, with the line and why.
    pub invalid: Vec<(usize, String)>,
    posted_total: Kopecks,
}

impl StatementPreview {
    fn count(&self, pred: impl Fn(&Outcome) -> bool) -> usize {
        self.documents.iter().filter(|d| pred(&d.outcome)).count()
    }

    pub fn to_post(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Post { .. }))
    }

    pub fn to_review(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Review { .. }))
    }

    pub fn already_loaded(&self) -> usize {
        self.count(|o| *o == Outcome::AlreadyLoaded)
    }

    /// The total of the documents that will be posted.
    pub fn posted_total(&self) -> Kopecks {
        self.posted_total
    }

    /// A statement is loaded whole: only when every document is readable, and there is something new.
    pub fn can_commit(&self) -> bool {
        self.invalid.is_empty() && self.to_post() + self.to_review() > 0
    }

    /// The new documents, for [`commit`] once the accountant confirms.
    pub fn into_rows(self) -> Vec<DocumentRow> {
        self.documents.into_iter().filter(|d| d.outcome != Outcome::AlreadyLoaded).collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StatementImportError {
    #[error("Файл больше {} МБ — это не выписка за разумный срок. Выгрузите выписку за месяц или квартал.", MAX_FILE_BYTES >> 20)]
    TooLarge,
    #[error(transparent)]
    File(#[from] StatementError),
    #[error(
        "Реквизиты СНТ ещё не заданы: без расчётного счёта не понять, какие платежи пришли на счёт СНТ. \
         Администратор задаёт их на странице «Реквизиты»."
    )]
    NoDetails,
    /// The details on file fail their own check (edited in the database by hand).
    #[error(
        "Сохранённые реквизиты СНТ не проходят проверку — администратору нужно сохранить их заново на странице \
         «Реквизиты»."
    )]
    BrokenDetails,
    #[error("Это выписка по счёту {found}, а расчётный счёт СНТ — {ours}. Выгрузите выписку по счёту СНТ.")]
    OtherAccount { found: String, ours: String },
    #[error("В выписке есть документы, которые не читаются: выгрузите её из банка заново.")]
    NotClean,
    #[error(transparent)]
    Import(#[from] PaymentImportError),
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(StatementImportError);

impl From<PayError> for StatementImportError {
    fn from(e: PayError) -> Self {
        match e {
            PayError::NoDetails => StatementImportError::NoDetails,
            PayError::Internal(e) => StatementImportError::Internal(e),
            _ => StatementImportError::BrokenDetails,
        }
    }
}

impl From<PaymentError> for StatementImportError {
    fn from(e: PaymentError) -> Self {
        StatementImportError::Import(e.into())
    }
}

/// What a confirmed statement stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    pub posted: usize,
    pub total: Kopecks,
    pub to_review: usize,
    pub already_loaded: usize,
}

/// Reads a statement and shows what loading it would do, writing nothing.
pub async fn preview(ctx: &Context, file_name: &str, bytes: Vec<u8>) -> Result<StatementPreview, StatementImportError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(StatementImportError::TooLarge);
    }
    let conn = ctx.db.conn();
    let ours = payee::details::current(conn).await?.account().as_str().to_owned();
    let (contracts, remembered) = (candidates(conn).await?, remembered(conn).await?);
    let numbers: HashMap<i64, String> = contracts.iter().map(|c| (c.id, c.number.clone())).collect();
    tracing::debug!(file_name, bytes = bytes.len(), "statement preview");
    // Reading and matching both cost CPU in proportion to the file: one heavy job.
    let (statement, verdicts) = heavy::run(move || {
        let statement = statement::parse(&bytes)?;
        let index = Candidates::new(contracts, remembered);
        let verdicts: Vec<Verdict> =
            statement.incoming.iter().map(|d| index.match_payment(&Payment::from(d))).collect();
        Ok::<_, StatementError>((statement, verdicts))
    })
    .await??;
    if !statement.accounts.contains(&ours) {
        return Err(StatementImportError::OtherAccount { found: statement.accounts.join(", "), ours });
    }

    let keys: Vec<String> = statement.incoming.iter().map(|d| d.identity().key()).collect();
    let on_file = loaded_keys(conn, keys.iter().cloned()).await?;
    let days = statement.incoming.iter().flat_map(|d| typed_days(d.date, d.arrived_on()));
    let by_hand = entered_by_hand(conn, days).await?;
    let mut debts = Debts::default();
    let mut documents = Vec::with_capacity(statement.incoming.len());
    let mut invalid: Vec<(usize, String)> = statement.invalid.iter().map(|i| (i.line, i.reason.clone())).collect();
    let mut skipped: Vec<Skipped> = statement
        .skipped
        .iter()
        .map(|s| Skipped { line: s.line, number: s.number.clone(), reason: s.reason.to_string() })
        .collect();
    for ((document, verdict), key) in statement.incoming.iter().zip(verdicts).zip(keys) {
        // A statement of several accounts (a special account for target contributions beside
        // the settlement one) also lists money that is not members' payments for services.
        if document.payee_account != ours {
            let reason = format!("поступление на другой счёт СНТ ({}), не на расчётный счёт", document.payee_account);
            skipped.push(Skipped { line: document.line, number: document.number.clone(), reason });
            continue;
        }
        if let Err(reason) = arrival_in_bounds(ctx, document) {
            invalid.push((document.line, reason));
            continue;
        }
        let outcome = if on_file.contains(&key) {
            Outcome::AlreadyLoaded
        } else {
            match verdict {
                Verdict::Matched(m) => {
                    match by_hand.seen(&m.contracts, document.amount, typed_days(document.date, document.arrived_on()))
                    {
                        // The accountant typed it from the bank app before the statement came:
                        // posting it again would book the money twice.
                        Some(entered) => Outcome::Review { reason: typed_by_hand(&entered) },
                        None => {
                            let shares = debts.shares(conn, document.amount, &m.contracts).await?;
                            let matched = m.contracts.iter().filter_map(|c| Some((*c, numbers.get(c)?.clone())));
                            let matched = matched.collect();
                            Outcome::Post { why: m.why.to_string(), shares: numbered(conn, shares).await?, matched }
                        }
                    }
                }
                Verdict::Review(review) => Outcome::Review { reason: review.to_string() },
            }
        };
        documents.push(row(document, key, outcome));
    }
    skipped.sort_by_key(|s| s.line);
    let posted = documents.iter().filter(|d| matches!(d.outcome, Outcome::Post { .. })).map(|d| d.amount);
    let posted_total = Kopecks::try_sum(posted).map_err(|_| PaymentImportError::TotalTooLarge)?;
    Ok(StatementPreview {
        account: ours,
        from: statement.from,
        to: statement.to,
        documents,
        skipped,
        invalid,
        posted_total,
    })
}

/// A payment counts on the day it arrived, which must be a day the books can hold and not a
/// future one.
fn arrival_in_bounds(ctx: &Context, document: &Document) -> Result<(), String> {
    let arrived = document.arrived_on();
    dates::check(arrived).map_err(|e| e.to_string())?;
    if arrived > ctx.today() {
        return Err(PaymentError::InFuture(arrived).to_string());
    }
    Ok(())
}

fn row(document: &Document, identity_key: String, outcome: Outcome) -> DocumentRow {
    DocumentRow {
        line: document.line,
        identity_key,
        account: document.payee_account.clone(),
        number: document.number.clone(),
        date: document.date,
        arrived_on: document.arrived_on(),
        amount: document.amount,
        payer: document.payer.clone(),
        payer_account: document.payer_account.clone(),
        purpose: document.purpose.clone(),
        outcome,
    }
}

/// Stores a previewed statement in one transaction: every new document once, the matched ones
/// posted, the others waiting in «Разобрать». A document loaded meanwhile is skipped.
pub async fn commit(
    ctx: &Context,
    file_name: &str,
    rows: Vec<DocumentRow>,
    actor: Actor,
) -> Result<Committed, StatementImportError> {
    let txn = ctx.db.begin_write().await?;
    let on_file = loaded_keys(&txn, rows.iter().map(|r| r.identity_key.clone())).await?;
    let by_hand = entered_by_hand(&txn, rows.iter().flat_map(|r| typed_days(r.date, r.arrived_on))).await?;
    let mut committed = Committed { posted: 0, total: Kopecks::ZERO, to_review: 0, already_loaded: 0 };
    for mut row in rows {
        if on_file.contains(&row.identity_key) || row.outcome == Outcome::AlreadyLoaded {
            committed.already_loaded += 1;
            continue;
        }
        // Typed from the bank app while the preview waited: to «Разобрать», as the preview
        // would have sent it.
        if let Outcome::Post { shares, matched, .. } = &row.outcome {
            let shared = shares.iter().map(|s| (s.contract_id, s.contract_number.clone()));
            // A preview stored before `matched` was kept has its shares.
            let pointed: Vec<(i64, String)> = if matched.is_empty() { shared.collect() } else { matched.clone() };
            let contracts: Vec<i64> = pointed.iter().map(|(c, _)| *c).collect();
            if let Some(entered) = by_hand.seen(&contracts, row.amount, typed_days(row.date, row.arrived_on)) {
                row.outcome = Outcome::Review { reason: typed_by_hand(&entered) };
            }
        }
        let (status, reason) = match &row.outcome {
            Outcome::Review { reason } => (REVIEW, Some(reason.clone())),
            _ => (POSTED, None),
        };
        let document = bank_document::ActiveModel {
            id: NotSet,
            identity_key: Set(row.identity_key.clone()),
            account: Set(row.account.clone()),
            doc_date: Set(row.date),
            number: Set(row.number.clone()),
            amount_kopecks: Set(row.amount),
            payer_account: Set(row.payer_account.clone()),
            payer: Set(row.payer.clone()),
            purpose: Set(row.purpose.clone()),
            arrived_on: Set(row.arrived_on),
            status: Set(status.to_owned()),
            review_reason: Set(reason),
            file_name: Set(file_name.to_owned()),
            staff_id: Set(actor.staff_id()),
            created_at: Set(ctx.now()),
            resolved_by: Set(None),
            resolved_at: Set(None),
            resolution_note: Set(None),
        }
        .insert(&txn)
        .await?;
        match row.outcome {
            Outcome::Post { shares, .. } => {
                let shares = shares.into_iter().map(|s| (s.contract_number, s.amount)).collect();
                post(&txn, ctx, &document, shares, actor).await?;
                committed.posted += 1;
                committed.total =
                    committed.total.checked_add(row.amount).map_err(|_| PaymentImportError::TotalTooLarge)?;
            }
            _ => committed.to_review += 1,
        }
    }
    let details = json!({"file": file_name, "posted": committed.posted, "to_review": committed.to_review,
                         "already_loaded": committed.already_loaded, "total_kopecks": committed.total.get()});
    audit::record(&txn, ctx, actor, "payment.statement", "bank_document", None, details).await?;
    txn.commit().await?;
    Ok(committed)
}

/// Posts a stored document's money as payments to `shares` (contract number, amount), each
/// pointing at the document.
async fn post(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    document: &bank_document::Model,
    shares: Vec<(String, Kopecks)>,
    actor: Actor,
) -> Result<(), PaymentError> {
    for (contract_number, amount) in shares {
        let new = NewPayment {
            contract_number,
            amount,
            paid_on: document.arrived_on,
            for_period: None,
            reference: None,
            confirm_duplicate: false,
        };
        let payment = super::insert(conn, ctx, &new, PaymentSource::BankStatement, actor).await?;
        payment::Entity::update_many()
            .col_expr(payment::Column::BankDocumentId, Expr::value(document.id))
            .filter(payment::Column::Id.eq(payment.id))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// Why a document waits in «Разобрать» when its money seems typed in already.
fn typed_by_hand(entered: &Entered) -> String {
    let marked = if entered.marked() {
        " (отмечен кнопкой «Уже внесён» как деньги другого документа)"
    } else {
        ""
    };
    format!("Разобрать: похоже, уже внесён вручную — {entered}{marked}")
}

/// Payments typed in (by hand or from a register, not by a statement) on the days a statement's
/// money may have been typed in on (see [`typed_days`]), not reversed, each with its contract, by
/// day and plot; and every contract's plot, for the documents' contracts. Those «Уже внесён»
/// marked as another document's money count too: a mark made by mistake must not let this
/// money in unasked.
struct ByHand {
    typed: HashMap<(NaiveDate, i64), Vec<(payment::Model, contract::Model)>>,
    plot_of: HashMap<i64, i64>,
}

impl ByHand {
    /// What seems to be a document's money on the plots of `contracts` (the plot's other
    /// contract too) on one of `days`: the first of what «Разобрать» would offer (see
    /// [`entered_among`]), else of what posting there would ask about.
    fn seen(&self, contracts: &[i64], amount: Kopecks, days: Vec<NaiveDate>) -> Option<Entered> {
        let plots: BTreeSet<i64> = contracts.iter().filter_map(|c| self.plot_of.get(c).copied()).collect();
        let among = |which: Typed| {
            days.iter().find_map(|day| {
                let of_day = plots.iter().filter_map(|plot| self.typed.get(&(*day, *plot))).flatten();
                let of_day = of_day.filter(|(p, _)| which == Typed::AlsoMarked || p.bank_document_id.is_none());
                entered_among(of_day.cloned(), amount).into_iter().next()
            })
        };
        among(Typed::Free).or_else(|| among(Typed::AlsoMarked))
    }
}

async fn entered_by_hand(
    conn: &impl ConnectionTrait,
    days: impl IntoIterator<Item = NaiveDate>,
) -> Result<ByHand, DbErr> {
    let mut typed: HashMap<(NaiveDate, i64), Vec<_>> = HashMap::new();
    for (payment, contract) in typed_in(conn, days).await? {
        typed.entry((payment.paid_on, contract.plot_id)).or_default().push((payment, contract));
    }
    let plot_of = contract::Entity::find().all(conn).await?.into_iter().map(|c| (c.id, c.plot_id)).collect();
    Ok(ByHand { typed, plot_of })
}

/// The payments typed in (by hand or from a register) on `days`, neither a reversal nor
/// reversed, each with its contract, in the order entered: those holding no bank document, and
/// those «Уже внесён» marked as a document's money (see [`marked_entered`]).
async fn typed_in(
    conn: &impl ConnectionTrait,
    days: impl IntoIterator<Item = NaiveDate>,
) -> Result<Vec<(payment::Model, contract::Model)>, DbErr> {
    let days: HashSet<NaiveDate> = days.into_iter().collect();
    let typed = payment::Entity::find().filter(payment::Column::Source.ne(PaymentSource::BankStatement));
    let mut of_days = find_in(conn, typed, payment::Column::PaidOn, days).await?;
    of_days.retain(|p| p.reverses_id.is_none() && p.amount_kopecks.is_positive());
    // A statement's payment moved to another contract is a line of its own holding the document:
    // the statement's money, not typed in.
    let held: HashSet<i64> = of_days.iter().filter_map(|p| p.bank_document_id).collect();
    let posted: HashSet<i64> = find_in(conn, payment::Entity::find(), payment::Column::BankDocumentId, held)
        .await?
        .into_iter()
        .filter(|p| p.source == PaymentSource::BankStatement)
        .filter_map(|p| p.bank_document_id)
        .collect();
    of_days.retain(|p| p.bank_document_id.is_none_or(|document| !posted.contains(&document)));
    // Found in batches of days: in the order entered again, as parts are preferred earliest.
    of_days.sort_by_key(|p| p.id);
    let ids = of_days.iter().map(|p| p.id);
    let reversed: HashSet<i64> = find_in(conn, payment::Entity::find(), payment::Column::ReversesId, ids)
        .await?
        .into_iter()
        .filter_map(|r| r.reverses_id)
        .collect();
    let contracts: HashMap<i64, contract::Model> =
        find_in(conn, contract::Entity::find(), contract::Column::Id, of_days.iter().map(|p| p.contract_id))
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
    Ok(of_days
        .into_iter()
        .filter(|p| !reversed.contains(&p.id))
        .filter_map(|p| {
            let contract = contracts.get(&p.contract_id)?.clone();
            Some((p, contract))
        })
        .collect())
}

/// Of payments of one day, what may be a document of `amount`: each of the whole amount, then on
/// each plot the fewest adding up to it (1 500 ₽ «уч 12» typed as 600 ₽ for water and 900 ₽ for
/// electricity, beside another 400 ₽ of that day); never parts from two plots.
fn entered_among(typed: impl Iterator<Item = (payment::Model, contract::Model)>, amount: Kopecks) -> Vec<Entered> {
    let typed: Vec<_> = typed.collect();
    let mut found: Vec<Entered> =
        typed.iter().filter(|(p, _)| p.amount_kopecks == amount).map(|one| Entered(vec![one.clone()])).collect();
    let mut plots: BTreeMap<i64, Vec<(payment::Model, contract::Model)>> = BTreeMap::new();
    for one in typed {
        plots.entry(one.1.plot_id).or_default().push(one);
    }
    for of_plot in plots.into_values() {
        let amounts: Vec<Kopecks> = of_plot.iter().map(|(p, _)| p.amount_kopecks).collect();
        if let Some(parts) = parts_adding_up(&amounts, amount) {
            found.push(Entered(parts.into_iter().map(|i| of_plot[i].clone()).collect()));
        }
    }
    found
}

/// Payments of one plot and day searched for parts, at most: 2¹² sums, and a member does not pay
/// a dozen times a day.
const MAX_PARTS_SEARCHED: usize = 12;

/// Every set of two or more of [`MAX_PARTS_SEARCHED`] payments, as bits, in the order parts are
/// preferred: the fewest first, and among as few the earliest (the lowest bits first, as the
/// highest reversed). Sorted once.
static PART_SETS: LazyLock<Vec<u16>> = LazyLock::new(|| {
    let mut sets: Vec<u16> = (1u16..1 << MAX_PARTS_SEARCHED).filter(|set| set.count_ones() > 1).collect();
    sets.sort_by_key(|set| (set.count_ones(), std::cmp::Reverse(set.reverse_bits())));
    sets
});

/// The indices of the fewest `amounts` (two or more) adding up to `amount`, the earliest first
/// among as few; none when the first [`MAX_PARTS_SEARCHED`] have no such parts.
fn parts_adding_up(amounts: &[Kopecks], amount: Kopecks) -> Option<Vec<usize>> {
    let amounts = &amounts[..amounts.len().min(MAX_PARTS_SEARCHED)];
    // Each is a payment (up to 10⁹ kopecks): a dozen cannot overflow an i64.
    let total: i64 = amounts.iter().map(|a| a.get()).sum();
    if amounts.len() < 2 || total < amount.get() {
        return None;
    }
    let present = (1u16 << amounts.len()) - 1;
    let set = PART_SETS.iter().filter(|&&set| set & !present == 0).find(|&&set| {
        let sum: i64 = (0..amounts.len()).filter(|i| set & (1 << i) != 0).map(|i| amounts[i].get()).sum();
        sum == amount.get()
    })?;
    Some((0..amounts.len()).filter(|i| set & (1 << i) != 0).collect())
}

/// The identities among `keys` already on file.
async fn loaded_keys(
    conn: &impl ConnectionTrait,
    keys: impl IntoIterator<Item = String>,
) -> Result<HashSet<String>, DbErr> {
    let found = find_in(conn, bank_document::Entity::find(), bank_document::Column::IdentityKey, keys).await?;
    Ok(found.into_iter().map(|d| d.identity_key).collect())
}

/// The open contracts, as the matcher sees them.
async fn candidates(conn: &impl ConnectionTrait) -> Result<Vec<ContractCandidate>, DbErr> {
    let open = contract::Entity::find().filter(contract::Column::ClosedOn.is_null()).all(conn).await?;
    // The common meters' contracts are the cooperative's own: nobody pays for them.
    let common = crate::network::line_contracts(conn).await?;
    let mut refs = contract_refs(conn, open.iter().map(|c| c.id).filter(|id| !common.contains(id))).await?;
    let mut found: Vec<ContractCandidate> = refs
        .drain()
        .map(|(id, r)| ContractCandidate {
            id,
            number: r.contract.number,
            service: r.contract.service,
            plot: r.plot_number,
            consumer_id: r.contract.consumer_id,
            consumer_name: r.consumer_name,
        })
        .collect();
    found.sort_by_key(|c| c.id);
    Ok(found)
}

/// Payer accounts and the contracts the accountant chose for them.
async fn remembered(conn: &impl ConnectionTrait) -> Result<Vec<(String, i64)>, DbErr> {
    let rows = payer_account::Entity::find().order_by_asc(payer_account::Column::Id).all(conn).await?;
    Ok(rows.into_iter().map(|r| (r.payer_account, r.contract_id)).collect())
}

/// A payer account no longer remembered, and the contracts it had been remembered for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgottenAccount {
    pub account: String,
    pub contract_ids: Vec<i64>,
}

/// Forgets the payer account of document `document_id`, a statement's own, when it was
/// remembered for `contract_id`: the money moved off that contract, so what «Запомнить» chose
/// may be the mistake being corrected. All its contracts go, not that one alone: what is left of
/// a split, or of two plots, would take the next payment unasked. That payment then waits in
/// «Разобрать» unless its purpose names a contract or plot. A document «Уже внесён» marked was
/// placed by whoever typed its payment in, not by a remembered account: nothing is forgotten.
pub(super) async fn forget_payer_account(
    conn: &impl ConnectionTrait,
    document_id: i64,
    contract_id: i64,
) -> Result<Option<ForgottenAccount>, DbErr> {
    if marked_entered(conn, document_id).await?.is_some() {
        return Ok(None);
    }
    let Some(document) = document(conn, document_id).await? else { return Ok(None) };
    let of_account = payer_account::Column::PayerAccount.eq(&document.payer_account);
    let remembered = payer_account::Entity::find().filter(of_account).all(conn).await?;
    if !remembered.iter().any(|r| r.contract_id == contract_id) {
        return Ok(None);
    }
    let contract_ids = super::payer_accounts::forget_in(conn, &document.payer_account).await?;
    Ok(Some(ForgottenAccount { account: document.payer_account, contract_ids }))
}

/// What each contract still owes, loaded once per contract and reduced by what this statement
/// has already given it (a payment to it alone, or a share), so the payments for one plot are
/// divided as they would be in turn.
#[derive(Default)]
struct Debts {
    loaded: HashMap<i64, ContractDebt>,
    /// Given by this statement to contracts whose debts are not loaded yet.
    given: HashMap<i64, Kopecks>,
}

impl Debts {
    /// How `amount` is divided among `contracts` (one: all of it).
    async fn shares(
        &mut self,
        conn: &impl ConnectionTrait,
        amount: Kopecks,
        contracts: &[i64],
    ) -> Result<Vec<(i64, Kopecks)>, StatementImportError> {
        let shares = match contracts {
            [one] => vec![(*one, amount)],
            _ => {
                let missing: Vec<i64> = contracts.iter().copied().filter(|id| !self.loaded.contains_key(id)).collect();
                for debt in unpaid(conn, &missing).await? {
                    let given = self.given.remove(&debt.contract).unwrap_or(Kopecks::ZERO);
                    self.loaded
                        .insert(debt.contract, ContractDebt::unpaid(debt.contract, debt.service, debt.debts, given)?);
                }
                let debts: Vec<ContractDebt> = contracts.iter().filter_map(|id| self.loaded.get(id).cloned()).collect();
                bank::purpose::split(amount, &debts)?
            }
        };
        for &(contract, share) in &shares {
            match self.loaded.get_mut(&contract) {
                Some(debt) => *debt = ContractDebt::unpaid(debt.contract, debt.service, debt.debts.clone(), share)?,
                None => {
                    let given = self.given.entry(contract).or_insert(Kopecks::ZERO);
                    *given = given.checked_add(share)?;
                }
            }
        }
        Ok(shares)
    }
}

/// What `contracts` still owe, month by month (the month a charge is for).
async fn unpaid(conn: &impl ConnectionTrait, contracts: &[i64]) -> Result<Vec<ContractDebt>, StatementImportError> {
    let services: HashMap<i64, Service> =
        find_in(conn, contract::Entity::find(), contract::Column::Id, contracts.iter().copied())
            .await?
            .into_iter()
            .map(|c| (c.id, c.service))
            .collect();
    let mut charged: HashMap<i64, HashMap<Period, Kopecks>> = HashMap::new();
    for c in find_in(conn, charge::Entity::find(), charge::Column::ContractId, contracts.iter().copied()).await? {
        let month = charged.entry(c.contract_id).or_default().entry(c.for_period).or_insert(Kopecks::ZERO);
        *month = month.checked_add(c.amount_kopecks)?;
    }
    let mut paid: HashMap<i64, Kopecks> = HashMap::new();
    for p in find_in(conn, payment::Entity::find(), payment::Column::ContractId, contracts.iter().copied()).await? {
        let sum = paid.entry(p.contract_id).or_insert(Kopecks::ZERO);
        *sum = sum.checked_add(p.amount_kopecks)?;
    }
    let mut debts = Vec::new();
    for id in contracts {
        let Some(service) = services.get(id) else { continue };
        let months = charged.remove(id).unwrap_or_default().into_iter().collect();
        let paid = paid.get(id).copied().unwrap_or(Kopecks::ZERO);
        debts.push(ContractDebt::unpaid(*id, *service, months, paid)?);
    }
    Ok(debts)
}

/// Shares with their contracts' numbers.
async fn numbered(conn: &impl ConnectionTrait, shares: Vec<(i64, Kopecks)>) -> Result<Vec<Share>, DbErr> {
    let numbers: HashMap<i64, String> =
        find_in(conn, contract::Entity::find(), contract::Column::Id, shares.iter().map(|(id, _)| *id))
            .await?
            .into_iter()
            .map(|c| (c.id, c.number))
            .collect();
    Ok(shares
        .into_iter()
        .filter_map(|(contract_id, amount)| {
            Some(Share { contract_id, contract_number: numbers.get(&contract_id)?.clone(), amount })
        })
        .collect())
}

/// The documents waiting in «Разобрать», oldest first.
pub async fn waiting(conn: &impl ConnectionTrait) -> Result<Vec<bank_document::Model>, DbErr> {
    bank_document::Entity::find()
        .filter(bank_document::Column::Status.eq(REVIEW))
        .order_by_asc(bank_document::Column::ArrivedOn)
        .order_by_asc(bank_document::Column::Id)
        .all(conn)
        .await
}

/// One stored bank document.
pub async fn document(conn: &impl ConnectionTrait, id: i64) -> Result<Option<bank_document::Model>, DbErr> {
    bank_document::Entity::find_by_id(id).one(conn).await
}

/// The contract and amount the accountant chose for part of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub contract_number: String,
    pub amount: Kopecks,
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("Этот платёж уже разобран или не найден.")]
    NotWaiting,
    #[error("Укажите договор и сумму.")]
    NoChoice,
    #[error("Платёж можно разделить не больше чем на {MAX_SHARES} договоров.")]
    TooManyShares,
    #[error("Договор № {0} указан дважды.")]
    SameContractTwice(String),
    #[error("Суммы по договорам ({chosen}) должны в точности составить сумму платежа ({amount}).")]
    SumMismatch { chosen: Kopecks, amount: Kopecks },
    #[error(
        "Похоже, эти деньги уже внесены: {0}. Отметьте документ кнопкой «Уже внесён» или, если это другой \
         платёж, поставьте «Это другой платёж» и внесите снова."
    )]
    EnteredAlready(Entered),
    #[error(
        "Похоже, эти деньги уже внесены: {entered}; платёж № {payment} кнопкой «Уже внесён» отмечен как деньги \
         документа {document}.{besides} Если это деньги этого документа, отвяжите платёж от того («Отвязать \
         документ» на странице платежа) и отметьте здесь; если это другой платёж, поставьте «Это другой платёж» и \
         внесите снова."
    )]
    MarkedForAnother { entered: Entered, payment: i64, document: String, besides: String },
    #[error(
        "Платёж № {0} не подходит к этому документу: нужен внесённый не из выписки в день от даты поручения до \
         поступления, на ту же сумму или частью её."
    )]
    NotTheSamePayment(i64),
    #[error("Платёж № {0} не отмечен кнопкой «Уже внесён» как деньги документа выписки: отвязывать нечего.")]
    NotLinked(i64),
    #[error("Укажите, что это за деньги.")]
    NoNote,
    #[error("Этот документ не отложен как «Не оплата за услуги»: возвращать нечего.")]
    NotSetAside,
    #[error(transparent)]
    Text(#[from] domain::TooLong),
    #[error(transparent)]
    Payment(#[from] PaymentError),
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(ResolveError);

/// The document `id`, if it waits in «Разобрать».
async fn waiting_document(conn: &impl ConnectionTrait, id: i64) -> Result<bank_document::Model, ResolveError> {
    let found =
        bank_document::Entity::find_by_id(id).filter(bank_document::Column::Status.eq(REVIEW)).one(conn).await?;
    found.ok_or(ResolveError::NotWaiting)
}

/// A document dealt with waits in «Разобрать» again: no longer resolved, nor set aside.
fn back_to_review(document: bank_document::Model) -> bank_document::ActiveModel {
    let mut waiting: bank_document::ActiveModel = document.into();
    waiting.status = Set(REVIEW.to_owned());
    waiting.resolution_note = Set(None);
    waiting.resolved_by = Set(None);
    waiting.resolved_at = Set(None);
    waiting
}

/// A waiting document is dealt with: by whom and when.
async fn mark_resolved(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    document: bank_document::Model,
    actor: Actor,
) -> Result<(), DbErr> {
    let mut resolved: bank_document::ActiveModel = document.into();
    resolved.status = Set(POSTED.to_owned());
    resolved.resolved_by = Set(actor.staff_id());
    resolved.resolved_at = Set(Some(ctx.now()));
    resolved.update(conn).await.map(drop)
}

/// Payments on file that may be a waiting document's money entered already (by hand or from a
/// register): one of its amount, or a plot's parts adding up to it; each with its contract.
#[derive(Debug, Clone)]
pub struct Entered(Vec<(payment::Model, contract::Model)>);

impl Entered {
    fn holds(&self, payment_id: i64) -> bool {
        self.0.iter().any(|(p, _)| p.id == payment_id)
    }

    /// One of them is marked «Уже внесён» as a document's money.
    fn marked(&self) -> bool {
        self.0.iter().any(|(p, _)| p.bank_document_id.is_some())
    }

    /// The payment that stands for them all in a form: the first.
    pub fn first_id(&self) -> Option<i64> {
        self.0.first().map(|(p, _)| p.id)
    }
}

impl std::fmt::Display for Entered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let day = self.0.first().map(|(p, _)| p.paid_on.format("%d.%m.%Y").to_string()).unwrap_or_default();
        let each = |(p, c): &(payment::Model, contract::Model)| {
            format!("платёж № {} — {} по договору № {}", p.id, p.amount_kopecks, c.number)
        };
        match &self.0[..] {
            [one] => write!(f, "{} от {day}", each(one)),
            parts => write!(f, "частями от {day}: {}", parts.iter().map(each).collect::<Vec<_>>().join(", ")),
        }
    }
}

/// What a waiting document's money may be among the payments entered already: not from a
/// statement, not reversed, holding no other document, of a day it may have been typed in on (see
/// `typed_days`, the latest first); each of its amount, then on each plot the fewest adding up to
/// it, as confirming a statement finds them. These «Уже внесён» offers and links.
pub async fn entered_already(
    conn: &impl ConnectionTrait,
    document: &bank_document::Model,
) -> Result<Vec<Entered>, DbErr> {
    entered_for(conn, document, Typed::Free).await
}

/// What posting a waiting document asks about first (see [`resolve`]): the payments
/// [`entered_already`] finds, and those «Уже внесён» marked as another document's money.
pub async fn entered_or_marked(
    conn: &impl ConnectionTrait,
    document: &bank_document::Model,
) -> Result<Vec<Entered>, DbErr> {
    entered_for(conn, document, Typed::AlsoMarked).await
}

/// Which typed-in payments a document's money is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Typed {
    /// Those holding no document: what «Уже внесён» may link.
    Free,
    /// Those too that «Уже внесён» marked as another document's money: what posting asks about.
    AlsoMarked,
}

async fn entered_for(
    conn: &impl ConnectionTrait,
    document: &bank_document::Model,
    which: Typed,
) -> Result<Vec<Entered>, DbErr> {
    let days = typed_days(document.doc_date, document.arrived_on);
    let mut by_day: HashMap<NaiveDate, Vec<_>> = HashMap::new();
    for typed in typed_in(conn, days.iter().copied()).await? {
        let held = typed.0.bank_document_id;
        // A payment this document holds is its own money, not a question about it.
        if held != Some(document.id) && (which == Typed::AlsoMarked || held.is_none()) {
            by_day.entry(typed.0.paid_on).or_default().push(typed);
        }
    }
    let amount = document.amount_kopecks;
    Ok(days
        .iter()
        .filter_map(|day| by_day.remove(day))
        .flat_map(|typed| entered_among(typed.into_iter(), amount))
        .collect())
}

/// The most days a document's money may have been on its way, counted with the day it arrived:
/// a payment ordered on 31 December may arrive on 12 January, after the New Year holidays.
pub(super) const DAYS_ON_THE_WAY: u64 = 15;

/// The days a document's money may have been typed in on, the latest first: from the day it
/// arrived back to the day the payer's bank took the order (`date`, the day on the member's
/// receipt), at most [`DAYS_ON_THE_WAY`] of them.
pub(super) fn typed_days(date: NaiveDate, arrived_on: NaiveDate) -> Vec<NaiveDate> {
    let back = u64::try_from((arrived_on - date).num_days()).unwrap_or(0).min(DAYS_ON_THE_WAY - 1);
    (0..=back).filter_map(|n| arrived_on.checked_sub_days(Days::new(n))).collect()
}

/// Marks a document waiting in «Разобрать» as the money of the payments entered already that
/// `payment_id` is one of (see [`entered_already`]): they get the document, nothing new is booked.
pub async fn link_entered(ctx: &Context, document_id: i64, payment_id: i64, actor: Actor) -> Result<(), ResolveError> {
    let txn = ctx.db.begin_write().await?;
    let document = waiting_document(&txn, document_id).await?;
    let candidates = entered_already(&txn, &document).await?;
    let Some(entered) = candidates.into_iter().find(|e| e.holds(payment_id)) else {
        // Marked as another document's money meanwhile, say so rather than that it does not fit.
        let marked = entered_or_marked(&txn, &document).await?.into_iter().find(|e| e.holds(payment_id));
        return Err(match marked {
            Some(marked) => marked_elsewhere(&txn, marked, None).await?,
            None => ResolveError::NotTheSamePayment(payment_id),
        });
    };
    let ids: Vec<i64> = entered.0.iter().map(|(p, _)| p.id).collect();
    payment::Entity::update_many()
        .col_expr(payment::Column::BankDocumentId, Expr::value(document.id))
        .filter(payment::Column::Id.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    mark_resolved(&txn, ctx, document, actor).await?;
    let contracts: Vec<i64> = entered.0.iter().map(|(p, _)| p.contract_id).collect();
    let details = json!({"payment_ids": ids, "contract_ids": contracts});
    audit::record(&txn, ctx, actor, "bank_document.entered_already", "bank_document", Some(document_id), details)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Sets a document waiting in «Разобрать» aside as no payment for services, in the accountant's
/// words (`note`): membership fees or target contributions to the same account, a bank's register
/// total whose rows came in the register's own file, bank interest. Nothing is booked; the
/// document stays stored, so the statement loaded again adds nothing.
pub async fn set_aside(ctx: &Context, document_id: i64, note: &str, actor: Actor) -> Result<(), ResolveError> {
    let note = TextKind::Reason.bounded(note)?;
    if note.is_empty() {
        return Err(ResolveError::NoNote);
    }
    let txn = ctx.db.begin_write().await?;
    let document = waiting_document(&txn, document_id).await?;
    let mut aside: bank_document::ActiveModel = document.into();
    aside.status = Set(OTHER.to_owned());
    aside.resolution_note = Set(Some(note.clone()));
    aside.resolved_by = Set(actor.staff_id());
    aside.resolved_at = Set(Some(ctx.now()));
    aside.update(&txn).await?;
    audit::record(
        &txn,
        ctx,
        actor,
        "bank_document.set_aside",
        "bank_document",
        Some(document_id),
        json!({"note": note}),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Whether `document` waits in «Разобрать» for the accountant's choice.
pub fn waits(document: &bank_document::Model) -> bool {
    document.status == REVIEW
}

/// The payments holding bank document `document_id`, in the order entered: the lines a statement
/// or «Разобрать» posted (and where they moved), or those «Уже внесён» marked as its money.
pub async fn holders(conn: &impl ConnectionTrait, document_id: i64) -> Result<Vec<payment::Model>, DbErr> {
    payment::Entity::find()
        .filter(payment::Column::BankDocumentId.eq(document_id))
        .order_by_asc(payment::Column::Id)
        .all(conn)
        .await
}

/// What the accountant wrote when setting `document` aside as no payment for services; None
/// when it is not set aside.
pub fn set_aside_note(document: &bank_document::Model) -> Option<&str> {
    (document.status == OTHER).then(|| document.resolution_note.as_deref().unwrap_or(""))
}

/// The documents set aside as no payment for services, the latest first, at most `limit`:
/// «Разобрать» lists them, so one set aside by mistake is found and returned.
pub async fn set_aside_latest(conn: &impl ConnectionTrait, limit: u64) -> Result<Vec<bank_document::Model>, DbErr> {
    bank_document::Entity::find()
        .filter(bank_document::Column::Status.eq(OTHER))
        .order_by_desc(bank_document::Column::ResolvedAt)
        .order_by_desc(bank_document::Column::Id)
        .limit(limit)
        .all(conn)
        .await
}

/// Returns a document set aside by mistake (a member's payment taken for a membership fee) to
/// «Разобрать». Nothing was booked for it, so only the mark goes; the note stays in the audit log.
pub async fn return_set_aside(
    ctx: &Context,
    document_id: i64,
    actor: Actor,
) -> Result<bank_document::Model, ResolveError> {
    let txn = ctx.db.begin_write().await?;
    let found = bank_document::Entity::find_by_id(document_id)
        .filter(bank_document::Column::Status.eq(OTHER))
        .one(&txn)
        .await?;
    let document = found.ok_or(ResolveError::NotSetAside)?;
    let note = document.resolution_note.clone();
    let document = back_to_review(document).update(&txn).await?;
    audit::record(
        &txn,
        ctx,
        actor,
        "bank_document.returned",
        "bank_document",
        Some(document_id),
        json!({"note": note}),
    )
    .await?;
    txn.commit().await?;
    Ok(document)
}

/// The payments holding bank document `document_id` when «Уже внесён» marked it (the one marked
/// and, once moved, the line it moved to); None when a statement posted it (its own lines hold
/// it) or nothing holds it.
pub async fn marked_entered(conn: &impl ConnectionTrait, document_id: i64) -> Result<Option<Vec<i64>>, DbErr> {
    let holders = holders(conn, document_id).await?;
    let posted = holders.iter().any(|p| p.source == PaymentSource::BankStatement);
    Ok((!holders.is_empty() && !posted).then(|| holders.iter().map(|p| p.id).collect()))
}

/// Undoes «Уже внесён» for the document `payment_id` was marked as: the document waits in
/// «Разобрать» again and its payments (this one and, once moved, the line it moved to) let it
/// go; no money line changes. A document a statement posted holds its own lines and is not
/// undone here: those are reversed or moved.
pub async fn unlink_entered(
    ctx: &Context,
    payment_id: i64,
    actor: Actor,
) -> Result<bank_document::Model, ResolveError> {
    let txn = ctx.db.begin_write().await?;
    let payment = payment::Entity::find_by_id(payment_id).one(&txn).await?;
    let document_id = payment.and_then(|p| p.bank_document_id).ok_or(ResolveError::NotLinked(payment_id))?;
    let released = marked_entered(&txn, document_id).await?.ok_or(ResolveError::NotLinked(payment_id))?;
    let document = bank_document::Entity::find_by_id(document_id).one(&txn).await?;
    let document = document.ok_or(ResolveError::NotLinked(payment_id))?;
    payment::Entity::update_many()
        .col_expr(payment::Column::BankDocumentId, Expr::value(Option::<i64>::None))
        .filter(payment::Column::BankDocumentId.eq(document_id))
        .exec(&txn)
        .await?;
    let document = back_to_review(document).update(&txn).await?;
    let details = json!({"payment_id": payment_id, "released": released});
    audit::record(&txn, ctx, actor, "bank_document.entered_unlinked", "bank_document", Some(document_id), details)
        .await?;
    txn.commit().await?;
    Ok(document)
}

/// The refusal for `entered` when «Уже внесён» marked one of its payments as another document's
/// money: that payment and document are named, and `free` money of the amount beside it.
async fn marked_elsewhere(
    conn: &impl ConnectionTrait,
    entered: Entered,
    free: Option<Entered>,
) -> Result<ResolveError, DbErr> {
    let Some((payment, held)) = entered.0.iter().find_map(|(p, _)| Some((p.id, p.bank_document_id?))) else {
        return Ok(ResolveError::EnteredAlready(entered));
    };
    let document = bank_document::Entity::find_by_id(held).one(conn).await?;
    let document = document.map(|d| format!("№ {} от {}", d.number, d.doc_date.format("%d.%m.%Y")));
    let besides = free.map(|free| format!(" На ту же сумму внесён и {free}: если это он, отметьте документ им."));
    Ok(ResolveError::MarkedForAnother {
        entered,
        payment,
        document: document.unwrap_or_default(),
        besides: besides.unwrap_or_default(),
    })
}

/// Posts a document waiting in «Разобрать» to the chosen contracts (the amounts adding up to
/// the document's), and with `remember` matches that payer account to them next time. Refused
/// when its money seems entered already on a chosen contract's plot (on that contract or the
/// plot's other one, as a statement's plot payment is matched), also by a payment «Уже внесён»
/// marked as another document's money, unless `other_payment` says it is another payment.
pub async fn resolve(
    ctx: &Context,
    document_id: i64,
    choices: Vec<Choice>,
    remember: bool,
    other_payment: bool,
    actor: Actor,
) -> Result<(), ResolveError> {
    if choices.is_empty() {
        return Err(ResolveError::NoChoice);
    }
    if choices.len() > MAX_SHARES {
        return Err(ResolveError::TooManyShares);
    }
    let mut seen = HashSet::new();
    for choice in &choices {
        if !seen.insert(choice.contract_number.trim()) {
            return Err(ResolveError::SameContractTwice(choice.contract_number.trim().to_owned()));
        }
    }
    let txn = ctx.db.begin_write().await?;
    let document = waiting_document(&txn, document_id).await?;
    // Each amount is a bounded payment, and at most ten of them: the sum cannot overflow, but it
    // is checked all the same.
    let chosen = Kopecks::try_sum(choices.iter().map(|c| c.amount))?;
    if chosen != document.amount_kopecks {
        return Err(ResolveError::SumMismatch { chosen, amount: document.amount_kopecks });
    }
    if !other_payment {
        let mut plots = HashSet::new();
        for choice in &choices {
            plots.extend(super::contract_by_number(&txn, &choice.contract_number).await?.map(|c| c.plot_id));
        }
        let on_plots = |e: &Entered| e.0.iter().any(|(_, c)| plots.contains(&c.plot_id));
        let free = entered_already(&txn, &document).await?.into_iter().find(on_plots);
        let marked = entered_or_marked(&txn, &document).await?.into_iter().filter(Entered::marked).find(on_plots);
        // Both are named when both are there: «Это другой платёж» answers for everything shown.
        match (free, marked) {
            (None, None) => {}
            (Some(free), None) => return Err(ResolveError::EnteredAlready(free)),
            (free, Some(marked)) => return Err(marked_elsewhere(&txn, marked, free).await?),
        }
    }
    let shares = choices.iter().map(|c| (c.contract_number.clone(), c.amount)).collect();
    post(&txn, ctx, &document, shares, actor).await?;
    let remembered = remember && !document.payer_account.is_empty();
    if remembered {
        for choice in &choices {
            let Some(contract) = super::contract_by_number(&txn, &choice.contract_number).await? else { continue };
            let known = payer_account::Entity::find()
                .filter(payer_account::Column::PayerAccount.eq(&document.payer_account))
                .filter(payer_account::Column::ContractId.eq(contract.id))
                .one(&txn)
                .await?;
            if known.is_none() {
                payer_account::ActiveModel {
                    id: NotSet,
                    payer_account: Set(document.payer_account.clone()),
                    contract_id: Set(contract.id),
                    staff_id: Set(actor.staff_id()),
                    created_at: Set(ctx.now()),
                }
                .insert(&txn)
                .await?;
            }
        }
    }
    let shares: Vec<_> =
        choices.iter().map(|c| json!({"contract": c.contract_number, "amount_kopecks": c.amount.get()})).collect();
    let details = json!({"shares": shares, "remembered_account": remembered.then_some(&document.payer_account)});
    mark_resolved(&txn, ctx, document, actor).await?;
    audit::record(&txn, ctx, actor, "bank_document.resolve", "bank_document", Some(document_id), details).await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fewest_earliest_parts_adding_up_are_found() {
        let parts = |amounts: &[i64], amount: i64| {
            let amounts: Vec<Kopecks> = amounts.iter().map(|&a| Kopecks::new(a).unwrap()).collect();
            parts_adding_up(&amounts, Kopecks::new(amount).unwrap())
        };
        assert_eq!(parts(&[600, 900, 400], 1500), Some(vec![0, 1]));
        assert_eq!(parts(&[600, 400, 900], 1500), Some(vec![0, 2]), "beside another payment of the day");
        assert_eq!(parts(&[500, 500, 500], 1000), Some(vec![0, 1]), "the earliest");
        assert_eq!(parts(&[700, 100, 200, 500], 800), Some(vec![0, 1]), "two before three");
        assert_eq!(parts(&[100, 200, 500], 800), Some(vec![0, 1, 2]));
        assert_eq!(parts(&[1500], 1500), None, "one payment is not parts");
        assert_eq!(parts(&[600, 800], 1500), None);
        // Only the first dozen are searched: 2¹² sums, whatever the day brought.
        let many = [1; 40];
        assert_eq!(parts(&many, 13), None);
        assert_eq!(parts(&many, 12), Some((0..12).collect()));
    }
}
