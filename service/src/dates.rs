//! Calendar dates as people give them in forms, spreadsheets and the API: the one place that
//! bounds them.

use chrono::{Datelike, NaiveDate};
use domain::Period;

/// Why a typed date was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("Дата не указана.")]
    Empty,
    #[error("«{0}» — не дата. Укажите дату в виде ДД.ММ.ГГГГ, например 15.03.2026.")]
    Invalid(String),
    #[error(
        "Дата {} вне допустимых пределов: год от {} до {}.",
        .0.format("%d.%m.%Y"), Period::YEARS.start(), Period::YEARS.end()
    )]
    OutOfRange(NaiveDate),
}

/// A date given by a person, if its year is one a billing period may have ([`Period::YEARS`]).
pub fn check(date: NaiveDate) -> Result<NaiveDate, DateError> {
    if Period::YEARS.contains(&date.year()) { Ok(date) } else { Err(DateError::OutOfRange(date)) }
}

/// Parses `15.03.2026`, `15.03.26`, `15/03/2026` and ISO `2026-03-15` (what date inputs send).
pub fn parse_date(input: &str) -> Result<NaiveDate, DateError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(DateError::Empty);
    }
    ["%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%d", "%d.%m.%y"]
        .iter()
        // `%Y` also takes a two-digit year (as 26 AD): such dates fall through to `%y`.
        .find_map(|format| NaiveDate::parse_from_str(s, format).ok().filter(|d| check(*d).is_ok()))
        .ok_or_else(|| DateError::Invalid(s.chars().take(40).collect()))
}

/// An optional date field: empty means none.
pub fn parse_optional_date(input: &str) -> Result<Option<NaiveDate>, DateError> {
    if input.trim().is_empty() { Ok(None) } else { parse_date(input).map(Some) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_russian_and_iso_dates() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        for input in ["05.03.2026", "5.3.2026", " 05/03/2026 ", "2026-03-05", "05.03.26"] {
            assert_eq!(parse_date(input), Ok(day), "{input}");
        }
        assert_eq!(parse_date(""), Err(DateError::Empty));
        for junk in ["31.02.2026", "март", "2026-13-01", "05.03.0026", "1; DROP TABLE"] {
            assert!(matches!(parse_date(junk), Err(DateError::Invalid(_))), "{junk}");
        }
        assert_eq!(parse_optional_date(" "), Ok(None));
    }

    #[test]
    fn dates_outside_the_billing_years_are_refused() {
        let first = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
        let last = NaiveDate::from_ymd_opt(2999, 12, 31).unwrap();
        assert_eq!((check(first), check(last)), (Ok(first), Ok(last)));
        for far in
            [NaiveDate::MIN, NaiveDate::from_ymd_opt(1, 1, 1).unwrap(), first.pred_opt().unwrap(), NaiveDate::MAX]
        {
            assert_eq!(check(far), Err(DateError::OutOfRange(far)));
        }
        assert_eq!(
            check(NaiveDate::from_ymd_opt(1, 1, 1).unwrap()).unwrap_err().to_string(),
            "Дата 01.01.0001 вне допустимых пределов: год от 2000 до 2999."
        );
    }
}
