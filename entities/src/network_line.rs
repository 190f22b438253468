use domain::Service;
use sea_orm::entity::prelude::*;

/// A line of the cooperative's network with its common meter: the service's main meter
/// (`parent_id` none) or a feeder/street line under it, feeding the plots in `line_plots`. The
/// meter is an ordinary meter on the cooperative's own contract `contract_id`, never billed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "network_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub service: Service,
    pub name: String,
    pub parent_id: Option<i64>,
    #[sea_orm(unique)]
    pub contract_id: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
