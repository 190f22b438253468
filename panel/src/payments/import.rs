//! Importing the bank's file: upload, a dry-run preview, then confirmation, in the flow shared
//! with the register import ([`crate::imports`]: the previewed rows wait as a draft).
//!
//! The rows are classified again when they are stored, so a payment entered in between is not
//! counted twice.

use maud::{Markup, html};
use poem::session::Session;
use poem::web::{Data, Form, Multipart};
use poem::{Response, Result, handler};
use service::Context;
use service::import_drafts::Kind;
use service::ledger::payments::import::{self, ImportRow, Preview, SCHEMA, Status};

use crate::auth::OfficeStaff;
use crate::error::refusal;
use crate::forms::{Errors, date_text, done, invalid};
use crate::imports::{ConfirmForm, ImportScreen, errors_section, uploaded_file};
use crate::layout;
use crate::lists::{crumbs, table};

const SCREEN: ImportScreen = ImportScreen {
    path: "/payments/import",
    confirm_path: "/payments/import/confirm",
    kind: Kind::Payments,
    file_label: "Файл выписки (xlsx или CSV)",
    accept: ".xlsx,.csv,text/csv",
    no_file: "Выберите файл выписки.",
    stale_message: "Нечего вносить: проверка устарела или файл загружен заново. Загрузите файл ещё раз.",
};

fn upload_page(user: &OfficeStaff, errors: &Errors) -> Markup {
    layout::page(
        user,
        "Загрузка выписки",
        html! {
            (crumbs(&[("/payments", "Оплаты")]))
            p {
                "Файл Excel (xlsx) или CSV в кодировке UTF-8 (разделитель «;» или «,»). Первая строка — заголовки, "
                "дальше по одной оплате в строке. Порядок столбцов любой, лишние столбцы не мешают."
            }
            (table(&["Столбец", "Что в нём"], SCHEMA.columns.iter().map(|column| html! {
                tr { td { b { (column.name) } } td { (column.meaning) } }
            })))
            p.muted {
                "Столбец «Номер платежа» можно не заполнять, но с ним повторная загрузка той же выписки точно ничего не задвоит. "
                "Сначала файл только проверяется: вы увидите, что будет внесено, и подтвердите. "
                "Файл с ошибками или неизвестными договорами не вносится совсем — исправьте его и загрузите снова."
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

/// The row's state, highlighted when it stops the import.
fn status_cell(status: Status) -> Markup {
    let class = match status {
        Status::Matched => "",
        Status::Unmatched | Status::NumberTaken { .. } | Status::NumberTwice { .. } => "warn",
        Status::Duplicate(_) => "muted",
    };
    html! { td class=(class) { (status.describe()) } }
}

fn preview_page(user: &OfficeStaff, file_name: &str, preview: &Preview, pending_id: Option<&str>) -> Markup {
    layout::page(
        user,
        &format!("Проверка файла «{file_name}»"),
        html! {
            (crumbs(&[("/payments", "Оплаты"), ("/payments/import", "Загрузка выписки")]))
            table.details {
                tr { th { "Будут внесены" } td.num { (preview.matched()) " на сумму " (preview.matched_total()) } }
                tr { th { "Договор не найден" } td.num { (preview.unmatched()) } }
                @if preview.numbers_taken() > 0 {
                    tr { th { "Номер платежа у другого платежа" } td.num { (preview.numbers_taken()) } }
                }
                tr { th { "Уже внесены или повторяются" } td.num { (preview.duplicates()) } }
                tr { th { "Строки с ошибками" } td.num { (preview.bad.len()) } }
            }
            (errors_section(preview.bad.iter().map(|bad| (bad.line, bad.reason.as_str()))))
            @match pending_id {
                Some(id) => (SCREEN.confirm_form(&user.csrf, id, html! { "Внести " (preview.matched()) " оплат(ы)" })),
                None if preview.matched() == 0 && preview.to_fix() == 0 => {
                    p.flash.ok { "Новых оплат в файле нет: всё уже внесено." }
                }
                None => {
                    p.flash.error { "Файл не будет внесён: исправьте строки с ошибками, номера договоров и номера платежей, затем загрузите его снова." }
                    (SCREEN.upload_form(&user.csrf, &Errors::default()))
                }
            }
            h2 { "Строки файла" }
            (table(&["Строка", "Договор", "Сумма", "Дата оплаты", "За месяц", "Номер платежа", "Итог"], preview.rows.iter().map(|c| {
                let p = &c.row.payment;
                html! {
                    tr {
                        td.num { (c.row.line) }
                        td { (p.contract_number) }
                        td.num { (p.amount) }
                        td { (date_text(p.paid_on)) }
                        td { (p.for_period.map(|m| m.to_string()).unwrap_or_default()) }
                        td { (p.reference.as_deref().unwrap_or("—")) }
                        (status_cell(c.status))
                    }
                }
            })))
        },
    )
}

/// Reads the uploaded file and shows what importing it would do.
#[handler]
pub async fn upload(user: OfficeStaff, ctx: Data<&Context>, multipart: Multipart) -> Result<Response> {
    let Some((file_name, bytes)) = uploaded_file(multipart).await? else {
        return Ok(invalid(upload_page(&user, &SCREEN.no_file_errors())));
    };
    let preview = match import::preview(&ctx, &file_name, bytes).await {
        Ok(preview) => preview,
        Err(e) => return Ok(invalid(upload_page(&user, &Errors::form(refusal(e)?)))),
    };
    let rows = preview.can_commit().then(|| preview.clone().into_rows());
    let previewed = |pending_id: Option<&str>| preview_page(&user, &file_name, &preview, pending_id);
    SCREEN.previewed(&ctx, user.id(), &file_name, rows, previewed, |errors| upload_page(&user, errors)).await
}

/// Stores the previewed rows in one transaction.
#[handler]
pub async fn confirm(
    user: OfficeStaff,
    session: &Session,
    ctx: Data<&Context>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response> {
    let Some(pending) = SCREEN.take::<ImportRow>(&ctx, user.id(), &form).await? else {
        return Ok(SCREEN.stale(session));
    };
    match import::commit(&ctx, &pending.file_name, pending.rows, user.actor()).await {
        Ok(c) => {
            let message = format!(
                "Из файла «{}» внесено оплат: {} на сумму {}; пропущено повторов: {}.",
                pending.file_name, c.stored, c.total, c.skipped
            );
            Ok(done(session, message, "/payments?source=import"))
        }
        Err(e) => Ok(SCREEN.back(session, refusal(e)?)),
    }
}
