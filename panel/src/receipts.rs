//! Printable monthly receipts (квитанции) for members without Telegram: per consumer, the month's
//! readings, charges and payments, the debt and the payment QR code, each on its own A4 sheet;
//! one consumer or all of them in one print. HTML with print CSS — the browser prints it or saves
//! it as PDF — built from the monthly report's own data, so the two always agree.

use std::collections::{BTreeMap, HashMap};

use ::reports::{AccountLine, MeterLine, MonthlyData};
use domain::{Kopecks, Period};
use entities::{consumer, contract};
use maud::{Markup, html};
use poem::web::{Data, Query};
use poem::{IntoResponse, Response, Result, handler};
use sea_orm::EntityTrait;
use serde::Deserialize;
use service::Context;

use crate::auth::OfficeStaff;
use crate::error::internal;
use crate::forms::{Errors, date_text, invalid, period_field};
use crate::lists::table;
use crate::{PanelConfig, layout, payee, reports};

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ReceiptQuery {
    period: String,
    /// One consumer's receipt; none: everyone's with a contract in the month.
    consumer: Option<i64>,
}

/// One consumer's part of the month.
struct Receipt<'a> {
    consumer: consumer::Model,
    meters: Vec<&'a MeterLine>,
    accounts: Vec<&'a AccountLine>,
}

#[handler]
pub async fn show(
    user: OfficeStaff,
    ctx: Data<&Context>,
    config: Data<&PanelConfig>,
    Query(query): Query<ReceiptQuery>,
) -> Result<Response> {
    // The month just finished, as for the monthly report.
    let period = match query.period.trim() {
        "" => ctx.current_period().prev().to_string(),
        typed => typed.to_owned(),
    };
    let mut errors = Errors::default();
    let mut data = None;
    if let Some(month) = errors.check("period", Period::parse(&period)) {
        match ::reports::monthly_data(&ctx, month, config.public_url.as_str()).await {
            Ok(month) => data = Some(month),
            Err(e) => errors = Errors::form(reports::refused(e)?),
        }
    }
    let form = html! {
        div.no-print {
            (errors.banner())
            form.stack method="get" action="/receipts" {
                @if let Some(id) = query.consumer { input type="hidden" name="consumer" value=(id); }
                (period_field(&errors, "period", "Месяц", &period))
                button type="submit" { "Показать" }
            }
            p.muted { "Каждая квитанция печатается на отдельном листе A4: напечатайте страницу (Ctrl+P) или сохраните её в PDF." }
        }
    };
    let Some(data) = data else {
        return Ok(invalid(layout::page(&user, "Квитанции", form)));
    };
    let receipts = receipts(&ctx, &data, query.consumer).await?;
    let mut sheets = Vec::with_capacity(receipts.len());
    let details = payee::payee(&ctx).await?;
    for receipt in &receipts {
        let payment = payee::owed_block(&ctx, &details, receipt.consumer.id).await?;
        sheets.push(sheet(data.period, receipt, payment));
    }
    let body = html! {
        (form)
        @if sheets.is_empty() { p { "За " (data.period.russian()) " начислений и договоров нет." } }
        @for sheet in sheets { (sheet) }
    };
    Ok(layout::page(&user, "Квитанции", body).into_response())
}

/// The month's lines by consumer (by name), narrowed to `only` if given.
async fn receipts<'a>(ctx: &Context, data: &'a MonthlyData, only: Option<i64>) -> Result<Vec<Receipt<'a>>> {
    let conn = ctx.db.conn();
    let owner: HashMap<i64, i64> = contract::Entity::find()
        .all(conn)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|c| (c.id, c.consumer_id))
        .collect();
    let consumers: HashMap<i64, consumer::Model> =
        consumer::Entity::find().all(conn).await.map_err(internal)?.into_iter().map(|c| (c.id, c)).collect();
    let owner_of = |contract_id: i64| {
        owner.get(&contract_id).and_then(|id| consumers.get(id)).filter(|c| only.is_none_or(|o| o == c.id))
    };
    let mut by_consumer: BTreeMap<(String, i64), Receipt<'a>> = BTreeMap::new();
    for line in &data.accounts {
        if let Some(consumer) = owner_of(line.contract.id) {
            receipt_of(&mut by_consumer, consumer).accounts.push(line);
        }
    }
    for line in &data.meters {
        if let Some(consumer) = owner_of(line.contract.id) {
            receipt_of(&mut by_consumer, consumer).meters.push(line);
        }
    }
    Ok(by_consumer.into_values().collect())
}

fn receipt_of<'m, 'a>(
    receipts: &'m mut BTreeMap<(String, i64), Receipt<'a>>,
    consumer: &consumer::Model,
) -> &'m mut Receipt<'a> {
    receipts.entry((consumer.full_name.clone(), consumer.id)).or_insert_with(|| Receipt {
        consumer: consumer.clone(),
        meters: Vec::new(),
        accounts: Vec::new(),
    })
}

fn sheet(period: Period, receipt: &Receipt<'_>, payment: Markup) -> Markup {
    let mut plots: Vec<&str> = Vec::new();
    for account in &receipt.accounts {
        if !plots.contains(&account.contract.plot.as_str()) {
            plots.push(&account.contract.plot);
        }
    }
    let total = |f: fn(&AccountLine) -> Kopecks| Kopecks::try_sum(receipt.accounts.iter().map(|a| f(a)));
    html! {
        section.receipt {
            h2 { "Квитанция за " (period.russian()) }
            table.details {
                tr { th { "Потребитель" } td { (receipt.consumer.full_name) } }
                tr { th { "Участок" } td { (plots.join(", ")) } }
            }
            h3 { "Показания" }
            (table(&["Договор", "Счётчик", "Зона", "Было", "Стало", "Расход", "Тариф", "Сумма"], receipt.meters.iter().map(|m| html! {
                tr {
                    td { (m.contract.number) " · " (m.contract.service) }
                    td { (m.serial) }
                    td { (m.zone.label()) }
                    td.num { (m.previous.value) " (" (date_text(m.previous.date)) ")" }
                    @match &m.billed {
                        Some(b) => {
                            td.num { (b.current.value) " (" (date_text(b.current.date)) ")" }
                            td.num { (b.consumption) " " (m.contract.service.unit()) }
                            td.num { (b.price) }
                            td.num { (b.amount) }
                        }
                        None => td colspan="4" { "показаний за месяц нет" },
                    }
                }
            })))
            h3 { "Начисления и оплаты" }
            table {
                thead { tr { th { "Договор" } th { "Долг на начало месяца" } th { "Начислено" } th { "Оплачено" } th { "Долг на конец месяца" } } }
                tbody {
                    @for a in &receipt.accounts {
                        tr {
                            td { (a.contract.number) " · " (a.contract.service) }
                            td.num { (a.movement.opening) }
                            td.num { (a.movement.charged) }
                            td.num { (a.movement.paid) }
                            td.num { (a.movement.closing) }
                        }
                    }
                    tr.total {
                        th { "Итого" }
                        @for sum in [total(|a| a.movement.opening), total(|a| a.movement.charged), total(|a| a.movement.paid), total(|a| a.movement.closing)] {
                            @match sum {
                                Ok(sum) => td.num { (sum) },
                                Err(_) => td.num { "вне пределов суммы" },
                            }
                        }
                    }
                }
            }
            p.muted { "Долг — положительная сумма, переплата — отрицательная. QR-код ниже — на задолженность на сегодня, с учётом оплат после конца месяца." }
            (payment)
        }
    }
}
