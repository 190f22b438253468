//! The cooperative as the payee: its bank details (admins set them on «Реквизиты»), and the
//! payment QR code with the same details in words on consumer and contract pages.

use maud::{Markup, PreEscaped, html};
use poem::http::{StatusCode, header};
use poem::session::Session;
use poem::web::{Data, Form, Path};
use poem::{Response, Result, handler};
use sea_orm::EntityTrait;
use serde::Deserialize;
use service::Context;
use service::payee::details::{self, BankDetails, DetailsInput, DetailsSaveError, Field};
use service::payee::qr::{self, PayError, Payment, Target};

use crate::auth::{Admin, OfficeStaff};
use crate::error::{found, internal, page_response};
use crate::forms::{Errors, done, invalid, moment_text, text_field};
use crate::layout::{self, csrf_input};

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct DetailsForm {
    payee: String,
    inn: String,
    kpp: String,
    account: String,
    bank_name: String,
    bic: String,
    correspondent_account: String,
}

impl DetailsForm {
    fn input(&self) -> DetailsInput<'_> {
        DetailsInput {
            payee: &self.payee,
            inn: &self.inn,
            kpp: &self.kpp,
            account: &self.account,
            bank_name: &self.bank_name,
            bic: &self.bic,
            correspondent_account: &self.correspondent_account,
        }
    }
}

/// The form's input for a field of the details.
fn input_name(field: Field) -> &'static str {
    match field {
        Field::Payee => "payee",
        Field::Inn => "inn",
        Field::Kpp => "kpp",
        Field::Account => "account",
        Field::BankName => "bank_name",
        Field::Bic => "bic",
        Field::CorrespondentAccount => "correspondent_account",
    }
}

async fn details_page(user: &Admin, ctx: &Context, form: &DetailsForm, errors: &Errors) -> Result<Markup> {
    let saved = details::saved(ctx.db.conn()).await.map_err(internal)?;
    Ok(layout::page(
        user,
        "Реквизиты",
        html! {
            p.muted {
                "Реквизиты товарищества для оплаты: по ним строится QR-код, который потребитель получает в боте по кнопке «Оплатить» \
                 и видит на страницах потребителя и договора. Номер счёта проверяется по БИК (контрольный ключ), ИНН — по контрольным цифрам."
            }
            @match &saved {
                Some(saved) => p {
                    "Изменены " (moment_text(ctx, saved.updated_at()))
                    @if let Some(name) = &saved.updated_by { ", " (name) }
                    "."
                },
                None => p.flash.error { (PayError::NoDetails) " Пока они не заданы, QR-код не выдаётся." },
            }
            (errors.banner())
            form.stack method="post" action="/bank-details" {
                (csrf_input(&user.csrf))
                (text_field(errors, "payee", "Получатель (наименование товарищества)", &form.payee))
                (text_field(errors, "inn", "ИНН", &form.inn))
                (text_field(errors, "kpp", "КПП", &form.kpp))
                (text_field(errors, "account", "Расчётный счёт", &form.account))
                (text_field(errors, "bank_name", "Банк", &form.bank_name))
                (text_field(errors, "bic", "БИК", &form.bic))
                (text_field(errors, "correspondent_account", "Корреспондентский счёт", &form.correspondent_account))
                button type="submit" { "Сохранить" }
            }
        },
    ))
}

#[handler]
pub async fn show(user: Admin, ctx: Data<&Context>) -> Result<Markup> {
    let saved = details::saved(ctx.db.conn()).await.map_err(internal)?;
    let form = match &saved {
        Some(saved) => {
            let d = details::input_of(&saved.row);
            DetailsForm {
                payee: d.payee.to_owned(),
                inn: d.inn.to_owned(),
                kpp: d.kpp.to_owned(),
                account: d.account.to_owned(),
                bank_name: d.bank_name.to_owned(),
                bic: d.bic.to_owned(),
                correspondent_account: d.correspondent_account.to_owned(),
            }
        }
        None => DetailsForm::default(),
    };
    details_page(&user, &ctx, &form, &Errors::default()).await
}

