//! Which nightly copies to keep: the last days, one copy per recent week, one per recent month.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};

/// How many copies of each age are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub daily: usize,
    pub weekly: usize,
    pub monthly: usize,
}

/// 7 daily, 4 weekly, 12 monthly: about a year back with 20-odd files.
pub const RETENTION: Retention = Retention { daily: 7, weekly: 4, monthly: 12 };

/// The dates among `dates` to keep: the newest `daily` of them, and the newest copy of each of the
/// `weekly` latest ISO weeks and of the `monthly` latest months that have one. Counting copies,
/// not calendar days, a gap (the server was off) never empties the directory.
pub fn keep(dates: &[NaiveDate], retention: Retention) -> BTreeSet<NaiveDate> {
    let newest_first: Vec<NaiveDate> = dates.iter().copied().collect::<BTreeSet<_>>().into_iter().rev().collect();
    let mut kept: BTreeSet<NaiveDate> = newest_first.iter().copied().take(retention.daily).collect();
    kept.extend(newest_per(&newest_first, retention.weekly, |d| (d.iso_week().year(), d.iso_week().week())));
    kept.extend(newest_per(&newest_first, retention.monthly, |d| (d.year(), d.month())));
    kept
}

/// The first (newest) date of each of the first `count` distinct buckets.
fn newest_per(newest_first: &[NaiveDate], count: usize, bucket: impl Fn(NaiveDate) -> (i32, u32)) -> Vec<NaiveDate> {
    let mut seen = BTreeSet::new();
    newest_first.iter().copied().filter(|d| seen.len() < count && seen.insert(bucket(*d))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// Every night from `first` to `last`.
    fn nightly(first: &str, last: &str) -> Vec<NaiveDate> {
        date(first).iter_days().take_while(|d| *d <= date(last)).collect()
    }

    fn texts(kept: &BTreeSet<NaiveDate>) -> Vec<String> {
        kept.iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn a_year_of_nights_keeps_seven_days_four_weeks_twelve_months() {
        // Wednesday 18 November 2026, after a backup every night since 1 October 2025.
        let kept = keep(&nightly("2025-10-01", "2026-11-18"), RETENTION);
        assert_eq!(
            texts(&kept),
            [
                // The last day of each month, newest month (November) at its newest day.
                "2025-12-31",
                "2026-01-31",
                "2026-02-28",
                "2026-03-31",
                "2026-04-30",
                "2026-05-31",
                "2026-06-30",
                "2026-07-31",
                "2026-08-31",
                "2026-09-30",
                "2026-10-31",
                // The Sundays closing the three weeks before this one.
                "2026-11-01",
                "2026-11-08",
                "2026-11-12",
                "2026-11-13",
                "2026-11-14",
                "2026-11-15",
                "2026-11-16",
                "2026-11-17",
                "2026-11-18",
            ]
        );
        assert_eq!(kept.len(), 20);
    }

    #[test]
    fn the_next_night_drops_only_the_oldest_daily() {
        let before = keep(&nightly("2025-10-01", "2026-11-18"), RETENTION);
        let mut dates: Vec<_> = before.iter().copied().collect();
        dates.push(date("2026-11-19"));
        let after = keep(&dates, RETENTION);
        let gone: Vec<_> = before.difference(&after).map(|d| d.to_string()).collect();
        let new: Vec<_> = after.difference(&before).map(|d| d.to_string()).collect();
        assert_eq!((gone, new), (vec!["2026-11-12".to_owned()], vec!["2026-11-19".to_owned()]));
    }

    #[test]
    fn a_month_turning_keeps_its_last_day_and_the_oldest_month_goes() {
        let before = keep(&nightly("2025-10-01", "2026-11-30"), RETENTION);
        assert!(before.contains(&date("2025-12-31")));
        let mut dates: Vec<_> = before.iter().copied().collect();
        dates.push(date("2026-12-01"));
        let after = keep(&dates, RETENTION);
        assert!(after.contains(&date("2026-11-30")), "November's last copy stays as its monthly");
        assert!(!after.contains(&date("2025-12-31")), "the thirteenth month back goes");
        assert!(after.len() <= RETENTION.daily + RETENTION.weekly + RETENTION.monthly);
    }

    #[test]
    fn few_or_scattered_copies_are_all_kept() {
        assert!(keep(&[], RETENTION).is_empty());
        let three = [date("2026-01-05"), date("2026-03-20"), date("2026-03-20"), date("2025-06-01")];
        assert_eq!(keep(&three, RETENTION).len(), 3);
        // Three weeks off: the seven copies before the gap are still among the kept.
        let gap: Vec<_> = nightly("2026-01-01", "2026-01-10").into_iter().chain([date("2026-02-01")]).collect();
        let gone: Vec<_> = gap.iter().filter(|d| !keep(&gap, RETENTION).contains(d)).map(|d| d.to_string()).collect();
        assert_eq!(gone, ["2026-01-01", "2026-01-02", "2026-01-03"]);
    }
}
