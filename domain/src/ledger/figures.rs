//! A month's figures for one contract, or for a group of them, as the report's «Сводка» shows.

use crate::money::AmountOutOfRange;
use crate::{ChargeKind, Kopecks};

/// One booking month's money: where it opened, what was booked in it by kind, what was paid,
/// where it closed. Positive balances are debts, negative ones credits. Built with
/// [`MonthFigures::opening_at`], [`MonthFigures::book`] and [`MonthFigures::pay`], the identity
/// holds by construction; figures read back from elsewhere (stored balances, a written report)
/// are checked with [`MonthFigures::check`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MonthFigures {
    /// The previous month's closing.
    pub opening: Kopecks,
    pub consumption: Kopecks,
    pub recalculations: Kopecks,
    pub opening_balances: Kopecks,
    pub paid: Kopecks,
    pub closing: Kopecks,
}

/// Figures that do not add up. The message is for the log and for the accountant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FiguresError {
    #[error("Сальдо на конец месяца {closing} не сходится: по строкам месяца выходит {expected}.")]
    Unbalanced { closing: Kopecks, expected: Kopecks },
    #[error("Суммы месяца вне допустимых пределов: {0}.")]
    OutOfRange(#[from] AmountOutOfRange),
}

impl MonthFigures {
    /// A month that opens at `opening` (the previous month's closing) with nothing booked yet.
    pub fn opening_at(opening: Kopecks) -> MonthFigures {
        MonthFigures { opening, closing: opening, ..MonthFigures::default() }
    }

    /// The month after this one, opening at this one's closing.
    pub fn next(self) -> MonthFigures {
        MonthFigures::opening_at(self.closing)
    }

    /// Adds a ledger line booked in the month to the column of its kind and to the closing.
    pub fn book(mut self, kind: ChargeKind, amount: Kopecks) -> Result<MonthFigures, AmountOutOfRange> {
        let column = match kind {
            // A share of the network's losses is paid for energy consumed: «Сводка» counts it as
            // consumption, its own lines name it.
            ChargeKind::Consumption | ChargeKind::NetworkLosses => &mut self.consumption,
            ChargeKind::Recalculation => &mut self.recalculations,
            ChargeKind::OpeningBalance => &mut self.opening_balances,
        };
        *column = column.checked_add(amount)?;
        self.closing = self.closing.checked_add(amount)?;
        Ok(self)
    }

    /// Adds a payment received in the month.
    pub fn pay(mut self, amount: Kopecks) -> Result<MonthFigures, AmountOutOfRange> {
        self.paid = self.paid.checked_add(amount)?;
        self.closing = self.closing.checked_sub(amount)?;
        Ok(self)
    }

    /// Everything charged in the month: consumption, recalculations and opening balances.
    pub fn charged(self) -> Result<Kopecks, AmountOutOfRange> {
        Kopecks::try_sum([self.consumption, self.recalculations, self.opening_balances])
    }

    /// Checks closing = opening + consumption + recalculations + opening balances − paid.
    pub fn check(self) -> Result<(), FiguresError> {
        let expected = self.opening.checked_add(self.charged()?)?.checked_sub(self.paid)?;
        if expected != self.closing {
            return Err(FiguresError::Unbalanced { closing: self.closing, expected });
        }
        Ok(())
    }

    /// Two contracts' (or services') figures of the same month together.
    pub fn checked_add(self, rhs: MonthFigures) -> Result<MonthFigures, AmountOutOfRange> {
        Ok(MonthFigures {
            opening: self.opening.checked_add(rhs.opening)?,
            consumption: self.consumption.checked_add(rhs.consumption)?,
            recalculations: self.recalculations.checked_add(rhs.recalculations)?,
            opening_balances: self.opening_balances.checked_add(rhs.opening_balances)?,
            paid: self.paid.checked_add(rhs.paid)?,
            closing: self.closing.checked_add(rhs.closing)?,
        })
    }

    /// The figures of several contracts together, or the first partial sum beyond the bound.
    pub fn try_sum(figures: impl IntoIterator<Item = MonthFigures>) -> Result<MonthFigures, AmountOutOfRange> {
        figures.into_iter().try_fold(MonthFigures::default(), MonthFigures::checked_add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kopecks;

    #[test]
    fn a_month_closes_where_its_lines_take_it_and_the_next_opens_there() {
        // Go-live in July with a debt of 1 299,50 ₽; 400,00 ₽ of water; 1 000,00 ₽ paid.
        let july = MonthFigures::opening_at(Kopecks::ZERO)
            .book(ChargeKind::OpeningBalance, kopecks!(1_299_50))
            .and_then(|m| m.book(ChargeKind::Consumption, kopecks!(400_00)))
            .and_then(|m| m.pay(kopecks!(1_000_00)))
            .unwrap();
        assert_eq!(july.closing, kopecks!(699_50));
        assert_eq!(july.charged(), Ok(kopecks!(1_699_50)));
        assert_eq!(july.check(), Ok(()));
        // August: 600,00 ₽ of water, a recalculation of −120,00 ₽, 1 500,00 ₽ paid: a credit.
        let august = july
            .next()
            .book(ChargeKind::Consumption, kopecks!(600_00))
            .and_then(|m| m.book(ChargeKind::Recalculation, kopecks!(-120_00)))
            .and_then(|m| m.pay(kopecks!(1_500_00)))
            .unwrap();
        assert_eq!(
            august,
            MonthFigures {
                opening: kopecks!(699_50),
                consumption: kopecks!(600_00),
                recalculations: kopecks!(-120_00),
                opening_balances: Kopecks::ZERO,
                paid: kopecks!(1_500_00),
                closing: kopecks!(-320_50),
            }
        );
        assert_eq!(august.check(), Ok(()));
    }

    #[test]
    fn figures_that_do_not_add_up_are_caught() {
        // As if a closed month had been re-priced after its report went out.
        let stated = MonthFigures {
            opening: kopecks!(211_63),
            consumption: kopecks!(600_00),
            paid: kopecks!(300_00),
            closing: kopecks!(-1_588_37),
            ..MonthFigures::default()
        };
        let err = stated.check().unwrap_err();
        assert_eq!(err, FiguresError::Unbalanced { closing: kopecks!(-1_588_37), expected: kopecks!(511_63) });
        assert_eq!(
            err.to_string(),
            "Сальдо на конец месяца -1\u{202f}588,37 ₽ не сходится: по строкам месяца выходит 511,63 ₽."
        );
    }

    #[test]
    fn sums_are_checked() {
        let a = MonthFigures::opening_at(kopecks!(100_00)).pay(kopecks!(30_00)).unwrap();
        let b = MonthFigures::opening_at(kopecks!(-5_00)).book(ChargeKind::Consumption, kopecks!(7_00)).unwrap();
        let both = MonthFigures::try_sum([a, b]).unwrap();
        assert_eq!(
            (both.opening, both.consumption, both.paid, both.closing),
            (kopecks!(95_00), kopecks!(7_00), kopecks!(30_00), kopecks!(72_00))
        );
        assert_eq!(both.check(), Ok(()));
        let top = MonthFigures::opening_at(Kopecks::MAX);
        assert!(top.book(ChargeKind::Consumption, kopecks!(1)).is_err());
        assert!(top.checked_add(top).is_err());
        let beyond =
            MonthFigures { consumption: Kopecks::MAX, recalculations: Kopecks::MAX, ..MonthFigures::default() };
        assert!(matches!(beyond.check(), Err(FiguresError::OutOfRange(_))));
    }
}
