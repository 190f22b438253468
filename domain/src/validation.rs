//! Whether a new reading may be recorded, and whether it needs a second look.

use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};

use crate::{MeterValue, Period, Zone};

/// What a new reading is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    /// The last accepted values, or the meter's initial values before the first reading; one per zone.
    pub last: Vec<MeterValue>,
    /// The period of `last` (the installation month for initial values).
    pub last_period: Period,
    /// Average consumption per month and zone over the accepted history, if it spans a month or more.
    pub average_monthly: Option<Vec<MeterValue>>,
}

impl Baseline {
    /// Builds the baseline from the meter's initial values and its accepted readings in time order.
    pub fn from_history(
        initial: Vec<MeterValue>,
        installed: Period,
        accepted: &[(Period, Vec<MeterValue>)],
    ) -> Baseline {
        let (last_period, last) = accepted.last().cloned().unwrap_or((installed, initial.clone()));
        let months = u32::try_from(installed.months_until(last_period)).ok().and_then(NonZeroU32::new);
        let average_monthly = months.filter(|_| !accepted.is_empty()).map(|months| {
            // A register below its initial value averages zero.
            last.iter().zip(&initial).map(|(l, i)| l.checked_sub(*i).unwrap_or_default().share(months)).collect()
        });
        Baseline { last, last_period, average_monthly }
    }
}

/// When a reading is suspicious enough to be held for review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct JumpPolicy {
    /// Consumption above this multiple of the average monthly consumption (times the months since
    /// the last reading) is flagged.
    pub factor: u32,
    /// Consumption above this per month is flagged even without history (a mistyped extra digit).
    pub monthly_cap: MeterValue,
}

impl JumpPolicy {
    pub const DEFAULT_FACTOR: u32 = 5;

    /// Caps no household reaches in a month: 300 m³ of water, 10 000 kWh of electricity.
    pub fn for_service(service: crate::Service, factor: u32) -> JumpPolicy {
        let monthly_cap = match service {
            crate::Service::Water => crate::meter_value!(300_000),
            crate::Service::Electricity => crate::meter_value!(10_000_000),
        };
        JumpPolicy { factor, monthly_cap }
    }
}

/// A reading that may be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadingVerdict {
    Normal,
    /// Recorded only after the submitter confirms, and then held for review (status flagged).
    Suspicious {
        zone: Zone,
        consumption: MeterValue,
        usual: MeterValue,
    },
}

impl ReadingVerdict {
    pub fn is_suspicious(&self) -> bool {
        matches!(self, ReadingVerdict::Suspicious { .. })
    }

    /// The warning shown before the submitter confirms a suspicious reading.
    pub fn warning(&self) -> Option<String> {
        match self {
            ReadingVerdict::Normal => None,
            ReadingVerdict::Suspicious { zone, consumption, usual } => Some(format!(
                "Расход ({}) {consumption} — намного больше обычного ({usual}). Проверьте цифры. \
                 Если всё верно, подтвердите: показание уйдёт на проверку администратору.",
                zone.label().to_lowercase()
            )),
        }
    }
}

/// A reading that may not be recorded. Messages go straight to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadingError {
    #[error("У этого счётчика {expected} шкал(ы), а передано {got}.")]
    WrongZoneCount { expected: usize, got: usize },
    #[error(
        "Показание ({zone_label}) {new} меньше предыдущего ({previous}). Проверьте цифры. \
         Если счётчик заменён или прошёл через ноль, сообщите администратору."
    )]
    Decreasing { zone_label: String, previous: MeterValue, new: MeterValue },
    #[error("Показание ({zone_label}) {new} больше следующего принятого ({next}); исправьте и его.")]
    AboveNext { zone_label: String, next: MeterValue, new: MeterValue },
    #[error("За {period} уже есть более позднее принятое показание; передайте показание за текущий месяц.")]
    PeriodClosed { period: String },
}

/// The consumption from `previous` to `new` on each register; refuses values below `previous`
/// (the meter runs only forward).
fn consumption(zones: &[Zone], new: &[MeterValue], previous: &[MeterValue]) -> Result<Vec<MeterValue>, ReadingError> {
    zones
        .iter()
        .zip(new)
        .zip(previous)
        .map(|((zone, new), previous)| {
            new.checked_sub(*previous).map_err(|_| ReadingError::Decreasing {
                zone_label: zone.label().to_lowercase(),
                previous: *previous,
                new: *new,
            })
        })
        .collect()
}

/// Checks a correction of a past reading: it must fit between its neighbours. Jumps are not
/// flagged: an admin is entering what the meter showed.
pub fn check_correction(
    zones: &[Zone],
    new: &[MeterValue],
    before: &[MeterValue],
    after: Option<&[MeterValue]>,
) -> Result<(), ReadingError> {
    if new.len() != zones.len() {
        return Err(ReadingError::WrongZoneCount { expected: zones.len(), got: new.len() });
    }
    consumption(zones, new, before)?;
    if let Some(after) = after {
        for ((zone, new), next) in zones.iter().zip(new).zip(after) {
            if new > next {
                return Err(ReadingError::AboveNext {
                    zone_label: zone.label().to_lowercase(),
                    next: *next,
                    new: *new,
                });
            }
        }
    }
    Ok(())
}

