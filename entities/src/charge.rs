use domain::{CauseKind, ChargeKind, Kopecks, MeterValue, Period, Zone};
use sea_orm::entity::prelude::*;

/// A ledger line (see `domain::ledger`). Consumption lines are derived from accepted readings and
/// tariffs and rebuilt while their month is open; a change reaching a closed month adds a
/// recalculation line instead. Written only through `service::ledger::lines`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "charges")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub contract_id: i64,
    pub meter_id: Option<i64>,
    pub reading_id: Option<i64>,
    /// The booking month: the report the line is in.
    pub period: Period,
    /// The month the line is about (information only).
    pub for_period: Period,
    /// The day on the statement of account.
    pub dated_on: Date,
    /// The tariff segment a consumption line prices: days `from_on` ≤ day < `to_on`.
    pub from_on: Option<Date>,
    pub to_on: Option<Date>,
    /// A recalculation's reason for people, and what caused it.
    pub reason: Option<String>,
    pub cause_kind: Option<CauseKind>,
    pub cause_id: Option<i64>,
    /// A recalculation's change of consumption in thousandths (negative when it went down).
    pub consumption_change: Option<i64>,
    pub kind: ChargeKind,
    pub zone: Option<Zone>,
    pub previous_value: Option<MeterValue>,
    pub current_value: Option<MeterValue>,
    pub consumption: Option<MeterValue>,
    pub price_kopecks: Option<Kopecks>,
    pub amount_kopecks: Kopecks,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::contract::Entity", from = "Column::ContractId", to = "super::contract::Column::Id")]
    Contract,
}

impl Related<super::contract::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Contract.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
