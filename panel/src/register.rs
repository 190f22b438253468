//! Loading the register from a spreadsheet at go-live: the format and its template, upload, a
//! dry-run preview, then confirmation — the flow shared with the payment import
//! ([`crate::imports`]: the previewed rows wait as a draft).
//!
//! The rows are checked again when they are stored.

use maud::{Markup, html};
use poem::session::Session;
use poem::web::{Data, Form, Multipart};
use poem::{Response, Result, handler};
use service::Context;
use service::import_drafts::Kind;
use service::register::import;
use service::register::import::plan::{Counts, Preview, Status};
use service::register::import::read::{RegisterRow, SCHEMA};

use crate::auth::Admin;
use crate::error::{internal, refusal};
use crate::forms::{Errors, date_text, done, invalid};
use crate::imports::{ConfirmForm, ImportScreen, errors_section, uploaded_file};
use crate::layout;
use crate::lists::{crumbs, table};
use crate::reports::attachment;

const SCREEN: ImportScreen = ImportScreen {
    path: "/register/import",
    confirm_path: "/register/import/confirm",
    kind: Kind::Register,
    file_label: "Файл реестра (xlsx или CSV)",
    accept: ".xlsx,.csv,text/csv",
    no_file: "Выберите файл реестра.",
    stale_message: "Нечего загружать: проверка устарела или файл загружен заново. Загрузите файл ещё раз.",
};

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
            (SCREEN.upload_form(&user.csrf, errors))
        },
    )
}

#[handler]
pub fn show(user: Admin) -> Markup {
    upload_page(&user, &Errors::default())
}

#[handler]
pub fn template(_user: Admin) -> Result<Response> {
    let bytes = reports::template::register_template().map_err(internal)?;
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
            (errors_section(preview.bad.iter().map(|bad| (bad.line, bad.reason()))))
            @match pending_id {
                Some(id) => (SCREEN.confirm_form(&user.csrf, id, html! { "Загрузить: договоров " (counts.contracts) })),
                None if preview.bad.is_empty() => {
                    p.flash.ok { "Новых договоров в файле нет: всё уже в учёте." }
                }
                None => {
                    p.flash.error { "Файл не будет загружен: исправьте строки с ошибками и загрузите его снова." }
                    (SCREEN.upload_form(&user.csrf, &Errors::default()))
                }
            }
            h2 { "Строки файла" }
            (rows_table(preview))
        },
    )
}

/// Reads the uploaded file and shows what importing it would do.
#[handler]
pub async fn upload(user: Admin, ctx: Data<&Context>, multipart: Multipart) -> Result<Response> {
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
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response> {
    let Some(pending) = SCREEN.take::<RegisterRow>(&ctx, user.id(), &form).await? else {
        return Ok(SCREEN.stale(session));
    };
    match import::commit(&ctx, &pending.file_name, pending.rows, user.actor()).await {
        Ok(c) => {
            let message = format!(
                "Реестр из файла «{}» загружен: договоров со счётчиками {}, участков {}, потребителей {}; \
                 входящее сальдо — долги {}, переплаты {}.",
                pending.file_name, c.contracts, c.plots, c.consumers, c.opening_debt, c.opening_credit
            );
            Ok(done(session, message, "/contracts"))
        }
        Err(e) => Ok(SCREEN.back(session, refusal(e)?)),
    }
}
