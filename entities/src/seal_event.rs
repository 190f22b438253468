use sea_orm::entity::prelude::*;

/// A seal reported broken with a reading. Open until an admin resolves it with a note of what
/// was done (e.g. sealed again under a new number).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "seal_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub meter_id: i64,
    /// The reading that reported it.
    pub reading_id: Option<i64>,
    pub reported_by_staff: Option<i64>,
    pub reported_at: DateTimeUtc,
    /// What the controller saw.
    pub comment: Option<String>,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolved_by: Option<i64>,
    pub resolution: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::meter::Entity", from = "Column::MeterId", to = "super::meter::Column::Id")]
    Meter,
}

impl Related<super::meter::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Meter.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
