//! Loading the register from a spreadsheet at go-live: the format and its template, upload, a
//! dry-run preview, then confirmation — the payment import's flow ([`crate::payments::import`]).
//!
//! Between preview and confirmation the parsed rows wait in the session, never in the page: the
//! browser sends back only the id of the preview it confirms, so what is stored is exactly what
//! the server read and showed. The rows are checked again when they are stored.

use maud::{Markup, html};
use poem::session::Session;
use poem::web::{Data, Form, Multipart, Redirect};
use poem::{IntoResponse, Response, Result, handler};
use serde::{Deserialize, Serialize};
use service::Context;
use service::register_import::{self, Counts, Preview, RegisterRow, SCHEMA, Status};

use crate::auth::Admin;
use crate::error::{error_chain, internal, refusal};
use crate::forms::{Errors, date_text, done, field, invalid};
use crate::layout::{self, Flash, csrf_input};
use crate::lists::{crumbs, table};
use crate::reports::attachment;

/// The session entry holding an import waiting for confirmation.
const PENDING: &str = "register_import";

#[derive(Debug, Serialize, Deserialize)]
struct PendingImport {
    /// Names this preview, so a confirmation from an older tab cannot store another file.
    id: String,
    file_name: String,
    rows: Vec<RegisterRow>,
}

fn upload_form(user: &Admin, errors: &Errors) -> Markup {
    html! {
        form.stack method="post" action="/register/import" enctype="multipart/form-data" {
            (csrf_input(&user.csrf))
            (field(errors, "file", "Файл реестра (xlsx или CSV)", html! {
                input #file type="file" name="file" accept=".xlsx,.xls,.csv,text/csv" required;
            }))
            button type="submit" { "Проверить файл" }
        }
    }
}

fn upload_page(user: &Admin, errors: &Errors) -> Markup {
    layout::page(
        user,
        "Загрузка реестра",
        html! {
            (crumbs(&[("/contracts", "Договоры")]))
            p {
                "Участки, потребители, договоры и счётчики с показаниями и долгами на дату начала учёта — из таблицы, "
                "которую вели до сих пор. Файл Excel (xlsx) или CSV в кодировке UTF-8; первая строка — заголовки, "
                "дальше по одному договору в строке. Порядок столбцов любой, лишние столбцы не мешают."
            }
            p { a.button.secondary href="/register/template" { "Скачать шаблон (xlsx)" } }
            (table(&["Столбец", "Обязательный", "Что в нём"], SCHEMA.columns.iter().map(|column| html! {
                tr {
                    td { b { (column.name) } }
                    td { (if column.required { "да" } else { "нет" }) }
                    td { (column.meaning) }
                }
            })))
            p.muted {
                "Сначала файл только проверяется: вы увидите, что будет создано, что уже есть в учёте, и каждую строку "
                "с ошибкой. Договоры, которые уже в учёте, сверяются и пропускаются, так что повторная загрузка ничего "
                "не задваивает; расхождение с учётом — ошибка, а не замена. Файл с ошибками не загружается совсем."
            }
            (errors.banner())
            (upload_form(user, errors))
        },
    )
}

#[handler]
pub fn show(user: Admin) -> Markup {
    upload_page(&user, &Errors::default())
}

#[handler]
pub fn template(_user: Admin) -> Result<Response> {
    let bytes = reports::template::register_template().map_err(|e| internal(error_chain(&e)))?;
    Ok(attachment(bytes, "register-template.xlsx"))
}

fn counts_table(counts: Counts, bad: usize) -> Markup {
    html! {
        table.details {
            tr { th { "Будут созданы договоры со счётчиками" } td.num { (counts.contracts) } }
            tr { th { "Новые участки" } td.num { (counts.plots) } }
            tr { th { "Новые потребители" } td.num { (counts.consumers) } }
            tr { th { "Входящее сальдо: долги" } td.num { (counts.opening_debt) } }
            tr { th { "Входящее сальдо: переплаты" } td.num { (counts.opening_credit) } }
            tr { th { "Уже в учёте и совпадают" } td.num { (counts.on_file) } }
            tr { th { "Строки с ошибками" } td.num { (bad) } }
        }
    }
}

