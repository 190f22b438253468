//! Money as a whole number of kopecks. There is no float anywhere on the way from input to ledger.
//!
//! Every amount is built by one bounded constructor, [`Kopecks::new`] (parsing, the API, a
//! database row and a sum all go through it), so no amount is ever beyond ±[`Kopecks::MAX`].
//! Arithmetic is checked: [`Kopecks::checked_add`], [`Kopecks::checked_sub`] and
//! [`Kopecks::try_sum`] return [`AmountOutOfRange`] instead of wrapping or going past the bound.
//! Literal amounts in code are written with [`kopecks!`](crate::kopecks), checked when compiling.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An amount of money in kopecks (1/100 ruble), within ±[`Kopecks::MAX`]. Negative amounts are
/// credits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Kopecks(i64);

/// Why a typed amount was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("Сумма не указана.")]
    Empty,
    #[error("«{0}» — не сумма. Пример: 1 234,56")]
    NotANumber(String),
    #[error("В сумме не больше двух знаков после запятой (копейки).")]
    TooManyDecimals,
    #[error("Сумма слишком велика: по модулю не больше {}.", Kopecks::MAX)]
    TooLarge,
    #[error("Сумма должна быть больше нуля.")]
    NotPositive,
    #[error("Платёж не может быть больше {}.", Kopecks::PAYMENT_MAX)]
    PaymentTooLarge,
    #[error("Цена должна быть больше нуля.")]
    PriceNotPositive,
    #[error("Цена не может быть больше {} за единицу.", Kopecks::PRICE_MAX)]
    PriceTooLarge,
    #[error("Сальдо по модулю не может быть больше {}.", Kopecks::PAYMENT_MAX)]
    BalanceTooLarge,
    #[error("Порог долга не может быть меньше нуля (0 — любой долг).")]
    ThresholdNegative,
    #[error("Порог долга не может быть больше {}.", Kopecks::PAYMENT_MAX)]
    ThresholdTooLarge,
}

/// An amount beyond ±[`Kopecks::MAX`]: a number from outside, a database row, or the result of
/// arithmetic. Carries the offending value for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("сумма {kopecks} коп. вне допустимых пределов (по модулю не больше {} коп.)", Kopecks::MAX.0)]
pub struct AmountOutOfRange {
    pub kopecks: i128,
}

impl From<AmountOutOfRange> for MoneyError {
    fn from(_: AmountOutOfRange) -> Self {
        MoneyError::TooLarge
    }
}

impl Kopecks {
    pub const ZERO: Kopecks = Kopecks(0);

    /// A trillion rubles, the bound of every amount and every total, positive or negative. No
    /// amount of a cooperative comes near it, nor do the totals of a large one over a century
    /// (10 000 plots paying 100 000 ₽ a year for 100 years is 10¹¹ ₽, a tenth of it). It is 1/92 233
    /// of `i64::MAX`, so two bounded amounts add up without overflowing before the result is
    /// checked, and an SQL sum of thousands of bounded rows stays exact.
    pub const MAX: Kopecks = Kopecks(100_000_000_000_000);

    /// The largest payment: ten million rubles, some hundred times a plot's yearly bill. Also
    /// the largest balance, either way, carried over at go-live.
    pub const PAYMENT_MAX: Kopecks = Kopecks(1_000_000_000);

    /// The largest price per unit (m³ or kWh): ten thousand rubles, some hundred times a real
    /// tariff.
    pub const PRICE_MAX: Kopecks = Kopecks(1_000_000);

    /// The one constructor: `kopecks` if it is within ±[`Kopecks::MAX`].
    pub const fn new(kopecks: i64) -> Result<Kopecks, AmountOutOfRange> {
        if kopecks.unsigned_abs() > Kopecks::MAX.0.unsigned_abs() {
            Err(AmountOutOfRange { kopecks: kopecks as i128 })
        } else {
            Ok(Kopecks(kopecks))
        }
    }

    /// A result of exact arithmetic in `i128`, if it is within the bound.
    pub(crate) fn from_i128(kopecks: i128) -> Result<Kopecks, AmountOutOfRange> {
        i64::try_from(kopecks).map_err(|_| AmountOutOfRange { kopecks }).and_then(Kopecks::new)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

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
        let not_a_number = || MoneyError::NotANumber(input.trim().chars().take(40).collect());
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
        let total = rubles.checked_mul(100).and_then(|r| r.checked_add(kopecks)).ok_or(MoneyError::TooLarge)?;
        Ok(Kopecks::new(if negative { -total } else { total })?)
    }

