use domain::Period;
use sea_orm::entity::prelude::*;

/// Something the scheduler must send once per period and target (a monthly report to a chat, a
/// reminder to a consumer): the row exists before the send, `sent_at` is set after it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    pub period: Period,
    pub target: String,
    pub sent_at: Option<DateTimeUtc>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// Of a send in two messages (a photo, then a text too long for its caption), how many
    /// Telegram took: a retry sends only the rest.
    pub parts_sent: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
