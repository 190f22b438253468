//! What is wrong with a row of the register file, in the words the preview shows.

use std::fmt::{self, Display};

use chrono::NaiveDate;
use domain::{Kopecks, Phone, PlotNumber};

use crate::spreadsheet::CellProblem;

/// Where a conflicting value was met first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// In the database.
    OnFile,
    /// In an earlier row of the file.
    Line(usize),
}

impl Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::OnFile => f.write_str("в учёте"),
            Origin::Line(line) => write!(f, "в строке {line}"),
        }
    }
}

/// A column whose value on file is not the row's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{column}: в учёте «{on_file}», в файле «{in_file}»")]
pub struct Difference {
    pub column: &'static str,
    pub on_file: String,
    pub in_file: String,
}

/// Why a row is not imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error(transparent)]
    Cell(#[from] CellProblem),
    #[error("Тариф: «День/ночь» бывает только для электроэнергии.")]
    PlanNotForService,
    #[error("Показание ночь: заполняется только для тарифа «День/ночь».")]
    NightForSinglePlan,
    #[error("Дата показания: {} ещё не наступило.", .0.format("%d.%m.%Y"))]
    FutureReading(NaiveDate),
    #[error("Договор: № {number} уже есть в строке {line}.")]
    RepeatedContract { number: String, line: usize },
    #[error("Адрес: у участка {plot} {origin} {}, а здесь «{given}».", quoted_address(.known))]
    AddressDiffers { plot: PlotNumber, origin: Origin, known: Option<String>, given: String },
    #[error("Телефон: {phone} {origin} у потребителя «{name}»; у одного телефона одно ФИО.")]
    PhoneOfAnother { phone: Phone, origin: Origin, name: String },
    #[error("Договор: № {number} уже в учёте, но отличается — {}.", joined(.differences))]
    ContractDiffers { number: String, differences: Vec<Difference> },
    #[error("Сальдо: с этой строкой сальдо по файлу в сумме больше {}; разделите файл на части.", Kopecks::MAX)]
    OpeningTotalTooLarge,
}

fn quoted_address(address: &Option<String>) -> String {
    address.as_ref().map_or_else(|| "адрес не указан".to_owned(), |a| format!("адрес «{a}»"))
}

pub(super) fn joined(items: &[impl Display]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// A row that is not imported, with every reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    pub line: usize,
    pub problems: Vec<Problem>,
}

impl BadRow {
    /// The reasons in one line, for tables and the command line.
    pub fn reason(&self) -> String {
        joined(&self.problems)
    }
}

#[cfg(test)]
mod tests {
    use super::super::read::{SALDO, SERIAL};
    use super::*;

    #[test]
    fn differences_name_each_column() {
        let problem = Problem::ContractDiffers {
            number: "В-1".into(),
            differences: vec![
                Difference { column: SERIAL, on_file: "A".into(), in_file: "B".into() },
                Difference { column: SALDO, on_file: "0,00".into(), in_file: "1\u{202f}500,00".into() },
            ],
        };
        assert_eq!(
            problem.to_string(),
            "Договор: № В-1 уже в учёте, но отличается — Счётчик: в учёте «A», в файле «B»; \
             Сальдо: в учёте «0,00», в файле «1\u{202f}500,00»."
        );
        let address = Problem::AddressDiffers {
            plot: PlotNumber::parse("3").unwrap(),
            origin: Origin::Line(2),
            known: Some("ул. Морская, 1".into()),
            given: "ул. Морская, 2".into(),
        };
        assert_eq!(
            address.to_string(),
            "Адрес: у участка 3 в строке 2 адрес «ул. Морская, 1», а здесь «ул. Морская, 2»."
        );
    }
}
