//! Reading the register file: its columns ([`SCHEMA`]) and each row read whole into a
//! [`RegisterRow`], or turned away with every reason it cannot be read.

use chrono::NaiveDate;
use domain::{Kopecks, MeterValue, Phone, PlotNumber, Service, TariffPlan};
use serde::{Deserialize, Serialize};

use super::problems::{BadRow, Problem};
use crate::register::sign_up::{ConsumerRef, NewMeter, SignUp};
use crate::spreadsheet::{self, Column, Row, Schema, Table, normalize};

pub(super) const PLOT: &str = "Участок";
pub(super) const ADDRESS: &str = "Адрес";
pub(super) const NAME: &str = "ФИО";
pub(super) const PHONE: &str = "Телефон";
pub(super) const CONTRACT: &str = "Договор";
pub(super) const SERVICE: &str = "Услуга";
pub(super) const PLAN: &str = "Тариф";
pub(super) const SIGNED_ON: &str = "Дата договора";
pub(super) const SERIAL: &str = "Счётчик";
pub(super) const SEAL: &str = "Пломба";
pub(super) const VERIFICATION: &str = "Поверка до";
pub(super) const READING: &str = "Показание";
pub(super) const NIGHT: &str = "Показание ночь";
pub(super) const READ_ON: &str = "Дата показания";
pub(super) const SALDO: &str = "Сальдо";
pub(super) const AREA: &str = "Площадь, м²";

/// The file format, for the import page, the template and the command line.
pub const SCHEMA: Schema = Schema {
    columns: &[
        Column {
            name: PLOT,
            required: true,
            meaning: "номер участка: 12, 12А, 7/2; строки с одним номером — один участок",
        },
        Column {
            name: ADDRESS, required: false, meaning: "адрес участка, если есть; у всех строк участка один"
        },
        Column { name: NAME, required: true, meaning: "потребитель, как в договоре" },
        Column {
            name: PHONE,
            required: false,
            meaning: "+7 978 123-45-67 или 8 978 123-45-67; по нему потребителя узнаёт бот. Строки с одним \
                      телефоном — один потребитель (ФИО должно совпадать), строки без телефона — по ФИО",
        },
        Column {
            name: CONTRACT, required: true, meaning: "номер договора, у каждой строки свой: В-012, Э-0345"
        },
        Column { name: SERVICE, required: true, meaning: "Вода или Электроэнергия" },
        Column {
            name: PLAN,
            required: true,
            meaning: "Однотарифный или День/ночь (день/ночь — только электроэнергия)",
        },
        Column {
            name: SIGNED_ON, required: false, meaning: "дата подписания договора; пусто — дата показания"
        },
        Column { name: SERIAL, required: true, meaning: "заводской номер счётчика" },
        Column { name: SEAL, required: false, meaning: "номер пломбы" },
        Column {
            name: VERIFICATION, required: false, meaning: "дата следующей поверки счётчика"
        },
        Column {
            name: READING,
            required: true,
            meaning: "показание на дату ввода в учёт: 12345,6 (для тарифа День/ночь — дневное); следующее \
                      показание считается от него",
        },
        Column {
            name: NIGHT, required: false, meaning: "ночное показание — только для тарифа День/ночь"
        },
        Column {
            name: READ_ON,
            required: true,
            meaning: "дата этого показания: 01.03.2026 или ячейка Excel с датой; с неё счётчик в учёте",
        },
        Column {
            name: SALDO,
            required: false,
            meaning: "долг по договору на дату показания, в рублях: 1500 — долг, -200,50 — переплата; пусто — 0",
        },
        Column {
            name: AREA,
            required: false,
            meaning: "площадь участка в м², целым числом: 600; по ней могут делиться потери в сетях",
        },
    ],
    row_genitive: "строки с договором",
    // Two contracts for each of a large cooperative's plots.
    max_rows: 5_000,
};

