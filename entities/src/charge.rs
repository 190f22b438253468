use domain::{ChargeKind, Kopecks, MeterValue, Period, Zone};
use sea_orm::entity::prelude::*;

/// A ledger line. Consumption lines are derived from accepted readings and tariffs, and rebuilt
/// for a meter whenever its readings change; opening balances are entered once at go-live.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "charges")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub contract_id: i64,
    pub meter_id: Option<i64>,
    pub reading_id: Option<i64>,
    pub period: Period,
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
