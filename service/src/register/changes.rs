//! The office's edits of the register: a plot added or changed, a consumer's, a contract's or a
//! meter's details changed, a contract closed, a photo filed in a meter's gallery. Each is one
//! transaction, audited with the old and new values.

use chrono::NaiveDate;
use domain::{Phone, PlotNumber, TextKind, TooLong};
use entities::{consumer, contract, holding, meter, meter_photo, photo, plot};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, NotSet, QueryFilter, Set,
};
use serde_json::{Value, json};

use super::RegisterError;
use super::cards::find_plot;
use crate::Context;
use crate::audit::{self, Actor};
use crate::db::WriteTxn;

/// A plot's details as the office edits them.
#[derive(Debug, Clone)]
pub struct PlotDetails {
    pub number: PlotNumber,
    pub address: Option<String>,
    pub notes: Option<String>,
}

impl PlotDetails {
    /// Address and notes trimmed and within their limits; none when blank.
    fn bounded(&self) -> Result<(Option<String>, Option<String>), TooLong> {
        Ok((TextKind::Address.optional(self.address.as_deref())?, TextKind::Notes.optional(self.notes.as_deref())?))
    }
}

/// A consumer's details as the office edits them.
#[derive(Debug, Clone)]
pub struct ConsumerDetails {
    pub full_name: String,
    pub phone: Option<Phone>,
    pub notes: Option<String>,
    pub reminders_enabled: bool,
}

/// What may change in a signed contract. Service and plan may not: they fix the meter's
/// registers and the prices of every past charge, so a change of either is a new contract.
#[derive(Debug, Clone)]
pub struct ContractDetails {
    pub number: String,
    pub signed_on: NaiveDate,
}

/// What may change in an installed meter. Its registers and initial values may not: past
/// charges are computed from them (a replaced meter is a new meter).
#[derive(Debug, Clone)]
pub struct MeterDetails {
    pub serial: String,
    pub seal_number: Option<String>,
    pub seal_checked_on: Option<NaiveDate>,
    pub verification_due: Option<NaiveDate>,
}

/// The fields that changed, as `{"field": [old, new]}` for the audit log.
fn changed_fields<const N: usize>(old: [(&str, Value); N], new: [(&str, Value); N]) -> Value {
    Value::Object(
        old.into_iter()
            .zip(new)
            .filter(|((_, old), (_, new))| old != new)
            .map(|((k, old), (_, new))| (k.to_owned(), json!([old, new])))
            .collect(),
    )
}