    /// Like [`Kopecks::parse_rubles`], for payments (see [`Kopecks::payment`]).
    pub fn parse_payment(input: &str) -> Result<Kopecks, MoneyError> {
        Self::parse_rubles(input)?.payment()
    }

    /// The amount as a payment: above zero and at most [`Kopecks::PAYMENT_MAX`].
    pub fn payment(self) -> Result<Kopecks, MoneyError> {
        match self {
            _ if !self.is_positive() => Err(MoneyError::NotPositive),
            _ if self > Kopecks::PAYMENT_MAX => Err(MoneyError::PaymentTooLarge),
            _ => Ok(self),
        }
    }

    /// The amount as a price per unit: above zero and at most [`Kopecks::PRICE_MAX`].
    pub fn price(self) -> Result<Kopecks, MoneyError> {
        match self {
            _ if !self.is_positive() => Err(MoneyError::PriceNotPositive),
            _ if self > Kopecks::PRICE_MAX => Err(MoneyError::PriceTooLarge),
            _ => Ok(self),
        }
    }

    /// The amount as a balance carried over at go-live (a debt, or a credit when negative): at
    /// most [`Kopecks::PAYMENT_MAX`] either way.
    pub fn carried_balance(self) -> Result<Kopecks, MoneyError> {
        if self.0.unsigned_abs() > Kopecks::PAYMENT_MAX.0.unsigned_abs() {
            return Err(MoneyError::BalanceTooLarge);
        }
        Ok(self)
    }

    /// The amount as a debt threshold («долг больше …»): zero, meaning any debt, or more, at most
    /// [`Kopecks::PAYMENT_MAX`] (no debt a threshold would pick out is larger).
    pub fn debt_threshold(self) -> Result<Kopecks, MoneyError> {
        match self {
            _ if self.is_negative() => Err(MoneyError::ThresholdNegative),
            _ if self > Kopecks::PAYMENT_MAX => Err(MoneyError::ThresholdTooLarge),
            _ => Ok(self),
        }
    }

    pub fn checked_add(self, rhs: Kopecks) -> Result<Kopecks, AmountOutOfRange> {
        // Both are within ±MAX, far below i64::MAX / 2: the i64 sum is exact.
        Kopecks::new(self.0 + rhs.0)
    }

    pub fn checked_sub(self, rhs: Kopecks) -> Result<Kopecks, AmountOutOfRange> {
        Kopecks::new(self.0 - rhs.0)
    }

    /// The sum of `amounts`, or the first partial sum beyond the bound.
    pub fn try_sum(amounts: impl IntoIterator<Item = Kopecks>) -> Result<Kopecks, AmountOutOfRange> {
        amounts.into_iter().try_fold(Kopecks::ZERO, Kopecks::checked_add)
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

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }
}

/// A literal amount in kopecks, checked against the bound when compiling: `kopecks!(250_00)` is
/// 250,00 ₽, and `kopecks!(i64::MAX)` does not compile.
#[macro_export]
macro_rules! kopecks {
    ($kopecks:expr) => {{
        const AMOUNT: $crate::Kopecks = match $crate::Kopecks::new($kopecks) {
            Ok(amount) => amount,
            Err(_) => panic!("an amount beyond Kopecks::MAX"),
        };
        AMOUNT
    }};
}

impl TryFrom<i64> for Kopecks {
    type Error = AmountOutOfRange;
    fn try_from(kopecks: i64) -> Result<Kopecks, AmountOutOfRange> {
        Kopecks::new(kopecks)
    }
}

impl From<Kopecks> for i64 {
    fn from(amount: Kopecks) -> i64 {
        amount.0
    }
}

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

