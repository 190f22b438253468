//! The cooperative's own network (issue 16) on a real database: common meters read like any
//! meter and never billed, the month's balance with plot meters pro-rated to the common meter's
//! moments, and the losses shared once as «Потери в сетях» lines. Every figure computed by hand.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use domain::{ChargeKind, Kopecks, LossMethod, MeterValue, Period, PlotNumber, Role, Service, TariffPlan};
use entities::charge;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use service::audit::Actor;
use service::ledger::months;
use service::network::{self, Decision, NetworkError, NewLine};
use service::readings::{self, Submission};
use service::register::sign_up::NewMeter;
use service::testing::{TestContext, network_line, new_consumer, office_reading};

fn at(text: &str) -> DateTime<Utc> {
    Utc.from_utc_datetime(&chrono::NaiveDateTime::parse_from_str(&format!("{text} 12:00"), "%Y-%m-%d %H:%M").unwrap())
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn march() -> Period {
    Period::parse("2026-03").unwrap()
}

async fn read(t: &TestContext, meter_id: i64, whole: i64, on: &str) {
    let values = vec![MeterValue::from_whole(whole).unwrap()];
    let submission = Submission { taken_at: Some(at(on)), ..office_reading(meter_id, values) };
    let reading = readings::submit(&t.ctx, submission).await.unwrap().reading;
    assert_eq!(reading.status, domain::ReadingStatus::Accepted, "meter {meter_id} on {on}");
}

fn line(name: &str, point: &str, under_main: bool, plots: &[&str]) -> NewLine {
    NewLine {
        service: Service::Electricity,
        name: name.to_owned(),
        under_main,
        point: PlotNumber::parse(point).unwrap(),
        meter: NewMeter {
            serial: format!("SN-{point}"),
            installed_on: day("2026-01-01"),
            initial: vec![MeterValue::ZERO],
            seal_number: None,
            verification_due: None,
        },
        plots: plots.iter().map(|p| PlotNumber::parse(p).unwrap()).collect(),
    }
}

struct Cooperative {
    t: TestContext,
    admin: Actor,
    /// The contracts of plots 1, 2 and 3.
    contracts: [i64; 3],
}

/// Plots 1 and 2 on line «Улица 1», plot 3 only under the main meter «ТП-1»; read on 28.02 at
/// noon (main 1 000, line 700, plots 300, 300, 250), then in March on other days:
/// main 2 000 on 15.03 (supplied 1 000); line 1 040 on 15.03 (340); plot 1 500 on 20.03 (10 a
/// day since 28.02: 450 on 15.03, sold 150); plot 2 400 on 10.03 and 500 on 20.03 (450 on 15.03,
/// 150); plot 3 850 on 15.03 (600). Main: sold 900, losses 100 (10 %); line: sold 300, losses 40
/// (11,76 %).
async fn cooperative() -> Cooperative {
    let t = TestContext::at(at("2026-03-25")).await;
    t.standard_tariffs().await;
    let admin = Actor::Staff(t.staff("admin", Role::Admin).await.id);
    let mut contracts = [0; 3];
    let mut meters = [0; 3];
    for (i, plot) in ["1", "2", "3"].into_iter().enumerate() {
        let signed = t
            .sign(
                plot,
                new_consumer(&format!("Садовод {plot}"), None),
                &format!("Э-{plot}"),
                Service::Electricity,
                TariffPlan::Single,
                &[0],
            )
            .await;
        contracts[i] = signed.contract_id;
        meters[i] = signed.meter_id;
    }
    let main = network_line(&t.ctx, Service::Electricity, "Главный", "ТП-1", false, &[]).await;
    let street = network_line(&t.ctx, Service::Electricity, "Улица 1", "Л-1", true, &["1", "2"]).await;
    let main_meter = meter_of(&t, main.contract_id).await;
    let street_meter = meter_of(&t, street.contract_id).await;
    for (meter, value) in
        [(main_meter, 1_000), (street_meter, 700), (meters[0], 300), (meters[1], 300), (meters[2], 250)]
    {
        read(&t, meter, value, "2026-02-28").await;
    }
    read(&t, main_meter, 2_000, "2026-03-15").await;
    read(&t, street_meter, 1_040, "2026-03-15").await;
    read(&t, meters[0], 500, "2026-03-20").await;
    read(&t, meters[1], 400, "2026-03-10").await;
    read(&t, meters[1], 500, "2026-03-20").await;
    read(&t, meters[2], 850, "2026-03-15").await;
    Cooperative { t, admin, contracts }
}

async fn meter_of(t: &TestContext, contract_id: i64) -> i64 {
    service::meters::of_contract(t.ctx.db.conn(), contract_id).await.unwrap()[0].id
}

async fn loss_lines(t: &TestContext) -> Vec<(i64, Period, i64)> {
    charge::Entity::find()
        .filter(charge::Column::Kind.eq(ChargeKind::NetworkLosses))
        .order_by_asc(charge::Column::Period)
        .order_by_asc(charge::Column::ContractId)
        .all(t.ctx.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.contract_id, c.period, c.amount_kopecks.get()))
        .collect()
}

