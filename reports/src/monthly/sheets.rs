//! The monthly report laid out as a workbook. Nothing here computes: every figure comes from
//! [`MonthlyData`].

use chrono::Utc;
use rust_xlsxwriter::utility::cell_range;
use rust_xlsxwriter::{ColNum, DocProperties, Formula, RowNum, Workbook, Worksheet, XlsxError};

use domain::Kopecks;
use domain::ledger::MonthFigures;

use super::network::{
    LINE_HEADERS, LINES_SHEET, LineRow, SHARE_AMOUNT_HEADER, SHARE_HEADERS, SHARES_SHEET, line_cells, share_cells,
};
use super::{AccountLine, ContractLabel, MeterLine, MonthlyData, Movement, PaymentLine, RecalculationLine, UnreadLine};
use crate::ReportError;
use crate::sheet::{
    Cell, Columns, Look, Styles, TITLE_ROW, TableSheet, Totals, ZIP_LEVEL, table_column, write_header, write_row,
};

const METERS_SHEET: &str = "Показания";
const ACCOUNTS_SHEET: &str = "Начисления и оплаты";
const UNREAD_SHEET: &str = "Не сняты";
const SUMMARY_SHEET: &str = "Сводка";
const PAYMENTS_SHEET: &str = "Оплаты";
const RECALCULATIONS_SHEET: &str = "Перерасчёты";

const AMOUNT_HEADER: &str = "Сумма, ₽";
const PAYMENT_HEADERS: [&str; 11] = [
    "Участок",
    "Потребитель",
    "Договор",
    "Услуга",
    "Дата оплаты",
    AMOUNT_HEADER,
    "Документ",
    "Источник",
    "За месяц",
    "№ платежа",
    "Сторно, основание",
];
const RECALCULATION_HEADERS: [&str; 9] =
    ["Участок", "Потребитель", "Договор", "Услуга", "За месяц", "Изменение расхода", "Ед.", AMOUNT_HEADER, "Причина"];

const CHARGED_HEADER: &str = "Начислено, ₽";
const METER_HEADERS: [&str; 18] = [
    "Участок",
    "Потребитель",
    "Договор",
    "Услуга",
    "Счётчик",
    "Зона",
    "Предыдущее показание",
    "Дата предыдущего",
    "Текущее показание",
    "Дата текущего",
    "Расход",
    "Ед.",
    "Тариф, ₽ за ед.",
    CHARGED_HEADER,
    "Источник",
    "Пломба цела",
    "На проверке",
    "Фото",
];

const ACCOUNT_HEADERS: [&str; 8] = [
    "Участок",
    "Потребитель",
    "Договор",
    "Услуга",
    "Долг на начало месяца, ₽ (минус — переплата)",
    "Начислено за месяц, ₽",
    "Оплачено за месяц, ₽",
    "Долг на конец месяца, ₽ (минус — переплата)",
];

const UNREAD_HEADERS: [&str; 9] = [
    "Участок",
    "Потребитель",
    "Телефон",
    "Договор",
    "Услуга",
    "Счётчик",
    "Последнее показание (общее или день)",
    "Последнее показание (ночь)",
    "Дата последнего показания",
];

/// The report as xlsx bytes: «Сводка», «Показания», «Начисления и оплаты», «Оплаты»,
/// «Перерасчёты», «Не сняты», «Баланс сети», «Потери в сетях».
pub fn write_monthly(data: &MonthlyData) -> Result<Vec<u8>, ReportError> {
    Draft::lay_out(data)?.finish(&data.network)
}

/// The report laid out but for «Баланс сети», which the report's snapshot reads last.
pub(super) struct Draft {
    workbook: Workbook,
    book: Book,
    /// «Сводка» to «Не сняты», in the workbook's order.
    before: [Worksheet; 6],
    network: Worksheet,
    losses: Worksheet,
}

