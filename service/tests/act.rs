//! The акт сверки (issue 13.6) on a real database: the opening, every line with its running
//! balance and the closing agree with the debt (up to today) and with the month's figures the
//! report shows (over whole months), with a reversal, a payment entered after its month closed
//! and a recalculation of a closed month among the lines. Amounts computed by hand.

use chrono::NaiveDate;
use domain::{ChargeKind, Kopecks, MeterValue, PaymentSource, Period, Role, Service, TariffPlan, kopecks};
use service::audit::Actor;
use service::ledger::act::{self, ActError, ActRange, ActScope, LineKind};
use service::ledger::debt::{self, Scope};
use service::ledger::payments::{self, reversal};
use service::ledger::{charges, months};
use service::readings::review;
use service::register::sign_up::ConsumerRef;
use service::testing::{TestContext, day, month as p, new_consumer, noon, paid, read_accepted};

/// A reading of `whole` units entered today, accepted.
async fn read(t: &TestContext, meter_id: i64, whole: i64, staff_id: i64) -> i64 {
    read_accepted(&t.ctx, meter_id, vec![MeterValue::from_whole(whole).unwrap()], staff_id).await
}

fn range(from: &str, to: &str) -> ActRange {
    ActRange::new(day(from), day(to)).unwrap()
}

