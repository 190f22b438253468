//! Reversal (сторно) of a payment, and moving a payment to another contract.
//!
//! A reported month is never rewritten: a mistaken payment stays where it was booked, and its
//! reversal is a new, negative payment line dated today, booked in the open month, pointing at it
//! (`reverses_id`, unique: an original is reversed once, even by two people at once). Moving a
//! payment to the right contract is a reversal plus a new payment on the other contract, both
//! dated the day the money arrived and booked in the same month (that day's, or the first open
//! one after it), in one transaction: each month's payments still add up to the bank's. Both need
//! a reason and are audited.

use domain::{Kopecks, PaymentSource, TextKind, TooLong};
use entities::payment;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, NotSet, QueryFilter, SqlErr,
};
use serde_json::json;

use super::{NewPayment, PaymentError, contract_by_number, insert, post, statement};
use crate::audit::{self, Actor};
use crate::error::internal_errors;
use crate::ledger::{lines, months};
use crate::{Context, Internal};

#[derive(Debug, thiserror::Error)]
pub enum ReversalError {
    #[error("Платёж не найден.")]
    NotFound,
    #[error("Укажите причину.")]
    NoReason,
    #[error("Платёж № {0} уже сторнирован.")]
    AlreadyReversed(i64),
    #[error("Это строка сторно: её не сторнируют. Если она ошибочна, внесите платёж заново.")]
    IsReversal,
    #[error("Платёж уже учтён на договоре № {0}.")]
    SameContract(String),
    #[error(
        "Платёж № {payment} отмечен кнопкой «Уже внесён» как деньги документа № {document} из выписки банка \
         (его держат платежи № {held}): если его сторнировать, деньги этого документа не будут учтены нигде. \
         Внесён не на тот договор — перенесите его на другой договор. Иначе сначала нажмите «Отвязать документ»: \
         документ вернётся в «Разобрать», а платежи № {held} останутся как есть; затем сторнируйте платёж и \
         разберите документ с учётом тех, что останутся."
    )]
    HoldsDocument { payment: i64, document: String, held: String },
    #[error(transparent)]
    Text(#[from] TooLong),
    #[error(transparent)]
    Payment(PaymentError),
    #[error(transparent)]
    Internal(#[from] Internal),
}

internal_errors!(ReversalError);

impl From<PaymentError> for ReversalError {
    fn from(e: PaymentError) -> Self {
        match e {
            PaymentError::Internal(e) => ReversalError::Internal(e),
            e => ReversalError::Payment(e),
        }
    }
}

/// The reversal of payment `payment_id`, if it has been reversed.
pub async fn reversal_of(conn: &impl ConnectionTrait, payment_id: i64) -> Result<Option<payment::Model>, DbErr> {
    payment::Entity::find().filter(payment::Column::ReversesId.eq(payment_id)).one(conn).await
}

/// Reverses payment `payment_id` for `reason`; returns the reversal line.
pub async fn reverse(
    ctx: &Context,
    payment_id: i64,
    reason: &str,
    source: PaymentSource,
    actor: Actor,
) -> Result<payment::Model, ReversalError> {
    let reason = required_reason(reason)?;
    let txn = ctx.db.begin_write().await?;
    let (original, reversal) = reverse_in(&txn, ctx, payment_id, Dated::Today, &reason, source, actor).await?;
    audit::record(
        &txn,
        ctx,
        actor,
        "payment.reverse",
        "payment",
        Some(original.id),
        json!({"reversal_id": reversal.id, "amount_kopecks": reversal.amount_kopecks.get(), "reason": reason}),
    )
    .await?;
    txn.commit().await?;
    Ok(reversal)
}

/// A payment moved to another contract.
#[derive(Debug)]
pub struct Moved {
    pub reversal: payment::Model,
    pub moved: payment::Model,
    /// The payer account no longer remembered, as it was remembered for the contract the money left.
    pub forgotten_account: Option<statement::ForgottenAccount>,
}

/// Moves payment `payment_id` to contract `to_contract`: its reversal and the same amount paid
/// on the same day to the other contract. A bank document's payer account remembered for the
/// contract the money left is forgotten (see `statement::forget_payer_account`).
pub async fn transfer(
    ctx: &Context,
    payment_id: i64,
    to_contract: &str,
    reason: &str,
    source: PaymentSource,
    actor: Actor,
) -> Result<Moved, ReversalError> {
    let reason = required_reason(reason)?;
    let number = TextKind::ContractNumber.bounded(to_contract)?;
    let txn = ctx.db.begin_write().await?;
    let target = contract_by_number(&txn, &number).await?.ok_or(PaymentError::UnknownContract(number))?;
    let (original, reversal) = reverse_in(&txn, ctx, payment_id, Dated::AsArrived, &reason, source, actor).await?;
    if original.contract_id == target.id {
        return Err(ReversalError::SameContract(target.number));
    }
    // The money arrived when it arrived: the new line keeps the day (booked in the first open
    // month when that day's month is closed). It is the same money, so no duplicate question;
    // the bank reference stays on the original, where a re-imported file finds it, and the
    // bank's document goes with the money, where a register naming the new contract finds it.
    let moved = NewPayment {
        contract_number: target.number.clone(),
        amount: original.amount_kopecks,
        paid_on: original.paid_on,
        for_period: Some(original.for_period),
        reference: None,
        confirm_duplicate: true,
    };
    let moved = insert(&txn, ctx, &moved, source, actor).await?;
    let note =
        format!("Перенесён с договора платёж № {} от {}: {reason}", original.id, original.paid_on.format("%d.%m.%Y"));
    let mut row: payment::ActiveModel = moved.into();
    row.reason = Set(Some(note));
    row.bank_document_id = Set(original.bank_document_id);
    let moved = row.update(&txn).await?;
    let forgotten_account = match original.bank_document_id {
        Some(document_id) => statement::forget_payer_account(&txn, document_id, original.contract_id).await?,
        None => None,
    };
    audit::record(
        &txn,
        ctx,
        actor,
        "payment.transfer",
        "payment",
        Some(original.id),
        json!({"reversal_id": reversal.id, "new_payment_id": moved.id, "to_contract": target.number,
               "amount_kopecks": original.amount_kopecks.get(), "reason": reason,
               "forgotten_account": forgotten_account.as_ref().map(|f| &f.account),
               "forgotten_for_contracts": forgotten_account.as_ref().map(|f| &f.contract_ids)}),
    )
    .await?;
    txn.commit().await?;
    Ok(Moved { reversal, moved, forgotten_account })
}

/// Money taken back that «Уже внесён» marked as a bank document's would leave that document
/// dealt with and its money booked nowhere; the accountant unlinks it first and decides anew.
/// Moved to another contract, the document goes with the money.
async fn refuse_holding_marked_document(
    conn: &impl ConnectionTrait,
    original: &payment::Model,
) -> Result<(), ReversalError> {
    let Some(document_id) = original.bank_document_id else { return Ok(()) };
    let Some(held) = statement::marked_entered(conn, document_id).await? else { return Ok(()) };
    let document = statement::document(conn, document_id).await?;
    let document = document.ok_or_else(|| DbErr::RecordNotFound(format!("bank document {document_id}")))?;
    let held = held.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    Err(ReversalError::HoldsDocument { payment: original.id, document: document.number, held })
}

fn required_reason(reason: &str) -> Result<String, ReversalError> {
    let reason = TextKind::Reason.bounded(reason)?;
    if reason.is_empty() { Err(ReversalError::NoReason) } else { Ok(reason) }
}

/// The day a reversal is dated, and so the month it counts in.
enum Dated {
    /// The money is taken back now: in today's month.
    Today,
    /// The money was never this contract's (it moves to another): on the day it arrived, in the
    /// month the moved line counts in. Reversed today, a payment of 28 March moved on 2 April
    /// while March is open would count twice in March and minus once in April.
    AsArrived,
}

/// Writes the reversal of `payment_id` inside an open transaction; returns the original and it.
async fn reverse_in(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    payment_id: i64,
    dated: Dated,
    reason: &str,
    source: PaymentSource,
    actor: Actor,
) -> Result<(payment::Model, payment::Model), ReversalError> {
    let original = payment::Entity::find_by_id(payment_id).one(conn).await?.ok_or(ReversalError::NotFound)?;
    if original.reverses_id.is_some() {
        return Err(ReversalError::IsReversal);
    }
    if reversal_of(conn, original.id).await?.is_some() {
        return Err(ReversalError::AlreadyReversed(original.id));
    }
    if let Dated::Today = dated {
        refuse_holding_marked_document(conn, &original).await?;
    }
    // Only a real payment is reversed, and exactly: the negative of an amount within bounds.
    let amount: Kopecks = -original.amount_kopecks.payment().map_err(PaymentError::from)?;
    let dated = match dated {
        Dated::Today => ctx.today(),
        Dated::AsArrived => original.paid_on,
    };
    let closed = months::closed_months(conn).await?;
    let period = closed.booking_period(dated);
    lines::check_open(closed, period).map_err(Internal::from)?;
    let line = payment::ActiveModel {
        id: NotSet,
        contract_id: Set(original.contract_id),
        amount_kopecks: Set(amount),
        paid_on: Set(dated),
        period: Set(period),
        for_period: Set(original.for_period),
        reference: Set(None),
        staff_id: Set(actor.staff_id()),
        source: Set(source),
        created_at: Set(ctx.now()),
        reverses_id: Set(Some(original.id)),
        bank_document_id: NotSet,
        reason: Set(Some(reason.to_owned())),
    };
    let reversal = match post(conn, ctx, line).await {
        // Another request reversed it between our check and our write.
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(ReversalError::AlreadyReversed(original.id));
        }
        written => written?,
    };
    Ok((original, reversal))
}