impl Draft {
    /// Every sheet of `data` but «Баланс сети» (`data.network` is not read). Boxed: its sheets
    /// are some 40 KB, which the futures it passes through would otherwise copy on the stack.
    pub(super) fn lay_out(data: &MonthlyData) -> Result<Box<Draft>, ReportError> {
        let title = format!("Отчёт за {}", data.period.russian());
        let created = data.created.format("%d.%m.%Y %H:%M");
        let book = Book { title: format!("{title} · составлен {created}"), styles: Styles::new() };
        let mut workbook = Workbook::new();
        // The file's own creation time is the report's, so the same data gives the same bytes.
        let properties = DocProperties::new().set_title(&title).set_company("Черноморск");
        workbook.set_properties(&properties.set_creation_datetime(&data.created.with_timezone(&Utc)));
        workbook.set_zip_compression_level(ZIP_LEVEL);
        book.styles.register(&mut workbook);
        let mut blank = || workbook.new_worksheet_with_constant_memory();
        let (meters, accounts, unread) = (blank()?, blank()?, blank()?);
        let (payments, recalculations) = (blank()?, blank()?);
        let (network, losses) = (blank()?, blank()?);

        // The sheets are independent until the workbook is saved: the largest gets a thread of its own.
        let (meters, accounts, payments, recalculations, unread) = std::thread::scope(|scope| {
            let meters = scope.spawn(|| {
                let rows: Vec<Vec<Cell>> = data.meters.iter().map(meter_cells).collect();
                let total = money_total(&METER_HEADERS, CHARGED_HEADER, data.summary.charged_for_consumption);
                book.table(meters, METERS_SHEET, &METER_HEADERS, &rows, Some(&total))
            });
            let rows: Vec<Vec<Cell>> = data.accounts.iter().map(account_cells).collect();
            let total = totals_cells(data.summary.totals);
            let accounts = book.table(accounts, ACCOUNTS_SHEET, &ACCOUNT_HEADERS, &rows, Some(&total));
            let rows: Vec<Vec<Cell>> = data.payments.iter().map(payment_cells).collect();
            let total = money_total(&PAYMENT_HEADERS, AMOUNT_HEADER, data.summary.totals.paid);
            let payments = book.table(payments, PAYMENTS_SHEET, &PAYMENT_HEADERS, &rows, Some(&total));
            let rows: Vec<Vec<Cell>> = data.recalculations.iter().map(recalculation_cells).collect();
            let total = money_total(&RECALCULATION_HEADERS, AMOUNT_HEADER, data.summary.recalculated);
            let recalculations =
                book.table(recalculations, RECALCULATIONS_SHEET, &RECALCULATION_HEADERS, &rows, Some(&total));
            let rows: Vec<Vec<Cell>> = data.unread.iter().map(unread_cells).collect();
            let unread = book.table(unread, UNREAD_SHEET, &UNREAD_HEADERS, &rows, None);
            let meters = meters.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (meters, accounts, payments, recalculations, unread)
        });
        let rows: Vec<Vec<Cell>> = data.losses.iter().map(share_cells).collect();
        let total: Kopecks =
            Kopecks::try_sum(data.losses.iter().map(|l| l.amount)).map_err(|_| XlsxError::RowColumnLimitError)?;
        let total = money_total(&SHARE_HEADERS, SHARE_AMOUNT_HEADER, total);
        let losses = book.table(losses, SHARES_SHEET, &SHARE_HEADERS, &rows, Some(&total))?;
        let summary = summary_sheet(data, &book)?;
        let before = [summary, meters?, accounts?, payments?, recalculations?, unread?];
        Ok(Box::new(Draft { workbook, book, before, network, losses }))
    }

    /// The report with «Баланс сети» of `network`, as xlsx bytes.
    pub(super) fn finish(self: Box<Self>, network: &[LineRow]) -> Result<Vec<u8>, ReportError> {
        let Draft { mut workbook, book, before, network: sheet, losses } = *self;
        let rows: Vec<Vec<Cell>> = network.iter().map(line_cells).collect();
        let network = book.table(sheet, LINES_SHEET, &LINE_HEADERS, &rows, None)?;
        for sheet in before.into_iter().chain([network, losses]) {
            workbook.push_worksheet(sheet);
        }
        Ok(workbook.save_to_buffer()?)
    }
}

/// What every sheet of the report shares.
struct Book {
    title: String,
    styles: Styles,
}

impl Book {
    /// A whole table on a constant-memory sheet (rows go to a temporary file as they are written).
    fn table(
        &self,
        sheet: Worksheet,
        name: &str,
        headers: &[&str],
        rows: &[Vec<Cell>],
        total: Option<&[Cell]>,
    ) -> Result<Worksheet, XlsxError> {
        let columns = Columns::fit(headers, rows, &self.styles);
        let totals = total.map(|cells| Totals { cells, rows: rows.len() });
        let mut sheet = TableSheet::start(sheet, name, &self.title, headers, &columns, &self.styles, totals)?;
        for row in rows {
            sheet.row(row)?;
        }
        sheet.finish()
    }
}