/// Stores an office edit of one register row, `edited` from `old`, in the edit's transaction, and
/// audits `{entity}.update` with the old and new values of those of `fields` that changed.
async fn store_audited<A, const N: usize>(
    txn: &WriteTxn,
    ctx: &Context,
    actor: Actor,
    (entity, id): (&str, i64),
    old: &<A::Entity as EntityTrait>::Model,
    edited: A,
    fields: impl Fn(&<A::Entity as EntityTrait>::Model) -> [(&'static str, Value); N],
) -> Result<<A::Entity as EntityTrait>::Model, RegisterError>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    let new = edited.update(txn).await?;
    let diff = changed_fields(fields(old), fields(&new));
    audit::record(txn, ctx, actor, &format!("{entity}.update"), entity, Some(id), diff).await?;
    Ok(new)
}

/// Adds a plot to the map without a contract yet.
pub async fn create_plot(ctx: &Context, details: PlotDetails, actor: Actor) -> Result<plot::Model, RegisterError> {
    let (address, notes) = details.bounded()?;
    let txn = ctx.db.begin_write().await?;
    if find_plot(&txn, &details.number).await?.is_some() {
        return Err(RegisterError::PlotTaken(details.number));
    }
    let plot = plot::ActiveModel {
        id: NotSet,
        number: Set(details.number.clone()),
        address: Set(address),
        notes: Set(notes),
        area_m2: Set(None),
        created_at: Set(ctx.now()),
    }
    .insert(&txn)
    .await?;
    audit::record(&txn, ctx, actor, "plot.create", "plot", Some(plot.id), json!({"number": plot.number})).await?;
    txn.commit().await?;
    Ok(plot)
}

pub async fn update_plot(
    ctx: &Context,
    plot_id: i64,
    details: PlotDetails,
    actor: Actor,
) -> Result<plot::Model, RegisterError> {
    let (address, notes) = details.bounded()?;
    let txn = ctx.db.begin_write().await?;
    let old = plot::Entity::find_by_id(plot_id).one(&txn).await?.ok_or(RegisterError::UnknownPlot)?;
    if let Some(other) = find_plot(&txn, &details.number).await?
        && other.id != plot_id
    {
        return Err(RegisterError::PlotTaken(details.number));
    }
    let mut plot = old.clone().into_active_model();
    plot.number = Set(details.number);
    plot.address = Set(address);
    plot.notes = Set(notes);
    let fields =
        |p: &plot::Model| [("number", json!(p.number)), ("address", json!(p.address)), ("notes", json!(p.notes))];
    let new = store_audited(&txn, ctx, actor, ("plot", plot_id), &old, plot, fields).await?;
    txn.commit().await?;
    Ok(new)
}

pub async fn update_consumer(
    ctx: &Context,
    consumer_id: i64,
    details: ConsumerDetails,
    actor: Actor,
) -> Result<consumer::Model, RegisterError> {
    let full_name = TextKind::FullName.bounded(&details.full_name)?;
    if full_name.is_empty() {
        return Err(RegisterError::NoName);
    }
    let notes = TextKind::Notes.optional(details.notes.as_deref())?;
    let txn = ctx.db.begin_write().await?;
    let old = consumer::Entity::find_by_id(consumer_id).one(&txn).await?.ok_or(RegisterError::UnknownConsumer)?;
    let mut consumer = old.clone().into_active_model();
    consumer.full_name = Set(full_name);
    consumer.phone = Set(details.phone);
    consumer.notes = Set(notes);
    consumer.reminders_enabled = Set(details.reminders_enabled);
    let fields = |c: &consumer::Model| {
        [
            ("full_name", json!(c.full_name)),
            ("phone", json!(c.phone)),
            ("notes", json!(c.notes)),
            ("reminders_enabled", json!(c.reminders_enabled)),
        ]
    };
    let new = store_audited(&txn, ctx, actor, ("consumer", consumer_id), &old, consumer, fields).await?;
    txn.commit().await?;
    Ok(new)
}

pub async fn update_contract(
    ctx: &Context,
    contract_id: i64,
    details: ContractDetails,
    actor: Actor,
) -> Result<contract::Model, RegisterError> {
    let number = TextKind::ContractNumber.bounded(&details.number)?;
    if number.is_empty() {
        return Err(RegisterError::NoContractNumber);
    }
    let txn = ctx.db.begin_write().await?;
    let old = contract::Entity::find_by_id(contract_id).one(&txn).await?.ok_or(RegisterError::UnknownContract)?;
    let taken = contract::Entity::find()
        .filter(contract::Column::Number.eq(&number))
        .filter(contract::Column::Id.ne(contract_id))
        .one(&txn)
        .await?;
    if taken.is_some() {
        return Err(RegisterError::ContractNumberTaken(number));
    }
    if let Some(closed_on) = old.closed_on
        && closed_on < details.signed_on
    {
        return Err(RegisterError::ClosedBeforeSigned(details.signed_on));
    }
    let mut contract = old.clone().into_active_model();
    contract.number = Set(number);
    contract.signed_on = Set(details.signed_on);
    let fields = |c: &contract::Model| [("number", json!(c.number)), ("signed_on", json!(c.signed_on))];
    let new = store_audited(&txn, ctx, actor, ("contract", contract_id), &old, contract, fields).await?;
    txn.commit().await?;
    Ok(new)
}

/// Closes a contract: no more readings are taken on it, its ledger stays. When it was the
/// consumer's last open contract on the plot, their holding of the plot ends on the same day.
pub async fn close_contract(
    ctx: &Context,
    contract_id: i64,
    closed_on: NaiveDate,
    actor: Actor,
) -> Result<contract::Model, RegisterError> {
    let txn = ctx.db.begin_write().await?;
    let old = contract::Entity::find_by_id(contract_id).one(&txn).await?.ok_or(RegisterError::UnknownContract)?;
    if old.closed_on.is_some() {
        return Err(RegisterError::AlreadyClosed(old.number));
    }
    if closed_on < old.signed_on {
        return Err(RegisterError::ClosedBeforeSigned(old.signed_on));
    }
    let mut contract = old.clone().into_active_model();
    contract.closed_on = Set(Some(closed_on));
    let closed = contract.update(&txn).await?;
    let still_open = contract::Entity::find()
        .filter(contract::Column::ConsumerId.eq(old.consumer_id))
        .filter(contract::Column::PlotId.eq(old.plot_id))
        .filter(contract::Column::ClosedOn.is_null())
        .one(&txn)
        .await?;
    if still_open.is_none() {
        holding::Entity::update_many()
            .col_expr(holding::Column::Until, sea_orm::sea_query::Expr::value(closed_on))
            .filter(holding::Column::PlotId.eq(old.plot_id))
            .filter(holding::Column::ConsumerId.eq(old.consumer_id))
            .filter(holding::Column::Until.is_null())
            .exec(&txn)
            .await?;
    }
    let details = json!({"number": old.number, "closed_on": closed_on});
    audit::record(&txn, ctx, actor, "contract.close", "contract", Some(contract_id), details).await?;
    txn.commit().await?;
    Ok(closed)
}

pub async fn update_meter(
    ctx: &Context,
    meter_id: i64,
    details: MeterDetails,
    actor: Actor,
) -> Result<meter::Model, RegisterError> {
    let serial = TextKind::MeterSerial.bounded(&details.serial)?;
    if serial.is_empty() {
        return Err(RegisterError::NoSerial);
    }
    let seal_number = TextKind::SealNumber.optional(details.seal_number.as_deref())?;
    let txn = ctx.db.begin_write().await?;
    let old = meter::Entity::find_by_id(meter_id).one(&txn).await?.ok_or(RegisterError::UnknownMeter)?;
    let mut meter = old.clone().into_active_model();
    meter.serial = Set(serial);
    meter.seal_number = Set(seal_number);
    meter.seal_checked_on = Set(details.seal_checked_on);
    meter.verification_due = Set(details.verification_due);
    let fields = |m: &meter::Model| {
        [
            ("serial", json!(m.serial)),
            ("seal_number", json!(m.seal_number)),
            ("seal_checked_on", json!(m.seal_checked_on)),
            ("verification_due", json!(m.verification_due)),
        ]
    };
    let new = store_audited(&txn, ctx, actor, ("meter", meter_id), &old, meter, fields).await?;
    txn.commit().await?;
    Ok(new)
}

/// Files a stored photo (see [`crate::meters::photos::store`]) in a meter's inventory gallery.
pub async fn add_meter_photo(
    ctx: &Context,
    meter_id: i64,
    photo_id: i64,
    actor: Actor,
) -> Result<meter_photo::Model, RegisterError> {
    let txn = ctx.db.begin_write().await?;
    meter::Entity::find_by_id(meter_id).one(&txn).await?.ok_or(RegisterError::UnknownMeter)?;
    photo::Entity::find_by_id(photo_id).one(&txn).await?.ok_or(RegisterError::UnknownPhoto)?;
    let now = ctx.now();
    let row = meter_photo::ActiveModel {
        id: NotSet,
        meter_id: Set(meter_id),
        photo_id: Set(photo_id),
        taken_at: Set(now),
        staff_id: Set(actor.staff_id()),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::record(&txn, ctx, actor, "meter.photo", "meter", Some(meter_id), json!({"photo_id": photo_id})).await?;
    txn.commit().await?;
    Ok(row)
}

/// A consumer's own yes/no setting (reminders, announcements muted), switched from the bot:
/// audited under `action` when it changes, a no-op when it is already so.
pub(crate) struct ConsumerSetting {
    pub column: consumer::Column,
    pub action: &'static str,
    /// The setting's name in the audit entry.
    pub key: &'static str,
}

impl ConsumerSetting {
    pub(crate) async fn set(
        &self,
        ctx: &Context,
        consumer_id: i64,
        value: bool,
        actor: Actor,
    ) -> Result<(), crate::Internal> {
        let txn = ctx.db.begin_write().await?;
        let changed = consumer::Entity::update_many()
            .col_expr(self.column, sea_orm::sea_query::Expr::value(value))
            .filter(consumer::Column::Id.eq(consumer_id))
            .filter(self.column.ne(value))
            .exec(&txn)
            .await?;
        if changed.rows_affected > 0 {
            let details = json!({ self.key: value });
            audit::record(&txn, ctx, actor, self.action, "consumer", Some(consumer_id), details).await?;
        }
        txn.commit().await?;
        Ok(())
    }
}
