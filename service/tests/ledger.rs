//! Debts, payments and the demo generator's consistency.

use chrono::NaiveDate;
use domain::money::MoneyError;
use domain::{Kopecks, MeterValue, Period, ReadingSource, Service, TariffPlan, kopecks};
use entities::{charge, payment};
use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder};
use service::audit::Actor;
use service::demo::{self, DemoSpec};
use service::ledger::debt::{self, Scope};
use service::ledger::payments::{self, NewPayment, PaymentError};
use service::readings;
use service::readings::Submission;
use service::register::sign_up::ConsumerRef;
use service::testing::{TestContext, new_consumer};

fn pay(contract: &str, kopecks: i64, reference: Option<&str>) -> NewPayment {
    NewPayment {
        contract_number: contract.into(),
        amount: Kopecks::new(kopecks).unwrap(),
        paid_on: NaiveDate::from_ymd_opt(2026, 3, 10).unwrap(),
        for_period: Some(Period::parse("2026-02").unwrap()),
        reference: reference.map(Into::into),
        confirm_duplicate: false,
    }
}

async fn read(t: &TestContext, meter_id: i64, values: &[i64]) {
    let submission = Submission {
        seal_intact: Some(true),
        ..Submission::new(
            meter_id,
            values.iter().map(|v| MeterValue::from_whole(*v).unwrap()).collect(),
            ReadingSource::Panel,
            Actor::System,
        )
    };
    readings::submit(&t.ctx, submission).await.unwrap();
}

#[tokio::test]
async fn debt_for_two_services_with_partial_and_over_payment() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let water = t.sign("5", new_consumer("Корейко А. И.", None), "W-5", Service::Water, TariffPlan::Single, &[0]).await;
    let power = t
        .sign("5", ConsumerRef::Existing(water.consumer_id), "E-5", Service::Electricity, TariffPlan::DayNight, &[0, 0])
        .await;
    assert_eq!(water.plot_id, power.plot_id);
    read(&t, water.meter_id, &[10]).await; // 400 ₽
    read(&t, power.meter_id, &[100, 50]).await; // 600 + 150 = 750 ₽

    payments::record(&t.ctx, pay("W-5", 150_00, Some("B-1")), Actor::System).await.unwrap();
    payments::record(&t.ctx, pay("E-5", 800_00, None), Actor::System).await.unwrap();
    assert!(matches!(
        payments::record(&t.ctx, pay("W-5", 1, Some("B-1")), Actor::System).await,
        Err(PaymentError::DuplicateReference(_))
    ));
    assert!(matches!(
        payments::record(&t.ctx, pay("X-1", 1, None), Actor::System).await,
        Err(PaymentError::UnknownContract(_))
    ));
    // Whoever calls the service (form, API, import), a payment is above zero, at most ten
    // million rubles, and dated in a billing year.
    for (amount, refusal) in [
        (0, MoneyError::NotPositive),
        (-1, MoneyError::NotPositive),
        (10_000_000_01, MoneyError::PaymentTooLarge),
        (Kopecks::MAX.get(), MoneyError::PaymentTooLarge),
    ] {
        let refused = payments::record(&t.ctx, pay("W-5", amount, None), Actor::System).await;
        assert!(matches!(refused, Err(PaymentError::Amount(ref e)) if *e == refusal), "{amount}: {refused:?}");
    }
    for year in [1, 1999, 3000] {
        let paid_on = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
        let refused = payments::record(&t.ctx, NewPayment { paid_on, ..pay("W-5", 1, None) }, Actor::System).await;
        assert!(matches!(refused, Err(PaymentError::PaidOn(_))), "{year}: {refused:?}");
    }

    let statement = debt::statement(&t.ctx.db, water.consumer_id).await.unwrap();
    let by_number = |n: &str| statement.lines.iter().find(|l| l.contract_number == n).unwrap();
    assert_eq!(by_number("W-5").balance.debt(), kopecks!(250_00));
    assert_eq!(by_number("E-5").balance.debt(), kopecks!(-50_00));
    assert_eq!(by_number("E-5").last_charge, Some((Period::parse("2026-03").unwrap(), kopecks!(750_00))));
    assert_eq!(statement.total.debt(), kopecks!(200_00));
    let message = statement.to_string();
    assert!(message.contains("Задолженность 250,00 ₽"), "{message}");
    assert!(message.contains("Переплата (аванс) 50,00 ₽"), "{message}");
    assert_eq!(debt::total(t.ctx.db.conn(), Scope::Plot(water.plot_id)).await.unwrap().debt(), kopecks!(200_00));
}

