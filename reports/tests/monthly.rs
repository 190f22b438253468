//! The monthly report against the service layer: every figure on the sheets must be what the
//! ledger says, read back from the file as a spreadsheet program reads it.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use calamine::{Data, Range, Reader};
use common::{
    Book, CHARGED, CLOSING, Cooperative, MARCH, OPENING, PAID, PUBLIC_URL, Table, date, day, kopecks, ledger_line,
    open, period, rubles, units, utc,
};
use domain::{ChargeKind, Kopecks, MeterValue, Period, ReadingStatus, kopecks};
use entities::{charge, contract, meter, payment, reading};
use reports::{ReportError, export_file_name, monthly_data, monthly_report, monthly_report_file_name, write_monthly};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use service::audit::Actor;
use service::demo::{self, DemoSpec};
use service::ledger::debt::{self, Scope};
use service::ledger::months;
use service::ledger::payments::{self, NewPayment};
use service::testing::TestContext;

const METER_HEADERS: [&str; 18] = [
    "Участок",
    "Потребитель",
    "Договор",
    "Услуга",
    "Счётчик",
    "Зона",
    "Предыдущее показание",
    "Дата предыдущего",
    "Текущее показание",
    "Дата текущего",
    "Расход",
    "Ед.",
    "Тариф, ₽ за ед.",
    "Начислено, ₽",
    "Источник",
    "Пломба цела",
    "На проверке",
    "Фото",
];

/// The known cooperative's report for March, built and read back.
async fn march() -> (Cooperative, Book) {
    let coop = Cooperative::build().await;
    let bytes = monthly_report(&coop.t.ctx, period(MARCH), PUBLIC_URL).await.unwrap();
    (coop, open(bytes))
}

async fn contract_numbers(conn: &impl ConnectionTrait) -> HashMap<i64, String> {
    contract::Entity::find().all(conn).await.unwrap().into_iter().map(|c| (c.id, c.number)).collect()
}

async fn consumption_charges(conn: &impl ConnectionTrait, month: Period) -> Vec<charge::Model> {
    charge::Entity::find()
        .filter(charge::Column::Period.eq(month))
        .filter(charge::Column::Kind.eq(ChargeKind::Consumption))
        .all(conn)
        .await
        .unwrap()
}

/// Rubles in a cell, back in kopecks (exact: the cell holds the nearest double to kopecks/100).
fn meter_value(cell: &Data) -> MeterValue {
    match cell {
        Data::Float(units) => MeterValue::new((units * 1000.0).round() as i64).unwrap(),
        other => panic!("expected a meter value, found {other:?}"),
    }
}

fn add(sum: &mut Kopecks, amount: Kopecks) {
    *sum = sum.checked_add(amount).unwrap();
}

