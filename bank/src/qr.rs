//! The payment QR code of ГОСТ Р 56042-2014, which every Russian bank app pays by scanning, and
//! the purpose text our codes carry, written and recognised here so the two cannot drift apart.

use std::io::Cursor;

use domain::{Kopecks, Period, PlotNumber, Service};
use image::{DynamicImage, ImageFormat, Luma};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

use crate::details::BankDetails;
use crate::kopecks_value;

/// `ST0001`, the format's tag; `2`, the values are UTF-8; `|`, the field separator.
const HEADER: &str = "ST00012|";
const SEPARATOR: char = '|';
/// Bank apps refuse longer strings; only `Purpose` is shortened to fit.
pub const MAX_BYTES: usize = 512;
/// The standard allows 210 characters of `Purpose`, but parsers disagree above 160.
pub const PURPOSE_MAX_CHARS: usize = 160;
/// Our own bounds for fields the standard leaves open.
const PERS_ACC_MAX_CHARS: usize = 30;
const PAYER_NAME_MAX_CHARS: usize = 60;
/// The rendered picture's side at the least: with the largest code a 512-byte string needs
/// (version 18, 97 modules with the quiet zone) that is 7 pixels a module, so at 300 dpi it prints
/// 5.7 cm wide — well over the 3 cm a phone camera needs — and stays sharp when scaled down to that.
pub const MIN_SIDE_PX: u32 = 600;

/// The inline drawing's side at the least: a printed code of 6 cm, about 230 CSS pixels, which any
/// bank app reads.
pub const SVG_SIDE_PX: u32 = 240;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("Сумма в QR-коде должна быть больше нуля.")]
    SumNotPositive,
    #[error(
        "Реквизиты не помещаются в QR-код ({bytes} байт без назначения платежа, можно {MAX_BYTES}): \
         сократите наименование получателя или банка."
    )]
    TooLong { bytes: usize },
    #[error("Не удалось построить QR-код: {0}")]
    Render(String),
}

/// A ГОСТ Р 56042-2014 technical code (`TechCode`) telling the bank app what kind of payment it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TechCode {
    /// `02`: housing and utility services.
    Utilities,
}

impl TechCode {
    fn code(self) -> &'static str {
        match self {
            TechCode::Utilities => "02",
        }
    }
}

/// The payer's name, which the bank app shows and some apps check against the account holder.
#[derive(Debug, Clone, Copy)]
pub struct PayerName<'a> {
    pub last: &'a str,
    pub first: &'a str,
    pub middle: &'a str,
}

/// What to pay, to whom, for what.
#[derive(Debug, Clone, Copy)]
pub struct PaymentOrder<'a> {
    pub details: &'a BankDetails,
    /// Without a sum the bank app asks the payer for one.
    pub sum: Option<Kopecks>,
    pub purpose: Option<&'a str>,
    /// `PersAcc`: the payer's account with the payee — for us the contract number.
    pub personal_account: Option<&'a str>,
    pub period: Option<Period>,
    pub payer: Option<PayerName<'a>>,
    pub tech_code: Option<TechCode>,
}

/// A payment string ready to be encoded, with the purpose as it went in (possibly shortened).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentString {
    text: String,
    purpose: Option<String>,
}

