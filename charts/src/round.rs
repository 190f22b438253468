//! The reading round through the month: the share of contracts read by each day, this month
//! against the month before.

use chrono::Datelike;
use domain::Period;
use plotters::prelude::DrawingBackend;

use crate::canvas::{Axis, Canvas, Draw, Drawn, Entry};
use crate::palette::{ROUND, ROUND_BEFORE};
use crate::scale::{Scale, Unit};

#[derive(Debug, Clone)]
pub struct RoundProgress {
    pub current: RoundMonth,
    /// Drawn faded beside the current month, for the pace of the round.
    pub previous: Option<RoundMonth>,
}

#[derive(Debug, Clone)]
pub struct RoundMonth {
    pub period: Period,
    /// Contracts to be read this month.
    pub contracts: u32,
    /// `read_by_day[d]`: contracts with a reading taken on day `d + 1` or earlier, for the days
    /// gone so far. Days past the month's end are ignored; more than `contracts` counts as all.
    pub read_by_day: Vec<u32>,
}

impl RoundMonth {
    fn days(&self) -> usize {
        self.period.last_day().day() as usize
    }

    /// The counts of the month's days (more are ignored).
    fn read(&self) -> &[u32] {
        &self.read_by_day[..self.read_by_day.len().min(self.days())]
    }

    /// Per cent read by each day; nothing when there is nothing to read.
    fn shares(&self) -> Vec<f64> {
        if self.contracts == 0 {
            return Vec::new();
        }
        let whole = self.contracts as f64;
        self.read_by_day
            .iter()
            .take(self.days())
            .map(|read| (*read).min(self.contracts) as f64 * 100.0 / whole)
            .collect()
    }

    /// «ноябрь 2026: 63 % (265 из 420)».
    fn legend(&self) -> String {
        let read = self.read().last().map_or(0, |r| (*r).min(self.contracts));
        // Rounded half up in integers: 2.5 % reads as 3 %.
        let percent = (u64::from(read) * 200 + u64::from(self.contracts)) / (2 * u64::from(self.contracts.max(1)));
        format!("{}: {percent}\u{202f}% ({read} из {})", self.period.russian(), self.contracts)
    }
}

impl Draw for RoundProgress {
    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<DB>) -> Drawn<DB> {
        let title = format!("Обход за {}: доля договоров с показаниями по дням", self.current.period.russian());
        let months: Vec<(&RoundMonth, Vec<f64>, _)> = self
            .previous
            .iter()
            .map(|m| (m, ROUND_BEFORE, 2.0))
            .chain([(&self.current, ROUND, 3.5)])
            .map(|(m, color, width)| (m, m.shares(), (color, width)))
            .filter(|(_, shares, _)| !shares.is_empty())
            .collect();
        if months.is_empty() {
            return canvas.no_data(&title);
        }
        let days = months.iter().map(|(m, _, _)| m.days()).max().unwrap_or(31);
        let axis = Axis::new(Scale::percent(), Unit::Percent);
        let legend: Vec<Entry> = months.iter().map(|(m, _, (color, _))| Entry::line(*color, m.legend())).collect();

        let top = canvas.title(&title)?;
        let top = canvas.legend(&legend, top)?;
        let plot = canvas.plot(top, &axis, None, 1)?;
        canvas.axes(&plot, &axis, None)?;
        canvas.day_labels(&plot, days)?;
        for (_, shares, (color, width)) in &months {
            let values: Vec<Option<f64>> = shares.iter().copied().map(Some).collect();
            canvas.line(&plot, axis.scale, days, &values, *color, (*width, false))?;
            // A dot where the month's line ends: today, for the current month.
            if let Some(last) = shares.len().checked_sub(1) {
                canvas.dot((plot.center(days, last), plot.y(axis.scale, shares[last])), *color)?;
            }
        }
        Ok(())
    }
}
