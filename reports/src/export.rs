//! The whole database as a workbook, one sheet per table, for safekeeping and for the questions
//! the panel does not answer.
//!
//! Tables are read page by page (by `id`, so each page costs the same however deep it is) and
//! written on a blocking thread to constant-memory sheets: memory holds a few pages, not the
//! history.

use std::collections::HashMap;
use std::str::FromStr;

use anyhow::anyhow;
use chrono_tz::Tz;
use domain::{Kopecks, MeterValue};
use entities::{
    announcement, audit_log, bank_details, bank_document, charge, closed_period, consumer, contract, delivery, holding,
    line_plot, link_code, loss_decision, member_request, meter, meter_photo, network_line, payer_account, payment,
    period_balance, photo, plot, reading, request_message, seal_event, staff, tariff, telegram_link,
};
use rust_xlsxwriter::{DocProperties, Workbook, Worksheet, XlsxError};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IdenStatic, Iterable, ModelTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Value,
};
use service::{Context, Internal};
use tokio::sync::mpsc;

use crate::ReportError;
use crate::sheet::{Cell, Columns, Styles, TableSheet};

/// Rows per query, and per message to the writer.
const PAGE: u64 = 5_000;

/// The database as xlsx bytes, read from one snapshot. Left out: password and API token hashes,
/// link codes (a live code links a Telegram account to whoever it names), web sessions, Telegram
/// dialogue state and the log of handled Telegram updates.
pub async fn full_export(ctx: &Context) -> Result<Vec<u8>, ReportError> {
    let title = format!("Выгрузка базы на {}", ctx.today().format("%d.%m.%Y"));
    let txn = ctx.db.begin_read().await?;
    let (parts, inbox) = mpsc::channel(2);
    let writer = tokio::task::spawn_blocking(move || write_export(inbox, &title));
    let read = match Numbers::load(&txn).await {
        Ok(numbers) => Outbox { parts, tz: ctx.settings.tz, numbers }.send_tables(&txn).await,
        Err(e) => Err(e),
    };
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
    numbers: Numbers,
}

/// Contract and plot numbers by id, shown next to the ids that point at them: people know a
/// contract as «В-12», not as 4711.
struct Numbers {
    contracts: HashMap<i64, String>,
    plots: HashMap<i64, String>,
}

impl Numbers {
    async fn load(conn: &impl ConnectionTrait) -> Result<Numbers, ReportError> {
        let contracts = contract::Entity::find().select_only().column(contract::Column::Id);
        let contracts = contracts.column(contract::Column::Number).into_tuple().all(conn).await?;
        let plots = plot::Entity::find().select_only().column(plot::Column::Id).column(plot::Column::Number);
        let plots = plots.into_tuple().all(conn).await?;
        Ok(Numbers { contracts: contracts.into_iter().collect(), plots: plots.into_iter().collect() })
    }

    /// The number an id column points at, for the column shown after it.
    fn of(&self, shown: Shown, id: &Value) -> Option<Cell<'static>> {
        let map = match shown {
            Shown::Contract => &self.contracts,
            Shown::Plot => &self.plots,
            Shown::AsStored | Shown::Rubles | Shown::Units => return None,
        };
        let number = match id {
            Value::BigInt(Some(id)) => map.get(id),
            _ => None,
        };
        Some(number.map_or(Cell::Empty, |n| n.clone().into()))
    }
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
        self.send_table::<bank_document::Entity>(conn).await?;
        self.send_table::<payer_account::Entity>(conn).await?;
        self.send_table::<closed_period::Entity>(conn).await?;
        self.send_table::<period_balance::Entity>(conn).await?;
        self.send_table::<staff::Entity>(conn).await?;
        self.send_table::<telegram_link::Entity>(conn).await?;
        self.send_table::<link_code::Entity>(conn).await?;
        self.send_table::<bank_details::Entity>(conn).await?;
        self.send_table::<network_line::Entity>(conn).await?;
        self.send_table::<line_plot::Entity>(conn).await?;
        self.send_table::<loss_decision::Entity>(conn).await?;
        self.send_table::<audit_log::Entity>(conn).await?;
        self.send_table::<delivery::Entity>(conn).await?;
        self.send_table::<announcement::Entity>(conn).await?;
        self.send_table::<member_request::Entity>(conn).await?;
        self.send_table::<request_message::Entity>(conn).await
    }

    async fn send_table<E: EntityTrait>(&self, conn: &impl ConnectionTrait) -> Result<(), ReportError> {
        let table = E::default().table_name();
        let name = sheet_name(table);
        let columns: Vec<(E::Column, Shown)> =
            E::Column::iter().filter_map(|column| Some((column, shown(table, column.as_str())?))).collect();
        let headers = columns.iter().flat_map(|(column, shown)| shown.headers(table, column.as_str())).collect();
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
            .map(|row| {
                let mut cells = Vec::with_capacity(columns.len() + 2);
                for (column, shown) in columns {
                    let value = row.get(*column);
                    let number = self.numbers.of(*shown, &value);
                    cells.push(shown.cell(value, self.tz));
                    cells.extend(number);
                }
                cells
            })
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
    /// An id followed by the number of the contract or plot it points at.
    Contract,
    Plot,
}

