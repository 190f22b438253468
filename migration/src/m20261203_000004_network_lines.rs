//! The cooperative's own network (issue 16): its lines with their common meters and the plots
//! each feeds, plots' areas, and the general meeting's decisions on sharing the losses.
//!
//! A line's common meter is an ordinary meter on the cooperative's own contract for the line
//! (`network_lines.contract_id`), so one meter per contract stays true and every door and rule
//! for readings applies to it unchanged; that contract is never billed.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_initial::{fk, index, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut t = table("network_lines");
        t.col(string("service"))
            .col(text("name"))
            // None: the service's main meter (at the transformer or the water intake).
            .col(big_integer_null("parent_id"))
            .col(big_integer("contract_id").unique_key())
            .col(timestamp_with_time_zone("created_at"));
        fk(&mut t, "parent_id", "network_lines", ForeignKeyAction::Restrict);
        fk(&mut t, "contract_id", "contracts", ForeignKeyAction::Restrict);
        manager.create_table(t).await?;

        let mut t = table("line_plots");
        t.col(big_integer("line_id")).col(big_integer("plot_id"));
        fk(&mut t, "line_id", "network_lines", ForeignKeyAction::Cascade);
        fk(&mut t, "plot_id", "plots", ForeignKeyAction::Restrict);
        manager.create_table(t).await?;
        let mut unique = index("line_plots", &["line_id", "plot_id"]);
        manager.create_index(unique.unique().take()).await?;

        let mut t = table("loss_decisions");
        t.col(string("service"))
            .col(string("method"))
            .col(integer_null("cap_percent"))
            .col(integer("flag_percent"))
            .col(date("decided_on"))
            .col(big_integer_null("staff_id"))
            .col(timestamp_with_time_zone("created_at"));
        fk(&mut t, "staff_id", "staff", ForeignKeyAction::SetNull);
        manager.create_table(t).await?;

        // Square metres; unknown until the register says.
        manager.alter_table(Table::alter().table("plots").add_column(big_integer_null("area_m2")).take()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("plots").drop_column("area_m2").take()).await?;
        for name in ["loss_decisions", "line_plots", "network_lines"] {
            manager.drop_table(Table::drop().table(name).if_exists().take()).await?;
        }
        Ok(())
    }
}