fn rows_table(preview: &Preview) -> Markup {
    let headers = [
        "Строка",
        "Участок",
        "Потребитель",
        "Телефон",
        "Договор",
        "Услуга",
        "Счётчик",
        "Показание",
        "Дата показания",
        "Сальдо",
        "Итог",
    ];
    table(
        &headers,
        preview.rows.iter().map(|c| {
            let row = &c.row;
            let values: Vec<String> = row.opening.iter().map(ToString::to_string).collect();
            html! {
                tr {
                    td.num { (row.line) }
                    td { (row.plot) }
                    td { (row.full_name) }
                    td { (row.phone.as_ref().map_or("—", |p| p.as_str())) }
                    td { (row.contract_number) }
                    td { (row.service) ", " (row.plan.label().to_lowercase()) }
                    td { (row.serial) }
                    td.num { (values.join(" / ")) }
                    td { (date_text(row.read_on)) }
                    td.num { (row.saldo) }
                    td class=(if c.status == Status::OnFile { "muted" } else { "" }) { (c.status.describe()) }
                }
            }
        }),
    )
}

fn preview_page(user: &Admin, file_name: &str, preview: &Preview, pending_id: Option<&str>) -> Markup {
    let counts = preview.counts();
    layout::page(
        user,
        &format!("Проверка файла «{file_name}»"),
        html! {
            (crumbs(&[("/contracts", "Договоры"), ("/register/import", "Загрузка реестра")]))
            (counts_table(counts, preview.bad.len()))
            @if !preview.bad.is_empty() {
                h2 { "Ошибки" }
                (table(&["Строка", "Что не так"], preview.bad.iter().map(|bad| html! {
                    tr { td.num { (bad.line) } td { (bad.reason()) } }
                })))
            }
            @match pending_id {
                Some(id) => form.stack method="post" action="/register/import/confirm" {
                    (csrf_input(&user.csrf))
                    input type="hidden" name="import_id" value=(id);
                    button type="submit" { "Загрузить: договоров " (counts.contracts) }
                    " " a href="/register/import" { "Отмена" }
                },
                None if preview.bad.is_empty() => {
                    p.flash.ok { "Новых договоров в файле нет: всё уже в учёте." }
                }
                None => {
                    p.flash.error { "Файл не будет загружен: исправьте строки с ошибками и загрузите его снова." }
                    (upload_form(user, &Errors::default()))
                }
            }
            h2 { "Строки файла" }
            (rows_table(preview))
        },
    )
}

/// Reads the uploaded file and shows what importing it would do.
#[handler]
pub async fn upload(user: Admin, session: &Session, ctx: Data<&Context>, mut multipart: Multipart) -> Result<Response> {
    let mut file = None;
    while let Some(part) = multipart.next_field().await? {
        if part.name() == Some("file") {
            let name = part.file_name().unwrap_or("файл").to_owned();
            file = Some((name, part.bytes().await?));
        }
    }
    let Some((file_name, bytes)) = file.filter(|(_, bytes)| !bytes.is_empty()) else {
        let mut errors = Errors::default();
        errors.add("file", "Выберите файл реестра.");
        return Ok(invalid(upload_page(&user, &errors)));
    };
    let preview = match register_import::preview(&ctx, &file_name, &bytes).await {
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
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response> {
    let pending = session.get::<PendingImport>(PENDING).filter(|p| p.id == form.import_id);
    let Some(pending) = pending else {
        Flash::error(session, "Нечего загружать: проверка устарела или файл загружен заново. Загрузите файл ещё раз.");
        return Ok(Redirect::see_other("/register/import").into_response());
    };
    session.remove(PENDING);
    match register_import::commit(&ctx, &pending.file_name, pending.rows, user.actor()).await {
        Ok(c) => {
            let message = format!(
                "Реестр из файла «{}» загружен: договоров со счётчиками {}, участков {}, потребителей {}; \
                 входящее сальдо — долги {}, переплаты {}.",
                pending.file_name, c.contracts, c.plots, c.consumers, c.opening_debt, c.opening_credit
            );
            Ok(done(session, message, "/contracts"))
        }
        Err(e) => {
            Flash::error(session, refusal(e)?);
            Ok(Redirect::see_other("/register/import").into_response())
        }
    }
}
