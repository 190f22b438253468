//! The books an accountant can sign (issue 12), through the service on a real database (SQLite,
//! or PostgreSQL when `TEST_DATABASE_URL` names one): closed months stay as sent, changes reaching
//! them become recalculation lines, payments count on the day the money arrived, and every month
//! opens where the one before closed. Kopecks computed by hand in each test.

use domain::ledger::ClosedMonths;
use domain::{CauseKind, ChargeKind, Kopecks, MeterValue, Period, Role, Service, TariffPlan, Zone, kopecks};
use entities::{charge, payment, period_balance};
use sea_orm::{ColumnTrait, EntityTrait, NotSet, QueryFilter, QueryOrder, Set};
use service::audit::Actor;
use service::ledger::debt::{self, RecalculationLine, Scope};
use service::ledger::lines::{self, LineError};
use service::ledger::months::{self, MonthError};
use service::ledger::payments::{self, NewPayment, PaymentError};
use service::ledger::tariffs;
use service::readings::review;
use service::testing::{TestContext, day, month as p, new_consumer, noon, read_accepted};

/// A reading entered in the panel on the clock's day, accepted when it jumps.
async fn read(t: &TestContext, meter_id: i64, whole: i64, staff_id: i64) -> i64 {
    read_accepted(&t.ctx, meter_id, vec![MeterValue::from_whole(whole).unwrap()], staff_id).await
}

fn payment_of(contract: &str, kopecks: i64, paid_on: &str, for_period: Option<&str>) -> NewPayment {
    NewPayment {
        contract_number: contract.into(),
        amount: Kopecks::new(kopecks).unwrap(),
        paid_on: day(paid_on),
        for_period: for_period.map(p),
        reference: None,
        confirm_duplicate: false,
    }
}

/// (booking month, for month, kind, amount) of a contract's lines, in the order written.
async fn lines_of(t: &TestContext, contract_id: i64) -> Vec<(Period, Period, ChargeKind, Kopecks)> {
    charge::Entity::find()
        .filter(charge::Column::ContractId.eq(contract_id))
        .order_by_asc(charge::Column::Id)
        .all(t.ctx.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.period, c.for_period, c.kind, c.amount_kopecks))
        .collect()
}

/// For every month from `first` to `last` and every contract: the month's raw figures open at
/// the previous month's closing, and a closed month's stored balances equal its raw figures.
async fn assert_identity(t: &TestContext, first: Period, last: Period) {
    let conn = t.ctx.db.conn();
    let mut month = first;
    let mut previous: Option<Vec<(i64, domain::ledger::MonthFigures)>> = None;
    while month <= last {
        let figures = months::figures(conn, month).await.unwrap();
        // The same closing from the last closed month's stored balance and the lines after it.
        let closing = debt::closing_debts(conn, month).await.unwrap();
        for (contract_id, f) in &figures {
            f.check().unwrap();
            assert_eq!(
                closing[contract_id], f.closing,
                "{month}, contract {contract_id}: closing from stored balances"
            );
            if let Some(before) = &previous {
                let closing = before.iter().find(|(id, _)| id == contract_id).unwrap().1.closing;
                assert_eq!(f.opening, closing, "{month}, contract {contract_id}: opens where the month before closed");
            } else if month == first {
                assert_eq!(f.opening, Kopecks::ZERO, "nothing before {first}");
            }
            let stored = period_balance::Entity::find()
                .filter(period_balance::Column::Period.eq(month))
                .filter(period_balance::Column::ContractId.eq(*contract_id))
                .one(conn)
                .await
                .unwrap();
            if let Some(stored) = stored {
                let as_stored =
                    (stored.opening, stored.consumption, stored.recalculations, stored.paid, stored.closing);
                assert_eq!(as_stored, (f.opening, f.consumption, f.recalculations, f.paid, f.closing), "{month}");
            }
        }
        previous = Some(figures);
        month = month.next();
    }
    // The debt everyone shows is the raw sum of every booked line: the last month's closing.
    let balances = debt::balances(conn, Scope::All, None).await.unwrap();
    for (contract_id, f) in previous.unwrap() {
        assert_eq!(balances[&contract_id].debt(), f.closing, "contract {contract_id}");
    }
}

