//! The cooperative's bank details, as printed on a bill and put into the payment QR code.
//!
//! Every field is parsed, never taken raw: a mistyped digit in an account number would send the
//! members' money nowhere (or to someone else), so the control digits are checked here.

use std::fmt;

/// What a refused field was, named in every message so a form can put the message beside it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DetailsError {
    #[error("{field}: не указано.")]
    Empty { field: &'static str },
    #[error("{field}: не длиннее {max} символов.")]
    TooLong { field: &'static str, max: usize },
    #[error("{field}: нужно {expected} цифр, а введено «{got}».")]
    Digits { field: &'static str, expected: &'static str, got: String },
    #[error("ИНН {0}: не сходится контрольная цифра. Проверьте цифры.")]
    InnChecksum(String),
    #[error("КПП: девять знаков (цифры, в 5–6-м знаке могут быть латинские буквы), а введено «{0}».")]
    Kpp(String),
    #[error("{field} {account} не подходит к БИК {bic}: не сходится контрольный ключ. Проверьте цифры счёта и БИК.")]
    AccountKey { field: &'static str, account: String, bic: String },
    #[error("Корреспондентский счёт банка начинается с 30101, а введено «{0}».")]
    NotCorrespondent(String),
}

/// A field of the details form, for putting a refusal next to the input it is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Payee,
    Inn,
    Kpp,
    Account,
    BankName,
    Bic,
    CorrespondentAccount,
}

impl DetailsError {
    /// The field this refusal is about.
    pub fn field(&self) -> Field {
        match self {
            DetailsError::Empty { field }
            | DetailsError::TooLong { field, .. }
            | DetailsError::Digits { field, .. }
            | DetailsError::AccountKey { field, .. } => match *field {
                PAYEE => Field::Payee,
                INN => Field::Inn,
                KPP => Field::Kpp,
                ACCOUNT => Field::Account,
                BANK_NAME => Field::BankName,
                BIC => Field::Bic,
                _ => Field::CorrespondentAccount,
            },
            DetailsError::InnChecksum(_) => Field::Inn,
            DetailsError::Kpp(_) => Field::Kpp,
            DetailsError::NotCorrespondent(_) => Field::CorrespondentAccount,
        }
    }
}

const PAYEE: &str = "Получатель";
const BANK_NAME: &str = "Банк";
const INN: &str = "ИНН";
const KPP: &str = "КПП";
const BIC: &str = "БИК";
const ACCOUNT: &str = "Расчётный счёт";
const CORRESPONDENT: &str = "Корреспондентский счёт";

/// The longest payee name: the ГОСТ Р 56042-2014 limit of the QR field `Name`.
pub const PAYEE_MAX_CHARS: usize = 160;
/// The longest bank name: the ГОСТ Р 56042-2014 limit of the QR field `BankName`.
pub const BANK_NAME_MAX_CHARS: usize = 45;

/// The details as typed in the admin's form, before any check.
#[derive(Debug, Clone, Default)]
pub struct DetailsInput<'a> {
    pub payee: &'a str,
    pub inn: &'a str,
    pub kpp: &'a str,
    pub account: &'a str,
    pub bank_name: &'a str,
    pub bic: &'a str,
    pub correspondent_account: &'a str,
}

/// The cooperative's bank details, every field checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankDetails {
    payee: String,
    inn: Inn,
    kpp: Kpp,
    account: Account,
    bank_name: String,
    bic: Bic,
    correspondent_account: Account,
}

impl BankDetails {
    /// Checks every field and returns every refusal at once, so a form shows them all.
    pub fn parse(input: &DetailsInput<'_>) -> Result<BankDetails, Vec<DetailsError>> {
        let payee = bounded_name(PAYEE, input.payee, PAYEE_MAX_CHARS);
        let bank_name = bounded_name(BANK_NAME, input.bank_name, BANK_NAME_MAX_CHARS);
        let inn = Inn::parse(input.inn);
        let kpp = Kpp::parse(input.kpp);
        let bic = Bic::parse(input.bic);
        // The accounts are checked against the БИК only when it is itself well formed; otherwise
        // the БИК's own message is the one that helps.
        let account = Account::parse_settlement(input.account, bic.as_ref().ok());
        let correspondent_account = Account::parse_correspondent(input.correspondent_account, bic.as_ref().ok());
        match (payee, inn, kpp, account, bank_name, bic, correspondent_account) {
            (Ok(payee), Ok(inn), Ok(kpp), Ok(account), Ok(bank_name), Ok(bic), Ok(correspondent_account)) => {
                Ok(BankDetails { payee, inn, kpp, account, bank_name, bic, correspondent_account })
            }
            (payee, inn, kpp, account, bank_name, bic, correspondent_account) => Err([
                payee.err(),
                inn.err(),
                kpp.err(),
                account.err(),
                bank_name.err(),
                bic.err(),
                correspondent_account.err(),
            ]
            .into_iter()
            .flatten()
            .collect()),
        }
    }

