//! The meters in service, and those due for verification (поверка).

use entities::meter;
use maud::{Markup, html};
use poem::web::{Data, Query};
use poem::{Result, handler};
use service::Context;
use service::meters::{self, VERIFICATION_NOTICE_DAYS};
use service::register::lists::{self, ContractRow};

use crate::auth::OfficeStaff;
use crate::error::internal;
use crate::forms::date_text;
use crate::layout;
use crate::lists::{RegisterQuery, crumbs, pager, table};

/// Meters in service, with what a walk or a seal check needs.
#[handler]
pub async fn list(user: OfficeStaff, ctx: Data<&Context>, Query(query): Query<RegisterQuery>) -> Result<Markup> {
    let rows = lists::contracts(ctx.db.conn(), &query.filter()?, ctx.current_period()).await.map_err(internal)?;
    let metered: Vec<(ContractRow, meter::Model)> =
        rows.into_iter().filter_map(|mut row| row.meter.take().map(|meter| (row, meter))).collect();
    let page = query.page(metered);
    let headers = ["Счётчик", "Участок", "Договор", "Услуга", "Пломба", "Поверка до", "В этом месяце"];
    Ok(layout::page(
        &user,
        "Счётчики",
        html! {
            (query.form("/meters"))
            (table(&headers, page.items.iter().map(|(row, meter)| html! {
                tr {
                    td { a href={ "/meters/" (meter.id) } { (meter.serial) } }
                    td { a href={ "/plots/" (row.plot.id) } { (row.plot.number) } }
                    td { a href={ "/contracts/" (row.contract.id) } { (row.contract.number) } " · " (row.consumer.full_name) }
                    td { (row.contract.service) }
                    td { (meter.seal_number.as_deref().unwrap_or("—")) }
                    td { (meter.verification_due.map(date_text).unwrap_or_else(|| "—".into())) }
                    td { @if row.unread { span.warn { "не снято" } } @else { "снято" } }
                }
            })))
            (pager(&page, "/meters", &query))
            p { a href="/meters/verification" { "Сроки поверки" } }
        },
    ))
}

/// Meters in service whose verification is overdue or due soon, the most urgent first.
#[handler]
pub async fn verification(user: OfficeStaff, ctx: Data<&Context>) -> Result<Markup> {
    let today = ctx.today();
    let due = meters::verification_due(ctx.db.conn(), today, VERIFICATION_NOTICE_DAYS).await.map_err(internal)?;
    let headers = ["Срок поверки", "Счётчик", "Участок", "Договор", "Услуга"];
    Ok(layout::page(
        &user,
        "Поверка счётчиков",
        html! {
            (crumbs(&[("/meters", "Счётчики")]))
            p.muted { "Счётчики в работе, у которых срок поверки прошёл или наступит в ближайшие " (VERIFICATION_NOTICE_DAYS) " дней." }
            (table(&headers, due.iter().map(|info| {
                let date = info.meter.verification_due.unwrap_or(today);
                html! {
                    tr {
                        td class=(if date < today { "warn" } else { "" }) {
                            (date_text(date)) @if date < today { " — просрочена" }
                        }
                        td { a href={ "/meters/" (info.meter.id) } { (info.meter.serial) } }
                        td { a href={ "/plots/" (info.plot.id) } { (info.plot.number) } }
                        td { a href={ "/contracts/" (info.contract.id) } { (info.contract.number) } }
                        td { (info.contract.service) }
                    }
                }
            })))
        },
    ))
}
