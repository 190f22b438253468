//! Payments against contracts, entered by hand or imported from the bank's spreadsheet, and
//! listed for the office (filtered and paged in SQL: they grow without bound).

pub mod import;

use chrono::NaiveDate;
use domain::money::MoneyError;
use domain::{Kopecks, PaymentSource, Period, TextKind, TooLong};
use entities::{contract, payment};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, NotSet, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

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
    /// The billing period it pays for.
    pub period: Period,
    /// Bank or receipt reference; a reference already on file is refused.
    pub reference: Option<String>,
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
    let number = TextKind::ContractNumber.bounded(&new.contract_number)?;
    let contract = contract_by_number(conn, &number).await?.ok_or(PaymentError::UnknownContract(number))?;
    let reference = TextKind::PaymentReference.optional(new.reference.as_deref())?;
    if let Some(reference) = &reference
        && payment::Entity::find().filter(payment::Column::Reference.eq(reference)).one(conn).await?.is_some()
    {
        return Err(PaymentError::DuplicateReference(reference.clone()));
    }
    let model = payment::ActiveModel {
        id: NotSet,
        contract_id: Set(contract.id),
        amount_kopecks: Set(new.amount),
        paid_on: Set(new.paid_on),
        period: Set(new.period),
        reference: Set(reference),
        staff_id: Set(actor.staff_id()),
        source: Set(source),
        created_at: Set(ctx.now()),
    }
    .insert(conn)
    .await?;
    audit::record(
        conn,
        ctx,
        actor,
        "payment.add",
        "payment",
        Some(model.id),
        json!({"contract": contract.number, "amount_kopecks": new.amount.get(), "period": new.period, "source": source.code()}),
    )
    .await?;
    Ok(model)
}

/// Records a payment entered by hand.
pub async fn record(ctx: &Context, new: NewPayment, actor: Actor) -> Result<payment::Model, PaymentError> {
    let txn = ctx.db.begin_write().await?;
    let payment = insert(&txn, ctx, &new, PaymentSource::Panel, actor).await?;
    txn.commit().await?;
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
    Ok(payments
        .into_iter()
        .filter_map(|payment| Some(PaymentRow { contract: contracts.get(&payment.contract_id)?.clone(), payment }))
        .collect())
}
