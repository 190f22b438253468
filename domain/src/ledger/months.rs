//! Closed months and the booking month.

use chrono::NaiveDate;

use crate::Period;

/// Which months are closed. They always form a prefix of the calendar, so the last closed month
/// says it all: closing a month closes every earlier one, reopening one reopens every later one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClosedMonths {
    through: Option<Period>,
}

/// Why a month cannot be closed or reopened. Messages go straight to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClosingError {
    #[error("Нельзя закрыть {}: месяц ещё не закончился.", .0.russian())]
    NotEnded(Period),
    #[error("Месяц {} уже закрыт.", .0.russian())]
    AlreadyClosed(Period),
    #[error("Месяц {} не закрыт: открывать нечего.", .0.russian())]
    NotClosed(Period),
}

impl ClosedMonths {
    /// Nothing closed yet: every month is open.
    pub const NONE: ClosedMonths = ClosedMonths { through: None };

    /// Every month up to `last` closed, every later one open.
    pub fn through(last: Period) -> ClosedMonths {
        ClosedMonths { through: Some(last) }
    }

    pub fn last_closed(self) -> Option<Period> {
        self.through
    }

    pub fn is_closed(self, month: Period) -> bool {
        self.through.is_some_and(|last| month <= last)
    }

    /// The month a line dated `date` is booked in: the date's month, or the first open month
    /// when that one is closed (lines are never booked into a closed month). One rule for
    /// payments (by the day the money arrived), consumption lines and recalculations.
    pub fn booking_period(self, date: NaiveDate) -> Period {
        let month = Period::of(date);
        match self.through {
            Some(last) if month <= last => last.next(),
            _ => month,
        }
    }

    /// Closes `month` and every earlier open month; `today` is the cooperative's local date,
    /// and a month can be closed only after it has ended.
    pub fn close(self, month: Period, today: NaiveDate) -> Result<ClosedMonths, ClosingError> {
        if Period::of(today) <= month {
            return Err(ClosingError::NotEnded(month));
        }
        if self.is_closed(month) {
            return Err(ClosingError::AlreadyClosed(month));
        }
        Ok(ClosedMonths::through(month))
    }

    /// Reopens `month` and every later closed month.
    pub fn reopen(self, month: Period) -> Result<ClosedMonths, ClosingError> {
        if !self.is_closed(month) {
            return Err(ClosingError::NotClosed(month));
        }
        Ok(ClosedMonths::through(month.prev()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{d, p};

    #[test]
    fn lines_are_booked_in_their_month_or_the_first_open_one() {
        assert_eq!(ClosedMonths::NONE.booking_period(d("2026-08-12")), p("2026-08"));
        let closed = ClosedMonths::through(p("2026-10"));
        // A payment that arrived on 28.10, entered after October's report went out.
        assert_eq!(closed.booking_period(d("2026-10-28")), p("2026-11"));
        assert_eq!(closed.booking_period(d("2026-03-01")), p("2026-11"));
        assert_eq!(closed.booking_period(d("2026-11-05")), p("2026-11"));
        assert_eq!(closed.booking_period(d("2026-12-02")), p("2026-12"));
    }

    #[test]
    fn only_an_ended_month_can_be_closed_and_earlier_ones_close_with_it() {
        let closed = ClosedMonths::through(p("2026-09"));
        assert_eq!(closed.close(p("2026-11"), d("2026-11-30")), Err(ClosingError::NotEnded(p("2026-11"))));
        let closed = closed.close(p("2026-11"), d("2026-12-01")).unwrap();
        assert!(closed.is_closed(p("2026-10")), "October was open and closes with November");
        assert!(closed.is_closed(p("2026-11")) && !closed.is_closed(p("2026-12")));
        assert_eq!(closed.last_closed(), Some(p("2026-11")));
        assert_eq!(closed.close(p("2026-10"), d("2026-12-01")), Err(ClosingError::AlreadyClosed(p("2026-10"))));
        // The first month ever closed closes all history before it.
        let first = ClosedMonths::NONE.close(p("2026-07"), d("2026-08-01")).unwrap();
        assert!(first.is_closed(p("2025-01")) && !first.is_closed(p("2026-08")));
        assert!(!ClosedMonths::NONE.is_closed(p("2000-01")));
    }

    #[test]
    fn reopening_a_month_reopens_the_later_ones() {
        let closed = ClosedMonths::through(p("2026-11"));
        let reopened = closed.reopen(p("2026-09")).unwrap();
        assert_eq!(reopened.last_closed(), Some(p("2026-08")));
        assert!(!reopened.is_closed(p("2026-10")) && !reopened.is_closed(p("2026-11")));
        assert_eq!(reopened.booking_period(d("2026-09-15")), p("2026-09"));
        assert_eq!(closed.reopen(p("2026-12")), Err(ClosingError::NotClosed(p("2026-12"))));
        assert_eq!(ClosedMonths::NONE.reopen(p("2026-01")), Err(ClosingError::NotClosed(p("2026-01"))));
    }

    #[test]
    fn refusals_are_in_russian() {
        assert_eq!(
            ClosingError::NotEnded(p("2026-11")).to_string(),
            "Нельзя закрыть ноябрь 2026: месяц ещё не закончился."
        );
        assert_eq!(ClosingError::AlreadyClosed(p("2026-10")).to_string(), "Месяц октябрь 2026 уже закрыт.");
        assert_eq!(
            ClosingError::NotClosed(p("2026-12")).to_string(),
            "Месяц декабрь 2026 не закрыт: открывать нечего."
        );
    }
}
