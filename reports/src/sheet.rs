//! What both workbooks share: typed cells, one look for headers, money, meter values and dates,
//! and table sheets an accountant can scroll, filter and print.

use std::borrow::Cow;

use chrono::{NaiveDate, NaiveDateTime};
use domain::{Kopecks, MeterValue};
use rust_xlsxwriter::utility::cell_range;
use rust_xlsxwriter::{
    ColNum, Color, Format, FormatAlign, FormatBorder, Formula, RowNum, Workbook, Worksheet, XlsxError,
};

/// A value and what it means, so the writer picks its number format and column width.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell<'a> {
    Empty,
    Text(Cow<'a, str>),
    Int(i64),
    Bool(bool),
    Money(Kopecks),
    Units(MeterValue),
    /// A change of a meter value in thousandths of a unit: negative when it went down.
    UnitsChange(i64),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
    /// A hyperlink showing `text`.
    Link {
        url: Cow<'a, str>,
        text: &'static str,
    },
}

impl<'a> From<&'a str> for Cell<'a> {
    fn from(s: &'a str) -> Self {
        Cell::Text(Cow::Borrowed(s))
    }
}

impl From<String> for Cell<'_> {
    fn from(s: String) -> Self {
        Cell::Text(Cow::Owned(s))
    }
}

impl From<Kopecks> for Cell<'_> {
    fn from(amount: Kopecks) -> Self {
        Cell::Money(amount)
    }
}

impl From<MeterValue> for Cell<'_> {
    fn from(value: MeterValue) -> Self {
        Cell::Units(value)
    }
}

impl From<NaiveDate> for Cell<'_> {
    fn from(date: NaiveDate) -> Self {
        Cell::Date(date)
    }
}

impl<'a, T: Into<Cell<'a>>> From<Option<T>> for Cell<'a> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Cell::Empty, Into::into)
    }
}

/// Excel refuses longer cell text; a runaway comment is cut rather than failing the whole file.
const MAX_TEXT_CHARS: usize = 32_767;

fn excel_text(s: &str) -> &str {
    s.char_indices().nth(MAX_TEXT_CHARS).map_or(s, |(end, _)| &s[..end])
}

impl Cell<'_> {
    /// The format of this cell in a row of `look`.
    fn format<'l>(&self, look: &'l Look) -> &'l Format {
        match self {
            Cell::Empty | Cell::Text(_) | Cell::Bool(_) | Cell::Link { .. } => &look.text,
            Cell::Int(_) => &look.int,
            Cell::Money(_) => &look.money,
            Cell::Units(_) | Cell::UnitsChange(_) => &look.units,
            Cell::Date(_) => &look.date,
            Cell::DateTime(_) => &look.datetime,
        }
    }

    /// Writes the cell with `format`, or with none: rust_xlsxwriter then gives it its column's
    /// format as the sheet is saved, instead of hashing a whole `Format` for every cell.
    fn write(&self, sheet: &mut Worksheet, row: RowNum, col: ColNum, format: Option<&Format>) -> Result<(), XlsxError> {
        macro_rules! put {
            ($plain:ident, $formatted:ident, $value:expr) => {
                match format {
                    Some(format) => sheet.$formatted(row, col, $value, format),
                    None => sheet.$plain(row, col, $value),
                }
            };
        }
        match self {
            Cell::Empty => return Ok(()),
            Cell::Text(s) => put!(write_string, write_string_with_format, excel_text(s)),
            Cell::Int(n) => put!(write_number, write_number_with_format, *n as f64),
            Cell::Bool(b) => put!(write_boolean, write_boolean_with_format, *b),
            Cell::Money(amount) => put!(write_number, write_number_with_format, amount.as_rubles_for_display()),
            Cell::Units(value) => put!(write_number, write_number_with_format, value.as_units_for_display()),
            Cell::UnitsChange(thousandths) => {
                put!(write_number, write_number_with_format, *thousandths as f64 / 1000.0)
            }
            Cell::Date(date) => put!(write_datetime, write_datetime_with_format, date),
            Cell::DateTime(at) => put!(write_datetime, write_datetime_with_format, at),
            Cell::Link { url, text } => sheet.write_url_with_text(row, col, url.as_ref(), *text),
        }?;
        Ok(())
    }

    /// About how many characters the cell shows, for column widths (widths must be set by hand:
    /// autofit needs the whole sheet in memory).
    fn width(&self) -> usize {
        let digits = |n: i64| n.unsigned_abs().checked_ilog10().map_or(1, |log| log as usize + 1);
        match self {
            Cell::Empty => 0,
            Cell::Text(s) => s.chars().count(),
            Cell::Int(n) => digits(*n) + 1,
            Cell::Bool(_) => 6,
            // Thousands separators, the decimal part and a sign.
            Cell::Money(amount) => digits(amount.get() / 100) * 4 / 3 + 4,
            Cell::Units(value) => digits(value.thousandths() / 1000) + 5,
            Cell::UnitsChange(thousandths) => digits(thousandths / 1000) + 6,
            Cell::Date(_) => 10,
            Cell::DateTime(_) => 16,
            Cell::Link { text, .. } => text.chars().count(),
        }
    }
}

