//! Billing periods: calendar months.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// A billing month, stored and written as `YYYY-MM` (which sorts chronologically as text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "sea-orm", derive(sea_orm::DeriveValueType))]
#[cfg_attr(feature = "sea-orm", sea_orm(value_type = "String"))]
pub struct Period {
    year: i32,
    month: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("«{0}» — не месяц. Укажите месяц в виде ГГГГ-ММ, например 2026-03.")]
pub struct PeriodError(String);

const RUSSIAN_MONTHS: [&str; 12] = [
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
];

impl Period {
    /// The years a billing period, and so any date given by a person, may fall in.
    pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2999;

    pub fn new(year: i32, month: u32) -> Option<Period> {
        ((1..=12).contains(&month) && Period::YEARS.contains(&year)).then_some(Period { year, month })
    }

    pub fn of(date: NaiveDate) -> Period {
        Period { year: date.year(), month: date.month() }
    }

    /// Parses `YYYY-MM` (also `YYYY.MM` and `MM.YYYY`, as they come from spreadsheets).
    pub fn parse(input: &str) -> Result<Period, PeriodError> {
        let s = input.trim();
        let err = || PeriodError(s.to_owned());
        let (a, b) = s.split_once(['-', '.', '/']).ok_or_else(err)?;
        let (year, month) = if a.len() == 4 { (a, b) } else { (b, a) };
        let year: i32 = year.parse().map_err(|_| err())?;
        let month: u32 = month.parse().map_err(|_| err())?;
        Period::new(year, month).ok_or_else(err)
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a Period is always a valid month")
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().expect("months have a last day")
    }

    pub fn next(self) -> Period {
        Period::of(self.first_day() + Months::new(1))
    }

    pub fn prev(self) -> Period {
        Period::of(self.first_day() - Months::new(1))
    }

    /// Whole months from `self` to `later` (0 for the same month, negative when `later` is earlier).
    pub fn months_until(self, later: Period) -> i32 {
        (later.year - self.year) * 12 + later.month as i32 - self.month as i32
    }

    pub fn contains(self, date: NaiveDate) -> bool {
        Period::of(date) == self
    }

    /// «ноябрь 2026».
    pub fn russian(self) -> String {
        format!("{} {}", RUSSIAN_MONTHS[self.month as usize - 1], self.year)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Period {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Period::parse(s)
    }
}

impl TryFrom<String> for Period {
    type Error = PeriodError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Period::parse(&s)
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let p = Period::parse("2026-03").unwrap();
        assert_eq!(p.to_string(), "2026-03");
        assert_eq!(Period::parse("03.2026").unwrap(), p);
        assert_eq!(Period::parse(" 2026.3 ").unwrap(), p);
        assert!(Period::parse("2026-13").is_err());
        assert!(Period::parse("март").is_err());
        assert!(Period::parse("").is_err());
    }

    #[test]
    fn walks_months() {
        let dec = Period::new(2025, 12).unwrap();
        assert_eq!(dec.next(), Period::new(2026, 1).unwrap());
        assert_eq!(dec.next().prev(), dec);
        assert_eq!(dec.months_until(Period::new(2026, 3).unwrap()), 3);
        assert_eq!(Period::new(2024, 2).unwrap().last_day(), NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
        assert_eq!(dec.russian(), "декабрь 2025");
        assert!(Period::new(2026, 1).unwrap() > dec);
    }
}
