use domain::{MeterValue, Period, ReadingSource, ReadingStatus};
use sea_orm::entity::prelude::*;

/// A meter reading. Rows are never rewritten: a correction is a new row whose `supersedes_id`
/// points at the reading it replaces, and only `status` moves (flagged → accepted, accepted →
/// superseded), each move written to the audit log.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "readings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub meter_id: i64,
    pub period: Period,
    pub taken_at: DateTimeUtc,
    /// The single register, or the day register of a two-zone meter.
    pub value_t1: MeterValue,
    /// The night register of a two-zone meter.
    pub value_t2: Option<MeterValue>,
    pub source: ReadingSource,
    pub staff_id: Option<i64>,
    pub consumer_id: Option<i64>,
    pub seal_intact: Option<bool>,
    pub comment: Option<String>,
    pub photo_id: Option<i64>,
    pub status: ReadingStatus,
    pub supersedes_id: Option<i64>,
    /// Makes a retried submission (same Telegram update, same form) a no-op. Stored scoped to the
    /// meter and the author (`m<meter>:s<staff>:<key>`, see `service::readings`), so the unique
    /// index holds per meter and author.
    #[sea_orm(unique)]
    pub idempotency_key: Option<String>,
    pub created_at: DateTimeUtc,
}

impl Model {
    /// Values, one per register.
    pub fn values(&self) -> Vec<MeterValue> {
        register_values(self.value_t1, self.value_t2)
    }
}

/// A reading's stored values (`value_t1`, `value_t2`), one per register in the meter's order,
/// for queries that select those columns alone.
pub fn register_values(t1: MeterValue, t2: Option<MeterValue>) -> Vec<MeterValue> {
    std::iter::once(t1).chain(t2).collect()
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
