//! The whole database as a workbook, one sheet per table, for safekeeping and for the questions
//! the panel does not answer.
//!
//! Tables are read page by page (by `id`, so each page costs the same however deep it is) and
//! written on a blocking thread to constant-memory sheets: memory holds a few pages, not the
//! history.

use std::str::FromStr;

use anyhow::anyhow;
use chrono_tz::Tz;
use domain::{Kopecks, MeterValue};
use entities::{
    audit_log, charge, closed_period, consumer, contract, delivery, holding, link_code, meter, meter_photo, payment,
    period_balance, photo, plot, reading, seal_event, staff, tariff, telegram_link,
};
use rust_xlsxwriter::{DocProperties, Workbook, Worksheet, XlsxError};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IdenStatic, Iterable, ModelTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Value,
};
use service::{Context, Internal};
use tokio::sync::mpsc;

use crate::sheet::{Cell, Styles, TableSheet, fit_widths};
use crate::{ReportError, snapshot};

/// Rows per query, and per message to the writer.
const PAGE: u64 = 5_000;

/// The database as xlsx bytes, read from one snapshot. Left out: password and API token hashes,
/// link codes (a live code links a Telegram account to whoever it names), web sessions, Telegram
/// dialogue state and the log of handled Telegram updates.
pub async fn full_export(ctx: &Context) -> Result<Vec<u8>, ReportError> {
    let title = format!("Выгрузка базы на {}", ctx.today().format("%d.%m.%Y"));
    let txn = snapshot(&ctx.db).await?;
    let (parts, inbox) = mpsc::channel(2);
    let writer = tokio::task::spawn_blocking(move || write_export(inbox, &title));
    let read = Outbox { parts, tz: ctx.settings.tz }.send_tables(&txn).await;
    // A failed writer drops its inbox and so fails the reader: the writer's error says why.
    let bytes = writer.await??;
    read?;
    txn.commit().await?;
    Ok(bytes)
}

/// What the reading side sends the writing side: each table with its first page, then the rest
/// of its pages.
enum Part {
    Table { name: &'static str, headers: Vec<String>, rows: Vec<Vec<Cell<'static>>> },
    Rows(Vec<Vec<Cell<'static>>>),
}

struct Outbox {
    parts: mpsc::Sender<Part>,
    tz: Tz,
}

impl Outbox {
    async fn send_tables(self, conn: &impl ConnectionTrait) -> Result<(), ReportError> {
        self.send_table::<plot::Entity>(conn).await?;
        self.send_table::<consumer::Entity>(conn).await?;
        self.send_table::<holding::Entity>(conn).await?;
        self.send_table::<contract::Entity>(conn).await?;
        self.send_table::<meter::Entity>(conn).await?;
        self.send_table::<photo::Entity>(conn).await?;
        self.send_table::<meter_photo::Entity>(conn).await?;
        self.send_table::<reading::Entity>(conn).await?;
        self.send_table::<seal_event::Entity>(conn).await?;
        self.send_table::<tariff::Entity>(conn).await?;
        self.send_table::<charge::Entity>(conn).await?;
        self.send_table::<payment::Entity>(conn).await?;
        self.send_table::<closed_period::Entity>(conn).await?;
        self.send_table::<period_balance::Entity>(conn).await?;
        self.send_table::<staff::Entity>(conn).await?;
        self.send_table::<telegram_link::Entity>(conn).await?;
        self.send_table::<link_code::Entity>(conn).await?;
        self.send_table::<audit_log::Entity>(conn).await?;
        self.send_table::<delivery::Entity>(conn).await
    }

