//! Payments against contracts, entered by hand or imported from the bank's spreadsheet.

pub mod import;

use chrono::NaiveDate;
use domain::money::MoneyError;
use domain::{Kopecks, PaymentSource, Period, TextKind, TooLong};
use entities::{contract, payment};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, NotSet, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Actor};
use crate::dates::{self, DateError};
use crate::error::internal_errors;
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
    let ctx2 = ctx.clone();
    ctx.db.write(move |txn| Box::pin(async move { insert(txn, &ctx2, &new, PaymentSource::Panel, actor).await })).await
}
