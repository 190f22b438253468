//! Reading the tables people keep in Excel or CSV, for the imports (bank payments, the register).
//!
//! A file becomes rows of [`Cell`]s; its header row is matched against the import's [`Schema`]
//! by column name (any order, any case, extra spaces and е/ё alike; other columns are ignored);
//! then each cell is parsed by the reader for its kind — text, money, meter value, date, month,
//! phone, plot, a vocabulary member — with the reason in Russian when it cannot be. Row numbers
//! are those Excel shows, counting the header row.
//!
//! A file is bounded before work is spent on it: its size, what an xlsx unpacks to (checked in
//! the zip's directory; the zip reader fails an entry that inflates past its declared size), the
//! sheet's extent and the text its cells hold, as each cell is read. Cells are collected row by
//! row as they come, never into a grid of the sheet's dimensions, so a crafted file with one cell
//! at the far corner costs what its two cells cost. Reading is CPU work: the imports run it
//! through [`crate::heavy::run`].

use std::collections::BTreeMap;
use std::fmt::Display;
use std::io::Cursor;
use std::str::FromStr;

use chrono::NaiveDate;
use domain::meter_value::MeterValueError;
use domain::money::{MoneyError, group_thousands};
use domain::period::PeriodError;
use domain::phone::PhoneError;
use domain::plot::PlotNumberError;
use domain::{Kopecks, MeterValue, Period, Phone, PlotNumber, TextKind, TooLong};

use crate::dates::{self, DateError, parse_date};

/// A column an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    /// A file without a required column is refused whole.
    pub required: bool,
    /// What the column holds, for the import page and the template.
    pub meaning: &'static str,
}

/// What an import reads: its columns, what one row is called, and how many rows it takes.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    pub columns: &'static [Column],
    /// One row's name in the genitive, for «В файле нет ни одной …»: «оплаты», «записи».
    pub row_genitive: &'static str,
    /// Rows under the header one file may hold; a longer file is refused before it is checked.
    pub max_rows: usize,
}

/// The largest file read, as large as the panel accepts a request.
pub const MAX_FILE_BYTES: usize = 20 << 20;
/// What an xlsx may unpack to: each part of it, and all of them together. A statement of
/// 10 000 payments in 30 columns unpacks to about 15 MB.
pub const MAX_PART_BYTES: u64 = 32 << 20;
pub const MAX_UNPACKED_BYTES: u64 = 64 << 20;
/// Parts of an xlsx (Excel writes about a dozen).
const MAX_PARTS: usize = 1_000;
/// Columns read; a filled cell further right refuses the file.
pub const MAX_COLUMNS: u32 = 100;
/// Lines above the header and blank lines a file may have on top of its rows.
const EXTRA_LINES: usize = 100;
/// Characters in one cell: a bank's purpose of payment has at most 210.
pub const MAX_CELL_CHARS: usize = 2_000;
/// Text held from all cells together.
const MAX_TEXT_BYTES: usize = 32 << 20;

/// A cell as read from either kind of file.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
}

static EMPTY: Cell = Cell::Empty;

/// Why a file cannot be imported at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("Файл пуст.")]
    Empty,
    #[error(
        "Файл «{0}» не читается как таблица. Загрузите книгу Excel (xlsx) или CSV в кодировке UTF-8 \
         (в Excel: «Сохранить как» → «CSV UTF-8»)."
    )]
    NotATable(String),
    #[error("Файл «{0}» не читается как книга Excel: {1}")]
    BrokenSpreadsheet(String, String),
    #[error("В первой строке нет столбцов {0}. Первая строка должна содержать заголовки: {1}.")]
    MissingColumns(String, String),
    #[error("Столбец «{0}» указан дважды.")]
    RepeatedColumn(String),
    #[error("В файле нет ни одной {0}: под заголовками пусто.")]
    NoRows(&'static str),
    #[error("Файл больше {} МБ — таких выписок и реестров не бывает. Разделите его на части.", MAX_FILE_BYTES >> 20)]
    TooLarge,
    #[error(
        "Файл «{0}» внутри больше {limit} МБ (так сжимают не таблицы). Сохраните таблицу в Excel заново или \
         загрузите её как CSV.",
        limit = MAX_UNPACKED_BYTES >> 20
    )]
    Unpacked(String),
    #[error(
        "Файл «{0}» — {1}: такие файлы не загружаются. Откройте его в Excel или LibreOffice и сохраните как \
         «Книга Excel (xlsx)» или «CSV UTF-8»."
    )]
    Unsupported(String, &'static str),
    #[error(
        "В файле больше {limit} строк (ячейка {cell} уже за пределами): за один раз можно загрузить не больше \
         {limit}. Разделите файл на части или удалите лишнее ниже таблицы.",
        limit = group_thousands(*.limit as u64)
    )]
    TooManyRows { limit: usize, cell: String },
    #[error(
        "Заполнена ячейка {0}, а таблица читается только до столбца {last} ({columns}-го). Удалите лишнее справа \
         от таблицы.",
        last = column_name(MAX_COLUMNS - 1),
        columns = MAX_COLUMNS
    )]
    TooWide(String),
    #[error("В ячейке {0} больше {MAX_CELL_CHARS} знаков — в выписках и реестрах таких не бывает. Проверьте файл.")]
    CellTooLong(String),
    #[error("Текста в таблице больше {} МБ — для выписки или реестра это слишком много.", MAX_TEXT_BYTES >> 20)]
    TooMuchText,
}

