//! The board's picture of collection: charged against received, month by month.

use domain::{Kopecks, Period};
use plotters::prelude::DrawingBackend;

use crate::canvas::{Axis, Canvas, Draw, Drawn, Entry};
use crate::months::{MOST, Months};
use crate::palette::{CHARGED, RECEIVED};
use crate::scale::{Unit, extent};

/// Charged and received money per month, for the whole cooperative or one consumer.
#[derive(Debug, Clone)]
pub struct CollectionHistory {
    /// «Начислено и оплачено» or «Участок 57: начислено и оплачено».
    pub title: String,
    /// One entry per month, in any order; the last 24 months are shown.
    pub months: Vec<CollectionMonth>,
}

#[derive(Debug, Clone, Copy)]
pub struct CollectionMonth {
    pub period: Period,
    pub charged: Kopecks,
    pub received: Kopecks,
}

impl Draw for CollectionHistory {
    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<DB>) -> Drawn<DB> {
        let title = format!("{} по месяцам, ₽", self.title.trim());
        let Some(months) = Months::ending_at_latest(self.months.iter().map(|m| m.period), 12, MOST) else {
            return canvas.no_data(&title);
        };
        let slots = months.slots(
            self.months
                .iter()
                .map(|m| (m.period, [m.charged.as_rubles_for_display(), m.received.as_rubles_for_display()])),
        );
        let axis = Axis::fit(extent(slots.iter().flatten().flatten().copied()), Unit::Plain);

        let top = canvas.title(&title)?;
        let top = canvas.legend(&[Entry::bar(CHARGED, "Начислено"), Entry::bar(RECEIVED, "Оплачено")], top)?;
        let plot = canvas.plot(top, &axis, None, 2)?;
        canvas.axes(&plot, &axis, None)?;
        let zero = plot.y(axis.scale, 0.0);
        for (i, slot) in slots.iter().enumerate() {
            let Some(values) = slot else { continue };
            for (j, (value, color)) in values.iter().zip([CHARGED, RECEIVED]).enumerate() {
                canvas.bar(plot.bar(months.count, i, j, 2), zero, plot.y(axis.scale, *value), color)?;
            }
        }
        canvas.month_labels(&plot, months)
    }
}
