//! The register: plots, consumers, contracts and meters.

use std::collections::HashMap;

use chrono::NaiveDate;
use domain::{MeterValue, Phone, PlotNumber, Service, TariffPlan, billing::Balance};
use entities::{consumer, contract, holding, meter, plot, reading};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, NotSet, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use crate::audit::{self, Actor};
use crate::debt::{self, Scope};
use crate::error::internal_errors;
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
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(InventoryError);

/// Signs a new contract in one transaction, creating the plot and the consumer if they are new.
pub async fn sign_up(ctx: &Context, form: SignUp, actor: Actor) -> Result<SignedUp, InventoryError> {
    let contract_number = form.contract_number.trim().to_owned();
    if contract_number.is_empty() {
        return Err(InventoryError::NoContractNumber);
    }
    if !form.plan.allowed_for(form.service) {
        return Err(InventoryError::PlanNotForService);
    }
    if form.meter.serial.trim().is_empty() {
        return Err(InventoryError::NoSerial);
    }
    let zones = form.plan.zones().len();
    if form.meter.initial.len() != zones {
        return Err(InventoryError::InitialValues { expected: zones, got: form.meter.initial.len() });
    }
    if let ConsumerRef::New { full_name, .. } = &form.consumer
        && full_name.trim().is_empty()
    {
        return Err(InventoryError::NoName);
    }
    let ctx2 = ctx.clone();
    ctx.db
        .write(move |txn| {
            Box::pin(async move {
                if contract::Entity::find()
                    .filter(contract::Column::Number.eq(&contract_number))
                    .one(txn)
                    .await?
                    .is_some()
                {
                    return Err(InventoryError::ContractNumberTaken(contract_number));
                }
                let now = ctx2.now();
                let plot = match find_plot(txn, &form.plot).await? {
                    Some(plot) => plot,
                    None => {
                        plot::ActiveModel {
                            id: NotSet,
                            number: Set(form.plot.clone()),
                            address: Set(form.plot_address.clone().filter(|a| !a.trim().is_empty())),
                            notes: Set(None),
                            created_at: Set(now),
                        }
                        .insert(txn)
                        .await?
                    }
                };
                let consumer_id = match form.consumer {
                    ConsumerRef::Existing(id) => {
                        consumer::Entity::find_by_id(id).one(txn).await?.ok_or(InventoryError::UnknownConsumer)?.id
                    }
                    ConsumerRef::New { full_name, phone } => {
                        consumer::ActiveModel {
                            id: NotSet,
                            full_name: Set(full_name.trim().to_owned()),
                            phone: Set(phone),
                            notes: Set(None),
                            reminders_enabled: Set(true),
                            created_at: Set(now),
                        }
                        .insert(txn)
                        .await?
                        .id
                    }
                };
                let holds = holding::Entity::find()
                    .filter(holding::Column::PlotId.eq(plot.id))
                    .filter(holding::Column::ConsumerId.eq(consumer_id))
                    .filter(holding::Column::Until.is_null())
                    .one(txn)
                    .await?;
                if holds.is_none() {
                    holding::ActiveModel {
                        id: NotSet,
                        plot_id: Set(plot.id),
                        consumer_id: Set(consumer_id),
                        since: Set(form.signed_on),
                        until: Set(None),
                    }
                    .insert(txn)
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
                .insert(txn)
                .await?;
                let meter = meter::ActiveModel {
                    id: NotSet,
                    contract_id: Set(contract.id),
                    serial: Set(form.meter.serial.trim().to_owned()),
                    zones: Set(zones as i16),
                    installed_on: Set(form.meter.installed_on),
                    initial_t1: Set(form.meter.initial[0]),
                    initial_t2: Set(form.meter.initial.get(1).copied()),
                    seal_number: Set(form.meter.seal_number.clone().filter(|s| !s.trim().is_empty())),
                    seal_checked_on: Set(Some(form.meter.installed_on)),
                    verification_due: Set(form.meter.verification_due),
                    removed_on: Set(None),
                    created_at: Set(now),
                }
                .insert(txn)
                .await?;
                audit::record(
                    txn,
                    &ctx2,
                    actor,
                    "contract.sign",
                    "contract",
                    Some(contract.id),
                    json!({"plot": plot.number, "consumer_id": consumer_id, "number": contract_number,
                           "service": form.service.code(), "plan": form.plan.code(), "meter_id": meter.id}),
                )
                .await?;
                Ok(SignedUp { plot_id: plot.id, consumer_id, contract_id: contract.id, meter_id: meter.id })
            })
        })
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
