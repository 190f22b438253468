use sea_orm::entity::prelude::*;

/// One message of a member's request: the member's (with `telegram_user_id`) or a staff
/// member's answer (with `staff_id`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "request_messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub request_id: i64,
    pub body: String,
    pub photo_id: Option<i64>,
    pub staff_id: Option<i64>,
    pub telegram_user_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
