use domain::Phone;
use sea_orm::entity::prelude::*;

/// A person who holds contracts.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consumers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub full_name: String,
    pub phone: Option<Phone>,
    pub notes: Option<String>,
    pub reminders_enabled: bool,
    /// Announcements muted by the member (urgent ones still come).
    pub announcements_muted: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::contract::Entity")]
    Contract,
    #[sea_orm(has_many = "super::telegram_link::Entity")]
    TelegramLink,
}

impl Related<super::contract::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Contract.def()
    }
}

impl Related<super::telegram_link::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::TelegramLink.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
