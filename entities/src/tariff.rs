use domain::{Kopecks, Service, Zone};
use sea_orm::entity::prelude::*;

/// A price per unit from `valid_from` on; history is kept, never edited in place.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tariffs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub service: Service,
    pub zone: Zone,
    pub price_kopecks: Kopecks,
    pub valid_from: Date,
    pub created_at: DateTimeUtc,
}

impl From<Model> for domain::Tariff {
    fn from(t: Model) -> Self {
        domain::Tariff { service: t.service, zone: t.zone, price: t.price_kopecks, valid_from: t.valid_from }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