    pub fn payee(&self) -> &str {
        &self.payee
    }

    pub fn inn(&self) -> &Inn {
        &self.inn
    }

    pub fn kpp(&self) -> &Kpp {
        &self.kpp
    }

    pub fn account(&self) -> &Account {
        &self.account
    }

    pub fn bank_name(&self) -> &str {
        &self.bank_name
    }

    pub fn bic(&self) -> &Bic {
        &self.bic
    }

    pub fn correspondent_account(&self) -> &Account {
        &self.correspondent_account
    }
}

/// A name trimmed, with runs of whitespace (line breaks included) made one space, and bounded.
fn bounded_name(field: &'static str, input: &str, max: usize) -> Result<String, DetailsError> {
    // A cheap byte bound first: no work is spent on a megabyte pasted into the field.
    if input.len() > max * 4 + 64 {
        return Err(DetailsError::TooLong { field, max });
    }
    let name = input.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err(DetailsError::Empty { field });
    }
    if name.chars().count() > max {
        return Err(DetailsError::TooLong { field, max });
    }
    Ok(name)
}

/// Exactly `len` ASCII digits after trimming (spaces inside are allowed: people group digits).
fn digits(field: &'static str, input: &str, len: &[usize], expected: &'static str) -> Result<String, DetailsError> {
    let shown = || input.trim().chars().take(40).collect::<String>();
    if input.len() > 80 {
        return Err(DetailsError::Digits { field, expected, got: shown() });
    }
    let value: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if value.is_empty() {
        return Err(DetailsError::Empty { field });
    }
    if !len.contains(&value.len()) || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DetailsError::Digits { field, expected, got: shown() });
    }
    Ok(value)
}

fn digit_values(s: &str) -> impl Iterator<Item = u32> + '_ {
    s.bytes().map(|b| u32::from(b - b'0'))
}

/// A bank identification code (БИК): nine digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bic(String);

