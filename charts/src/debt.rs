//! The total debt at the end of each month, as a line.

use domain::{Kopecks, Period};
use plotters::prelude::DrawingBackend;

use crate::canvas::{Axis, Canvas, Draw, Drawn, Entry, MONTHLY};
use crate::months::{MOST, Months};
use crate::palette::DEBT;
use crate::scale::{Unit, extent};

#[derive(Debug, Clone)]
pub struct DebtHistory {
    /// «Общий долг» or «Участок 57: долг».
    pub title: String,
    /// Debt at the end of each month (negative: paid in advance), in any order; the last 24
    /// months are shown.
    pub months: Vec<DebtMonth>,
}

#[derive(Debug, Clone, Copy)]
pub struct DebtMonth {
    pub period: Period,
    pub debt: Kopecks,
}

impl Draw for DebtHistory {
    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<DB>) -> Drawn<DB> {
        let title = format!("{} на конец месяца, ₽", self.title.trim());
        let Some(months) = Months::ending_at_latest(self.months.iter().map(|m| m.period), 12, MOST) else {
            return canvas.no_data(&title);
        };
        let slots = months.slots(self.months.iter().map(|m| (m.period, m.debt.as_rubles_for_display())));
        let axis = Axis::fit(extent(slots.iter().flatten().copied()), Unit::Plain);

        let top = canvas.title(&title)?;
        let top = canvas.legend(&[Entry::line(DEBT, "Долг (минус — переплата)")], top)?;
        let plot = canvas.plot(top, &axis, None, 2)?;
        canvas.axes(&plot, &axis, None)?;
        canvas.month_labels(&plot, months)?;
        canvas.line(&plot, axis.scale, months.count, &slots, DEBT, MONTHLY)
    }
}
