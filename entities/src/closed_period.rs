use domain::Period;
use sea_orm::entity::prelude::*;

/// A closed month (its report went to the accountants). Closed months form a prefix of the
/// calendar: one row for each, up to the last closed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "closed_periods")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub period: Period,
    pub closed_at: DateTimeUtc,
    /// The staff member who closed it; none for the scheduler (and the upgrade).
    pub closed_by: Option<i64>,
    /// `panel`, `report` (the scheduler, for the report), `cascade` (closed with a later month),
    /// `migration`.
    pub how: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