impl PaymentString {
    /// Builds the string: the required fields in the order bank apps expect, then the optional
    /// ones; `|` and line breaks removed from every value; each field cut to its limit; the whole
    /// at most [`MAX_BYTES`] bytes by shortening only `Purpose`.
    pub fn build(order: &PaymentOrder<'_>) -> Result<PaymentString, QrError> {
        let d = order.details;
        let mut fields: Vec<(&'static str, String)> = vec![
            ("Name", clean(d.payee(), usize::MAX)),
            ("PersonalAcc", d.account().as_str().to_owned()),
            ("BankName", clean(d.bank_name(), usize::MAX)),
            ("BIC", d.bic().as_str().to_owned()),
            ("CorrespAcc", d.correspondent_account().as_str().to_owned()),
        ];
        if let Some(sum) = order.sum {
            let kopecks = kopecks_value(sum);
            if kopecks <= 0 {
                return Err(QrError::SumNotPositive);
            }
            // At most 18 digits by the standard; `Kopecks` is bounded far below that.
            fields.push(("Sum", kopecks.to_string()));
        }
        let purpose = order.purpose.map(|p| clean(p, PURPOSE_MAX_CHARS)).filter(|p| !p.is_empty());
        if let Some(purpose) = &purpose {
            fields.push(("Purpose", purpose.clone()));
        }
        fields.push(("PayeeINN", d.inn().as_str().to_owned()));
        fields.push(("KPP", d.kpp().as_str().to_owned()));
        let mut optional = |key: &'static str, value: &str, max: usize| {
            let value = clean(value, max);
            if !value.is_empty() {
                fields.push((key, value));
            }
        };
        if let Some(account) = order.personal_account {
            optional("PersAcc", account, PERS_ACC_MAX_CHARS);
        }
        if let Some(period) = order.period {
            // Month and year, `MMYYYY`, as utility bills write it.
            optional("PaymPeriod", &format!("{:02}{:04}", period.month(), period.year()), 6);
        }
        if let Some(payer) = order.payer {
            optional("LastName", payer.last, PAYER_NAME_MAX_CHARS);
            optional("FirstName", payer.first, PAYER_NAME_MAX_CHARS);
            optional("MiddleName", payer.middle, PAYER_NAME_MAX_CHARS);
        }
        if let Some(code) = order.tech_code {
            optional("TechCode", code.code(), 2);
        }
        fit(fields)
    }

    /// The string to encode, e.g. `ST00012|Name=…|PersonalAcc=…|…`.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The `Purpose` the string carries, after any shortening; `None` when it had to go entirely.
    pub fn purpose(&self) -> Option<&str> {
        self.purpose.as_deref()
    }

    /// The code as a PNG picture: error correction M (15 % of the code may be lost), black on
    /// white with the quiet zone, at least [`MIN_SIDE_PX`] pixels a side. CPU work of a few
    /// milliseconds: callers on the async runtime run it through `service::heavy`.
    pub fn render_png(&self) -> Result<Vec<u8>, QrError> {
        let code = self.code()?;
        let picture = code.render::<Luma<u8>>().min_dimensions(MIN_SIDE_PX, MIN_SIDE_PX).build();
        let mut png = Vec::new();
        DynamicImage::ImageLuma8(picture)
            .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .map_err(|e| QrError::Render(e.to_string()))?;
        Ok(png)
    }

    /// The same code as an SVG drawing to put inline in a page: a printout of many receipts
    /// then needs no picture request and no image encoding per code. At least [`SVG_SIDE_PX`] a side.
    pub fn render_svg(&self) -> Result<String, QrError> {
        let svg = self.code()?.render::<svg::Color>().min_dimensions(SVG_SIDE_PX, SVG_SIDE_PX).build();
        // Inside an HTML page an XML declaration has no place.
        Ok(match svg.find("<svg") {
            Some(start) => svg[start..].to_owned(),
            None => svg,
        })
    }

    fn code(&self) -> Result<QrCode, QrError> {
        QrCode::with_error_correction_level(self.text.as_bytes(), EcLevel::M)
            .map_err(|e| QrError::Render(e.to_string()))
    }
}

/// A value without the separator and control characters (line breaks, tabs), spaces collapsed,
/// cut to `max` characters.
fn clean(value: &str, max: usize) -> String {
    let spaced: String =
        value.chars().filter(|c| *c != SEPARATOR).map(|c| if c.is_control() { ' ' } else { c }).collect();
    let mut words = spaced.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some((cut, _)) = words.char_indices().nth(max) {
        words.truncate(cut);
        words.truncate(words.trim_end().len());
    }
    words
}

fn joined(fields: &[(&'static str, String)]) -> String {
    let mut text = String::from(HEADER);
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            text.push(SEPARATOR);
        }
        text.push_str(key);
        text.push('=');
        text.push_str(value);
    }
    text
}

