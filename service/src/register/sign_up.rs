//! Signing a contract: the consumer (known or new), the plot (created on first use), the contract
//! and its meter with the initial values, in one transaction.

use chrono::{DateTime, NaiveDate, Utc};
use domain::{MeterValue, Phone, PlotNumber, Service, TariffPlan, TextKind, TooLong};
use entities::{consumer, contract, holding, meter, plot};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, NotSet, QueryFilter, Set};
use serde_json::json;

use super::RegisterError;
use super::cards::find_plot;
use crate::Context;
use crate::audit::{self, Actor};

/// The consumer of a new contract: someone already in the register, or a new person.
#[derive(Debug, Clone)]
pub enum ConsumerRef {
    Existing(i64),
    New { full_name: String, phone: Option<Phone> },
}

/// The meter installed under a new contract.
#[derive(Debug, Clone)]
pub struct NewMeter {
    pub serial: String,
    pub installed_on: NaiveDate,
    /// One value per register of the contract's plan.
    pub initial: Vec<MeterValue>,
    pub seal_number: Option<String>,
    pub verification_due: Option<NaiveDate>,
}

/// Everything signed at once: consumer, plot, contract and meter.
#[derive(Debug, Clone)]
pub struct SignUp {
    pub plot: PlotNumber,
    pub plot_address: Option<String>,
    pub consumer: ConsumerRef,
    pub contract_number: String,
    pub service: Service,
    pub plan: TariffPlan,
    pub signed_on: NaiveDate,
    pub meter: NewMeter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedUp {
    pub plot_id: i64,
    pub consumer_id: i64,
    pub contract_id: i64,
    pub meter_id: i64,
}

impl NewMeter {
    /// The meter with its serial (required) and seal number trimmed and within their limits.
    pub(crate) fn checked<E: From<TooLong>>(self, no_serial: impl FnOnce() -> E) -> Result<NewMeter, E> {
        let serial = TextKind::MeterSerial.bounded(&self.serial)?;
        if serial.is_empty() {
            return Err(no_serial());
        }
        let seal_number = TextKind::SealNumber.optional(self.seal_number.as_deref())?;
        Ok(NewMeter { serial, seal_number, ..self })
    }
}

/// Signs a new contract in one transaction, creating the plot and the consumer if they are new.
pub async fn sign_up(ctx: &Context, form: SignUp, actor: Actor) -> Result<SignedUp, RegisterError> {
    let txn = ctx.db.begin_write().await?;
    let signed = sign_up_in(&txn, ctx, form, actor).await?;
    txn.commit().await?;
    Ok(signed)
}

/// [`sign_up`] inside an open transaction, for the register import that signs many at once.
pub async fn sign_up_in(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    form: SignUp,
    actor: Actor,
) -> Result<SignedUp, RegisterError> {
    let contract_number = TextKind::ContractNumber.bounded(&form.contract_number)?;
    if contract_number.is_empty() {
        return Err(RegisterError::NoContractNumber);
    }
    if !form.plan.allowed_for(form.service) {
        return Err(RegisterError::PlanNotForService);
    }
    let new_meter = form.meter.checked(|| RegisterError::NoSerial)?;
    let zones = form.plan.zones().len();
    if new_meter.initial.len() != zones {
        return Err(RegisterError::InitialValues { expected: zones, got: new_meter.initial.len() });
    }
    let address = TextKind::Address.optional(form.plot_address.as_deref())?;
    let consumer = match form.consumer {
        ConsumerRef::New { full_name, phone } => {
            let full_name = TextKind::FullName.bounded(&full_name)?;
            if full_name.is_empty() {
                return Err(RegisterError::NoName);
            }
            ConsumerRef::New { full_name, phone }
        }
        existing => existing,
    };
    if contract::Entity::find().filter(contract::Column::Number.eq(&contract_number)).one(conn).await?.is_some() {
        return Err(RegisterError::ContractNumberTaken(contract_number));
    }
    let now = ctx.now();
    let plot = match find_plot(conn, &form.plot).await? {
        Some(plot) => plot,
        None => {
            plot::ActiveModel {
                id: NotSet,
                number: Set(form.plot.clone()),
                address: Set(address),
                notes: Set(None),
                area_m2: Set(None),
                created_at: Set(now),
            }
            .insert(conn)
            .await?
        }
    };
    let consumer_id = match consumer {
        ConsumerRef::Existing(id) => {
            consumer::Entity::find_by_id(id).one(conn).await?.ok_or(RegisterError::UnknownConsumer)?.id
        }
        ConsumerRef::New { full_name, phone } => {
            consumer::ActiveModel {
                id: NotSet,
                full_name: Set(full_name),
                phone: Set(phone),
                notes: Set(None),
                reminders_enabled: Set(true),
                announcements_muted: Set(false),
                created_at: Set(now),
            }
            .insert(conn)
            .await?
            .id
        }
    };
    let holds = holding::Entity::find()
        .filter(holding::Column::PlotId.eq(plot.id))
        .filter(holding::Column::ConsumerId.eq(consumer_id))
        .filter(holding::Column::Until.is_null())
        .one(conn)
        .await?;
    if holds.is_none() {
        holding::ActiveModel {
            id: NotSet,
            plot_id: Set(plot.id),
            consumer_id: Set(consumer_id),
            since: Set(form.signed_on),
            until: Set(None),
        }
        .insert(conn)
        .await?;
    }
    let contract = contract::ActiveModel {
        id: NotSet,
        number: Set(contract_number.clone()),
        consumer_id: Set(consumer_id),
        plot_id: Set(plot.id),
        service: Set(form.service),
        tariff_plan: Set(form.plan),
        signed_on: Set(form.signed_on),
        closed_on: Set(None),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    let meter = install(conn, contract.id, &new_meter, Some(new_meter.installed_on), now).await?;
    audit::record(
        conn,
        ctx,
        actor,
        "contract.sign",
        "contract",
        Some(contract.id),
        json!({"plot": plot.number, "consumer_id": consumer_id, "number": contract_number,
                   "service": form.service.code(), "plan": form.plan.code(), "meter_id": meter.id}),
    )
    .await?;
    Ok(SignedUp { plot_id: plot.id, consumer_id, contract_id: contract.id, meter_id: meter.id })
}

/// Installs `meter` on a contract, checked by the caller ([`NewMeter::checked`], one initial value per register).
pub(crate) async fn install(
    conn: &impl ConnectionTrait,
    contract_id: i64,
    meter: &NewMeter,
    seal_checked_on: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<meter::Model, DbErr> {
    meter::ActiveModel {
        id: NotSet,
        contract_id: Set(contract_id),
        serial: Set(meter.serial.clone()),
        zones: Set(meter.initial.len() as i16),
        installed_on: Set(meter.installed_on),
        initial_t1: Set(meter.initial[0]),
        initial_t2: Set(meter.initial.get(1).copied()),
        seal_number: Set(meter.seal_number.clone()),
        seal_checked_on: Set(seal_checked_on),
        verification_due: Set(meter.verification_due),
        removed_on: Set(None),
        created_at: Set(now),
    }
    .insert(conn)
    .await
}
