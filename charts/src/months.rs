//! The run of months along a chart's horizontal axis.

use domain::Period;

/// Consecutive months, one slot each: a month without data is an empty slot, not a missing one,
/// so a gap in readings shows as a gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Months {
    pub first: Period,
    pub count: usize,
}

/// Two years of months: enough to see a season against the one before, and still readable.
pub const MOST: usize = 24;

impl Months {
    /// The months up to the latest of `periods`: as many as the data spans, but at least `least`
    /// (empty slots before the first month with data) and at most `most` (both within 1…[`MOST`]).
    /// None when there are no periods.
    pub fn ending_at_latest(periods: impl IntoIterator<Item = Period>, least: usize, most: usize) -> Option<Months> {
        let (mut earliest, mut latest) = (None::<Period>, None::<Period>);
        for p in periods {
            earliest = Some(earliest.map_or(p, |e| e.min(p)));
            latest = Some(latest.map_or(p, |l| l.max(p)));
        }
        let (earliest, latest) = (earliest?, latest?);
        let span = earliest.months_until(latest) as usize + 1;
        let most = most.clamp(1, MOST);
        let count = span.clamp(least.clamp(1, most), most);
        let first = (1..count).fold(latest, |p, _| p.prev());
        Some(Months { first, count })
    }

    /// The same months a year earlier (None where periods run out, before 2000).
    pub fn year_before(self) -> Option<Months> {
        Period::new(self.first.year() - 1, self.first.month()).map(|first| Months { first, count: self.count })
    }

    /// The slot of `period`, if the chart shows it.
    pub fn index(self, period: Period) -> Option<usize> {
        usize::try_from(self.first.months_until(period)).ok().filter(|i| *i < self.count)
    }

    pub fn iter(self) -> impl Iterator<Item = Period> {
        std::iter::successors(Some(self.first), |p| Some(p.next())).take(self.count)
    }

    /// Puts each `(period, value)` in its slot; months outside the chart are skipped, and a month
    /// given twice keeps the later value.
    pub fn slots<T: Clone>(self, items: impl IntoIterator<Item = (Period, T)>) -> Vec<Option<T>> {
        let mut slots = vec![None; self.count];
        for (period, value) in items {
            if let Some(i) = self.index(period) {
                slots[i] = Some(value);
            }
        }
        slots
    }
}

/// «янв», «фев» … — the first three letters of the month's Russian name, as calendars abbreviate.
pub fn short_name(period: Period) -> String {
    period.russian().chars().take(3).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Period {
        Period::parse(s).unwrap()
    }

    #[test]
    fn windows_end_at_the_latest_month() {
        let m = Months::ending_at_latest([p("2025-03"), p("2026-02"), p("2025-07")], 12, MOST).unwrap();
        assert_eq!((m.first, m.count), (p("2025-03"), 12));
        assert_eq!(m.iter().last(), Some(p("2026-02")));
        let m = Months::ending_at_latest([p("2026-02")], 12, MOST).unwrap();
        assert_eq!((m.first, m.count), (p("2025-03"), 12));
        let m = Months::ending_at_latest([p("2025-06"), p("2026-02")], 12, 12).unwrap();
        assert_eq!((m.first, m.count), (p("2025-03"), 12));
        assert_eq!(m.year_before().map(|b| b.first), Some(p("2024-03")));
        let m = Months::ending_at_latest([p("2020-01"), p("2026-02")], 12, 1000).unwrap();
        assert_eq!((m.first, m.count), (p("2024-03"), MOST));
        assert_eq!(Months::ending_at_latest([], 12, MOST), None);
        assert_eq!(m.index(p("2024-02")), None);
        assert_eq!(m.index(p("2026-03")), None);
        assert_eq!(m.index(p("2026-02")), Some(23));
    }

    #[test]
    fn short_names() {
        let names: Vec<String> = (1..=12).map(|m| short_name(Period::new(2026, m).unwrap())).collect();
        assert_eq!(names.join(" "), "янв фев мар апр май июн июл авг сен окт ноя дек");
    }
}
