//! Where the readings came from, month by month: one stacked bar per month.

use domain::{Period, ReadingSource};
use plotters::prelude::DrawingBackend;

use crate::canvas::{Axis, Canvas, Draw, Drawn, Entry};
use crate::months::{MOST, Months};
use crate::palette;
use crate::scale::Unit;

#[derive(Debug, Clone)]
pub struct SourcesHistory {
    /// One entry per month, in any order; the last 24 months are shown.
    pub months: Vec<SourcesMonth>,
}

#[derive(Debug, Clone)]
pub struct SourcesMonth {
    pub period: Period,
    /// Readings taken that month by each source; a source not listed took none.
    pub counts: Vec<(ReadingSource, u32)>,
}

impl Draw for SourcesHistory {
    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<DB>) -> Drawn<DB> {
        let title = "Показания по источникам";
        let Some(months) = Months::ending_at_latest(self.months.iter().map(|m| m.period), 12, MOST) else {
            return canvas.no_data(title);
        };
        let slots = months.slots(self.months.iter().map(|m| {
            let count =
                |s: ReadingSource| m.counts.iter().filter(|(ms, _)| *ms == s).map(|(_, n)| u64::from(*n)).sum::<u64>();
            (m.period, ReadingSource::ALL.iter().map(|s| count(*s)).collect::<Vec<u64>>())
        }));
        let tallest = slots.iter().flatten().map(|counts| counts.iter().sum::<u64>()).max().unwrap_or(0);
        let axis = Axis::fit((0.0, tallest as f64), Unit::Count);
        let used: Vec<ReadingSource> = ReadingSource::ALL
            .iter()
            .enumerate()
            .filter(|(k, _)| slots.iter().flatten().any(|counts| counts[*k] > 0))
            .map(|(_, s)| *s)
            .collect();
        let legend: Vec<Entry> = used.iter().map(|s| Entry::bar(palette::source(*s), s.label())).collect();

        let top = canvas.title(title)?;
        let top = canvas.legend(&legend, top)?;
        let plot = canvas.plot(top, &axis, None, 2)?;
        canvas.axes(&plot, &axis, None)?;
        for (i, slot) in slots.iter().enumerate() {
            let Some(counts) = slot else { continue };
            let x = plot.bar(months.count, i, 0, 1);
            let mut base = 0u64;
            for (source, count) in ReadingSource::ALL.iter().zip(counts) {
                let y = |n: u64| plot.y(axis.scale, n as f64);
                canvas.bar(x, y(base), y(base + count), palette::source(*source))?;
                base += count;
            }
        }
        canvas.month_labels(&plot, months)
    }
}
