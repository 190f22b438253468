use domain::Role;
use sea_orm::entity::prelude::*;

/// An office or field worker who logs in to the panel (and may link a Telegram account).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub login: String,
    pub full_name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    pub role: Role,
    pub active: bool,
    pub failed_attempts: i32,
    pub locked_until: Option<DateTimeUtc>,
    #[sea_orm(unique)]
    pub telegram_user_id: Option<i64>,
    /// SHA-256 of the API token, hex; the token itself is shown once.
    #[sea_orm(unique)]
    pub api_token_hash: Option<String>,
    pub created_at: DateTimeUtc,
    /// Moves on with every password or access change; a session opened in an earlier epoch is over.
    pub session_epoch: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
