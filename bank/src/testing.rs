//! Data for tests and benchmarks: statements written as a bank's client writes them, and a
//! cooperative's register to match their payments against.

use std::fmt::Write;

use domain::{PlotNumber, Service};
use image::ImageFormat;

use crate::details::DetailsInput;
use crate::purpose::{Candidates, ContractCandidate};
use crate::qr::MIN_SIDE_PX;

/// Reads a payment QR picture back with a real decoder (rqrr), checking it is one code, drawn
/// big enough, at error correction level M.
pub fn decode_qr(png: &[u8]) -> String {
    let picture = image::load_from_memory_with_format(png, ImageFormat::Png).expect("a PNG").to_luma8();
    assert!(picture.width() >= MIN_SIDE_PX && picture.height() >= MIN_SIDE_PX);
    read(picture)
}

/// One QR code at error correction level M in `picture`, read by rqrr.
fn read(picture: image::GrayImage) -> String {
    let mut prepared = rqrr::PreparedImage::prepare(picture);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the picture");
    let (meta, content) = grids[0].decode().expect("a readable QR code");
    // rqrr numbers the levels as the symbol stores them: M is 0.
    assert_eq!(meta.ecc_level, 0);
    content
}

/// Reads an inline SVG payment code back: its squares are drawn onto a picture, which the same
/// real decoder reads (one code, level M), so the drawing is checked as a camera would see it, not as text.
pub fn decode_qr_svg(svg: &str) -> String {
    let number = |attribute: &str| -> u32 {
        let start = svg.find(&format!(" {attribute}=\"")).expect(attribute) + attribute.len() + 3;
        svg[start..].split('"').next().and_then(|n| n.parse().ok()).expect(attribute)
    };
    let (width, height) = (number("width"), number("height"));
    assert!(width >= crate::qr::SVG_SIDE_PX && height >= crate::qr::SVG_SIDE_PX);
    let mut picture = image::GrayImage::from_pixel(width, height, image::Luma([255]));
    let path = svg.split(" d=\"").nth(1).and_then(|d| d.split('"').next()).expect("one path");
    // Each square is `M{left} {top}h{width}v{height}H{left}V{top}`.
    for square in path.split('M').filter(|s| !s.is_empty()) {
        let numbers: Vec<u32> =
            square.split(|c: char| !c.is_ascii_digit()).filter(|n| !n.is_empty()).map(|n| n.parse().unwrap()).collect();
        let [left, top, w, h, ..] = numbers[..] else { panic!("a square: {square}") };
        for y in top..top + h {
            for x in left..left + w {
                picture.put_pixel(x, y, image::Luma([0]));
            }
        }
    }
    read(picture)
}

/// The cooperative's details: a valid ИНН and an account whose key matches РНКБ's БИК.
pub const DETAILS: DetailsInput<'static> = DetailsInput {
    payee: "СНТ «Черноморск»",
    inn: "9108001239",
    kpp: "910801001",
    account: ACCOUNT,
    bank_name: "РНКБ БАНК (ПАО)",
    bic: "043510607",
    correspondent_account: "30101810335100000607",
};

/// The cooperative's account in the generated statements.
pub const ACCOUNT: &str = "40703810041500000123";

/// A payment document of a generated statement.
#[derive(Debug, Clone)]
pub struct TestDocument {
    pub number: String,
    /// `ДД.ММ.ГГГГ`: the document's date, and the day it was debited.
    pub date: String,
    /// `ДД.ММ.ГГГГ`: the day it arrived, when later than `date` (a weekend or holidays between).
    pub received: Option<String>,
    /// As banks write it: `1234.50`.
    pub amount: String,
    pub payer: String,
    pub payer_account: String,
    pub payee_account: String,
    pub purpose: String,
}

impl TestDocument {
    /// A member's payment to the cooperative's [`ACCOUNT`].
    pub fn incoming(number: &str, date: &str, amount: &str, payer: &str, payer_account: &str, purpose: &str) -> Self {
        TestDocument {
            number: number.to_owned(),
            date: date.to_owned(),
            received: None,
            amount: amount.to_owned(),
            payer: payer.to_owned(),
            payer_account: payer_account.to_owned(),
            payee_account: ACCOUNT.to_owned(),
            purpose: purpose.to_owned(),
        }
    }
}

/// A statement of `account` from `from` to `to` (`ДД.ММ.ГГГГ`) as Сбербанк Бизнес Онлайн writes it:
/// Windows-1251 bytes, CRLF, the header, `СекцияРасчСчет`, one `СекцияДокумент=Платежное поручение`
/// per document, `КонецФайла`.
pub fn write_statement(account: &str, from: &str, to: &str, documents: &[TestDocument]) -> Vec<u8> {
    write_statement_of(&[account], from, to, documents)
}

