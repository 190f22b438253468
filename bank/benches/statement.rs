//! Reading a 2 000-document statement, as the preview of an upload does (target: well under 1 s).
//!
//! `cargo bench -p bank --bench statement`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

fn parse(c: &mut Criterion) {
    let file = bank::statement::testing::statement(2_000);
    c.bench_function("parse a 2 000-document CP1251 statement", |b| {
        b.iter(|| bank::statement::parse(black_box(&file)).expect("the generated statement is valid"))
    });
}

criterion_group!(benches, parse);
criterion_main!(benches);
