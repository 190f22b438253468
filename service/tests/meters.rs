//! A meter's life: replacement, rollover, seal events and verification dates, on a real SQLite file.

use chrono::NaiveDate;
use domain::{
    Kopecks, MeterValue, Period, ReadingError, ReadingSource, ReadingStatus, Role, RolloverError, Service, TariffPlan,
    kopecks,
};
use entities::{audit_log, charge, meter, reading};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use service::audit::Actor;
use service::meters::seals::{self, Resolution, SealError};
use service::meters::{self, MeterError, Replacement};
use service::readings;
use service::readings::review::Decision;
use service::readings::{Submission, SubmitError, review, walk};
use service::register::changes::MeterDetails;
use service::register::sign_up::SignedUp;
use service::register::{cards, changes};
use service::testing::{TestContext, new_consumer};

fn v(units: i64) -> MeterValue {
    MeterValue::from_whole(units).unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn submission(meter_id: i64, values: Vec<MeterValue>, actor: Actor) -> Submission {
    Submission { confirmed: true, ..Submission::new(meter_id, values, ReadingSource::Panel, actor) }
}

/// An accepted reading taken at noon (Moscow) on `on`.
async fn read(t: &TestContext, meter_id: i64, values: Vec<MeterValue>, on: &str) -> reading::Model {
    let taken_at = day(on).and_hms_opt(9, 0, 0).unwrap().and_utc();
    let reading = Submission { taken_at: Some(taken_at), ..submission(meter_id, values, Actor::System) };
    readings::submit(&t.ctx, reading).await.unwrap().reading
}

/// Consumption and amount charged per meter in `period`, in meter order.
async fn charged(t: &TestContext, contract_id: i64, period: &str) -> Vec<(i64, MeterValue, Kopecks)> {
    let period = Period::parse(period).unwrap();
    charge::Entity::find()
        .filter(charge::Column::ContractId.eq(contract_id))
        .filter(charge::Column::Period.eq(period))
        .order_by_asc(charge::Column::MeterId)
        .all(t.ctx.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.meter_id.unwrap(), c.consumption.unwrap(), c.amount_kopecks))
        .collect()
}

async fn meter(t: &TestContext, id: i64) -> meter::Model {
    meter::Entity::find_by_id(id).one(t.ctx.db.conn()).await.unwrap().unwrap()
}

async fn count_readings(t: &TestContext) -> u64 {
    reading::Entity::find().count(t.ctx.db.conn()).await.unwrap()
}

/// A water meter installed on 2026-01-01 at 100 m³ (40 ₽/m³), the clock at 2026-03-15.
async fn water(t: &TestContext) -> SignedUp {
    t.standard_tariffs().await;
    t.sign("5", new_consumer("Козлевич А. Л.", None), "W-5", Service::Water, TariffPlan::Single, &[100]).await
}

fn replacement(meter_id: i64, final_units: i64, on: &str) -> Replacement {
    Replacement {
        meter_id,
        final_values: vec![v(final_units)],
        final_taken_on: day(on),
        new_serial: "NEW-1".into(),
        new_initial_values: vec![v(0)],
        new_seal_number: Some("P-2".into()),
        new_verification_due: Some(day("2032-03-01")),
        reason: "истёк срок поверки".into(),
    }
}

