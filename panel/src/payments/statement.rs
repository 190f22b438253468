//! The bank's own statement (1CClientBankExchange): upload, a preview of what each document
//! matches and why, confirmation ([`crate::imports`]: the previewed documents wait as a draft),
//! and «Разобрать», where the documents nothing matched wait for the accountant's choice.

use domain::Kopecks;
use maud::{Markup, html};
use poem::session::Session;
use poem::web::{Data, Form, Multipart, Path};
use poem::{Response, Result, handler};
use serde::Deserialize;
use service::Context;
use service::import_drafts::Kind;
use service::ledger::payments::statement::{self, Choice, DocumentRow, MAX_SHARES, Outcome, StatementPreview};

use crate::auth::OfficeStaff;
use crate::error::{found, internal, refusal};
use crate::forms::{Errors, checkbox, date_text, done, invalid, money_field, text_field, textarea_field};
use crate::imports::{ConfirmForm, ImportScreen, errors_section, uploaded_file};
use crate::layout::{self, csrf_input};
use crate::lists::{crumbs, table};

const SCREEN: ImportScreen = ImportScreen {
    path: "/payments/statement",
    confirm_path: "/payments/statement/confirm",
    kind: Kind::Statement,
    file_label: "Выписка из банк-клиента в формате 1С (.txt)",
    accept: ".txt,text/plain",
    no_file: "Выберите файл выписки.",
    stale_message: "Нечего загружать: проверка устарела или выписка загружена заново. Загрузите её ещё раз.",
};

/// Where «Разобрать» lives.
pub const REVIEW_PATH: &str = "/payments/review";

fn upload_page(user: &OfficeStaff, errors: &Errors) -> Markup {
    layout::page(
        user,
        "Выписка банка",
        html! {
            (crumbs(&[("/payments", "Оплаты")]))
            p {
                "В интернет-банке для юрлиц выгрузите выписку по расчётному счёту СНТ в формате 1С: "
                "«Выписка» → «Экспорт» → «1С: Предприятие» (файл kl_to_1c.txt или похожий). "
                "Кодировка Windows или DOS — любая, файл читается как есть."
            }
            p.muted {
                "Сначала выписка только проверяется: вы увидите каждое поступление, договор и почему он выбран. "
                "Платежи, которые не удалось сопоставить, попадут в «Разобрать». "
                "Документ, уже загруженный с прошлой выпиской, второй раз не вносится."
            }
            (errors.banner())
            (SCREEN.upload_form(&user.csrf, errors))
        },
    )
}

#[handler]
pub fn show(user: OfficeStaff) -> Markup {
    upload_page(&user, &Errors::default())
}

/// The contracts a document goes to, with the split's amounts when there are several.
fn shares_cell(outcome: &Outcome) -> Markup {
    match outcome {
        Outcome::Post { shares, .. } if shares.len() > 1 => html! {
            td { @for s in shares { (s.contract_number) ": " (s.amount) br; } }
        },
        Outcome::Post { shares, .. } => html! { td { @for s in shares { (s.contract_number) } } },
        _ => html! { td { "—" } },
    }
}

fn outcome_cell(outcome: &Outcome) -> Markup {
    let class = match outcome {
        Outcome::Post { .. } => "",
        Outcome::Review { .. } => "warn",
        Outcome::AlreadyLoaded => "muted",
    };
    html! { td class=(class) { (outcome.describe()) } }
}

fn documents_table(documents: &[DocumentRow]) -> Markup {
    let headers = ["Строка", "№", "Поступило", "Сумма", "Плательщик", "Назначение", "Договор", "Итог"];
    table(
        &headers,
        documents.iter().map(|d| {
            html! {
                tr {
                    td.num { (d.line) }
                    td { (d.number) }
                    td { (date_text(d.arrived_on)) }
                    td.num { (d.amount) }
                    td { (d.payer) }
                    td { (d.purpose) }
                    (shares_cell(&d.outcome))
                    (outcome_cell(&d.outcome))
                }
            }
        }),
    )
}