/// Why a cell cannot be read. Shown after the column's name: «Сумма: «сто» — не сумма…».
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CellError {
    #[error("не заполнено.")]
    Missing,
    #[error(transparent)]
    Money(#[from] MoneyError),
    #[error(transparent)]
    Value(#[from] MeterValueError),
    #[error(transparent)]
    Date(#[from] DateError),
    #[error(transparent)]
    Period(#[from] PeriodError),
    #[error(transparent)]
    Phone(#[from] PhoneError),
    #[error(transparent)]
    Plot(#[from] PlotNumberError),
    #[error(transparent)]
    Area(#[from] domain::network::AreaError),
    #[error("не длиннее {} символов, а здесь {}.", .0.kind.max_chars(), .0.chars)]
    Text(#[from] TooLong),
    #[error("«{value}» — нет такого значения. Возможные: {allowed}.")]
    NotInList { value: String, allowed: String },
}

/// A cell that could not be read, and its column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{column}: {error}")]
pub struct CellProblem {
    pub column: &'static str,
    pub error: CellError,
}

/// A file's rows under its header row, and where each of the schema's columns is.
#[derive(Debug)]
pub struct Table {
    schema: &'static Schema,
    /// The position in a row of each of the schema's columns, when the file has it.
    positions: Vec<Option<usize>>,
    /// Row number and cells of each row under the header that is not blank.
    rows: Vec<(usize, Vec<Cell>)>,
}

/// Reads an xlsx or CSV file (told apart by content, then by name) as a table of `schema`.
pub fn read(file_name: &str, bytes: &[u8], schema: &'static Schema) -> Result<Table, FileError> {
    if bytes.is_empty() {
        return Err(FileError::Empty);
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(FileError::TooLarge);
    }
    let lower = file_name.to_lowercase();
    let mut grid = Grid::new(schema);
    if bytes.starts_with(b"PK\x03\x04") {
        workbook_cells(file_name, bytes, &mut grid)?;
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) || lower.ends_with(".xls") {
        // calamine reads an xls whole at open, every sheet into a grid as large as its cells are
        // far apart, so it cannot be bounded from outside; Excel saves xlsx since 2007. (A book
        // with a password comes in the same container.)
        return Err(FileError::Unsupported(file_name.to_owned(), "книга Excel 97–2003 (xls) или книга с паролем"));
    } else if lower.ends_with(".xlsx") {
        return Err(FileError::NotATable(file_name.to_owned()));
    } else {
        csv_cells(file_name, bytes, &mut grid)?;
    }
    Table::new(grid.into_rows(), schema)
}

/// A sheet's cells collected row by row as they are read, each checked against the bounds.
struct Grid {
    /// Row (from 0) → its cells up to the last filled one.
    rows: BTreeMap<u32, Vec<Cell>>,
    max_rows: usize,
    text_bytes: usize,
}

impl Grid {
    fn new(schema: &Schema) -> Grid {
        Grid { rows: BTreeMap::new(), max_rows: schema.max_rows, text_bytes: 0 }
    }

    /// Puts a cell at `row`, `col` (from 0); empty cells cost nothing and are not checked.
    fn put(&mut self, row: u32, col: u32, cell: Cell) -> Result<(), FileError> {
        if cell.is_empty() {
            return Ok(());
        }
        if col >= MAX_COLUMNS {
            return Err(FileError::TooWide(cell_name(row, col)));
        }
        if row as usize >= self.max_rows + EXTRA_LINES {
            return Err(FileError::TooManyRows { limit: self.max_rows, cell: cell_name(row, col) });
        }
        if let Cell::Text(s) = &cell {
            if s.len() > MAX_CELL_CHARS && s.chars().count() > MAX_CELL_CHARS {
                return Err(FileError::CellTooLong(cell_name(row, col)));
            }
            self.text_bytes += s.len();
            if self.text_bytes > MAX_TEXT_BYTES {
                return Err(FileError::TooMuchText);
            }
        }
        let cells = self.rows.entry(row).or_default();
        let col = col as usize;
        if cells.len() <= col {
            cells.resize(col + 1, Cell::Empty);
        }
        cells[col] = cell;
        Ok(())
    }

    /// Rows numbered as Excel shows them, from 1.
    fn into_rows(self) -> Vec<(usize, Vec<Cell>)> {
        self.rows.into_iter().map(|(row, cells)| (row as usize + 1, cells)).collect()
    }
}

/// A cell's name as Excel shows it: `A1`, `XFD1048576`.
fn cell_name(row: u32, col: u32) -> String {
    format!("{}{}", column_name(col), row as u64 + 1)
}

/// A column's letters: 0 → `A`, 25 → `Z`, 26 → `AA`.
fn column_name(col: u32) -> String {
    let mut letters = Vec::new();
    let mut n = col as u64 + 1;
    while n > 0 {
        letters.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    letters.iter().rev().map(|&b| char::from(b)).collect()
}

/// Checks what a zip unpacks to from its directory, before anything is inflated. The sizes there
/// may lie; the zip reader then fails the entry once it inflates past its declared size.
fn check_zip(file_name: &str, bytes: &[u8]) -> Result<(), FileError> {
    let archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| FileError::NotATable(file_name.to_owned()))?;
    let unpacked = || FileError::Unpacked(file_name.to_owned());
    if archive.len() > MAX_PARTS {
        return Err(unpacked());
    }
    let mut total = 0u64;
    for index in 0..archive.len() {
        let entry = archive.by_index_data(index).map_err(|_| FileError::NotATable(file_name.to_owned()))?;
        let size = entry.size();
        total = total.saturating_add(size);
        if size > MAX_PART_BYTES || total > MAX_UNPACKED_BYTES {
            return Err(unpacked());
        }
    }
    let has = |name: &str| archive.index_for_name(name).is_some();
    if has("xl/workbook.xml") {
        Ok(())
    } else if has("xl/workbook.bin") {
        Err(FileError::Unsupported(file_name.to_owned(), "двоичная книга Excel (xlsb)"))
    } else if has("content.xml") {
        Err(FileError::Unsupported(file_name.to_owned(), "таблица OpenDocument (ods)"))
    } else {
        Err(FileError::NotATable(file_name.to_owned()))
    }
}

/// The day after Excel's last date, 31.12.9999, as its serial number.
const EXCEL_DAYS_END: f64 = 2_958_466.0;

/// The first sheet of an xlsx, cell by cell, as the sheet's XML lists them.
fn workbook_cells(file_name: &str, bytes: &[u8], grid: &mut Grid) -> Result<(), FileError> {
    use calamine::{DataRef, Reader, Xlsx, XlsxError};
    check_zip(file_name, bytes)?;
    // Among them the zip reader's refusal of a part that inflates past its declared size.
    let broken = |e: XlsxError| FileError::BrokenSpreadsheet(file_name.to_owned(), e.to_string());
    let mut workbook = Xlsx::new(Cursor::new(bytes)).map_err(broken)?;
    let first = workbook.sheet_names().into_iter().next().ok_or(FileError::Empty)?;
    let mut cells = workbook.worksheet_cells_reader(&first).map_err(broken)?;
    while let Some(read) = cells.next_cell().map_err(broken)? {
        let (row, col) = read.get_position();
        let cell = match read.get_value() {
            DataRef::Int(i) => Cell::Number(*i as f64),
            DataRef::Float(f) => Cell::Number(*f),
            DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => text_cell(s),
            DataRef::SharedString(s) => text_cell(s),
            DataRef::Bool(b) => Cell::Text(b.to_string()),
            // calamine's conversion panics on a serial past about ±10¹¹ days; Excel's own days
            // run from 1 (01.01.1900) to 9999-12-31, and past them the cell is only a number.
            DataRef::DateTime(dt) if (0.0..EXCEL_DAYS_END).contains(&dt.as_f64()) => {
                dt.as_datetime().map_or(Cell::Empty, |d| Cell::Date(d.date()))
            }
            DataRef::DateTime(dt) => Cell::Number(dt.as_f64()),
            DataRef::Error(e) => Cell::Text(format!("#{e}")),
            DataRef::Empty => Cell::Empty,
        };
        grid.put(row, col, cell)?;
    }
    Ok(())
}

/// Blank text is an empty cell.
fn text_cell(s: &str) -> Cell {
    if s.trim().is_empty() { Cell::Empty } else { Cell::Text(s.to_owned()) }
}

/// Excel writes a line of at most its 16 384 columns to a CSV file. The CSV reader keeps a place
/// for every field of a record, empty ones too, before the grid sees them: a 20 MB line of commas
/// would cost 270 MB.
const CSV_MAX_FIELDS: u32 = 16_384;

/// The first line (from 0) with more fields than Excel writes, and the column past the limit.
/// Fields are told apart as the CSV reader tells them: a quote opens a quoted field only at the
/// field's start, `""` inside it is a quote, and a line ends at `\n` or `\r` outside quotes.
fn overwide_line(text: &str, delimiter: u8) -> Option<(u32, u32)> {
    #[derive(Clone, Copy, PartialEq)]
    enum In {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let (mut line, mut fields, mut state) = (0u32, 1u32, In::FieldStart);
    for &b in text.as_bytes() {
        state = match (state, b) {
            (In::Quoted, b'"') => In::QuoteInQuoted,
            // Lines are numbered as the reader's caller numbers them: every `\n`, quoted too.
            (In::Quoted, _) => {
                line = line.saturating_add(u32::from(b == b'\n'));
                In::Quoted
            }
            (In::FieldStart, b'"') | (In::QuoteInQuoted, b'"') => In::Quoted,
            (_, b'\n' | b'\r') => {
                line = line.saturating_add(u32::from(b == b'\n'));
                fields = 1;
                In::FieldStart
            }
            (_, _) if b == delimiter => {
                fields += 1;
                if fields > CSV_MAX_FIELDS {
                    return Some((line, CSV_MAX_FIELDS));
                }
                In::FieldStart
            }
            (_, _) => In::Unquoted,
        };
    }
    None
}

fn csv_cells(file_name: &str, bytes: &[u8], grid: &mut Grid) -> Result<(), FileError> {
    let not_a_table = || FileError::NotATable(file_name.to_owned());
    let text = std::str::from_utf8(bytes).map_err(|_| not_a_table())?;
    let text = text.trim_start_matches('\u{feff}');
    // Russian Excel separates CSV columns with `;`, since `,` is the decimal mark.
    let header = text.lines().next().unwrap_or_default();
    let delimiter =
        [b';', b'\t', b','].into_iter().max_by_key(|d| header.matches(char::from(*d)).count()).unwrap_or(b',');
    if let Some((line, col)) = overwide_line(text, delimiter) {
        return Err(FileError::TooWide(cell_name(line, col)));
    }
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    // The reader neither counts the blank lines it skips nor places a record after them, so lines
    // are counted from byte offsets, past any blank lines.
    let (mut counted_to, mut line) = (0, 1);
    for record in reader.records() {
        let record = record.map_err(|_| not_a_table())?;
        let skipped = record.position().map_or(counted_to, |p| p.byte() as usize);
        let start = skipped + text.as_bytes()[skipped..].iter().take_while(|b| matches!(b, b'\n' | b'\r')).count();
        line += text.as_bytes()[counted_to..start].iter().filter(|b| **b == b'\n').count();
        counted_to = start;
        for (col, field) in record.iter().enumerate() {
            let col = u32::try_from(col).unwrap_or(u32::MAX);
            grid.put(u32::try_from(line - 1).unwrap_or(u32::MAX), col, text_cell(field))?;
        }
    }
    Ok(())
}

/// Text as people compare it: without case, extra spaces or the difference between е and ё.
/// Column names match this way, and so do consumers' names.
pub fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase().replace('ё', "е")
}

impl Table {
    /// A table from its rows (row number, cells), header first; blank rows are skipped.
    pub fn new(rows: Vec<(usize, Vec<Cell>)>, schema: &'static Schema) -> Result<Table, FileError> {
        let mut rows = rows.into_iter().filter(|(_, cells)| cells.iter().any(|c| *c != Cell::Empty));
        let (_, header) = rows.next().ok_or(FileError::Empty)?;
        let names: Vec<Option<String>> = header
            .iter()
            .map(|c| match c {
                Cell::Text(s) => Some(normalize(s)),
                _ => None,
            })
            .collect();
        let mut positions = Vec::with_capacity(schema.columns.len());
        let mut missing = Vec::new();
        for column in schema.columns {
            let wanted = normalize(column.name);
            let mut found = names.iter().enumerate().filter(|(_, n)| n.as_deref() == Some(wanted.as_str()));
            let position = found.next().map(|(i, _)| i);
            if found.next().is_some() {
                return Err(FileError::RepeatedColumn(column.name.to_owned()));
            }
            if position.is_none() && column.required {
                missing.push(format!("«{}»", column.name));
            }
            positions.push(position);
        }
        if !missing.is_empty() {
            let all = schema.columns.iter().map(|c| c.name).collect::<Vec<_>>().join(", ");
            return Err(FileError::MissingColumns(missing.join(", "), all));
        }
        let rows: Vec<_> = rows.collect();
        if rows.is_empty() {
            return Err(FileError::NoRows(schema.row_genitive));
        }
        if let Some((line, _)) = rows.get(schema.max_rows) {
            return Err(FileError::TooManyRows { limit: schema.max_rows, cell: format!("A{line}") });
        }
        Ok(Table { schema, positions, rows })
    }

    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|(line, cells)| Row { line: *line, cells, table: self, problems: Vec::new() })
    }
}

/// One row of a table, read column by column. The problems of the cells that could not be read
/// are kept, so a row reports them all at once.
pub struct Row<'t> {
    /// The row's number in the file, counting the header row.
    pub line: usize,
    cells: &'t [Cell],
    table: &'t Table,
    problems: Vec<CellProblem>,
}

impl<'t> Row<'t> {
    /// The cell under `column` (empty when the file has no such column).
    ///
    /// # Panics
    /// When `column` is not in the table's schema: a typo in the import, not in the file.
    pub fn cell(&self, column: &str) -> &'t Cell {
        let index = self.table.schema.columns.iter().position(|c| c.name == column).expect("a column of the schema");
        self.table.positions[index].and_then(|i| self.cells.get(i)).unwrap_or(&EMPTY)
    }

    /// Reads the cell under `column`; when it cannot be read, notes the problem and gives none.
    pub fn read<T>(&mut self, column: &'static str, reader: impl FnOnce(&Cell) -> Result<T, CellError>) -> Option<T> {
        reader(self.cell(column)).map_err(|error| self.problems.push(CellProblem { column, error })).ok()
    }

    /// The problems met so far.
    pub fn problems(&self) -> &[CellProblem] {
        &self.problems
    }
}

impl Cell {
    pub fn is_empty(&self) -> bool {
        *self == Cell::Empty
    }
}

/// A whole number as Excel stores it (`1024.0`) written the way people wrote it (`1024`).
fn whole_number(n: f64) -> Option<String> {
    (n.fract() == 0.0 && n.abs() < 1e15).then(|| format!("{}", n as i64))
}

/// `n × scale` as a whole number, when `n` has no more decimals than `scale` allows. A cell holds
/// the double nearest to 1234.56; anything further off has more decimals.
fn scaled(n: f64, scale: f64) -> Option<f64> {
    let scaled = n * scale;
    ((scaled - scaled.round()).abs() <= 1e-6).then(|| scaled.round())
}

/// The cell as people see it: trimmed text, a whole number without `.0`, a date as `15.03.2026`.
pub fn text(cell: &Cell) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text(s) => s.trim().to_owned(),
        Cell::Number(n) => whole_number(*n).unwrap_or_else(|| n.to_string()),
        Cell::Date(d) => d.format("%d.%m.%Y").to_string(),
    }
}

/// Text of `kind` that must be there.
pub fn required_text(cell: &Cell, kind: TextKind) -> Result<String, CellError> {
    optional_text(cell, kind)?.ok_or(CellError::Missing)
}

/// Text of `kind` that may be left blank.
pub fn optional_text(cell: &Cell, kind: TextKind) -> Result<Option<String>, CellError> {
    Ok(kind.optional(Some(&text(cell)))?)
}

/// A cell that may be left blank, read by `reader` when it is not.
pub fn optional<T>(cell: &Cell, reader: impl FnOnce(&Cell) -> Result<T, CellError>) -> Result<Option<T>, CellError> {
    if cell.is_empty() { Ok(None) } else { reader(cell).map(Some) }
}

/// Rubles, typed (`-1 234,56`) or a number cell, exact to the kopeck; negative amounts are credits.
pub fn money(cell: &Cell) -> Result<Kopecks, CellError> {
    match cell {
        Cell::Number(rubles) => {
            let kopecks = scaled(*rubles, 100.0).ok_or(MoneyError::TooManyDecimals)?;
            // A float beyond i64 saturates, and the bound refuses it.
            Ok(Kopecks::new(kopecks as i64).map_err(MoneyError::from)?)
        }
        Cell::Date(_) => Err(MoneyError::NotANumber(text(cell)).into()),
        Cell::Empty | Cell::Text(_) => Ok(Kopecks::parse_rubles(&text(cell))?),
    }
}

/// A plot's area in whole m², typed or a number cell.
pub fn area(cell: &Cell) -> Result<i64, CellError> {
    Ok(domain::network::parse_area(&text(cell))?)
}

/// A meter value, typed (`12 345,6`) or a number cell, exact to the thousandth.
pub fn meter_value(cell: &Cell) -> Result<MeterValue, CellError> {
    match cell {
        Cell::Empty => Err(CellError::Missing),
        Cell::Number(units) if *units < 0.0 => Err(MeterValueError::Negative.into()),
        Cell::Number(units) => {
            let thousandths = scaled(*units, 1000.0).ok_or(MeterValueError::TooManyDecimals)?;
            // Nine digits before the decimal mark, as `MeterValue::parse` allows.
            if thousandths >= 1e12 {
                return Err(MeterValueError::TooLarge.into());
            }
            Ok(MeterValue::new(thousandths as i64).map_err(MeterValueError::from)?)
        }
        Cell::Date(_) => Err(MeterValueError::NotANumber(text(cell)).into()),
        Cell::Text(_) => Ok(MeterValue::parse(&text(cell))?),
    }
}

/// A date cell, or text in a Russian or ISO format.
pub fn date(cell: &Cell) -> Result<NaiveDate, CellError> {
    match cell {
        Cell::Date(date) => Ok(dates::check(*date)?),
        // ISO date-times (an xlsx cell of type `d`): the date part.
        Cell::Text(s) if s.len() > 10 && s.as_bytes().get(10) == Some(&b'T') => Ok(parse_date(&s[..10])?),
        _ => Ok(parse_date(&text(cell))?),
    }
}

/// `2026-03`, `03.2026`, or a date inside the month (Excel turns `03.2026` into 01.03.2026).
pub fn period(cell: &Cell) -> Result<Period, CellError> {
    match cell {
        Cell::Date(date) => Ok(Period::of(dates::check(*date)?)),
        Cell::Empty => Err(CellError::Missing),
        _ => Ok(Period::parse(&text(cell))?),
    }
}

/// A phone number; Excel keeps `79781234567` typed without a plus as a number.
pub fn phone(cell: &Cell) -> Result<Phone, CellError> {
    Ok(Phone::parse(&text(cell))?)
}

/// A plot number; `12` may come as a number cell.
pub fn plot(cell: &Cell) -> Result<PlotNumber, CellError> {
    Ok(PlotNumber::parse(&text(cell))?)
}

/// A member of a vocabulary (`Service`, `TariffPlan`…), by its Russian label or code.
pub fn choice<T: FromStr + Display>(cell: &Cell, all: &[T]) -> Result<T, CellError> {
    let value = text(cell);
    if value.is_empty() {
        return Err(CellError::Missing);
    }
    value.parse().map_err(|_| CellError::NotInList {
        allowed: all.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        value: value.chars().take(40).collect(),
    })
}

#[cfg(test)]
mod tests {
    use domain::Service;

    use super::*;
    use domain::meter_value;

    const COLUMNS: &[Column] = &[
        Column { name: "Договор", required: true, meaning: "" },
        Column { name: "Дата оплаты", required: true, meaning: "" },
        Column { name: "Примечание", required: false, meaning: "" },
    ];
    static SCHEMA: Schema = Schema { columns: COLUMNS, row_genitive: "строки", max_rows: 50 };

    fn text_cell(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }
    fn numbered(rows: Vec<Vec<Cell>>) -> Vec<(usize, Vec<Cell>)> {
        rows.into_iter().enumerate().map(|(i, r)| (i + 1, r)).collect()
    }
    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn header_finds_columns_in_any_order_and_case() {
        let table = Table::new(
            numbered(vec![
                vec![Cell::Empty, Cell::Empty],
                vec![text_cell(" ДАТА  оплаты "), text_cell("Лишний"), text_cell("договор")],
                vec![Cell::Empty; 3],
                vec![text_cell("01.03.2026"), text_cell("что угодно"), Cell::Number(1024.0)],
            ]),
            &SCHEMA,
        )
        .unwrap();
        let mut rows = table.rows();
        let mut row = rows.next().unwrap();
        assert!(rows.next().is_none(), "blank rows are skipped");
        assert_eq!(row.line, 4);
        let contract = |cell: &Cell| required_text(cell, TextKind::ContractNumber);
        assert_eq!(row.read("Договор", contract), Some("1024".to_owned()));
        assert_eq!(row.read("Дата оплаты", date), Some(day(2026, 3, 1)));
        assert_eq!(row.cell("Примечание"), &Cell::Empty, "an optional column the file lacks");
        assert_eq!(row.read("Примечание", |cell| required_text(cell, TextKind::Notes)), None);
        assert_eq!(row.problems().iter().map(ToString::to_string).collect::<Vec<_>>(), ["Примечание: не заполнено."]);
    }

    #[test]
    fn missing_or_repeated_columns_refuse_the_file() {
        let err = Table::new(numbered(vec![vec![text_cell("Договор")], vec![text_cell("W-1")]]), &SCHEMA);
        assert_eq!(
            err.unwrap_err().to_string(),
            "В первой строке нет столбцов «Дата оплаты». Первая строка должна содержать заголовки: \
             Договор, Дата оплаты, Примечание."
        );
        let twice = vec![text_cell("Договор"), text_cell("Дата оплаты"), text_cell("договор")];
        assert_eq!(
            Table::new(numbered(vec![twice]), &SCHEMA).unwrap_err(),
            FileError::RepeatedColumn("Договор".into())
        );
        let header = vec![text_cell("Договор"), text_cell("Дата оплаты")];
        assert_eq!(
            Table::new(numbered(vec![header]), &SCHEMA).unwrap_err().to_string(),
            "В файле нет ни одной строки: под заголовками пусто."
        );
        assert_eq!(Table::new(Vec::new(), &SCHEMA).unwrap_err(), FileError::Empty);
    }

    #[test]
    fn csv_with_semicolons_and_bom_is_read() {
        let csv = "\u{feff}Договор;Дата оплаты\nW-1;\"15.03.2026\"\n\nW-2;16.03.2026\n";
        let table = read("bank.csv", csv.as_bytes(), &SCHEMA).unwrap();
        let lines: Vec<(usize, &Cell)> = table.rows().map(|r| (r.line, r.cell("Договор"))).collect();
        assert_eq!(lines, [(2, &text_cell("W-1")), (4, &text_cell("W-2"))]);
    }

    #[test]
    fn files_that_are_not_tables_are_refused() {
        assert_eq!(read("x.csv", b"", &SCHEMA).unwrap_err(), FileError::Empty);
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(read("photo.png", png, &SCHEMA).unwrap_err(), FileError::NotATable("photo.png".into()));
        assert_eq!(read("fake.xlsx", b"just text", &SCHEMA).unwrap_err(), FileError::NotATable("fake.xlsx".into()));
    }

    #[test]
    fn a_cell_at_the_far_corner_is_refused_without_a_grid() {
        use crate::testing::sheets::{far_corner, xlsx_cells};
        assert!(far_corner().len() < 5_000);
        assert_eq!(read("corner.xlsx", &far_corner(), &SCHEMA).unwrap_err(), FileError::TooWide("XFD1048576".into()));
        let long = xlsx_cells(None, &[("A1", "Договор"), ("A200000", "1")]);
        let err = read("long.xlsx", &long, &SCHEMA).unwrap_err();
        assert_eq!(err, FileError::TooManyRows { limit: 50, cell: "A200000".into() });
        assert!(err.to_string().starts_with("В файле больше 50 строк (ячейка A200000 уже за пределами)"), "{err}");
        // The dimension the sheet declares is not believed either way.
        let small = xlsx_cells(Some("A1:B2"), &[("A1", "Договор"), ("CW1", "x")]);
        assert_eq!(read("wide.xlsx", &small, &SCHEMA).unwrap_err(), FileError::TooWide("CW1".into()));
        let claimed = xlsx_cells(
            Some("A1:XFD1048576"),
            &[("A1", "Договор"), ("B1", "Дата оплаты"), ("CV2", "край"), ("A150", "W-1"), ("B150", "01.03.2026")],
        );
        let table = read("claimed.xlsx", &claimed, &SCHEMA).unwrap();
        let lines: Vec<(usize, &Cell)> = table.rows().map(|r| (r.line, r.cell("Договор"))).collect();
        assert_eq!(lines, [(2, &Cell::Empty), (150, &text_cell("W-1"))]);
    }

    #[test]
    fn what_a_zip_unpacks_to_is_bounded_before_and_while_reading() {
        use crate::testing::sheets::{SHEET_PART, bomb, declaring};
        // Refused from the zip's directory: nothing is inflated.
        let honest = bomb(100 << 20);
        assert!(honest.len() < 2 << 20, "{} bytes", honest.len());
        let err = read("bomb.xlsx", &honest, &SCHEMA).unwrap_err();
        assert_eq!(err, FileError::Unpacked("bomb.xlsx".into()));
        assert!(err.to_string().contains("внутри больше 64 МБ"), "{err}");
        // A directory that lies: the part is cut off at the size it declares.
        let lying = declaring(bomb(40 << 20), SHEET_PART, 1_000);
        let err = read("lying.xlsx", &lying, &SCHEMA).unwrap_err();
        assert!(matches!(&err, FileError::BrokenSpreadsheet(name, _) if name == "lying.xlsx"), "{err:?}");
        // A cell under the limits of the zip, over the limit of a cell.
        let long = bomb(MAX_CELL_CHARS + 1);
        assert_eq!(read("long.xlsx", &long, &SCHEMA).unwrap_err(), FileError::CellTooLong("A1".into()));
    }

    #[test]
    fn other_books_are_refused_by_name() {
        let ole = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0];
        let err = read("old.xlsx", &ole, &SCHEMA).unwrap_err();
        assert_eq!(err, FileError::Unsupported("old.xlsx".into(), "книга Excel 97–2003 (xls) или книга с паролем"));
        assert!(err.to_string().contains("сохраните как «Книга Excel (xlsx)» или «CSV UTF-8»"), "{err}");
        let ods = {
            let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
            zip.start_file("content.xml", zip::write::SimpleFileOptions::default()).unwrap();
            std::io::Write::write_all(&mut zip, b"<office:document-content/>").unwrap();
            zip.finish().unwrap().into_inner()
        };
        assert_eq!(
            read("book.ods", &ods, &SCHEMA).unwrap_err(),
            FileError::Unsupported("book.ods".into(), "таблица OpenDocument (ods)")
        );
    }

    #[test]
    fn csv_is_bounded_like_a_sheet() {
        let mut long = String::from("Договор;Дата оплаты\n");
        for i in 0..200 {
            long.push_str(&format!("W-{i};01.03.2026\n"));
        }
        let err = read("long.csv", long.as_bytes(), &SCHEMA).unwrap_err();
        assert_eq!(err, FileError::TooManyRows { limit: 50, cell: "A151".into() });
        // Over the row limit, within the lines allowed around the table: counted after reading.
        let rows: String = (0..51).map(|i| format!("W-{i};01.03.2026\n")).collect();
        let err = read("rows.csv", format!("Договор;Дата оплаты\n{rows}").as_bytes(), &SCHEMA).unwrap_err();
        assert_eq!(err, FileError::TooManyRows { limit: 50, cell: "A52".into() });
        let wide = format!("Договор;Дата оплаты{}x\n", ";".repeat(99));
        assert_eq!(read("wide.csv", wide.as_bytes(), &SCHEMA).unwrap_err(), FileError::TooWide("CW1".into()));
        let cell = format!("Договор;Дата оплаты\n{};01.03.2026\n", "щ".repeat(MAX_CELL_CHARS + 1));
        assert_eq!(read("cell.csv", cell.as_bytes(), &SCHEMA).unwrap_err(), FileError::CellTooLong("A2".into()));
        let fits = format!("Договор;Дата оплаты\n{};01.03.2026\n", "щ".repeat(MAX_CELL_CHARS));
        assert!(read("fits.csv", fits.as_bytes(), &SCHEMA).is_ok());
        let huge = vec![b'1'; MAX_FILE_BYTES + 1];
        assert_eq!(read("huge.csv", &huge, &SCHEMA).unwrap_err(), FileError::TooLarge);
        // Empty fields past Excel's last column, on the second line; quoted separators are text.
        let commas = format!("Договор;Дата оплаты\n{}\n", ";".repeat(CSV_MAX_FIELDS as usize));
        assert_eq!(read("commas.csv", commas.as_bytes(), &SCHEMA).unwrap_err(), FileError::TooWide("XFE2".into()));
        let quoted = format!("Договор;Дата оплаты\n\"{}\";01.03.2026\n", ";".repeat(MAX_CELL_CHARS - 1));
        assert!(read("quoted.csv", quoted.as_bytes(), &SCHEMA).is_ok());
        // A quote inside an unquoted field is text, as the CSV reader takes it: it opens nothing.
        let stray = format!("Договор;Дата оплаты\r\nx\"{}\r\n", ";".repeat(CSV_MAX_FIELDS as usize));
        assert_eq!(read("stray.csv", stray.as_bytes(), &SCHEMA).unwrap_err(), FileError::TooWide("XFE2".into()));
    }

    /// A date cell as Excel stores it (a day number, styled as a date): a real day is a date, and
    /// one far past Excel's last day (calamine's conversion panics there) is a bad date in that cell.
    #[test]
    fn date_cells_far_past_excels_days_are_bad_dates_not_a_panic() {
        use std::fmt::Write as _;
        let style = crate::testing::sheets::DATE_STYLE;
        let mut rows = String::from(
            r#"<row r="1"><c r="A1" t="inlineStr"><is><t>Договор</t></is></c><c r="B1" t="inlineStr"><is><t>Дата оплаты</t></is></c></row>"#,
        );
        for (row, serial) in [(2, "46082"), (3, "-1E+12"), (4, "1E+300")] {
            write!(
                rows,
                r#"<row r="{row}"><c r="A{row}" t="inlineStr"><is><t>W-{row}</t></is></c><c r="B{row}" s="{style}"><v>{serial}</v></c></row>"#
            )
            .unwrap();
        }
        let book = crate::testing::sheets::xlsx(None, |out| out.write_all(rows.as_bytes()));
        let table = read("dates.xlsx", &book, &SCHEMA).unwrap();
        let dates: Vec<Result<NaiveDate, String>> =
            table.rows().map(|row| date(row.cell("Дата оплаты")).map_err(|e| e.to_string())).collect();
        assert_eq!(dates[0], Ok(day(2026, 3, 1)));
        assert!(dates[1..].iter().all(|d| d.as_ref().is_err_and(|e| e.contains("— не дата"))), "{dates:?}");
    }

    #[test]
    fn cells_are_named_as_excel_names_them() {
        assert_eq!(cell_name(0, 0), "A1");
        assert_eq!(cell_name(9, 25), "Z10");
        assert_eq!(cell_name(0, 26), "AA1");
        assert_eq!(cell_name(1_048_575, 16_383), "XFD1048576");
        assert_eq!(column_name(MAX_COLUMNS - 1), "CV");
    }

    #[test]
    fn money_is_exact_to_the_kopeck_and_may_be_negative() {
        for (cell, kopecks) in [
            (text_cell("1 234,56"), 123_456),
            (text_cell("-200,5"), -20_050),
            (text_cell("1\u{a0}234,5 ₽"), 123_450),
            (Cell::Number(1234.56), 123_456),
            (Cell::Number(-0.07), -7),
            (Cell::Number(0.1 + 0.2), 30),
            (Cell::Number(0.0), 0),
        ] {
            assert_eq!(money(&cell), Ok(Kopecks::new(kopecks).unwrap()), "{cell:?}");
        }
        assert_eq!(money(&Cell::Number(1.234)), Err(MoneyError::TooManyDecimals.into()));
        assert_eq!(money(&Cell::Number(1e15)), Err(MoneyError::TooLarge.into()));
        assert_eq!(money(&Cell::Number(-1e300)), Err(MoneyError::TooLarge.into()));
        assert_eq!(money(&Cell::Empty), Err(MoneyError::Empty.into()));
        assert!(money(&text_cell("сто")).unwrap_err().to_string().contains("«сто» — не сумма"));
        assert!(money(&Cell::Date(day(2026, 3, 1))).is_err());
    }

    #[test]
    fn meter_values_are_exact_and_never_negative() {
        assert_eq!(meter_value(&Cell::Number(12345.678)), Ok(meter_value!(12_345_678)));
        assert_eq!(meter_value(&Cell::Number(100.0)), Ok(meter_value!(100_000)));
        assert_eq!(meter_value(&text_cell("12 345,6")), Ok(meter_value!(12_345_600)));
        assert_eq!(meter_value(&Cell::Number(-5.0)), Err(MeterValueError::Negative.into()));
        assert_eq!(meter_value(&text_cell("-5")), Err(MeterValueError::Negative.into()));
        assert_eq!(meter_value(&Cell::Number(0.0001)), Err(MeterValueError::TooManyDecimals.into()));
        assert_eq!(meter_value(&Cell::Number(1e10)), Err(MeterValueError::TooLarge.into()));
        assert_eq!(meter_value(&Cell::Empty), Err(CellError::Missing));
        assert!(matches!(meter_value(&text_cell("много")), Err(CellError::Value(MeterValueError::NotANumber(_)))));
    }

    #[test]
    fn dates_and_periods_come_as_text_or_cells() {
        assert_eq!(date(&text_cell("15.03.2026")), Ok(day(2026, 3, 15)));
        assert_eq!(date(&text_cell("2026-03-15T00:00:00")), Ok(day(2026, 3, 15)));
        assert_eq!(date(&Cell::Date(day(2026, 3, 15))), Ok(day(2026, 3, 15)));
        assert!(date(&text_cell("вчера")).unwrap_err().to_string().contains("не дата"));
        assert!(date(&Cell::Number(46096.0)).is_err());
        let march = Period::new(2026, 3).unwrap();
        assert_eq!(period(&text_cell("2026-03")), Ok(march));
        assert_eq!(period(&text_cell("03.2026")), Ok(march));
        assert_eq!(period(&Cell::Date(day(2026, 3, 1))), Ok(march));
        assert_eq!(period(&Cell::Empty), Err(CellError::Missing));
        // Date cells are held to the same years as typed dates (Excel reaches 1900 and 9999).
        for far in [day(1900, 1, 1), day(9999, 12, 31)] {
            assert_eq!(date(&Cell::Date(far)), Err(DateError::OutOfRange(far).into()));
            assert_eq!(period(&Cell::Date(far)), Err(DateError::OutOfRange(far).into()));
        }
    }

    #[test]
    fn numbers_in_text_columns_read_as_typed() {
        use TextKind::{ContractNumber, PaymentReference};
        assert_eq!(required_text(&Cell::Number(1024.0), ContractNumber), Ok("1024".into()));
        assert_eq!(optional_text(&Cell::Number(98_765_432_101.0), PaymentReference), Ok(Some("98765432101".into())));
        assert_eq!(optional_text(&text_cell("  "), PaymentReference), Ok(None));
        assert_eq!(required_text(&Cell::Empty, ContractNumber), Err(CellError::Missing));
        let error = required_text(&text_cell(&"7".repeat(51)), ContractNumber).unwrap_err();
        assert_eq!(error.to_string(), "не длиннее 50 символов, а здесь 51.");
        assert_eq!(phone(&Cell::Number(79_781_234_567.0)).unwrap().as_str(), "+79781234567");
        assert_eq!(plot(&Cell::Number(12.0)).unwrap().as_str(), "12");
        assert_eq!(optional(&Cell::Empty, phone), Ok(None));
        assert!(matches!(optional(&text_cell("звоните"), phone), Err(CellError::Phone(_))));
    }

    #[test]
    fn vocabularies_take_labels_and_name_the_choices() {
        assert_eq!(choice(&text_cell(" вода "), Service::ALL), Ok(Service::Water));
        assert_eq!(choice(&text_cell("electricity"), Service::ALL), Ok(Service::Electricity));
        assert_eq!(
            choice(&text_cell("Газ"), Service::ALL).unwrap_err().to_string(),
            "«Газ» — нет такого значения. Возможные: Вода, Электроэнергия."
        );
        assert_eq!(choice(&Cell::Empty, Service::ALL), Err(CellError::Missing));
    }
}