#[tokio::test]
async fn a_month_with_a_replacement_pays_for_both_meters() {
    let t = TestContext::new().await;
    let s = water(&t).await;
    let admin = t.staff("admin", Role::Admin).await.id;
    let march = Period::parse("2026-03").unwrap();
    let unread = || async { walk::unread_plots(t.ctx.db.conn(), march).await.unwrap().len() };
    assert_eq!(unread().await, 1);

    let done = meters::replace(&t.ctx, replacement(s.meter_id, 150, "2026-03-05"), admin).await.unwrap();
    let new = done.new_meter.id;
    // The final reading is March's reading of the contract, as in the report: off the walking list.
    assert_eq!(unread().await, 0);
    assert_eq!(done.old_meter.removed_on, Some(day("2026-03-05")));
    assert_eq!((done.final_reading.meter_id, done.final_reading.values()), (s.meter_id, vec![v(150)]));
    assert_eq!(done.final_reading.status, ReadingStatus::Accepted);
    let installed = &done.new_meter;
    assert_eq!((installed.contract_id, installed.serial.as_str()), (s.contract_id, "NEW-1"));
    assert_eq!((installed.installed_on, installed.initial_values()), (day("2026-03-05"), vec![v(0)]));

    // The consumer reads the new meter at 30 m³ on the 15th.
    let me = Actor::Consumer { consumer_id: s.consumer_id, telegram_user_id: 1 };
    readings::submit(&t.ctx, submission(new, vec![v(30)], me)).await.unwrap();

    // March: 150 − 100 on the old meter and 30 − 0 on the new one, at 40 ₽/m³.
    assert_eq!(
        charged(&t, s.contract_id, "2026-03").await,
        [(s.meter_id, v(50), kopecks!(2_000_00)), (new, v(30), kopecks!(1_200_00))]
    );
    let statement = service::ledger::debt::statement(&t.ctx.db, s.consumer_id).await.unwrap();
    assert_eq!(statement.total.debt(), kopecks!(3_200_00));
    assert_eq!(statement.lines[0].meter_serial.as_deref(), Some("NEW-1"));

    // The history keeps both; only the new one takes readings.
    let chain: Vec<i64> =
        meters::of_contract(t.ctx.db.conn(), s.contract_id).await.unwrap().iter().map(|m| m.id).collect();
    assert_eq!(chain, [s.meter_id, new]);
    let mine = cards::consumer_meters(t.ctx.db.conn(), s.consumer_id).await.unwrap();
    assert_eq!(mine.iter().map(|c| c.meter.id).collect::<Vec<_>>(), [new]);
    let err = readings::submit(&t.ctx, submission(s.meter_id, vec![v(160)], Actor::System)).await.unwrap_err();
    assert!(matches!(err, SubmitError::MeterRemoved), "{err:?}");
    let actions: Vec<(String, Option<i64>)> = audit_log::Entity::find()
        .filter(audit_log::Column::Entity.eq("meter"))
        .all(t.ctx.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.entity_id))
        .collect();
    assert_eq!(actions, [("meter.replace".into(), Some(s.meter_id)), ("meter.install".into(), Some(new))]);
}

#[tokio::test]
async fn a_replacement_is_refused_below_the_last_reading_or_out_of_date() {
    let t = TestContext::new().await;
    let s = water(&t).await;
    let admin = t.staff("admin", Role::Admin).await.id;
    read(&t, s.meter_id, vec![v(120)], "2026-02-20").await;

    let err = meters::replace(&t.ctx, replacement(s.meter_id, 119, "2026-03-05"), admin).await.unwrap_err();
    assert!(matches!(err, MeterError::Invalid(ReadingError::Decreasing { .. })), "{err:?}");
    assert!(err.to_string().contains("меньше предыдущего (120)"), "{err}");
    let err = meters::replace(&t.ctx, replacement(s.meter_id, 130, "2026-02-19"), admin).await.unwrap_err();
    assert_eq!(err.to_string(), "Дата не может быть раньше 20.02.2026 — последнего показания или установки счётчика.");
    let err = meters::replace(&t.ctx, replacement(s.meter_id, 130, "2026-03-16"), admin).await.unwrap_err();
    assert!(matches!(err, MeterError::InFuture), "{err:?}");
    let unsigned = Replacement { reason: " ".into(), ..replacement(s.meter_id, 130, "2026-03-05") };
    assert!(matches!(meters::replace(&t.ctx, unsigned, admin).await, Err(MeterError::NoReason)));

    assert_eq!(meter(&t, s.meter_id).await.removed_on, None);
    assert_eq!(meters::of_contract(t.ctx.db.conn(), s.contract_id).await.unwrap().len(), 1);
    assert_eq!(count_readings(&t).await, 1);

    // A reading waiting for review is decided first.
    let jump = Submission { confirmed: true, ..submission(s.meter_id, vec![v(5_000)], Actor::System) };
    let flagged = readings::submit(&t.ctx, jump).await.unwrap().reading;
    let err = meters::replace(&t.ctx, replacement(s.meter_id, 130, "2026-03-05"), admin).await.unwrap_err();
    assert!(matches!(err, MeterError::PendingReview), "{err:?}");
    review::review(&t.ctx, flagged.id, Decision::Reject, admin).await.unwrap();

    // Equal to the last reading is fine (nothing used since), and a removed meter is not replaced twice.
    meters::replace(&t.ctx, replacement(s.meter_id, 120, "2026-02-20"), admin).await.unwrap();
    let again = meters::replace(&t.ctx, replacement(s.meter_id, 120, "2026-03-01"), admin).await.unwrap_err();
    assert!(matches!(again, MeterError::NotInService), "{again:?}");
}