fn preview_page(user: &OfficeStaff, file_name: &str, preview: &StatementPreview, pending_id: Option<&str>) -> Markup {
    let period = match (preview.from, preview.to) {
        (Some(from), Some(to)) => format!("{} — {}", date_text(from), date_text(to)),
        _ => "не указан".to_owned(),
    };
    layout::page(
        user,
        &format!("Проверка выписки «{file_name}»"),
        html! {
            (crumbs(&[("/payments", "Оплаты"), (SCREEN.path, "Выписка банка")]))
            table.details {
                tr { th { "Счёт" } td { (preview.account) } }
                tr { th { "Период" } td { (period) } }
                tr { th { "Будут внесены" } td.num { (preview.to_post()) " на сумму " (preview.posted_total()) } }
                tr { th { "В «Разобрать»" } td.num { (preview.to_review()) } }
                tr { th { "Уже загружены" } td.num { (preview.already_loaded()) } }
                tr { th { "Не поступления (пропущены)" } td.num { (preview.skipped.len()) } }
                tr { th { "Документы с ошибками" } td.num { (preview.invalid.len()) } }
            }
            (errors_section(preview.invalid.iter().map(|(line, reason)| (*line, reason.as_str()))))
            @match pending_id {
                Some(id) => (SCREEN.confirm_form(&user.csrf, id, html! {
                    "Загрузить: внести " (preview.to_post()) ", в «Разобрать» " (preview.to_review())
                })),
                None if preview.invalid.is_empty() => p.flash.ok { "Новых поступлений в выписке нет: всё уже загружено." },
                None => {
                    p.flash.error { "Выписка не будет загружена: в ней есть документы, которые не читаются. Выгрузите её из банка заново." }
                    (SCREEN.upload_form(&user.csrf, &Errors::default()))
                }
            }
            h2 { "Поступления" }
            (documents_table(&preview.documents))
            @if !preview.skipped.is_empty() {
                h2 { "Пропущены" }
                (table(&["Строка", "№", "Почему"], preview.skipped.iter().map(|s| html! {
                    tr { td.num { (s.line) } td { (s.number) } td { (s.reason) } }
                })))
            }
        },
    )
}

/// Reads the uploaded statement and shows what loading it would do.
#[handler]
pub async fn upload(user: OfficeStaff, ctx: Data<&Context>, multipart: Multipart) -> Result<Response> {
    let Some((file_name, bytes)) = uploaded_file(multipart).await? else {
        return Ok(invalid(upload_page(&user, &SCREEN.no_file_errors())));
    };
    let preview = match statement::preview(&ctx, &file_name, bytes).await {
        Ok(preview) => preview,
        Err(e) => return Ok(invalid(upload_page(&user, &Errors::form(refusal(e)?)))),
    };
    let rows = preview.can_commit().then(|| preview.clone().into_rows());
    let previewed = |pending_id: Option<&str>| preview_page(&user, &file_name, &preview, pending_id);
    SCREEN.previewed(&ctx, user.id(), &file_name, rows, previewed, |errors| upload_page(&user, errors)).await
}

