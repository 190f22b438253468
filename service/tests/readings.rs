//! Recording readings through the service layer on a real SQLite file.

use chrono::Duration;
use domain::{Kopecks, MeterValue, ReadingSource, ReadingStatus, Service, TariffPlan, kopecks, meter_value};
use entities::{audit_log, charge, reading};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use service::audit::Actor;
use service::readings;
use service::readings::review::Decision;
use service::readings::{Submission, SubmitError, review, walk};
use service::testing::{TestContext, new_consumer};

fn v(units: i64) -> MeterValue {
    MeterValue::from_whole(units).unwrap()
}

fn submission(meter_id: i64, values: Vec<MeterValue>, actor: Actor) -> Submission {
    Submission::new(meter_id, values, ReadingSource::ConsumerBot, actor)
}

async fn count_readings(t: &TestContext) -> u64 {
    reading::Entity::find().count(t.ctx.db.conn()).await.unwrap()
}

async fn charges_of(t: &TestContext, meter_id: i64) -> Vec<charge::Model> {
    charge::Entity::find().filter(charge::Column::MeterId.eq(meter_id)).all(t.ctx.db.conn()).await.unwrap()
}

/// The meter's lines as (price, consumption in thousandths, amount), cheapest first.
async fn priced_lines(t: &TestContext, meter_id: i64) -> Vec<(Option<Kopecks>, Option<i64>, Kopecks)> {
    let mut lines: Vec<_> = charges_of(t, meter_id)
        .await
        .iter()
        .map(|c| (c.price_kopecks, c.consumption.map(|v| v.thousandths()), c.amount_kopecks))
        .collect();
    lines.sort();
    lines
}

#[tokio::test]
async fn accepted_reading_is_charged_at_once() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let s = t.sign("12", new_consumer("Бендер О. И.", None), "W-1", Service::Water, TariffPlan::Single, &[100]).await;
    let actor = Actor::Consumer { consumer_id: s.consumer_id, telegram_user_id: 1 };

    let recorded = readings::submit(&t.ctx, submission(s.meter_id, vec![meter_value!(112_500)], actor)).await.unwrap();
    assert!(!recorded.duplicate);
    assert_eq!(recorded.reading.status, ReadingStatus::Accepted);
    assert_eq!(recorded.reading.period.to_string(), "2026-03");

    let charges = charges_of(&t, s.meter_id).await;
    assert_eq!(charges.len(), 1);
    // 12.5 m³ at 40 ₽.
    assert_eq!(charges[0].amount_kopecks, kopecks!(50_000));
    let statement = service::ledger::debt::statement(&t.ctx.db, s.consumer_id).await.unwrap();
    assert_eq!(statement.total.debt(), kopecks!(50_000));
}

#[tokio::test]
async fn decreasing_reading_is_refused_and_nothing_is_stored() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let s = t.sign("1", new_consumer("А", None), "E-1", Service::Electricity, TariffPlan::Single, &[500]).await;
    let err = readings::submit(&t.ctx, submission(s.meter_id, vec![v(499)], Actor::Staff(1))).await.unwrap_err();
    assert!(matches!(err, SubmitError::Invalid(domain::ReadingError::Decreasing { .. })), "{err:?}");
    assert!(err.to_string().contains("меньше предыдущего"));
    assert_eq!(count_readings(&t).await, 0);
}

#[tokio::test]
async fn a_controllers_reading_states_the_seal_and_brings_a_photo_whoever_submits_it() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let s = t.sign("12", new_consumer("Бендер О. И.", None), "W-1", Service::Water, TariffPlan::Single, &[100]).await;
    let controller = t.staff("ctl", domain::Role::Controller).await;
    let photo = service::meters::photos::store(&t.ctx, service::testing::photos::jpeg(400, 300)).await.unwrap();
    for source in [ReadingSource::ControllerBot, ReadingSource::ControllerWeb] {
        let by_controller = |seal_intact, photo_id| Submission {
            seal_intact,
            photo_id,
            ..Submission::new(s.meter_id, vec![v(101)], source, Actor::Staff(controller.id))
        };
        let err = readings::submit(&t.ctx, by_controller(None, Some(photo.id))).await.unwrap_err();
        assert!(matches!(err, SubmitError::SealNotStated), "{source:?}: {err:?}");
        let err = readings::submit(&t.ctx, by_controller(Some(true), None)).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "Прикрепите фото счётчика, на котором видны цифры: без фото показание контролёра не принимается."
        );
    }
    assert_eq!(count_readings(&t).await, 0);
    // Consumers and the office may leave both out; a controller with both is recorded.
    readings::submit(&t.ctx, submission(s.meter_id, vec![v(101)], Actor::System)).await.unwrap();
    let complete = Submission {
        seal_intact: Some(true),
        photo_id: Some(photo.id),
        ..Submission::new(s.meter_id, vec![v(102)], ReadingSource::ControllerWeb, Actor::Staff(controller.id))
    };
    readings::submit(&t.ctx, complete).await.unwrap();
    assert_eq!(count_readings(&t).await, 2);
}

