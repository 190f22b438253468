use sea_orm::entity::prelude::*;

/// A stored image, addressed by the SHA-256 of its re-encoded bytes (so a photo sent twice is
/// stored once). Paths are relative to `PHOTO_DIR`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "photos")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub sha256: String,
    pub path: String,
    pub thumb_path: String,
    pub width: i32,
    pub height: i32,
    pub bytes: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