/// Rule 1: August closed, a correction in November. Water at 40,00 ₽/m³; readings 20.07 (10 m³),
/// 12.08 (25 m³), 10.11 (40 m³). August was charged 15 m³ = 600,00 ₽. On 15.11 the reading of
/// 12.08 is corrected to 22 m³: August wants 12 m³ = 480,00 ₽, so −3 m³ and −120,00 ₽ are booked
/// in November; November's own line is rebuilt at 18 m³ = 720,00 ₽. August stays as sent.
#[tokio::test]
async fn a_correction_reaching_a_closed_month_is_a_recalculation_in_the_open_one() {
    let t = TestContext::at(noon("2026-07-20")).await;
    t.standard_tariffs().await;
    let admin = t.staff("admin", Role::Admin).await;
    let accountant = t.staff("buh", Role::Accountant).await;
    let w = t.sign("1", new_consumer("Бендер О. И.", None), "W-1", Service::Water, TariffPlan::Single, &[0]).await;
    read(&t, w.meter_id, 10, admin.id).await;
    t.clock.set(noon("2026-08-12"));
    let august_reading = read(&t, w.meter_id, 25, admin.id).await;

    t.clock.set(noon("2026-11-01"));
    assert!(matches!(
        months::close(&t.ctx, p("2026-11"), Actor::Staff(accountant.id)).await,
        Err(MonthError::Closing(domain::ledger::ClosingError::NotEnded(_)))
    ));
    months::close(&t.ctx, p("2026-10"), Actor::Staff(accountant.id)).await.unwrap();
    let conn = t.ctx.db.conn();
    assert_eq!(months::first_open_period(conn).await.unwrap(), Some(p("2026-11")));
    let closed = months::list(conn).await.unwrap();
    assert_eq!(
        closed.iter().map(|c| c.period).collect::<Vec<_>>(),
        [p("2026-10"), p("2026-09"), p("2026-08"), p("2026-07")]
    );

    t.clock.set(noon("2026-11-10"));
    read(&t, w.meter_id, 40, admin.id).await;
    let august_before: Vec<charge::Model> =
        charge::Entity::find().filter(charge::Column::Period.eq(p("2026-08"))).all(conn).await.unwrap();
    assert_eq!(august_before.iter().map(|c| c.amount_kopecks).collect::<Vec<_>>(), [kopecks!(600_00)]);

    t.clock.set(noon("2026-11-15"));
    let corrected =
        review::correct(&t.ctx, august_reading, vec![MeterValue::from_whole(22).unwrap()], "опечатка", admin.id)
            .await
            .unwrap();

    let august_after: Vec<charge::Model> =
        charge::Entity::find().filter(charge::Column::Period.eq(p("2026-08"))).all(conn).await.unwrap();
    assert_eq!(august_after, august_before, "a closed month's lines are never changed");
    let november: Vec<charge::Model> = charge::Entity::find()
        .filter(charge::Column::Period.eq(p("2026-11")))
        .order_by_asc(charge::Column::Kind)
        .all(conn)
        .await
        .unwrap();
    assert_eq!(november.len(), 2, "{november:?}");
    let (consumption, recalculation) = (&november[0], &november[1]);
    assert_eq!((consumption.kind, consumption.amount_kopecks), (ChargeKind::Consumption, kopecks!(720_00)));
    assert_eq!(consumption.consumption, Some(MeterValue::from_whole(18).unwrap()));
    assert_eq!(recalculation.kind, ChargeKind::Recalculation);
    assert_eq!((recalculation.for_period, recalculation.amount_kopecks), (p("2026-08"), kopecks!(-120_00)));
    assert_eq!(recalculation.consumption_change, Some(-3_000));
    assert_eq!(recalculation.dated_on, day("2026-11-15"));
    assert_eq!((recalculation.cause_kind, recalculation.cause_id), (Some(CauseKind::Correction), Some(corrected.id)));
    assert_eq!(recalculation.reason.as_deref(), Some("Перерасчёт за август 2026: исправлено показание от 12.08.2026"));
    // July 400,00 + August 600,00 + November 720,00 − 120,00 = 1 600,00 ₽ = 40 m³ × 40,00 ₽.
    assert_eq!(
        debt::balances(conn, Scope::Contract(w.contract_id), None).await.unwrap()[&w.contract_id].debt(),
        kopecks!(1_600_00)
    );
    // The consumer's statement (one query) shows November's recalculation under its contract.
    let statement = debt::statement(&t.ctx.db, w.consumer_id).await.unwrap();
    let [line] = &statement.lines[..] else { panic!("one contract: {statement:?}") };
    let reason = "Перерасчёт за август 2026: исправлено показание от 12.08.2026".to_owned();
    assert_eq!(line.recalculations, [RecalculationLine { id: recalculation.id, reason, amount: kopecks!(-120_00) }]);
    assert_eq!((line.last_charge, line.balance.debt()), (Some((p("2026-11"), kopecks!(720_00))), kopecks!(1_600_00)));

    // The one writer refuses a line booked in a closed month, and removing one.
    let closed = months::closed_months(conn).await.unwrap();
    let mut sneaked: charge::ActiveModel = august_before[0].clone().into();
    sneaked.id = NotSet;
    sneaked.amount_kopecks = Set(kopecks!(1_00));
    assert!(matches!(lines::write(conn, closed, None, vec![sneaked]).await, Err(LineError::Closed(_))));
    let august = sea_orm::sea_query::Condition::all().add(charge::Column::Period.eq(p("2026-08")));
    assert!(matches!(lines::write(conn, closed, Some(august), vec![]).await, Err(LineError::Closed(_))));
    assert_eq!(
        charge::Entity::find().filter(charge::Column::Period.eq(p("2026-08"))).all(conn).await.unwrap(),
        august_before
    );

    // Reopening: admin only, with a reason; later months reopen and lose their stored balances.
    let reopen = |actor, reason: &'static str| months::reopen(&t.ctx, p("2026-09"), reason, actor);
    assert!(matches!(reopen(Actor::Staff(accountant.id), "ошибка").await, Err(MonthError::NotAdmin)));
    assert!(matches!(reopen(Actor::Staff(admin.id), "  ").await, Err(MonthError::NoReason)));
    assert_identity(&t, p("2026-01"), p("2026-11")).await;
    reopen(Actor::Staff(admin.id), "банк прислал выписку позже").await.unwrap();
    assert_eq!(months::closed_months(conn).await.unwrap(), ClosedMonths::through(p("2026-08")));
    let left: Vec<Period> = period_balance::Entity::find().all(conn).await.unwrap().iter().map(|b| b.period).collect();
    assert!(left.iter().all(|m| *m <= p("2026-08")) && !left.is_empty(), "{left:?}");
    months::close(&t.ctx, p("2026-10"), Actor::Staff(admin.id)).await.unwrap();
    assert_identity(&t, p("2026-01"), p("2026-11")).await;
}

