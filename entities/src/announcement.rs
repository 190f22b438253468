use domain::Period;
use sea_orm::entity::prelude::*;

/// A message from the board to members through the bot. Each recipient's send is a `deliveries`
/// row (kind `announcement`, this `period`, target `<id>:<consumer id>`), made when it is sent.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "announcements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub body: String,
    /// Shut-offs, safety: sent also to members who muted announcements.
    pub urgent: bool,
    /// The audience as the admin chose it (JSON).
    pub audience: String,
    pub period: Period,
    /// How many members it was addressed to.
    pub recipients: i32,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    /// A photo sent with the text as its caption.
    pub photo_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
