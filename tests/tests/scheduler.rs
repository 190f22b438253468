//! The monthly report reaches the accountants' chat by itself: once per period, after restarts,
//! and late rather than never.

use std::io::Cursor;
use std::time::Duration;

use calamine::{Reader, Xlsx};
use chrono::NaiveDate;
use chrono::{TimeZone, Utc};
use domain::{Period, kopecks};
use domain::{Service, TariffPlan};
use entities::delivery;
use sea_orm::EntityTrait;
use service::audit::Actor;
use service::deliveries;
use service::ledger::payments::{self, NewPayment};
use service::testing;
use tests::TestApp;
use tests::fake_telegram::Call;

const ACCOUNTANTS: i64 = -100_123;

fn schedule(config: &mut bot::Config) {
    config.accountants_chat_id = Some(ACCOUNTANTS);
    config.report_day = 1;
    config.report_time = chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap();
    config.time_zone = chrono_tz::Europe::Moscow;
}

fn is_report(call: &Call) -> bool {
    call.is("sendDocument") && call.chat_id() == Some(ACCOUNTANTS)
}

fn reports_sent(app: &TestApp) -> Vec<Call> {
    app.telegram.calls().into_iter().filter(is_report).collect()
}

/// The attached workbook opens and has the accounting sheets.
fn assert_parses(call: &Call) {
    let file = call.files.first().expect("an attached file");
    assert!(file.file_name.as_deref().is_some_and(|n| n.ends_with(".xlsx")), "{:?}", file.file_name);
    let workbook = Xlsx::new(Cursor::new(file.bytes.clone())).expect("an xlsx workbook");
    let sheets = workbook.sheet_names();
    assert!(sheets.iter().any(|s| s == "Показания"), "{sheets:?}");
}

#[tokio::test]
async fn report_goes_out_once_per_period_across_restarts() {
    // 1 March 2026, 08:00 in Moscow: February's report is due at 09:00, January's is overdue.
    let start = Utc.with_ymd_and_hms(2026, 3, 1, 5, 0, 0).unwrap();
    let app = TestApp::spawn_with(start, schedule).await;
    testing::standard_tariffs(app.ctx()).await;
    testing::sign(
        app.ctx(),
        "1",
        testing::new_consumer("Бендер", None),
        "W-1",
        Service::Water,
        TariffPlan::Single,
        &[0],
    )
    .await;

    // The missed period goes out at start.
    let january = app.telegram.wait_for_call(0, Duration::from_secs(10), is_report).await;
    assert_eq!(january.text(), Some("Отчёт за январь 2026"));
    assert_parses(&january);

    // Nothing more until the due moment…
    app.app.scheduler_looked().await;
    assert_eq!(reports_sent(&app).len(), 1);
    // …then February's.
    let seen = app.telegram.calls().len();
    app.clock.set(Utc.with_ymd_and_hms(2026, 3, 1, 6, 0, 1).unwrap());
    let february = app.telegram.wait_for_call(seen, Duration::from_secs(10), is_report).await;
    assert_eq!(february.text(), Some("Отчёт за февраль 2026"));
    assert_parses(&february);

    // A restart sends nothing again.
    let app = app.restart(schedule).await;
    app.clock.set(Utc.with_ymd_and_hms(2026, 3, 20, 12, 0, 0).unwrap());
    app.app.scheduler_looked().await;
    assert_eq!(reports_sent(&app).len(), 2);
    let rows = delivery::Entity::find().all(app.ctx().db.conn()).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.sent_at.is_some() && r.attempts == 1), "{rows:?}");
}

/// The report sent is the closed month's: a payment that arrives while the report is uploading,
/// dated in that month, is booked in the open month, and the month closes at what the
/// accountants received.
#[tokio::test]
async fn a_payment_booked_while_the_report_uploads_goes_to_the_open_month() {
    // 1 March 2026, 08:00 in Moscow: January's report goes out at start, February's at 09:00.
    let start = Utc.with_ymd_and_hms(2026, 3, 1, 5, 0, 0).unwrap();
    let app = TestApp::spawn_with(start, schedule).await;
    let ctx = app.ctx();
    testing::standard_tariffs(ctx).await;
    let consumer = testing::new_consumer("Бендер", None);
    testing::sign(ctx, "1", consumer, "W-1", Service::Water, TariffPlan::Single, &[0]).await;
    app.telegram.wait_for_call(0, Duration::from_secs(10), is_report).await;

    app.telegram.hold_uploads();
    let seen = app.telegram.calls().len();
    app.clock.set(Utc.with_ymd_and_hms(2026, 3, 1, 6, 0, 1).unwrap());
    let february = app.telegram.wait_for_call(seen, Duration::from_secs(10), is_report).await;
    assert_eq!(february.text(), Some("Отчёт за февраль 2026"));
    // The bank's statement of 27 February is loaded while the report is on its way.
    let late = NewPayment {
        contract_number: "W-1".into(),
        amount: kopecks!(500_00),
        paid_on: NaiveDate::from_ymd_opt(2026, 2, 27).unwrap(),
        for_period: None,
        reference: Some("п/п 5".into()),
        confirm_duplicate: false,
    };
    let paid = payments::record(ctx, late, Actor::System).await.unwrap();
    app.telegram.release_uploads();
    let feb = Period::parse("2026-02").unwrap();
    let target = ACCOUNTANTS.to_string();
    for _ in 0..200 {
        if deliveries::is_sent(ctx, deliveries::MONTHLY_REPORT, feb, &target).await.unwrap() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(deliveries::is_sent(ctx, deliveries::MONTHLY_REPORT, feb, &target).await.unwrap());

    assert_eq!(paid.period, Period::parse("2026-03").unwrap(), "February was closed before its report was built");
    let sent = &february.files[0].bytes;
    let again = reports::monthly_report(ctx, feb, "http://127.0.0.1").await.unwrap();
    assert!(*sent == again, "February's report as sent is February as it closed");
}
