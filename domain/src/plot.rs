//! Plot numbers as written on the cooperative's map: `12`, `12А`, `7/2`.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "sea-orm", derive(sea_orm::DeriveValueType))]
#[serde(transparent)]
pub struct PlotNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlotNumberError {
    #[error("Номер участка не указан.")]
    Empty,
    #[error("«{0}» — не номер участка. Пример: 12, 12А или 7/2.")]
    Invalid(String),
}

impl PlotNumber {
    /// Trims, upper-cases letters and accepts digits, letters, `-` and `/` (up to 16 characters).
    pub fn parse(input: &str) -> Result<PlotNumber, PlotNumberError> {
        let s = input.trim().trim_start_matches('№').trim();
        if s.is_empty() {
            return Err(PlotNumberError::Empty);
        }
        let valid = s.chars().count() <= 16
            && s.chars().next().is_some_and(|c| c.is_alphanumeric())
            && s.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '/');
        if !valid {
            return Err(PlotNumberError::Invalid(input.trim().chars().take(40).collect()));
        }
        Ok(PlotNumber(s.to_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Orders plots as on the map (`2` before `10`, `12` before `12А`), which is the walking route.
    pub fn route_order(a: &str, b: &str) -> Ordering {
        // Borrowed, not collected: the monthly report sorts every contract with this, and built
        // strings cost up to four allocations a comparison.
        fn split(s: &str) -> (u64, &str) {
            let digits = s.bytes().take_while(u8::is_ascii_digit).count();
            (s[..digits].parse().unwrap_or(u64::MAX), &s[digits..])
        }
        split(a).cmp(&split(b)).then_with(|| a.cmp(b))
    }
}

impl fmt::Display for PlotNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plot_numbers() {
        assert_eq!(PlotNumber::parse(" №12а ").unwrap().as_str(), "12А");
        assert_eq!(PlotNumber::parse("7/2").unwrap().as_str(), "7/2");
        assert_eq!(PlotNumber::parse(""), Err(PlotNumberError::Empty));
        assert!(PlotNumber::parse("1; DROP TABLE plots").is_err());
        assert!(PlotNumber::parse("/1").is_err());
    }

    #[test]
    fn sorts_in_route_order() {
        let mut plots = vec!["10", "2", "12А", "12", "1", "Б"];
        plots.sort_by(|a, b| PlotNumber::route_order(a, b));
        assert_eq!(plots, ["1", "2", "10", "12", "12А", "Б"]);
        // Leading zeros count as the number, then the text decides; no number (or one too long
        // to read, or in other digits) comes after every number.
        let mut plots = vec!["", "١٢", "99999999999999999999", "7", "007", "8"];
        plots.sort_by(|a, b| PlotNumber::route_order(a, b));
        assert_eq!(plots, ["007", "7", "8", "", "99999999999999999999", "١٢"]);
    }
}
