use domain::{RequestStatus, RequestTopic};
use sea_orm::entity::prelude::*;

/// A member's request to the board (обращение), numbered by its id; its text, the answers and
/// the member's replies are `request_messages`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "member_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub consumer_id: i64,
    pub topic: RequestTopic,
    pub status: RequestStatus,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Turned into a controller's task on this plot (one of the member's), at `task_set_at`:
    /// on the walk until a controller reads a meter there after that, or the request is closed.
    pub task_plot_id: Option<i64>,
    pub task_set_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
