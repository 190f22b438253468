use sea_orm::entity::prelude::*;

/// A previewed import file's rows (JSON) waiting for its uploader's confirmation; one per staff
/// member and kind of import, removed when confirmed or expired.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "import_drafts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Random; the confirmation form sends it back.
    pub token: String,
    pub staff_id: i64,
    pub kind: String,
    pub file_name: String,
    pub rows: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
