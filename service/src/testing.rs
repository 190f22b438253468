//! Test support: a real SQLite file in a temporary directory, migrated, with a movable clock.

use std::path::Path;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use domain::{
    Kopecks, MeterValue, Period, PlotNumber, ReadingSource, ReadingStatus, Role, Service, TariffPlan, Zone, kopecks,
};
use tempfile::TempDir;

use crate::access::staff::{self, NewStaff};
use crate::audit::Actor;
use crate::ledger::payments::NewPayment;
use crate::ledger::tariffs;
use crate::readings::{self, Submission, review};
use crate::register::sign_up;
use crate::register::sign_up::{ConsumerRef, NewMeter, SignUp, SignedUp};
use crate::{Context, Db, ManualClock, Settings};

pub mod photos;
pub mod sheets;

/// A migrated database with a movable clock: an SQLite file in a temporary directory, or, when
/// `TEST_DATABASE_URL` names a PostgreSQL server, a fresh schema there.
pub struct TestContext {
    pub ctx: Context,
    pub clock: ManualClock,
    /// Holds the SQLite file and the photos; removed when the test ends.
    pub dir: TempDir,
    url: String,
}

/// 2026-03-15 12:00 UTC: mid-month, so "this month" and "last month" both exist.
pub fn default_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0).unwrap()
}

/// A database URL for a new test: a fresh PostgreSQL schema when `TEST_DATABASE_URL` is set,
/// otherwise an SQLite file in `dir`.
pub async fn fresh_database_url(dir: &Path) -> String {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => fresh_postgres_schema(&base).await,
        _ => crate::db::sqlite_url(&dir.join("test.db"), "rwc"),
    }
}

/// Creates a uniquely named schema and returns a URL whose connections use it, so tests run in
/// parallel on one server without seeing each other.
async fn fresh_postgres_schema(base: &str) -> String {
    use sea_orm::ConnectionTrait;
    let schema = format!("test_{}", crate::access::secrets::random_token(12).to_lowercase());
    let admin = sea_orm::Database::connect(base).await.expect("connect to TEST_DATABASE_URL");
    admin.execute_unprepared(&format!("CREATE SCHEMA {schema}")).await.expect("create a test schema");
    admin.close().await.expect("close");
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options[search_path]={schema}")
}

impl TestContext {
    pub async fn new() -> TestContext {
        Self::at(default_now()).await
    }

    pub async fn at(now: DateTime<Utc>) -> TestContext {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = fresh_database_url(dir.path()).await;
        let db = Db::open(&url).await.expect("open the test database");
        let clock = ManualClock::new(now);
        let settings = Settings::with_photo_dir(dir.path().join("photos"));
        let ctx = Context::new(db, settings, clock.clock());
        TestContext { ctx, clock, dir, url }
    }

    /// The database URL, for starting another process or app on the same database.
    pub fn database_url(&self) -> String {
        self.url.clone()
    }

    /// See [`standard_tariffs`].
    pub async fn standard_tariffs(&self) {
        standard_tariffs(&self.ctx).await
    }

    /// See [`staff()`].
    pub async fn staff(&self, login: &str, role: Role) -> entities::staff::Model {
        staff(&self.ctx, login, role).await
    }

    /// See [`sign`].
    pub async fn sign(
        &self,
        plot: &str,
        consumer: ConsumerRef,
        number: &str,
        service: Service,
        plan: TariffPlan,
        initial: &[i64],
    ) -> SignedUp {
        sign(&self.ctx, plot, consumer, number, service, plan, initial).await
    }
}

// The helpers below take any context, e.g. that of the whole app started by the end-to-end tests.

/// Water at 40 ₽/m³; electricity 5 ₽ single, 6 ₽ day, 3 ₽ night; all from 2020.
pub async fn standard_tariffs(ctx: &Context) {
    let from = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    for (service, zone, price) in [
        (Service::Water, Zone::Single, kopecks!(40_00)),
        (Service::Electricity, Zone::Single, kopecks!(5_00)),
        (Service::Electricity, Zone::Day, kopecks!(6_00)),
        (Service::Electricity, Zone::Night, kopecks!(3_00)),
    ] {
        tariffs::add(ctx, service, zone, price, from, Actor::System).await.expect("tariff");
    }
}

/// The cooperative's bank details (`bank::testing::DETAILS`), saved as an admin saves them.
pub async fn bank_details(ctx: &Context) {
    crate::payee::details::save(ctx, &bank::testing::DETAILS, Actor::System).await.expect("bank details");
}

/// A staff member with login `login` and password `login-password`.
pub async fn staff(ctx: &Context, login: &str, role: Role) -> entities::staff::Model {
    let new = NewStaff {
        login: login.to_owned(),
        full_name: format!("Сотрудник {login}"),
        role,
        password: format!("{login}-password"),
    };
    staff::create(ctx, new, Actor::System).await.expect("staff")
}

