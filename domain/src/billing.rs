//! Charges: what each month's consumption costs, zone by zone, at the tariff valid on the day the
//! closing reading was taken.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::money::AmountOutOfRange;
use crate::{Kopecks, MeterValue, Period, Service, Zone};

/// The parts of a meter that billing needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterSpec {
    pub service: Service,
    pub zones: Vec<Zone>,
    /// Values at installation, one per zone: the first reading's consumption counts from here.
    pub initial: Vec<MeterValue>,
}

/// An accepted reading, dated in the cooperative's time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadingPoint {
    pub reading_id: i64,
    pub period: Period,
    pub taken_on: NaiveDate,
    pub values: Vec<MeterValue>,
}

/// A price per unit (m³ or kWh) for one service and zone, from a date on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tariff {
    pub service: Service,
    pub zone: Zone,
    pub price: Kopecks,
    pub valid_from: NaiveDate,
}

/// One ledger line: a month's consumption on one zone of one meter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub period: Period,
    pub zone: Zone,
    /// The reading that closes the month.
    pub reading_id: i64,
    pub previous: MeterValue,
    pub current: MeterValue,
    pub consumption: MeterValue,
    pub price: Kopecks,
    pub amount: Kopecks,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BillingError {
    #[error("Нет тарифа «{service}, {zone}» на {date}: добавьте тариф в панели.")]
    NoTariff { service: Service, zone: Zone, date: NaiveDate },
    #[error("Показание ниже предыдущего в {period}: нужна корректировка администратора.")]
    Decreasing { period: Period },
    #[error("Число показаний не совпадает с числом шкал счётчика.")]
    ZoneMismatch,
    #[error("Начисление за {period} вне допустимых пределов ({cause}): проверьте показания и тариф.")]
    AmountOutOfRange { period: Period, cause: AmountOutOfRange },
}

/// The tariff for `service`/`zone` in force on `date`: the one with the latest `valid_from` not after it.
pub fn tariff_on(tariffs: &[Tariff], service: Service, zone: Zone, date: NaiveDate) -> Option<&Tariff> {
    tariffs
        .iter()
        .filter(|t| t.service == service && t.zone == zone && t.valid_from <= date)
        .max_by_key(|t| t.valid_from)
}

/// `consumption × price`, rounded half up to the kopeck (consumption is in thousandths); an
/// error beyond [`Kopecks::MAX`], which takes 10⁸ units at the highest price, [`Kopecks::PRICE_MAX`].
pub fn cost(consumption: MeterValue, price: Kopecks) -> Result<Kopecks, AmountOutOfRange> {
    // Exact in i128: both factors are below 2⁶³.
    let exact = i128::from(consumption.thousandths()) * i128::from(price.get());
    Kopecks::from_i128((exact + exact.signum() * 500) / 1000)
}

/// Charges for one meter. The last accepted reading of each month closes that month; a month
/// without readings has no charge and its consumption falls to the next read month.
pub fn charges_for_meter(
    meter: &MeterSpec,
    readings: &[ReadingPoint],
    tariffs: &[Tariff],
) -> Result<Vec<Charge>, BillingError> {
    if meter.initial.len() != meter.zones.len() {
        return Err(BillingError::ZoneMismatch);
    }
    // A stable sort: readings taken on the same day keep the order they were given in (the
    // order they were taken, to the second).
    let mut ordered: Vec<&ReadingPoint> = readings.iter().collect();
    ordered.sort_by_key(|r| (r.period, r.taken_on));
    let closing = ordered
        .iter()
        .enumerate()
        .filter(|(i, r)| ordered.get(i + 1).is_none_or(|next| next.period != r.period))
        .map(|(_, r)| *r);

    let mut previous = meter.initial.clone();
    let mut charges = Vec::new();
    for reading in closing {
        if reading.values.len() != meter.zones.len() {
            return Err(BillingError::ZoneMismatch);
        }
        for ((zone, current), prev) in meter.zones.iter().zip(&reading.values).zip(&previous) {
            let consumption =
                current.checked_sub(*prev).map_err(|_| BillingError::Decreasing { period: reading.period })?;
            let tariff = tariff_on(tariffs, meter.service, *zone, reading.taken_on).ok_or(BillingError::NoTariff {
                service: meter.service,
                zone: *zone,
                date: reading.taken_on,
            })?;
            let amount = cost(consumption, tariff.price)
                .map_err(|cause| BillingError::AmountOutOfRange { period: reading.period, cause })?;
            charges.push(Charge {
                period: reading.period,
                zone: *zone,
                reading_id: reading.reading_id,
                previous: *prev,
                current: *current,
                consumption,
                price: tariff.price,
                amount,
            });
        }
        previous = reading.values.clone();
    }
    Ok(charges)
}