/// Shortens `Purpose` (on a character boundary) until the string fits in [`MAX_BYTES`].
fn fit(mut fields: Vec<(&'static str, String)>) -> Result<PaymentString, QrError> {
    let text = joined(&fields);
    let Some(index) = fields.iter().position(|(key, _)| *key == "Purpose") else {
        return if text.len() <= MAX_BYTES {
            Ok(PaymentString { text, purpose: None })
        } else {
            Err(QrError::TooLong { bytes: text.len() })
        };
    };
    let excess = text.len().saturating_sub(MAX_BYTES);
    let purpose = &mut fields[index].1;
    if excess > 0 {
        let mut keep = purpose.len().saturating_sub(excess);
        while !purpose.is_char_boundary(keep) {
            keep -= 1;
        }
        purpose.truncate(keep);
        purpose.truncate(purpose.trim_end().len());
    }
    if purpose.is_empty() {
        fields.remove(index);
        let text = joined(&fields);
        return if text.len() <= MAX_BYTES {
            Ok(PaymentString { text, purpose: None })
        } else {
            Err(QrError::TooLong { bytes: text.len() })
        };
    }
    let purpose = Some(purpose.clone());
    Ok(PaymentString { text: joined(&fields), purpose })
}

/// The purpose text our QR codes and receipts print. A payment made through our code comes back
/// in the bank's statement with exactly this text, so [`OurPurpose::recognise`] can match it
/// without guessing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OurPurpose {
    /// «Участок 123, договор Э-0123, электроэнергия за 10.2026».
    Contract { plot: PlotNumber, contract: String, service: Service, period: Period },
    /// A consumer's total over several contracts: «Договоры Э-0123, В-0123 за 10.2026».
    Total { contracts: Vec<String>, period: Period },
}

impl OurPurpose {
    pub fn text(&self) -> String {
        match self {
            OurPurpose::Contract { plot, contract, service, period } => {
                format!("Участок {plot}, договор {contract}, {} за {}", service.label().to_lowercase(), month(*period))
            }
            OurPurpose::Total { contracts, period } => {
                format!("Договоры {} за {}", contracts.join(", "), month(*period))
            }
        }
    }

    /// The purpose our code printed, read back from a bank statement; `None` for any other text.
    /// Whitespace may differ (banks re-wrap long purposes); nothing else may.
    pub fn recognise(purpose: &str) -> Option<OurPurpose> {
        let text = purpose.split_whitespace().collect::<Vec<_>>().join(" ");
        let (body, period) = text.rsplit_once(" за ")?;
        let period = parse_month(period)?;
        let recognised = if let Some(rest) = body.strip_prefix("Участок ") {
            let (plot, rest) = rest.split_once(", договор ")?;
            let (contract, service) = rest.rsplit_once(", ")?;
            let service = Service::ALL.iter().copied().find(|s| s.label().to_lowercase() == service)?;
            OurPurpose::Contract { plot: PlotNumber::parse(plot).ok()?, contract: contract.to_owned(), service, period }
        } else {
            let contracts = body.strip_prefix("Договоры ")?.split(", ").map(str::to_owned).collect();
            OurPurpose::Total { contracts, period }
        };
        // Only text we would have printed ourselves: `12а` for `12А` or a lower-case word is a person's.
        (recognised.text() == text).then_some(recognised)
    }
}

/// `10.2026`.
fn month(period: Period) -> String {
    format!("{:02}.{:04}", period.month(), period.year())
}