#[tokio::test]
async fn same_idempotency_key_records_once() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let s = t.sign("1", new_consumer("А", None), "E-1", Service::Electricity, TariffPlan::DayNight, &[10, 5]).await;
    let mut sub = submission(s.meter_id, vec![v(20), v(8)], Actor::System);
    sub.idempotency_key = Some("tg:42:7".into());
    let first = readings::submit(&t.ctx, sub.clone()).await.unwrap();
    let second = readings::submit(&t.ctx, sub).await.unwrap();
    assert!(!first.duplicate && second.duplicate);
    assert_eq!(first.reading.id, second.reading.id);
    assert_eq!(count_readings(&t).await, 1);
    assert_eq!(charges_of(&t, s.meter_id).await.len(), 2, "one line per zone");
}

#[tokio::test]
async fn a_key_counts_only_for_its_meter_and_author() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let a = t.sign("1", new_consumer("А", None), "W-1", Service::Water, TariffPlan::Single, &[10]).await;
    let b = t.sign("2", new_consumer("Б", None), "W-2", Service::Water, TariffPlan::Single, &[10]).await;
    let (first, second) =
        (t.staff("first", domain::Role::Controller).await, t.staff("second", domain::Role::Admin).await);
    let keyed = |meter_id, value, actor| Submission {
        idempotency_key: Some("same-key".into()),
        ..submission(meter_id, vec![v(value)], actor)
    };

    let original = readings::submit(&t.ctx, keyed(a.meter_id, 11, Actor::Staff(first.id))).await.unwrap();
    // The same key on another meter, and from another person on the same meter: new readings.
    let other_meter = readings::submit(&t.ctx, keyed(b.meter_id, 12, Actor::Staff(first.id))).await.unwrap();
    let other_author = readings::submit(&t.ctx, keyed(a.meter_id, 13, Actor::Staff(second.id))).await.unwrap();
    for (recorded, meter_id, value) in [(&other_meter, b.meter_id, 12), (&other_author, a.meter_id, 13)] {
        assert!(!recorded.duplicate);
        assert_eq!((recorded.reading.meter_id, recorded.reading.values()), (meter_id, vec![v(value)]));
    }
    // The author repeating it on the same meter gets their own reading back.
    let repeat = readings::submit(&t.ctx, keyed(a.meter_id, 11, Actor::Staff(first.id))).await.unwrap();
    assert!(repeat.duplicate);
    assert_eq!(repeat.reading.id, original.reading.id);
    assert_eq!(count_readings(&t).await, 3);
}

#[tokio::test]
async fn empty_or_oversized_keys_are_refused() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let s = t.sign("1", new_consumer("А", None), "W-1", Service::Water, TariffPlan::Single, &[10]).await;
    let longest = "k".repeat(readings::MAX_KEY_LEN);
    for key in ["", " ", "с пробелом", "ключ", &format!("{longest}k")] {
        let sub =
            Submission { idempotency_key: Some(key.to_owned()), ..submission(s.meter_id, vec![v(11)], Actor::System) };
        let err = readings::check(&t.ctx, &sub).await.unwrap_err();
        assert!(matches!(err, SubmitError::BadKey), "{key:?}: {err:?}");
        let err = readings::submit(&t.ctx, sub).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "Ключ повторной отправки (idempotency_key) — от 1 до 100 латинских букв, цифр и знаков, без пробелов."
        );
    }
    assert_eq!(count_readings(&t).await, 0);
    let sub = Submission { idempotency_key: Some(longest), ..submission(s.meter_id, vec![v(11)], Actor::System) };
    assert!(!readings::submit(&t.ctx, sub).await.unwrap().duplicate);
}

