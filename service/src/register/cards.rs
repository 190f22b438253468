//! Read models of the register: a meter with where it belongs ([`MeterInfo`]), a meter in service
//! as whoever reads it sees it ([`MeterCard`]), a plot on site ([`PlotCard`]), a contract named as
//! people know it ([`ContractRef`]), and the lookups they are built from.

use std::collections::HashMap;

use domain::{MeterValue, PlotNumber, ReadingStatus, billing::Balance};
use entities::{consumer, contract, meter, meter_photo, plot, reading};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use crate::ledger::debt::{self, Scope};

/// The plot with this number, if it is on the map.
pub async fn find_plot(conn: &impl ConnectionTrait, number: &PlotNumber) -> Result<Option<plot::Model>, DbErr> {
    plot::Entity::find().filter(plot::Column::Number.eq(number.clone())).one(conn).await
}

/// A meter with the contract and plot it belongs to, whatever its state (removed, on a closed
/// contract): what the rules about a meter and the office's pages start from. A different thing
/// from a [`MeterCard`], which is a meter in service as whoever reads it sees it.
#[derive(Debug, Clone)]
pub struct MeterInfo {
    pub meter: meter::Model,
    pub contract: contract::Model,
    pub plot: plot::Model,
}

/// Any meter with its contract and plot.
pub async fn meter_info(conn: &impl ConnectionTrait, meter_id: i64) -> Result<Option<MeterInfo>, DbErr> {
    let Some((meter, Some(contract))) =
        meter::Entity::find_by_id(meter_id).find_also_related(contract::Entity).one(conn).await?
    else {
        return Ok(None);
    };
    let plot = plot::Entity::find_by_id(contract.plot_id).one(conn).await?;
    Ok(plot.map(|plot| MeterInfo { meter, contract, plot }))
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
    let mut last = last_accepted(conn, &meter_ids).await?;
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

/// The last accepted reading of each meter.
pub async fn last_accepted(
    conn: &impl ConnectionTrait,
    meter_ids: &[i64],
) -> Result<HashMap<i64, reading::Model>, DbErr> {
    let readings = reading::Entity::find()
        .filter(reading::Column::MeterId.is_in(meter_ids.iter().copied()))
        .filter(reading::Column::Status.eq(ReadingStatus::Accepted))
        .order_by_asc(reading::Column::TakenAt)
        .order_by_asc(reading::Column::Id)
        .all(conn)
        .await?;
    Ok(readings.into_iter().map(|r| (r.meter_id, r)).collect())
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

/// The plots and the consumers of `contracts`, by id.
pub(super) async fn plots_and_consumers(
    conn: &impl ConnectionTrait,
    contracts: &[contract::Model],
) -> Result<(HashMap<i64, plot::Model>, HashMap<i64, consumer::Model>), DbErr> {
    let plots = by_id(
        plot::Entity::find().filter(plot::Column::Id.is_in(contracts.iter().map(|c| c.plot_id))).all(conn).await?,
        |p| p.id,
    );
    let consumers = by_id(
        consumer::Entity::find()
            .filter(consumer::Column::Id.is_in(contracts.iter().map(|c| c.consumer_id)))
            .all(conn)
            .await?,
        |c| c.id,
    );
    Ok((plots, consumers))
}

pub(crate) fn by_id<K: std::hash::Hash + Eq, T>(items: Vec<T>, key: impl Fn(&T) -> K) -> HashMap<K, T> {
    items.into_iter().map(|item| (key(&item), item)).collect()
}

/// A contract with where it is and whose, for rows of readings and payments.
#[derive(Debug, Clone)]
pub struct ContractRef {
    pub contract: contract::Model,
    pub plot_number: PlotNumber,
    pub consumer_name: String,
}

pub(crate) async fn contract_refs(
    conn: &impl ConnectionTrait,
    contract_ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, ContractRef>, DbErr> {
    let contracts = contract::Entity::find().filter(contract::Column::Id.is_in(contract_ids)).all(conn).await?;
    let (plots, consumers) = plots_and_consumers(conn, &contracts).await?;
    Ok(contracts
        .into_iter()
        .filter_map(|contract| {
            let plot_number = plots.get(&contract.plot_id)?.number.clone();
            let consumer_name = consumers.get(&contract.consumer_id)?.full_name.clone();
            Some((contract.id, ContractRef { contract, plot_number, consumer_name }))
        })
        .collect())
}