fn contract_cells(contract: &ContractLabel) -> [Cell<'_>; 4] {
    [
        contract.plot.as_str().into(),
        contract.consumer.as_str().into(),
        contract.number.as_str().into(),
        contract.service.label().into(),
    ]
}

fn yes_no(yes: bool) -> &'static str {
    if yes { "да" } else { "нет" }
}

fn meter_cells(line: &MeterLine) -> Vec<Cell<'_>> {
    let billed = line.billed.as_ref();
    let mut cells = Vec::with_capacity(METER_HEADERS.len());
    cells.extend(contract_cells(&line.contract));
    cells.extend([
        line.serial.as_str().into(),
        line.zone.label().into(),
        line.previous.value.into(),
        line.previous.date.into(),
        billed.map(|b| b.current.value).into(),
        billed.map(|b| b.current.date).into(),
        billed.map(|b| b.consumption).into(),
        line.contract.service.unit().into(),
        billed.map(|b| b.price).into(),
        billed.map(|b| b.amount).into(),
        billed.map(|b| b.source.label()).into(),
        // «—»: nobody checked the seal (consumers send readings from home).
        billed.map(|b| b.seal_intact.map_or("—", yes_no)).into(),
        yes_no(line.flagged).into(),
        billed
            .and_then(|b| b.photo_url.as_deref())
            .map_or(Cell::Empty, |url| Cell::Link { url: url.into(), text: "фото" }),
    ]);
    cells
}

fn account_cells(line: &AccountLine) -> Vec<Cell<'_>> {
    let mut cells = contract_cells(&line.contract).to_vec();
    cells.extend(movement_cells(line.movement));
    cells
}

fn movement_cells(movement: Movement) -> [Cell<'static>; 4] {
    [movement.opening.into(), movement.charged.into(), movement.paid.into(), movement.closing.into()]
}

/// The label of a totals row: what it adds up follows the filter.
const TOTAL: &str = "Итого по отобранным строкам";

fn totals_cells(totals: Movement) -> Vec<Cell<'static>> {
    let mut cells = vec![TOTAL.into(), Cell::Empty, Cell::Empty, Cell::Empty];
    cells.extend(movement_cells(totals));
    cells
}

/// A totals row adding up only the money column under `header`: consumption is in cubic metres
/// and kilowatt-hours, which do not add up across a sheet.
fn money_total(headers: &[&str], header: &str, amount: Kopecks) -> Vec<Cell<'static>> {
    let mut cells = vec![Cell::Empty; headers.len()];
    cells[0] = TOTAL.into();
    if let Some(column) = headers.iter().position(|h| *h == header) {
        cells[column] = amount.into();
    }
    cells
}

fn payment_cells(line: &PaymentLine) -> Vec<Cell<'_>> {
    let mut cells = contract_cells(&line.contract).to_vec();
    cells.extend([
        line.paid_on.into(),
        line.amount.into(),
        line.reference.as_deref().into(),
        line.source.label().into(),
        line.for_period.russian().into(),
        line.id.to_string().into(),
        line.note.as_deref().into(),
    ]);
    cells
}

fn recalculation_cells(line: &RecalculationLine) -> Vec<Cell<'_>> {
    let mut cells = contract_cells(&line.contract).to_vec();
    cells.extend([
        line.for_period.russian().into(),
        line.consumption_change.map_or(Cell::Empty, Cell::UnitsChange),
        line.contract.service.unit().into(),
        line.amount.into(),
        line.reason.as_deref().into(),
    ]);
    cells
}

fn unread_cells(line: &UnreadLine) -> Vec<Cell<'_>> {
    let [plot, consumer, contract, service] = contract_cells(&line.contract);
    let last = line.last.as_ref();
    let value = |zone: usize| last.and_then(|l| l.values.get(zone).copied());
    vec![
        plot,
        consumer,
        line.phone.as_deref().into(),
        contract,
        service,
        line.serial.as_str().into(),
        value(0).into(),
        value(1).into(),
        last.map(|l| l.date).into(),
    ]
}

