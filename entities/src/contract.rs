use domain::{Service, TariffPlan};
use sea_orm::entity::prelude::*;

/// A contract for one service on one plot; each has its meter.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contracts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub number: String,
    pub consumer_id: i64,
    pub plot_id: i64,
    pub service: Service,
    pub tariff_plan: TariffPlan,
    pub signed_on: Date,
    pub closed_on: Option<Date>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::consumer::Entity", from = "Column::ConsumerId", to = "super::consumer::Column::Id")]
    Consumer,
    #[sea_orm(belongs_to = "super::plot::Entity", from = "Column::PlotId", to = "super::plot::Column::Id")]
    Plot,
    #[sea_orm(has_many = "super::meter::Entity")]
    Meter,
    #[sea_orm(has_many = "super::charge::Entity")]
    Charge,
    #[sea_orm(has_many = "super::payment::Entity")]
    Payment,
}

impl Related<super::consumer::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Consumer.def()
    }
}

impl Related<super::plot::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Plot.def()
    }
}

impl Related<super::meter::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Meter.def()
    }
}

impl Related<super::charge::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Charge.def()
    }
}

impl Related<super::payment::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Payment.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
