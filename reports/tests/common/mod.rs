//! Workbooks read back the way an accountant's spreadsheet program reads them, and the known
//! cooperative the tests build.

#![allow(dead_code)] // Each test binary uses its own part of this module.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use domain::{ChargeKind, Kopecks, MeterValue, Period, ReadingSource, Service, TariffPlan, kopecks};
use entities::{charge, photo};
use sea_orm::{ActiveModelTrait, NotSet, Set};
use service::audit::Actor;
use service::ledger::payments::{self, NewPayment};
use service::readings;
use service::readings::Submission;
use service::register::sign_up::{ConsumerRef, SignedUp};
use service::testing::{TestContext, new_consumer};

pub type Book = Xlsx<Cursor<Vec<u8>>>;

pub fn open(bytes: Vec<u8>) -> Book {
    open_workbook_from_rs(Cursor::new(bytes)).expect("a valid xlsx file")
}

/// A table sheet: its title, the totals row above the table (empty without totals), the header
/// row and the rows under it.
pub struct Table {
    pub title: String,
    pub totals: Vec<Data>,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Data>>,
}

impl Table {
    pub fn read(book: &mut Book, sheet: &str) -> Table {
        let range = book.worksheet_range(sheet).unwrap_or_else(|e| panic!("sheet {sheet}: {e}"));
        assert_eq!(range.start(), Some((0, 0)), "{sheet} starts at A1");
        let mut rows = range.rows().map(<[Data]>::to_vec);
        let title = rows.next().expect("a title row")[0].to_string();
        let totals = rows.next().expect("a totals row");
        let headers = rows.next().expect("a header row").iter().map(ToString::to_string).collect();
        Table { title, totals, headers, rows: rows.collect() }
    }

    pub fn column(&self, header: &str) -> usize {
        self.headers
            .iter()
            .position(|h| h == header)
            .unwrap_or_else(|| panic!("no column «{header}» in {:?}", self.headers))
    }

    pub fn cell<'a>(&self, row: &'a [Data], header: &str) -> &'a Data {
        &row[self.column(header)]
    }

    pub fn text(&self, row: &[Data], header: &str) -> String {
        self.cell(row, header).to_string()
    }
}

/// Money as the sheet must hold it: a number of rubles.
pub fn rubles(amount: Kopecks) -> Data {
    Data::Float(amount.as_rubles_for_display())
}

/// A money cell read back as kopecks.
pub fn kopecks(cell: &Data) -> Kopecks {
    match cell {
        Data::Float(rubles) => Kopecks::new((rubles * 100.0).round() as i64).unwrap(),
        other => panic!("expected money, found {other:?}"),
    }
}

pub fn units(value: MeterValue) -> Data {
    Data::Float(value.as_units_for_display())
}

/// The date in a cell that must be a real Excel date.
pub fn date(cell: &Data) -> NaiveDate {
    match cell {
        Data::DateTime(dt) if dt.is_datetime() => dt.as_datetime().expect("a valid date").date(),
        other => panic!("expected a date, found {other:?}"),
    }
}

pub fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

pub fn period(s: &str) -> Period {
    Period::parse(s).unwrap()
}

pub const PUBLIC_URL: &str = "https://panel.example.org/coop/";

pub const MARCH: &str = "2026-03";

/// The money columns of «Начисления и оплаты».
pub const OPENING: &str = "Долг на начало месяца, ₽ (минус — переплата)";
pub const CHARGED: &str = "Начислено за месяц, ₽";
pub const PAID: &str = "Оплачено за месяц, ₽";
pub const CLOSING: &str = "Долг на конец месяца, ₽ (минус — переплата)";