    async fn send_table<E: EntityTrait>(&self, conn: &impl ConnectionTrait) -> Result<(), ReportError> {
        let name = E::default().table_name();
        let columns: Vec<(E::Column, Shown)> =
            E::Column::iter().filter_map(|column| Some((column, shown(name, column.as_str())?))).collect();
        let headers = columns.iter().map(|(column, shown)| shown.header(column.as_str())).collect();
        let id = E::Column::from_str("id").map_err(|_| Internal(anyhow!("{name} has no id column to page by")))?;

        let mut page = next_page::<E>(conn, id, None).await?;
        self.send(Part::Table { name, headers, rows: self.cells(&page, &columns) }).await?;
        while page.len() as u64 == PAGE {
            let after = page.last().map(|row| row.get(id));
            page = next_page::<E>(conn, id, after).await?;
            self.send(Part::Rows(self.cells(&page, &columns))).await?;
        }
        Ok(())
    }

    fn cells<M: ModelTrait>(
        &self,
        page: &[M],
        columns: &[(<M::Entity as EntityTrait>::Column, Shown)],
    ) -> Vec<Vec<Cell<'static>>> {
        page.iter()
            .map(|row| columns.iter().map(|(column, shown)| shown.cell(row.get(*column), self.tz)).collect())
            .collect()
    }

    async fn send(&self, part: Part) -> Result<(), ReportError> {
        self.parts.send(part).await.map_err(|_| Internal(anyhow!("the export writer stopped")).into())
    }
}

/// The rows after `after` in `id` order.
async fn next_page<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    id: E::Column,
    after: Option<Value>,
) -> Result<Vec<E::Model>, ReportError> {
    let query = E::find().apply_if(after, |query, after| query.filter(id.gt(after)));
    Ok(query.order_by_asc(id).limit(PAGE).all(conn).await?)
}

/// How a stored column appears in the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    AsStored,
    Rubles,
    Units,
}

/// How `table.column` is exported, or `None` for a secret left out.
fn shown(table: &str, column: &str) -> Option<Shown> {
    match (table, column) {
        ("staff", "password_hash" | "api_token_hash") | ("link_codes", "code_hash") => None,
        (_, money) if money.ends_with("_kopecks") => Some(Shown::Rubles),
        ("period_balances", "opening" | "consumption" | "recalculations" | "opening_balances" | "paid" | "closing") => {
            Some(Shown::Rubles)
        }
        ("meters", "initial_t1" | "initial_t2")
        | ("readings", "value_t1" | "value_t2")
        | ("charges", "previous_value" | "current_value" | "consumption") => Some(Shown::Units),
        _ => Some(Shown::AsStored),
    }
}

impl Shown {
    /// The column's name, saying "rubles" where the database says kopecks.
    fn header(self, column: &str) -> String {
        match self {
            Shown::Rubles => format!("{}_rub", column.trim_end_matches("_kopecks")),
            Shown::AsStored | Shown::Units => column.to_owned(),
        }
    }

    /// Money in rubles, meter values in units, times in the cooperative's time zone.
    fn cell(self, value: Value, tz: Tz) -> Cell<'static> {
        if value == value.as_null() {
            return Cell::Empty;
        }
        match (self, value) {
            // A stored number beyond its type's bounds is shown as it is, marked, not converted.
            (Shown::Rubles, Value::BigInt(Some(kopecks))) => {
                Kopecks::new(kopecks).map_or_else(|e| format!("{kopecks} коп.: {e}").into(), Cell::Money)
            }
            (Shown::Units, Value::BigInt(Some(thousandths))) => {
                MeterValue::new(thousandths).map_or_else(|e| format!("{thousandths} тыс. ед.: {e}").into(), Cell::Units)
            }
            (_, Value::BigInt(Some(n))) => Cell::Int(n),
            (_, Value::Int(Some(n))) => Cell::Int(n.into()),
            (_, Value::SmallInt(Some(n))) => Cell::Int(n.into()),
            (_, Value::Bool(Some(b))) => Cell::Bool(b),
            (_, Value::String(Some(s))) => s.into(),
            (_, Value::ChronoDate(Some(date))) => date.into(),
            (_, Value::ChronoDateTimeUtc(Some(at))) => Cell::DateTime(at.with_timezone(&tz).naive_local()),
            // Types this schema does not use: shown as they are rather than dropped.
            (_, other) => format!("{other:?}").into(),
        }
    }
}

