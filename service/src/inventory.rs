//! The register: plots, consumers, contracts and meters.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::{MeterValue, Phone, PlotNumber, Service, TariffPlan, TextKind, TooLong, billing::Balance};
use entities::{consumer, contract, holding, meter, meter_photo, photo, plot, reading};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    FromQueryResult, IntoActiveModel, ModelTrait, NotSet, PrimaryKeyTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::{Value, json};

use crate::audit::{self, Actor};
use crate::db::TxFuture;
use crate::error::internal_errors;
use crate::ledger::debt::{self, Scope};
use crate::{Context, Internal, readings};

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

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("Укажите ФИО потребителя.")]
    NoName,
    #[error("Укажите номер договора.")]
    NoContractNumber,
    #[error("Договор № {0} уже есть.")]
    ContractNumberTaken(String),
    #[error("Двухтарифный учёт (день/ночь) бывает только для электроэнергии.")]
    PlanNotForService,
    #[error("Укажите заводской номер счётчика.")]
    NoSerial,
    #[error("Нужно {expected} начальных показания, указано {got}.")]
    InitialValues { expected: usize, got: usize },
    #[error("Потребитель не найден.")]
    UnknownConsumer,
    #[error("Участок {0} уже есть.")]
    PlotTaken(PlotNumber),
    #[error("Участок не найден.")]
    UnknownPlot,
    #[error("Договор не найден.")]
    UnknownContract,
    #[error("Счётчик не найден.")]
    UnknownMeter,
    #[error("Фото не найдено.")]
    UnknownPhoto,
    #[error("Договор № {0} уже закрыт.")]
    AlreadyClosed(String),
    #[error("Договор не может быть закрыт раньше, чем подписан ({}).", .0.format("%d.%m.%Y"))]
    ClosedBeforeSigned(NaiveDate),
    #[error(transparent)]
    Text(#[from] TooLong),
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(InventoryError);

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
pub async fn sign_up(ctx: &Context, form: SignUp, actor: Actor) -> Result<SignedUp, InventoryError> {
    let ctx2 = ctx.clone();
    ctx.db.write(move |txn| Box::pin(async move { sign_up_in(txn, &ctx2, form, actor).await })).await
}

/// [`sign_up`] inside an open transaction, for the register import that signs many at once.
pub async fn sign_up_in(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    form: SignUp,
    actor: Actor,
) -> Result<SignedUp, InventoryError> {
    let contract_number = TextKind::ContractNumber.bounded(&form.contract_number)?;
    if contract_number.is_empty() {
        return Err(InventoryError::NoContractNumber);
    }
    if !form.plan.allowed_for(form.service) {
        return Err(InventoryError::PlanNotForService);
    }
    let new_meter = form.meter.checked(|| InventoryError::NoSerial)?;
    let zones = form.plan.zones().len();
    if new_meter.initial.len() != zones {
        return Err(InventoryError::InitialValues { expected: zones, got: new_meter.initial.len() });
    }
    let address = TextKind::Address.optional(form.plot_address.as_deref())?;
    let consumer = match form.consumer {
        ConsumerRef::New { full_name, phone } => {
            let full_name = TextKind::FullName.bounded(&full_name)?;
            if full_name.is_empty() {
                return Err(InventoryError::NoName);
            }
            ConsumerRef::New { full_name, phone }
        }
        existing => existing,
    };
    if contract::Entity::find().filter(contract::Column::Number.eq(&contract_number)).one(conn).await?.is_some() {
        return Err(InventoryError::ContractNumberTaken(contract_number));
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
                created_at: Set(now),
            }
            .insert(conn)
            .await?
        }
    };
    let consumer_id = match consumer {
        ConsumerRef::Existing(id) => {
            consumer::Entity::find_by_id(id).one(conn).await?.ok_or(InventoryError::UnknownConsumer)?.id
        }
        ConsumerRef::New { full_name, phone } => {
            consumer::ActiveModel {
                id: NotSet,
                full_name: Set(full_name),
                phone: Set(phone),
                notes: Set(None),
                reminders_enabled: Set(true),
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

pub async fn find_plot(conn: &impl ConnectionTrait, number: &PlotNumber) -> Result<Option<plot::Model>, DbErr> {
    plot::Entity::find().filter(plot::Column::Number.eq(number.clone())).one(conn).await
}

/// A meter as shown to whoever reads it: what it measures, where, and its last accepted reading.
#[derive(Debug, Clone)]
pub struct MeterCard {
    pub meter: meter::Model,
    pub contract: contract::Model,
    pub plot_number: PlotNumber,
    pub consumer_name: String,
    pub last_reading: Option<reading::Model>,
}

impl MeterCard {
    /// «Электроэнергия, счётчик 123456 (участок 12)».
    pub fn title(&self) -> String {
        format!("{}, счётчик {} (участок {})", self.contract.service, self.meter.serial, self.plot_number)
    }

    /// The values a new reading is compared with: the last accepted ones, or those at installation.
    pub fn last_values(&self) -> Vec<MeterValue> {
        self.last_reading.as_ref().map_or_else(|| self.meter.initial_values(), reading::Model::values)
    }
}

/// A plot as a controller sees it on site.
#[derive(Debug, Clone)]
pub struct PlotCard {
    pub plot: plot::Model,
    pub meters: Vec<MeterCard>,
    pub balance: Balance,
}

/// Meters in service on open contracts matching `filter`, with plot, consumer and last reading.
async fn meter_cards(conn: &impl ConnectionTrait, filter: sea_orm::Condition) -> Result<Vec<MeterCard>, DbErr> {
    let contracts = contract::Entity::find()
        .filter(filter)
        .filter(contract::Column::ClosedOn.is_null())
        .order_by_asc(contract::Column::Id)
        .all(conn)
        .await?;
    let contract_ids: Vec<i64> = contracts.iter().map(|c| c.id).collect();
    let meters = meter::Entity::find()
        .filter(meter::Column::ContractId.is_in(contract_ids))
        .filter(meter::Column::RemovedOn.is_null())
        .order_by_asc(meter::Column::Id)
        .all(conn)
        .await?;
    let plots: HashMap<i64, PlotNumber> = plot::Entity::find()
        .filter(plot::Column::Id.is_in(contracts.iter().map(|c| c.plot_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p.number))
        .collect();
    let consumers: HashMap<i64, String> = consumer::Entity::find()
        .filter(consumer::Column::Id.is_in(contracts.iter().map(|c| c.consumer_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, c.full_name))
        .collect();
    let meter_ids: Vec<i64> = meters.iter().map(|m| m.id).collect();
    let mut last = readings::last_accepted(conn, &meter_ids).await?;
    let contracts: HashMap<i64, contract::Model> = contracts.into_iter().map(|c| (c.id, c)).collect();
    Ok(meters
        .into_iter()
        .filter_map(|meter| {
            let contract = contracts.get(&meter.contract_id)?.clone();
            Some(MeterCard {
                last_reading: last.remove(&meter.id),
                plot_number: plots.get(&contract.plot_id)?.clone(),
                consumer_name: consumers.get(&contract.consumer_id).cloned().unwrap_or_default(),
                meter,
                contract,
            })
        })
        .collect())
}

/// A meter in service on an open contract, with plot, consumer and last reading.
pub async fn meter_card(conn: &impl ConnectionTrait, meter_id: i64) -> Result<Option<MeterCard>, DbErr> {
    let Some(meter) = meter::Entity::find_by_id(meter_id).one(conn).await? else {
        return Ok(None);
    };
    let cards = meter_cards(conn, contract::Column::Id.eq(meter.contract_id).into()).await?;
    Ok(cards.into_iter().find(|card| card.meter.id == meter_id))
}

/// The meters a consumer may send readings for.
pub async fn consumer_meters(conn: &impl ConnectionTrait, consumer_id: i64) -> Result<Vec<MeterCard>, DbErr> {
    meter_cards(conn, contract::Column::ConsumerId.eq(consumer_id).into()).await
}

/// A plot with its meters and its total debt, for a controller on site.
pub async fn plot_card(conn: &impl ConnectionTrait, plot_id: i64) -> Result<Option<PlotCard>, DbErr> {
    let Some(plot) = plot::Entity::find_by_id(plot_id).one(conn).await? else {
        return Ok(None);
    };
    let meters = meter_cards(conn, contract::Column::PlotId.eq(plot_id).into()).await?;
    let balance = debt::total(conn, Scope::Plot(plot_id)).await?;
    Ok(Some(PlotCard { plot, meters, balance }))
}

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
fn changes<const N: usize>(old: [(&str, Value); N], new: [(&str, Value); N]) -> Value {
    Value::Object(
        old.into_iter()
            .zip(new)
            .filter(|((_, old), (_, new))| old != new)
            .map(|((k, old), (_, new))| (k.to_owned(), json!([old, new])))
            .collect(),
    )
}

/// An office edit of one register row, in one transaction: loads the row (or fails with
/// `missing`), lets `edit` check it and set the new values, stores it, and audits
/// `{entity}.update` with the old and new values of those of `fields` that changed.
async fn update_audited<M, const N: usize>(
    ctx: &Context,
    actor: Actor,
    entity: &'static str,
    id: i64,
    missing: InventoryError,
    fields: impl Fn(&M) -> [(&'static str, Value); N] + Send + 'static,
    edit: impl for<'c> FnOnce(&'c DatabaseTransaction, &'c M, ActiveOf<M>) -> TxFuture<'c, ActiveOf<M>, InventoryError>
    + Send
    + 'static,
) -> Result<M, InventoryError>
where
    M: ModelTrait + FromQueryResult + IntoActiveModel<ActiveOf<M>> + Clone + Send + Sync,
    M::Entity: EntityTrait<Model = M>,
    ActiveOf<M>: ActiveModelTrait<Entity = M::Entity> + ActiveModelBehavior + Send,
    i64: Into<<<M::Entity as EntityTrait>::PrimaryKey as PrimaryKeyTrait>::ValueType>,
{
    let ctx2 = ctx.clone();
    ctx.db
        .write(move |txn| {
            Box::pin(async move {
                let old = M::Entity::find_by_id(id).one(txn).await?.ok_or(missing)?;
                let edited = edit(txn, &old, old.clone().into_active_model()).await?;
                let new = edited.update(txn).await?;
                let diff = changes(fields(&old), fields(&new));
                audit::record(txn, &ctx2, actor, &format!("{entity}.update"), entity, Some(id), diff).await?;
                Ok(new)
            })
        })
        .await
}

/// The active model of a model's entity.
type ActiveOf<M> = <<M as ModelTrait>::Entity as EntityTrait>::ActiveModel;

/// Adds a plot to the map without a contract yet.
pub async fn create_plot(ctx: &Context, details: PlotDetails, actor: Actor) -> Result<plot::Model, InventoryError> {
    let (address, notes) = details.bounded()?;
    let ctx2 = ctx.clone();
    ctx.db
        .write(move |txn| {
            Box::pin(async move {
                if find_plot(txn, &details.number).await?.is_some() {
                    return Err(InventoryError::PlotTaken(details.number));
                }
                let plot = plot::ActiveModel {
                    id: NotSet,
                    number: Set(details.number.clone()),
                    address: Set(address),
                    notes: Set(notes),
                    created_at: Set(ctx2.now()),
                }
                .insert(txn)
                .await?;
                audit::record(txn, &ctx2, actor, "plot.create", "plot", Some(plot.id), json!({"number": plot.number}))
                    .await?;
                Ok(plot)
            })
        })
        .await
}

pub async fn update_plot(
    ctx: &Context,
    plot_id: i64,
    details: PlotDetails,
    actor: Actor,
) -> Result<plot::Model, InventoryError> {
    let (address, notes) = details.bounded()?;
    let fields =
        |p: &plot::Model| [("number", json!(p.number)), ("address", json!(p.address)), ("notes", json!(p.notes))];
    update_audited(ctx, actor, "plot", plot_id, InventoryError::UnknownPlot, fields, move |txn, _, mut plot| {
        Box::pin(async move {
            if let Some(other) = find_plot(txn, &details.number).await?
                && other.id != plot_id
            {
                return Err(InventoryError::PlotTaken(details.number));
            }
            plot.number = Set(details.number);
            plot.address = Set(address);
            plot.notes = Set(notes);
            Ok(plot)
        })
    })
    .await
}

pub async fn update_consumer(
    ctx: &Context,
    consumer_id: i64,
    details: ConsumerDetails,
    actor: Actor,
) -> Result<consumer::Model, InventoryError> {
    let full_name = TextKind::FullName.bounded(&details.full_name)?;
    if full_name.is_empty() {
        return Err(InventoryError::NoName);
    }
    let notes = TextKind::Notes.optional(details.notes.as_deref())?;
    let fields = |c: &consumer::Model| {
        [
            ("full_name", json!(c.full_name)),
            ("phone", json!(c.phone)),
            ("notes", json!(c.notes)),
            ("reminders_enabled", json!(c.reminders_enabled)),
        ]
    };
    update_audited(
        ctx,
        actor,
        "consumer",
        consumer_id,
        InventoryError::UnknownConsumer,
        fields,
        move |_, _, mut consumer| {
            Box::pin(async move {
                consumer.full_name = Set(full_name);
                consumer.phone = Set(details.phone);
                consumer.notes = Set(notes);
                consumer.reminders_enabled = Set(details.reminders_enabled);
                Ok(consumer)
            })
        },
    )
    .await
}

pub async fn update_contract(
    ctx: &Context,
    contract_id: i64,
    details: ContractDetails,
    actor: Actor,
) -> Result<contract::Model, InventoryError> {
    let number = TextKind::ContractNumber.bounded(&details.number)?;
    if number.is_empty() {
        return Err(InventoryError::NoContractNumber);
    }
    let fields = |c: &contract::Model| [("number", json!(c.number)), ("signed_on", json!(c.signed_on))];
    update_audited(
        ctx,
        actor,
        "contract",
        contract_id,
        InventoryError::UnknownContract,
        fields,
        move |txn, old, mut contract| {
            Box::pin(async move {
                let taken = contract::Entity::find()
                    .filter(contract::Column::Number.eq(&number))
                    .filter(contract::Column::Id.ne(contract_id))
                    .one(txn)
                    .await?;
                if taken.is_some() {
                    return Err(InventoryError::ContractNumberTaken(number));
                }
                if let Some(closed_on) = old.closed_on
                    && closed_on < details.signed_on
                {
                    return Err(InventoryError::ClosedBeforeSigned(details.signed_on));
                }
                contract.number = Set(number);
                contract.signed_on = Set(details.signed_on);
                Ok(contract)
            })
        },
    )
    .await
}

/// Closes a contract: no more readings are taken on it, its ledger stays. When it was the
/// consumer's last open contract on the plot, their holding of the plot ends on the same day.
pub async fn close_contract(
    ctx: &Context,
    contract_id: i64,
    closed_on: NaiveDate,
    actor: Actor,
) -> Result<contract::Model, InventoryError> {
    let ctx2 = ctx.clone();
    ctx.db
        .write(move |txn| {
            Box::pin(async move {
                let old =
                    contract::Entity::find_by_id(contract_id).one(txn).await?.ok_or(InventoryError::UnknownContract)?;
                if old.closed_on.is_some() {
                    return Err(InventoryError::AlreadyClosed(old.number));
                }
                if closed_on < old.signed_on {
                    return Err(InventoryError::ClosedBeforeSigned(old.signed_on));
                }
                let mut contract = old.clone().into_active_model();
                contract.closed_on = Set(Some(closed_on));
                let closed = contract.update(txn).await?;
                let still_open = contract::Entity::find()
                    .filter(contract::Column::ConsumerId.eq(old.consumer_id))
                    .filter(contract::Column::PlotId.eq(old.plot_id))
                    .filter(contract::Column::ClosedOn.is_null())
                    .one(txn)
                    .await?;
                if still_open.is_none() {
                    holding::Entity::update_many()
                        .col_expr(holding::Column::Until, sea_orm::sea_query::Expr::value(closed_on))
                        .filter(holding::Column::PlotId.eq(old.plot_id))
                        .filter(holding::Column::ConsumerId.eq(old.consumer_id))
                        .filter(holding::Column::Until.is_null())
                        .exec(txn)
                        .await?;
                }
                audit::record(
                    txn,
                    &ctx2,
                    actor,
                    "contract.close",
                    "contract",
                    Some(contract_id),
                    json!({"number": old.number, "closed_on": closed_on}),
                )
                .await?;
                Ok(closed)
            })
        })
        .await
}

pub async fn update_meter(
    ctx: &Context,
    meter_id: i64,
    details: MeterDetails,
    actor: Actor,
) -> Result<meter::Model, InventoryError> {
    let serial = TextKind::MeterSerial.bounded(&details.serial)?;
    if serial.is_empty() {
        return Err(InventoryError::NoSerial);
    }
    let seal_number = TextKind::SealNumber.optional(details.seal_number.as_deref())?;
    let fields = |m: &meter::Model| {
        [
            ("serial", json!(m.serial)),
            ("seal_number", json!(m.seal_number)),
            ("seal_checked_on", json!(m.seal_checked_on)),
            ("verification_due", json!(m.verification_due)),
        ]
    };
    update_audited(ctx, actor, "meter", meter_id, InventoryError::UnknownMeter, fields, move |_, _, mut meter| {
        Box::pin(async move {
            meter.serial = Set(serial);
            meter.seal_number = Set(seal_number);
            meter.seal_checked_on = Set(details.seal_checked_on);
            meter.verification_due = Set(details.verification_due);
            Ok(meter)
        })
    })
    .await
}

/// Files a stored photo (see [`crate::meters::photos::store`]) in a meter's inventory gallery.
pub async fn add_meter_photo(
    ctx: &Context,
    meter_id: i64,
    photo_id: i64,
    actor: Actor,
) -> Result<meter_photo::Model, InventoryError> {
    let ctx2 = ctx.clone();
    ctx.db
        .write(move |txn| {
            Box::pin(async move {
                meter::Entity::find_by_id(meter_id).one(txn).await?.ok_or(InventoryError::UnknownMeter)?;
                photo::Entity::find_by_id(photo_id).one(txn).await?.ok_or(InventoryError::UnknownPhoto)?;
                let now = ctx2.now();
                let row = meter_photo::ActiveModel {
                    id: NotSet,
                    meter_id: Set(meter_id),
                    photo_id: Set(photo_id),
                    taken_at: Set(now),
                    staff_id: Set(actor.staff_id()),
                    created_at: Set(now),
                }
                .insert(txn)
                .await?;
                audit::record(txn, &ctx2, actor, "meter.photo", "meter", Some(meter_id), json!({"photo_id": photo_id}))
                    .await?;
                Ok(row)
            })
        })
        .await
}

/// A meter's inventory photos, newest first.
pub async fn meter_photos(conn: &impl ConnectionTrait, meter_id: i64) -> Result<Vec<meter_photo::Model>, DbErr> {
    meter_photo::Entity::find()
        .filter(meter_photo::Column::MeterId.eq(meter_id))
        .order_by_desc(meter_photo::Column::TakenAt)
        .order_by_desc(meter_photo::Column::Id)
        .all(conn)
        .await
}