/// The cooperative every test knows by heart (TestContext's clock: 2026-03-15 12:00 UTC;
/// water 40 ₽/m³, electricity 6 ₽ day / 3 ₽ night / 5 ₽ single):
///
/// | plot | contract | February       | March                              |
/// |------|----------|----------------|------------------------------------|
/// | 1    | В-1      | 110 (from 100) | 112, then 125 (seal broken, photo) |
/// | 2    | Э-2      | 1100/540       | 1250/600 by the consumer           |
/// | 3    | В-3      | 7 (from 0)     | —                                  |
/// | 3    | Э-3      | 100 (from 0)   | 100 000: held for review           |
///
/// Payments: В-1 150 ₽ for February (partial) and 100 ₽ for March; Э-2 2 000 ₽ for February
/// (overpaid); Э-3 50 ₽ for March; all paid in March, so all counted in March. В-3 also carries a debt of 123,45 ₽ from before go-live,
/// entered as an opening-balance charge in March.
pub struct Cooperative {
    pub t: TestContext,
    pub photo_id: i64,
}

struct Contracts {
    w1: SignedUp,
    e2: SignedUp,
    w3: SignedUp,
    e3: SignedUp,
}

impl Cooperative {
    pub async fn build() -> Cooperative {
        let t = TestContext::new().await;
        t.standard_tariffs().await;
        let contracts = sign(&t).await;
        let photo_id = store_photo(&t).await;
        read_meters(&t, &contracts, photo_id).await;
        pay(&t).await;
        carry_opening_balance(&t, contracts.w3.contract_id, kopecks!(123_45)).await;
        Cooperative { t, photo_id }
    }
}

async fn sign(t: &TestContext) -> Contracts {
    let (water, power) = (Service::Water, Service::Electricity);
    let bender = new_consumer("Бендер Остап Ибрагимович", Some("+79780000001"));
    let kozlevich = new_consumer("Козлевич Адам Казимирович", None);
    let panikovsky = new_consumer("Паниковский Михаил Самуэлевич", Some("+79780000003"));
    let w1 = t.sign("1", bender, "В-1", water, TariffPlan::Single, &[100]).await;
    let e2 = t.sign("2", kozlevich, "Э-2", power, TariffPlan::DayNight, &[1000, 500]).await;
    let w3 = t.sign("3", panikovsky, "В-3", water, TariffPlan::Single, &[0]).await;
    let same = ConsumerRef::Existing(w3.consumer_id);
    let e3 = t.sign("3", same, "Э-3", power, TariffPlan::Single, &[0]).await;
    Contracts { w1, e2, w3, e3 }
}

/// A photo row for a reading to point at (the file itself is not needed).
async fn store_photo(t: &TestContext) -> i64 {
    let photo = photo::ActiveModel {
        id: NotSet,
        sha256: Set("ab".repeat(32)),
        path: Set("ab/abab.jpg".into()),
        thumb_path: Set("ab/abab.thumb.jpg".into()),
        width: Set(1600),
        height: Set(1200),
        bytes: Set(123_456),
        created_at: Set(t.ctx.now()),
    };
    photo.insert(t.ctx.db.conn()).await.unwrap().id
}

async fn read_meters(t: &TestContext, c: &Contracts, photo_id: i64) {
    let february = utc(2026, 2, 10, 9);
    for (meter, values) in
        [(c.w1.meter_id, &[110][..]), (c.e2.meter_id, &[1100, 540]), (c.w3.meter_id, &[7]), (c.e3.meter_id, &[100])]
    {
        read(t, Reading::new(meter, values, february)).await;
    }
    read(t, Reading::new(c.w1.meter_id, &[112], utc(2026, 3, 2, 9))).await;
    // 22:30 UTC is 01:30 the next day in Moscow: the sheet shows the local date.
    let late = Reading::new(c.w1.meter_id, &[125], Utc.with_ymd_and_hms(2026, 3, 4, 22, 30, 0).unwrap());
    read(t, Reading { seal_intact: Some(false), photo_id: Some(photo_id), ..late }).await;
    let consumer = Actor::Consumer { consumer_id: c.e2.consumer_id, telegram_user_id: 42 };
    let sent = Reading::new(c.e2.meter_id, &[1250, 600], utc(2026, 3, 6, 9));
    read(t, Reading { source: ReadingSource::ConsumerBot, actor: consumer, seal_intact: None, ..sent }).await;
    let jump = Reading::new(c.e3.meter_id, &[100_000], utc(2026, 3, 7, 9));
    read(t, Reading { confirmed: true, ..jump }).await;
}