const MOVEMENT_HEADERS: [&str; 8] = [
    "Услуга",
    "Долг на начало месяца, ₽",
    "Начислено за потребление, ₽",
    "Перерасчёты, ₽",
    "Входящее сальдо, ₽",
    "Оплачено, ₽",
    "Долг на конец месяца, ₽",
    "Проверка: начало + начислено − оплачено, ₽",
];

/// `SUMIFS` of a money column of a table sheet over the rows of one service, its value cached.
struct SumIfs<'a> {
    sheet: &'a str,
    headers: &'a [&'a str],
    rows: usize,
}

impl SumIfs<'_> {
    fn formula(&self, header: &str, service: &str) -> Result<String, XlsxError> {
        let column = |name: &str| -> Result<String, XlsxError> {
            // The headers are this file's constants: a miss is a typo here, reported as a failed write.
            let col = self.headers.iter().position(|h| *h == name).ok_or(XlsxError::RowColumnLimitError)?;
            let col = ColNum::try_from(col).map_err(|_| XlsxError::RowColumnLimitError)?;
            Ok(format!("'{}'!{}", self.sheet, table_column(col, self.rows)?))
        };
        Ok(format!("SUMIFS({},{},\"{service}\")", column(header)?, column("Услуга")?))
    }
}

/// Writes `formula` with its value cached, for programs that do not recalculate.
fn money_formula(
    sheet: &mut Worksheet,
    row: RowNum,
    col: ColNum,
    formula: String,
    cached: Kopecks,
    look: &Look,
) -> Result<(), XlsxError> {
    let formula = Formula::new(formula).set_result(cached.as_rubles_for_display().to_string());
    sheet.write_formula_with_format(row, col, formula, look.money())?;
    Ok(())
}

/// A row of «Сводка»'s money table: the six figures from `formula` (given the figure's index and
/// the 1-based row), then opening + charged − paid as a formula over them.
fn write_figures(
    sheet: &mut Worksheet,
    row: RowNum,
    figures: MonthFigures,
    look: &Look,
    formula: impl Fn(usize, RowNum) -> Result<String, XlsxError>,
) -> Result<(), XlsxError> {
    let identity =
        figures.charged().and_then(|charged| figures.opening.checked_add(charged)?.checked_sub(figures.paid));
    let identity = identity.map_err(|_| XlsxError::RowColumnLimitError)?;
    let cached = [
        figures.opening,
        figures.consumption,
        figures.recalculations,
        figures.opening_balances,
        figures.paid,
        figures.closing,
    ];
    let r = row + 1;
    for (column, cached) in cached.into_iter().enumerate() {
        let col = ColNum::try_from(column + 1).map_err(|_| XlsxError::RowColumnLimitError)?;
        money_formula(sheet, row, col, formula(column, r)?, cached, look)?;
    }
    money_formula(sheet, row, 7, format!("B{r}+C{r}+D{r}+E{r}-F{r}"), identity, look)
}

/// The month's money per service and in total, as formulas over the table sheets (an
/// accountant can follow each figure to its rows), and the identity closing = opening + charged
/// − paid side by side. Opening balances have no sheet of their own: they are what
/// «Начисления и оплаты» charged beyond consumption and recalculations.
fn movement_table(
    sheet: &mut Worksheet,
    data: &MonthlyData,
    styles: &Styles,
    top: RowNum,
) -> Result<RowNum, XlsxError> {
    write_header(sheet, top, &MOVEMENT_HEADERS, styles)?;
    let accounts = SumIfs { sheet: ACCOUNTS_SHEET, headers: &ACCOUNT_HEADERS, rows: data.accounts.len() };
    let meters = SumIfs { sheet: METERS_SHEET, headers: &METER_HEADERS, rows: data.meters.len() };
    let recalculations =
        SumIfs { sheet: RECALCULATIONS_SHEET, headers: &RECALCULATION_HEADERS, rows: data.recalculations.len() };
    let payments = SumIfs { sheet: PAYMENTS_SHEET, headers: &PAYMENT_HEADERS, rows: data.payments.len() };
    let losses = SumIfs { sheet: SHARES_SHEET, headers: &SHARE_HEADERS, rows: data.losses.len() };
    let first = top + 1;
    let mut row = first;
    for line in &data.summary.by_service {
        let (service, figures) = (line.service.label(), line.figures);
        sheet.write_string_with_format(row, 0, service, styles.body.text())?;
        write_figures(sheet, row, figures, &styles.body, |column, r| {
            Ok(match column {
                0 => accounts.formula(ACCOUNT_HEADERS[4], service)?,
                1 => format!(
                    "{}+{}",
                    meters.formula(CHARGED_HEADER, service)?,
                    losses.formula(SHARE_AMOUNT_HEADER, service)?
                ),
                2 => recalculations.formula(AMOUNT_HEADER, service)?,
                3 => format!("{}-C{r}-D{r}", accounts.formula(ACCOUNT_HEADERS[5], service)?),
                4 => payments.formula(AMOUNT_HEADER, service)?,
                _ => accounts.formula(ACCOUNT_HEADERS[7], service)?,
            })
        })?;
        row += 1;
    }
    let total = MonthFigures::try_sum(data.summary.by_service.iter().map(|line| line.figures))
        .map_err(|_| XlsxError::RowColumnLimitError)?;
    sheet.write_string_with_format(row, 0, "Итого по услугам", styles.total.text())?;
    let last = row.saturating_sub(1).max(first);
    write_figures(sheet, row, total, &styles.total, |column, _| {
        let col = ColNum::try_from(column + 1).map_err(|_| XlsxError::RowColumnLimitError)?;
        Ok(format!("SUM({})", cell_range(first, col, last, col)))
    })?;
    Ok(row + 1)
}

