use domain::{MeterValue, TariffPlan, Zone};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "meters")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub contract_id: i64,
    pub serial: String,
    /// 1 or 2 registers.
    pub zones: i16,
    pub installed_on: Date,
    pub initial_t1: MeterValue,
    pub initial_t2: Option<MeterValue>,
    pub seal_number: Option<String>,
    pub seal_checked_on: Option<Date>,
    pub verification_due: Option<Date>,
    /// Set when the meter is taken off (replaced); its readings stay in the history.
    pub removed_on: Option<Date>,
    pub created_at: DateTimeUtc,
}

impl Model {
    /// The registers of this meter, in reading order.
    pub fn zone_list(&self) -> &'static [Zone] {
        if self.zones == 2 { TariffPlan::DayNight.zones() } else { TariffPlan::Single.zones() }
    }

    /// Initial values, one per register.
    pub fn initial_values(&self) -> Vec<MeterValue> {
        let mut values = vec![self.initial_t1];
        if self.zones == 2 {
            values.push(self.initial_t2.unwrap_or_default());
        }
        values
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::contract::Entity", from = "Column::ContractId", to = "super::contract::Column::Id")]
    Contract,
    #[sea_orm(has_many = "super::reading::Entity")]
    Reading,
    #[sea_orm(has_many = "super::meter_photo::Entity")]
    MeterPhoto,
}

impl Related<super::contract::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Contract.def()
    }
}

impl Related<super::reading::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Reading.def()
    }
}

impl Related<super::meter_photo::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::MeterPhoto.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
