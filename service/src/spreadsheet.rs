//! Reading the tables people keep in Excel or CSV, for the imports (bank payments, the register).
//!
//! A file becomes rows of [`Cell`]s; its header row is matched against the import's [`Schema`]
//! by column name (any order, any case, extra spaces and е/ё alike; other columns are ignored);
//! then each cell is parsed by the reader for its kind — text, money, meter value, date, month,
//! phone, plot, a vocabulary member — with the reason in Russian when it cannot be. Row numbers
//! are those Excel shows, counting the header row.

use std::fmt::Display;
use std::io::Cursor;
use std::str::FromStr;

use chrono::NaiveDate;
use domain::meter_value::MeterValueError;
use domain::money::MoneyError;
use domain::period::PeriodError;
use domain::phone::PhoneError;
use domain::plot::PlotNumberError;
use domain::{Kopecks, MeterValue, Period, Phone, PlotNumber, TextKind, TooLong};

use crate::dates::{DateError, parse_date};

/// A column an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    /// A file without a required column is refused whole.
    pub required: bool,
    /// What the column holds, for the import page and the template.
    pub meaning: &'static str,
}

/// What an import reads: its columns, and what one row is called.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    pub columns: &'static [Column],
    /// One row's name in the genitive, for «В файле нет ни одной …»: «оплаты», «записи».
    pub row_genitive: &'static str,
}

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

/// Reads an xlsx, xls or CSV file (told apart by content, then by name) as a table of `schema`.
pub fn read(file_name: &str, bytes: &[u8], schema: &'static Schema) -> Result<Table, FileError> {
    if bytes.is_empty() {
        return Err(FileError::Empty);
    }
    let lower = file_name.to_lowercase();
    let spreadsheet = bytes.starts_with(b"PK\x03\x04")
        || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
        || lower.ends_with(".xlsx")
        || lower.ends_with(".xls");
    let rows = if spreadsheet { workbook_rows(file_name, bytes)? } else { csv_rows(file_name, bytes)? };
    Table::new(rows, schema)
}

fn workbook_rows(file_name: &str, bytes: &[u8]) -> Result<Vec<(usize, Vec<Cell>)>, FileError> {
    use calamine::{Data, Reader};
    let broken = |e: &dyn Display| FileError::BrokenSpreadsheet(file_name.to_owned(), e.to_string());
    let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|_| FileError::NotATable(file_name.to_owned()))?;
    let range = workbook.worksheet_range_at(0).ok_or(FileError::Empty)?.map_err(|e| broken(&e))?;
    // The range starts at the first non-empty cell; row numbers count from the sheet's top.
    let first_line = range.start().map_or(1, |(row, _)| row as usize + 1);
    let cell = |data: &Data| match data {
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::String(s) if s.trim().is_empty() => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Bool(b) => Cell::Text(b.to_string()),
        Data::DateTime(dt) => dt.as_datetime().map_or(Cell::Empty, |d| Cell::Date(d.date())),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Text(format!("#{e}")),
        Data::Empty => Cell::Empty,
    };
    Ok(range.rows().enumerate().map(|(i, row)| (first_line + i, row.iter().map(cell).collect())).collect())
}

fn csv_rows(file_name: &str, bytes: &[u8]) -> Result<Vec<(usize, Vec<Cell>)>, FileError> {
    let not_a_table = || FileError::NotATable(file_name.to_owned());
    let text = std::str::from_utf8(bytes).map_err(|_| not_a_table())?;
    let text = text.trim_start_matches('\u{feff}');
    // Russian Excel separates CSV columns with `;`, since `,` is the decimal mark.
    let header = text.lines().next().unwrap_or_default();
    let delimiter =
        [b';', b'\t', b','].into_iter().max_by_key(|d| header.matches(char::from(*d)).count()).unwrap_or(b',');
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    // The reader neither counts the blank lines it skips nor places a record after them, so lines
    // are counted from byte offsets, past any blank lines.
    let (mut counted_to, mut line) = (0, 1);
    for record in reader.records() {
        let record = record.map_err(|_| not_a_table())?;
        let skipped = record.position().map_or(counted_to, |p| p.byte() as usize);
        let start = skipped + text.as_bytes()[skipped..].iter().take_while(|b| matches!(b, b'\n' | b'\r')).count();
        line += text.as_bytes()[counted_to..start].iter().filter(|b| **b == b'\n').count();
        counted_to = start;
        let cells =
            record.iter().map(|s| if s.trim().is_empty() { Cell::Empty } else { Cell::Text(s.to_owned()) }).collect();
        rows.push((line, cells));
    }
    Ok(rows)
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
            // As far as `Kopecks::parse_rubles` goes: a trillion rubles.
            if kopecks.abs() > 1e14 {
                return Err(MoneyError::TooLarge.into());
            }
            Ok(Kopecks(kopecks as i64))
        }
        Cell::Date(_) => Err(MoneyError::NotANumber(text(cell)).into()),
        Cell::Empty | Cell::Text(_) => Ok(Kopecks::parse_rubles(&text(cell))?),
    }
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
            Ok(MeterValue(thousandths as i64))
        }
        Cell::Date(_) => Err(MeterValueError::NotANumber(text(cell)).into()),
        Cell::Text(_) => Ok(MeterValue::parse(&text(cell))?),
    }
}

/// A date cell, or text in a Russian or ISO format.
pub fn date(cell: &Cell) -> Result<NaiveDate, CellError> {
    match cell {
        Cell::Date(date) => Ok(*date),
        // ISO date-times from ODS files: the date part.
        Cell::Text(s) if s.len() > 10 && s.as_bytes().get(10) == Some(&b'T') => Ok(parse_date(&s[..10])?),
        _ => Ok(parse_date(&text(cell))?),
    }
}

/// `2026-03`, `03.2026`, or a date inside the month (Excel turns `03.2026` into 01.03.2026).
pub fn period(cell: &Cell) -> Result<Period, CellError> {
    match cell {
        Cell::Date(date) => Ok(Period::of(*date)),
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

    const COLUMNS: &[Column] = &[
        Column { name: "Договор", required: true, meaning: "" },
        Column { name: "Дата оплаты", required: true, meaning: "" },
        Column { name: "Примечание", required: false, meaning: "" },
    ];
    static SCHEMA: Schema = Schema { columns: COLUMNS, row_genitive: "строки" };

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
            assert_eq!(money(&cell), Ok(Kopecks(kopecks)), "{cell:?}");
        }
        assert_eq!(money(&Cell::Number(1.234)), Err(MoneyError::TooManyDecimals.into()));
        assert_eq!(money(&Cell::Number(1e15)), Err(MoneyError::TooLarge.into()));
        assert_eq!(money(&Cell::Empty), Err(MoneyError::Empty.into()));
        assert!(money(&text_cell("сто")).unwrap_err().to_string().contains("«сто» — не сумма"));
        assert!(money(&Cell::Date(day(2026, 3, 1))).is_err());
    }

    #[test]
    fn meter_values_are_exact_and_never_negative() {
        assert_eq!(meter_value(&Cell::Number(12345.678)), Ok(MeterValue(12_345_678)));
        assert_eq!(meter_value(&Cell::Number(100.0)), Ok(MeterValue::from_whole(100)));
        assert_eq!(meter_value(&text_cell("12 345,6")), Ok(MeterValue(12_345_600)));
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