/// The formats of one kind of row: ordinary rows, or the bold totals row.
pub(crate) struct Look {
    text: Format,
    int: Format,
    money: Format,
    units: Format,
    date: Format,
    datetime: Format,
}

impl Look {
    pub fn text(&self) -> &Format {
        &self.text
    }

    pub fn money(&self) -> &Format {
        &self.money
    }

    fn formats(&self) -> [&Format; 6] {
        [&self.text, &self.int, &self.money, &self.units, &self.date, &self.datetime]
    }

    fn new(base: Format) -> Look {
        Look {
            int: base.clone().set_num_format("0"),
            money: base.clone().set_num_format("#,##0.00"),
            units: base.clone().set_num_format("0.###"),
            date: base.clone().set_num_format("dd.mm.yyyy"),
            datetime: base.clone().set_num_format("dd.mm.yyyy hh:mm"),
            text: base,
        }
    }
}

pub(crate) struct Styles {
    pub header: Format,
    pub title: Format,
    pub body: Look,
    pub total: Look,
}

impl Styles {
    pub fn new() -> Styles {
        Styles {
            header: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Top)
                .set_background_color(Color::RGB(0xE7_E6_E6))
                .set_border_bottom(FormatBorder::Thin),
            title: Format::new().set_bold().set_font_size(14),
            body: Look::new(Format::new()),
            total: Look::new(Format::new().set_bold().set_border_top(FormatBorder::Thin)),
        }
    }

    /// Gives every format its index in `workbook` before any sheet is filled, in a fixed order.
    ///
    /// Constant-memory sheets look formats up in the workbook's shared table, and rust_xlsxwriter
    /// 0.102 adds a missing one as check-then-insert under two separate locks
    /// (`format_xf_index_global`): two sheets meeting a new format at once on two threads both
    /// insert it, the second overwrites the first's index, and the next format reuses it. The
    /// saved styles then shift by one, so cells of one column show another column's format
    /// (dates as serial numbers, readings as dates). With every format registered here, sheets
    /// only read the table; and the order, hence styles.xml, is the same on every write.
    pub fn register(&self, workbook: &mut Workbook) {
        // Hyperlinks use the default format with the hyperlink style.
        let link = Format::new().set_hyperlink();
        let looks = self.body.formats().into_iter().chain(self.total.formats());
        for format in [&self.header, &self.title, &link].into_iter().chain(looks) {
            workbook.register_format(format);
        }
    }
}

/// zlib-rs's fast strategy: the 10 000-plot report's sheets (36 MB of XML) deflate in 95 ms
/// against 131 ms at level 3, for a file 6 % larger (4.95 against 4.68 MB); level 1 saves 20 ms
/// more for a file 40 % larger (BENCHMARKS.md, run 10).
pub(crate) const ZIP_LEVEL: u8 = 2;

/// Narrower columns wrap their header; wider ones would push the table off the printed page.
const MIN_WIDTH: usize = 6;
const MAX_WIDTH: usize = 45;
/// Room for the filter button next to the header text.
const PADDING: usize = 3;

/// Column widths (in characters) that fit each header's longest word and its widest cell.
pub(crate) fn fit_widths(headers: &[impl AsRef<str>], rows: &[Vec<Cell>]) -> Vec<f64> {
    let mut widths: Vec<usize> = headers
        .iter()
        .map(|header| header.as_ref().split_whitespace().map(|w| w.chars().count()).max().unwrap_or(0))
        .collect();
    // One pass over the rows; a text has no more characters than bytes, so one no longer than
    // the widest so far is not counted (most are not: counting was 21 of the 10 000-plot report's
    // 190 ms of laying out, BENCHMARKS.md run 10).
    for row in rows {
        for (widest, cell) in widths.iter_mut().zip(row) {
            if !matches!(cell, Cell::Text(text) if text.len() <= *widest) {
                *widest = cell.width().max(*widest);
            }
        }
    }
    widths.into_iter().map(|width| (width.clamp(MIN_WIDTH, MAX_WIDTH) + PADDING) as f64).collect()
}