/// Rule 2: 300,00 ₽ paid on 28.11 "for December" counts in November, the month the money
/// arrived: November's figures, the debt on 30.11 and the stored balance all say so.
#[tokio::test]
async fn a_payment_counts_in_the_month_the_money_arrived() {
    let t = TestContext::at(noon("2026-11-20")).await;
    t.standard_tariffs().await;
    let admin = t.staff("admin", Role::Admin).await;
    let w = t.sign("2", new_consumer("Паниковский М. С.", None), "W-2", Service::Water, TariffPlan::Single, &[0]).await;
    // 11,812 m³ since 01.01 at 40,00 ₽ = 472,48 ₽.
    read_accepted(&t.ctx, w.meter_id, vec![domain::meter_value!(11_812)], admin.id).await;
    t.clock.set(noon("2026-11-30"));
    let stored =
        payments::record(&t.ctx, payment_of("W-2", 300_00, "2026-11-28", Some("2026-12")), Actor::Staff(admin.id))
            .await
            .unwrap();
    assert_eq!((stored.period, stored.for_period), (p("2026-11"), p("2026-12")));
    let conn = t.ctx.db.conn();
    // 472,48 − 300,00 = 172,48 ₽, the same until November as in total.
    let until = debt::balances(conn, Scope::Contract(w.contract_id), Some(p("2026-11"))).await.unwrap();
    let all = debt::balances(conn, Scope::Contract(w.contract_id), None).await.unwrap();
    assert_eq!(until[&w.contract_id].debt(), kopecks!(172_48));
    assert_eq!(all[&w.contract_id].debt(), kopecks!(172_48));

    // A day in the future is refused; the month a payment is for defaults to its day's.
    let refused = payments::record(&t.ctx, payment_of("W-2", 1_00, "2026-12-01", None), Actor::Staff(admin.id)).await;
    assert!(matches!(refused, Err(PaymentError::InFuture(_))), "{refused:?}");
    let plain =
        payments::record(&t.ctx, payment_of("W-2", 2_00, "2026-11-29", None), Actor::Staff(admin.id)).await.unwrap();
    assert_eq!(plain.for_period, p("2026-11"));

    // Paid after November closed, for November: booked in December, the first open month.
    t.clock.set(noon("2026-12-01"));
    months::close(&t.ctx, p("2026-11"), Actor::Staff(admin.id)).await.unwrap();
    let late =
        payments::record(&t.ctx, payment_of("W-2", 50_00, "2026-11-30", None), Actor::Staff(admin.id)).await.unwrap();
    assert_eq!((late.period, late.for_period), (p("2026-12"), p("2026-11")));
    let november = period_balance::Entity::find()
        .filter(period_balance::Column::Period.eq(p("2026-11")))
        .one(conn)
        .await
        .unwrap()
        .unwrap();
    // Paid 300,00 + 2,00 in November; 472,48 − 302,00 = 170,48 ₽ at its close.
    assert_eq!((november.paid, november.closing), (kopecks!(302_00), kopecks!(170_48)));
    assert_identity(&t, p("2026-01"), p("2026-12")).await;
}

