use sea_orm::entity::prelude::*;

/// A panel session; `entries` is the session's JSON map, `staff_id` who is logged in with it (so
/// their sessions can be ended when their password or access changes).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "web_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub entries: String,
    pub expires_at: DateTimeUtc,
    pub staff_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