/// Water W-1 (40,00 ₽/m³) and electricity E-1 (5,00 ₽/kWh) of one member. W-1: debt of 250,00 ₽
/// carried at go-live (20.07), July 10 m³ = 400,00, August 15 m³ = 600,00, 500,00 paid on 20.08;
/// July–October closed on 01.11; 300,00 paid on 28.10 entered on 12.11 (booked in November);
/// November 15 m³; on 15.11 August's reading is corrected (−3 m³ = −120,00 recalculation,
/// November rebuilt at 18 m³ = 720,00); on 16.11 the payment of 20.08 is reversed.
#[tokio::test]
async fn the_act_agrees_with_the_debt_and_with_every_months_figures() {
    let t = TestContext::at(noon("2026-07-20")).await;
    t.standard_tariffs().await;
    let admin = t.staff("admin", Role::Admin).await;
    let actor = Actor::Staff(admin.id);
    let w = t.sign("1", new_consumer("Бендер О. И.", None), "W-1", Service::Water, TariffPlan::Single, &[0]).await;
    let e =
        t.sign("1", ConsumerRef::Existing(w.consumer_id), "E-1", Service::Electricity, TariffPlan::Single, &[0]).await;
    let conn = t.ctx.db.conn();
    charges::book_opening_balance(conn, &t.ctx, w.contract_id, kopecks!(250_00), day("2026-07-20"), actor)
        .await
        .unwrap();
    read(&t, w.meter_id, 10, admin.id).await;
    t.clock.set(noon("2026-08-12"));
    let august_reading = read(&t, w.meter_id, 25, admin.id).await;
    read(&t, e.meter_id, 100, admin.id).await;
    t.clock.set(noon("2026-08-20"));
    let august_payment = payments::record(&t.ctx, paid("W-1", kopecks!(500_00), "2026-08-20"), actor).await.unwrap();
    t.clock.set(noon("2026-11-01"));
    months::close(&t.ctx, p("2026-10"), actor).await.unwrap();
    t.clock.set(noon("2026-11-10"));
    read(&t, w.meter_id, 40, admin.id).await;
    t.clock.set(noon("2026-11-12"));
    let late = payments::record(&t.ctx, paid("W-1", kopecks!(300_00), "2026-10-28"), actor).await.unwrap();
    assert_eq!(late.period, p("2026-11"), "October is closed");
    t.clock.set(noon("2026-11-15"));
    review::correct(&t.ctx, august_reading, vec![MeterValue::from_whole(22).unwrap()], "опечатка", admin.id)
        .await
        .unwrap();
    t.clock.set(noon("2026-11-16"));
    reversal::reverse(&t.ctx, august_payment.id, "Вернули плательщику", PaymentSource::Panel, actor).await.unwrap();
    t.clock.set(noon("2026-11-20"));

    // The year so far: 250 + 400 + 600 + 720 − 120 = 1 850,00 charged; 500 + 300 − 500 = 300,00 paid.
    let year = act::act(&t.ctx, ActScope::Contract(w.contract_id), range("2026-01-01", "2026-11-20")).await.unwrap();
    let [water] = &year.contracts[..] else { panic!("one contract: {year:?}") };
    assert_eq!((year.consumer.as_str(), water.number.as_str(), water.plot.as_str()), ("Бендер О. И.", "W-1", "1"));
    assert_eq!(
        (water.opening, water.charged, water.paid, water.closing),
        (Kopecks::ZERO, kopecks!(1_850_00), kopecks!(300_00), kopecks!(1_550_00))
    );
    let debt = debt::balances(conn, Scope::Contract(w.contract_id), None).await.unwrap()[&w.contract_id].debt();
    assert_eq!(water.closing, debt, "up to today the act closes at the debt");
    let described: Vec<(NaiveDate, LineKind, Kopecks, Kopecks, Kopecks)> =
        water.lines.iter().map(|l| (l.date, l.kind, l.debit, l.credit, l.balance)).collect();
    let charge = |kind| LineKind::Charge(kind);
    let z = Kopecks::ZERO;
    assert_eq!(
        described,
        [
            (day("2026-07-20"), charge(ChargeKind::OpeningBalance), kopecks!(250_00), z, kopecks!(250_00)),
            (day("2026-07-20"), charge(ChargeKind::Consumption), kopecks!(400_00), z, kopecks!(650_00)),
            (day("2026-08-12"), charge(ChargeKind::Consumption), kopecks!(600_00), z, kopecks!(1_250_00)),
            (day("2026-08-20"), LineKind::Payment, z, kopecks!(500_00), kopecks!(750_00)),
            (day("2026-11-01"), LineKind::Payment, z, kopecks!(300_00), kopecks!(450_00)),
            (day("2026-11-10"), charge(ChargeKind::Consumption), kopecks!(720_00), z, kopecks!(1_170_00)),
            (day("2026-11-15"), charge(ChargeKind::Recalculation), kopecks!(-120_00), z, kopecks!(1_050_00)),
            (day("2026-11-16"), LineKind::Reversal, z, kopecks!(-500_00), kopecks!(1_550_00)),
        ]
    );
    let text = |n: usize| water.lines[n].text.as_str();
    assert_eq!(text(2), "Потребление за август 2026, м³");
    assert!(text(4).contains("поступила 28.10.2026"), "{}", text(4));
    assert_eq!(text(6), "Перерасчёт за август 2026: исправлено показание от 12.08.2026");
    assert_eq!(water.lines[6].quantity, Some(-3_000));
    assert_eq!(water.lines[2].quantity, Some(15_000));
    assert_eq!(
        text(7),
        format!("Сторно оплаты № {} от 20.08.2026 на 500,00 ₽: Вернули плательщику", august_payment.id)
    );

    // Over whole months the act opens and closes where the month's figures (the report's) do.
    let mut month = p("2026-07");
    while month <= p("2026-11") {
        let to = month.last_day().min(t.ctx.today());
        let part =
            act::act(&t.ctx, ActScope::Contract(w.contract_id), range(&month.first_day().to_string(), &to.to_string()))
                .await
                .unwrap();
        let figures = months::figures(conn, month).await.unwrap();
        let (_, f) = figures.iter().find(|(id, _)| *id == w.contract_id).unwrap();
        let c = &part.contracts[0];
        assert_eq!((c.opening, c.paid, c.closing), (f.opening, f.paid, f.closing), "{month}");
        month = month.next();
    }

    // The member's act: both contracts, each with its subtotal, adding up to the member's debt.
    let member = act::act(&t.ctx, ActScope::Consumer(w.consumer_id), range("2026-08-01", "2026-11-20")).await.unwrap();
    let numbers: Vec<&str> = member.contracts.iter().map(|c| c.number.as_str()).collect();
    assert_eq!(numbers, ["W-1", "E-1"]);
    assert_eq!(member.contracts[1].charged, kopecks!(500_00), "100 kWh × 5,00 ₽ in August");
    assert_eq!(member.opening, kopecks!(650_00), "July's lines are before the range");
    assert_eq!(member.closing, debt::total(conn, Scope::Consumer(w.consumer_id)).await.unwrap().debt());
    assert_eq!(member.closing, member.opening.checked_add(member.charged).unwrap().checked_sub(member.paid).unwrap());
    assert_eq!(member.plots(), ["1"]);

    // The bot's history: since go-live, month by month, closing at the debt.
    let history = act::since_go_live(&t.ctx, ActScope::Consumer(w.consumer_id)).await.unwrap();
    assert_eq!((history.range.from(), history.opening), (day("2026-07-20"), Kopecks::ZERO));
    let months = history.months().unwrap();
    let listed: Vec<(Period, Kopecks, Kopecks, Kopecks)> =
        months.iter().map(|m| (m.period, m.charged, m.paid, m.closing)).collect();
    assert_eq!(
        listed,
        [
            (p("2026-07"), kopecks!(650_00), z, kopecks!(650_00)),
            (p("2026-08"), kopecks!(1_100_00), kopecks!(500_00), kopecks!(1_250_00)),
            (p("2026-09"), z, z, kopecks!(1_250_00)),
            (p("2026-10"), z, z, kopecks!(1_250_00)),
            (p("2026-11"), kopecks!(600_00), kopecks!(-200_00), kopecks!(2_050_00)),
        ]
    );
    assert_eq!(months.last().unwrap().closing, member.closing);

    let missing = act::act(&t.ctx, ActScope::Contract(999_999), range("2026-01-01", "2026-11-20")).await;
    assert!(matches!(missing, Err(ActError::NotFound)), "{missing:?}");
}

