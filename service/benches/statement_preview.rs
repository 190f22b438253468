//! How long the preview of a bank statement takes: a 2 000-document Windows-1251 statement read,
//! matched against a 420-plot register (840 contracts) and checked against the stored documents,
//! as the accountant's upload does it, on an SQLite file. A figure for the README, not a test:
//! nothing here asserts a time. Target: < 1 s. Run with
//! `cargo bench -p service --bench statement_preview`.

use std::time::Instant;

use chrono::{TimeZone, Utc};
use domain::{Service, TariffPlan};
use service::ledger::payments::statement;
use service::register::sign_up::ConsumerRef;
use service::testing::{TestContext, bank_details, new_consumer};

#[tokio::main]
async fn main() {
    // After the generated statement's October.
    let t = TestContext::at(Utc.with_ymd_and_hms(2026, 11, 5, 12, 0, 0).unwrap()).await;
    bank_details(&t.ctx).await;
    let surnames = ["Иванова", "Петров", "Сидоров", "Кузнецова", "Смирнов", "Попова", "Васильев", "Фёдоров"];
    for i in 1..=420 {
        let plot = if i % 10 == 0 { format!("{i}А") } else { i.to_string() };
        let name = format!("{} {}. {}.", surnames[i % surnames.len()], i % 7 + 1, i % 5 + 1);
        let power = t
            .sign(
                &plot,
                new_consumer(&name, None),
                &format!("Э-{i:04}"),
                Service::Electricity,
                TariffPlan::Single,
                &[0],
            )
            .await;
        let existing = ConsumerRef::Existing(power.consumer_id);
        t.sign(&plot, existing, &format!("В-{i:04}"), Service::Water, TariffPlan::Single, &[0]).await;
    }
    let file = bank::testing::statement(2_000);
    // Best of a few runs, so that a busy machine does not decide the figure.
    let mut fastest = None;
    for _ in 0..5 {
        let started = Instant::now();
        let preview = statement::preview(&t.ctx, "kl_to_1c.txt", file.clone()).await.expect("a valid statement");
        let took = started.elapsed();
        if fastest.as_ref().is_none_or(|(best, _)| took < *best) {
            fastest = Some((took, preview));
        }
    }
    let (took, preview) = fastest.expect("five runs");
    println!(
        "statement preview: {} KiB, {} incoming ({} to post, {} to «Разобрать»), {} skipped, against 840 contracts \
         in {took:?} (best of 5)",
        file.len() / 1024,
        preview.documents.len(),
        preview.to_post(),
        preview.to_review(),
        preview.skipped.len(),
    );
}