fn k(kopecks: i64) -> Kopecks {
    Kopecks::new(kopecks).unwrap()
}

#[tokio::test]
async fn a_months_balance_aligns_plots_read_on_other_days() {
    let c = cooperative().await;
    let balances = network::balances(c.t.ctx.db.conn(), &c.t.ctx, march()).await.unwrap();
    let figures: Vec<_> = balances
        .iter()
        .map(|b| (b.line.name.as_str(), b.balance.supplied, b.balance.sold, b.balance.losses_basis_points(), b.flagged))
        .collect();
    assert_eq!(
        figures,
        [("Главный", 1_000_000, 900_000, Some(1_000), false), ("Улица 1", 340_000, 300_000, Some(1_176), false)]
    );
    assert_eq!((balances[0].contracts, balances[0].unread), (3, 0));
    // The common meters' own contracts are never billed.
    for b in &balances {
        let billed =
            charge::Entity::find().filter(charge::Column::ContractId.eq(b.line.contract_id)).all(c.t.ctx.db.conn());
        assert!(billed.await.unwrap().is_empty());
    }
    // A meeting lowering the flag to 11 % flags the street (11,76 %), not the main meter (10 %).
    let decision = Decision { method: LossMethod::None, cap_percent: None, flag_percent: 11, decided_on: None };
    network::decide(&c.t.ctx, Service::Electricity, decision, day("2026-03-01"), c.admin).await.unwrap();
    let balances = network::balances(c.t.ctx.db.conn(), &c.t.ctx, march()).await.unwrap();
    assert_eq!(balances.iter().map(|b| b.flagged).collect::<Vec<_>>(), [false, true]);
    // The accountants' message carries the main meter's month and the flagged line.
    let headline = network::headline(c.t.ctx.db.conn(), &c.t.ctx, march()).await.unwrap();
    assert_eq!(
        headline.as_deref(),
        Some(
            "Потери в сетях:\nЭлектроэнергия: отпущено 1000 кВт·ч, продано 900 кВт·ч, потери 100 кВт·ч (10 %)\n\
             выше порога: «Улица 1» — 11,76 %"
        )
    );
}

#[tokio::test]
async fn losses_are_shared_once_by_consumption_and_redone_only_with_a_reason() {
    let c = cooperative().await;
    let (ctx, [p1, p2, p3]) = (&c.t.ctx, c.contracts);
    // Not while March lasts: its share is made from the month's last readings.
    let early = network::share(ctx, Service::Electricity, march(), None, c.admin).await;
    assert_eq!(
        early.unwrap_err().to_string(),
        "Месяц март 2026 ещё не закончился: потери распределяются по его итогам, с первого числа следующего месяца."
    );
    c.t.clock.set(at("2026-04-01"));
    // No decision yet: nothing is shared, nothing booked.
    let none = network::share(ctx, Service::Electricity, march(), None, c.admin).await.unwrap();
    assert_eq!((none.amount, none.shares.len()), (k(50_000), 0));
    let by_consumption =
        Decision { method: LossMethod::Consumption, cap_percent: None, flag_percent: 15, decided_on: None };
    network::decide(ctx, Service::Electricity, by_consumption, day("2026-03-01"), c.admin).await.unwrap();
    // 100 kWh × 5,00 ₽ = 500,00 ₽ over 150, 150 and 600 kWh: 83,33…, 83,33…, 333,33… — every
    // remainder is 1/3 of a kopeck, so the one kopeck left goes to the first plot.
    let shared = network::share(ctx, Service::Electricity, march(), None, c.admin).await.unwrap();
    assert_eq!(shared.shares, [(p1, k(8_334)), (p2, k(8_333)), (p3, k(33_333))]);
    assert_eq!(loss_lines(&c.t).await, [(p1, march(), 8_334), (p2, march(), 8_333), (p3, march(), 33_333)]);
    let again = network::share(ctx, Service::Electricity, march(), None, c.admin).await;
    assert!(matches!(again, Err(NetworkError::AlreadyShared(_))), "{again:?}");
    assert_eq!(
        again.unwrap_err().to_string(),
        "Потери за март 2026 уже распределены. Чтобы распределить заново, укажите причину."
    );

    // The meeting caps the plots' part at 5 % of what they bought: 45 kWh, 225,00 ₽ = 37,50 + 37,50 + 150,00.
    let capped = Decision { cap_percent: Some(5), ..by_consumption };
    network::decide(ctx, Service::Electricity, capped, day("2026-03-20"), c.admin).await.unwrap();
    network::share(ctx, Service::Electricity, march(), Some("решение собрания о потолке"), c.admin).await.unwrap();
    assert_eq!(loss_lines(&c.t).await, [(p1, march(), 3_750), (p2, march(), 3_750), (p3, march(), 15_000)]);

    // The shares are in the consumers' debts: plot 1 pays its 500 kWh since January × 5 ₽ =
    // 2 500,00 ₽ and 37,50 ₽.
    let debts =
        service::ledger::debt::balances(ctx.db.conn(), service::ledger::debt::Scope::Contract(p1), None).await.unwrap();
    assert_eq!(debts[&p1].debt(), k(253_750));

    // March closed, the meeting's per-plot method applied again: March stays as reported, the
    // differences (75,00 each: +37,50, +37,50, −75,00) go to April.
    c.t.clock.set(at("2026-04-02"));
    months::close(ctx, march(), c.admin).await.unwrap();
    let per_plot = Decision { method: LossMethod::PerPlot, ..capped };
    network::decide(ctx, Service::Electricity, per_plot, day("2026-03-25"), c.admin).await.unwrap();
    network::share(ctx, Service::Electricity, march(), Some("поровну, решение собрания"), c.admin).await.unwrap();
    let april = Period::parse("2026-04").unwrap();
    assert_eq!(
        loss_lines(&c.t).await,
        [
            (p1, march(), 3_750),
            (p2, march(), 3_750),
            (p3, march(), 15_000),
            (p1, april, 3_750),
            (p2, april, 3_750),
            (p3, april, -7_500)
        ]
    );
}

