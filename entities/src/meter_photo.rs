use sea_orm::entity::prelude::*;

/// A reference photo of a meter in the inventory (installation, seal).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "meter_photos")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub meter_id: i64,
    pub photo_id: i64,
    pub taken_at: DateTimeUtc,
    pub staff_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::meter::Entity", from = "Column::MeterId", to = "super::meter::Column::Id")]
    Meter,
    #[sea_orm(belongs_to = "super::photo::Entity", from = "Column::PhotoId", to = "super::photo::Column::Id")]
    Photo,
}

impl Related<super::meter::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Meter.def()
    }
}

impl Related<super::photo::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Photo.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
