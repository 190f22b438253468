//! The total debt at the end of each month, as a line.

use domain::{Kopecks, Period};
use plotters::prelude::DrawingBackend;

use crate::canvas::{Axis, Canvas, Draw, Drawn, Entry};
use crate::months::{MOST, Months};
use crate::palette::DEBT;
use crate::scale::{Scale, Unit};

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
        let (low, high) = slots.iter().flatten().fold((0.0, 0.0), |(lo, hi): (f64, f64), v| (lo.min(*v), hi.max(*v)));
        let axis = Axis::new(Scale::fit(low, high, Unit::Plain), Unit::Plain);

        let top = canvas.title(&title)?;
        let top = canvas.legend(&[Entry::line(DEBT, "Долг (минус — переплата)")], top)?;
        let plot = canvas.plot(top, &axis, None, 2)?;
        canvas.axes(&plot, &axis, None)?;
        canvas.month_labels(&plot, months)?;
        let points: Vec<Option<(i32, i32)>> = slots
            .iter()
            .enumerate()
            .map(|(i, v)| v.map(|v| (plot.center(months.count, i), plot.y(axis.scale, v))))
            .collect();
        canvas.series(&points, DEBT, 3.0, true)
    }
}