/// A price typed wrong is corrected for its own date. October (450 kWh: 210 before 01.10, 240 after)
/// was charged 2 250,00 ₽ at 5,00 and closed; on 30.11 the admin adds 65,00 ₽ from 01.10 instead of
/// 6,50: +14 400,00 ₽ (240 kWh × 60,00) is booked in November. Adding 6,50 from 01.10 is refused
/// (the price is there), so it is corrected: −14 040,00 ₽ (240 kWh × 58,50) comes back, and
/// October costs 210 × 5,00 + 240 × 6,50 = 2 610,00 ₽, as if 6,50 had been typed at first.
#[tokio::test]
async fn a_tariff_typed_wrong_is_corrected_for_its_own_date() {
    let t = TestContext::at(noon("2026-09-10")).await;
    t.standard_tariffs().await;
    let admin = Actor::Staff(t.staff("admin", Role::Admin).await.id);
    let e =
        t.sign("3", new_consumer("Козлевич А. Л.", None), "E-3", Service::Electricity, TariffPlan::Single, &[0]).await;
    let staff_id = admin.staff_id().unwrap();
    read(&t, e.meter_id, 400, staff_id).await;
    t.clock.set(noon("2026-10-25"));
    read(&t, e.meter_id, 850, staff_id).await;
    t.clock.set(noon("2026-11-02"));
    months::close(&t.ctx, p("2026-10"), Actor::System).await.unwrap();
    t.clock.set(noon("2026-11-30"));
    let (power, single, october) = (Service::Electricity, Zone::Single, day("2026-10-01"));
    tariffs::add(&t.ctx, power, single, kopecks!(65_00), october, admin).await.unwrap();

    let refused = tariffs::add(&t.ctx, power, single, kopecks!(6_50), october, admin).await.unwrap_err();
    assert!(refused.to_string().contains("отметьте «Исправить цену с этой даты»"), "{refused}");
    let missing = tariffs::correct(&t.ctx, power, single, kopecks!(6_50), day("2026-10-02"), admin).await;
    assert!(matches!(missing, Err(tariffs::TariffError::NoSuchTariff { .. })), "{missing:?}");
    let corrected = tariffs::correct(&t.ctx, power, single, kopecks!(6_50), october, admin).await.unwrap();
    assert_eq!(corrected.price_kopecks, kopecks!(6_50));

    let recalculations: Vec<_> = lines_of(&t, e.contract_id).await.into_iter().skip(2).collect();
    assert_eq!(
        recalculations,
        [
            (p("2026-11"), p("2026-10"), ChargeKind::Recalculation, kopecks!(14_400_00)),
            (p("2026-11"), p("2026-10"), ChargeKind::Recalculation, kopecks!(-14_040_00)),
        ]
    );
    let last = charge::Entity::find().order_by_desc(charge::Column::Id).one(t.ctx.db.conn()).await.unwrap().unwrap();
    assert_eq!(last.reason.as_deref(), Some("Перерасчёт за октябрь 2026: исправлена цена тарифа с 01.10.2026"));
    assert_eq!((last.cause_kind, last.cause_id), (Some(CauseKind::TariffCorrection), Some(corrected.id)));
    let debt = debt::balances(t.ctx.db.conn(), Scope::Contract(e.contract_id), None).await.unwrap();
    assert_eq!(debt[&e.contract_id].debt(), kopecks!(4_610_00), "September 2 000,00 + October 2 610,00");
}