/// How `table.column` is exported, or `None` for a secret left out.
fn shown(table: &str, column: &str) -> Option<Shown> {
    match (table, column) {
        ("staff", "password_hash" | "api_token_hash") | ("link_codes", "code_hash") => None,
        (_, money) if money.ends_with("_kopecks") => Some(Shown::Rubles),
        ("period_balances", "opening" | "consumption" | "recalculations" | "opening_balances" | "paid" | "closing") => {
            Some(Shown::Rubles)
        }
        (_, "contract_id") => Some(Shown::Contract),
        (_, "plot_id") => Some(Shown::Plot),
        ("meters", "initial_t1" | "initial_t2")
        | ("readings", "value_t1" | "value_t2")
        | ("charges", "previous_value" | "current_value" | "consumption") => Some(Shown::Units),
        _ => Some(Shown::AsStored),
    }
}

impl Shown {
    /// The column's Russian name, and the number's after an id that points at a contract or plot.
    fn headers(self, table: &str, column: &str) -> impl Iterator<Item = String> {
        let number = match self {
            Shown::Contract => Some("№ договора"),
            Shown::Plot => Some("№ участка"),
            Shown::AsStored | Shown::Rubles | Shown::Units => None,
        };
        std::iter::once(column_name(table, column).to_owned()).chain(number.map(str::to_owned))
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
    styles.register(&mut workbook);
    let mut current: Option<TableSheets> = None;
    while let Some(part) = inbox.blocking_recv() {
        let rows = match part {
            Part::Table { name, headers, rows } => {
                if let Some(done) = current.take() {
                    workbook.push_worksheet(done.finish()?);
                }
                let columns = Columns::fit(&headers, &rows, &styles);
                let layout = Layout { title, headers, columns, styles: &styles };
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
    columns: Columns<'s>,
    styles: &'s Styles,
}

impl<'s> Layout<'s> {
    fn sheet(&self, workbook: &mut Workbook, name: &str) -> Result<TableSheet<'s>, XlsxError> {
        let sheet = workbook.new_worksheet_with_constant_memory()?;
        TableSheet::start(sheet, name, self.title, &self.headers, &self.columns, self.styles, None)
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
                workbook.push_worksheet(std::mem::replace(&mut self.sheet, next).finish()?);
            }
            self.sheet.row(row)?;
        }
        Ok(())
    }

    fn finish(self) -> Result<Worksheet, XlsxError> {
        self.sheet.finish()
    }
}

/// The sheet of a table, as the cooperative calls it (a table added later shows its own name
/// until it is given one here).
fn sheet_name(table: &'static str) -> &'static str {
    match table {
        "plots" => "Участки",
        "consumers" => "Потребители",
        "holdings" => "Владельцы участков",
        "contracts" => "Договоры",
        "meters" => "Счётчики",
        "photos" => "Фото",
        "meter_photos" => "Фото счётчиков",
        "readings" => "Показания",
        "seal_events" => "Пломбы",
        "tariffs" => "Тарифы",
        "charges" => "Начисления",
        "payments" => "Оплаты",
        "bank_documents" => "Документы выписок",
        "payer_accounts" => "Счета плательщиков",
        "staff" => "Сотрудники",
        "telegram_links" => "Привязки Telegram",
        "link_codes" => "Коды привязки",
        "closed_periods" => "Закрытые месяцы",
        "period_balances" => "Сальдо по месяцам",
        "bank_details" => "Реквизиты",
        "network_lines" => "Линии сети",
        "line_plots" => "Участки линий",
        "loss_decisions" => "Решения о потерях",
        "audit_log" => "Журнал действий",
        "deliveries" => "Рассылки",
        "announcements" => "Объявления",
        "member_requests" => "Обращения",
        "request_messages" => "Сообщения обращений",
        other => other,
    }
}

/// A column's Russian name; money columns say rubles, since the export shows rubles.
fn column_name<'a>(table: &str, column: &'a str) -> &'a str {
    match (table, column) {
        ("plots", "number") => "№ участка",
        ("contracts", "number") => "№ договора",
        ("holdings", "since") => "Владеет с",
        ("holdings", "until") => "Владел по",
        ("bank_details", "payee") => "Получатель",
        ("bank_details", "inn") => "ИНН",
        ("bank_details", "kpp") => "КПП",
        ("bank_details", "account") => "Расчётный счёт",
        ("bank_details", "bank_name") => "Банк",
        ("bank_details", "bic") => "БИК",
        ("bank_details", "correspondent_account") => "Корр. счёт",
        ("bank_details", "updated_by") => "Изменил",
        ("bank_details", "updated_at") => "Изменено",
        ("announcements", "body") => "Текст",
        ("announcements", "urgent") => "Срочное",
        ("announcements", "audience") => "Кому",
        ("announcements", "recipients") => "Получателей",
        ("announcements", "created_by") => "Отправил (код сотрудника)",
        ("member_requests", "topic") => "Тема",
        ("member_requests", "updated_at") => "Изменено",
        ("member_requests", "task_plot_id") => "Поручено контролёру: код участка",
        ("member_requests", "task_set_at") => "Поручено контролёру",
        ("request_messages", "request_id") => "№ обращения",
        ("request_messages", "body") => "Текст",
        (_, "announcements_muted") => "Объявления отключены",
        ("period_balances", "opening") => "Входящее сальдо, ₽",
        ("period_balances", "consumption") => "Начислено за потребление, ₽",
        ("period_balances", "recalculations") => "Перерасчёты, ₽",
        ("period_balances", "opening_balances") => "Входящие остатки при запуске, ₽",
        ("period_balances", "paid") => "Оплачено, ₽",
        ("period_balances", "closing") => "Исходящее сальдо, ₽",
        ("closed_periods", "closed_at") => "Закрыт",
        ("bank_documents", "identity_key") => "Ключ документа (счёт|дата|номер|сумма|счёт плательщика)",
        ("bank_documents", "account") => "Счёт получателя",
        ("bank_documents", "doc_date") => "Дата документа",
        ("bank_documents", "number") => "№ документа",
        ("bank_documents", "payer") => "Плательщик",
        ("bank_documents", "purpose") => "Назначение платежа",
        ("bank_documents", "arrived_on") => "Поступило",
        ("bank_documents", "review_reason") => "Почему в «Разобрать»",
        ("bank_documents", "resolution_note") => "Не оплата за услуги: почему",
        ("bank_documents", "file_name") => "Файл выписки",
        (_, "payer_account") => "Счёт плательщика",
        (_, "bank_document_id") => "Код документа выписки",
        ("closed_periods", "closed_by") => "Закрыл (код сотрудника)",
        ("closed_periods", "how") => "Как закрыт",
        ("network_lines", "name") => "Линия",
        ("network_lines", "parent_id") => "Код главной линии (пусто — главный счётчик)",
        ("line_plots", "line_id") => "Код линии",
        ("loss_decisions", "method") => "Способ распределения потерь",
        ("loss_decisions", "cap_percent") => "Потолок, % от потребления",
        ("loss_decisions", "flag_percent") => "Порог отметки линии, %",
        ("loss_decisions", "decided_on") => "Дата решения собрания",
        ("plots", "area_m2") => "Площадь, м²",
        (_, "for_period") => "За месяц",
        (_, "dated_on") => "Дата строки",
        (_, "from_on") => "Период с",
        (_, "to_on") => "Период по",
        (_, "reason") => "Основание",
        (_, "cause_kind") => "Причина перерасчёта",
        (_, "cause_id") => "Код причины",
        (_, "consumption_change") => "Изменение расхода, тысячные доли",
        (_, "reverses_id") => "Сторнирует запись",
        (_, "id") => "Код записи",
        (_, "created_at") => "Создано",
        (_, "address") => "Адрес",
        (_, "notes") => "Примечания",
        (_, "full_name") => "ФИО",
        (_, "phone") => "Телефон",
        (_, "reminders_enabled") => "Напоминания",
        (_, "consumer_id") => "Код потребителя",
        (_, "plot_id") => "Код участка",
        (_, "contract_id") => "Код договора",
        (_, "meter_id") => "Код счётчика",
        (_, "photo_id") => "Код фото",
        (_, "reading_id") => "Код показания",
        (_, "staff_id") => "Код сотрудника",
        (_, "service") => "Услуга",
        (_, "tariff_plan") => "Тарифный план",
        (_, "signed_on") => "Дата договора",
        (_, "closed_on") => "Дата закрытия",
        (_, "serial") => "Заводской номер",
        (_, "zones") => "Зоны",
        (_, "installed_on") => "Дата установки",
        (_, "initial_t1") => "Начальное показание (общее или день)",
        (_, "initial_t2") => "Начальное показание (ночь)",
        (_, "seal_number") => "№ пломбы",
        (_, "seal_checked_on") => "Пломба проверена",
        (_, "verification_due") => "Срок поверки",
        (_, "removed_on") => "Дата снятия",
        (_, "sha256") => "Контрольная сумма (SHA-256)",
        (_, "path") => "Файл",
        (_, "thumb_path") => "Файл миниатюры",
        (_, "width") => "Ширина, точек",
        (_, "height") => "Высота, точек",
        (_, "bytes") => "Размер, байт",
        (_, "taken_at") => "Снято",
        (_, "period") => "Месяц",
        (_, "value_t1") => "Показание (общее или день)",
        (_, "value_t2") => "Показание (ночь)",
        (_, "source") => "Источник",
        (_, "seal_intact") => "Пломба цела",
        (_, "comment") => "Комментарий",
        (_, "status") => "Статус",
        (_, "supersedes_id") => "Заменяет показание",
        (_, "idempotency_key") => "Ключ повтора",
        (_, "reported_by_staff") => "Сообщил сотрудник",
        (_, "reported_at") => "Сообщено",
        (_, "resolved_at") => "Решено",
        (_, "resolved_by") => "Решил",
        (_, "resolution") => "Решение",
        (_, "zone") => "Зона",
        (_, "price_kopecks") => "Цена, ₽",
        (_, "valid_from") => "Действует с",
        (_, "kind") => "Вид",
        (_, "previous_value") => "Предыдущее показание",
        (_, "current_value") => "Текущее показание",
        (_, "consumption") => "Расход",
        (_, "amount_kopecks") => "Сумма, ₽",
        (_, "paid_on") => "Дата оплаты",
        (_, "reference") => "№ платёжного документа",
        (_, "login") => "Логин",
        (_, "role") => "Роль",
        (_, "active") => "Активен",
        (_, "failed_attempts") => "Неудачных входов подряд",
        (_, "locked_until") => "Заблокирован до",
        (_, "telegram_user_id") => "Код в Telegram",
        (_, "session_epoch") => "Поколение сессий",
        (_, "linked_at") => "Привязан",
        (_, "expires_at") => "Действует до",
        (_, "used_at") => "Использован",
        (_, "used_by_telegram_id") => "Использовал (код в Telegram)",
        (_, "created_by") => "Выдал",
        (_, "at") => "Время",
        (_, "action") => "Действие",
        (_, "entity") => "Объект",
        (_, "entity_id") => "Код объекта",
        (_, "details") => "Подробности",
        (_, "target") => "Получатель",
        (_, "sent_at") => "Отправлено",
        (_, "attempts") => "Попыток",
        (_, "last_error") => "Последняя ошибка",
        (_, "next_attempt_at") => "Следующая попытка",
        ("deliveries", "parts_sent") => "Отправлено частей (фото, затем текст)",
        _ => column,
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
        let headers = vec!["id".to_owned()];
        let columns = Columns::fit(&headers, &[], &styles);
        let layout = Layout { title: "Выгрузка", headers, columns, styles: &styles };
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
