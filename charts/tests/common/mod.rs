//! Histories the tests and the bench draw: a known cooperative's figures.

#![allow(dead_code)] // The tests and the bench each use their own part of this module.

use charts::{CollectionHistory, CollectionMonth, ConsumptionHistory, ConsumptionMonth};
use domain::{Kopecks, MeterValue, Period, Service, Zone};

pub fn period(s: &str) -> Period {
    Period::parse(s).unwrap()
}

/// `n` consecutive months ending with `last`, oldest first.
pub fn months(last: &str, n: usize) -> Vec<Period> {
    let mut out: Vec<Period> = std::iter::successors(Some(period(last)), |p| Some(p.prev())).take(n).collect();
    out.reverse();
    out
}

pub fn rubles(kopecks: i64) -> Kopecks {
    Kopecks::parse_rubles(&format!("{}.{:02}", kopecks / 100, kopecks % 100)).unwrap()
}

/// A summer-heavy electricity history: more in July, less in January, and a little more each year.
pub fn electricity(last: &str, n: usize, day_night: bool, shown: usize) -> ConsumptionHistory {
    let months = months(last, n)
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let season = [40, 45, 80, 160, 260, 330, 380, 360, 240, 120, 60, 45][p.month() as usize - 1];
            let total = season + (i as i64 / 12) * 25;
            let zones = if day_night {
                vec![
                    (Zone::Day, MeterValue::from_whole(total * 7 / 10).unwrap()),
                    (Zone::Night, MeterValue::from_whole(total * 3 / 10).unwrap()),
                ]
            } else {
                vec![(Zone::Single, MeterValue::from_whole(total).unwrap())]
            };
            ConsumptionMonth { period: p, zones, charged: rubles(total * 658) }
        })
        .collect();
    ConsumptionHistory {
        contract: "Участок 57, договор 57-Э".into(), service: Service::Electricity, shown, months
    }
}

pub fn collection(last: &str, n: usize) -> CollectionHistory {
    let months = months(last, n)
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let charged = 180_000_00 + (p.month() as i64 * 9_000_00);
            CollectionMonth {
                period: p,
                charged: rubles(charged),
                received: rubles(charged * (70 + (i as i64 % 4) * 8) / 100),
            }
        })
        .collect();
    CollectionHistory { title: "Начислено и оплачено".into(), months }
}
