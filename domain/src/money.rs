//! Money as a whole number of kopecks. There is no float anywhere on the way from input to ledger.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

use serde::{Deserialize, Serialize};

/// An amount of money in kopecks (1/100 ruble). Negative amounts are credits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "sea-orm", derive(sea_orm::DeriveValueType))]
#[serde(transparent)]
pub struct Kopecks(pub i64);

/// Why a typed amount was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("Сумма не указана.")]
    Empty,
    #[error("«{0}» — не сумма. Пример: 1 234,56")]
    NotANumber(String),
    #[error("В сумме не больше двух знаков после запятой (копейки).")]
    TooManyDecimals,
    #[error("Сумма слишком велика.")]
    TooLarge,
    #[error("Сумма должна быть больше нуля.")]
    NotPositive,
}

impl Kopecks {
    pub const ZERO: Kopecks = Kopecks(0);

    /// Parses rubles as people type them: `1234`, `1 234,5`, `1234.56`, `-10`, `1234,56 ₽`.
    pub fn parse_rubles(input: &str) -> Result<Kopecks, MoneyError> {
        let cleaned: String = input
            .trim()
            .trim_end_matches('₽')
            .trim_end_matches("руб.")
            .trim_end_matches("руб")
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '\'')
            .collect();
        if cleaned.is_empty() {
            return Err(MoneyError::Empty);
        }
        let not_a_number = || MoneyError::NotANumber(input.trim().to_owned());
        let (negative, digits) = match cleaned.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, cleaned.as_str()),
        };
        let (whole, frac) = match digits.split_once([',', '.']) {
            Some((w, f)) => (w, f),
            None => (digits, ""),
        };
        let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() && frac.is_empty() || !all_digits(whole) || !all_digits(frac) {
            return Err(not_a_number());
        }
        if frac.len() > 2 {
            return Err(MoneyError::TooManyDecimals);
        }
        let rubles: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| MoneyError::TooLarge)? };
        let kopecks: i64 = format!("{frac:0<2}").parse().map_err(|_| not_a_number())?;
        let total = rubles
            .checked_mul(100)
            .and_then(|r| r.checked_add(kopecks))
            .filter(|t| *t <= MAX_AMOUNT)
            .ok_or(MoneyError::TooLarge)?;
        Ok(Kopecks(if negative { -total } else { total }))
    }

    /// Like [`Kopecks::parse_rubles`], for payments: the amount must be above zero.
    pub fn parse_payment(input: &str) -> Result<Kopecks, MoneyError> {
        let amount = Self::parse_rubles(input)?;
        if amount.0 <= 0 {
            return Err(MoneyError::NotPositive);
        }
        Ok(amount)
    }

    /// Whole rubles and the kopeck remainder, both carrying the sign of the amount.
    pub fn rubles_and_kopecks(self) -> (i64, i64) {
        (self.0 / 100, self.0 % 100)
    }

    /// The amount in rubles for spreadsheet cells, which only hold floating point numbers. The
    /// value is the closest double to an exact two-decimal figure; never compute with it.
    pub fn as_rubles_for_display(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// `1 234,56` without the currency sign, for tables and forms.
    pub fn plain(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{},{:02}", group_thousands(abs / 100), abs % 100)
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }
}

/// A trillion rubles: far beyond any real payment, far below `i64::MAX`, so sums cannot overflow.
const MAX_AMOUNT: i64 = 100_000_000_000_000;

/// `1234567` → `1 234 567` (with a narrow no-break space, as Russian typography wants).
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for Kopecks {
    /// `1 234,56 ₽`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ₽", self.plain())
    }
}

impl Add for Kopecks {
    type Output = Kopecks;
    fn add(self, rhs: Kopecks) -> Kopecks {
        Kopecks(self.0 + rhs.0)
    }
}

impl AddAssign for Kopecks {
    fn add_assign(&mut self, rhs: Kopecks) {
        self.0 += rhs.0;
    }
}

impl Sub for Kopecks {
    type Output = Kopecks;
    fn sub(self, rhs: Kopecks) -> Kopecks {
        Kopecks(self.0 - rhs.0)
    }
}

impl SubAssign for Kopecks {
    fn sub_assign(&mut self, rhs: Kopecks) {
        self.0 -= rhs.0;
    }
}

impl Neg for Kopecks {
    type Output = Kopecks;
    fn neg(self) -> Kopecks {
        Kopecks(-self.0)
    }
}

impl Sum for Kopecks {
    fn sum<I: Iterator<Item = Kopecks>>(iter: I) -> Kopecks {
        iter.fold(Kopecks::ZERO, Add::add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_people_type() {
        for (input, kopecks) in [
            ("1234", 123_400),
            ("1 234,5", 123_450),
            ("1234.56", 123_456),
            ("0,07", 7),
            (",5", 50),
            ("12 345,67 ₽", 1_234_567),
            ("1\u{a0}000 руб.", 100_000),
            ("-10", -1000),
        ] {
            assert_eq!(Kopecks::parse_rubles(input), Ok(Kopecks(kopecks)), "{input}");
        }
    }

    #[test]
    fn refuses_what_is_not_money() {
        assert_eq!(Kopecks::parse_rubles("  "), Err(MoneyError::Empty));
        assert!(matches!(Kopecks::parse_rubles("сто"), Err(MoneyError::NotANumber(_))));
        assert!(matches!(Kopecks::parse_rubles("1,2,3"), Err(MoneyError::NotANumber(_))));
        assert!(matches!(Kopecks::parse_rubles("1e5"), Err(MoneyError::NotANumber(_))));
        assert_eq!(Kopecks::parse_rubles("1,234"), Err(MoneyError::TooManyDecimals));
        assert_eq!(Kopecks::parse_rubles("99999999999999999999"), Err(MoneyError::TooLarge));
        assert_eq!(Kopecks::parse_payment("0"), Err(MoneyError::NotPositive));
        assert_eq!(Kopecks::parse_payment("-5"), Err(MoneyError::NotPositive));
    }

    #[test]
    fn displays_in_russian_style() {
        assert_eq!(Kopecks(123_456_789).to_string(), "1\u{202f}234\u{202f}567,89 ₽");
        assert_eq!(Kopecks(-5).plain(), "-0,05");
        assert_eq!(Kopecks(100).plain(), "1,00");
        assert_eq!(Kopecks(-123_456).rubles_and_kopecks(), (-1234, -56));
    }

    #[test]
    fn sums_exactly() {
        let total: Kopecks = [Kopecks(10), Kopecks(20), -Kopecks(5)].into_iter().sum();
        assert_eq!(total, Kopecks(25));
    }
}