/// The same for a statement of several `accounts` (a settlement account and a special one): each
/// named in the header and given its own `СекцияРасчСчет`.
pub fn write_statement_of(accounts: &[&str], from: &str, to: &str, documents: &[TestDocument]) -> Vec<u8> {
    let mut text = String::new();
    let _ = write!(
        text,
        "1CClientBankExchange\r\nВерсияФормата=1.03\r\nКодировка=Windows\r\nОтправитель=Сбербанк Бизнес Онлайн\r\n\
         Получатель=\r\nДатаСоздания={to}\r\nВремяСоздания=09:15:00\r\nДатаНачала={from}\r\nДатаКонца={to}\r\n"
    );
    for account in accounts {
        let _ = write!(text, "РасчСчет={account}\r\n");
    }
    text.push_str("Документ=Платежное поручение\r\n");
    for account in accounts {
        let _ = write!(
            text,
            "СекцияРасчСчет\r\nДатаНачала={from}\r\nДатаКонца={to}\r\nРасчСчет={account}\r\n\
             НачальныйОстаток=125000.00\r\nВсегоПоступило=0.00\r\nВсегоСписано=0.00\r\nКонечныйОстаток=125000.00\r\n\
             КонецРасчСчет\r\n"
        );
    }
    for (i, d) in documents.iter().enumerate() {
        let TestDocument { number, date, received, amount, payer, payer_account, payee_account, purpose } = d;
        let received = received.as_deref().unwrap_or(date);
        let _ = write!(
            text,
            "СекцияДокумент=Платежное поручение\r\nНомер={number}\r\nДата={date}\r\nСумма={amount}\r\n\
             ПлательщикСчет={payer_account}\r\nДатаСписано={date}\r\nПлательщик=ИНН 910200{i:06} {payer}\r\n\
             ПлательщикИНН=\r\nПлательщик1={payer}\r\nПлательщикРасчСчет={payer_account}\r\n\
             ПлательщикБанк1=РНКБ БАНК (ПАО)\r\nПлательщикБИК=043510607\r\nПлательщикКорсчет=30101810335100000607\r\n\
             ПолучательСчет={payee_account}\r\nДатаПоступило={received}\r\nПолучатель1=СНТ «Черноморск»\r\n\
             ПолучательИНН=9108001239\r\nПолучательКПП=910801001\r\nПолучательРасчСчет={payee_account}\r\n\
             ПолучательБанк1=РНКБ БАНК (ПАО)\r\nПолучательБИК=043510607\r\nПолучательКорсчет=30101810335100000607\r\n\
             ВидОплаты=01\r\nОчередность=5\r\nНазначениеПлатежа={purpose}\r\nКонецДокумента\r\n",
        );
    }
    text.push_str("КонецФайла\r\n");
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1251.encode(&text);
    assert!(!unmappable, "a statement's text is in Windows-1251");
    bytes.into_owned()
}

/// A Windows-1251, CRLF statement for October 2026 with `documents` documents: nine in ten
/// are members' payments with purposes as people write them, one in ten is outgoing.
pub fn statement(documents: usize) -> Vec<u8> {
    let purposes = [
        "уч 12 свет",
        "Участок № 12А за электроэнергию октябрь",
        "л/с Э-0012",
        "Иванова А.П. вода",
        "оплата по договору В-012",
        "Участок 123, договор Э-0123, электроэнергия за 10.2026",
        "за свет уч.7/2 Кузнецова",
    ];
    let documents: Vec<TestDocument> = (0..documents)
        .map(|i| {
            let outgoing = i % 10 == 9;
            let (payer_account, payee_account) = if outgoing {
                (ACCOUNT.to_owned(), "40702810900000012345".to_owned())
            } else {
                (format!("408178{i:014}"), ACCOUNT.to_owned())
            };
            TestDocument {
                number: (1000 + i).to_string(),
                date: format!("{:02}.10.2026", i % 31 + 1),
                received: None,
                amount: format!("{}.{:02}", 500 + i * 7 % 5000, i * 13 % 100),
                payer: "Иванова Анна Петровна".to_owned(),
                payer_account,
                payee_account,
                purpose: purposes[i % purposes.len()].to_owned(),
            }
        })
        .collect();
    write_statement(ACCOUNT, "01.10.2026", "31.10.2026", &documents)
}

/// A register of `plots` plots numbered 1, 2, … (every tenth with a letter: «10А»), each with an
/// electricity contract `Э-0001` and a water contract `В-0001`, consumers named from a list of
/// common surnames with initials.
pub fn register(plots: usize) -> Candidates {
    let surnames =
        ["Иванова", "Петров", "Сидоров", "Кузнецова", "Смирнов", "Попова", "Васильев", "Фёдоров", "Морозова", "Волков"];
    let given = ["Анна Петровна", "Иван Сергеевич", "Ольга Николаевна", "Николай Ильич", "Мария Ивановна"];
    let mut contracts = Vec::with_capacity(plots * 2);
    for i in 1..=plots {
        let plot = if i % 10 == 0 { format!("{i}А") } else { i.to_string() };
        let name = format!("{} {}", surnames[i % surnames.len()], given[i / surnames.len() % given.len()]);
        for (k, (service, letter)) in [(Service::Electricity, "Э"), (Service::Water, "В")].into_iter().enumerate() {
            contracts.push(ContractCandidate {
                id: (i * 2 + k) as i64,
                number: format!("{letter}-{i:04}"),
                service,
                plot: PlotNumber::parse(&plot).expect("generated plot numbers are valid"),
                consumer_id: i as i64,
                consumer_name: name.clone(),
            });
        }
    }
    Candidates::new(contracts, [])
}