/// A contract of the register, read whole from its row (serializable, so a preview can wait in
/// the session for confirmation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterRow {
    /// The row's number in the file, counting the header row.
    pub line: usize,
    pub plot: PlotNumber,
    pub address: Option<String>,
    pub full_name: String,
    pub phone: Option<Phone>,
    pub contract_number: String,
    pub service: Service,
    pub plan: TariffPlan,
    pub signed_on: NaiveDate,
    pub serial: String,
    pub seal_number: Option<String>,
    pub verification_due: Option<NaiveDate>,
    /// The opening reading, one value per register of the plan (day before night).
    pub opening: Vec<MeterValue>,
    /// When the opening reading was taken: the meter is in service from that day.
    pub read_on: NaiveDate,
    /// Debt (positive) or credit (negative) on the opening day.
    pub saldo: Kopecks,
    /// The plot's area in m², if given (a preview stored before the column existed has none).
    #[serde(default)]
    pub area: Option<i64>,
}

impl RegisterRow {
    pub(super) fn consumer_key(&self) -> ConsumerKey {
        match &self.phone {
            Some(phone) => ConsumerKey::Phone(phone.clone()),
            None => ConsumerKey::Name(normalize(&self.full_name)),
        }
    }

    pub(super) fn sign_up(&self, consumer: ConsumerRef, plot_address: Option<String>) -> SignUp {
        SignUp {
            plot: self.plot.clone(),
            plot_address,
            consumer,
            contract_number: self.contract_number.clone(),
            service: self.service,
            plan: self.plan,
            signed_on: self.signed_on,
            meter: NewMeter {
                serial: self.serial.clone(),
                installed_on: self.read_on,
                initial: self.opening.clone(),
                seal_number: self.seal_number.clone(),
                verification_due: self.verification_due,
            },
        }
    }
}

/// Who a row's consumer is: the same phone is the same person; without a phone, the same name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum ConsumerKey {
    Phone(Phone),
    Name(String),
}

/// Splits a table into good rows and rows that cannot be read.
pub(super) fn parse(table: &Table) -> (Vec<RegisterRow>, Vec<BadRow>) {
    let mut rows = Vec::new();
    let mut bad = Vec::new();
    for row in table.rows() {
        match parse_row(row) {
            Ok(row) => rows.push(row),
            Err(row) => bad.push(row),
        }
    }
    (rows, bad)
}