fn parse_month(s: &str) -> Option<Period> {
    let (m, y) = s.split_once('.')?;
    if m.len() != 2 || y.len() != 4 {
        return None;
    }
    Period::new(y.parse().ok()?, m.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::details::DetailsInput;
    use crate::testing::{DETAILS, decode_qr as decode};

    fn details() -> BankDetails {
        BankDetails::parse(&DETAILS).unwrap()
    }

    fn rubles(s: &str) -> Kopecks {
        Kopecks::parse_rubles(s).unwrap()
    }

    fn october() -> Period {
        Period::new(2026, 10).unwrap()
    }

    fn order<'a>(details: &'a BankDetails, purpose: Option<&'a str>) -> PaymentOrder<'a> {
        PaymentOrder {
            details,
            sum: Some(rubles("3456,70")),
            purpose,
            personal_account: Some("Э-0123"),
            period: Some(october()),
            payer: None,
            tech_code: None,
        }
    }

    #[test]
    fn writes_the_fields_in_the_standards_order() {
        let details = details();
        let purpose = OurPurpose::Contract {
            plot: PlotNumber::parse("123").unwrap(),
            contract: "Э-0123".into(),
            service: Service::Electricity,
            period: october(),
        }
        .text();
        let string = PaymentString::build(&PaymentOrder {
            payer: Some(PayerName { last: "Иванова", first: "Анна", middle: "Петровна" }),
            tech_code: Some(TechCode::Utilities),
            ..order(&details, Some(&purpose))
        })
        .unwrap();
        assert_eq!(
            string.text(),
            "ST00012|Name=СНТ «Черноморск»|PersonalAcc=40703810041500000123|BankName=РНКБ БАНК (ПАО)|BIC=043510607\
             |CorrespAcc=30101810335100000607|Sum=345670|Purpose=Участок 123, договор Э-0123, электроэнергия за 10.2026\
             |PayeeINN=9108001239|KPP=910801001|PersAcc=Э-0123|PaymPeriod=102026|LastName=Иванова|FirstName=Анна\
             |MiddleName=Петровна|TechCode=02"
        );
        let keys: Vec<&str> = string.text()[HEADER.len()..].split('|').map(|f| f.split_once('=').unwrap().0).collect();
        assert_eq!(&keys[..5], ["Name", "PersonalAcc", "BankName", "BIC", "CorrespAcc"]);
        // Every field within the standard's length (in characters).
        for field in string.text()[HEADER.len()..].split('|') {
            let (key, value) = field.split_once('=').unwrap();
            let max = match key {
                "Name" | "Purpose" => 160,
                "PersonalAcc" | "CorrespAcc" => 20,
                "BankName" => 45,
                "BIC" | "KPP" => 9,
                "Sum" => 18,
                "PayeeINN" => 12,
                "TechCode" => 2,
                _ => 60,
            };
            assert!(value.chars().count() <= max, "{key}");
        }
        assert_eq!(decode(&string.render_png().unwrap()), string.text());
        let svg = string.render_svg().unwrap();
        assert!(svg.starts_with("<svg "), "inline, without an XML declaration");
        assert_eq!(crate::testing::decode_qr_svg(&svg), string.text());
    }

    #[test]
    fn without_a_sum_the_app_asks_for_one() {
        let details = details();
        let string = PaymentString::build(&PaymentOrder { sum: None, ..order(&details, None) }).unwrap();
        assert!(!string.text().contains("Sum="));
        assert_eq!(string.purpose(), None);
        assert_eq!(
            PaymentString::build(&PaymentOrder { sum: Some(Kopecks::ZERO), ..order(&details, None) }),
            Err(QrError::SumNotPositive)
        );
        assert_eq!(
            PaymentString::build(&PaymentOrder { sum: Some(rubles("-1")), ..order(&details, None) }),
            Err(QrError::SumNotPositive)
        );
    }

    #[test]
    fn strips_separators_and_line_breaks_from_values() {
        let details = details();
        let string = PaymentString::build(&PaymentOrder {
            personal_account: Some("Э-01|23\r\n"),
            payer: Some(PayerName { last: "Ива|нова\n", first: " Анна\tМария ", middle: "" }),
            ..order(&details, Some("за свет|Sum=1\r\nи воду"))
        })
        .unwrap();
        assert_eq!(string.purpose(), Some("за светSum=1 и воду"));
        assert!(string.text().contains("|Purpose=за светSum=1 и воду|"));
        assert!(string.text().contains("|PersAcc=Э-0123|"));
        assert!(string.text().ends_with("|PersAcc=Э-0123|PaymPeriod=102026|LastName=Иванова|FirstName=Анна Мария"));
        assert!(!string.text().contains(['\r', '\n', '\t']));
        // Exactly the fields we put in: no value smuggled a field of its own.
        assert_eq!(string.text().matches('|').count(), 13);
        assert_eq!(decode(&string.render_png().unwrap()), string.text());
    }

    #[test]
    fn cuts_fields_to_their_limits() {
        let details = details();
        let long_purpose = "оплата ".repeat(40);
        let string = PaymentString::build(&PaymentOrder {
            personal_account: Some(&"1".repeat(50)),
            ..order(&details, Some(&long_purpose))
        })
        .unwrap();
        let purpose = string.purpose().unwrap();
        assert!(purpose.chars().count() <= PURPOSE_MAX_CHARS);
        assert!(long_purpose.starts_with(purpose) && !purpose.ends_with(' '));
        assert!(string.text().contains(&format!("|PersAcc={}|", "1".repeat(30))));
    }

    #[test]
    fn a_long_cyrillic_purpose_is_shortened_to_fit_512_bytes() {
        let details = details();
        let purpose = "Оплата электроэнергии и воды за октябрь, участок 12А, договоры Э-0123 и В-0123, \
                       показания 12345 и 678, без НДС; "
            .repeat(3);
        let string = PaymentString::build(&PaymentOrder {
            payer: Some(PayerName {
                last: "Константинопольская", first: "Александра", middle: "Владимировна"
            }),
            ..order(&details, Some(&purpose))
        })
        .unwrap();
        assert!(string.text().len() <= MAX_BYTES, "{} bytes", string.text().len());
        // Shortened only as much as needed, on a character boundary: one more would not fit.
        let kept = string.purpose().unwrap();
        assert!(purpose.starts_with(kept) && kept.chars().count() < PURPOSE_MAX_CHARS);
        let next = purpose[kept.len()..].chars().next().unwrap();
        assert!(next == ' ' || string.text().len() + next.len_utf8() > MAX_BYTES);
        // The other fields are whole.
        assert!(string.text().contains("|LastName=Константинопольская|FirstName=Александра|MiddleName=Владимировна"));
        assert!(string.text().starts_with("ST00012|Name=СНТ «Черноморск»|PersonalAcc=40703810041500000123|"));
        assert_eq!(decode(&string.render_png().unwrap()), string.text());
    }

    #[test]
    fn refuses_details_that_do_not_fit_even_without_a_purpose() {
        // The longest names the details accept, in two-byte Cyrillic: 410 bytes on their own.
        let details =
            BankDetails::parse(&DetailsInput { payee: &"Я".repeat(160), bank_name: &"Б".repeat(45), ..DETAILS })
                .unwrap();
        let built = PaymentString::build(&order(&details, Some("за свет")));
        assert!(matches!(built, Err(QrError::TooLong { bytes }) if bytes > MAX_BYTES), "{built:?}");
        assert_eq!(
            built.unwrap_err().to_string().split(':').next(),
            Some("Реквизиты не помещаются в QR-код (591 байт без назначения платежа, можно 512)")
        );
        // A long but real name fits, with the purpose shortened to what is left.
        let details = BankDetails::parse(&DetailsInput { payee: &"Я".repeat(120), ..DETAILS }).unwrap();
        let long = "за свет ".repeat(20);
        let fits = PaymentString::build(&order(&details, Some(&long))).unwrap();
        assert!(fits.text().len() <= MAX_BYTES);
        assert!(fits.purpose().unwrap().len() < long.trim_end().len());
    }

    #[test]
    fn our_purpose_reads_back_exactly() {
        let contract = OurPurpose::Contract {
            plot: PlotNumber::parse("12а").unwrap(),
            contract: "В-012".into(),
            service: Service::Water,
            period: Period::new(2027, 1).unwrap(),
        };
        assert_eq!(contract.text(), "Участок 12А, договор В-012, вода за 01.2027");
        assert_eq!(OurPurpose::recognise(&contract.text()), Some(contract.clone()));
        assert_eq!(OurPurpose::recognise("Участок 12А,  договор В-012,\r\n вода за 01.2027"), Some(contract));
        let total = OurPurpose::Total { contracts: vec!["Э-0123".into(), "В-0123".into()], period: october() };
        assert_eq!(total.text(), "Договоры Э-0123, В-0123 за 10.2026");
        assert_eq!(OurPurpose::recognise(&total.text()), Some(total));
        // The example of payments.md, as our code prints it.
        assert!(matches!(
            OurPurpose::recognise("Участок 123, договор Э-0123, электроэнергия за 10.2026"),
            Some(OurPurpose::Contract { service: Service::Electricity, .. })
        ));
        for typed in [
            "участок 123, договор Э-0123, электроэнергия за 10.2026",
            "Участок 12а, договор В-012, вода за 01.2027",
            "Участок 12А, договор В-012, газ за 01.2027",
            "Участок 12А, договор В-012, вода за 1.2027",
            "Участок 12А, договор В-012, вода за 13.2027",
            "Участок 12А, договор В-012, вода",
            "уч 12 свет",
            "",
        ] {
            assert_eq!(OurPurpose::recognise(typed), None, "{typed}");
        }
    }
}