impl std::ops::Neg for Kopecks {
    type Output = Kopecks;
    /// Exact: the bound is symmetric.
    fn neg(self) -> Kopecks {
        Kopecks(-self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(kopecks: i64) -> Kopecks {
        Kopecks::new(kopecks).unwrap()
    }

    #[test]
    fn the_constructor_holds_the_bound() {
        let max = Kopecks::MAX.get();
        assert_eq!(Kopecks::new(max).map(Kopecks::get), Ok(max));
        assert_eq!(Kopecks::new(-max).map(Kopecks::get), Ok(-max));
        assert_eq!(Kopecks::new(0), Ok(Kopecks::ZERO));
        for beyond in [max + 1, -max - 1, i64::MAX, i64::MIN, 5_000_000_000_000_000_000] {
            assert_eq!(Kopecks::new(beyond), Err(AmountOutOfRange { kopecks: beyond.into() }), "{beyond}");
            assert_eq!(Kopecks::try_from(beyond), Err(AmountOutOfRange { kopecks: beyond.into() }));
        }
        assert_eq!(kopecks!(250_00), k(25_000));
        assert_eq!(kopecks!(-100_000_000_000_000), -Kopecks::MAX);
    }

    #[test]
    fn arithmetic_is_checked_not_wrapped() {
        assert_eq!(k(10).checked_add(k(20)), Ok(k(30)));
        assert_eq!(k(10).checked_sub(k(25)), Ok(k(-15)));
        assert_eq!(Kopecks::MAX.checked_add(Kopecks::ZERO), Ok(Kopecks::MAX));
        let over = i128::from(Kopecks::MAX.get()) + 1;
        assert_eq!(Kopecks::MAX.checked_add(k(1)), Err(AmountOutOfRange { kopecks: over }));
        assert_eq!((-Kopecks::MAX).checked_sub(k(1)), Err(AmountOutOfRange { kopecks: -over }));
        assert_eq!(Kopecks::MAX.checked_sub(-Kopecks::MAX).map_err(|e| e.kopecks), Err(2 * (over - 1)));
        assert_eq!(Kopecks::try_sum([k(10), k(20), -k(5)]), Ok(k(25)));
        assert_eq!(Kopecks::try_sum([]), Ok(Kopecks::ZERO));
        // The attack that wrapped: two amounts of 5·10¹⁸ cannot even be built, and a sum of bounded
        // amounts past the bound stops there instead of wrapping.
        assert!(Kopecks::new(5_000_000_000_000_000_000).is_err());
        assert!(Kopecks::try_sum([Kopecks::MAX, Kopecks::MAX, -Kopecks::MAX]).is_err());
    }

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
            ("1000000000000", 100_000_000_000_000),
        ] {
            assert_eq!(Kopecks::parse_rubles(input), Ok(k(kopecks)), "{input}");
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
        assert_eq!(Kopecks::parse_rubles("1000000000000,01"), Err(MoneyError::TooLarge));
        assert_eq!(Kopecks::parse_rubles("-1000000000000,01"), Err(MoneyError::TooLarge));
        assert_eq!(Kopecks::parse_payment("0"), Err(MoneyError::NotPositive));
        assert_eq!(Kopecks::parse_payment("-5"), Err(MoneyError::NotPositive));
    }

    #[test]
    fn each_purpose_has_its_ceiling() {
        assert_eq!(Kopecks::parse_payment("10 000 000"), Ok(Kopecks::PAYMENT_MAX));
        assert_eq!(Kopecks::parse_payment("10 000 000,01"), Err(MoneyError::PaymentTooLarge));
        assert_eq!(k(1).payment(), Ok(k(1)));
        assert_eq!(Kopecks::PRICE_MAX.price(), Ok(Kopecks::PRICE_MAX));
        assert_eq!(k(1_000_001).price(), Err(MoneyError::PriceTooLarge));
        assert_eq!(Kopecks::parse_rubles("999 999 999 999").unwrap().price(), Err(MoneyError::PriceTooLarge));
        assert_eq!(Kopecks::ZERO.price(), Err(MoneyError::PriceNotPositive));
        assert_eq!((-Kopecks::PAYMENT_MAX).carried_balance(), Ok(-Kopecks::PAYMENT_MAX));
        assert_eq!(k(-1_000_000_001).carried_balance(), Err(MoneyError::BalanceTooLarge));
        assert_eq!(Kopecks::ZERO.debt_threshold(), Ok(Kopecks::ZERO), "«долг больше 0»: any debt");
        assert_eq!(Kopecks::PAYMENT_MAX.debt_threshold(), Ok(Kopecks::PAYMENT_MAX));
        assert_eq!(k(-1).debt_threshold(), Err(MoneyError::ThresholdNegative));
        assert_eq!(k(1_000_000_001).debt_threshold(), Err(MoneyError::ThresholdTooLarge));
        assert_eq!(MoneyError::PriceTooLarge.to_string(), "Цена не может быть больше 10\u{202f}000,00 ₽ за единицу.");
    }

    #[test]
    fn reads_json_through_the_constructor() {
        assert_eq!(serde_json::from_str::<Kopecks>("12345").ok(), Some(k(12_345)));
        assert!(serde_json::from_str::<Kopecks>("9223372036854775807").is_err());
        assert_eq!(serde_json::to_string(&k(-7)).unwrap(), "-7");
    }

    #[test]
    fn displays_in_russian_style() {
        assert_eq!(k(123_456_789).to_string(), "1\u{202f}234\u{202f}567,89 ₽");
        assert_eq!(k(-5).plain(), "-0,05");
        assert_eq!(k(100).plain(), "1,00");
        assert_eq!(k(-123_456).rubles_and_kopecks(), (-1234, -56));
    }
}