/// Totals laid out for reading rather than filtering: the month's money per service, consumption
/// by service and register, then the month's key figures.
fn summary_sheet(data: &MonthlyData, book: &Book) -> Result<Worksheet, XlsxError> {
    let (summary, styles) = (&data.summary, &book.styles);
    let mut sheet = Worksheet::new();
    sheet.set_name(SUMMARY_SHEET)?;
    for (col, width) in (0..).zip([40.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 22.0]) {
        sheet.set_column_width(col, width)?;
    }
    sheet.set_landscape().set_print_fit_to_pages(1, 0);
    sheet.write_string_with_format(TITLE_ROW, 0, &book.title, &styles.title)?;
    let next = movement_table(&mut sheet, data, styles, 2)?;

    let mut rows = Rows { sheet: &mut sheet, styles, next: next + 1 };
    rows.header(&["Услуга", "Зона", "Ед.", "Расход", "Начислено, ₽"])?;
    for total in &summary.by_zone {
        let cells = [
            total.service.label().into(),
            total.zone.label().into(),
            total.service.unit().into(),
            total.consumption.into(),
            total.charged.into(),
        ];
        rows.row(&cells, &styles.body)?;
    }
    let total = summary.charged_for_consumption.into();
    rows.row(&["Итого за потребление".into(), Cell::Empty, Cell::Empty, Cell::Empty, total], &styles.total)?;

    rows.skip();
    rows.header(&["Показатель", "Значение"])?;
    let count = |n: usize| Cell::Int(n as i64);
    for (label, value) in [
        ("Участков снято", count(summary.plots_read)),
        ("Участков не снято", count(summary.plots_unread)),
        ("Долг на начало месяца, ₽", summary.totals.opening.into()),
        ("Начислено за месяц, ₽", summary.totals.charged.into()),
        ("В том числе перерасчёты, ₽", summary.recalculated.into()),
        ("Оплачено за месяц, ₽", summary.totals.paid.into()),
        ("Долг должников на конец месяца, ₽", summary.owed.into()),
        ("Переплата на конец месяца, ₽", summary.overpaid.into()),
        ("Сальдо на конец месяца, ₽", summary.totals.closing.into()),
        ("Договоров с долгом", count(summary.debtors)),
    ] {
        rows.row(&[label.into(), value], &styles.body)?;
    }
    Ok(sheet)
}

/// Rows written one under another on the summary sheet.
struct Rows<'a> {
    sheet: &'a mut Worksheet,
    styles: &'a Styles,
    next: u32,
}

impl Rows<'_> {
    fn header(&mut self, headers: &[&str]) -> Result<(), XlsxError> {
        write_header(self.sheet, self.next, headers, self.styles)?;
        self.next += 1;
        Ok(())
    }

    fn row(&mut self, cells: &[Cell], look: &Look) -> Result<(), XlsxError> {
        write_row(self.sheet, self.next, cells, look)?;
        self.next += 1;
        Ok(())
    }

    fn skip(&mut self) {
        self.next += 1;
    }
}