#[handler]
pub async fn save(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Form(form): Form<DetailsForm>,
) -> Result<Response> {
    match details::save(&ctx, &form.input(), user.actor()).await {
        Ok(saved) => Ok(done(
            session,
            format!("Реквизиты сохранены: {}, счёт {}.", saved.payee(), saved.account()),
            "/bank-details",
        )),
        Err(DetailsSaveError::Invalid(refused)) => {
            let mut errors = Errors::default();
            for e in refused {
                errors.add(input_name(e.field()), e.to_string());
            }
            Ok(invalid(details_page(&user, &ctx, &form, &errors).await?))
        }
        Err(DetailsSaveError::Internal(e)) => Err(internal(e)),
    }
}

/// The QR code of a contract's debt with its details in words, or why there is none.
pub async fn payment_block(ctx: &Context, consumer_id: i64, contract_id: i64) -> Result<Markup> {
    let payment = qr::payment(ctx, consumer_id, Target::Contract(contract_id), None).await;
    Ok(html! { h2 { "Оплата по QR-коду" } (payment_markup(contract_id, payment)?) })
}

/// The bank details every code on a page is drawn to, read once per page, or the refusal the
/// page shows instead of codes.
pub async fn payee(ctx: &Context) -> Result<Result<BankDetails, PayError>> {
    match details::current(ctx.db.conn()).await {
        Err(PayError::Internal(e)) => Err(internal(e)),
        other => Ok(other),
    }
}

/// A consumer's codes: one per contract they owe on, since a payment books to one contract.
pub async fn owed_block(ctx: &Context, payee: &Result<BankDetails, PayError>, consumer_id: i64) -> Result<Markup> {
    let details = match payee {
        Ok(details) => details,
        Err(refused) => return Ok(html! { h2 { "Оплата по QR-коду" } p.muted { (refused) } }),
    };
    let owed = qr::owed(ctx, details, consumer_id).await.map_err(internal)?;
    let mut blocks = Vec::with_capacity(owed.len());
    for (line, payment) in owed {
        blocks.push(html! {
            h3 { "Договор № " (line.contract_number) " · " (line.service) }
            (payment_markup(line.contract_id, payment)?)
        });
    }
    Ok(html! {
        h2 { "Оплата по QR-коду" }
        @if blocks.is_empty() { p.muted { "Задолженности нет." } }
        @for block in blocks { (block) }
    })
}

/// The code drawn inline (no picture request per code, so a printout of every receipt costs one
/// request), with a link to the same code as a picture to send on, and the details in words.
fn payment_markup(contract_id: i64, payment: Result<Payment, PayError>) -> Result<Markup> {
    let payment = match payment {
        Ok(payment) => payment,
        Err(PayError::Internal(e)) => return Err(internal(e)),
        Err(refused) => return Ok(html! { p.muted { (refused) } }),
    };
    let svg = payment.svg().map_err(internal)?;
    Ok(html! {
        div.payment-qr {
            figure role="img" aria-label="QR-код для оплаты в приложении банка" {
                (PreEscaped(svg))
                figcaption.no-print { a href={ "/contracts/" (contract_id) "/qr.png" } download { "Скачать картинкой" } }
            }
            table.details {
                @for (label, value) in payment.lines() {
                    tr { th { (label) } td { (value) } }
                }
            }
        }
    })
}

/// The picture: never cached, it changes with every payment and charge.
async fn png(ctx: &Context, consumer_id: i64, target: Target) -> Result<Response> {
    let payment = match qr::payment(ctx, consumer_id, target, None).await {
        Ok(payment) => payment,
        Err(PayError::Internal(e)) => return Err(internal(e)),
        Err(refused) => return Ok(page_response(StatusCode::NOT_FOUND, "QR-кода нет", &refused.to_string())),
    };
    let png = payment.png().await.map_err(internal)?;
    Ok(Response::builder()
        .content_type("image/png")
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(png))
}

#[handler]
pub async fn contract_png(_user: OfficeStaff, ctx: Data<&Context>, Path(id): Path<i64>) -> Result<Response> {
    let contract = found(entities::contract::Entity::find_by_id(id).one(ctx.db.conn()).await)?;
    png(&ctx, contract.consumer_id, Target::Contract(id)).await
}