#[tokio::test]
async fn concurrent_submissions_with_one_key_record_once() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let s = t.sign("1", new_consumer("А", None), "E-1", Service::Electricity, TariffPlan::Single, &[10]).await;
    let mut sub = submission(s.meter_id, vec![v(20)], Actor::System);
    sub.idempotency_key = Some("double-tap".into());
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (ctx, sub) = (t.ctx.clone(), sub.clone());
            tokio::spawn(async move { readings::submit(&ctx, sub).await.unwrap() })
        })
        .collect();
    let mut fresh = 0;
    for task in tasks {
        fresh += usize::from(!task.await.unwrap().duplicate);
    }
    assert_eq!(fresh, 1);
    assert_eq!(count_readings(&t).await, 1);
}

/// A reading held for review (5 000, a typo) while a lower one (7) is accepted after it cannot
/// be accepted: billing would meet 5 000 and then 7 and stop for the meter. The admin is told to
/// correct it or reject it, and it waits as it was.
#[tokio::test]
async fn a_held_reading_out_of_order_with_later_ones_is_not_accepted() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let s = t.sign("1", new_consumer("А", None), "W-1", Service::Water, TariffPlan::Single, &[0]).await;
    let mut typo = submission(s.meter_id, vec![v(5_000)], Actor::System);
    typo.confirmed = true;
    let held = readings::submit(&t.ctx, typo).await.unwrap().reading;
    assert_eq!(held.status, ReadingStatus::Flagged);
    t.clock.advance(Duration::days(3));
    let later = readings::submit(&t.ctx, submission(s.meter_id, vec![v(7)], Actor::System)).await.unwrap();
    assert_eq!(later.reading.status, ReadingStatus::Accepted);
    let billed = charges_of(&t, s.meter_id).await;

    let refused = review::review(&t.ctx, held.id, Decision::Accept, 1).await.unwrap_err();
    assert_eq!(
        refused.to_string(),
        "Принять нельзя: показание (общая) 5000 больше принятого после него (7). \
         Исправьте одно из них или отклоните это показание."
    );
    let still = reading::Entity::find_by_id(held.id).one(t.ctx.db.conn()).await.unwrap().unwrap();
    assert_eq!(still.status, ReadingStatus::Flagged);
    assert_eq!(charges_of(&t, s.meter_id).await, billed, "nothing recomputed");
    let rejected = review::review(&t.ctx, held.id, Decision::Reject, 1).await.unwrap();
    assert_eq!(rejected.status, ReadingStatus::Rejected);
}

#[tokio::test]
async fn suspicious_jump_needs_confirmation_and_waits_for_review() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let s = t.sign("1", new_consumer("А", None), "W-1", Service::Water, TariffPlan::Single, &[0]).await;
    let err = readings::submit(&t.ctx, submission(s.meter_id, vec![v(5_000)], Actor::System)).await.unwrap_err();
    let SubmitError::NeedsConfirmation(warning) = err else { panic!("expected a warning, got {err:?}") };
    assert!(warning.contains("5000"), "{warning}");
    assert_eq!(count_readings(&t).await, 0);

    let mut confirmed = submission(s.meter_id, vec![v(5_000)], Actor::System);
    confirmed.confirmed = true;
    let recorded = readings::submit(&t.ctx, confirmed).await.unwrap();
    assert_eq!(recorded.reading.status, ReadingStatus::Flagged);
    assert!(charges_of(&t, s.meter_id).await.is_empty(), "flagged readings are not billed");

    let reviewed = review::review(&t.ctx, recorded.reading.id, Decision::Accept, 1).await.unwrap();
    assert_eq!(reviewed.status, ReadingStatus::Accepted);
    assert_eq!(charges_of(&t, s.meter_id).await[0].amount_kopecks, kopecks!(200_000_00));
    assert!(matches!(
        review::review(&t.ctx, recorded.reading.id, Decision::Reject, 1).await,
        Err(review::ReviewError::NotFlagged)
    ));
}

