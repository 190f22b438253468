//! Meter values as exact fixed-point numbers: thousandths of a unit (litres for water, watt-hours
//! for electricity). Stored as integers, so they sum and compare exactly in SQL and in Rust.
//!
//! Every value is built by one bounded constructor, [`MeterValue::new`], so it lies between zero
//! and [`MeterValue::MAX`]; arithmetic is checked. Literal values in code are written with
//! [`meter_value!`](crate::meter_value!), checked when compiling.

use std::fmt;
use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};

use crate::Zone;

/// A meter register's value in thousandths of a unit (`123,45` is 123 450), from zero to
/// [`MeterValue::MAX`]. Consumption (a difference of values) is a `MeterValue` too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct MeterValue(i64);

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

/// A value below zero or above [`MeterValue::MAX`]: a number from outside, a database row, or
/// the result of arithmetic. Carries the offending value (in thousandths) for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("показание {thousandths} тысячных единицы вне допустимых пределов (от 0 до {})", MeterValue::MAX.0)]
pub struct ValueOutOfRange {
    pub thousandths: i128,
}

impl From<ValueOutOfRange> for MeterValueError {
    fn from(e: ValueOutOfRange) -> Self {
        if e.thousandths < 0 { MeterValueError::Negative } else { MeterValueError::TooLarge }
    }
}

/// No household meter has more than nine digits before the decimal mark.
pub(crate) const MAX_WHOLE_DIGITS: usize = 9;
const SCALE: i64 = 1000;

impl MeterValue {
    pub const ZERO: MeterValue = MeterValue(0);

    /// 10⁹ units: the value at which the largest display (nine whole digits) wraps to zero.
    /// Typed values stay below it; a rollover closes a record exactly at it.
    pub const MAX: MeterValue = MeterValue(1_000_000_000 * SCALE);

    /// The one constructor: `thousandths` if it is from zero to [`MeterValue::MAX`].
    pub const fn new(thousandths: i64) -> Result<MeterValue, ValueOutOfRange> {
        if thousandths < 0 || thousandths > MeterValue::MAX.0 {
            Err(ValueOutOfRange { thousandths: thousandths as i128 })
        } else {
            Ok(MeterValue(thousandths))
        }
    }

    /// `units` whole units.
    pub const fn from_whole(units: i64) -> Result<MeterValue, ValueOutOfRange> {
        match units.checked_mul(SCALE) {
            Some(thousandths) => MeterValue::new(thousandths),
            None => Err(ValueOutOfRange { thousandths: units as i128 * SCALE as i128 }),
        }
    }

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
        // Nine digits and three decimals: below MAX, exact in i64.
        Ok(MeterValue::new(whole * SCALE + frac)?)
    }

    pub const fn thousandths(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, rhs: MeterValue) -> Result<MeterValue, ValueOutOfRange> {
        // Both are at most MAX, far below i64::MAX / 2: the i64 sum is exact.
        MeterValue::new(self.0 + rhs.0)
    }

    /// The consumption from `earlier` to `self`; an error when `earlier` is the larger.
    pub fn checked_sub(self, earlier: MeterValue) -> Result<MeterValue, ValueOutOfRange> {
        MeterValue::new(self.0 - earlier.0)
    }

    /// `self × times`, or [`MeterValue::MAX`] when that is more than any meter shows: for
    /// thresholds that consumption is compared with.
    pub fn saturating_times(self, times: u32) -> MeterValue {
        MeterValue(self.0.saturating_mul(i64::from(times)).min(MeterValue::MAX.0))
    }

    /// An equal share of `self` over `parts` (a monthly average), rounded down.
    pub fn share(self, parts: NonZeroU32) -> MeterValue {
        MeterValue(self.0 / i64::from(parts.get()))
    }

    /// The value for spreadsheet cells; never compute with it.
    pub fn as_units_for_display(self) -> f64 {
        self.0 as f64 / SCALE as f64
    }
}

/// A literal meter value in thousandths of a unit, checked against the bounds when compiling:
/// `meter_value!(12_500)` is 12,5.
#[macro_export]
macro_rules! meter_value {
    ($thousandths:expr) => {{
        const VALUE: $crate::MeterValue = match $crate::MeterValue::new($thousandths) {
            Ok(value) => value,
            Err(_) => panic!("a meter value below zero or beyond MeterValue::MAX"),
        };
        VALUE
    }};
}

impl TryFrom<i64> for MeterValue {
    type Error = ValueOutOfRange;
    fn try_from(thousandths: i64) -> Result<MeterValue, ValueOutOfRange> {
        MeterValue::new(thousandths)
    }
}

impl From<MeterValue> for i64 {
    fn from(value: MeterValue) -> i64 {
        value.0
    }
}

impl fmt::Display for MeterValue {
    /// `12345`, `12345,6`, `0,125`: a comma and no trailing zeros, as printed on Russian receipts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, frac) = (self.0 / SCALE, self.0 % SCALE);
        if frac == 0 {
            write!(f, "{whole}")
        } else {
            let frac = format!("{frac:03}");
            write!(f, "{whole},{}", frac.trim_end_matches('0'))
        }
    }
}