/// The contract in a row, or every reason it cannot be read.
fn parse_row(mut row: Row<'_>) -> Result<RegisterRow, BadRow> {
    use domain::TextKind::{Address, ContractNumber, FullName, MeterSerial, SealNumber};
    use spreadsheet::{choice, date, meter_value, optional, optional_text, required_text};
    let plot = row.read(PLOT, spreadsheet::plot);
    let address = row.read(ADDRESS, |c| optional_text(c, Address));
    let full_name = row.read(NAME, |c| required_text(c, FullName));
    let phone = row.read(PHONE, |c| optional(c, spreadsheet::phone));
    let contract_number = row.read(CONTRACT, |c| required_text(c, ContractNumber));
    let service = row.read(SERVICE, |c| choice(c, Service::ALL));
    let plan = row.read(PLAN, |c| choice(c, TariffPlan::ALL));
    let signed_on = row.read(SIGNED_ON, |c| optional(c, date));
    let serial = row.read(SERIAL, |c| required_text(c, MeterSerial));
    let seal_number = row.read(SEAL, |c| optional_text(c, SealNumber));
    let verification_due = row.read(VERIFICATION, |c| optional(c, date));
    let day = row.read(READING, meter_value);
    // The night register is read on a day/night plan only (on an unreadable plan, not at all).
    let night = match plan {
        Some(TariffPlan::DayNight) => row.read(NIGHT, meter_value).map(Some),
        _ => Some(None),
    };
    let read_on = row.read(READ_ON, date);
    let saldo = row.read(SALDO, |c| optional(c, |c| Ok(spreadsheet::money(c)?.carried_balance()?)));
    let area = row.read(AREA, |c| optional(c, spreadsheet::area));

    let mut problems: Vec<Problem> = row.problems().iter().cloned().map(Problem::from).collect();
    if let (Some(service), Some(plan)) = (service, plan)
        && !plan.allowed_for(service)
    {
        problems.push(Problem::PlanNotForService);
    }
    if plan == Some(TariffPlan::Single) && !row.cell(NIGHT).is_empty() {
        problems.push(Problem::NightForSinglePlan);
    }
    let line = row.line;
    let contract = (|| {
        Some(RegisterRow {
            line,
            plot: plot?,
            address: address?,
            full_name: full_name?,
            phone: phone?,
            contract_number: contract_number?,
            service: service?,
            plan: plan?,
            signed_on: signed_on?.unwrap_or(read_on?),
            serial: serial?,
            seal_number: seal_number?,
            verification_due: verification_due?,
            opening: std::iter::once(day?).chain(night?).collect(),
            read_on: read_on?,
            saldo: saldo?.unwrap_or_default(),
            area: area?,
        })
    })();
    match contract {
        Some(contract) if problems.is_empty() => Ok(contract),
        _ => Err(BadRow { line, problems }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spreadsheet::Cell;
    use domain::{kopecks, meter_value};

    const HEADER: [&str; 16] = [
        "Участок",
        "Адрес",
        "ФИО",
        "Телефон",
        "Договор",
        "Услуга",
        "Тариф",
        "Дата договора",
        "Счётчик",
        "Пломба",
        "Поверка до",
        "Показание",
        "Показание ночь",
        "Дата показания",
        "Сальдо",
        "Площадь, м²",
    ];

    fn cell(s: &str) -> Cell {
        if s.is_empty() { Cell::Empty } else { Cell::Text(s.to_owned()) }
    }

    /// Rows under the header, from `|`-separated cells in the order of [`HEADER`].
    fn parse_lines(lines: &[&str]) -> (Vec<RegisterRow>, Vec<BadRow>) {
        let rows = std::iter::once(HEADER.map(cell).to_vec())
            .chain(lines.iter().map(|line| line.split('|').map(cell).collect()))
            .enumerate()
            .map(|(i, cells)| (i + 1, cells))
            .collect();
        parse(&Table::new(rows, &SCHEMA).unwrap())
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_row_is_a_contract_with_its_meter_and_saldo() {
        let (rows, bad) = parse_lines(&[
            "12а|ул. Морская, 1|Иванова А. П.|8 978 123-45-67|В-12|вода|Однотарифный||SN-1|П-7||123,5||01.03.2026|1 500|600",
            "12А||Иванова А. П.|+79781234567|Э-12|Электроэнергия|день/ночь|15.01.2020|SN-2||01.06.2030|1000|500,25|01.03.2026|-200,5",
        ]);
        assert_eq!(bad, vec![]);
        assert_eq!(
            rows[0],
            RegisterRow {
                line: 2,
                plot: PlotNumber::parse("12А").unwrap(),
                address: Some("ул. Морская, 1".into()),
                full_name: "Иванова А. П.".into(),
                phone: Some(Phone::parse("+79781234567").unwrap()),
                contract_number: "В-12".into(),
                service: Service::Water,
                plan: TariffPlan::Single,
                signed_on: date(2026, 3, 1),
                serial: "SN-1".into(),
                seal_number: Some("П-7".into()),
                verification_due: None,
                opening: vec![meter_value!(123_500)],
                read_on: date(2026, 3, 1),
                saldo: kopecks!(150_000),
                area: Some(600),
            }
        );
        assert_eq!(rows[1].area, None);
        assert_eq!(rows[1].opening, [meter_value!(1_000_000), meter_value!(500_250)]);
        assert_eq!((rows[1].signed_on, rows[1].verification_due), (date(2020, 1, 15), Some(date(2030, 6, 1))));
        assert_eq!(rows[1].saldo, kopecks!(-20_050));
        assert_eq!(rows[0].consumer_key(), rows[1].consumer_key());
    }

    #[test]
    fn every_reason_of_a_bad_row_is_given() {
        let (rows, bad) = parse_lines(&[
            "|||звоните|В-1|Газ|Однотарифный|32.01.2026||||-5||вчера|много",
            "3||Петров|||Вода|День/ночь||SN||||||",
            "4||Сидоров||Э-4|Электроэнергия|Однотарифный||SN|||10|5|01.03.2026|",
            "5||Кузнецов||Э-5|Электроэнергия|День/ночь||SN|||10|||",
        ]);
        assert!(rows.is_empty());
        let reasons: Vec<Vec<String>> =
            bad.iter().map(|b| b.problems.iter().map(ToString::to_string).collect()).collect();
        assert_eq!(
            reasons[0],
            [
                "Участок: Номер участка не указан.",
                "ФИО: не заполнено.",
                "Телефон: «звоните» — не номер телефона. Пример: +7 912 345-67-89.",
                "Услуга: «Газ» — нет такого значения. Возможные: Вода, Электроэнергия.",
                "Дата договора: «32.01.2026» — не дата. Укажите дату в виде ДД.ММ.ГГГГ, например 15.03.2026.",
                "Счётчик: не заполнено.",
                "Показание: Показание не может быть отрицательным.",
                "Дата показания: «вчера» — не дата. Укажите дату в виде ДД.ММ.ГГГГ, например 15.03.2026.",
                "Сальдо: «много» — не сумма. Пример: 1 234,56",
            ]
        );
        assert_eq!(
            reasons[1],
            [
                "Договор: не заполнено.",
                "Показание: не заполнено.",
                "Показание ночь: не заполнено.",
                "Дата показания: Дата не указана.",
                "Тариф: «День/ночь» бывает только для электроэнергии.",
            ]
        );
        assert_eq!(reasons[2], ["Показание ночь: заполняется только для тарифа «День/ночь»."]);
        assert_eq!(reasons[3], ["Показание ночь: не заполнено.", "Дата показания: Дата не указана."]);
        assert_eq!(bad.iter().map(|b| b.line).collect::<Vec<_>>(), [2, 3, 4, 5]);
    }

    #[test]
    fn number_cells_are_read_exactly() {
        let mut cells: Vec<Cell> = HEADER.iter().map(|_| Cell::Empty).collect();
        for (column, value) in [
            ("Участок", Cell::Number(7.0)),
            ("ФИО", cell("Бендер О. И.")),
            ("Телефон", Cell::Number(79_781_234_567.0)),
            ("Договор", Cell::Number(1024.0)),
            ("Услуга", cell("Вода")),
            ("Тариф", cell("Однотарифный")),
            ("Счётчик", Cell::Number(556_677.0)),
            ("Показание", Cell::Number(12_345.678)),
            ("Дата показания", Cell::Date(date(2026, 3, 1))),
            ("Сальдо", Cell::Number(-0.07)),
        ] {
            cells[HEADER.iter().position(|h| *h == column).unwrap()] = value;
        }
        let table = Table::new(vec![(1, HEADER.map(cell).to_vec()), (2, cells)], &SCHEMA).unwrap();
        let (rows, bad) = parse(&table);
        assert_eq!(bad, vec![]);
        let row = &rows[0];
        assert_eq!((row.plot.as_str(), row.contract_number.as_str(), row.serial.as_str()), ("7", "1024", "556677"));
        assert_eq!(row.phone.as_ref().map(Phone::as_str), Some("+79781234567"));
        assert_eq!((row.opening.clone(), row.saldo), (vec![meter_value!(12_345_678)], kopecks!(-7)));
    }

    #[test]
    fn a_saldo_beyond_ten_million_either_way_is_refused() {
        let line = |saldo: &str| {
            let cells =
                ["1", "", "Бендер О. И.", "", "В-1", "Вода", "Однотарифный", "", "SN", "", "", "10", "", "01.03.2026"];
            cells.iter().map(|c| cell(c)).chain([cell(saldo)]).collect::<Vec<_>>()
        };
        let table = Table::new(
            vec![
                (1, HEADER.map(cell).to_vec()),
                (2, line("10 000 000")),
                (3, line("-10 000 000,01")),
                (4, line("1e20")),
            ],
            &SCHEMA,
        )
        .unwrap();
        let (rows, bad) = parse(&table);
        assert_eq!(rows.iter().map(|r| r.saldo).collect::<Vec<_>>(), [Kopecks::PAYMENT_MAX]);
        let reasons: Vec<String> = bad.iter().map(BadRow::reason).collect();
        assert_eq!(reasons[0], "Сальдо: Сальдо по модулю не может быть больше 10\u{202f}000\u{202f}000,00 ₽.");
        assert_eq!(reasons[1], "Сальдо: «1e20» — не сумма. Пример: 1 234,56");
    }
}