#[tokio::test]
async fn correction_is_a_new_record_with_an_audit_trail() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let admin = t.staff("admin", domain::Role::Admin).await.id;
    let s = t.sign("1", new_consumer("А", None), "W-1", Service::Water, TariffPlan::Single, &[0]).await;
    let original = readings::submit(&t.ctx, submission(s.meter_id, vec![v(10)], Actor::System)).await.unwrap().reading;

    assert!(matches!(
        review::correct(&t.ctx, original.id, vec![v(12)], "  ", admin).await,
        Err(review::CorrectionError::NoReason)
    ));
    let corrected = review::correct(&t.ctx, original.id, vec![v(12)], "опечатка", admin).await.unwrap();
    assert_eq!(corrected.supersedes_id, Some(original.id));
    assert_eq!(corrected.taken_at, original.taken_at);

    let old = reading::Entity::find_by_id(original.id).one(t.ctx.db.conn()).await.unwrap().unwrap();
    assert_eq!(old.status, ReadingStatus::Superseded);
    assert_eq!(old.value_t1, v(10), "the original values are never rewritten");
    assert_eq!(charges_of(&t, s.meter_id).await[0].amount_kopecks, kopecks!(48_000));
    let trail = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("reading.correct"))
        .one(t.ctx.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert!(trail.details.contains("опечатка"));
    assert!(matches!(
        review::correct(&t.ctx, original.id, vec![v(13)], "ещё раз", admin).await,
        Err(review::CorrectionError::NotCurrent)
    ));
}

#[tokio::test]
async fn consumer_cannot_submit_for_someone_elses_meter() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let mine = t.sign("1", new_consumer("А", None), "W-1", Service::Water, TariffPlan::Single, &[0]).await;
    let theirs = t.sign("2", new_consumer("Б", None), "W-2", Service::Water, TariffPlan::Single, &[0]).await;
    let me = Actor::Consumer { consumer_id: mine.consumer_id, telegram_user_id: 5 };
    let err = readings::submit(&t.ctx, submission(theirs.meter_id, vec![v(1)], me)).await.unwrap_err();
    assert!(matches!(err, SubmitError::NotYourMeter));
    assert_eq!(count_readings(&t).await, 0);
}

#[tokio::test]
async fn tariff_change_recomputes_charges_from_its_date() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let s = t.sign("1", new_consumer("А", None), "W-1", Service::Water, TariffPlan::Single, &[0]).await;
    readings::submit(&t.ctx, submission(s.meter_id, vec![v(10)], Actor::System)).await.unwrap();
    assert_eq!(charges_of(&t, s.meter_id).await[0].amount_kopecks, kopecks!(40_000));

    let from = t.ctx.today() - Duration::days(3);
    service::ledger::tariffs::add(&t.ctx, Service::Water, domain::Zone::Single, kopecks!(5_000), from, Actor::Staff(1))
        .await
        .unwrap();
    // 01.01 → 15.03 is 73 days, the last 3 at the new price: 10 m³ × 70/73 = 9,589 rest 3 and
    // × 3/73 = 0,410 rest 70, the leftover litre to the latter: 9,589 × 40,00 = 383,56 ₽ and
    // 0,411 × 50,00 = 20,55 ₽.
    assert_eq!(
        priced_lines(&t, s.meter_id).await,
        [(Some(kopecks!(40_00)), Some(9_589), kopecks!(383_56)), (Some(kopecks!(50_00)), Some(411), kopecks!(20_55))]
    );
}

#[tokio::test]
async fn unread_plots_follow_the_walking_route() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let a = t.sign("10", new_consumer("А", None), "W-10", Service::Water, TariffPlan::Single, &[0]).await;
    t.sign("2", new_consumer("Б", None), "W-2", Service::Water, TariffPlan::Single, &[0]).await;
    t.sign("9", new_consumer("В", None), "W-9", Service::Water, TariffPlan::Single, &[0]).await;
    readings::submit(&t.ctx, submission(a.meter_id, vec![v(1)], Actor::System)).await.unwrap();
    let unread = walk::unread_plots(t.ctx.db.conn(), t.ctx.current_period()).await.unwrap();
    let numbers: Vec<_> = unread.iter().map(|p| p.number.to_string()).collect();
    assert_eq!(numbers, ["2", "9"]);
}