fn write_export(mut inbox: mpsc::Receiver<Part>, title: &str) -> Result<Vec<u8>, ReportError> {
    let styles = Styles::new();
    let mut workbook = Workbook::new();
    workbook.set_properties(&DocProperties::new().set_title(title).set_company("Черноморск"));
    let mut current: Option<TableSheets> = None;
    while let Some(part) = inbox.blocking_recv() {
        let rows = match part {
            Part::Table { name, headers, rows } => {
                if let Some(done) = current.take() {
                    workbook.push_worksheet(done.finish()?);
                }
                let widths = fit_widths(&headers, &rows);
                let layout = Layout { title, headers, widths, styles: &styles };
                current = Some(TableSheets::open(&mut workbook, name, layout)?);
                rows
            }
            Part::Rows(rows) => rows,
        };
        current.as_mut().expect("rows follow their table").write(&mut workbook, &rows)?;
    }
    if let Some(done) = current {
        workbook.push_worksheet(done.finish()?);
    }
    Ok(workbook.save_to_buffer()?)
}

/// What every sheet of a table looks like.
struct Layout<'s> {
    title: &'s str,
    headers: Vec<String>,
    widths: Vec<f64>,
    styles: &'s Styles,
}

impl<'s> Layout<'s> {
    fn sheet(&self, workbook: &mut Workbook, name: &str) -> Result<TableSheet<'s>, XlsxError> {
        let sheet = workbook.new_worksheet_with_constant_memory()?;
        TableSheet::start(sheet, name, self.title, &self.headers, &self.widths, self.styles)
    }
}

/// The sheets of one table: one, unless the table outgrows Excel's row limit and continues on
/// «name (2)», «name (3)»…
struct TableSheets<'s> {
    name: &'static str,
    layout: Layout<'s>,
    sheet: TableSheet<'s>,
    count: u32,
}

impl<'s> TableSheets<'s> {
    fn open(workbook: &mut Workbook, name: &'static str, layout: Layout<'s>) -> Result<TableSheets<'s>, XlsxError> {
        let sheet = layout.sheet(workbook, name)?;
        Ok(TableSheets { name, layout, sheet, count: 1 })
    }

    fn write(&mut self, workbook: &mut Workbook, rows: &[Vec<Cell>]) -> Result<(), XlsxError> {
        for row in rows {
            if self.sheet.is_full() {
                self.count += 1;
                let next = self.layout.sheet(workbook, &format!("{} ({})", self.name, self.count))?;
                workbook.push_worksheet(std::mem::replace(&mut self.sheet, next).finish(None)?);
            }
            self.sheet.row(row)?;
        }
        Ok(())
    }

    fn finish(self) -> Result<Worksheet, XlsxError> {
        self.sheet.finish(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sheet::LAST_ROW;

    #[test]
    fn a_table_longer_than_excel_allows_continues_on_another_sheet() {
        let styles = Styles::new();
        let mut workbook = Workbook::new();
        let layout =
            Layout { title: "Выгрузка", headers: vec!["id".into()], widths: vec![8.0], styles: &styles };
        let mut table = TableSheets::open(&mut workbook, "readings", layout).unwrap();
        // Empty rows cost nothing to write, and fill a sheet all the same.
        let page = vec![vec![Cell::Empty]; 100_000];
        for _ in 0..=LAST_ROW / 100_000 {
            table.write(&mut workbook, &page).unwrap();
        }
        workbook.push_worksheet(table.finish().unwrap());
        let names: Vec<String> = workbook.worksheets().iter().map(Worksheet::name).collect();
        assert_eq!(names, ["readings", "readings (2)"]);
    }
}