#[tokio::test]
async fn meter_sheet_shows_the_stored_charges() {
    let (coop, mut book) = march().await;
    let conn = coop.t.ctx.db.conn();
    let sheet = Table::read(&mut book, "Показания");
    assert_eq!(sheet.headers, METER_HEADERS);
    let lines: Vec<[String; 3]> =
        sheet.rows.iter().map(|r| ["Участок", "Договор", "Зона"].map(|h| sheet.text(r, h))).collect();
    assert_eq!(
        lines,
        [
            ["1", "В-1", "Общая"],
            ["2", "Э-2", "День"],
            ["2", "Э-2", "Ночь"],
            ["3", "В-3", "Общая"],
            ["3", "Э-3", "Общая"]
        ]
    );

    let numbers = contract_numbers(conn).await;
    let charges = consumption_charges(conn, period(MARCH)).await;
    assert_eq!(charges.len(), 3, "В-1 and both registers of Э-2");
    for charge in &charges {
        let zone = charge.zone.unwrap().label();
        let row = sheet
            .rows
            .iter()
            .find(|r| sheet.text(r, "Договор") == numbers[&charge.contract_id] && sheet.text(r, "Зона") == zone)
            .unwrap_or_else(|| panic!("no row for charge {charge:?}"));
        assert_eq!(sheet.cell(row, "Начислено, ₽"), &rubles(charge.amount_kopecks));
        assert_eq!(sheet.cell(row, "Тариф, ₽ за ед."), &rubles(charge.price_kopecks.unwrap()));
        assert_eq!(sheet.cell(row, "Расход"), &units(charge.consumption.unwrap()));
        assert_eq!(sheet.cell(row, "Предыдущее показание"), &units(charge.previous_value.unwrap()));
        assert_eq!(sheet.cell(row, "Текущее показание"), &units(charge.current_value.unwrap()));
        let closing = reading::Entity::find_by_id(charge.reading_id.unwrap()).one(conn).await.unwrap().unwrap();
        assert_eq!(date(sheet.cell(row, "Дата текущего")), coop.t.ctx.local_date(closing.taken_at));
    }

    let [water, day_zone, night, unread, flagged] = &sheet.rows[..] else { panic!("five rows") };
    assert_eq!(sheet.cell(water, "Начислено, ₽"), &Data::Float(600.0), "15 m³ × 40 ₽");
    assert_eq!(sheet.cell(water, "Расход"), &Data::Float(15.0));
    assert_eq!(date(sheet.cell(water, "Дата предыдущего")), day("2026-02-10"));
    assert_eq!(date(sheet.cell(water, "Дата текущего")), day("2026-03-05"), "the local date of 22:30 UTC");
    assert_eq!(sheet.text(water, "Источник"), "Панель");
    assert_eq!(sheet.text(water, "Пломба цела"), "нет");
    assert_eq!(sheet.text(water, "Фото"), "фото");
    assert_eq!(sheet.text(water, "Ед."), "м³");
    assert_eq!(sheet.cell(day_zone, "Начислено, ₽"), &Data::Float(900.0));
    assert_eq!(sheet.cell(night, "Начислено, ₽"), &Data::Float(180.0));
    assert_eq!(sheet.text(night, "Источник"), "Потребитель (бот)");
    assert_eq!(sheet.text(night, "Пломба цела"), "—");

    assert_eq!(sheet.cell(unread, "Предыдущее показание"), &Data::Float(7.0));
    assert_eq!(date(sheet.cell(unread, "Дата предыдущего")), day("2026-02-10"));
    for header in ["Текущее показание", "Дата текущего", "Расход", "Начислено, ₽", "Источник", "Фото"]
    {
        assert_eq!(sheet.cell(unread, header), &Data::Empty, "{header}");
        assert_eq!(sheet.cell(flagged, header), &Data::Empty, "{header}");
    }
    assert_eq!(sheet.text(unread, "На проверке"), "нет");
    assert_eq!(sheet.text(flagged, "На проверке"), "да");
}

#[tokio::test]
async fn accounts_sheet_follows_the_ledger() {
    let (coop, mut book) = march().await;
    let conn = coop.t.ctx.db.conn();
    let sheet = Table::read(&mut book, "Начисления и оплаты");
    let ids: HashMap<String, i64> = contract_numbers(conn).await.into_iter().map(|(id, n)| (n, id)).collect();
    let opening = debt::balances(conn, Scope::All, Some(period("2026-02"))).await.unwrap();
    let closing = debt::balances(conn, Scope::All, Some(period(MARCH))).await.unwrap();
    let mut charged: HashMap<i64, Kopecks> = HashMap::new();
    for charge in charge::Entity::find().filter(charge::Column::Period.eq(period(MARCH))).all(conn).await.unwrap() {
        add(charged.entry(charge.contract_id).or_default(), charge.amount_kopecks);
    }
    let mut paid: HashMap<i64, Kopecks> = HashMap::new();
    for payment in payment::Entity::find().filter(payment::Column::Period.eq(period(MARCH))).all(conn).await.unwrap() {
        add(paid.entry(payment.contract_id).or_default(), payment.amount_kopecks);
    }

    let (total, lines) = (&sheet.totals, &sheet.rows);
    let numbers: Vec<String> = lines.iter().map(|r| sheet.text(r, "Договор")).collect();
    assert_eq!(numbers, ["В-1", "Э-2", "В-3", "Э-3"]);
    let mut sums: BTreeMap<&str, Kopecks> = BTreeMap::new();
    for row in lines {
        let id = ids[&sheet.text(row, "Договор")];
        let expected = [
            (OPENING, opening[&id].debt()),
            (CHARGED, charged.get(&id).copied().unwrap_or_default()),
            (PAID, paid.get(&id).copied().unwrap_or_default()),
            (CLOSING, closing[&id].debt()),
        ];
        for (header, amount) in expected {
            assert_eq!(sheet.cell(row, header), &rubles(amount), "{header} of contract {id}");
            add(sums.entry(header).or_default(), amount);
        }
    }
    assert_eq!(sheet.text(total, "Участок"), "Итого по отобранным строкам");
    for (header, sum) in sums {
        assert_eq!(sheet.cell(total, header), &rubles(sum), "total {header}");
    }
    // The figures worked out by hand in the fixture's description.
    let by_contract = |number: &str, header: &str| {
        kopecks(sheet.cell(lines.iter().find(|r| sheet.text(r, "Договор") == number).unwrap(), header))
    };
    // Payments count in the month the money arrived: those "for February" came in March.
    assert_eq!(by_contract("В-1", OPENING), kopecks!(400_00), "400 charged in February, its 150 paid on 10.03");
    assert_eq!(by_contract("Э-2", OPENING), kopecks!(720_00), "720 charged, the 2 000 paid on 03.03");
    assert_eq!(by_contract("Э-2", CLOSING), kopecks!(-200_00));
    assert_eq!(by_contract("Э-3", CHARGED), Kopecks::ZERO, "a reading under review is not billed");
    assert_eq!(by_contract("В-3", CHARGED), kopecks!(123_45), "the opening balance counts as a charge");
    assert_eq!(kopecks(sheet.cell(total, CHARGED)), kopecks!(1_803_45));
    assert_eq!(kopecks(sheet.cell(total, CLOSING)), kopecks!(1_403_45));
}