#[tokio::test]
async fn lines_refuse_what_does_not_fit() {
    let c = cooperative().await;
    let second_main = network::add_line(&c.t.ctx, line("Второй", "ТП-2", false, &[]), c.admin).await;
    assert_eq!(second_main.unwrap_err().to_string(), "Главный счётчик «Главный» уже заведён: у услуги он один.");
    let taken = network::add_line(&c.t.ctx, line("Улица 2", "Л-2", true, &["2"]), c.admin).await;
    assert_eq!(taken.unwrap_err().to_string(), "Участок 2 уже на линии «Улица 1».");
    let unknown = network::add_line(&c.t.ctx, line("Улица 3", "Л-3", true, &["99"]), c.admin).await;
    assert_eq!(unknown.unwrap_err().to_string(), "Участка 99 нет в реестре.");
    // A plot written twice is fed once.
    let twice = network::add_line(&c.t.ctx, line("Улица 3", "Л-3", true, &["3", "3"]), c.admin).await.unwrap();
    let fed = entities::line_plot::Entity::find()
        .filter(entities::line_plot::Column::LineId.eq(twice.id))
        .all(c.t.ctx.db.conn())
        .await
        .unwrap();
    assert_eq!(fed.len(), 1);
    let area = Decision { method: LossMethod::Area, cap_percent: None, flag_percent: 15, decided_on: None };
    network::decide(&c.t.ctx, Service::Electricity, area, day("2026-03-01"), c.admin).await.unwrap();
    c.t.clock.set(at("2026-04-01"));
    let no_area = network::share(&c.t.ctx, Service::Electricity, march(), None, c.admin).await;
    assert_eq!(
        no_area.unwrap_err().to_string(),
        "Площадь не указана у 3 участков: распределение по площади невозможно, заполните её в реестре."
    );
    let bad = Decision { cap_percent: Some(250), ..area };
    let refused = network::decide(&c.t.ctx, Service::Electricity, bad, day("2026-03-01"), c.admin).await;
    assert_eq!(refused.unwrap_err().to_string(), "Процент 250 вне допустимого: от 0 до 100.");
    let april = Period::parse("2026-04").unwrap();
    c.t.clock.set(at("2026-05-02"));
    let unread = network::share(&c.t.ctx, Service::Electricity, april, None, c.admin).await;
    assert_eq!(
        unread.unwrap_err().to_string(),
        "Общий счётчик «Главный» за апрель 2026 не снят: баланса за месяц нет."
    );
}

#[tokio::test]
async fn the_demo_network_loses_a_realistic_share_and_one_line_leaks() {
    let t = TestContext::new().await;
    service::demo::generate(&t.ctx, service::demo::DemoSpec { plots: 60, months: 4, seed: 1 }).await.unwrap();
    service::demo::network(&t.ctx).await.unwrap();
    let february = Period::parse("2026-02").unwrap();
    let balances = network::balances(t.ctx.db.conn(), &t.ctx, february).await.unwrap();
    let percent: Vec<(&str, i64, bool)> =
        balances.iter().map(|b| (b.line.name.as_str(), b.balance.losses_basis_points().unwrap(), b.flagged)).collect();
    assert_eq!(percent.len(), 3);
    let (main, street, leak) = (percent[0], percent[1], percent[2]);
    assert!((500..=2_000).contains(&main.1) && !main.2, "{percent:?}");
    assert!((500..=1_000).contains(&street.1) && !street.2, "{percent:?}");
    assert!(leak.1 > 1_500 && leak.2, "{percent:?}");
}
