//! Payments against contracts, entered by hand, through the API or imported from the bank's
//! spreadsheet, and listed for the office (filtered and paged in SQL: they grow without bound).
//! A payment is booked in the month the money arrived (`paid_on`, or the first open month after
//! it); the month the payer said it is for is kept as information. Paying more than is owed
//! leaves a credit (аванс) carried forward: nothing special is booked.

pub mod import;
pub mod notices;
pub mod payer_accounts;
pub mod reversal;
pub mod statement;

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use domain::money::MoneyError;
use domain::{Kopecks, PaymentSource, Period, TextKind, TooLong};
use entities::{bank_document, contract, payment};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, NotSet, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{lines, months};
use crate::audit::{self, Actor};
use crate::dates::{self, DateError};
use crate::error::internal_errors;
use crate::paging::{Paged, fetch_page};
use crate::register::cards::{ContractRef, contract_refs};
use crate::{Context, Internal};

/// A payment as entered (serializable, so an import can wait in the session for confirmation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPayment {
    pub contract_number: String,
    pub amount: Kopecks,
    pub paid_on: NaiveDate,
    /// The month the payer said it is for; none means the month of `paid_on`.
    pub for_period: Option<Period>,
    /// Bank or receipt reference; a reference already on file is refused.
    pub reference: Option<String>,
    /// Entered again on purpose although a payment of the same contract, amount and day is on
    /// file (the panel's «Всё равно внести», the API's `confirm_duplicate`).
    #[serde(default)]
    pub confirm_duplicate: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("Договор № {0} не найден.")]
    UnknownContract(String),
    #[error(transparent)]
    Amount(#[from] MoneyError),
    #[error(transparent)]
    PaidOn(#[from] DateError),
    #[error("Платёж с номером «{0}» уже внесён.")]
    DuplicateReference(String),
    #[error("Дата оплаты {} ещё не наступила: платёж вносится в день, когда деньги пришли.", .0.format("%d.%m.%Y"))]
    InFuture(NaiveDate),
    #[error("Такой платёж уже внесён: {found}. Внести ещё один?")]
    PossibleDuplicate { found: String },
    #[error(transparent)]
    Text(#[from] TooLong),
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(PaymentError);

pub async fn contract_by_number(conn: &impl ConnectionTrait, number: &str) -> Result<Option<contract::Model>, DbErr> {
    contract::Entity::find().filter(contract::Column::Number.eq(number.trim())).one(conn).await
}

/// Records one payment inside an open transaction (shared by manual entry and imports).
pub async fn insert(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    new: &NewPayment,
    source: PaymentSource,
    actor: Actor,
) -> Result<payment::Model, PaymentError> {
    new.amount.payment()?;
    dates::check(new.paid_on)?;
    if new.paid_on > ctx.today() {
        return Err(PaymentError::InFuture(new.paid_on));
    }
    let number = TextKind::ContractNumber.bounded(&new.contract_number)?;
    let contract = contract_by_number(conn, &number).await?.ok_or(PaymentError::UnknownContract(number))?;
    let reference = TextKind::PaymentReference.optional(new.reference.as_deref())?;
    if let Some(reference) = &reference
        && payment::Entity::find().filter(payment::Column::Reference.eq(reference)).one(conn).await?.is_some()
    {
        return Err(PaymentError::DuplicateReference(reference.clone()));
    }
    // Typed twice by hand (or sent twice) without a reference: ask before counting it twice.
    // A bank document is told from another by its identity, not by its contents.
    if !matches!(source, PaymentSource::Import | PaymentSource::BankStatement)
        && !new.confirm_duplicate
        && let Some(found) = same_payment(conn, &contract, new).await?
    {
        return Err(PaymentError::PossibleDuplicate { found });
    }
    let closed = months::closed_months(conn).await?;
    let period = closed.booking_period(new.paid_on);
    lines::check_open(closed, period).map_err(Internal::from)?;
    let for_period = new.for_period.unwrap_or(Period::of(new.paid_on));
    let line = payment::ActiveModel {
        id: NotSet,
        contract_id: Set(contract.id),
        amount_kopecks: Set(new.amount),
        paid_on: Set(new.paid_on),
        period: Set(period),
        for_period: Set(for_period),
        reference: Set(reference),
        staff_id: Set(actor.staff_id()),
        source: Set(source),
        created_at: Set(ctx.now()),
        reverses_id: Set(None),
        bank_document_id: NotSet,
        reason: Set(None),
    };
    let model = post(conn, ctx, line).await?;
    audit::record(
        conn,
        ctx,
        actor,
        "payment.add",
        "payment",
        Some(model.id),
        json!({"contract": contract.number, "amount_kopecks": new.amount.get(), "paid_on": new.paid_on,
               "period": period, "for_period": for_period, "source": source.code()}),
    )
    .await?;
    Ok(model)
}

/// Writes one payment line — entered, imported, a reversal or a transfer: every posting passes
/// here, so each queues its notice to the consumer in the same transaction.
async fn post(conn: &impl ConnectionTrait, ctx: &Context, line: payment::ActiveModel) -> Result<payment::Model, DbErr> {
    let model = line.insert(conn).await?;
    notices::queue(conn, ctx, &model).await?;
    Ok(model)
}

/// What on file seems to be `new` already, in words: a payment of the same contract, amount and
/// day, or a bank document posted on the contract's plot of at least that amount whose money may
/// have been typed in on that day (the day on the member's receipt, up to the day it arrived: see
/// `statement::typed_days`). The statement may have divided «уч 12» between its water and
/// electricity, or booked it all to one of them, and the accountant types it in whole or in parts.
pub async fn same_payment(
    conn: &impl ConnectionTrait,
    contract: &contract::Model,
    new: &NewPayment,
) -> Result<Option<String>, DbErr> {
    let day = new.paid_on.format("%d.%m.%Y");
    let found = payment::Entity::find()
        .filter(payment::Column::ContractId.eq(contract.id))
        .filter(payment::Column::AmountKopecks.eq(new.amount))
        .filter(payment::Column::PaidOn.eq(new.paid_on))
        .one(conn)
        .await?;
    if found.is_some() {
        return Ok(Some(format!("{} от {day} по договору № {}", new.amount, contract.number)));
    }
    let plot = contract::Entity::find().filter(contract::Column::PlotId.eq(contract.plot_id));
    // A statement's payment is dated the day its money arrived, on the typed day or after it.
    let last_arrival = new.paid_on.checked_add_days(Days::new(statement::DAYS_ON_THE_WAY - 1)).unwrap_or(new.paid_on);
    let on_plot = payment::Entity::find()
        .filter(payment::Column::ContractId.in_subquery(plot.select_only().column(contract::Column::Id).into_query()))
        .filter(payment::Column::PaidOn.between(new.paid_on, last_arrival))
        .filter(payment::Column::BankDocumentId.is_not_null())
        .all(conn)
        .await?;
    let documents = on_plot.iter().filter_map(|p| p.bank_document_id);
    let documents =
        crate::db::find_in(conn, bank_document::Entity::find(), bank_document::Column::Id, documents).await?;
    Ok(documents
        .into_iter()
        .filter(|d| statement::typed_days(d.doc_date, d.arrived_on).contains(&new.paid_on))
        .find(|d| d.amount_kopecks >= new.amount)
        .map(|d| {
            let arrived = d.arrived_on.format("%d.%m.%Y");
            format!("{} от {arrived} документом выписки № {} на договоры этого участка", d.amount_kopecks, d.number)
        }))
}

/// Records a payment entered by hand.
pub async fn record(ctx: &Context, new: NewPayment, actor: Actor) -> Result<payment::Model, PaymentError> {
    record_from(ctx, new, PaymentSource::Panel, actor).await
}

/// Records one payment from `source` (the panel's form or the API).
pub async fn record_from(
    ctx: &Context,
    new: NewPayment,
    source: PaymentSource,
    actor: Actor,
) -> Result<payment::Model, PaymentError> {
    let txn = ctx.db.begin_write().await?;
    let payment = insert(&txn, ctx, &new, source, actor).await?;
    txn.commit().await?;
    crate::metrics::recorded("payment", source.code(), 1);
    Ok(payment)
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
    /// The line that reversed it, when it was reversed (сторно).
    pub reversed_by: Option<i64>,
}

/// Payments matching `filter`, latest payment date first.
pub async fn list(
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
    Ok(Paged { items: rows(conn, items).await?, total, page, per_page })
}

/// Adds contracts to payments.
pub async fn rows(conn: &impl ConnectionTrait, payments: Vec<payment::Model>) -> Result<Vec<PaymentRow>, DbErr> {
    let contracts = contract_refs(conn, payments.iter().map(|p| p.contract_id)).await?;
    let reversals: HashMap<i64, i64> = payment::Entity::find()
        .select_only()
        .column(payment::Column::ReversesId)
        .column(payment::Column::Id)
        .filter(payment::Column::ReversesId.is_in(payments.iter().map(|p| p.id)))
        .into_tuple::<(i64, i64)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    Ok(payments
        .into_iter()
        .filter_map(|payment| {
            let contract = contracts.get(&payment.contract_id)?.clone();
            Some(PaymentRow { contract, reversed_by: reversals.get(&payment.id).copied(), payment })
        })
        .collect())
}