#[tokio::test]
async fn unread_sheet_lists_exactly_the_unread_contracts() {
    let (coop, mut book) = march().await;
    let conn = coop.t.ctx.db.conn();
    let sheet = Table::read(&mut book, "Не сняты");

    // Independently: contracts whose meter has no accepted or flagged reading this month.
    let read_meters: BTreeSet<i64> = reading::Entity::find()
        .filter(reading::Column::Period.eq(period(MARCH)))
        .filter(reading::Column::Status.is_in([ReadingStatus::Accepted, ReadingStatus::Flagged]))
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.meter_id)
        .collect();
    let numbers = contract_numbers(conn).await;
    let expected: BTreeSet<String> = meter::Entity::find()
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| !read_meters.contains(&m.id))
        .map(|m| numbers[&m.contract_id].clone())
        .collect();
    let listed: BTreeSet<String> = sheet.rows.iter().map(|r| sheet.text(r, "Договор")).collect();
    assert_eq!(listed, expected);
    assert_eq!(listed, BTreeSet::from(["В-3".to_owned()]));

    let row = &sheet.rows[0];
    assert_eq!(sheet.text(row, "Участок"), "3");
    assert_eq!(sheet.text(row, "Потребитель"), "Паниковский Михаил Самуэлевич");
    assert_eq!(sheet.text(row, "Телефон"), "+79780000003");
    assert_eq!(sheet.text(row, "Счётчик"), "SN-В-3");
    assert_eq!(sheet.cell(row, "Последнее показание (общее или день)"), &Data::Float(7.0));
    assert_eq!(sheet.cell(row, "Последнее показание (ночь)"), &Data::Empty);
    assert_eq!(date(sheet.cell(row, "Дата последнего показания")), day("2026-02-10"));
}

/// The summary sheet's row that starts with `label`.
fn labelled<'a>(summary: &'a Range<Data>, label: &str) -> &'a [Data] {
    summary.rows().find(|r| r[0] == label).unwrap_or_else(|| panic!("no row «{label}»"))
}

