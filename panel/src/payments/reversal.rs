//! One payment, with «Сторнировать» and «Перенести на другой договор» (accountant or admin), and
//! the bank document it is the money of, with «Отвязать» when «Уже внесён» marked it.

use domain::PaymentSource;
use maud::{Markup, html};
use poem::session::Session;
use poem::web::{Data, Form, Path};
use poem::{Response, Result, handler};
use sea_orm::EntityTrait;
use serde::Deserialize;
use service::Context;
use service::ledger::payments::{self, PaymentRow, reversal, statement};

use crate::auth::OfficeStaff;
use crate::error::{found, internal};
use crate::forms::{Errors, date_text, done, invalid, required_text_field, textarea_field};
use crate::layout::{self, csrf_input};
use crate::lists::crumbs;

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ReversalForm {
    /// Only for a transfer: the contract the money was meant for.
    contract: String,
    reason: String,
}

/// A payment as its page shows it.
struct Shown {
    row: PaymentRow,
    /// The bank document it is the money of, if any.
    document: Option<Document>,
}

struct Document {
    model: entities::bank_document::Model,
    /// «Уже внесён» marked it as this payment's money, so it may be unlinked.
    marked_entered: bool,
}

async fn load(ctx: &Context, id: i64) -> Result<Shown> {
    let conn = ctx.db.conn();
    let payment = found(entities::payment::Entity::find_by_id(id).one(conn).await)?;
    let document_id = payment.bank_document_id;
    let rows = payments::rows(conn, vec![payment]).await.map_err(internal)?;
    let row = rows.into_iter().next().ok_or_else(crate::error::not_found)?;
    let document = match document_id {
        Some(id) => {
            let marked_entered = statement::marked_entered(conn, id).await.map_err(internal)?.is_some();
            statement::document(conn, id).await.map_err(internal)?.map(|model| Document { model, marked_entered })
        }
        None => None,
    };
    Ok(Shown { row, document })
}

fn payment_page(user: &OfficeStaff, shown: &Shown, form: &ReversalForm, errors: &Errors) -> Markup {
    let p = &shown.row.payment;
    let c = &shown.row.contract;
    layout::page(
        user,
        &format!("Платёж № {}", p.id),
        html! {
            (crumbs(&[("/payments", "Оплаты")]))
            (errors.banner())
            table.card {
                tr { th { "Договор" } td { a href={ "/contracts/" (c.contract.id) } { (c.contract.number) } " · участок " (c.plot_number) " · " (c.consumer_name) } }
                tr { th { "Сумма" } td.num { (p.amount_kopecks) } }
                tr { th { "Дата оплаты" } td { (date_text(p.paid_on)) } }
                tr { th { "Учтён в месяце" } td { (p.period.russian()) } }
                tr { th { "Номер платежа" } td { (p.reference.as_deref().unwrap_or("—")) } }
                tr { th { "Внесён" } td { (p.source) } }
                @if let Some(reason) = &p.reason { tr { th { "Основание" } td { (reason) } } }
                @if let Some(Document { model: d, .. }) = &shown.document {
                    tr { th { "Документ выписки" } td { "№ " (d.number) " от " (date_text(d.doc_date)) ", " (d.amount_kopecks) ", " (d.payer) } }
                }
            }
            @if let Some(Document { model: d, marked_entered: true }) = &shown.document {
                p.muted { "Документ выписки отмечен кнопкой «Уже внесён» как деньги этого платежа. Если это ошибка, отвяжите его: документ вернётся в «Разобрать», платёж не изменится. Пока документ привязан, платёж не сторнируют (деньги документа остались бы неучтёнными); перенести его на другой договор можно." }
                form method="post" action={ "/payments/" (p.id) "/unlink" } {
                    (csrf_input(&user.csrf))
                    button type="submit" { "Отвязать документ № " (d.number) }
                }
            }
            @if let Some(original) = p.reverses_id {
                p { "Это сторно " a href={ "/payments/" (original) } { "платежа № " (original) } "." }
            } @else if let Some(reversal) = shown.row.reversed_by {
                p { "Платёж сторнирован: " a href={ "/payments/" (reversal) } { "строка сторно № " (reversal) } "." }
            } @else {
                p.muted {
                    "Закрытый месяц не меняется: сторно — отрицательная строка сегодняшним днём в открытом месяце. "
                    "Перенос — сторно здесь и та же сумма на другом договоре, обе строки датой оплаты, в одном месяце."
                }
                h2 { "Сторнировать" }
                form.stack method="post" action={ "/payments/" (p.id) "/reverse" } {
                    (csrf_input(&user.csrf))
                    (textarea_field(errors, "reason", "Причина", &form.reason))
                    button type="submit" { "Сторнировать" }
                }
                h2 { "Перенести на другой договор" }
                form.stack method="post" action={ "/payments/" (p.id) "/transfer" } {
                    (csrf_input(&user.csrf))
                    (required_text_field(errors, "contract", "Номер договора, на который перенести", &form.contract))
                    (textarea_field(errors, "reason", "Причина", &form.reason))
                    button type="submit" { "Перенести на другой договор" }
                }
            }
        },
    )
}

