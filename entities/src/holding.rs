use sea_orm::entity::prelude::*;

/// Who holds which plot, and since when.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "holdings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plot_id: i64,
    pub consumer_id: i64,
    pub since: Date,
    pub until: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::plot::Entity", from = "Column::PlotId", to = "super::plot::Column::Id")]
    Plot,
    #[sea_orm(belongs_to = "super::consumer::Entity", from = "Column::ConsumerId", to = "super::consumer::Column::Id")]
    Consumer,
}

impl Related<super::plot::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Plot.def()
    }
}

impl Related<super::consumer::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Consumer.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