#[tokio::test]
async fn summary_sheet_adds_up() {
    let (coop, mut book) = march().await;
    let conn = coop.t.ctx.db.conn();
    let meters = Table::read(&mut book, "Показания");
    let accounts = Table::read(&mut book, "Начисления и оплаты");
    let summary = book.worksheet_range("Сводка").unwrap();
    let title = "Отчёт за март 2026 · составлен 15.03.2026 15:00";
    assert_eq!(summary.get((0, 0)), Some(&Data::String(title.into())));

    // Consumption and charges per service and zone, summed from the meter sheet.
    let mut by_zone: BTreeMap<(String, String), (MeterValue, Kopecks)> = BTreeMap::new();
    for row in meters.rows.iter().filter(|r| meters.cell(r, "Начислено, ₽") != &Data::Empty) {
        let key = (meters.text(row, "Услуга"), meters.text(row, "Зона"));
        let (consumption, charged) = by_zone.entry(key).or_default();
        *consumption = consumption.checked_add(meter_value(meters.cell(row, "Расход"))).unwrap();
        add(charged, kopecks(meters.cell(row, "Начислено, ₽")));
    }
    assert_eq!(by_zone.len(), 3);
    for ((service, zone), (consumption, charged)) in &by_zone {
        let row = summary
            .rows()
            .find(|r| &r[0].to_string() == service && &r[1].to_string() == zone)
            .unwrap_or_else(|| panic!("no summary row {service}/{zone}"));
        assert_eq!(row[3], units(*consumption), "{service}/{zone}");
        assert_eq!(row[4], rubles(*charged), "{service}/{zone}");
    }
    let stored =
        Kopecks::try_sum(consumption_charges(conn, period(MARCH)).await.iter().map(|c| c.amount_kopecks)).unwrap();
    assert_eq!(labelled(&summary, "Итого за потребление")[4], rubles(stored));
    assert_eq!(stored, kopecks!(1_680_00));

    let (total, lines) = (&accounts.totals, &accounts.rows);
    let closing: Vec<Kopecks> = lines.iter().map(|r| kopecks(accounts.cell(r, CLOSING))).collect();
    let value = |label: &str| labelled(&summary, label)[1].clone();
    assert_eq!(value("Участков снято"), Data::Float(2.0), "plots 1 and 2");
    assert_eq!(value("Участков не снято"), Data::Float(1.0), "plot 3: В-3 unread");
    assert_eq!(value("Начислено за месяц, ₽"), accounts.cell(total, CHARGED).clone());
    assert_eq!(value("Оплачено за месяц, ₽"), accounts.cell(total, PAID).clone());
    // 150 + 2 000 + 100 + 50: every payment arrived in March, whatever month it was for.
    assert_eq!(value("Оплачено за месяц, ₽"), rubles(kopecks!(2_300_00)));
    let owed = Kopecks::try_sum(closing.iter().copied().filter(|d| d.is_positive())).unwrap();
    assert_eq!(value("Долг должников на конец месяца, ₽"), rubles(owed));
    assert_eq!(owed, kopecks!(1_603_45));
    assert_eq!(value("Начислено за месяц, ₽"), rubles(kopecks!(1_803_45)), "consumption and the opening balance");
    assert_eq!(value("Переплата на конец месяца, ₽"), rubles(kopecks!(200_00)));
    assert_eq!(value("Сальдо на конец месяца, ₽"), accounts.cell(total, CLOSING).clone());
    assert_eq!(value("Договоров с долгом"), Data::Float(closing.iter().filter(|d| d.is_positive()).count() as f64));
}

/// «Сводка»'s money per service, as (opening, consumption, recalculations, opening balances,
/// paid, closing, opening + charged − paid).
fn movement(summary: &Range<Data>, label: &str) -> [Kopecks; 7] {
    let row = labelled(summary, label);
    std::array::from_fn(|col| kopecks(&row[col + 1]))
}