/// Every demo reading was taken before the demo's "now": one later the same day would stand in
/// the future and refuse a reading entered now as «больше следующего принятого». The rows come
/// in the order a real cooperative's would have arrived (numbered by time), and each charge
/// still points at the reading it was made from.
#[tokio::test]
async fn demo_readings_are_all_in_the_past_and_in_the_order_they_were_taken() {
    let t = TestContext::new().await;
    demo::generate(&t.ctx, DemoSpec { plots: 150, months: 3, seed: 2 }).await.unwrap();
    let conn = t.ctx.db.conn();
    let readings =
        entities::reading::Entity::find().order_by_asc(entities::reading::Column::Id).all(conn).await.unwrap();
    let latest = readings.iter().map(|r| r.taken_at).max().unwrap();
    assert!(latest <= t.ctx.now(), "a reading at {latest}, after {}", t.ctx.now());
    assert!(readings.is_sorted_by_key(|r| r.taken_at), "readings are numbered in the order they were taken");

    let charges = charge::Entity::find().order_by_asc(charge::Column::Id).all(conn).await.unwrap();
    assert!(charges.is_sorted_by_key(|c| c.period), "charges are booked month by month");
    let by_id: std::collections::HashMap<i64, &entities::reading::Model> = readings.iter().map(|r| (r.id, r)).collect();
    for charge in charges.iter().filter(|c| c.kind == domain::ChargeKind::Consumption) {
        let reading = by_id[&charge.reading_id.expect("a consumption charge's reading")];
        assert_eq!((reading.meter_id, reading.period), (charge.meter_id.unwrap(), charge.for_period), "{charge:?}");
        let register = reading.values()[usize::from(charge.zone == Some(domain::Zone::Night))];
        assert_eq!(Some(register), charge.current_value, "{charge:?}");
    }
    let payments = payment::Entity::find().order_by_asc(payment::Column::Id).all(conn).await.unwrap();
    assert!(payments.is_sorted_by_key(|p| p.paid_on), "payments are booked as the money arrived");
}

/// The demo closes its history as the reports' deliveries would: every month before the last
/// full one, the last of them as reported, and each debt from the stored balances on is the
/// debt summed over the whole history.
#[tokio::test]
async fn the_demo_closes_its_months_up_to_the_last_full_one() {
    let t = TestContext::new().await;
    demo::generate(&t.ctx, DemoSpec { plots: 30, months: 5, seed: 3 }).await.unwrap();
    demo::network(&t.ctx).await.unwrap();
    let through = demo::close_reported(&t.ctx).await.unwrap().expect("months closed");
    let last_full = t.ctx.current_period().prev();
    assert_eq!(through, last_full.prev());

    let conn = t.ctx.db.conn();
    let closed = service::ledger::months::list(conn).await.unwrap();
    assert_eq!(closed.len(), 4, "the five months of history but the last full one: {closed:?}");
    assert_eq!(closed.iter().map(|c| c.period).max(), Some(through));
    assert!(closed.iter().any(|c| c.period == through && c.how == "report"), "{closed:?}");

    for month in [through, last_full] {
        let summed = debt::balances(conn, Scope::All, Some(month)).await.unwrap();
        let stored = debt::closing_debts(conn, month).await.unwrap();
        assert_eq!(stored.len(), summed.len());
        for (contract_id, balance) in summed {
            assert_eq!(stored[&contract_id], balance.debt(), "{month}, contract {contract_id}");
        }
    }
}

#[tokio::test]
async fn demo_ledger_adds_up_and_is_deterministic() {
    let spec = DemoSpec { plots: 40, months: 6, seed: 7 };
    let a = TestContext::new().await;
    let summary = demo::generate(&a.ctx, spec).await.unwrap();
    assert_eq!(summary.plots, 40);
    assert!(summary.contracts >= 60 && summary.readings > 200 && summary.payments > 100, "{summary:?}");

    let conn = a.ctx.db.conn();
    let balances = debt::balances(conn, Scope::All, None).await.unwrap();
    let total = domain::Balance::try_sum(balances.values().copied()).unwrap();
    assert_eq!(total.charged(), summary.charged);
    assert_eq!(total.paid(), summary.paid);
    assert_eq!(Ok(total.debt()), summary.charged.checked_sub(summary.paid));
    assert!(balances.values().any(|b| b.debt().is_positive()), "some debtors");
    assert!(balances.values().any(|b| b.debt().is_negative()), "some overpayments");
    assert_eq!(payment::Entity::find().count(conn).await.unwrap() as usize, summary.payments);

    // The stored charges are exactly what recomputing from readings gives.
    let before: Vec<_> = charge::Entity::find()
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.meter_id, c.period, c.zone, c.amount_kopecks))
        .collect();
    // As if every reading had been corrected: nothing is closed, every month is rebuilt.
    let cause = domain::ledger::Cause {
        kind: domain::CauseKind::Correction,
        id: 0,
        on: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
    };
    for meter_id in 1..=summary.contracts as i64 {
        service::ledger::charges::recompute_meter(conn, &a.ctx, meter_id, cause).await.unwrap();
    }
    let mut after: Vec<_> = charge::Entity::find()
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.meter_id, c.period, c.zone, c.amount_kopecks))
        .collect();
    let mut before = before;
    before.sort();
    after.sort();
    assert_eq!(before, after);

    let b = TestContext::new().await;
    assert_eq!(demo::generate(&b.ctx, spec).await.unwrap(), summary);
    assert!(matches!(demo::generate(&b.ctx, spec).await, Err(demo::DemoError::NotEmpty)));
}