/// Rule 4 through the service: electricity read 10.09 (400 kWh) and 25.10 (850 kWh); 5,00 ₽ from
/// 2020, and on 30.11, after October closed, 6,00 ₽ from 01.10 is added. October was charged
/// 450 kWh × 5,00 = 2 250,00 ₽; now it wants 21 days at 5,00 and 24 at 6,00: 210 kWh × 5,00 =
/// 1 050,00 ₽ + 240 kWh × 6,00 = 1 440,00 ₽ = 2 490,00 ₽, so +240,00 ₽ is booked in November.
/// September (400 kWh × 5,00 = 2 000,00 ₽) is not touched: the tariff starts after it.
#[tokio::test]
async fn a_back_dated_tariff_recalculates_the_closed_months_it_reaches_split_by_days() {
    let t = TestContext::at(noon("2026-09-10")).await;
    t.standard_tariffs().await;
    let admin = t.staff("admin", Role::Admin).await;
    let e =
        t.sign("3", new_consumer("Козлевич А. Л.", None), "E-3", Service::Electricity, TariffPlan::Single, &[0]).await;
    read(&t, e.meter_id, 400, admin.id).await;
    t.clock.set(noon("2026-10-25"));
    read(&t, e.meter_id, 850, admin.id).await;
    t.clock.set(noon("2026-11-02"));
    months::close(&t.ctx, p("2026-10"), Actor::System).await.unwrap();

    t.clock.set(noon("2026-11-30"));
    let tariff = tariffs::add(
        &t.ctx,
        Service::Electricity,
        Zone::Single,
        kopecks!(6_00),
        day("2026-10-01"),
        Actor::Staff(admin.id),
    )
    .await
    .unwrap();
    let lines = lines_of(&t, e.contract_id).await;
    assert_eq!(
        lines,
        [
            (p("2026-09"), p("2026-09"), ChargeKind::Consumption, kopecks!(2_000_00)),
            (p("2026-10"), p("2026-10"), ChargeKind::Consumption, kopecks!(2_250_00)),
            (p("2026-11"), p("2026-10"), ChargeKind::Recalculation, kopecks!(240_00)),
        ]
    );
    let recalculation = charge::Entity::find()
        .filter(charge::Column::Kind.eq(ChargeKind::Recalculation))
        .one(t.ctx.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((recalculation.cause_kind, recalculation.cause_id), (Some(CauseKind::Tariff), Some(tariff.id)));
    assert_eq!(recalculation.reason.as_deref(), Some("Перерасчёт за октябрь 2026: введён тариф с 01.10.2026"));

    // Reopened, October is rebuilt as two lines split by days, and the recalculation goes.
    months::reopen(&t.ctx, p("2026-10"), "перерасчёт по новому тарифу", Actor::Staff(admin.id)).await.unwrap();
    let cause = domain::ledger::Cause { kind: CauseKind::Tariff, id: tariff.id, on: day("2026-10-01") };
    service::ledger::charges::recompute_meter(t.ctx.db.conn(), &t.ctx, e.meter_id, cause).await.unwrap();
    let october: Vec<charge::Model> = charge::Entity::find()
        .filter(charge::Column::ForPeriod.eq(p("2026-10")))
        .order_by_asc(charge::Column::FromOn)
        .all(t.ctx.db.conn())
        .await
        .unwrap();
    let split: Vec<_> =
        october.iter().map(|c| (c.from_on, c.to_on, c.consumption, c.price_kopecks, c.amount_kopecks)).collect();
    assert_eq!(
        split,
        [
            (
                Some(day("2026-09-10")),
                Some(day("2026-10-01")),
                Some(MeterValue::from_whole(210).unwrap()),
                Some(kopecks!(5_00)),
                kopecks!(1_050_00)
            ),
            (
                Some(day("2026-10-01")),
                Some(day("2026-10-25")),
                Some(MeterValue::from_whole(240).unwrap()),
                Some(kopecks!(6_00)),
                kopecks!(1_440_00)
            ),
        ]
    );
    assert_identity(&t, p("2026-01"), p("2026-11")).await;
}

/// Rule 5: the same 1 000,00 ₽ for the same contract and day, typed twice without a reference,
/// is asked about; confirmed, it is stored. Imports list it as a possible repeat instead.
#[tokio::test]
async fn a_manual_payment_repeating_one_on_file_asks_first() {
    let t = TestContext::at(noon("2026-11-20")).await;
    let admin = t.staff("admin", Role::Admin).await;
    t.sign("4", new_consumer("Балаганов Ш.", None), "W-4", Service::Water, TariffPlan::Single, &[0]).await;
    let actor = Actor::Staff(admin.id);
    payments::record(&t.ctx, payment_of("W-4", 1_000_00, "2026-11-18", None), actor).await.unwrap();
    let again = payments::record(&t.ctx, payment_of("W-4", 1_000_00, "2026-11-18", None), actor).await.unwrap_err();
    assert_eq!(
        again.to_string(),
        "Такой платёж уже внесён: 1\u{202f}000,00 ₽ от 18.11.2026 по договору № W-4. Внести ещё один?"
    );
    // Another day or amount is simply another payment.
    payments::record(&t.ctx, payment_of("W-4", 1_000_00, "2026-11-19", None), actor).await.unwrap();
    let confirmed = NewPayment { confirm_duplicate: true, ..payment_of("W-4", 1_000_00, "2026-11-18", None) };
    payments::record(&t.ctx, confirmed, actor).await.unwrap();
    assert_eq!(payment::Entity::find().all(t.ctx.db.conn()).await.unwrap().len(), 3);
}

/// A month closes for its report before the report is built, once: closing it again (another
/// instance, another chat) changes nothing, and marking a delivery sent closes nothing.
#[tokio::test]
async fn a_month_closes_for_its_report_once() {
    use service::deliveries;
    let t = TestContext::at(noon("2026-11-01")).await;
    let october = p("2026-10");
    let claimed = deliveries::claim(&t.ctx, deliveries::MONTHLY_REPORT, october, "-1").await.unwrap().unwrap();
    deliveries::mark_sent(&t.ctx, claimed).await.unwrap();
    assert_eq!(months::closed_months(t.ctx.db.conn()).await.unwrap(), ClosedMonths::NONE, "a delivery closes nothing");

    months::close_for_report(&t.ctx, october).await.unwrap();
    assert_eq!(months::closed_months(t.ctx.db.conn()).await.unwrap(), ClosedMonths::through(october));
    months::close_for_report(&t.ctx, october).await.unwrap();
    let closed = months::list(t.ctx.db.conn()).await.unwrap();
    assert_eq!(
        closed.iter().map(|c| (c.period, c.how.as_str(), c.closed_by)).collect::<Vec<_>>(),
        [(october, "report", None)]
    );
}