/// A signed change of consumption in thousandths of a unit, as a recalculation line carries it:
/// the difference of two consumptions, so between −[`MeterValue::MAX`] and [`MeterValue::MAX`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConsumptionChange(i64);

impl ConsumptionChange {
    /// From `before` to `after`; exact, as both lie within the bounds.
    pub const fn between(after: MeterValue, before: MeterValue) -> ConsumptionChange {
        ConsumptionChange(after.0 - before.0)
    }

    /// A difference already computed elsewhere (a network's losses), if within the bounds.
    pub const fn from_thousandths(thousandths: i64) -> Option<ConsumptionChange> {
        if thousandths.unsigned_abs() <= MeterValue::MAX.0.unsigned_abs() {
            Some(ConsumptionChange(thousandths))
        } else {
            None
        }
    }

    pub const fn thousandths(self) -> i64 {
        self.0
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl From<ConsumptionChange> for i64 {
    fn from(change: ConsumptionChange) -> i64 {
        change.0
    }
}

impl fmt::Display for ConsumptionChange {
    /// `-3`, `12,5`: like a [`MeterValue`], with a minus sign when the consumption went down.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        write!(f, "{sign}{}", MeterValue(self.0.abs()))
    }
}

/// A meter's values as people say them: «1100,5» for a single register, «день 1100, ночь 550» for
/// two. The one formatter for the bot, the panel and the mobile form.
pub fn values_text(zones: &[Zone], values: &[MeterValue]) -> String {
    match (zones, values) {
        ([Zone::Single], [value]) => value.to_string(),
        _ => {
            let parts: Vec<String> = zones
                .iter()
                .zip(values)
                .map(|(zone, value)| format!("{} {value}", zone.label().to_lowercase()))
                .collect();
            parts.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_read_as_people_say_them() {
        assert_eq!(values_text(&[Zone::Single], &[crate::meter_value!(112_500)]), "112,5");
        let (day, night) = (crate::meter_value!(1_100_000), crate::meter_value!(550_000));
        assert_eq!(values_text(&[Zone::Day, Zone::Night], &[day, night]), "день 1100, ночь 550");
    }

    use super::*;

    fn m(thousandths: i64) -> MeterValue {
        MeterValue::new(thousandths).unwrap()
    }

    #[test]
    fn the_constructor_holds_the_bounds() {
        assert_eq!(MeterValue::new(0), Ok(MeterValue::ZERO));
        assert_eq!(MeterValue::new(1_000_000_000_000), Ok(MeterValue::MAX));
        for beyond in [-1, 1_000_000_000_001, i64::MAX, i64::MIN] {
            assert_eq!(MeterValue::new(beyond), Err(ValueOutOfRange { thousandths: beyond.into() }), "{beyond}");
        }
        assert_eq!(MeterValue::from_whole(1_000_000_000), Ok(MeterValue::MAX));
        assert!(MeterValue::from_whole(1_000_000_001).is_err());
        assert!(MeterValue::from_whole(i64::MAX).is_err());
        assert!(MeterValue::from_whole(-1).is_err());
        assert_eq!(meter_value!(12_500), m(12_500));
        assert_eq!(serde_json::from_str::<MeterValue>("-1").ok(), None);
        assert_eq!(MeterValueError::from(ValueOutOfRange { thousandths: -1 }), MeterValueError::Negative);
    }

    #[test]
    fn arithmetic_is_checked() {
        assert_eq!(m(2_500).checked_sub(m(1_000)), Ok(m(1_500)));
        assert_eq!(m(1_000).checked_sub(m(2_500)), Err(ValueOutOfRange { thousandths: -1_500 }));
        assert_eq!(MeterValue::MAX.checked_add(MeterValue::ZERO), Ok(MeterValue::MAX));
        assert!(MeterValue::MAX.checked_add(m(1)).is_err());
        assert_eq!(m(300_000).saturating_times(3), m(900_000));
        assert_eq!(MeterValue::MAX.saturating_times(u32::MAX), MeterValue::MAX);
        assert_eq!(m(1_000).share(NonZeroU32::new(3).unwrap()), m(333));
    }

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
            ("999999999,999", 999_999_999_999),
        ] {
            assert_eq!(MeterValue::parse(input), Ok(m(value)), "{input}");
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
        assert_eq!(m(123_450).to_string(), "123,45");
        assert_eq!(m(5_000).to_string(), "5");
        assert_eq!(m(125).to_string(), "0,125");
        assert_eq!(MeterValue::MAX.to_string(), "1000000000");
    }

    #[test]
    fn a_change_of_consumption_is_signed_and_exact() {
        assert_eq!(ConsumptionChange::between(m(12_000), m(15_000)).thousandths(), -3_000);
        assert_eq!(ConsumptionChange::between(MeterValue::ZERO, MeterValue::MAX).thousandths(), -MeterValue::MAX.0);
        assert_eq!(ConsumptionChange::between(m(12_500), MeterValue::ZERO).to_string(), "12,5");
        assert_eq!(ConsumptionChange::between(m(0), m(125)).to_string(), "-0,125");
        assert!(ConsumptionChange::between(m(7), m(7)).is_zero());
    }
}
