use domain::{Kopecks, PaymentSource, Period};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub contract_id: i64,
    pub amount_kopecks: Kopecks,
    pub paid_on: Date,
    /// The booking month: the month the money arrived (or the first open month after it).
    pub period: Period,
    /// The month the payer said it is for (information only).
    pub for_period: Period,
    /// Bank or receipt reference; unique, so an imported file cannot be counted twice.
    #[sea_orm(unique)]
    pub reference: Option<String>,
    pub staff_id: Option<i64>,
    pub source: PaymentSource,
    pub created_at: DateTimeUtc,
    /// The payment this one reverses (a reversal is negative); unique: an original is reversed once.
    #[sea_orm(unique)]
    pub reverses_id: Option<i64>,
    /// The bank statement's document it was posted from (`bank_documents`).
    pub bank_document_id: Option<i64>,
    /// Why a reversal, or a payment moved from another contract, was booked.
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::contract::Entity", from = "Column::ContractId", to = "super::contract::Column::Id")]
    Contract,
}

impl Related<super::contract::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Contract.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
