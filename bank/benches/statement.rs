//! The preview of a statement upload: reading a 2 000-document CP1251 statement, and reading it
//! and matching every incoming payment against a 420-plot register (target: well under 1 s).
//!
//! `cargo bench -p bank --bench statement`

use std::hint::black_box;

use bank::purpose::{Payment, Verdict};
use criterion::{Criterion, criterion_group, criterion_main};

fn preview(c: &mut Criterion) {
    let file = bank::testing::statement(2_000);
    c.bench_function("parse a 2 000-document CP1251 statement", |b| {
        b.iter(|| bank::statement::parse(black_box(&file)).expect("the generated statement is valid"))
    });
    c.bench_function("parse and match 2 000 documents against 420 plots", |b| {
        b.iter(|| {
            let statement = bank::statement::parse(black_box(&file)).expect("the generated statement is valid");
            let register = bank::testing::register(420);
            statement
                .incoming
                .iter()
                .filter(|d| matches!(register.match_payment(&Payment::from(*d)), Verdict::Matched(_)))
                .count()
        })
    });
}

criterion_group!(benches, preview);
criterion_main!(benches);
