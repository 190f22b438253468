use sea_orm::entity::prelude::*;

/// The cooperative's bank details as an admin saved them (checked by `bank::BankDetails::parse`
/// before saving, digits without spaces). One row, id 1.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bank_details")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub payee: String,
    pub inn: String,
    pub kpp: String,
    pub account: String,
    pub bank_name: String,
    pub bic: String,
    pub correspondent_account: String,
    /// The staff member who saved them last.
    pub updated_by: Option<i64>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