async fn pay(t: &TestContext) {
    for (contract, kopecks, month, paid_on) in [
        ("В-1", 150_00, "2026-02", "2026-03-10"),
        ("Э-2", 2_000_00, "2026-02", "2026-03-03"),
        ("В-1", 100_00, MARCH, "2026-03-14"),
        ("Э-3", 50_00, MARCH, "2026-03-14"),
    ] {
        let payment = NewPayment {
            contract_number: contract.into(),
            amount: Kopecks::new(kopecks).unwrap(),
            paid_on: day(paid_on),
            for_period: Some(period(month)),
            reference: None,
            confirm_duplicate: false,
        };
        payments::record(&t.ctx, payment, Actor::System).await.unwrap();
    }
}

/// A debt from before go-live on 1 March, booked as the register import books its «Сальдо» column.
async fn carry_opening_balance(t: &TestContext, contract_id: i64, amount: Kopecks) {
    let go_live = period(MARCH).first_day();
    service::ledger::charges::book_opening_balance(
        t.ctx.db.conn(),
        &t.ctx,
        contract_id,
        amount,
        go_live,
        Actor::System,
    )
    .await
    .unwrap();
}

/// A ledger line without a register booked in `booked` and about it, dated its first day.
pub fn ledger_line(
    t: &TestContext,
    contract_id: i64,
    kind: ChargeKind,
    booked: Period,
    amount: Kopecks,
) -> charge::ActiveModel {
    charge::ActiveModel {
        id: NotSet,
        contract_id: Set(contract_id),
        meter_id: Set(None),
        reading_id: Set(None),
        period: Set(booked),
        for_period: Set(booked),
        dated_on: Set(booked.first_day()),
        from_on: Set(None),
        to_on: Set(None),
        reason: Set(None),
        cause_kind: Set(None),
        cause_id: Set(None),
        consumption_change: Set(None),
        kind: Set(kind),
        zone: Set(None),
        previous_value: Set(None),
        current_value: Set(None),
        consumption: Set(None),
        price_kopecks: Set(None),
        amount_kopecks: Set(amount),
        created_at: Set(t.ctx.now()),
    }
}

pub fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

/// A reading as the panel enters it, unless told otherwise.
pub struct Reading {
    pub meter_id: i64,
    pub values: Vec<MeterValue>,
    pub taken_at: DateTime<Utc>,
    pub source: ReadingSource,
    pub actor: Actor,
    pub seal_intact: Option<bool>,
    pub photo_id: Option<i64>,
    pub confirmed: bool,
}

impl Reading {
    pub fn new(meter_id: i64, values: &[i64], taken_at: DateTime<Utc>) -> Reading {
        Reading {
            meter_id,
            values: values.iter().map(|v| MeterValue::from_whole(*v).unwrap()).collect(),
            taken_at,
            source: ReadingSource::Panel,
            actor: Actor::System,
            seal_intact: Some(true),
            photo_id: None,
            confirmed: false,
        }
    }
}

pub async fn read(t: &TestContext, r: Reading) {
    let submission = Submission {
        meter_id: r.meter_id,
        values: r.values,
        source: r.source,
        actor: r.actor,
        seal_intact: r.seal_intact,
        comment: None,
        photo_id: r.photo_id,
        idempotency_key: None,
        confirmed: r.confirmed,
        taken_at: Some(r.taken_at),
    };
    readings::submit(&t.ctx, submission).await.unwrap();
}
