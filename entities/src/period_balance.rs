use domain::{Kopecks, Period};
use sea_orm::entity::prelude::*;

/// One contract's figures of a closed month, stored when the month closed (deleted when it is
/// reopened): closing = opening + consumption + recalculations + opening balances − paid.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "period_balances")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub period: Period,
    pub contract_id: i64,
    pub opening: Kopecks,
    pub consumption: Kopecks,
    pub recalculations: Kopecks,
    pub opening_balances: Kopecks,
    pub paid: Kopecks,
    pub closing: Kopecks,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
