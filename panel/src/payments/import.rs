//! Importing the bank's file: upload, a dry-run preview, then confirmation.
//!
//! Between preview and confirmation the parsed rows wait in the session (kept in the database),
//! never in the page: the browser sends back only the id of the import it is confirming, so what
//! gets stored is exactly what the server read and showed. The rows are classified again when
//! they are stored, so a payment entered in between is not counted twice.

use maud::{Markup, html};
use poem::session::Session;
use poem::web::{Data, Form, Multipart, Redirect};
use poem::{IntoResponse, Response, Result, handler};
use serde::{Deserialize, Serialize};
use service::Context;
use service::payments::import::{self, ImportRow, Preview, SCHEMA, Status};

use crate::auth::OfficeStaff;
use crate::error::refusal;
use crate::forms::{Errors, date_text, done, field, invalid};
use crate::layout::{self, Flash, csrf_input};
use crate::lists::{crumbs, table};

/// The session entry holding an import waiting for confirmation.
const PENDING: &str = "payment_import";

#[derive(Debug, Serialize, Deserialize)]
struct PendingImport {
    /// Names this preview, so a confirmation from an older tab cannot store another file.
    id: String,
    file_name: String,
    rows: Vec<ImportRow>,
}

fn upload_form(user: &OfficeStaff, errors: &Errors) -> Markup {
    html! {
        form.stack method="post" action="/payments/import" enctype="multipart/form-data" {
            (csrf_input(&user.csrf))
            (field(errors, "file", "Файл выписки (xlsx или CSV)", html! {
                input #file type="file" name="file" accept=".xlsx,.xls,.csv,text/csv" required;
            }))
            button type="submit" { "Проверить файл" }
        }
    }
}

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
            (upload_form(user, errors))
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
        Status::Unmatched => "warn",
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
                tr { th { "Уже внесены или повторяются" } td.num { (preview.duplicates()) } }
                tr { th { "Строки с ошибками" } td.num { (preview.bad.len()) } }
            }
            @if !preview.bad.is_empty() {
                h2 { "Ошибки" }
                (table(&["Строка", "Что не так"], preview.bad.iter().map(|bad| html! {
                    tr { td.num { (bad.line) } td { (bad.reason) } }
                })))
            }
            @match pending_id {
                Some(id) => form.stack method="post" action="/payments/import/confirm" {
                    (csrf_input(&user.csrf))
                    input type="hidden" name="import_id" value=(id);
                    button type="submit" { "Внести " (preview.matched()) " оплат(ы)" }
                    " " a href="/payments/import" { "Отмена" }
                },
                None if preview.matched() == 0 && preview.bad.is_empty() && preview.unmatched() == 0 => {
                    p.flash.ok { "Новых оплат в файле нет: всё уже внесено." }
                }
                None => {
                    p.flash.error { "Файл не будет внесён: исправьте строки с ошибками и номера договоров, затем загрузите его снова." }
                    (upload_form(user, &Errors::default()))
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
                        td { (p.period) }
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
pub async fn upload(
    user: OfficeStaff,
    session: &Session,
    ctx: Data<&Context>,
    mut multipart: Multipart,
) -> Result<Response> {
    let mut file = None;
    while let Some(part) = multipart.next_field().await? {
        if part.name() == Some("file") {
            let name = part.file_name().unwrap_or("файл").to_owned();
            file = Some((name, part.bytes().await?));
        }
    }
    let Some((file_name, bytes)) = file.filter(|(_, bytes)| !bytes.is_empty()) else {
        let mut errors = Errors::default();
        errors.add("file", "Выберите файл выписки.");
        return Ok(invalid(upload_page(&user, &errors)));
    };
    let preview = match import::preview(ctx.db.conn(), &file_name, &bytes).await {
        Ok(preview) => preview,
        Err(e) => return Ok(invalid(upload_page(&user, &Errors::form(refusal(e)?)))),
    };
    session.remove(PENDING);
    let pending_id = preview.can_commit().then(|| {
        let id = service::staff::random_token(16);
        let rows = preview.clone().into_rows();
        session.set(PENDING, PendingImport { id: id.clone(), file_name: file_name.clone(), rows });
        id
    });
    Ok(preview_page(&user, &file_name, &preview, pending_id.as_deref()).into_response())
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ConfirmForm {
    import_id: String,
}

/// Stores the previewed rows in one transaction.
#[handler]
pub async fn confirm(
    user: OfficeStaff,
    session: &Session,
    ctx: Data<&Context>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response> {
    let pending = session.get::<PendingImport>(PENDING).filter(|p| p.id == form.import_id);
    let Some(pending) = pending else {
        Flash::error(session, "Нечего вносить: проверка устарела или файл загружен заново. Загрузите файл ещё раз.");
        return Ok(Redirect::see_other("/payments/import").into_response());
    };
    session.remove(PENDING);
    match import::commit(&ctx, &pending.file_name, pending.rows, user.actor()).await {
        Ok(c) => {
            let message = format!(
                "Из файла «{}» внесено оплат: {} на сумму {}; пропущено повторов: {}.",
                pending.file_name, c.stored, c.total, c.skipped
            );
            Ok(done(session, message, "/payments?source=import"))
        }
        Err(e) => {
            Flash::error(session, refusal(e)?);
            Ok(Redirect::see_other("/payments/import").into_response())
        }
    }
}
