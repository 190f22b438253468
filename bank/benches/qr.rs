//! Drawing a payment QR code, which the bot does on every «Оплатить» and the panel on every
//! contract, consumer and receipt page (through `service::heavy`): the string built and the PNG
//! rendered.
//!
//! `cargo bench -p bank --bench qr`

use std::hint::black_box;

use bank::details::BankDetails;
use bank::qr::{PaymentOrder, PaymentString};
use criterion::{Criterion, criterion_group, criterion_main};
use domain::Kopecks;

fn draw(c: &mut Criterion) {
    let details = BankDetails::parse(&bank::testing::DETAILS).expect("the test details are valid");
    let order = PaymentOrder {
        details: &details,
        sum: Some(Kopecks::parse_rubles("3456,70").expect("an amount")),
        purpose: Some("Участок 12А, договор Э-0012, электроэнергия за 10.2026"),
        personal_account: Some("Э-0012"),
        period: None,
        payer: None,
        tech_code: None,
    };
    c.bench_function("build and draw a contract's payment QR code as PNG", |b| {
        b.iter(|| PaymentString::build(black_box(&order)).expect("it fits").render_png().expect("a PNG").len())
    });
}

criterion_group!(benches, draw);
criterion_main!(benches);
