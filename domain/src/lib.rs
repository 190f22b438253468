//! The cooperative's rules, free of Telegram, HTTP and SQL.
//!
//! Values cross into this crate only through parsing constructors (`Kopecks::parse_rubles`,
//! `MeterValue::parse`, `Phone::parse`, `PlotNumber::parse`, `Period::parse`, and
//! `TextKind::bounded` for free text), so code past the edge never handles raw user strings.
//! Error messages are written for the user, in Russian.
//!
//! Numbers from elsewhere (the API, the database, arithmetic) go through the bounded
//! constructors `Kopecks::new` and `MeterValue::new`; money and meter arithmetic is checked.
//!
//! The accounting rules (booking months, closed months, recalculation lines, opening balances,
//! payments by the day money arrived, and the identity an accountant checks) are written out in
//! [`ledger`]; how consumption is priced across a tariff change, in [`billing`].

pub mod billing;
#[cfg(feature = "sea-orm")]
mod column;
pub mod kinds;
pub mod ledger;
pub mod meter_value;
pub mod money;
pub mod network;
pub mod period;
pub mod phone;
pub mod plot;
pub mod rollover;
pub mod taken;
#[cfg(test)]
mod test_support;
pub mod text;
pub mod validation;

pub use billing::{Balance, BillingError, Charge, MeterSpec, ReadingPoint, Tariff, charges_for_meter, cost, tariff_on};
pub use kinds::{
    CauseKind, ChargeKind, LossMethod, PaymentSource, ReadingSource, ReadingStatus, RequestStatus, RequestTopic, Role,
    Service, TariffPlan, Zone,
};
pub use ledger::{
    Booked, Cause, ClosedMonths, ClosingError, FiguresError, MonthFigures, Plan, PlanError, Recalculation,
    plan_recompute,
};
pub use meter_value::{ConsumptionChange, MeterValue, ValueOutOfRange, values_text};
pub use money::{AmountOutOfRange, Kopecks};
pub use period::Period;
pub use phone::Phone;
pub use plot::PlotNumber;
pub use rollover::{Rollover, RolloverError, rollover};
pub use taken::{TakenAtError, check_taken_at, parse_taken_at};
pub use text::{TextKind, TooLong};
pub use validation::{Baseline, JumpPolicy, ReadingError, ReadingVerdict, check_correction, check_reading};
