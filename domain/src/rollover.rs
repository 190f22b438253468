//! A counter passing its maximum. A register with N whole digits shows at most 10^N − 1 and then
//! starts again from 0, so a value below the previous one is a mistake or a rollover, and only an
//! admin may say it is the latter. The meter's record is then closed at the wrap value and a new
//! record of the same meter starts from zero: billing, which only counts forward, charges
//! (10^N − previous) on the old record and the new value on the new one.

use crate::meter_value::MAX_WHOLE_DIGITS;
use crate::{MeterValue, ReadingError, Zone};

/// How a rollover splits a meter's history, one value per register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollover {
    /// The closing reading of the old record.
    pub closing: Vec<MeterValue>,
    /// The initial values of the new record; the value read after the rollover is its first reading.
    pub restart: Vec<MeterValue>,
}

/// Why values cannot be a rollover. Messages go straight to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RolloverError {
    #[error("Разрядов до запятой на табло — от 1 до {MAX_WHOLE_DIGITS}.")]
    Digits,
    #[error(transparent)]
    Reading(#[from] ReadingError),
    #[error("Новые показания не меньше предыдущих — это не переход через ноль. Передайте их как обычное показание.")]
    NotLower,
    #[error(
        "Показание ({zone_label}) {value} не помещается на табло с {digits} разрядами до запятой: проверьте число разрядов."
    )]
    DoesNotFit { zone_label: String, value: MeterValue, digits: u32 },
}

/// Splits a meter's history at a rollover from `previous` (the last accepted values) to `new`, on
/// a display with `digits` whole digits.
pub fn rollover(
    digits: u32,
    zones: &[Zone],
    previous: &[MeterValue],
    new: &[MeterValue],
) -> Result<Rollover, RolloverError> {
    if !(1..=MAX_WHOLE_DIGITS as u32).contains(&digits) {
        return Err(RolloverError::Digits);
    }
    for values in [previous, new] {
        if values.len() != zones.len() {
            return Err(ReadingError::WrongZoneCount { expected: zones.len(), got: values.len() }.into());
        }
    }
    let wrap = MeterValue::from_whole(10_i64.pow(digits)).map_err(|_| RolloverError::Digits)?;
    // The display cannot show the wrap value or more: such a value means the digits are wrong.
    for (zone, value) in zones.iter().zip(previous).chain(zones.iter().zip(new)) {
        if *value >= wrap {
            return Err(RolloverError::DoesNotFit { zone_label: zone.label().to_lowercase(), value: *value, digits });
        }
    }
    if new.iter().zip(previous).all(|(new, previous)| new >= previous) {
        return Err(RolloverError::NotLower);
    }
    // A register that wrapped closes at the wrap value and restarts from zero. One that did not
    // (the other register of a two-zone meter) closes and restarts at its previous value, so
    // everything it counted since falls on the new record.
    let (closing, restart) = new
        .iter()
        .zip(previous)
        .map(|(new, previous)| if new < previous { (wrap, MeterValue::ZERO) } else { (*previous, *previous) })
        .unzip();
    Ok(Rollover { closing, restart })
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::test_support::v;
    use crate::{MeterSpec, Period, ReadingPoint, Service, Tariff, charges_for_meter, kopecks, meter_value};

    /// What billing charges for the two records of a rollover read on one day, per register.
    fn billed(zones: &[Zone], previous: &[MeterValue], new: &[MeterValue], split: &Rollover) -> Vec<MeterValue> {
        let day = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
        let tariffs: Vec<Tariff> = zones
            .iter()
            .map(|zone| Tariff { service: Service::Electricity, zone: *zone, price: kopecks!(100), valid_from: day })
            .collect();
        let record = |initial: &[MeterValue], values: &[MeterValue]| {
            let spec = MeterSpec {
                service: Service::Electricity,
                zones: zones.to_vec(),
                initial: initial.to_vec(),
                installed_on: day,
            };
            let point = ReadingPoint { reading_id: 1, period: Period::of(day), taken_on: day, values: values.to_vec() };
            charges_for_meter(&spec, &[point], &tariffs).unwrap()
        };
        let (old, new) = (record(previous, &split.closing), record(&split.restart, new));
        old.iter().zip(&new).map(|(a, b)| a.consumption.checked_add(b.consumption).unwrap()).collect()
    }

    #[test]
    fn a_five_digit_counter_bills_the_way_round_zero() {
        let zones = [Zone::Single];
        let (previous, new) = ([v(99_950)], [v(30)]);
        let split = rollover(5, &zones, &previous, &new).unwrap();
        assert_eq!(split, Rollover { closing: vec![v(100_000)], restart: vec![v(0)] });
        assert_eq!(billed(&zones, &previous, &new, &split), [v(80)]);
    }

    #[test]
    fn only_the_register_that_wrapped_restarts_from_zero() {
        let zones = [Zone::Day, Zone::Night];
        let (previous, new) = ([v(99_990), v(40_000)], [meter_value!(5_500), v(40_100)]);
        let split = rollover(5, &zones, &previous, &new).unwrap();
        assert_eq!(split, Rollover { closing: vec![v(100_000), v(40_000)], restart: vec![v(0), v(40_000)] });
        assert_eq!(billed(&zones, &previous, &new, &split), [meter_value!(15_500), v(100)]);
    }

    #[test]
    fn values_that_did_not_go_down_are_not_a_rollover() {
        let zones = [Zone::Day, Zone::Night];
        assert_eq!(rollover(5, &zones, &[v(10), v(10)], &[v(10), v(11)]), Err(RolloverError::NotLower));
        assert_eq!(rollover(5, &[Zone::Single], &[v(10)], &[v(10)]), Err(RolloverError::NotLower));
    }

    #[test]
    fn values_beyond_the_display_mean_wrong_digits() {
        let zones = [Zone::Single];
        let err = rollover(4, &zones, &[v(99_950)], &[v(30)]).unwrap_err();
        assert_eq!(err, RolloverError::DoesNotFit { zone_label: "общая".into(), value: v(99_950), digits: 4 });
        assert!(err.to_string().contains("99950"), "{err}");
        assert!(matches!(rollover(5, &zones, &[v(99_950)], &[v(100_000)]), Err(RolloverError::DoesNotFit { .. })));
    }

    #[test]
    fn digits_and_registers_must_fit_the_meter() {
        let zones = [Zone::Single];
        assert_eq!(rollover(0, &zones, &[v(9)], &[v(1)]), Err(RolloverError::Digits));
        assert_eq!(rollover(10, &zones, &[v(9)], &[v(1)]), Err(RolloverError::Digits));
        assert_eq!(
            rollover(5, &zones, &[v(9)], &[v(1), v(2)]),
            Err(RolloverError::Reading(ReadingError::WrongZoneCount { expected: 1, got: 2 }))
        );
    }
}