/// «Член {plot}» on `plot`, with one single-tariff contract `number` of `service` and its meter
/// starting at `initial` whole units.
pub async fn member(ctx: &Context, plot: &str, number: &str, service: Service, initial: i64) -> SignedUp {
    let consumer = new_consumer(&format!("Член {plot}"), None);
    sign(ctx, plot, consumer, number, service, TariffPlan::Single, &[initial]).await
}

/// Signs a contract on `plot`, meter installed 2026-01-01 with `initial` whole units per register.
pub async fn sign(
    ctx: &Context,
    plot: &str,
    consumer: ConsumerRef,
    number: &str,
    service: Service,
    plan: TariffPlan,
    initial: &[i64],
) -> SignedUp {
    let installed = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let form = SignUp {
        plot: PlotNumber::parse(plot).unwrap(),
        plot_address: None,
        consumer,
        contract_number: number.to_owned(),
        service,
        plan,
        signed_on: installed,
        meter: NewMeter {
            serial: format!("SN-{number}"),
            installed_on: installed,
            initial: initial.iter().map(|v| MeterValue::from_whole(*v).expect("a meter value")).collect(),
            seal_number: Some("P-1".into()),
            verification_due: None,
        },
    };
    sign_up::sign_up(ctx, form, Actor::System).await.expect("sign up")
}

/// An office reading of `values`, confirmed: what most tests record.
pub fn office_reading(meter_id: i64, values: Vec<MeterValue>) -> Submission {
    Submission { confirmed: true, ..Submission::new(meter_id, values, ReadingSource::Panel, Actor::System) }
}

/// `2026-07-20` as a date.
pub fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// 09:00 UTC on `2026-07-20`: noon in the cooperative's zone, for moving the clock by days.
pub fn noon(text: &str) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day(text).and_hms_opt(9, 0, 0).unwrap())
}

/// `2026-07` as a month.
pub fn month(text: &str) -> Period {
    Period::parse(text).unwrap()
}

/// A reading of `values` (one per zone) entered in the panel by staff `staff_id` on the clock's day, accepted on
/// review by the same staff member when it jumps above the usual consumption (as a test's round
/// numbers do). Its id.
pub async fn read_accepted(ctx: &Context, meter_id: i64, values: Vec<MeterValue>, staff_id: i64) -> i64 {
    let submission = Submission {
        confirmed: true,
        ..Submission::new(meter_id, values, ReadingSource::Panel, Actor::Staff(staff_id))
    };
    let reading = readings::submit(ctx, submission).await.unwrap().reading;
    if reading.status == ReadingStatus::Flagged {
        review::review(ctx, reading.id, review::Decision::Accept, staff_id).await.unwrap();
    }
    reading.id
}

/// `amount` paid to `contract` on `paid_on` (`2026-08-20`), with a reference of its own.
pub fn paid(contract: &str, amount: Kopecks, paid_on: &str) -> NewPayment {
    NewPayment {
        contract_number: contract.into(),
        amount,
        paid_on: day(paid_on),
        for_period: None,
        reference: Some(format!("П-{contract}-{paid_on}")),
        confirm_duplicate: false,
    }
}

/// A new consumer for [`TestContext::sign`].
pub fn new_consumer(name: &str, phone: Option<&str>) -> ConsumerRef {
    ConsumerRef::New { full_name: name.to_owned(), phone: phone.map(|p| domain::Phone::parse(p).unwrap()) }
}

/// A common meter (installed 2026-01-01 at zero) on the cooperative's line `name` standing at
/// `point`: the service's main meter, or a line under it feeding `plots`.
pub async fn network_line(
    ctx: &Context,
    service: Service,
    name: &str,
    point: &str,
    under_main: bool,
    plots: &[&str],
) -> entities::network_line::Model {
    let line = crate::network::NewLine {
        service,
        name: name.to_owned(),
        under_main,
        point: PlotNumber::parse(point).unwrap(),
        meter: NewMeter {
            serial: format!("SN-{point}"),
            installed_on: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            initial: vec![MeterValue::ZERO],
            seal_number: None,
            verification_due: None,
        },
        plots: plots.iter().map(|p| PlotNumber::parse(p).unwrap()).collect(),
    };
    crate::network::add_line(ctx, line, Actor::System).await.expect("a network line")
}

/// Links Telegram user `telegram_user_id` to the consumer as a one-time code from the office does.
pub async fn link(ctx: &Context, consumer_id: i64, telegram_user_id: i64) {
    use crate::access::telegram::{self, LinkTarget};
    let code = telegram::issue_code(ctx, LinkTarget::Consumer(consumer_id), None).await.expect("a link code");
    telegram::redeem(ctx, &code.code, telegram_user_id).await.expect("the code links");
}
