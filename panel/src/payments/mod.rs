//! Payments: the list, entering one by hand, and importing the bank's file ([`import`]).

pub mod accounts;
pub mod import;
pub mod reversal;
pub mod statement;

use domain::{Kopecks, PaymentSource, Period};
use maud::{Markup, html};
use poem::session::Session;
use poem::web::{Data, Form, Query};
use poem::{Response, Result, handler};
use serde::{Deserialize, Serialize};
use service::dates::parse_date;
use service::ledger::payments::{NewPayment, PaymentError, PaymentFilter, PaymentRow};
use service::paging::PER_PAGE;
use service::{Context, ledger};

use crate::auth::OfficeStaff;
use crate::error::internal;
use crate::forms::{
    Errors, date_field, date_text, date_value, done, invalid, money_field, optional, options, parse_choice,
    period_field, required_text_field, text_field,
};
use crate::layout::{self, csrf_input};
use crate::lists::{crumbs, filters, pager, table};

/// Payments with their contracts.
pub fn rows_table(rows: &[PaymentRow]) -> Markup {
    let headers =
        ["Дата оплаты", "Договор", "Участок", "Потребитель", "За месяц", "Сумма", "Номер платежа", "Внесена", "Сторно"];
    table(
        &headers,
        rows.iter().map(|r| {
            let p = &r.payment;
            html! {
                tr {
                    td { (date_text(p.paid_on)) }
                    td { a href={ "/contracts/" (r.contract.contract.id) } { (r.contract.contract.number) } }
                    td { (r.contract.plot_number) }
                    td { (r.contract.consumer_name) }
                    td { (p.period) }
                    td.num { (p.amount_kopecks) }
                    td { (p.reference.as_deref().unwrap_or("—")) }
                    td { (p.source) }
                    td {
                        @if let Some(original) = p.reverses_id {
                            a href={ "/payments/" (p.id) } { "сторно платежа № " (original) }
                        } @else if let Some(reversal) = r.reversed_by {
                            a href={ "/payments/" (p.id) } { "сторнирован (№ " (reversal) ")" }
                        } @else {
                            a href={ "/payments/" (p.id) } { "Сторнировать…" }
                        }
                    }
                }
            }
        }),
    )
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PaymentsQuery {
    contract: String,
    period: String,
    source: String,
    page: Option<u64>,
}

impl PaymentsQuery {
    fn filter(&self) -> PaymentFilter {
        PaymentFilter {
            contract_number: optional(&self.contract),
            contract_id: None,
            period: Period::parse(&self.period).ok(),
            source: parse_choice::<PaymentSource>(&self.source).ok().flatten(),
        }
    }
}

#[handler]
pub async fn list(user: OfficeStaff, ctx: Data<&Context>, Query(query): Query<PaymentsQuery>) -> Result<Markup> {
    let page = ledger::payments::list(ctx.db.conn(), &query.filter(), query.page.unwrap_or(1), PER_PAGE)
        .await
        .map_err(internal)?;
    Ok(layout::page(
        &user,
        "Оплаты",
        html! {
            p {
                a.button href="/payments/new" { "Внести оплату" } " "
                a.button.secondary href="/payments/import" { "Загрузить выписку" } " "
                a.button.secondary href="/payments/statement" { "Выписка банка (1С)" } " "
                a.button.secondary href=(statement::REVIEW_PATH) { "Разобрать" }
            }
            (filters("/payments", html! {
                input type="search" name="contract" value=(query.contract) placeholder="№ договора" aria-label="Договор";
                input type="month" name="period" value=(query.period) aria-label="За месяц";
                select name="source" aria-label="Как внесена" { (options::<PaymentSource>(&query.source, Some("Вручную и импорт"))) }
            }))
            (rows_table(&page.items))
            (pager(&page, "/payments", &query))
        },
    ))
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct PaymentForm {
    contract: String,
    amount: String,
    paid_on: String,
    /// «За месяц»: optional, the month of the payment date when left empty.
    period: String,
    reference: String,
    /// Sent by «Всё равно внести» after the duplicate question.
    confirm_duplicate: String,
}

impl PaymentForm {
    fn parse(&self) -> Result<NewPayment, Errors> {
        let mut errors = Errors::default();
        if self.contract.trim().is_empty() {
            errors.add("contract", "Укажите номер договора.");
        }
        let amount = errors.check("amount", Kopecks::parse_payment(&self.amount));
        let paid_on = errors.check("paid_on", parse_date(&self.paid_on));
        let for_period = match optional(&self.period) {
            Some(text) => errors.check("period", Period::parse(&text)),
            None => None,
        };
        match (amount, paid_on) {
            (Some(amount), Some(paid_on)) if errors.is_empty() => Ok(NewPayment {
                contract_number: self.contract.trim().to_owned(),
                amount,
                paid_on,
                for_period,
                reference: optional(&self.reference),
                confirm_duplicate: !self.confirm_duplicate.is_empty(),
            }),
            _ => Err(errors),
        }
    }
}

/// The form; `ask` is the duplicate question, answered by «Всё равно внести».
fn entry_page(user: &OfficeStaff, form: &PaymentForm, errors: &Errors, ask: Option<&str>) -> Markup {
    layout::page(
        user,
        "Новая оплата",
        html! {
            (crumbs(&[("/payments", "Оплаты")]))
            (errors.banner())
            form.stack method="post" action="/payments" {
                (csrf_input(&user.csrf))
                (required_text_field(errors, "contract", "Номер договора", &form.contract))
                (money_field(errors, "amount", "Сумма, ₽", &form.amount))
                (date_field(errors, "paid_on", "Дата оплаты", &form.paid_on))
                (period_field(errors, "period", "За месяц (необязательно: учитывается по дате оплаты)", &form.period))
                (text_field(errors, "reference", "Номер платежа (из выписки или квитанции)", &form.reference))
                @if let Some(question) = ask {
                    p.warning role="alert" { (question) }
                    button type="submit" name="confirm_duplicate" value="1" { "Всё равно внести" }
                } @else {
                    button type="submit" { "Внести" }
                }
            }
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct NewQuery {
    contract: Option<String>,
}

/// «За месяц» starts empty: the payment counts on its date, the month it is for is optional.
#[handler]
pub fn new(user: OfficeStaff, ctx: Data<&Context>, Query(query): Query<NewQuery>) -> Markup {
    let form = PaymentForm {
        contract: query.contract.unwrap_or_default(),
        paid_on: date_value(ctx.today()),
        ..PaymentForm::default()
    };
    entry_page(&user, &form, &Errors::default(), None)
}

#[handler]
pub async fn create(
    user: OfficeStaff,
    session: &Session,
    ctx: Data<&Context>,
    Form(form): Form<PaymentForm>,
) -> Result<Response> {
    let errors = match form.parse() {
        Ok(payment) => {
            let (number, amount) = (payment.contract_number.clone(), payment.amount);
            match service::ledger::payments::record(&ctx, payment, user.actor()).await {
                Ok(_) => {
                    return Ok(done(session, format!("Оплата {amount} по договору № {number} внесена."), "/payments"));
                }
                Err(e @ PaymentError::PossibleDuplicate { .. }) => {
                    return Ok(invalid(entry_page(&user, &form, &Errors::default(), Some(&e.to_string()))));
                }
                Err(e) => Errors::refused(e)?,
            }
        }
        Err(errors) => errors,
    };
    Ok(invalid(entry_page(&user, &form, &errors, None)))
}
