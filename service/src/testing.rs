//! Test support: a real SQLite file in a temporary directory, migrated, with a movable clock.

use chrono::{DateTime, TimeZone, Utc};
use domain::{Kopecks, MeterValue, PlotNumber, Role, Service, TariffPlan, Zone};
use tempfile::TempDir;

use crate::audit::Actor;
use crate::inventory::{self, ConsumerRef, NewMeter, SignUp, SignedUp};
use crate::staff::{self, NewStaff};
use crate::{Context, Db, ManualClock, Settings, tariffs};

/// A migrated database in a temporary directory; dropped with the directory.
pub struct TestContext {
    pub ctx: Context,
    pub clock: ManualClock,
    pub dir: TempDir,
}

/// 2026-03-15 12:00 UTC: mid-month, so "this month" and "last month" both exist.
pub fn default_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0).unwrap()
}

impl TestContext {
    pub async fn new() -> TestContext {
        Self::at(default_now()).await
    }

    pub async fn at(now: DateTime<Utc>) -> TestContext {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
        let db = Db::connect(&url).await.expect("open sqlite");
        db.migrate().await.expect("migrate");
        let clock = ManualClock::new(now);
        let settings = Settings::with_photo_dir(dir.path().join("photos"));
        let ctx = Context::new(db, settings, clock.clock());
        TestContext { ctx, clock, dir }
    }

    /// The database URL, for starting another process or app on the same file.
    pub fn database_url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.dir.path().join("test.db").display())
    }

    /// Water at 40 ₽/m³; electricity 5 ₽ single, 6 ₽ day, 3 ₽ night; all from 2020.
    pub async fn standard_tariffs(&self) {
        let from = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
        for (service, zone, price) in [
            (Service::Water, Zone::Single, 4_000),
            (Service::Electricity, Zone::Single, 500),
            (Service::Electricity, Zone::Day, 600),
            (Service::Electricity, Zone::Night, 300),
        ] {
            tariffs::add(&self.ctx, service, zone, Kopecks(price), from, Actor::System).await.expect("tariff");
        }
    }

    /// A staff member with login `login` and password `login-password`.
    pub async fn staff(&self, login: &str, role: Role) -> entities::staff::Model {
        let new = NewStaff {
            login: login.to_owned(),
            full_name: format!("Сотрудник {login}"),
            role,
            password: format!("{login}-password"),
        };
        staff::create(&self.ctx, new, Actor::System).await.expect("staff")
    }

    /// Signs a contract on `plot`, meter installed 2026-01-01 with `initial` whole units per register.
    pub async fn sign(
        &self,
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
                initial: initial.iter().map(|v| MeterValue::from_whole(*v)).collect(),
                seal_number: Some("P-1".into()),
                verification_due: None,
            },
        };
        inventory::sign_up(&self.ctx, form, Actor::System).await.expect("sign up")
    }
}

/// A new consumer for [`TestContext::sign`].
pub fn new_consumer(name: &str, phone: Option<&str>) -> ConsumerRef {
    ConsumerRef::New { full_name: name.to_owned(), phone: phone.map(|p| domain::Phone::parse(p).unwrap()) }
}