/// What a contract or consumer owes: everything charged minus everything paid. Built only
/// when that difference is within the bound too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Balance {
    charged: Kopecks,
    paid: Kopecks,
    debt: Kopecks,
}

impl Balance {
    pub fn new(charged: Kopecks, paid: Kopecks) -> Result<Balance, AmountOutOfRange> {
        Ok(Balance { charged, paid, debt: charged.checked_sub(paid)? })
    }

    /// A debt (or, negative, a credit) with nothing paid against it.
    pub fn of_debt(debt: Kopecks) -> Balance {
        Balance { charged: debt, paid: Kopecks::ZERO, debt }
    }

    pub fn charged(self) -> Kopecks {
        self.charged
    }

    pub fn paid(self) -> Kopecks {
        self.paid
    }

    /// Positive: debt; negative: overpayment (credit).
    pub fn debt(self) -> Kopecks {
        self.debt
    }

    /// «Задолженность 1 234,56 ₽», «Переплата 10,00 ₽» or «Задолженности нет».
    pub fn describe(self) -> String {
        let debt = self.debt();
        match debt.get().signum() {
            1 => format!("Задолженность {debt}"),
            -1 => format!("Переплата {}", -debt),
            _ => "Задолженности нет".to_owned(),
        }
    }

    pub fn checked_add(self, rhs: Balance) -> Result<Balance, AmountOutOfRange> {
        Balance::new(self.charged.checked_add(rhs.charged)?, self.paid.checked_add(rhs.paid)?)
    }

