//! Seal events: a broken seal reported with a reading stays open, on the panel's front page,
//! until an admin writes down what was done about it.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_initial::{fk, index, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Restrict, SetNull};

        let mut t = table("seal_events");
        t.col(big_integer("meter_id"))
            .col(big_integer_null("reading_id"))
            .col(big_integer_null("reported_by_staff"))
            .col(timestamp_with_time_zone("reported_at"))
            .col(text_null("comment"))
            .col(timestamp_with_time_zone_null("resolved_at"))
            .col(big_integer_null("resolved_by"))
            .col(text_null("resolution"));
        fk(&mut t, "meter_id", "meters", Restrict);
        fk(&mut t, "reading_id", "readings", Restrict);
        fk(&mut t, "reported_by_staff", "staff", SetNull);
        fk(&mut t, "resolved_by", "staff", SetNull);
        manager.create_table(t).await?;
        manager.create_index(index("seal_events", &["meter_id"])).await?;
        manager.create_index(index("seal_events", &["resolved_at"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("seal_events").if_exists().take()).await
    }
}