/// An electricity meter (5 ₽/kWh) of five digits, at 99 950 kWh since February.
async fn near_the_limit(t: &TestContext) -> SignedUp {
    t.standard_tariffs().await;
    let s = t
        .sign("9", new_consumer("Паниковский М. С.", None), "E-9", Service::Electricity, TariffPlan::Single, &[99_900])
        .await;
    read(t, s.meter_id, vec![v(99_950)], "2026-02-25").await;
    s
}

#[tokio::test]
async fn a_rollover_bills_the_way_round_zero_exactly() {
    let t = TestContext::new().await;
    let s = near_the_limit(&t).await;
    let admin = t.staff("admin", Role::Admin).await.id;

    let done = meters::rollover(&t.ctx, s.meter_id, 5, vec![v(30)], day("2026-03-15"), admin).await.unwrap();
    let restarted = &done.new_meter;
    assert_eq!(done.final_reading.values(), [v(100_000)]);
    assert_eq!((restarted.serial.as_str(), restarted.initial_values()), ("SN-E-9", vec![v(0)]));
    assert_eq!(restarted.seal_number, meter(&t, s.meter_id).await.seal_number);
    let first = done.first_reading.unwrap();
    assert_eq!((first.meter_id, first.values(), first.status), (restarted.id, vec![v(30)], ReadingStatus::Accepted));

    // (100 000 − 99 950) + 30 = 80 kWh at 5 ₽.
    assert_eq!(
        charged(&t, s.contract_id, "2026-03").await,
        [(s.meter_id, v(50), kopecks!(250_00)), (restarted.id, v(30), kopecks!(150_00))]
    );
    // The next reading counts from the value after the rollover.
    readings::submit(&t.ctx, submission(restarted.id, vec![v(45)], Actor::System)).await.unwrap();
    assert_eq!(charged(&t, s.contract_id, "2026-03").await[1], (restarted.id, v(45), kopecks!(225_00)));
}

#[tokio::test]
async fn a_rollover_is_refused_unless_the_counter_went_down_within_its_digits() {
    let t = TestContext::new().await;
    let s = near_the_limit(&t).await;
    let admin = t.staff("admin", Role::Admin).await.id;
    let today = day("2026-03-15");

    for (digits, value) in [(5, 99_960), (5, 99_950)] {
        let err = meters::rollover(&t.ctx, s.meter_id, digits, vec![v(value)], today, admin).await.unwrap_err();
        assert!(matches!(err, MeterError::Rollover(RolloverError::NotLower)), "{value}: {err:?}");
    }
    let err = meters::rollover(&t.ctx, s.meter_id, 4, vec![v(30)], today, admin).await.unwrap_err();
    assert!(matches!(err, MeterError::Rollover(RolloverError::DoesNotFit { .. })), "{err:?}");
    assert_eq!(count_readings(&t).await, 1);
    assert_eq!(meter(&t, s.meter_id).await.removed_on, None);
    // Without the admin, a lower value stays a refused reading.
    let err = readings::submit(&t.ctx, submission(s.meter_id, vec![v(30)], Actor::System)).await.unwrap_err();
    assert!(matches!(err, SubmitError::Invalid(ReadingError::Decreasing { .. })), "{err:?}");
}

