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
//! A month is **closed** when its report has been delivered to the accountants, or an accountant
//! or admin closed it. Closed months form a prefix of the calendar ([`ClosedMonths`]): only a
//! month that has ended can be closed, closing a month closes every earlier open one, and
//! reopening a month (admin only, with a reason, audited) reopens every later one too, or a later
//! month would no longer open at the closing of the one before. Nothing is ever booked into a
//! closed month, and a closed month's lines are never changed or deleted: the report sent stays
//! true. A line is booked in [`ClosedMonths::booking_period`] of its date: the month of the date,
//! or the first open month when that one is closed.
//!
//! # The identity
//!
//! For every contract and month, closing = opening + consumption + recalculations + opening
//! balances − paid ([`MonthFigures`]), and a month opens at the previous month's closing as
//! reported: the first thing an accountant checks.

mod figures;
mod months;

pub use figures::{FiguresError, MonthFigures};
pub use months::{ClosedMonths, ClosingError};
