//! Short literals for the unit tests: `d("2026-08-12")`, `p("2026-08")`, `v(25)` (whole units).

use chrono::NaiveDate;

use crate::{MeterValue, Period};

pub fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

pub fn p(s: &str) -> Period {
    Period::parse(s).unwrap()
}

pub fn v(units: i64) -> MeterValue {
    MeterValue::from_whole(units).unwrap()
}
