//! The акт сверки as xlsx: the heading (the cooperative, the member, plots, contracts, range),
//! one table of every line with debit, credit and the running balance, a subtotal per contract,
//! the totals, and the two signature lines; portrait A4, one page wide. The figures are the
//! service's ([`service::ledger::act`]); this only lays them out.

use chrono::Utc;
use domain::Period;
use rust_xlsxwriter::{DocProperties, RowNum, Workbook};
use service::Context;
use service::ledger::act::{self, Act, ActError, ActLine, ActRange, ActScope, ContractAct, LineKind};

use crate::ReportError;
use crate::sheet::{Cell, Styles, ZIP_LEVEL, fit_widths, write_header, write_row};

pub const ACT_HEADERS: [&str; 8] = [
    "Дата",
    "Договор",
    "Содержание операции",
    "За период",
    "Расход",
    "Дебет (начислено)",
    "Кредит (оплачено)",
    "Сальдо",
];

/// The row of the table's header (0-based): under the heading's five lines and a blank one.
pub const ACT_HEADER_ROW: RowNum = 6;

/// A4 in Excel's paper sizes.
const A4: u8 = 9;

/// The акт of `scope` over `range` and its file, written off the async runtime.
pub async fn act_report(ctx: &Context, scope: ActScope, range: ActRange) -> Result<(Act, Vec<u8>), ActReportError> {
    let act = act::act(ctx, scope, range).await?;
    written(ctx, act).await
}

/// The whole history of `scope` up to today and its file (the bot's «История расчётов»).
pub async fn history_report(ctx: &Context, scope: ActScope) -> Result<(Act, Vec<u8>), ActReportError> {
    let act = act::since_go_live(ctx, scope).await?;
    written(ctx, act).await
}

async fn written(ctx: &Context, act: Act) -> Result<(Act, Vec<u8>), ActReportError> {
    let created = ctx.now();
    service::heavy::run(move || write_act(&act, created).map(|bytes| (act, bytes)))
        .await
        .map_err(ReportError::from)?
        .map_err(ActReportError::Report)
}