impl Bic {
    pub fn parse(input: &str) -> Result<Bic, DetailsError> {
        digits(BIC, input, &[9], "9").map(Bic)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A taxpayer number (ИНН): 10 digits for an organisation, 12 for a person, with control digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Inn(String);

impl Inn {
    pub fn parse(input: &str) -> Result<Inn, DetailsError> {
        let value = digits(INN, input, &[10, 12], "10 (организация) или 12 (человек)")?;
        // The weights are the Federal Tax Service's (приказ ФНС России от 29.06.2012 № ММВ-7-6/435@):
        // each control digit is the weighted sum modulo 11, then modulo 10.
        let check = |weights: &[u32]| -> u32 {
            weights.iter().zip(digit_values(&value)).map(|(w, d)| w * d).sum::<u32>() % 11 % 10
        };
        let d: Vec<u32> = digit_values(&value).collect();
        let valid = match d.len() {
            10 => check(&[2, 4, 10, 3, 5, 9, 4, 6, 8]) == d[9],
            _ => {
                check(&[7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == d[10] && check(&[3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == d[11]
            }
        };
        if valid { Ok(Inn(value)) } else { Err(DetailsError::InnChecksum(value)) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tax registration reason code (КПП): four digits (the tax office), two characters (the
/// reason: digits, or since 2019 capital Latin letters) and three digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Kpp(String);

impl Kpp {
    pub fn parse(input: &str) -> Result<Kpp, DetailsError> {
        let value = input.trim();
        if value.is_empty() {
            return Err(DetailsError::Empty { field: KPP });
        }
        let b = value.as_bytes();
        let valid = b.len() == 9
            && b[..4].iter().all(u8::is_ascii_digit)
            && b[4..6].iter().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
            && b[6..].iter().all(u8::is_ascii_digit);
        if valid { Ok(Kpp(value.to_owned())) } else { Err(DetailsError::Kpp(value.chars().take(40).collect())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A 20-digit bank account number whose control key has been checked against its bank's БИК.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Account(String);

impl Account {
    /// A client's account (расчётный счёт) at the bank with this БИК.
    pub fn parse_settlement(input: &str, bic: Option<&Bic>) -> Result<Account, DetailsError> {
        Self::parse_keyed(ACCOUNT, input, bic, settlement_prefix)
    }

    /// The bank's correspondent account at the Bank of Russia: it starts with 30101.
    pub fn parse_correspondent(input: &str, bic: Option<&Bic>) -> Result<Account, DetailsError> {
        let account = Self::parse_keyed(CORRESPONDENT, input, bic, bank_of_russia_prefix)?;
        if account.0.starts_with("30101") { Ok(account) } else { Err(DetailsError::NotCorrespondent(account.0)) }
    }

    fn parse_keyed(
        field: &'static str,
        input: &str,
        bic: Option<&Bic>,
        prefix: fn(&Bic) -> String,
    ) -> Result<Account, DetailsError> {
        let value = digits(field, input, &[20], "20")?;
        match bic {
            Some(bic) if !key_matches(&prefix(bic), &value) => {
                Err(DetailsError::AccountKey { field, account: value, bic: bic.0.clone() })
            }
            _ => Ok(Account(value)),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// The control key («ключ счёта») follows «Порядок расчёта контрольного ключа в номере лицевого
// счёта» (утв. Банком России 08.09.1997 № 515): the account's 20 digits are preceded by a
// three-digit conditional number — for an account opened in a credit organisation, digits 7–9 of
// its БИК; for an account opened in a unit of the Bank of Russia (РКЦ), «0» and digits 5–6 of the
// БИК. A bank's correspondent account (30101…) is opened at the Bank of Russia, so it always takes
// the second form. Each of the 23 digits is multiplied by the weights 7, 1, 3 repeated; the account
// is right when the sum of the products' last digits ends in 0 (the key, digit 9, is chosen so).

/// The conditional number of an account opened at a bank; a Bank of Russia unit's БИК ends in
/// 000–002, and accounts there take that unit's number instead.
fn settlement_prefix(bic: &Bic) -> String {
    if matches!(&bic.0[6..], "000" | "001" | "002") { bank_of_russia_prefix(bic) } else { bic.0[6..].to_owned() }
}

fn bank_of_russia_prefix(bic: &Bic) -> String {
    format!("0{}", &bic.0[4..6])
}

fn key_matches(prefix: &str, account: &str) -> bool {
    let sum: u32 = digit_values(prefix)
        .chain(digit_values(account))
        .zip([7, 1, 3].into_iter().cycle())
        .map(|(d, w)| d * w % 10)
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real published details: ПАО Сбербанк (БИК, correspondent account, ИНН, КПП) and the
    /// account of the charity fund «Подари жизнь» opened there.
    const SBER: DetailsInput<'static> = DetailsInput {
        payee: "Благотворительный фонд «Подари жизнь»",
        inn: "7707083893",
        kpp: "773601001",
        account: "40703810038000110117",
        bank_name: "ПАО СБЕРБАНК",
        bic: "044525225",
        correspondent_account: "30101810400000000225",
    };

    /// Changes the digit at `index` to the next one (9 → 0).
    fn one_digit_changed(s: &str, index: usize) -> String {
        s.char_indices()
            .map(
                |(i, c)| if i == index { char::from_digit((c.to_digit(10).unwrap() + 1) % 10, 10).unwrap() } else { c },
            )
            .collect()
    }

    #[test]
    fn accepts_real_published_details() {
        let details = BankDetails::parse(&SBER).unwrap();
        assert_eq!(details.bic().as_str(), "044525225");
        assert_eq!(details.account().as_str(), "40703810038000110117");
        assert_eq!(details.correspondent_account().as_str(), "30101810400000000225");
        assert_eq!(details.inn().as_str(), "7707083893");
        assert_eq!(details.kpp().as_str(), "773601001");
    }

    #[test]
    fn checks_correspondent_accounts_of_real_banks() {
        for (bic, correspondent) in [
            ("044525225", "30101810400000000225"), // Сбербанк
            ("044525187", "30101810700000000187"), // ВТБ
            ("044525593", "30101810200000000593"), // Альфа-Банк
            ("044525974", "30101810145250000974"), // Т-Банк
            ("043510607", "30101810335100000607"), // РНКБ (Крым)
            ("049805000", "30101810800000000746"), // the worked example of № 515
        ] {
            let bic = Bic::parse(bic).unwrap();
            assert!(Account::parse_correspondent(correspondent, Some(&bic)).is_ok(), "{correspondent}");
            for index in [0, 8, 12, 19] {
                let wrong = one_digit_changed(correspondent, index);
                let refused = Account::parse_correspondent(&wrong, Some(&bic)).unwrap_err();
                assert!(
                    matches!(refused, DetailsError::AccountKey { .. } | DetailsError::NotCorrespondent(_)),
                    "{wrong}: {refused:?}"
                );
            }
        }
    }

    #[test]
    fn checks_settlement_accounts_against_the_bic() {
        let sber = Bic::parse("044525225").unwrap();
        assert!(Account::parse_settlement("40703810038000110117", Some(&sber)).is_ok());
        // The worked example of № 515: a client account at the bank with БИК 049805746.
        let example = Bic::parse("049805746").unwrap();
        assert!(Account::parse_settlement("40602810700000000025", Some(&example)).is_ok());
        for index in 0..20 {
            let wrong = one_digit_changed("40703810038000110117", index);
            assert_eq!(
                Account::parse_settlement(&wrong, Some(&sber)).unwrap_err().to_string(),
                format!(
                    "Расчётный счёт {wrong} не подходит к БИК 044525225: не сходится контрольный ключ. Проверьте цифры счёта и БИК."
                )
            );
        }
        // The right account with another bank's БИК.
        let vtb = Bic::parse("044525187").unwrap();
        assert!(Account::parse_settlement("40703810038000110117", Some(&vtb)).is_err());
        // An account at a Bank of Russia unit takes the unit's number, as correspondent accounts do.
        let unit = Bic::parse("049805000").unwrap();
        assert!(Account::parse_settlement("30101810800000000746", Some(&unit)).is_ok());
    }

    #[test]
    fn checks_inn_control_digits() {
        for valid in ["7707083893", "7736207543", "500100732259", "773370857141", " 7707 083 893 "] {
            assert!(Inn::parse(valid).is_ok(), "{valid}");
        }
        for index in 0..10 {
            let wrong = one_digit_changed("7707083893", index);
            assert_eq!(Inn::parse(&wrong), Err(DetailsError::InnChecksum(wrong.clone())));
        }
        for index in 0..12 {
            assert!(Inn::parse(&one_digit_changed("500100732259", index)).is_err());
        }
        assert_eq!(Inn::parse("").unwrap_err().to_string(), "ИНН: не указано.");
        assert_eq!(
            Inn::parse("77070838931").unwrap_err().to_string(),
            "ИНН: нужно 10 (организация) или 12 (человек) цифр, а введено «77070838931»."
        );
        assert!(Inn::parse("77070838ab").is_err());
    }

    #[test]
    fn checks_kpp_shape() {
        assert!(Kpp::parse("773601001").is_ok());
        assert!(Kpp::parse("7736AB001").is_ok());
        for wrong in ["77360100", "7736010011", "77360100А", "7736ab001", "ABCD01001"] {
            assert!(matches!(Kpp::parse(wrong), Err(DetailsError::Kpp(_))), "{wrong}");
        }
    }

    #[test]
    fn names_every_refused_field() {
        let input = DetailsInput {
            payee: "  ",
            inn: "7707083894",
            kpp: "7736",
            account: "4070381003800011011",
            bank_name: &"Б".repeat(46),
            bic: "04452522",
            correspondent_account: "30101810400000000226",
        };
        let refused = BankDetails::parse(&input).unwrap_err();
        let fields: Vec<Field> = refused.iter().map(DetailsError::field).collect();
        assert_eq!(fields, [Field::Payee, Field::Inn, Field::Kpp, Field::Account, Field::BankName, Field::Bic]);
        let messages: Vec<String> = refused.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "Получатель: не указано.",
                "ИНН 7707083894: не сходится контрольная цифра. Проверьте цифры.",
                "КПП: девять знаков (цифры, в 5–6-м знаке могут быть латинские буквы), а введено «7736».",
                "Расчётный счёт: нужно 20 цифр, а введено «4070381003800011011».",
                "Банк: не длиннее 45 символов.",
                "БИК: нужно 9 цифр, а введено «04452522».",
            ]
        );
        // A well-formed БИК with a wrong correspondent account names that account.
        let wrong_correspondent = DetailsInput { correspondent_account: "30101810400000000226", ..SBER };
        assert_eq!(
            BankDetails::parse(&wrong_correspondent).unwrap_err(),
            [DetailsError::AccountKey {
                field: "Корреспондентский счёт",
                account: "30101810400000000226".into(),
                bic: "044525225".into()
            }]
        );
        assert_eq!(BankDetails::parse(&wrong_correspondent).unwrap_err()[0].field(), Field::CorrespondentAccount);
        let settlement_as_correspondent = DetailsInput { correspondent_account: "40703810038000110117", ..SBER };
        assert!(BankDetails::parse(&settlement_as_correspondent).is_err());
    }

    #[test]
    fn bounds_names_before_reading_them() {
        let huge = "Я".repeat(1_000_000);
        let input = DetailsInput { payee: &huge, ..SBER };
        assert_eq!(BankDetails::parse(&input).unwrap_err(), [DetailsError::TooLong { field: "Получатель", max: 160 }]);
        let spaced = DetailsInput { payee: " СНТ\n «Черноморск»\t", ..SBER };
        assert_eq!(BankDetails::parse(&spaced).unwrap().payee(), "СНТ «Черноморск»");
        let digits_flood = "1".repeat(10_000);
        assert!(matches!(Bic::parse(&digits_flood), Err(DetailsError::Digits { .. })));
    }
}
