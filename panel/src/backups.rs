//! The nightly backups, for admins: the last copy (its time and size), the copies kept, a night
//! that failed; on PostgreSQL, what the operator runs instead.

use maud::{Markup, html};
use poem::web::Data;
use poem::{Result, handler};
use service::Context;
use service::backup::{self, Status};

use crate::auth::Admin;
use crate::error::internal;
use crate::forms::{date_text, moment_text};
use crate::layout;
use crate::lists::table;

/// «1,4 МБ».
fn size_text(bytes: u64) -> String {
    let tenths = (bytes * 10).div_ceil(1 << 20);
    format!("{},{} МБ", tenths / 10, tenths % 10)
}

#[handler]
pub async fn show(user: Admin, Data(ctx): Data<&Context>) -> Result<Markup> {
    let status = backup::status(ctx).await.map_err(internal)?;
    let body = match status {
        Status::Postgres => html! {
            p { "База — PostgreSQL: программа не копирует её сама. Каждую ночь запускайте на сервере базы:" }
            pre { (backup::PG_DUMP) }
            p.muted { "и храните файлы вне сервера; восстановление — pg_restore." }
        },
        Status::Sqlite { files, failing } => html! {
            @if let Some((night, error)) = failing {
                p.flash.error { "Копия за " (date_text(night)) " не сделана: " (error) }
            }
            @match files.first() {
                Some(last) => p {
                    "Последняя копия — за ночь " strong { (date_text(last.date)) } ", записана "
                    (moment_text(ctx, last.written_at)) ", " (size_text(last.bytes)) ": " code { (last.path.display()) }
                },
                None => p { "Копий ещё нет: первая будет сделана ночью." },
            }
            p.muted {
                "Каждую ночь делается проверенная копия (PRAGMA integrity_check); хранятся 7 ежедневных, "
                "4 еженедельных и 12 ежемесячных. Восстановление — при остановленном сервере: "
                code { "chernomorsk restore ФАЙЛ" } "."
            }
            (table(&["За ночь", "Записана", "Размер", "Файл"], files.iter().map(|f| html! {
                tr {
                    td { (date_text(f.date)) }
                    td { (moment_text(ctx, f.written_at)) }
                    td.num { (size_text(f.bytes)) }
                    td { code { (f.path.file_name().unwrap_or_default().to_string_lossy()) } }
                }
            })))
        },
    };
    Ok(layout::page(&user, "Резервные копии", body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_megabytes_rounded_up_to_a_tenth() {
        assert_eq!(size_text(0), "0,0 МБ");
        assert_eq!(size_text(1), "0,1 МБ");
        assert_eq!(size_text(1_468_007), "1,5 МБ");
        assert_eq!(size_text(10 << 20), "10,0 МБ");
    }
}