#[handler]
pub async fn show(user: OfficeStaff, ctx: Data<&Context>, Path(id): Path<i64>) -> Result<Markup> {
    let shown = load(&ctx, id).await?;
    Ok(payment_page(&user, &shown, &ReversalForm::default(), &Errors::default()))
}

#[handler]
pub async fn reverse(
    user: OfficeStaff,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<ReversalForm>,
) -> Result<Response> {
    let shown = load(&ctx, id).await?;
    match reversal::reverse(&ctx, id, &form.reason, PaymentSource::Panel, user.actor()).await {
        Ok(line) => {
            let message = format!(
                "Платёж № {id} сторнирован: {} по договору № {}.",
                line.amount_kopecks, shown.row.contract.contract.number
            );
            Ok(done(session, message, format!("/payments/{}", line.id)))
        }
        Err(e) => Ok(invalid(payment_page(&user, &shown, &form, &Errors::refused(e)?))),
    }
}

#[handler]
pub async fn transfer(
    user: OfficeStaff,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<ReversalForm>,
) -> Result<Response> {
    let shown = load(&ctx, id).await?;
    match reversal::transfer(&ctx, id, &form.contract, &form.reason, PaymentSource::Panel, user.actor()).await {
        Ok(reversal::Moved { moved, forgotten_account, .. }) => {
            let from = &shown.row.contract.contract.number;
            let mut message =
                format!("Платёж № {id} перенесён с договора № {from} на договор № {}.", form.contract.trim());
            if let Some(forgotten) = forgotten_account {
                message.push_str(&format!(
                    " Счёт плательщика {} больше не запоминается: его следующие платежи без договора или участка в \
                     назначении придут в «Разобрать».",
                    forgotten.account
                ));
            }
            Ok(done(session, message, format!("/payments/{}", moved.id)))
        }
        Err(e) => Ok(invalid(payment_page(&user, &shown, &form, &Errors::refused(e)?))),
    }
}

/// «Отвязать»: the document «Уже внесён» marked as this payment's money waits in «Разобрать» again.
#[handler]
pub async fn unlink(
    user: OfficeStaff,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
) -> Result<Response> {
    let shown = load(&ctx, id).await?;
    match statement::unlink_entered(&ctx, id, user.actor()).await {
        Ok(document) => {
            let message = format!(
                "Документ выписки № {} на {} отвязан от платежа № {id} и ждёт в «Разобрать».",
                document.number, document.amount_kopecks
            );
            Ok(done(session, message, format!("/payments/{id}")))
        }
        Err(e) => Ok(invalid(payment_page(&user, &shown, &ReversalForm::default(), &Errors::refused(e)?))),
    }
}