/// Checks a new reading (one value per zone, in the order of `zones`) against the meter's baseline.
pub fn check_reading(
    zones: &[Zone],
    new: &[MeterValue],
    period: Period,
    baseline: &Baseline,
    policy: JumpPolicy,
) -> Result<ReadingVerdict, ReadingError> {
    if new.len() != zones.len() || baseline.last.len() != zones.len() {
        return Err(ReadingError::WrongZoneCount { expected: zones.len(), got: new.len() });
    }
    if period < baseline.last_period {
        return Err(ReadingError::PeriodClosed { period: period.russian() });
    }
    let consumption = consumption(zones, new, &baseline.last)?;
    let months = u32::try_from(baseline.last_period.months_until(period)).unwrap_or(0).max(1);
    for (i, (zone, consumption)) in zones.iter().zip(consumption).enumerate() {
        // Thresholds beyond what a meter can show saturate there: nothing exceeds them.
        let cap = policy.monthly_cap.saturating_times(months);
        let usual = baseline.average_monthly.as_ref().map(|avg| avg[i].saturating_times(months));
        let over_usual = usual.is_some_and(|u| u > MeterValue::ZERO && consumption > u.saturating_times(policy.factor));
        if over_usual || consumption > cap {
            return Ok(ReadingVerdict::Suspicious { zone: *zone, consumption, usual: usual.unwrap_or(cap) });
        }
    }
    Ok(ReadingVerdict::Normal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{p, v};
    use crate::{Service, meter_value};

    fn policy() -> JumpPolicy {
        JumpPolicy::for_service(Service::Electricity, 5)
    }

    /// Installed in January at 1000; 100 a month through May.
    fn steady() -> Baseline {
        Baseline::from_history(
            vec![v(1000)],
            p("2026-01"),
            &[(p("2026-03"), vec![v(1200)]), (p("2026-05"), vec![v(1400)])],
        )
    }

    #[test]
    fn baseline_averages_over_months_since_installation() {
        let b = steady();
        assert_eq!(b.last, vec![v(1400)]);
        assert_eq!(b.last_period, p("2026-05"));
        assert_eq!(b.average_monthly, Some(vec![v(100)]));
    }

    #[test]
    fn first_reading_is_checked_against_initial_values() {
        let b = Baseline::from_history(vec![v(50), v(20)], p("2026-01"), &[]);
        assert_eq!(b.average_monthly, None);
        let zones = [Zone::Day, Zone::Night];
        assert_eq!(check_reading(&zones, &[v(60), v(25)], p("2026-02"), &b, policy()), Ok(ReadingVerdict::Normal));
        assert!(matches!(
            check_reading(&zones, &[v(60), v(19)], p("2026-02"), &b, policy()),
            Err(ReadingError::Decreasing { .. })
        ));
    }

    #[test]
    fn equal_reading_is_fine_lower_is_refused() {
        let b = steady();
        assert_eq!(check_reading(&[Zone::Single], &[v(1400)], p("2026-06"), &b, policy()), Ok(ReadingVerdict::Normal));
        let err = check_reading(&[Zone::Single], &[meter_value!(1_399_999)], p("2026-06"), &b, policy()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Показание (общая) 1399,999 меньше предыдущего (1400). Проверьте цифры. \
             Если счётчик заменён или прошёл через ноль, сообщите администратору."
        );
    }

    #[test]
    fn jump_above_factor_times_usual_is_suspicious() {
        let b = steady();
        // One month later: usual 100, factor 5 → 500 is fine, 501 is suspicious.
        assert_eq!(check_reading(&[Zone::Single], &[v(1900)], p("2026-06"), &b, policy()), Ok(ReadingVerdict::Normal));
        let verdict = check_reading(&[Zone::Single], &[v(1901)], p("2026-06"), &b, policy()).unwrap();
        assert_eq!(verdict, ReadingVerdict::Suspicious { zone: Zone::Single, consumption: v(501), usual: v(100) });
        assert!(verdict.warning().unwrap().contains("501"));
        // Three months later the allowance triples.
        assert_eq!(check_reading(&[Zone::Single], &[v(2900)], p("2026-08"), &b, policy()), Ok(ReadingVerdict::Normal));
    }

    #[test]
    fn cap_applies_without_history() {
        let b = Baseline::from_history(vec![v(0)], p("2026-01"), &[]);
        let water = JumpPolicy::for_service(Service::Water, 5);
        assert_eq!(check_reading(&[Zone::Single], &[v(300)], p("2026-02"), &b, water), Ok(ReadingVerdict::Normal));
        assert!(check_reading(&[Zone::Single], &[v(301)], p("2026-02"), &b, water).unwrap().is_suspicious());
    }

    #[test]
    fn corrections_must_fit_between_neighbours() {
        let zones = [Zone::Single];
        assert_eq!(check_correction(&zones, &[v(150)], &[v(100)], Some(&[v(200)])), Ok(()));
        assert!(matches!(check_correction(&zones, &[v(99)], &[v(100)], None), Err(ReadingError::Decreasing { .. })));
        assert!(matches!(
            check_correction(&zones, &[v(201)], &[v(100)], Some(&[v(200)])),
            Err(ReadingError::AboveNext { .. })
        ));
        assert!(matches!(check_correction(&zones, &[], &[v(100)], None), Err(ReadingError::WrongZoneCount { .. })));
    }

    #[test]
    fn wrong_zone_count_and_past_periods_are_refused() {
        let b = steady();
        assert_eq!(
            check_reading(&[Zone::Single], &[v(1), v(2)], p("2026-06"), &b, policy()),
            Err(ReadingError::WrongZoneCount { expected: 1, got: 2 })
        );
        assert!(matches!(
            check_reading(&[Zone::Single], &[v(1500)], p("2026-04"), &b, policy()),
            Err(ReadingError::PeriodClosed { .. })
        ));
    }
}
