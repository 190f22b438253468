//! The service layer: every rule that touches the database, written once and called by the bot,
//! the panel, the reports and the CLI alike. Functions take a [`Context`] (database, settings,
//! clock) and return typed errors whose messages are fit to show to the user, in Russian.

pub mod access;
pub mod audit;
pub mod backup;
pub mod charts;
pub mod clock;
pub mod dates;
pub mod db;
pub mod deliveries;
pub mod demo;
mod error;
pub mod heavy;
pub mod import_drafts;
pub mod ledger;
pub mod members;
pub mod meters;
pub mod metrics;
pub mod network;
pub mod paging;
pub mod payee;
pub mod readings;
pub mod register;
pub mod settings;
pub mod spreadsheet;
#[cfg(feature = "testing")]
pub mod testing;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use domain::Period;

pub use clock::{Clock, ManualClock};
pub use db::Db;
pub use error::{Chain, Internal};
pub use settings::Settings;

/// What every service function needs: the database, the settings and the time, and this
/// process's budgets of login attempts per address and of what a Telegram user may try.
#[derive(Clone)]
pub struct Context {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub clock: Clock,
    pub login_throttle: Arc<access::throttle::AddressThrottle>,
    pub telegram_budgets: Arc<access::throttle::TelegramBudgets>,
    /// Whether the bank details were usable when last read (`payee::details::offered`).
    pub details_check: Arc<payee::details::LastCheck>,
}

impl Context {
    pub fn new(db: Db, settings: Settings, clock: Clock) -> Context {
        Context {
            db,
            settings: Arc::new(settings),
            clock,
            login_throttle: Arc::default(),
            telegram_budgets: Arc::default(),
            details_check: Arc::default(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Today in the cooperative's time zone (a reading at 01:00 local time belongs to that day).
    pub fn today(&self) -> NaiveDate {
        self.local_date(self.now())
    }

    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.settings.tz).date_naive()
    }

    /// The billing period of today.
    pub fn current_period(&self) -> Period {
        Period::of(self.today())
    }
}