#[tokio::test]
async fn summary_reconciles_per_service_with_formulas_over_the_sheets() {
    let (_coop, mut book) = march().await;
    let sheets = [
        "Сводка",
        "Показания",
        "Начисления и оплаты",
        "Оплаты",
        "Перерасчёты",
        "Не сняты",
        "Баланс сети",
        "Потери в сетях",
    ];
    assert_eq!(book.sheet_names(), sheets);
    let summary = book.worksheet_range("Сводка").unwrap();
    // Water: February 400 (В-1, 10 m³) + 280 (В-3, 7 m³) owed; March В-1 15 m³ × 40 = 600,00;
    // В-3's 123,45 from before go-live; 150 + 100 paid. 680 + 600 + 123,45 − 250 = 1 153,45.
    let water = [68_000, 60_000, 0, 12_345, 25_000, 115_345, 115_345].map(|k| Kopecks::new(k).unwrap());
    assert_eq!(movement(&summary, "Вода"), water);
    // Electricity: February Э-2 100 × 6 + 40 × 3 = 720 and Э-3 100 × 5 = 500; March Э-2
    // 150 × 6 + 60 × 3 = 1 080 (Э-3 held for review); 2 000 + 50 paid. 1 220 + 1 080 − 2 050 = 250.
    let power = [122_000, 108_000, 0, 0, 205_000, 25_000, 25_000].map(|k| Kopecks::new(k).unwrap());
    assert_eq!(movement(&summary, "Электроэнергия"), power);
    let total: [Kopecks; 7] = std::array::from_fn(|i| water[i].checked_add(power[i]).unwrap());
    assert_eq!(movement(&summary, "Итого по услугам"), total);
    assert_eq!(total[5], kopecks!(1_403_45));

    // The formulas reach the right columns of the right sheets, over the whole table.
    let formulas = book.worksheet_formula("Сводка").unwrap();
    let formula = |row: u32, col: u32| formulas.get_value((row, col)).cloned().unwrap_or_default();
    let row = 3; // «Вода», under the title and the header.
    assert_eq!(
        formula(row, 1),
        "SUMIFS('Начисления и оплаты'!E4:E7,'Начисления и оплаты'!D4:D7,\"Вода\")",
        "opening: the accounts' first money column, four contracts"
    );
    assert!(formula(row, 2).starts_with("SUMIFS('Показания'!N4:N"), "{}", formula(row, 2));
    assert_eq!(
        formula(row, 3),
        "SUMIFS('Перерасчёты'!H4,'Перерасчёты'!D4,\"Вода\")",
        "no recalculations: one empty row"
    );
    assert_eq!(formula(row, 4), "SUMIFS('Начисления и оплаты'!F4:F7,'Начисления и оплаты'!D4:D7,\"Вода\")-C4-D4");
    assert_eq!(formula(row, 5), "SUMIFS('Оплаты'!F4:F7,'Оплаты'!D4:D7,\"Вода\")");
    assert_eq!(formula(row, 6), "SUMIFS('Начисления и оплаты'!H4:H7,'Начисления и оплаты'!D4:D7,\"Вода\")");
    assert_eq!(formula(row, 7), "B4+C4+D4+E4-F4");
    assert_eq!(formula(row + 2, 6), "SUM(G4:G5)");
}

#[tokio::test]
async fn sheets_lay_out_the_data() {
    let coop = Cooperative::build().await;
    let data = monthly_data(&coop.t.ctx, period(MARCH), PUBLIC_URL).await.unwrap();
    let mut book = open(write_monthly(&data).unwrap());

    let meters = Table::read(&mut book, "Показания");
    assert_eq!(meters.rows.len(), data.meters.len());
    for (row, line) in meters.rows.iter().zip(&data.meters) {
        let billed = line.billed.as_ref();
        assert_eq!(meters.text(row, "Счётчик"), line.serial);
        assert_eq!(meters.cell(row, "Предыдущее показание"), &units(line.previous.value));
        assert_eq!(date(meters.cell(row, "Дата предыдущего")), line.previous.date);
        assert_eq!(meters.cell(row, "Текущее показание"), &billed.map_or(Data::Empty, |b| units(b.current.value)));
        assert_eq!(meters.cell(row, "Начислено, ₽"), &billed.map_or(Data::Empty, |b| rubles(b.amount)));
    }
    let photo = data.meters[0].billed.as_ref().and_then(|b| b.photo_url.clone());
    assert_eq!(photo, Some(format!("https://panel.example.org/coop/photos/{}", coop.photo_id)));

    let accounts = Table::read(&mut book, "Начисления и оплаты");
    assert_eq!(accounts.rows.len(), data.accounts.len(), "a line per contract");
    for (row, line) in accounts.rows.iter().zip(&data.accounts) {
        assert_eq!(accounts.text(row, "Договор"), line.contract.number);
        assert_eq!(accounts.cell(row, OPENING), &rubles(line.movement.opening));
        assert_eq!(accounts.cell(row, CLOSING), &rubles(line.movement.closing));
    }
    let unread = Table::read(&mut book, "Не сняты");
    // The month and the creation time head every sheet; TestContext's clock is 12:00 UTC.
    for sheet in [&meters, &accounts, &unread] {
        assert_eq!(sheet.title, "Отчёт за март 2026 · составлен 15.03.2026 15:00");
    }
    // Totals above the table follow the filter, with their values cached for reading.
    let formulas = book.worksheet_formula("Начисления и оплаты").unwrap();
    let last_row = 3 + data.accounts.len();
    for (col, letter) in [(4, 'E'), (5, 'F'), (6, 'G'), (7, 'H')] {
        let expected = format!("SUBTOTAL(9,{letter}4:{letter}{last_row})");
        assert_eq!(formulas.get_value((1, col)).map(String::as_str), Some(expected.as_str()));
    }
    assert_eq!(accounts.cell(&accounts.totals, CLOSING), &rubles(data.summary.totals.closing));
    let formulas = book.worksheet_formula("Показания").unwrap();
    let expected = format!("SUBTOTAL(9,N4:N{})", 3 + data.meters.len());
    assert_eq!(formulas.get_value((1, 13)), Some(&expected));
    assert_eq!(meters.cell(&meters.totals, "Начислено, ₽"), &rubles(data.summary.charged_for_consumption));
    let listed: Vec<String> = unread.rows.iter().map(|r| unread.text(r, "Договор")).collect();
    let expected: Vec<&str> = data.unread.iter().map(|line| line.contract.number.as_str()).collect();
    assert_eq!(listed, expected);
    assert_eq!(data.summary.totals.closing, kopecks!(1_403_45));
}

