use domain::{LossMethod, Service};
use sea_orm::entity::prelude::*;

/// A general meeting's decision on sharing a service's network losses, in force from
/// `decided_on`; rows are only added, so the history stays.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "loss_decisions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub service: Service,
    pub method: LossMethod,
    /// The plots pay for losses up to this percent of what they bought; the rest stays with
    /// the cooperative.
    pub cap_percent: Option<i32>,
    /// A line losing more than this percent is flagged.
    pub flag_percent: i32,
    pub decided_on: Date,
    pub staff_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
