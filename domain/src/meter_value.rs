//! Meter values as exact fixed-point numbers: thousandths of a unit (litres for water, watt-hours
//! for electricity). Stored as integers, so they sum and compare exactly in SQL and in Rust.

use std::fmt;
use std::ops::Sub;

use serde::{Deserialize, Serialize};

/// A meter register's value in thousandths of a unit (`123,45` is `MeterValue(123_450)`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "sea-orm", derive(sea_orm::DeriveValueType))]
#[serde(transparent)]
pub struct MeterValue(pub i64);

/// Why a typed reading is not a meter value. Messages go straight to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MeterValueError {
    #[error("Показание не указано. Пришлите число с табло счётчика, например 12345,6.")]
    Empty,
    #[error("«{0}» — не число. Пришлите только цифры с табло счётчика, например 12345,6.")]
    NotANumber(String),
    #[error("Показание не может быть отрицательным.")]
    Negative,
    #[error("Не больше трёх знаков после запятой.")]
    TooManyDecimals,
    #[error("Слишком большое число: на счётчике не бывает больше {MAX_WHOLE_DIGITS} цифр до запятой.")]
    TooLarge,
}

/// No household meter has more than nine digits before the decimal mark.
pub(crate) const MAX_WHOLE_DIGITS: usize = 9;
const SCALE: i64 = 1000;

impl MeterValue {
    pub const ZERO: MeterValue = MeterValue(0);

    /// Parses a value as people type it: `12345`, `12 345,6`, `12345.678`, `00123`.
    pub fn parse(input: &str) -> Result<MeterValue, MeterValueError> {
        let trimmed = input.trim();
        let cleaned: String = trimmed.chars().filter(|c| !c.is_whitespace() && *c != '\'').collect();
        if cleaned.is_empty() {
            return Err(MeterValueError::Empty);
        }
        let not_a_number = || MeterValueError::NotANumber(trimmed.chars().take(40).collect());
        let unsigned = match cleaned.strip_prefix('-') {
            Some(rest) if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == ',' || c == '.') => {
                return Err(MeterValueError::Negative);
            }
            Some(_) => return Err(not_a_number()),
            None => cleaned.strip_prefix('+').unwrap_or(&cleaned),
        };
        let (whole, frac) = unsigned.split_once([',', '.']).unwrap_or((unsigned, ""));
        let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if (whole.is_empty() && frac.is_empty()) || !all_digits(whole) || !all_digits(frac) {
            return Err(not_a_number());
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > 3 {
            return Err(MeterValueError::TooManyDecimals);
        }
        let whole = whole.trim_start_matches('0');
        if whole.len() > MAX_WHOLE_DIGITS {
            return Err(MeterValueError::TooLarge);
        }
        let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| not_a_number())? };
        let frac: i64 = format!("{frac:0<3}").parse().map_err(|_| not_a_number())?;
        Ok(MeterValue(whole * SCALE + frac))
    }

    pub fn from_whole(units: i64) -> MeterValue {
        MeterValue(units * SCALE)
    }

    pub fn thousandths(self) -> i64 {
        self.0
    }

    /// The value for spreadsheet cells; never compute with it.
    pub fn as_units_for_display(self) -> f64 {
        self.0 as f64 / SCALE as f64
    }
}

impl Sub for MeterValue {
    type Output = MeterValue;
    fn sub(self, rhs: MeterValue) -> MeterValue {
        MeterValue(self.0 - rhs.0)
    }
}

impl fmt::Display for MeterValue {
    /// `12345`, `12345,6`, `0,125`: a comma and no trailing zeros, as printed on Russian receipts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let (whole, frac) = (abs / SCALE as u64, abs % SCALE as u64);
        if frac == 0 {
            write!(f, "{sign}{whole}")
        } else {
            let frac = format!("{frac:03}");
            write!(f, "{sign}{whole},{}", frac.trim_end_matches('0'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_russian_and_english_decimals() {
        for (input, value) in [
            ("123,45", 123_450),
            ("123.45", 123_450),
            (" 12 345,6 ", 12_345_600),
            ("00123", 123_000),
            ("0,125", 125),
            ("7,", 7_000),
            ("12345,6000", 12_345_600),
            ("+5", 5_000),
            ("1\u{a0}234", 1_234_000),
        ] {
            assert_eq!(MeterValue::parse(input), Ok(MeterValue(value)), "{input}");
        }
    }

    #[test]
    fn refuses_bad_input_with_a_reason() {
        assert_eq!(MeterValue::parse(""), Err(MeterValueError::Empty));
        assert_eq!(MeterValue::parse("-5"), Err(MeterValueError::Negative));
        assert_eq!(MeterValue::parse("-5,5"), Err(MeterValueError::Negative));
        assert_eq!(MeterValue::parse("1,2345"), Err(MeterValueError::TooManyDecimals));
        assert_eq!(MeterValue::parse("1234567890"), Err(MeterValueError::TooLarge));
        for junk in ["abc", "12a", "1,2,3", "1e6", "--1", "-", ",", "١٢٣", "NaN", "12-3"] {
            assert!(matches!(MeterValue::parse(junk), Err(MeterValueError::NotANumber(_))), "{junk}");
        }
    }

    #[test]
    fn prints_like_a_receipt() {
        assert_eq!(MeterValue(123_450).to_string(), "123,45");
        assert_eq!(MeterValue(5_000).to_string(), "5");
        assert_eq!(MeterValue(125).to_string(), "0,125");
        assert_eq!((MeterValue(1000) - MeterValue(2500)).to_string(), "-1,5");
    }
}
