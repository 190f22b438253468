use sea_orm::entity::prelude::*;

/// A payer's bank account and a contract the accountant chose for its payments: the next
/// statement's payments from that account match it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payer_accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub payer_account: String,
    pub contract_id: i64,
    pub staff_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
