//! Charges: what each month's consumption costs, zone by zone, day by day at the tariff of the day.
//!
//! The last accepted reading of a month closes it. The consumption between two consecutive
//! closing readings (the first one counts from the meter's installation) covers the days
//! `[previous reading's date, this reading's date)`, and each of those days is priced at the
//! tariff in force on it. When the tariff changes inside the interval, the consumption is split
//! between the tariffs in proportion to their days, in thousandths of a unit, and each part
//! becomes its own line, rounded half up to the kopeck on its own. A reading taken on the day a
//! tariff starts closes the interval exactly: everything before it is at the old price.
//!
//! Worked example: readings on 10.09 and 25.10, 450 kWh between them, 5,00 ₽ until 30.09 and
//! 6,00 ₽ from 01.10. The interval has 21 days at 5,00 and 24 at 6,00 (45 in all): 450 × 21/45 =
//! 210 kWh × 5,00 = 1 050,00 ₽ and 240 kWh × 6,00 = 1 440,00 ₽, two lines of October.

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
    /// The day of the opening values (installation): the first interval's days start here.
    pub installed_on: NaiveDate,
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

/// One consumption line of the ledger: the part of one zone's consumption between two closing
/// readings that falls on the days of one tariff. An interval without a tariff change is one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// The month of consumption the line prices: the closing reading's month.
    pub for_period: Period,
    pub zone: Zone,
    /// The reading that closes the month.
    pub reading_id: i64,
    /// The closing reading's date (the line's date in a statement of account).
    pub dated_on: NaiveDate,
    /// The meter's values at the ends of the whole interval, the same on each of its lines.
    pub previous: MeterValue,
    pub current: MeterValue,
    /// This line's part of `current − previous`; the parts of an interval add up to it exactly.
    pub consumption: MeterValue,
    pub price: Kopecks,
    /// The days this line prices: `from` ≤ day < `to` (so `to` is the next line's `from`, or the
    /// closing reading's date). An interval with no days at all (a reading on the day of the one
    /// before) is one line with `from == to`, priced at that day's tariff.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// `consumption × price`, rounded half up to the kopeck.
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

/// Charges for one meter, in the order of the closing readings and, within one, of zones and
/// days. The last accepted reading of each month closes that month; a month without readings
/// has no charge and its consumption (and days) fall to the next read month.
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
    let mut since = meter.installed_on;
    let mut charges = Vec::new();
    for reading in closing {
        if reading.values.len() != meter.zones.len() {
            return Err(BillingError::ZoneMismatch);
        }
        // A reading dated before the installation (a mistake in either date) has no days.
        let from = since.min(reading.taken_on);
        for ((zone, current), prev) in meter.zones.iter().zip(&reading.values).zip(&previous) {
            let consumption =
                current.checked_sub(*prev).map_err(|_| BillingError::Decreasing { period: reading.period })?;
            let segments = tariff_segments(tariffs, meter.service, *zone, from, reading.taken_on)?;
            let days: Vec<i64> = segments.iter().map(|s| (s.to - s.from).num_days()).collect();
            for (segment, part) in segments.iter().zip(split_by_days(consumption, &days)) {
                let amount = cost(part, segment.price)
                    .map_err(|cause| BillingError::AmountOutOfRange { period: reading.period, cause })?;
                charges.push(Charge {
                    for_period: reading.period,
                    zone: *zone,
                    reading_id: reading.reading_id,
                    dated_on: reading.taken_on,
                    previous: *prev,
                    current: *current,
                    consumption: part,
                    price: segment.price,
                    from: segment.from,
                    to: segment.to,
                    amount,
                });
            }
        }
        previous = reading.values.clone();
        since = reading.taken_on;
    }
    Ok(charges)
}

/// Days `from` ≤ day < `to` at one price.
struct Segment {
    from: NaiveDate,
    to: NaiveDate,
    price: Kopecks,
}