#[tokio::test]
async fn a_closed_months_report_stays_as_sent() {
    let coop = Cooperative::build().await;
    let (t, ctx) = (&coop.t, &coop.t.ctx);
    // 1 April, 09:00 in Moscow: March is over, and its report goes out.
    t.clock.set(utc(2026, 4, 1, 6));
    months::close(ctx, period(MARCH), Actor::System).await.unwrap();
    let sent = monthly_report(ctx, period(MARCH), PUBLIC_URL).await.unwrap();

    // Later in April: a correction of В-1's March reading (125 → 123) books a recalculation in
    // April, −2 m³ × 40 ₽ = −80,00 ₽, and 300,00 ₽ arrives.
    t.clock.set(utc(2026, 4, 20, 10));
    let numbers = contract_numbers(ctx.db.conn()).await;
    let w1 = numbers.iter().find(|(_, number)| *number == "В-1").map(|(id, _)| *id).unwrap();
    let reason = "Исправлено показание за март: 123 вместо 125";
    let mut line = ledger_line(t, w1, ChargeKind::Recalculation, period("2026-04"), kopecks!(-80_00));
    line.for_period = Set(period(MARCH));
    line.consumption_change = Set(Some(-2_000));
    line.reason = Set(Some(reason.into()));
    line.insert(ctx.db.conn()).await.unwrap();
    let payment = NewPayment {
        contract_number: "В-1".into(),
        amount: kopecks!(300_00),
        paid_on: day("2026-04-18"),
        for_period: Some(period("2026-04")),
        reference: Some("п/п 17".into()),
        confirm_duplicate: false,
    };
    payments::record(ctx, payment, Actor::System).await.unwrap();

    let again = monthly_report(ctx, period(MARCH), PUBLIC_URL).await.unwrap();
    assert!(sent == again, "March's report changed after it was closed");
    let mut march = open(sent);
    let title = "Отчёт за март 2026 · составлен 01.04.2026 09:00";
    assert_eq!(Table::read(&mut march, "Оплаты").title, title, "dated when the month closed");
    assert_eq!(Table::read(&mut march, "Перерасчёты").rows.len(), 0);

    let mut april = open(monthly_report(ctx, period("2026-04"), PUBLIC_URL).await.unwrap());
    let recalculations = Table::read(&mut april, "Перерасчёты");
    assert_eq!(recalculations.title, "Отчёт за апрель 2026 · составлен 20.04.2026 13:00");
    let [row] = &recalculations.rows[..] else { panic!("one recalculation: {:?}", recalculations.rows) };
    assert_eq!(recalculations.text(row, "Договор"), "В-1");
    assert_eq!(recalculations.text(row, "За месяц"), "март 2026");
    assert_eq!(recalculations.cell(row, "Изменение расхода"), &Data::Float(-2.0));
    assert_eq!(recalculations.cell(row, "Сумма, ₽"), &rubles(kopecks!(-80_00)));
    assert_eq!(recalculations.text(row, "Причина"), reason);
    assert_eq!(recalculations.cell(&recalculations.totals, "Сумма, ₽"), &rubles(kopecks!(-80_00)));
    let paid = Table::read(&mut april, "Оплаты");
    let [row] = &paid.rows[..] else { panic!("one payment: {:?}", paid.rows) };
    assert_eq!(date(paid.cell(row, "Дата оплаты")), day("2026-04-18"));
    assert_eq!(paid.cell(row, "Сумма, ₽"), &rubles(kopecks!(300_00)));
    assert_eq!(paid.text(row, "Документ"), "п/п 17");
    assert_eq!(paid.text(row, "Источник"), "Вручную");
    assert_eq!(paid.text(row, "За месяц"), "апрель 2026");
    assert_eq!(april.sheet_names()[0], "Сводка");
    let summary = april.worksheet_range("Сводка").unwrap();
    // Water opened April at 1 153,45 ₽ (as March closed); −80,00 recalculated, 300,00 paid.
    let water = [115_345, 0, -8_000, 0, 30_000, 77_345, 77_345].map(|k| Kopecks::new(k).unwrap());
    assert_eq!(movement(&summary, "Вода"), water);
    // March closed at 1 403,45 ₽ for the whole cooperative (sheets_lay_out_the_data).
    assert_eq!(labelled(&summary, "Долг на начало месяца, ₽")[1], rubles(kopecks!(1_403_45)));
    assert_eq!(labelled(&summary, "В том числе перерасчёты, ₽")[1], rubles(kopecks!(-80_00)));
    assert_eq!(labelled(&summary, "Оплачено за месяц, ₽")[1], rubles(kopecks!(300_00)));
    // 1 403,45 − 80,00 − 300,00.
    assert_eq!(labelled(&summary, "Сальдо на конец месяца, ₽")[1], rubles(kopecks!(1_023_45)));
}