/// How a table's columns look: as wide as [`fit_widths`] makes them, and in body rows the format
/// of their first filled cell (a cell of another kind carries its own).
#[derive(Clone)]
pub(crate) struct Columns<'s> {
    widths: Vec<f64>,
    formats: Vec<&'s Format>,
}

impl<'s> Columns<'s> {
    /// Columns fitting `headers` and `rows` (of a streamed table: its first rows).
    pub fn fit(headers: &[impl AsRef<str>], rows: &[Vec<Cell>], styles: &'s Styles) -> Columns<'s> {
        let formats = (0..headers.len())
            .map(|col| {
                let filled = rows.iter().filter_map(|row| row.get(col)).find(|cell| **cell != Cell::Empty);
                filled.map_or(&styles.body.text, |cell| cell.format(&styles.body))
            })
            .collect();
        Columns { widths: fit_widths(headers, rows), formats }
    }
}

/// Excel's last row (0-based); a longer table continues on another sheet.
pub(crate) const LAST_ROW: RowNum = 1_048_575;

/// Where a table sheet's rows go: its title (what, for when, made when), the totals (above the
/// table, so the filter never hides them and sorting never moves them), the header, the rows.
pub(crate) const TITLE_ROW: RowNum = 0;
const TOTALS_ROW: RowNum = 1;
pub(crate) const HEADER_ROW: RowNum = 2;

/// The totals row of a table of `rows` rows: text as it is, numbers as `SUBTOTAL(9, column)`
/// over the table (so they follow the filter) with `cells`' values cached for programs that do
/// not recalculate.
pub(crate) struct Totals<'a> {
    pub cells: &'a [Cell<'a>],
    pub rows: usize,
}

/// A sheet holding one table under a header row that stays in view, prints on every page and
/// filters every column. Pages are landscape, one page wide, titled, numbered.
pub(crate) struct TableSheet<'s> {
    sheet: Worksheet,
    styles: &'s Styles,
    /// Each column's format in body rows, set on the column once: cells in it are written
    /// without a format of their own.
    column_formats: Vec<&'s Format>,
    next_row: RowNum,
}

impl<'s> TableSheet<'s> {
    pub fn start(
        mut sheet: Worksheet,
        name: &str,
        title: &str,
        headers: &[impl AsRef<str>],
        columns: &Columns<'s>,
        styles: &'s Styles,
        totals: Option<Totals>,
    ) -> Result<TableSheet<'s>, XlsxError> {
        sheet.set_name(name)?;
        for (col, (width, format)) in (0..).zip(columns.widths.iter().zip(&columns.formats)) {
            sheet.set_column_width(col, *width)?;
            // Text keeps the default format: nothing to set.
            if !std::ptr::eq(*format, &styles.body.text) {
                sheet.set_column_format(col, format)?;
            }
        }
        let widths = &columns.widths;
        // Constant-memory sheets take rows in order: title, totals, header.
        sheet.write_string_with_format(TITLE_ROW, 0, title, &styles.title)?;
        if let Some(totals) = totals {
            write_totals(&mut sheet, &totals, &styles.total)?;
        }
        // Printing (LibreOffice) keeps a row's stored height: one line would cut wrapped headers.
        sheet.set_row_height(HEADER_ROW, header_height(headers, widths))?;
        write_header(&mut sheet, HEADER_ROW, headers, styles)?;
        sheet.set_freeze_panes(HEADER_ROW + 1, 0)?;
        sheet.set_repeat_rows(HEADER_ROW, HEADER_ROW)?;
        sheet
            .set_landscape()
            .set_print_fit_to_pages(1, 0)
            .set_header(format!("&L{}&R&A", title.replace('&', "&&")))
            .set_footer("&CСтраница &P из &N");
        Ok(TableSheet { sheet, styles, column_formats: columns.formats.clone(), next_row: HEADER_ROW + 1 })
    }

    pub fn is_full(&self) -> bool {
        self.next_row > LAST_ROW
    }

    pub fn row(&mut self, cells: &[Cell]) -> Result<(), XlsxError> {
        for ((col, cell), column_format) in (0..).zip(cells).zip(&self.column_formats) {
            let format = cell.format(&self.styles.body);
            let own = (!std::ptr::eq(format, *column_format)).then_some(format);
            cell.write(&mut self.sheet, self.next_row, col, own)?;
        }
        self.next_row += 1;
        Ok(())
    }

    /// Puts the filter over the header and the rows, and hands the sheet back for the workbook.
    pub fn finish(mut self) -> Result<Worksheet, XlsxError> {
        let columns = ColNum::try_from(self.column_formats.len()).map_err(|_| XlsxError::RowColumnLimitError)?;
        self.sheet.autofilter(HEADER_ROW, 0, self.next_row - 1, columns.saturating_sub(1))?;
        Ok(self.sheet)
    }
}