/// The days `[from, to)` cut where the price of `service`/`zone` changes. Tariffs that start
/// inside the interval at the price already in force do not cut it (one line, one rounding).
/// With no days (`from == to`) one segment at that day's tariff.
fn tariff_segments(
    tariffs: &[Tariff],
    service: Service,
    zone: Zone,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Segment>, BillingError> {
    let price_on = |date: NaiveDate| {
        tariff_on(tariffs, service, zone, date).map(|t| t.price).ok_or(BillingError::NoTariff { service, zone, date })
    };
    let mut starts: Vec<NaiveDate> = tariffs
        .iter()
        .filter(|t| t.service == service && t.zone == zone && from < t.valid_from && t.valid_from < to)
        .map(|t| t.valid_from)
        .collect();
    starts.sort_unstable();
    starts.dedup();
    let mut segments = vec![Segment { from, to, price: price_on(from)? }];
    for start in starts {
        let price = price_on(start)?;
        let last = segments.last_mut().expect("starts with one segment");
        if price != last.price {
            last.to = start;
            segments.push(Segment { from: start, to, price });
        }
    }
    Ok(segments)
}

/// `total` split in proportion to `days`, in thousandths: each part is rounded down and the
/// thousandths left over go one each to the parts with the largest remainders (the earlier part
/// on a tie), so the parts add up to `total` exactly. No days at all: everything to the first.
fn split_by_days(total: MeterValue, days: &[i64]) -> Vec<MeterValue> {
    let all: i64 = days.iter().sum();
    if all == 0 {
        return days.iter().enumerate().map(|(i, _)| if i == 0 { total } else { MeterValue::ZERO }).collect();
    }
    // Exact in i128; each part is at most `total`, so it is a meter value.
    let exact: Vec<i128> = days.iter().map(|d| i128::from(total.thousandths()) * i128::from(*d)).collect();
    let mut parts: Vec<i64> = exact.iter().map(|e| (e / i128::from(all)) as i64).collect();
    let left = total.thousandths() - parts.iter().sum::<i64>();
    let mut by_remainder: Vec<usize> = (0..days.len()).collect();
    by_remainder.sort_by_key(|&i| std::cmp::Reverse(exact[i] % i128::from(all)));
    for &i in by_remainder.iter().take(left as usize) {
        parts[i] += 1;
    }
    parts.into_iter().map(|p| MeterValue::new(p).expect("a part of a meter value")).collect()
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

    /// A debtor owes something, one kopeck included: the register's «Должники» filter, the office
    /// home's count and the red balance cells mean this.
    pub fn is_debtor(self) -> bool {
        self.debt.is_positive()
    }

    /// «Задолженность 1 234,56 ₽», «Переплата (аванс) 10,00 ₽» or «Задолженности нет». A credit
    /// is simply carried forward against the next charges.
    pub fn describe(self) -> String {
        let debt = self.debt();
        match debt.get().signum() {
            1 => format!("Задолженность {debt}"),
            -1 => format!("Переплата (аванс) {}", -debt),
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
    use crate::test_support::{d, p, v};
    use crate::{kopecks, meter_value};

    fn meter(service: Service, zones: &[Zone], initial: &[i64], installed: &str) -> MeterSpec {
        MeterSpec {
            service,
            zones: zones.to_vec(),
            initial: initial.iter().map(|u| v(*u)).collect(),
            installed_on: d(installed),
        }
    }
    fn tariff(service: Service, zone: Zone, kopecks: i64, from: &str) -> Tariff {
        Tariff { service, zone, price: Kopecks::new(kopecks).unwrap(), valid_from: d(from) }
    }
    fn power(zone: Zone, kopecks: i64, from: &str) -> Tariff {
        tariff(Service::Electricity, zone, kopecks, from)
    }
    fn reading(id: i64, date: &str, values: Vec<MeterValue>) -> ReadingPoint {
        ReadingPoint { reading_id: id, period: Period::of(d(date)), taken_on: d(date), values }
    }
    /// Each line as (month, zone, from, to, consumption in thousandths, price, amount), in kopecks.
    fn lines(charges: &[Charge]) -> Vec<(Period, Zone, NaiveDate, NaiveDate, i64, i64, i64)> {
        charges
            .iter()
            .map(|c| (c.for_period, c.zone, c.from, c.to, c.consumption.thousandths(), c.price.get(), c.amount.get()))
            .collect()
    }

    #[test]
    fn single_zone_charge_counts_from_initial_value() {
        let meter = meter(Service::Water, &[Zone::Single], &[100], "2026-01-15");
        let tariffs = [tariff(Service::Water, Zone::Single, 4_512, "2020-01-01")];
        let charges =
            charges_for_meter(&meter, &[reading(1, "2026-02-10", vec![meter_value!(112_500)])], &tariffs).unwrap();
        assert_eq!(charges.len(), 1);
        let c = &charges[0];
        assert_eq!((c.previous, c.current, c.consumption), (v(100), meter_value!(112_500), meter_value!(12_500)));
        // 12.5 m³ × 45.12 ₽ = 564.00 ₽
        assert_eq!(c.amount, kopecks!(56_400));
        assert_eq!((c.for_period, c.dated_on), (p("2026-02"), d("2026-02-10")));
        assert_eq!((c.from, c.to), (d("2026-01-15"), d("2026-02-10")), "from the installation");
    }

    #[test]
    fn day_night_zones_use_their_own_prices() {
        let meter = meter(Service::Electricity, &[Zone::Day, Zone::Night], &[0, 0], "2026-01-01");
        let tariffs = [
            power(Zone::Day, 650, "2020-01-01"),
            power(Zone::Night, 325, "2020-01-01"),
            power(Zone::Single, 999, "2020-01-01"),
        ];
        let charges = charges_for_meter(&meter, &[reading(7, "2026-03-01", vec![v(200), v(100)])], &tariffs).unwrap();
        let amounts: Vec<_> = charges.iter().map(|c| (c.zone, c.amount)).collect();
        assert_eq!(amounts, [(Zone::Day, kopecks!(130_000)), (Zone::Night, kopecks!(32_500))]);
    }

    #[test]
    fn consumption_across_a_tariff_change_is_split_by_days() {
        // The README's example: 10.09 → 25.10, 450 kWh, 5,00 ₽ until 30.09 and 6,00 ₽ from 01.10.
        let meter = meter(Service::Electricity, &[Zone::Single], &[1000], "2026-08-01");
        let tariffs = [power(Zone::Single, 5_00, "2025-01-01"), power(Zone::Single, 6_00, "2026-10-01")];
        let readings = [reading(1, "2026-09-10", vec![v(1100)]), reading(2, "2026-10-25", vec![v(1550)])];
        let charges = charges_for_meter(&meter, &readings, &tariffs).unwrap();
        assert_eq!(
            lines(&charges),
            [
                // 01.08 → 10.09 lies wholly before the change: one line, 100 kWh × 5,00.
                (p("2026-09"), Zone::Single, d("2026-08-01"), d("2026-09-10"), 100_000, 5_00, 500_00),
                // 21 of the 45 days: 450 × 21/45 = 210 kWh × 5,00 = 1 050,00 ₽.
                (p("2026-10"), Zone::Single, d("2026-09-10"), d("2026-10-01"), 210_000, 5_00, 1_050_00),
                // 24 of the 45 days: 240 kWh × 6,00 = 1 440,00 ₽.
                (p("2026-10"), Zone::Single, d("2026-10-01"), d("2026-10-25"), 240_000, 6_00, 1_440_00),
            ]
        );
        // Both October lines come from the same reading and show the interval's values.
        let october: Vec<_> = charges[1..].iter().map(|c| (c.reading_id, c.previous, c.current, c.dated_on)).collect();
        assert_eq!(october, [(2, v(1100), v(1550), d("2026-10-25")); 2]);
    }

    #[test]
    fn a_reading_on_the_change_date_closes_the_interval_exactly() {
        let meter = meter(Service::Electricity, &[Zone::Single], &[0], "2026-09-10");
        let tariffs = [power(Zone::Single, 5_00, "2025-01-01"), power(Zone::Single, 6_00, "2026-10-15")];
        let readings = [reading(1, "2026-10-15", vec![v(300)]), reading(2, "2026-11-20", vec![v(500)])];
        let charges = charges_for_meter(&meter, &readings, &tariffs).unwrap();
        assert_eq!(
            lines(&charges),
            [
                // Everything before the reading of 15.10 at the old price: 300 × 5,00.
                (p("2026-10"), Zone::Single, d("2026-09-10"), d("2026-10-15"), 300_000, 5_00, 1_500_00),
                // Everything after it at the new one: 200 × 6,00.
                (p("2026-11"), Zone::Single, d("2026-10-15"), d("2026-11-20"), 200_000, 6_00, 1_200_00),
            ]
        );
    }

    #[test]
    fn each_zone_of_a_day_night_meter_follows_its_own_tariffs() {
        // The day price changes on 01.10, the night price does not.
        let meter = meter(Service::Electricity, &[Zone::Day, Zone::Night], &[500, 200], "2026-09-10");
        let tariffs = [
            power(Zone::Day, 6_00, "2025-01-01"),
            power(Zone::Day, 7_00, "2026-10-01"),
            power(Zone::Night, 3_00, "2025-01-01"),
        ];
        let charges = charges_for_meter(&meter, &[reading(5, "2026-10-25", vec![v(800), v(290)])], &tariffs).unwrap();
        assert_eq!(
            lines(&charges),
            [
                // Day: 300 kWh over 45 days: 300 × 21/45 = 140 × 6,00 and 160 × 7,00.
                (p("2026-10"), Zone::Day, d("2026-09-10"), d("2026-10-01"), 140_000, 6_00, 840_00),
                (p("2026-10"), Zone::Day, d("2026-10-01"), d("2026-10-25"), 160_000, 7_00, 1_120_00),
                // Night: 90 kWh × 3,00 on one line.
                (p("2026-10"), Zone::Night, d("2026-09-10"), d("2026-10-25"), 90_000, 3_00, 270_00),
            ]
        );
    }

    #[test]
    fn three_tariffs_in_one_interval() {
        // October unread: November's reading covers 10.09 → 25.11, 21 + 31 + 24 = 76 days.
        let meter = meter(Service::Electricity, &[Zone::Single], &[0], "2026-09-10");
        let tariffs = [
            power(Zone::Single, 5_00, "2025-01-01"),
            power(Zone::Single, 5_50, "2026-10-01"),
            power(Zone::Single, 6_00, "2026-11-01"),
        ];
        let charges = charges_for_meter(&meter, &[reading(9, "2026-11-25", vec![v(100)])], &tariffs).unwrap();
        // 100 000 thousandths × 21/76 = 27 631 rest 44, × 31/76 = 40 789 rest 36, × 24/76 = 31 578
        // rest 72: two thousandths left, to the largest rests (72, then 44).
        assert_eq!(
            lines(&charges),
            [
                // 27,632 × 5,00 = 138,16 ₽.
                (p("2026-11"), Zone::Single, d("2026-09-10"), d("2026-10-01"), 27_632, 5_00, 13_816),
                // 40,789 × 5,50 = 224,3395 → 224,34 ₽.
                (p("2026-11"), Zone::Single, d("2026-10-01"), d("2026-11-01"), 40_789, 5_50, 224_34),
                // 31,579 × 6,00 = 189,474 → 189,47 ₽.
                (p("2026-11"), Zone::Single, d("2026-11-01"), d("2026-11-25"), 31_579, 6_00, 189_47),
            ]
        );
    }

    #[test]
    fn the_leftover_thousandth_goes_to_the_largest_remainder() {
        // 1 kWh over 3 days, 2 at 5,00 and 1 at 6,00: 666,67 and 333,33 thousandths. The leftover
        // thousandth goes to the first part (rest 2 of 3 against 1 of 3), not to the last:
        // 0,667 × 5,00 = 3,335 → 3,34 ₽ and 0,333 × 6,00 = 1,998 → 2,00 ₽.
        let meter = meter(Service::Electricity, &[Zone::Single], &[0], "2026-09-29");
        let tariffs = [power(Zone::Single, 5_00, "2025-01-01"), power(Zone::Single, 6_00, "2026-10-01")];
        let charges = charges_for_meter(&meter, &[reading(1, "2026-10-02", vec![v(1)])], &tariffs).unwrap();
        assert_eq!(
            lines(&charges),
            [
                (p("2026-10"), Zone::Single, d("2026-09-29"), d("2026-10-01"), 667, 5_00, 3_34),
                (p("2026-10"), Zone::Single, d("2026-10-01"), d("2026-10-02"), 333, 6_00, 2_00),
            ]
        );
        // Into the middle, and on a tie to the earlier part; the parts always add up.
        let split = |total: i64, days: &[i64]| -> Vec<i64> {
            split_by_days(MeterValue::new(total).unwrap(), days).iter().map(|m| m.thousandths()).collect()
        };
        assert_eq!(split(10, &[2, 5, 2]), [2, 6, 2]); // rests 2, 5, 2 of 9
        assert_eq!(split(1, &[1, 1]), [1, 0]);
        assert_eq!(split(7, &[0]), [7]);
        assert_eq!(
            split(MeterValue::MAX.thousandths(), &[365_000, 1, 7]).iter().sum::<i64>(),
            MeterValue::MAX.thousandths()
        );
    }

    #[test]
    fn a_tariff_restating_the_same_price_does_not_split_the_line() {
        let meter = meter(Service::Water, &[Zone::Single], &[0], "2026-09-10");
        let tariffs = [
            tariff(Service::Water, Zone::Single, 40_00, "2025-01-01"),
            tariff(Service::Water, Zone::Single, 40_00, "2026-10-01"),
        ];
        let charges = charges_for_meter(&meter, &[reading(1, "2026-10-25", vec![v(10)])], &tariffs).unwrap();
        assert_eq!(
            lines(&charges),
            [(p("2026-10"), Zone::Single, d("2026-09-10"), d("2026-10-25"), 10_000, 40_00, 400_00)]
        );
    }

    #[test]
    fn an_interval_without_days_is_priced_on_its_day() {
        // A reading on the installation day, and one dated before it (a mistake in a date): the
        // consumption is priced at the tariff of the reading's day, on one line.
        let tariffs = [
            tariff(Service::Water, Zone::Single, 40_00, "2025-01-01"),
            tariff(Service::Water, Zone::Single, 50_00, "2026-03-05"),
        ];
        for installed in ["2026-03-05", "2026-03-20"] {
            let meter = meter(Service::Water, &[Zone::Single], &[0], installed);
            let charges = charges_for_meter(&meter, &[reading(1, "2026-03-05", vec![v(2)])], &tariffs).unwrap();
            assert_eq!(
                lines(&charges),
                [(p("2026-03"), Zone::Single, d("2026-03-05"), d("2026-03-05"), 2_000, 50_00, 100_00)],
                "installed {installed}"
            );
        }
    }

    #[test]
    fn last_reading_of_a_month_closes_it_and_gaps_roll_forward() {
        let meter = meter(Service::Water, &[Zone::Single], &[0], "2026-01-01");
        let tariffs = [tariff(Service::Water, Zone::Single, 100, "2020-01-01")];
        let readings = [
            reading(3, "2026-01-20", vec![v(15)]),
            reading(2, "2026-01-05", vec![v(10)]),
            // February unread: March's consumption covers both months.
            reading(4, "2026-03-10", vec![v(40)]),
        ];
        let charges = charges_for_meter(&meter, &readings, &tariffs).unwrap();
        let lines: Vec<_> = charges.iter().map(|c| (c.for_period, c.reading_id, c.consumption, c.from)).collect();
        assert_eq!(lines, [(p("2026-01"), 3, v(15), d("2026-01-01")), (p("2026-03"), 4, v(25), d("2026-01-20"))]);
    }

    #[test]
    fn missing_tariff_is_an_error_not_a_zero() {
        let tariffs = [tariff(Service::Water, Zone::Single, 100, "2026-06-01")];
        let meter = meter(Service::Water, &[Zone::Single], &[0], "2026-01-01");
        let err = charges_for_meter(&meter, &[reading(1, "2026-05-31", vec![v(1)])], &tariffs).unwrap_err();
        assert!(matches!(err, BillingError::NoTariff { .. }));
        // A tariff that starts inside the interval leaves its first days unpriced.
        let meter = MeterSpec { installed_on: d("2026-05-20"), ..meter };
        let err = charges_for_meter(&meter, &[reading(1, "2026-06-10", vec![v(1)])], &tariffs).unwrap_err();
        assert_eq!(err, BillingError::NoTariff { service: Service::Water, zone: Zone::Single, date: d("2026-05-20") });
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
        let meter = meter(Service::Water, &[Zone::Single], &[0], "2026-05-01");
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
        assert_eq!(over.describe(), "Переплата (аванс) 0,50 ₽");
        assert_eq!(partial.checked_add(over).map(Balance::debt), Ok(kopecks!(59_950)));
        assert_eq!(Balance::try_sum([partial, over, Balance::default()]).map(Balance::debt), Ok(kopecks!(59_950)));
        assert_eq!(Balance::default().describe(), "Задолженности нет");
        assert_eq!(Balance::of_debt(kopecks!(-1_00)).describe(), "Переплата (аванс) 1,00 ₽");
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