/// A second batch of plots loaded on 12.11 with go-live 15.09, September and October closed: the
/// debt carried over (1 299,50 ₽) is booked in November, and the акт puts it there, on 01.11,
/// named by its own day. The акт of September shows nothing of it; November's opens at 0 as
/// October closed and agrees with November's figures, and the bot's history puts it in November.
#[tokio::test]
async fn an_opening_balance_loaded_after_its_month_closed_stands_in_the_month_it_was_booked() {
    let t = TestContext::at(noon("2026-11-01")).await;
    t.standard_tariffs().await;
    let admin = t.staff("admin", Role::Admin).await;
    let actor = Actor::Staff(admin.id);
    months::close(&t.ctx, p("2026-10"), actor).await.unwrap();
    t.clock.set(noon("2026-11-12"));
    let w = t.sign("7", new_consumer("Паниковский М. С.", None), "W-7", Service::Water, TariffPlan::Single, &[0]).await;
    let conn = t.ctx.db.conn();
    let carried = kopecks!(1_299_50);
    charges::book_opening_balance(conn, &t.ctx, w.contract_id, carried, day("2026-09-15"), actor).await.unwrap();
    let contract = ActScope::Contract(w.contract_id);

    let september = act::act(&t.ctx, contract, range("2026-09-01", "2026-09-30")).await.unwrap();
    let c = &september.contracts[0];
    assert!(c.lines.is_empty(), "{:?}", c.lines);
    assert_eq!((c.opening, c.closing), (Kopecks::ZERO, Kopecks::ZERO));

    let november = act::act(&t.ctx, contract, range("2026-11-01", "2026-11-12")).await.unwrap();
    let c = &november.contracts[0];
    let [line] = &c.lines[..] else { panic!("one line: {:?}", c.lines) };
    assert_eq!(
        (line.date, line.text.as_str(), line.debit),
        (day("2026-11-01"), "Входящее сальдо на 15.09.2026", carried)
    );
    assert_eq!((c.opening, c.charged, c.closing), (Kopecks::ZERO, carried, carried));
    let figures = months::figures(conn, p("2026-11")).await.unwrap();
    let (_, f) = figures.iter().find(|(id, _)| *id == w.contract_id).unwrap();
    assert_eq!((c.opening, c.closing), (f.opening, f.closing), "as November's report will show");

    let history = act::since_go_live(&t.ctx, ActScope::Consumer(w.consumer_id)).await.unwrap();
    let listed: Vec<(Period, Kopecks)> = history.months().unwrap().iter().map(|m| (m.period, m.charged)).collect();
    assert_eq!(listed.last(), Some(&(p("2026-11"), carried)), "{listed:?}");
    assert!(listed.iter().filter(|(period, _)| *period < p("2026-11")).all(|(_, charged)| *charged == Kopecks::ZERO));
}