#[derive(Debug, thiserror::Error)]
pub enum ActReportError {
    #[error(transparent)]
    Act(#[from] ActError),
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// `akt-sverki-12A-2026-01-01-2026-12-01.xlsx`: plots in Latin letters, so no client mangles it.
pub fn act_file_name(act: &Act) -> String {
    let plots: Vec<String> = act.plots().into_iter().map(ascii).collect();
    let plots = if plots.is_empty() { "net".to_owned() } else { plots.join("_") };
    format!("akt-sverki-{plots}-{}-{}.xlsx", act.range.from().format("%Y-%m-%d"), act.range.to().format("%Y-%m-%d"))
}

/// A plot number (digits, upper-case letters, `-`, `/`) in ASCII.
fn ascii(plot: &str) -> String {
    const CYRILLIC: [(char, &str); 33] = [
        ('А', "A"),
        ('Б', "B"),
        ('В', "V"),
        ('Г', "G"),
        ('Д', "D"),
        ('Е', "E"),
        ('Ё', "E"),
        ('Ж', "Zh"),
        ('З', "Z"),
        ('И', "I"),
        ('Й', "Y"),
        ('К', "K"),
        ('Л', "L"),
        ('М', "M"),
        ('Н', "N"),
        ('О', "O"),
        ('П', "P"),
        ('Р', "R"),
        ('С', "S"),
        ('Т', "T"),
        ('У', "U"),
        ('Ф', "F"),
        ('Х', "Kh"),
        ('Ц', "Ts"),
        ('Ч', "Ch"),
        ('Ш', "Sh"),
        ('Щ', "Sch"),
        ('Ъ', ""),
        ('Ы', "Y"),
        ('Ь', ""),
        ('Э', "E"),
        ('Ю', "Yu"),
        ('Я', "Ya"),
    ];
    plot.chars()
        .map(|c| match c {
            c if c.is_ascii_alphanumeric() || c == '-' => c.to_string(),
            c => CYRILLIC.iter().find(|(cyr, _)| *cyr == c).map_or("_", |(_, lat)| lat).to_owned(),
        })
        .collect()
}

/// The акт as xlsx bytes, dated `created` (the file's own creation time).
pub fn write_act(act: &Act, created: chrono::DateTime<Utc>) -> Result<Vec<u8>, ReportError> {
    let styles = Styles::new();
    let mut workbook = Workbook::new();
    let title = "Акт сверки взаимных расчётов";
    workbook.set_properties(
        &DocProperties::new().set_title(title).set_company("Черноморск").set_creation_datetime(&created),
    );
    workbook.set_zip_compression_level(ZIP_LEVEL);
    styles.register(&mut workbook);
    let sheet = workbook.add_worksheet();
    sheet.set_name("Акт сверки")?;

    let (from, to) = (act.range.from().format("%d.%m.%Y"), act.range.to().format("%d.%m.%Y"));
    let contracts: Vec<String> =
        act.contracts.iter().map(|c| format!("№ {} ({})", c.number, c.service.label().to_lowercase())).collect();
    sheet.write_string_with_format(0, 0, title, &styles.title)?;
    sheet.write_string(1, 0, format!("{} — {}", act.cooperative, act.consumer))?;
    sheet.write_string(2, 0, format!("Участок: {}", act.plots().join(", ")))?;
    sheet.write_string(3, 0, format!("Договор: {}", contracts.join(", ")))?;
    sheet.write_string(4, 0, format!("Период: с {from} по {to}"))?;

    let mut rows: Vec<(Vec<Cell>, bool)> = Vec::new();
    for c in &act.contracts {
        contract_rows(c, act.range, &mut rows);
    }
    let opening = format!("Сальдо на {from}");
    let closing = format!("Сальдо на {to}");
    rows.push((balance_row(&opening, "", act.opening), true));
    rows.push((
        vec![
            Cell::Empty,
            Cell::Empty,
            "Обороты за период".into(),
            Cell::Empty,
            Cell::Empty,
            act.charged.into(),
            act.paid.into(),
            Cell::Empty,
        ],
        true,
    ));
    rows.push((balance_row(&closing, "", act.closing), true));

    let cells: Vec<Vec<Cell>> = rows.iter().map(|(cells, _)| cells.clone()).collect();
    for (col, width) in (0..).zip(fit_widths(&ACT_HEADERS, &cells)) {
        sheet.set_column_width(col, width)?;
    }
    write_header(sheet, ACT_HEADER_ROW, &ACT_HEADERS, &styles)?;
    let mut row = ACT_HEADER_ROW + 1;
    for (cells, total) in &rows {
        write_row(sheet, row, cells, if *total { &styles.total } else { &styles.body })?;
        row += 1;
    }
    let signatures = row + 2;
    sheet.write_string(signatures, 0, "От СНТ ____________ / ____________")?;
    sheet.write_string(signatures, 5, "Член СНТ ____________ / ____________")?;

    sheet.set_paper_size(A4).set_portrait().set_print_fit_to_pages(1, 0).set_footer("&CСтраница &P из &N");
    sheet.set_repeat_rows(ACT_HEADER_ROW, ACT_HEADER_ROW)?;
    Ok(workbook.save_to_buffer()?)
}

/// The contract's opening, its lines and its subtotal.
fn contract_rows<'a>(c: &'a ContractAct, range: ActRange, rows: &mut Vec<(Vec<Cell<'a>>, bool)>) {
    let from = range.from().format("%d.%m.%Y");
    rows.push((balance_row(&format!("Сальдо на {from}"), &c.number, c.opening), false));
    for line in &c.lines {
        rows.push((line_cells(c, line), false));
    }
    rows.push((
        vec![
            Cell::Empty,
            c.number.as_str().into(),
            format!("Итого по договору, участок {}", c.plot).into(),
            Cell::Empty,
            Cell::Empty,
            c.charged.into(),
            c.paid.into(),
            c.closing.into(),
        ],
        true,
    ));
}

fn balance_row<'a>(text: &str, contract: &'a str, balance: domain::Kopecks) -> Vec<Cell<'a>> {
    vec![
        Cell::Empty,
        contract.into(),
        text.to_owned().into(),
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        balance.into(),
    ]
}

fn line_cells<'a>(c: &'a ContractAct, line: &'a ActLine) -> Vec<Cell<'a>> {
    let about = match line.kind {
        LineKind::Charge(domain::ChargeKind::OpeningBalance) => Cell::Empty,
        _ => period_cell(line.for_period),
    };
    let charge = matches!(line.kind, LineKind::Charge(_));
    vec![
        line.date.into(),
        c.number.as_str().into(),
        line.text.as_str().into(),
        about,
        line.quantity.map_or(Cell::Empty, Cell::UnitsChange),
        if charge { line.debit.into() } else { Cell::Empty },
        if charge { Cell::Empty } else { line.credit.into() },
        line.balance.into(),
    ]
}

fn period_cell<'a>(period: Period) -> Cell<'a> {
    period.russian().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plots_are_spelled_in_latin_letters() {
        assert_eq!(ascii("12А"), "12A");
        assert_eq!(ascii("7/1Б"), "7_1B");
    }
}