#[tokio::test]
async fn a_month_that_has_not_begun_is_refused() {
    let coop = Cooperative::build().await;
    let err = monthly_report(&coop.t.ctx, period("2026-04"), PUBLIC_URL).await.unwrap_err();
    assert!(matches!(err, ReportError::FuturePeriod(p) if p == period("2026-04")));
    assert_eq!(err.to_string(), "Отчёт за апрель 2026 ещё нельзя построить: этот месяц не начался.");
}

#[test]
fn file_names_are_ascii() {
    assert_eq!(monthly_report_file_name(period(MARCH)), "report-2026-03.xlsx");
    assert_eq!(export_file_name(day("2026-03-15")), "export-2026-03-15.xlsx");
}

#[tokio::test]
async fn demo_cooperative_report_matches_the_ledger() {
    let t = TestContext::new().await;
    demo::generate(&t.ctx, DemoSpec { plots: 40, months: 6, seed: 7 }).await.unwrap();
    let conn = t.ctx.db.conn();
    let february = period("2026-02");
    let mut book = open(monthly_report(&t.ctx, february, PUBLIC_URL).await.unwrap());

    let meters = Table::read(&mut book, "Показания");
    let on_sheet = Kopecks::try_sum(
        meters.rows.iter().map(|r| meters.cell(r, "Начислено, ₽")).filter(|cell| *cell != &Data::Empty).map(kopecks),
    )
    .unwrap();
    let stored = Kopecks::try_sum(consumption_charges(conn, february).await.iter().map(|c| c.amount_kopecks)).unwrap();
    assert!(stored.is_positive());
    assert_eq!(on_sheet, stored);

    let unread_sql = "SELECT COUNT(*) AS n FROM contracts c \
        WHERE c.closed_on IS NULL \
          AND EXISTS (SELECT 1 FROM meters m WHERE m.contract_id = c.id AND m.removed_on IS NULL) \
          AND NOT EXISTS (SELECT 1 FROM meters m JOIN readings r ON r.meter_id = m.id \
                          WHERE m.contract_id = c.id AND r.period = ? AND r.status IN ('accepted', 'flagged'))";
    let rows = service::db::query(conn, unread_sql, [february.to_string().into()]).await.unwrap();
    let unread: i64 = rows[0].try_get("", "n").unwrap();
    assert!(unread > 0, "about one meter in eight goes unread in the demo");
    assert_eq!(Table::read(&mut book, "Не сняты").rows.len() as i64, unread);

    let summary = book.worksheet_range("Сводка").unwrap();
    let unread_plots = service::readings::walk::unread_plots(conn, february).await.unwrap().len();
    assert_eq!(labelled(&summary, "Участков не снято")[1], Data::Float(unread_plots as f64));
}