/// The register said 15 000,00 ₽ of debt for W-7 at go-live (15.09) instead of 1 500,00, and
/// September was reported. On 10.10 the accountant corrects it: −13 500,00 ₽ is booked in October,
/// the first open month, on 01.10 as «Исправление входящего сальдо…», September stays as sent,
/// and the member's statement, the act and October's figures carry 1 500,00 ₽.
#[tokio::test]
async fn an_opening_balance_typed_wrong_is_corrected_in_the_open_month() {
    let t = TestContext::at(noon("2026-09-15")).await;
    t.standard_tariffs().await;
    let actor = Actor::Staff(t.staff("buh", Role::Accountant).await.id);
    let w = t.sign("7", new_consumer("Паниковский М. С.", None), "W-7", Service::Water, TariffPlan::Single, &[0]).await;
    let other = t.sign("8", new_consumer("Балаганов Ш.", None), "W-8", Service::Water, TariffPlan::Single, &[0]).await;
    let conn = t.ctx.db.conn();
    let typo = kopecks!(15_000_00);
    charges::book_opening_balance(conn, &t.ctx, w.contract_id, typo, day("2026-09-15"), actor).await.unwrap();
    t.clock.set(noon("2026-10-01"));
    months::close(&t.ctx, p("2026-09"), actor).await.unwrap();
    t.clock.set(noon("2026-10-10"));

    let right = kopecks!(1_500_00);
    let no_reason = charges::correct_opening_balance(&t.ctx, w.contract_id, right, "  ", actor).await;
    assert!(matches!(no_reason, Err(charges::OpeningBalanceError::NoReason)), "{no_reason:?}");
    let missing = charges::correct_opening_balance(&t.ctx, 999_999, right, "опечатка", actor).await;
    assert!(matches!(missing, Err(charges::OpeningBalanceError::NoContract)), "{missing:?}");
    let difference =
        charges::correct_opening_balance(&t.ctx, w.contract_id, right, "опечатка в реестре", actor).await.unwrap();
    assert_eq!(difference, kopecks!(-13_500_00));
    let again = charges::correct_opening_balance(&t.ctx, w.contract_id, right, "ещё раз", actor).await.unwrap();
    assert_eq!(again, Kopecks::ZERO, "nothing more to book");

    let statement = debt::statement(&t.ctx.db, w.consumer_id).await.unwrap();
    assert_eq!(statement.lines[0].opening_balance, Some((day("2026-09-15"), right)));
    assert_eq!(statement.total.debt(), right);
    let october = act::act(&t.ctx, ActScope::Contract(w.contract_id), range("2026-10-01", "2026-10-31")).await.unwrap();
    let c = &october.contracts[0];
    let [line] = &c.lines[..] else { panic!("one line: {:?}", c.lines) };
    assert_eq!(
        (line.date, line.text.as_str(), line.debit),
        (
            day("2026-10-01"),
            "Исправление входящего сальдо на 15.09.2026: было 15\u{202f}000,00 ₽, стало 1\u{202f}500,00 ₽. опечатка в реестре",
            kopecks!(-13_500_00)
        )
    );
    assert_eq!((c.opening, c.closing), (typo, right));
    let figures = |period| async move { months::figures(conn, p(period)).await.unwrap() };
    let of = |figures: &[(i64, domain::ledger::MonthFigures)]| {
        figures.iter().find(|(id, _)| *id == w.contract_id).unwrap().1
    };
    assert_eq!(of(&figures("2026-09").await).closing, typo, "September as it was sent");
    let october = of(&figures("2026-10").await);
    assert_eq!((october.opening, october.opening_balances, october.closing), (typo, kopecks!(-13_500_00), right));

    // The register left W-8's saldo out: it is added the same way, from the day its meter went in
    // (01.01, as `sign` installs it).
    let left_out = kopecks!(700_00);
    let added = charges::correct_opening_balance(&t.ctx, other.contract_id, left_out, "нет в реестре", actor).await;
    assert_eq!(added.unwrap(), left_out);
    let statement = debt::statement(&t.ctx.db, other.consumer_id).await.unwrap();
    assert_eq!(statement.lines[0].opening_balance, Some((day("2026-01-01"), left_out)));
    assert_eq!(statement.total.debt(), left_out);
    let october = act::act(&t.ctx, ActScope::Contract(other.contract_id), range("2026-10-01", "2026-10-31")).await;
    let october = october.unwrap();
    let [line] = &october.contracts[0].lines[..] else { panic!("one line: {:?}", october.contracts[0].lines) };
    assert_eq!(
        (line.date, line.text.as_str(), line.debit),
        (
            day("2026-10-01"),
            "Исправление входящего сальдо на 01.01.2026: было 0,00 ₽, стало 700,00 ₽. нет в реестре",
            left_out
        )
    );
}
