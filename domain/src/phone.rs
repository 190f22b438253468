//! Phone numbers in E.164, so a contact shared in Telegram matches the number in the register.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A phone number in E.164 form (`+79123456789`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "sea-orm", derive(sea_orm::DeriveValueType))]
#[serde(transparent)]
pub struct Phone(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("«{0}» — не номер телефона. Пример: +7 912 345-67-89.")]
pub struct PhoneError(String);

impl Phone {
    /// Accepts international numbers with `+`, and Russian numbers written the local way:
    /// `8 912 345-67-89`, `7 (912) 3456789`, `9123456789`.
    pub fn parse(input: &str) -> Result<Phone, PhoneError> {
        let trimmed = input.trim();
        let err = || PhoneError(trimmed.chars().take(40).collect());
        if trimmed.chars().any(|c| !(c.is_ascii_digit() || " +-().\u{a0}".contains(c))) {
            return Err(err());
        }
        let plus = trimmed.starts_with('+');
        if trimmed.chars().skip(1).any(|c| c == '+') {
            return Err(err());
        }
        let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
        let e164 = match (plus, digits.len()) {
            (true, 8..=15) => digits,
            (false, 11) if digits.starts_with('8') || digits.starts_with('7') => format!("7{}", &digits[1..]),
            (false, 10) if digits.starts_with('9') => format!("7{digits}"),
            _ => return Err(err()),
        };
        Ok(Phone(format!("+{e164}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_russian_numbers() {
        for input in ["+7 912 345-67-89", "8 (912) 345-67-89", "79123456789", "9123456789", "+79123456789"] {
            assert_eq!(Phone::parse(input).unwrap().as_str(), "+79123456789", "{input}");
        }
        // Telegram shares contacts without the plus.
        assert_eq!(Phone::parse("380501234567").ok(), None);
        assert_eq!(Phone::parse("+380501234567").unwrap().as_str(), "+380501234567");
    }

    #[test]
    fn refuses_junk() {
        for input in ["", "12345", "+7 912 abc", "8 912 345 67 89 00", "<script>", "+7+912"] {
            assert!(Phone::parse(input).is_err(), "{input}");
        }
    }
}
