//! Announcements from the board to members through the bot (each recipient's send is a
//! `deliveries` row), the members' switch to mute them, and members' requests to the board with
//! their messages both ways.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_initial::{fk, index, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table("consumers").add_column(boolean("announcements_muted").default(false)).take(),
            )
            .await?;

        let mut t = table("announcements");
        t.col(text("body"))
            .col(boolean("urgent"))
            // The audience as chosen, for the record (JSON), and the month its deliveries are under.
            .col(text("audience"))
            .col(string("period"))
            .col(integer("recipients"))
            .col(big_integer_null("created_by"))
            .col(timestamp_with_time_zone("created_at"));
        fk(&mut t, "created_by", "staff", ForeignKeyAction::SetNull);
        manager.create_table(t).await?;

        let mut t = table("member_requests");
        t.col(big_integer("consumer_id"))
            .col(string("topic"))
            .col(string("status"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"));
        fk(&mut t, "consumer_id", "consumers", ForeignKeyAction::Cascade);
        manager.create_table(t).await?;
        manager.create_index(index("member_requests", &["status"])).await?;
        manager.create_index(index("member_requests", &["consumer_id"])).await?;

        // The request's text is its first message; answers and replies follow in order.
        let mut t = table("request_messages");
        t.col(big_integer("request_id"))
            .col(text("body"))
            .col(big_integer_null("photo_id"))
            .col(big_integer_null("staff_id"))
            .col(big_integer_null("telegram_user_id"))
            .col(timestamp_with_time_zone("created_at"));
        fk(&mut t, "request_id", "member_requests", ForeignKeyAction::Cascade);
        fk(&mut t, "photo_id", "photos", ForeignKeyAction::SetNull);
        fk(&mut t, "staff_id", "staff", ForeignKeyAction::SetNull);
        manager.create_table(t).await?;
        manager.create_index(index("request_messages", &["request_id"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["request_messages", "member_requests", "announcements"] {
            manager.drop_table(Table::drop().table(name).if_exists().take()).await?;
        }
        manager.alter_table(Table::alter().table("consumers").drop_column("announcements_muted").take()).await
    }
}
