//! The register template: the workbook a cooperative fills in to load its register at go-live
//! (read by `service::register::import`). Its columns are the import's own, so the two cannot
//! drift apart, and its example rows import as they are.

use chrono::NaiveDate;
use domain::{Service, TariffPlan, kopecks, meter_value};
use rust_xlsxwriter::{ColNum, DataValidation, DocProperties, Workbook, Worksheet, XlsxError};
use service::register::import::read::SCHEMA;

use crate::ReportError;
use crate::sheet::{Cell, Styles, fit_widths, write_header, write_row};

pub const REGISTER_SHEET: &str = "Реестр";
pub const HELP_SHEET: &str = "Пояснения";

/// Rows the vocabulary lists in «Услуга» and «Тариф» are offered on: a large cooperative's worth.
const LIST_ROWS: u32 = 5_000;

/// The template as xlsx bytes: «Реестр» with the header and an example row of each kind (water
/// on one rate; day/night electricity for the same consumer), and «Пояснения» on each column.
pub fn register_template() -> Result<Vec<u8>, ReportError> {
    let styles = Styles::new();
    let mut workbook = Workbook::new();
    workbook.set_properties(&DocProperties::new().set_title("Реестр для загрузки").set_company("Черноморск"));
    workbook.push_worksheet(register_sheet(&styles)?);
    workbook.push_worksheet(help_sheet(&styles)?);
    Ok(workbook.save_to_buffer()?)
}

/// The example rows, cell by column name (columns not named stay blank).
fn examples() -> [Vec<(&'static str, Cell<'static>)>; 2] {
    let day = |y, m, d| Cell::Date(NaiveDate::from_ymd_opt(y, m, d).expect("a valid example date"));
    let consumer = [
        ("Участок", "1".into()),
        ("Адрес", "ул. Морская, 1".into()),
        ("ФИО", "Иванова Анна Петровна".into()),
        ("Телефон", "+7 978 123-45-67".into()),
    ];
    let water = [
        ("Договор", "В-001".into()),
        ("Услуга", Service::Water.label().into()),
        ("Тариф", TariffPlan::Single.label().into()),
        ("Дата договора", day(2019, 5, 15)),
        ("Счётчик", "ВК-123456".into()),
        ("Пломба", "0012345".into()),
        ("Поверка до", day(2030, 6, 1)),
        ("Показание", meter_value!(123_500).into()),
        ("Дата показания", day(2026, 3, 1)),
        ("Сальдо", kopecks!(1_500_00).into()),
    ];
    let electricity = [
        ("Договор", "Э-001".into()),
        ("Услуга", Service::Electricity.label().into()),
        ("Тариф", TariffPlan::DayNight.label().into()),
        ("Счётчик", "ЭН-654321".into()),
        ("Пломба", "0012346".into()),
        ("Показание", meter_value!(10_234_500).into()),
        ("Показание ночь", meter_value!(4_567_250).into()),
        ("Дата показания", day(2026, 3, 1)),
        ("Сальдо", kopecks!(-200_50).into()),
    ];
    [consumer.iter().cloned().chain(water).collect(), consumer.into_iter().chain(electricity).collect()]
}

/// A column's position in the template.
fn column(name: &str) -> ColNum {
    let index = SCHEMA.columns.iter().position(|c| c.name == name).expect("an import column");
    ColNum::try_from(index).expect("a few columns")
}

fn register_sheet(styles: &Styles) -> Result<Worksheet, XlsxError> {
    let headers: Vec<&str> = SCHEMA.columns.iter().map(|c| c.name).collect();
    let rows: Vec<Vec<Cell>> = examples()
        .into_iter()
        .map(|example| {
            let mut row = vec![Cell::Empty; headers.len()];
            for (name, cell) in example {
                row[usize::from(column(name))] = cell;
            }
            row
        })
        .collect();
    let mut sheet = Worksheet::new();
    sheet.set_name(REGISTER_SHEET)?;
    for (col, width) in (0..).zip(fit_widths(&headers, &rows)) {
        sheet.set_column_width(col, width)?;
    }
    write_header(&mut sheet, 0, &headers, styles)?;
    for (row, cells) in (1..).zip(&rows) {
        write_row(&mut sheet, row, cells, &styles.body)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    offer_list(&mut sheet, "Услуга", Service::ALL)?;
    offer_list(&mut sheet, "Тариф", TariffPlan::ALL)?;
    Ok(sheet)
}

/// A drop-down of a vocabulary's labels under the column's header.
fn offer_list(sheet: &mut Worksheet, name: &str, members: &[impl ToString]) -> Result<(), XlsxError> {
    let labels: Vec<String> = members.iter().map(ToString::to_string).collect();
    let list = DataValidation::new()
        .allow_list_strings(&labels)?
        .set_error_message(format!("Выберите из списка: {}.", labels.join(", ")))?;
    let col = column(name);
    sheet.add_data_validation(1, col, LIST_ROWS, col, &list)?;
    Ok(())
}

fn help_sheet(styles: &Styles) -> Result<Worksheet, XlsxError> {
    let mut sheet = Worksheet::new();
    sheet.set_name(HELP_SHEET)?;
    for (col, width) in (0..).zip([20.0, 14.0, 100.0]) {
        sheet.set_column_width(col, width)?;
    }
    write_header(&mut sheet, 0, &["Столбец", "Обязательный", "Что в нём"], styles)?;
    for (row, column) in (1..).zip(SCHEMA.columns) {
        let required = if column.required { "да" } else { "нет" };
        write_row(&mut sheet, row, &[column.name.into(), required.into(), column.meaning.into()], &styles.body)?;
    }
    let notes = [
        "Одна строка — один договор. Порядок столбцов любой, лишние столбцы не мешают.",
        "Повторная загрузка того же файла ничего не задваивает: договоры, которые уже есть в учёте, \
         сверяются и пропускаются; расхождение с учётом показывается как ошибка.",
        "Файл с ошибками не загружается совсем: исправьте отмеченные строки и загрузите его снова.",
    ];
    let first = u32::try_from(SCHEMA.columns.len()).expect("a few columns") + 2;
    for (row, note) in (first..).zip(notes) {
        sheet.write_string(row, 0, note)?;
    }
    Ok(sheet)
}