/// Issue 13.4: В-1's 100,00 ₽ of 14.03 was meant for Э-3. March closes; on 20.04 the payment is
/// moved. March's report is written again byte for byte; April's «Оплаты» shows the reversal
/// (−100,00 ₽, naming the original) and the moved payment, and «Сводка» follows the debt.
#[tokio::test]
async fn a_reversal_and_a_moved_payment_are_marked_in_the_open_month() {
    let coop = Cooperative::build().await;
    let (t, ctx) = (&coop.t, &coop.t.ctx);
    t.clock.set(utc(2026, 4, 1, 6));
    months::close(ctx, period(MARCH), Actor::System).await.unwrap();
    let sent = monthly_report(ctx, period(MARCH), PUBLIC_URL).await.unwrap();
    let original = payment::Entity::find()
        .filter(payment::Column::AmountKopecks.eq(kopecks!(100_00)))
        .one(ctx.db.conn())
        .await
        .unwrap()
        .unwrap();

    t.clock.set(utc(2026, 4, 20, 10));
    let reason = "Плательщик ошибся договором";
    let service::ledger::payments::reversal::Moved { reversal, moved, .. } =
        service::ledger::payments::reversal::transfer(
            ctx,
            original.id,
            "Э-3",
            reason,
            domain::PaymentSource::Panel,
            Actor::System,
        )
        .await
        .unwrap();

    assert!(monthly_report(ctx, period(MARCH), PUBLIC_URL).await.unwrap() == sent, "March stays as sent");
    let mut april = open(monthly_report(ctx, period("2026-04"), PUBLIC_URL).await.unwrap());
    let paid = Table::read(&mut april, "Оплаты");
    let lines: Vec<(String, Data, String, String)> = paid
        .rows
        .iter()
        .map(|row| {
            let cells = (paid.text(row, "Договор"), paid.cell(row, "Сумма, ₽").clone());
            (cells.0, cells.1, paid.text(row, "№ платежа"), paid.text(row, "Сторно, основание"))
        })
        .collect();
    assert_eq!(
        lines,
        [
            // Both dated 14.03 when the money arrived, booked in April, the first open month.
            (
                "В-1".to_owned(),
                rubles(kopecks!(-100_00)),
                reversal.id.to_string(),
                format!("Сторно платежа № {}: {reason}", original.id)
            ),
            (
                "Э-3".to_owned(),
                rubles(kopecks!(100_00)),
                moved.id.to_string(),
                format!("Перенесён с договора платёж № {} от 14.03.2026: {reason}", original.id)
            ),
        ]
    );
    assert_eq!(paid.cell(&paid.totals, "Сумма, ₽"), &rubles(Kopecks::ZERO));
    // The debt follows: В-1 owes 100,00 more, Э-3 100,00 less, the ledger and the report agree.
    let data = monthly_data(ctx, period("2026-04"), PUBLIC_URL).await.unwrap();
    let balances = debt::balances(ctx.db.conn(), Scope::All, None).await.unwrap();
    for line in &data.accounts {
        assert_eq!(line.movement.closing, balances[&line.contract.id].debt(), "{}", line.contract.number);
        let expected_paid = match line.contract.number.as_str() {
            "В-1" => kopecks!(-100_00),
            "Э-3" => kopecks!(100_00),
            _ => Kopecks::ZERO,
        };
        assert_eq!(line.movement.paid, expected_paid, "{}", line.contract.number);
    }
}

/// The original is marked in the month its reversal is booked in, when both are in it.
#[tokio::test]
async fn a_payment_reversed_in_its_own_month_is_marked_beside_its_reversal() {
    let coop = Cooperative::build().await;
    let ctx = &coop.t.ctx;
    let original = payment::Entity::find()
        .filter(payment::Column::AmountKopecks.eq(kopecks!(50_00)))
        .one(ctx.db.conn())
        .await
        .unwrap()
        .unwrap();
    let reversal = service::ledger::payments::reversal::reverse(
        ctx,
        original.id,
        "Двойной ввод",
        domain::PaymentSource::Panel,
        Actor::System,
    )
    .await
    .unwrap();
    let mut march = open(monthly_report(ctx, period(MARCH), PUBLIC_URL).await.unwrap());
    let paid = Table::read(&mut march, "Оплаты");
    let note = |id: i64| {
        let row = paid.rows.iter().find(|row| paid.text(row, "№ платежа") == id.to_string()).unwrap();
        paid.text(row, "Сторно, основание")
    };
    let on = ctx.today().format("%d.%m.%Y");
    assert_eq!(note(original.id), format!("Сторнирован {on} (№ {})", reversal.id));
    assert_eq!(note(reversal.id), format!("Сторно платежа № {}: Двойной ввод", original.id));
}
