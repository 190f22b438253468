//! The books: in which month a line is booked, what closing a month means, how a change to a
//! closed month is corrected, and the figures an accountant checks. Pure rules; the service
//! keeps the lines in the database and calls these.
//!
//! # Months
//!
//! Every ledger line (a charge or a payment) has a **booking month** (`period`): the report it
//! appears in. A month's report shows exactly the lines booked in it, and the closing balance of
//! month M is the sum of every line booked in months up to M. A line may also have a **for
//! month** (`for_period`): what it is about (the month of consumption a charge prices, the closed
//! month a recalculation corrects, the month a payer said they paid for). It is information
//! only; it never decides where a line shows.
//!
//! A month is **closed** when its report to the accountants falls due (before the report is
//! built, so the report is the closed month's), or an accountant or admin closed it. Closed
//! months form a prefix of the calendar ([`ClosedMonths`]): only a month that has ended can be
//! closed, closing a month closes every earlier open one, and reopening a month (admin only,
//! with a reason, audited) reopens every later one too, or a later month would no longer open at
//! the closing of the one before. Nothing is ever booked into a
//! closed month, and a closed month's lines are never changed or deleted: the report sent stays
//! true. A line is booked in [`ClosedMonths::booking_period`] of its date: the month of the date,
//! or the first open month when that one is closed.
//!
//! # Lines
//!
//! - **Consumption** (`ChargeKind::Consumption`): one zone's consumption between two closing
//!   readings, one line per tariff in force over those days ([`crate::billing`] prices it day by
//!   day and splits it by days), dated the closing reading's day, booked in its for month while
//!   that month is open.
//! - **Payments** count on the day the money arrived (`paid_on`), whatever month they are for.
//!   Paying more than is owed leaves a negative balance, a credit (аванс) carried forward.
//! - **Opening balance** (`ChargeKind::OpeningBalance`, «Входящее сальдо»): a debt (+) or credit
//!   (−) carried over at go-live, dated the go-live day and booked in that day's month (or the
//!   first open month, when that one was closed before it was loaded), never shown as consumption.
//! - **Recalculation** (`ChargeKind::Recalculation`, «Перерасчёт»): when a change reaches a closed
//!   month (a reading added late, corrected or accepted on review, a rollover or replacement
//!   entered late, a tariff with a past start date), the closed month keeps its lines and the
//!   difference is booked as a new line in the open month, positive or negative, pointing at the
//!   month it corrects, with a [`Cause`] and its Russian reason.
//!
//! # Recomputing a meter
//!
//! After a change, the service prices the meter's readings again (the desired lines) and sums
//! what is booked per for month and zone (consumption and recalculation lines together), and
//! [`plan_recompute`] says what to write, looking only at for months from the change's
//! [`Cause::affects_from`] on, so a change of the rules never restates history by itself:
//!
//! - an **open** for month is rebuilt: its consumption and recalculation lines are replaced by
//!   the desired lines (every recalculation of an open month is booked in an open month, as
//!   closed months are a prefix, so nothing closed is touched);
//! - a **closed** for month gets one recalculation line per zone of `desired − booked`, in money
//!   and in consumption, booked in the month of the change; none when nothing differs.
//!
//! Worked example. Water at 40,00 ₽/m³; readings 20.07 (10 m³), 12.08 (25 m³) and 10.11 (40 m³);
//! July to October are closed. August was booked at 15 m³ = 600,00 ₽, November at 15 m³ =
//! 600,00 ₽. On 15.11 the reading of 12.08 is corrected to 22 m³. August is closed and now
//! wants 12 m³ = 480,00 ₽: a recalculation of −3 m³ and −120,00 ₽ is booked in November,
//! «Перерасчёт за август 2026: исправлено показание от 12.08.2026». November is open: its line
//! is rebuilt at 18 m³ = 720,00 ₽. August's report stays as it was sent; November's shows
//! 720,00 ₽ consumption and −120,00 ₽ recalculation.
//!
//! # The identity
//!
//! For every contract and month, closing = opening + consumption + recalculations + opening
//! balances − paid ([`MonthFigures`]), and a month opens at the previous month's closing as
//! reported: the first thing an accountant checks.

mod figures;
mod months;
mod recalculation;

pub use figures::{FiguresError, MonthFigures};
pub use months::{ClosedMonths, ClosingError};
pub use recalculation::{Booked, Cause, Plan, PlanError, Recalculation, plan_recompute};