    /// The balance of several contracts together, or the first partial sum beyond the bound.
    pub fn try_sum(balances: impl IntoIterator<Item = Balance>) -> Result<Balance, AmountOutOfRange> {
        balances.into_iter().try_fold(Balance::default(), Balance::checked_add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{kopecks, meter_value};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    fn p(s: &str) -> Period {
        Period::parse(s).unwrap()
    }
    fn v(units: i64) -> MeterValue {
        MeterValue::from_whole(units).unwrap()
    }
    fn tariff(service: Service, zone: Zone, kopecks: i64, from: &str) -> Tariff {
        Tariff { service, zone, price: Kopecks::new(kopecks).unwrap(), valid_from: d(from) }
    }
    fn reading(id: i64, date: &str, values: Vec<MeterValue>) -> ReadingPoint {
        ReadingPoint { reading_id: id, period: Period::of(d(date)), taken_on: d(date), values }
    }

    #[test]
    fn single_zone_charge_counts_from_initial_value() {
        let meter = MeterSpec { service: Service::Water, zones: vec![Zone::Single], initial: vec![v(100)] };
        let tariffs = [tariff(Service::Water, Zone::Single, 4_512, "2020-01-01")];
        let charges =
            charges_for_meter(&meter, &[reading(1, "2026-02-10", vec![meter_value!(112_500)])], &tariffs).unwrap();
        assert_eq!(charges.len(), 1);
        let c = &charges[0];
        assert_eq!((c.previous, c.current, c.consumption), (v(100), meter_value!(112_500), meter_value!(12_500)));
        // 12.5 m³ × 45.12 ₽ = 564.00 ₽
        assert_eq!(c.amount, kopecks!(56_400));
        assert_eq!(c.period, p("2026-02"));
    }

    #[test]
    fn day_night_zones_use_their_own_prices() {
        let meter =
            MeterSpec { service: Service::Electricity, zones: vec![Zone::Day, Zone::Night], initial: vec![v(0), v(0)] };
        let tariffs = [
            tariff(Service::Electricity, Zone::Day, 650, "2020-01-01"),
            tariff(Service::Electricity, Zone::Night, 325, "2020-01-01"),
            tariff(Service::Electricity, Zone::Single, 999, "2020-01-01"),
        ];
        let charges = charges_for_meter(&meter, &[reading(7, "2026-03-01", vec![v(200), v(100)])], &tariffs).unwrap();
        let amounts: Vec<_> = charges.iter().map(|c| (c.zone, c.amount)).collect();
        assert_eq!(amounts, [(Zone::Day, kopecks!(130_000)), (Zone::Night, kopecks!(32_500))]);
    }

    #[test]
    fn tariff_change_between_two_readings_months() {
        let meter = MeterSpec { service: Service::Electricity, zones: vec![Zone::Single], initial: vec![v(1000)] };
        let tariffs = [
            tariff(Service::Electricity, Zone::Single, 500, "2025-01-01"),
            tariff(Service::Electricity, Zone::Single, 600, "2026-02-01"),
        ];
        let readings = [reading(1, "2026-01-25", vec![v(1100)]), reading(2, "2026-02-25", vec![v(1300)])];
        let charges = charges_for_meter(&meter, &readings, &tariffs).unwrap();
        assert_eq!(charges[0].price, kopecks!(500));
        assert_eq!(charges[0].amount, kopecks!(50_000));
        assert_eq!(charges[1].price, kopecks!(600));
        assert_eq!(charges[1].amount, kopecks!(120_000));
    }

    #[test]
    fn last_reading_of_a_month_closes_it_and_gaps_roll_forward() {
        let meter = MeterSpec { service: Service::Water, zones: vec![Zone::Single], initial: vec![v(0)] };
        let tariffs = [tariff(Service::Water, Zone::Single, 100, "2020-01-01")];
        let readings = [
            reading(3, "2026-01-20", vec![v(15)]),
            reading(2, "2026-01-05", vec![v(10)]),
            // February unread: March's consumption covers both months.
            reading(4, "2026-03-10", vec![v(40)]),
        ];
        let charges = charges_for_meter(&meter, &readings, &tariffs).unwrap();
        let lines: Vec<_> = charges.iter().map(|c| (c.period, c.reading_id, c.consumption)).collect();
        assert_eq!(lines, [(p("2026-01"), 3, v(15)), (p("2026-03"), 4, v(25))]);
    }

    #[test]
    fn missing_tariff_is_an_error_not_a_zero() {
        let meter = MeterSpec { service: Service::Water, zones: vec![Zone::Single], initial: vec![v(0)] };
        let tariffs = [tariff(Service::Water, Zone::Single, 100, "2026-06-01")];
        let err = charges_for_meter(&meter, &[reading(1, "2026-05-31", vec![v(1)])], &tariffs).unwrap_err();
        assert!(matches!(err, BillingError::NoTariff { .. }));
    }

    #[test]
    fn rounding_is_half_up_to_the_kopeck() {
        assert_eq!(cost(meter_value!(1), kopecks!(500)), Ok(kopecks!(1))); // 0.5 kopeck → 1
        assert_eq!(cost(meter_value!(1), kopecks!(499)), Ok(kopecks!(0)));
        assert_eq!(cost(meter_value!(999_999_999_999), kopecks!(100_000)), Ok(kopecks!(99_999_999_999_900)));
    }

    #[test]
    fn a_cost_beyond_the_bound_is_an_error_not_a_panic() {
        // 10⁸ units at the largest price is exactly the bound.
        assert_eq!(cost(v(100_000_000), Kopecks::PRICE_MAX), Ok(Kopecks::MAX));
        assert!(cost(meter_value!(100_000_000_001), Kopecks::PRICE_MAX).is_err());
        let beyond = i128::from(MeterValue::MAX.thousandths()) * i128::from(Kopecks::MAX.get()) / 1000;
        assert_eq!(cost(MeterValue::MAX, Kopecks::MAX), Err(AmountOutOfRange { kopecks: beyond }));
        assert_eq!(cost(MeterValue::MAX, -Kopecks::MAX), Err(AmountOutOfRange { kopecks: -beyond }));
        // A price stored before prices were bounded makes that month's charge an error.
        let meter = MeterSpec { service: Service::Water, zones: vec![Zone::Single], initial: vec![v(0)] };
        let tariffs = [tariff(Service::Water, Zone::Single, 99_999_999_999_900, "2020-01-01")];
        let err = charges_for_meter(&meter, &[reading(1, "2026-05-31", vec![v(10)])], &tariffs).unwrap_err();
        assert!(matches!(err, BillingError::AmountOutOfRange { period, .. } if period == p("2026-05")), "{err}");
    }

    #[test]
    fn partial_and_over_payments() {
        let partial = Balance::new(kopecks!(100_000), kopecks!(40_000)).unwrap();
        assert_eq!(partial.debt(), kopecks!(60_000));
        assert_eq!(partial.describe(), "Задолженность 600,00 ₽");
        let over = Balance::new(kopecks!(100_000), kopecks!(100_050)).unwrap();
        assert_eq!(over.debt(), kopecks!(-50));
        assert_eq!(over.describe(), "Переплата 0,50 ₽");
        assert_eq!(partial.checked_add(over).map(Balance::debt), Ok(kopecks!(59_950)));
        assert_eq!(Balance::try_sum([partial, over, Balance::default()]).map(Balance::debt), Ok(kopecks!(59_950)));
        assert_eq!(Balance::default().describe(), "Задолженности нет");
        assert_eq!(Balance::of_debt(kopecks!(-1_00)).describe(), "Переплата 1,00 ₽");
    }

    #[test]
    fn balances_beyond_the_bound_are_errors() {
        let max = Kopecks::MAX;
        assert_eq!(Balance::new(max, Kopecks::ZERO).map(Balance::debt), Ok(max));
        assert!(Balance::new(max, -kopecks!(1)).is_err(), "the debt would be beyond the bound");
        assert!(Balance::new(-max, max).is_err());
        let big = Balance::new(max, kopecks!(1)).unwrap();
        assert!(big.checked_add(big).is_err());
        assert!(Balance::try_sum([big, big]).is_err());
    }
}
