//! The front page for office staff: what needs attention today.

use domain::ReadingStatus;
use entities::{contract, plot, reading};
use maud::{Markup, html};
use poem::web::Data;
use poem::{Result, handler};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use service::Context;
use service::debt::{self, Scope};

use crate::auth::OfficeStaff;
use crate::error::internal;
use crate::layout;

#[handler]
pub async fn dashboard(user: OfficeStaff, ctx: Data<&Context>) -> Result<Markup> {
    let conn = ctx.db.conn();
    let period = ctx.current_period();
    let plots = plot::Entity::find().count(conn).await.map_err(internal)?;
    let open_contracts =
        contract::Entity::find().filter(contract::Column::ClosedOn.is_null()).count(conn).await.map_err(internal)?;
    let flagged = reading::Entity::find()
        .filter(reading::Column::Status.eq(ReadingStatus::Flagged))
        .count(conn)
        .await
        .map_err(internal)?;
    let unread = service::readings::unread_plots(conn, period).await.map_err(internal)?.len();
    let balances = debt::balances(conn, Scope::All, None).await.map_err(internal)?;
    let owed: domain::Kopecks = balances.values().map(|b| b.debt()).filter(|d| d.is_positive()).sum();
    let debtors = balances.values().filter(|b| b.debt().is_positive()).count();
    Ok(layout::page(
        &user,
        "Сводка",
        html! {
            table {
                tr { th { "Участков" } td.num { (plots) } }
                tr { th { "Действующих договоров" } td.num { (open_contracts) } }
                tr { th { "Не сняты за " (period.russian()) } td.num { a href="/m/unread" { (unread) } } }
                tr { th { "Показаний на проверке" } td.num { a href="/readings?status=flagged" { (flagged) } } }
                tr { th { "Должников" } td.num { (debtors) } }
                tr { th { "Общий долг" } td.num { (owed) } }
            }
        },
    ))
}
