//! The front page for office staff: what needs attention today.

use domain::ReadingStatus;
use entities::{contract, plot, reading};
use maud::{Markup, html};
use poem::web::Data;
use poem::{Result, handler};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use service::Context;
use service::ledger::debt::{self, Scope};
use service::meters::{self, VERIFICATION_NOTICE_DAYS};

use crate::auth::OfficeStaff;
use crate::error::internal;
use crate::{charts, layout, seals};

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
    let unread = service::readings::walk::unread_plots(conn, period).await.map_err(internal)?.len();
    let balances = debt::balances(conn, Scope::All, None).await.map_err(internal)?;
    let owed =
        domain::Kopecks::try_sum(balances.values().filter(|b| b.is_debtor()).map(|b| b.debt())).map_err(internal)?;
    // What the debt chart draws: debts less overpayments, so the two figures are told apart.
    let net = domain::Kopecks::try_sum(balances.values().map(|b| b.debt())).map_err(internal)?;
    let debtors = balances.values().filter(|b| b.is_debtor()).count();
    let verification_due =
        meters::verification_due(conn, ctx.today(), VERIFICATION_NOTICE_DAYS).await.map_err(internal)?.len();
    let broken_seals = service::meters::seals::open_events(conn).await.map_err(internal)?;
    // The daily digest of members' requests, instead of a message per request.
    let day_ago = ctx.now() - chrono::Duration::days(1);
    let new_requests = service::members::requests::new_since(conn, day_ago).await.map_err(internal)?;
    let waiting_requests = service::members::requests::waiting(conn).await.map_err(internal)?;
    Ok(layout::page(
        &user,
        "Сводка",
        html! {
            table {
                tr { th { "Участков" } td.num { (plots) } }
                tr { th { "Действующих договоров" } td.num { (open_contracts) } }
                tr { th { "Не сняты за " (period.russian()) } td.num { a href="/m/unread" { (unread) } } }
                tr { th { "Обращений за сутки" } td.num { a href="/requests" { (new_requests) } } }
                tr { th { "Обращений ждут ответа" } td.num { a href="/requests?status=new" { (waiting_requests) } } }
                tr { th { "Показаний на проверке" } td.num { a href="/readings?status=flagged" { (flagged) } } }
                tr { th { "Должников" } td.num { (debtors) } }
                tr { th { "Их долг" } td.num { (owed) } }
                tr { th { "Сальдо: долг за вычетом переплат" } td.num { (net) } }
                tr {
                    th { "Поверка просрочена или в ближайшие " (VERIFICATION_NOTICE_DAYS) " дней" }
                    td.num { a href="/meters/verification" { (verification_due) } }
                }
            }
            (charts::dashboard())
            h2 { "Нарушены пломбы" }
            @if broken_seals.is_empty() { p.muted { "Открытых сообщений нет." } }
            @else { (seals::open_table(&ctx, &broken_seals)) }
        },
    ))
}
