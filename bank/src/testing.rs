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
    let mut text = String::new();
    let _ = write!(
        text,
        "1CClientBankExchange\r\nВерсияФормата=1.03\r\nКодировка=Windows\r\nОтправитель=Сбербанк Бизнес Онлайн\r\n\
         Получатель=\r\nДатаСоздания=01.11.2026\r\nВремяСоздания=09:15:00\r\nДатаНачала=01.10.2026\r\n\
         ДатаКонца=31.10.2026\r\nРасчСчет={ACCOUNT}\r\nДокумент=Платежное поручение\r\n\
         СекцияРасчСчет\r\nДатаНачала=01.10.2026\r\nДатаКонца=31.10.2026\r\nРасчСчет={ACCOUNT}\r\n\
         НачальныйОстаток=125000.00\r\nВсегоПоступило=0.00\r\nВсегоСписано=0.00\r\nКонечныйОстаток=125000.00\r\n\
         КонецРасчСчет\r\n"
    );
    for i in 0..documents {
        let day = i % 31 + 1;
        let rubles = 500 + i * 7 % 5000;
        let kopecks = i * 13 % 100;
        let outgoing = i % 10 == 9;
        let (payer_account, payee_account) = if outgoing {
            (ACCOUNT.to_owned(), "40702810900000012345".to_owned())
        } else {
            (format!("408178{i:014}"), ACCOUNT.to_owned())
        };
        let _ = write!(
            text,
            "СекцияДокумент=Платежное поручение\r\nНомер={number}\r\nДата={day:02}.10.2026\r\nСумма={rubles}.{kopecks:02}\r\n\
             ПлательщикСчет={payer_account}\r\nДатаСписано={day:02}.10.2026\r\nПлательщик=ИНН 910200{i:06} Иванова Анна Петровна\r\n\
             ПлательщикИНН=\r\nПлательщик1=Иванова Анна Петровна\r\nПлательщикРасчСчет={payer_account}\r\n\
             ПлательщикБанк1=РНКБ БАНК (ПАО)\r\nПлательщикБИК=043510607\r\nПлательщикКорсчет=30101810335100000607\r\n\
             ПолучательСчет={payee_account}\r\nДатаПоступило={day:02}.10.2026\r\nПолучатель1=СНТ «Черноморск»\r\n\
             ПолучательИНН=9108001239\r\nПолучательКПП=910801001\r\nПолучательРасчСчет={payee_account}\r\n\
             ПолучательБанк1=РНКБ БАНК (ПАО)\r\nПолучательБИК=043510607\r\nПолучательКорсчет=30101810335100000607\r\n\
             ВидОплаты=01\r\nОчередность=5\r\nНазначениеПлатежа={purpose}\r\nКонецДокумента\r\n",
            number = 1000 + i,
            purpose = purposes[i % purposes.len()],
        );
    }
    text.push_str("КонецФайла\r\n");
    encoding_rs::WINDOWS_1251.encode(&text).0.into_owned()
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