/// Stores the previewed statement in one transaction.
#[handler]
pub async fn confirm(
    user: OfficeStaff,
    session: &Session,
    ctx: Data<&Context>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response> {
    let Some(pending) = SCREEN.take::<DocumentRow>(&ctx, user.id(), &form).await? else {
        return Ok(SCREEN.stale(session));
    };
    match statement::commit(&ctx, &pending.file_name, pending.rows, user.actor()).await {
        Ok(c) => {
            let message = format!(
                "Из выписки «{}» внесено оплат: {} на сумму {}; в «Разобрать»: {}; уже были загружены: {}.",
                pending.file_name, c.posted, c.total, c.to_review, c.already_loaded
            );
            let to = if c.to_review > 0 { REVIEW_PATH } else { "/payments?source=bank_statement" };
            Ok(done(session, message, to))
        }
        Err(e) => Ok(SCREEN.back(session, refusal(e)?)),
    }
}

/// «Разобрать»: the documents waiting for the accountant.
#[handler]
pub async fn queue(user: OfficeStaff, ctx: Data<&Context>) -> Result<Markup> {
    let waiting = statement::waiting(ctx.db.conn()).await.map_err(internal)?;
    let aside = statement::set_aside_latest(ctx.db.conn(), SET_ASIDE_SHOWN).await.map_err(internal)?;
    Ok(layout::page(
        &user,
        "Разобрать",
        html! {
            (crumbs(&[("/payments", "Оплаты")]))
            p { a href=(super::accounts::ACCOUNTS_PATH) { "Запомненные счета плательщиков" } }
            @if waiting.is_empty() {
                p { "Всё разобрано: платежей без договора нет." }
            } @else {
                p { "Платежи из выписки, для которых не нашёлся договор. Выберите договор (или несколько — суммы должны сойтись)." }
                (table(&["Поступило", "№", "Сумма", "Плательщик", "Счёт плательщика", "Назначение", "Почему здесь", ""],
                    waiting.iter().map(|d| html! {
                        tr {
                            td { (date_text(d.arrived_on)) }
                            td { (d.number) }
                            td.num { (d.amount_kopecks) }
                            td { (d.payer) }
                            td { (d.payer_account) }
                            td { (d.purpose) }
                            td { (d.review_reason.as_deref().unwrap_or("")) }
                            td { a href={ (REVIEW_PATH) "/" (d.id) } { "Разобрать" } }
                        }
                    })))
            }
            @if !aside.is_empty() {
                h2 { "Не оплата за услуги" }
                p.muted { "Последние отложенные документы. Отложенный по ошибке возвращается в «Разобрать» на своей странице." }
                (table(&["Поступило", "№", "Сумма", "Плательщик", "Назначение", "Что это", ""],
                    aside.iter().map(|d| html! {
                        tr {
                            td { (date_text(d.arrived_on)) }
                            td { (d.number) }
                            td.num { (d.amount_kopecks) }
                            td { (d.payer) }
                            td { (d.purpose) }
                            td { (statement::set_aside_note(d).unwrap_or("")) }
                            td { a href={ (REVIEW_PATH) "/" (d.id) } { "Открыть" } }
                        }
                    })))
            }
        },
    ))
}

/// How many of the latest documents set aside «Разобрать» lists.
const SET_ASIDE_SHOWN: u64 = 20;

/// The choice form: up to [`MAX_SHARES`] pairs `contract_N`/`amount_N`, and «запомнить».
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ResolveForm {
    contract_1: String,
    amount_1: String,
    contract_2: String,
    amount_2: String,
    contract_3: String,
    amount_3: String,
    remember: String,
    /// «Это другой платёж»: post it although a payment typed in seems to be its money.
    other: String,
    /// «Не оплата за услуги»: what the money is.
    note: String,
}

/// The form shows three pairs; the service accepts up to [`MAX_SHARES`].
const _: () = assert!(MAX_SHARES >= 3);

impl ResolveForm {
    /// The form as a document's page first shows it: its whole amount on the first contract.
    fn of(document: &entities::bank_document::Model) -> ResolveForm {
        ResolveForm { amount_1: document.amount_kopecks.plain(), ..ResolveForm::default() }
    }

    fn pairs(&self) -> [(&'static str, &str, &'static str, &str); 3] {
        [
            ("contract_1", self.contract_1.as_str(), "amount_1", self.amount_1.as_str()),
            ("contract_2", self.contract_2.as_str(), "amount_2", self.amount_2.as_str()),
            ("contract_3", self.contract_3.as_str(), "amount_3", self.amount_3.as_str()),
        ]
    }

    fn parse(&self) -> std::result::Result<Vec<Choice>, Errors> {
        let mut errors = Errors::default();
        let mut choices = Vec::new();
        for (contract_field, contract, amount_field, amount) in self.pairs() {
            match (contract.trim(), amount.trim()) {
                ("", "") => {}
                ("", _) => errors.add(contract_field, "Укажите номер договора."),
                (contract, amount) => {
                    if let Some(amount) = errors.check(amount_field, Kopecks::parse_payment(amount)) {
                        choices.push(Choice { contract_number: contract.to_owned(), amount });
                    }
                }
            }
        }
        if choices.is_empty() && errors.is_empty() {
            errors.add("contract_1", "Укажите договор и сумму.");
        }
        if errors.is_empty() { Ok(choices) } else { Err(errors) }
    }
}

/// A document's page: what it is, and what can be done with it — with the payments on file its
/// money may be (see [`statement::entered_already`]) while it waits, or a way back once set aside.
/// «Это другой платёж» is offered whenever posting would ask (see [`statement::entered_or_marked`]).
async fn resolve_page(
    user: &OfficeStaff,
    ctx: &Context,
    document: &entities::bank_document::Model,
    form: &ResolveForm,
    errors: &Errors,
) -> Result<Markup> {
    let conn = ctx.db.conn();
    let entered = statement::entered_already(conn, document).await.map_err(internal)?;
    let asked = statement::entered_or_marked(conn, document).await.map_err(internal)?;
    let holders = statement::holders(conn, document.id).await.map_err(internal)?;
    Ok(layout::page(
        user,
        &format!("Разобрать платёж № {} от {}", document.number, date_text(document.doc_date)),
        html! {
            (crumbs(&[("/payments", "Оплаты"), (REVIEW_PATH, "Разобрать")]))
            table.details {
                tr { th { "Сумма" } td.num { (document.amount_kopecks) } }
                tr { th { "Поступило" } td { (date_text(document.arrived_on)) } }
                tr { th { "Плательщик" } td { (document.payer) } }
                tr { th { "Счёт плательщика" } td { (document.payer_account) } }
                tr { th { "Назначение" } td { (document.purpose) } }
                tr { th { "Почему здесь" } td { (document.review_reason.as_deref().unwrap_or("")) } }
            }
            (errors.banner())
            @if let Some(note) = statement::set_aside_note(document) {
                p { "Отложен как не оплата за услуги: " (note) }
                p.muted { "Если это оплата за услуги, верните документ в «Разобрать» и внесите по договорам." }
                form method="post" action={ (REVIEW_PATH) "/" (document.id) "/return" } {
                    (csrf_input(&user.csrf))
                    button type="submit" { "Вернуть в «Разобрать»" }
                }
            } @else if !statement::waits(document) {
                p { "Документ уже разобран. Его деньги в учёте:" }
                ul {
                    @for p in &holders {
                        li { a href={ "/payments/" (p.id) } { "платёж № " (p.id) } " — " (p.amount_kopecks) " от " (date_text(p.paid_on)) }
                    }
                }
                p.muted { "Ошибку исправляют на странице платежа: перенос на другой договор, сторно или «Отвязать документ»." }
            } @else {
                @if !entered.is_empty() {
                    h2 { "Уже внесён?" }
                    p.muted { "Платежи, внесённые вручную или из реестра днём от даты поручения до поступления: на ту же сумму или частями по договорам одного участка. Если это они, документ отмечается как уже внесённый, новая оплата не вносится." }
                    @for e in &entered {
                        @if let Some(first) = e.first_id() {
                            form method="post" action={ (REVIEW_PATH) "/" (document.id) "/entered" } {
                                (csrf_input(&user.csrf))
                                input type="hidden" name="payment_id" value=(first);
                                button type="submit" { "Уже внесён: " (e) }
                            }
                        }
                    }
                    h2 { "Внести по договорам" }
                }
                form.stack method="post" action={ (REVIEW_PATH) "/" (document.id) } {
                    (csrf_input(&user.csrf))
                    @for (i, (contract_field, contract, amount_field, amount)) in form.pairs().into_iter().enumerate() {
                        (text_field(errors, contract_field, &format!("Договор {}", i + 1), contract))
                        (money_field(errors, amount_field, &format!("Сумма {}, ₽", i + 1), amount))
                    }
                    @if !document.payer_account.is_empty() {
                        (checkbox("remember", "Запомнить для этого счёта плательщика", !form.remember.is_empty()))
                    }
                    @if !asked.is_empty() {
                        (checkbox("other", "Это другой платёж, не внесённый раньше", !form.other.is_empty()))
                    }
                    button type="submit" { "Внести" }
                }
                h2 { "Не оплата за услуги" }
                p.muted { "Членские или целевые взносы на этот счёт, сумма реестра банка, строки которого загружены его файлом, проценты банка: документ уходит из «Разобрать», ничего не вносится." }
                form.stack method="post" action={ (REVIEW_PATH) "/" (document.id) "/aside" } {
                    (csrf_input(&user.csrf))
                    (textarea_field(errors, "note", "Что это за деньги", &form.note))
                    button.secondary type="submit" { "Не оплата за услуги" }
                }
            }
        },
    ))
}

#[handler]
pub async fn review(user: OfficeStaff, ctx: Data<&Context>, Path(id): Path<i64>) -> Result<Markup> {
    let document = found(statement::document(ctx.db.conn(), id).await)?;
    resolve_page(&user, &ctx, &document, &ResolveForm::of(&document), &Errors::default()).await
}

/// Posts a waiting document to the chosen contracts.
#[handler]
pub async fn resolve(
    user: OfficeStaff,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<ResolveForm>,
) -> Result<Response> {
    let document = found(statement::document(ctx.db.conn(), id).await)?;
    let errors = match form.parse() {
        Ok(choices) => {
            let (remember, other) = (!form.remember.is_empty(), !form.other.is_empty());
            match statement::resolve(&ctx, id, choices, remember, other, user.actor()).await {
                Ok(()) => {
                    let message = format!("Платёж № {} на {} внесён.", document.number, document.amount_kopecks);
                    return Ok(done(session, message, REVIEW_PATH));
                }
                Err(e) => Errors::form(refusal(e)?),
            }
        }
        Err(errors) => errors,
    };
    Ok(invalid(resolve_page(&user, &ctx, &document, &form, &errors).await?))
}

#[derive(Debug, Deserialize)]
pub struct EnteredForm {
    payment_id: i64,
}

/// «Уже внесён»: the waiting document is that payment's money; nothing new is booked.
#[handler]
pub async fn entered_already(
    user: OfficeStaff,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<EnteredForm>,
) -> Result<Response> {
    let document = found(statement::document(ctx.db.conn(), id).await)?;
    match statement::link_entered(&ctx, id, form.payment_id, user.actor()).await {
        Ok(()) => {
            let message = format!(
                "Документ выписки № {} на {} отмечен как уже внесённый (платёж № {}): новая оплата не внесена.",
                document.number, document.amount_kopecks, form.payment_id
            );
            Ok(done(session, message, REVIEW_PATH))
        }
        Err(e) => {
            let errors = Errors::form(refusal(e)?);
            Ok(invalid(resolve_page(&user, &ctx, &document, &ResolveForm::of(&document), &errors).await?))
        }
    }
}

/// «Не оплата за услуги»: the waiting document is set aside with the accountant's words.
#[handler]
pub async fn set_aside(
    user: OfficeStaff,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<ResolveForm>,
) -> Result<Response> {
    let document = found(statement::document(ctx.db.conn(), id).await)?;
    match statement::set_aside(&ctx, id, &form.note, user.actor()).await {
        Ok(()) => {
            let message = format!(
                "Документ выписки № {} на {} — не оплата за услуги: {}.",
                document.number,
                document.amount_kopecks,
                form.note.trim()
            );
            Ok(done(session, message, REVIEW_PATH))
        }
        Err(e) => {
            let errors = Errors::refused(e)?;
            let form = ResolveForm { amount_1: document.amount_kopecks.plain(), ..form };
            Ok(invalid(resolve_page(&user, &ctx, &document, &form, &errors).await?))
        }
    }
}

/// «Вернуть в «Разобрать»»: a document set aside by mistake waits again.
#[handler]
pub async fn return_set_aside(
    user: OfficeStaff,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
) -> Result<Response> {
    let document = found(statement::document(ctx.db.conn(), id).await)?;
    match statement::return_set_aside(&ctx, id, user.actor()).await {
        Ok(returned) => {
            let message = format!(
                "Документ выписки № {} на {} снова ждёт в «Разобрать».",
                returned.number, returned.amount_kopecks
            );
            Ok(done(session, message, format!("{REVIEW_PATH}/{id}")))
        }
        Err(e) => {
            let errors = Errors::refused(e)?;
            Ok(invalid(resolve_page(&user, &ctx, &document, &ResolveForm::of(&document), &errors).await?))
        }
    }
}
