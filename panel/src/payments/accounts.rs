//! «Запомненные счета плательщиков»: the payer accounts whose statement payments go to their
//! contracts unasked, and «Забыть» for one remembered by mistake.

use maud::{Markup, html};
use poem::session::Session;
use poem::web::{Data, Form};
use poem::{Response, Result, handler};
use serde::Deserialize;
use service::Context;
use service::ledger::payments::payer_accounts::{self, Remembered};

use super::statement::REVIEW_PATH;
use crate::auth::OfficeStaff;
use crate::error::internal;
use crate::forms::{Errors, done, invalid, moment_text};
use crate::layout::{self, csrf_input};
use crate::lists::{crumbs, table};

/// Where the list lives.
pub const ACCOUNTS_PATH: &str = "/payments/accounts";

fn page(user: &OfficeStaff, ctx: &Context, remembered: &[Remembered], errors: &Errors) -> Markup {
    layout::page(
        user,
        "Запомненные счета плательщиков",
        html! {
            (crumbs(&[("/payments", "Оплаты"), (REVIEW_PATH, "Разобрать")]))
            p.muted {
                "Платёж из выписки с такого счёта вносится на эти договоры без вопросов: так решили, поставив "
                "«Запомнить» в «Разобрать». Если счёт запомнен по ошибке, забудьте его: следующий платёж с него "
                "будет ждать в «Разобрать», если в назначении нет договора или участка. Уже внесённые платежи "
                "не меняются — неверный переносится на другой договор на своей странице."
            }
            (errors.banner())
            @if remembered.is_empty() {
                p { "Запомненных счетов нет." }
            } @else {
                (table(&["Плательщик", "Счёт плательщика", "Договоры", "Запомнен", ""],
                    remembered.iter().map(|r| html! {
                        tr {
                            td { (r.payer) }
                            td { (r.account) }
                            td {
                                @for (i, (contract, plot)) in r.contracts.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    "№ " (contract) " (участок " (plot) ")"
                                }
                            }
                            td { (moment_text(ctx, r.since)) }
                            td {
                                form method="post" action={ (ACCOUNTS_PATH) "/forget" } {
                                    (csrf_input(&user.csrf))
                                    input type="hidden" name="account" value=(r.account);
                                    button.secondary type="submit" { "Забыть" }
                                }
                            }
                        }
                    })))
            }
        },
    )
}

#[handler]
pub async fn list(user: OfficeStaff, ctx: Data<&Context>) -> Result<Markup> {
    let remembered = payer_accounts::list(ctx.db.conn()).await.map_err(internal)?;
    Ok(page(&user, &ctx, &remembered, &Errors::default()))
}

#[derive(Debug, Deserialize)]
pub struct ForgetForm {
    account: String,
}

/// «Забыть»: the account's payments wait in «Разобрать» again.
#[handler]
pub async fn forget(
    user: OfficeStaff,
    session: &Session,
    ctx: Data<&Context>,
    Form(form): Form<ForgetForm>,
) -> Result<Response> {
    match payer_accounts::forget(&ctx, &form.account, user.actor()).await {
        Ok(_) => {
            let message = format!(
                "Счёт плательщика {} забыт: его следующий платёж будет ждать в «Разобрать», если в назначении нет \
                 договора или участка.",
                form.account
            );
            Ok(done(session, message, ACCOUNTS_PATH))
        }
        Err(e) => {
            let errors = Errors::refused(e)?;
            let remembered = payer_accounts::list(ctx.db.conn()).await.map_err(internal)?;
            Ok(invalid(page(&user, &ctx, &remembered, &errors)))
        }
    }
}