#[tokio::test]
async fn a_broken_seal_stays_open_until_an_admin_resolves_it() {
    let t = TestContext::new().await;
    let s = water(&t).await;
    let controller = t.staff("kontroler", Role::Controller).await;
    let admin = t.staff("admin", Role::Admin).await.id;
    let by_controller = |units, seal_intact, key: &str| Submission {
        seal_intact,
        comment: Some("Пломба сорвана".into()),
        idempotency_key: Some(key.into()),
        ..submission(s.meter_id, vec![v(units)], Actor::Staff(controller.id))
    };

    readings::submit(&t.ctx, by_controller(101, Some(true), "a")).await.unwrap();
    readings::submit(&t.ctx, by_controller(102, None, "b")).await.unwrap();
    assert!(seals::open_events(t.ctx.db.conn()).await.unwrap().is_empty());
    let broken = readings::submit(&t.ctx, by_controller(103, Some(false), "c")).await.unwrap().reading;
    // A retried submission records once, and reports once.
    readings::submit(&t.ctx, by_controller(103, Some(false), "c")).await.unwrap();

    let open = seals::open_events(t.ctx.db.conn()).await.unwrap();
    assert_eq!(open.len(), 1);
    let event = &open[0];
    assert_eq!((event.event.meter_id, event.event.reading_id), (s.meter_id, Some(broken.id)));
    assert_eq!((event.plot_number.as_str(), event.reported_by.as_deref()), ("5", Some(controller.full_name.as_str())));
    assert_eq!(event.event.comment.as_deref(), Some("Пломба сорвана"));

    let note = |text: &str| Resolution { note: text.into(), new_seal_number: Some(" P-77 ".into()) };
    assert!(matches!(seals::resolve(&t.ctx, event.event.id, note("  "), admin).await, Err(SealError::NoNote)));
    let resolved = seals::resolve(&t.ctx, event.event.id, note("Опломбирован заново"), admin).await.unwrap();
    assert_eq!(resolved.resolution.as_deref(), Some("Опломбирован заново"));
    assert!(seals::open_events(t.ctx.db.conn()).await.unwrap().is_empty());
    let sealed = meter(&t, s.meter_id).await;
    assert_eq!((sealed.seal_number.as_deref(), sealed.seal_checked_on), (Some("P-77"), Some(t.ctx.today())));
    let history = seals::meter_events(t.ctx.db.conn(), s.meter_id).await.unwrap();
    assert_eq!(history[0].resolved_by.as_deref(), Some("Сотрудник admin"));
    assert!(matches!(
        seals::resolve(&t.ctx, event.event.id, note("ещё раз"), admin).await,
        Err(SealError::AlreadyResolved)
    ));
    let trail = audit_log::Entity::find().filter(audit_log::Column::Action.eq("seal.resolve")).all(t.ctx.db.conn());
    assert!(trail.await.unwrap()[0].details.contains("P-77"));
}

#[tokio::test]
async fn verification_due_lists_meters_in_service_within_sixty_days_overdue_first() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let admin = t.staff("admin", Role::Admin).await.id;
    let mut meters_by_plot = Vec::new();
    for plot in ["1", "2", "3", "4", "5", "6"] {
        let number = format!("W-{plot}");
        let s = t.sign(plot, new_consumer(plot, None), &number, Service::Water, TariffPlan::Single, &[0]).await;
        meters_by_plot.push(s);
    }
    let due = |s: &SignedUp, on: &str| {
        let (ctx, meter_id, on) = (t.ctx.clone(), s.meter_id, day(on));
        async move {
            let details = MeterDetails {
                serial: "X".into(),
                seal_number: None,
                seal_checked_on: None,
                verification_due: Some(on),
            };
            changes::update_meter(&ctx, meter_id, details, Actor::System).await.unwrap();
        }
    };
    let [in_sixty, past_sixty, overdue, replaced, closed, _never] = &meters_by_plot[..] else { unreachable!() };
    // Today is 15.03.2026: the 60th day ahead is 14.05.2026.
    due(in_sixty, "2026-05-14").await;
    due(past_sixty, "2026-05-15").await;
    due(overdue, "2026-03-01").await;
    due(replaced, "2026-03-10").await;
    due(closed, "2026-04-01").await;
    let newer = meters::replace(&t.ctx, replacement(replaced.meter_id, 0, "2026-03-12"), admin).await.unwrap();
    changes::close_contract(&t.ctx, closed.contract_id, day("2026-03-14"), Actor::System).await.unwrap();

    let listed =
        meters::verification_due(t.ctx.db.conn(), t.ctx.today(), meters::VERIFICATION_NOTICE_DAYS).await.unwrap();
    let ids: Vec<i64> = listed.iter().map(|info| info.meter.id).collect();
    assert_eq!(ids, [overdue.meter_id, in_sixty.meter_id]);
    assert_eq!(listed[0].plot.number.as_str(), "3");
    assert_eq!(newer.new_meter.verification_due, Some(day("2032-03-01")), "the new meter is not due");
}