#[tokio::test]
async fn the_same_photo_stored_at_once_by_many_is_stored_once() {
    let t = TestContext::new().await;
    let image = image::RgbImage::from_fn(640, 480, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 7]));
    let mut jpeg = std::io::Cursor::new(Vec::new());
    image.write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
    let jpeg = jpeg.into_inner();
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let (ctx, jpeg) = (t.ctx.clone(), jpeg.clone());
            tokio::spawn(async move { service::meters::photos::store(&ctx, jpeg).await.expect("stored").id })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one photo row for one picture");
    let path = service::meters::photos::file(&t.ctx, ids[0], false).await.unwrap().unwrap();
    assert!(path.is_file());
    let leftovers = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter(|e| e.as_ref().is_ok_and(|e| e.file_name().to_string_lossy().contains(".tmp-")));
    assert_eq!(leftovers.count(), 0, "no temporary files left behind");
}

#[tokio::test]
async fn a_reading_just_after_local_midnight_is_priced_up_to_that_local_day() {
    use chrono::TimeZone;
    // 00:30 on 1 March in Moscow is still 28 February in UTC.
    let t = TestContext::at(chrono::Utc.with_ymd_and_hms(2026, 2, 28, 21, 30, 0).unwrap()).await;
    t.standard_tariffs().await;
    let last_of_february = chrono::NaiveDate::from_ymd_opt(2026, 2, 28).unwrap();
    service::ledger::tariffs::add(
        &t.ctx,
        Service::Water,
        domain::Zone::Single,
        kopecks!(5_000),
        last_of_february,
        Actor::System,
    )
    .await
    .unwrap();
    let s = t.sign("1", new_consumer("А", None), "W-1", Service::Water, TariffPlan::Single, &[0]).await;
    let recorded = readings::submit(&t.ctx, submission(s.meter_id, vec![v(10)], Actor::System)).await.unwrap();
    assert_eq!(recorded.reading.period.to_string(), "2026-03");
    // Dated 01.03, the reading's interval 01.01 → 01.03 includes 28.02 at the new price (dated by
    // UTC it would end on 28.02, wholly at the old one): 10 m³ × 58/59 = 9,830 rest 30 and × 1/59
    // = 0,169 rest 29, the leftover litre to the former: 9,831 × 40,00 = 393,24 ₽ and
    // 0,169 × 50,00 = 8,45 ₽.
    assert_eq!(
        priced_lines(&t, s.meter_id).await,
        [(Some(kopecks!(40_00)), Some(9_831), kopecks!(393_24)), (Some(kopecks!(50_00)), Some(169), kopecks!(8_45))]
    );
}

#[tokio::test]
async fn a_reading_queued_offline_is_checked_against_the_readings_around_it() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let s = t.sign("12", new_consumer("Бендер О. И.", None), "W-1", Service::Water, TariffPlan::Single, &[100]).await;
    let actor = Actor::Consumer { consumer_id: s.consumer_id, telegram_user_id: 1 };
    let taken = |values: i64, days_ago: i64| Submission {
        taken_at: Some(t.ctx.now() - Duration::days(days_ago)),
        ..submission(s.meter_id, vec![v(values)], actor)
    };
    // The member sends 110 today; a phone without a signal read 105 two days ago and sends it now.
    readings::submit(&t.ctx, submission(s.meter_id, vec![v(110)], actor)).await.unwrap();
    let queued = readings::submit(&t.ctx, taken(105, 2)).await.unwrap();
    assert_eq!(queued.reading.status, ReadingStatus::Accepted, "checked against 100 before it, not 110 after it");

    // Between its neighbours or refused: above the later one, or below the earlier one.
    let above = readings::submit(&t.ctx, taken(115, 1)).await.unwrap_err();
    assert!(matches!(above, SubmitError::Invalid(domain::ReadingError::AboveNext { .. })), "{above}");
    let below = readings::submit(&t.ctx, taken(95, 1)).await.unwrap_err();
    assert!(matches!(below, SubmitError::Invalid(domain::ReadingError::Decreasing { .. })), "{below}");
    assert_eq!(count_readings(&t).await, 2);
    // The month is still 10 m³ at 40 ₽.
    let statement = service::ledger::debt::statement(&t.ctx.db, s.consumer_id).await.unwrap();
    assert_eq!(statement.total.debt(), kopecks!(400_00));
}