/// Column `col` of a table of `rows` rows, as `E4:E9` (one row when the table is empty, so a
/// formula over it reads 0).
pub(crate) fn table_column(col: ColNum, rows: usize) -> Result<String, XlsxError> {
    let first = HEADER_ROW + 1;
    let last = first + RowNum::try_from(rows).map_err(|_| XlsxError::RowColumnLimitError)?.max(1) - 1;
    Ok(cell_range(first, col, last, col))
}

fn write_totals(sheet: &mut Worksheet, totals: &Totals, look: &Look) -> Result<(), XlsxError> {
    for (col, cell) in (0..).zip(totals.cells) {
        let (cached, format) = match cell {
            Cell::Money(amount) => (amount.as_rubles_for_display(), &look.money),
            Cell::Units(value) => (value.as_units_for_display(), &look.units),
            Cell::Int(n) => (*n as f64, &look.int),
            other => {
                other.write(sheet, TOTALS_ROW, col, Some(other.format(look)))?;
                continue;
            }
        };
        let formula = Formula::new(format!("SUBTOTAL(9,{})", table_column(col, totals.rows)?));
        sheet.write_formula_with_format(TOTALS_ROW, col, formula.set_result(cached.to_string()), format)?;
    }
    Ok(())
}

/// Points per line of the default 11-point font.
const LINE_HEIGHT: f64 = 15.0;

/// The height of a header row whose texts wrap at word boundaries within their columns (less
/// the filter button's room), as tall as its longest header.
fn header_height(headers: &[impl AsRef<str>], widths: &[f64]) -> f64 {
    let lines = headers.iter().zip(widths).map(|(header, width)| {
        let room = (*width as usize).saturating_sub(PADDING).max(1);
        let mut lines: u32 = 1;
        let mut used = 0;
        for word in header.as_ref().split_whitespace().map(|w| w.chars().count()) {
            if used > 0 && used + 1 + word > room {
                lines += 1;
                used = word;
            } else {
                used += if used > 0 { 1 + word } else { word };
            }
        }
        lines
    });
    f64::from(lines.max().unwrap_or(1)) * LINE_HEIGHT
}

/// A bold header row.
pub(crate) fn write_header(
    sheet: &mut Worksheet,
    row: RowNum,
    headers: &[impl AsRef<str>],
    styles: &Styles,
) -> Result<(), XlsxError> {
    for (col, header) in (0..).zip(headers) {
        sheet.write_string_with_format(row, col, header.as_ref(), &styles.header)?;
    }
    Ok(())
}

pub(crate) fn write_row(sheet: &mut Worksheet, row: RowNum, cells: &[Cell], look: &Look) -> Result<(), XlsxError> {
    for (col, cell) in (0..).zip(cells) {
        cell.write(sheet, row, col, Some(cell.format(look)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::kopecks;

    #[test]
    fn long_text_is_cut_at_excels_limit() {
        let long = "ж".repeat(MAX_TEXT_CHARS + 10);
        assert_eq!(excel_text(&long).chars().count(), MAX_TEXT_CHARS);
        assert_eq!(excel_text("коротко"), "коротко");
    }

    #[test]
    fn header_rows_are_as_tall_as_their_longest_wrapped_header() {
        // 12 characters of room: «Долг на» / «начало» / «месяца, ₽»; the other fits one line.
        let height = header_height(&["Долг на начало месяца, ₽", "Участок"], &[15.0, 15.0]);
        assert_eq!(height, 3.0 * LINE_HEIGHT);
        assert_eq!(header_height(&["Участок"], &[10.0]), LINE_HEIGHT);
    }

    #[test]
    fn widths_fit_the_longest_header_word_and_cell() {
        let rows = vec![vec![Cell::from("Иванова Мария Петровна"), Cell::Money(kopecks!(123_456_78))]];
        let widths = fit_widths(&["Потребитель", "Долг, ₽"], &rows);
        // «123 456,78»: six digits, their separators, the kopecks.
        assert_eq!(widths, [(22 + PADDING) as f64, (12 + PADDING) as f64]);
        // Characters, not bytes, in any order of the rows, and a short row leaves a column be.
        let longest = "Иванова Мария Петровна Сидоренко";
        for names in [["Иванова", longest, "Петров Иван Иванович"], ["Петров Иван Иванович", "Иванова", longest]]
        {
            let mut rows: Vec<Vec<Cell>> = names.map(|name| vec![Cell::from(name)]).into();
            rows.push(vec![]);
            assert_eq!(
                fit_widths(&["Потребитель", "Долг, ₽"], &rows),
                [(32 + PADDING) as f64, (MIN_WIDTH + PADDING) as f64]
            );
        }
    }
}
