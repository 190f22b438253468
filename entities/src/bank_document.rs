use domain::Kopecks;
use sea_orm::entity::prelude::*;

/// An incoming document of a bank statement, stored once by its identity (`identity_key`:
/// account + date + number + amount + payer account).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bank_documents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub identity_key: String,
    /// The cooperative's account the money came to.
    pub account: String,
    pub doc_date: Date,
    pub number: String,
    pub amount_kopecks: Kopecks,
    pub payer_account: String,
    pub payer: String,
    pub purpose: String,
    /// The day the money arrived: the payments' `paid_on`.
    pub arrived_on: Date,
    /// `posted`, `review` (waiting in «Разобрать») or `other` (no payment for services).
    pub status: String,
    pub review_reason: Option<String>,
    /// The statement file it came in.
    pub file_name: String,
    /// Who loaded the statement.
    pub staff_id: Option<i64>,
    pub created_at: DateTimeUtc,
    /// Who chose its contracts in «Разобрать», and when.
    pub resolved_by: Option<i64>,
    pub resolved_at: Option<DateTimeUtc>,
    /// Why it was set aside as no payment for services (status `other`), in the accountant's words.
    pub resolution_note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
