//! What to write after a change to a meter's readings or to the tariffs: open months rebuilt,
//! closed months corrected by recalculation lines.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::ClosedMonths;
use crate::meter_value::ValueOutOfRange;
use crate::money::AmountOutOfRange;
use crate::{CauseKind, Charge, ConsumptionChange, Kopecks, MeterValue, Period, Zone};

/// What changed, and the record it changed: a recalculation line points at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cause {
    pub kind: CauseKind,
    /// The record the change made or touched: the reading added, accepted or correcting
    /// another, the rollover's or replacement's reading, the tariff.
    pub id: i64,
    /// The earliest day the change reaches: the reading's date (for a correction that moves a
    /// date, the earlier of the two), the day of the rollover or replacement, the tariff's start.
    pub on: NaiveDate,
}

impl Cause {
    /// The earliest for month the change can alter; earlier months are never looked at.
    pub fn affects_from(self) -> Period {
        Period::of(self.on)
    }

    /// «Перерасчёт за август 2026: исправлено показание от 12.08.2026».
    pub fn reason(self, for_period: Period) -> String {
        let on = self.on.format("%d.%m.%Y");
        let what = match self.kind {
            CauseKind::LateReading => format!("внесено с опозданием показание от {on}"),
            CauseKind::Correction => format!("исправлено показание от {on}"),
            CauseKind::Review => format!("принято после проверки показание от {on}"),
            CauseKind::Rollover => format!("переход счётчика через ноль {on}"),
            CauseKind::Replacement => format!("замена счётчика {on}"),
            CauseKind::Tariff => format!("введён тариф с {on}"),
            CauseKind::TariffCorrection => format!("исправлена цена тарифа с {on}"),
        };
        format!("Перерасчёт за {}: {what}", for_period.russian())
    }
}

/// What the ledger holds for one zone of a meter for one for month: its consumption lines and
/// recalculation lines together, whatever months they are booked in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Booked {
    pub for_period: Period,
    pub zone: Zone,
    pub consumption: MeterValue,
    pub amount: Kopecks,
}

/// A recalculation line to book: the difference between what a closed month should have charged
/// one zone of the meter and what it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recalculation {
    /// The booking month: the first open month, normally the month of the change.
    pub period: Period,
    /// The closed month it corrects.
    pub for_period: Period,
    pub zone: Zone,
    pub consumption: ConsumptionChange,
    pub amount: Kopecks,
    /// The day it is booked: the day of the change (in the booking month).
    pub dated_on: NaiveDate,
    pub cause: Cause,
    /// [`Cause::reason`] for `for_period`.
    pub reason: String,
}

/// What to write for one meter after a change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Open for months rebuilt: delete every consumption and recalculation line of the meter
    /// for these months, then insert [`Plan::consumption`].
    pub rebuilt: Vec<Period>,
    /// The consumption lines of the rebuilt months as priced now.
    pub consumption: Vec<Charge>,
    /// New lines correcting closed months, by for month and zone.
    pub recalculations: Vec<Recalculation>,
}

/// Sums beyond the bounds: the stored data is wrong, not the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("Перерасчёт за {for_period} вне допустимых пределов ({cause}): проверьте показания и тарифы.")]
    Amount { for_period: Period, cause: AmountOutOfRange },
    #[error("Потребление за {for_period} вне допустимых пределов ({cause}): проверьте показания.")]
    Consumption { for_period: Period, cause: ValueOutOfRange },
}

/// Plans the lines of one meter after `cause`: `desired` is every consumption line the meter's
/// accepted readings give now ([`crate::charges_for_meter`]), `booked` what the ledger holds per
/// for month and zone, `closed` which months are closed, `today` the day of the change (local).
/// For months before [`Cause::affects_from`] are left alone. From it on, open months are
/// rebuilt and each closed month and zone whose money or consumption differs gets one
/// recalculation line of the difference, booked in [`ClosedMonths::booking_period`] of today.
pub fn plan_recompute(
    desired: &[Charge],
    booked: &[Booked],
    closed: ClosedMonths,
    cause: Cause,
    today: NaiveDate,
) -> Result<Plan, PlanError> {
    let from = cause.affects_from();
    let reached = |month: Period| month >= from;

    let mut wanted: BTreeMap<(Period, Zone), Total> = BTreeMap::new();
    for line in desired.iter().filter(|c| reached(c.for_period)) {
        wanted.entry((line.for_period, line.zone)).or_default().add(line.for_period, line.consumption, line.amount)?;
    }
    let mut held: BTreeMap<(Period, Zone), Total> = BTreeMap::new();
    for b in booked.iter().filter(|b| reached(b.for_period)) {
        held.entry((b.for_period, b.zone)).or_default().add(b.for_period, b.consumption, b.amount)?;
    }

    let months: BTreeSet<Period> = wanted.keys().chain(held.keys()).map(|(month, _)| *month).collect();
    let rebuilt: Vec<Period> = months.into_iter().filter(|m| !closed.is_closed(*m)).collect();
    let consumption = desired.iter().filter(|c| rebuilt.contains(&c.for_period)).cloned().collect();

    let period = closed.booking_period(today);
    let dated_on = today.max(period.first_day());
    let keys: BTreeSet<(Period, Zone)> = wanted.keys().chain(held.keys()).copied().collect();
    let mut recalculations = Vec::new();
    for (for_period, zone) in keys.into_iter().filter(|(month, _)| closed.is_closed(*month)) {
        let want = wanted.get(&(for_period, zone)).copied().unwrap_or_default();
        let have = held.get(&(for_period, zone)).copied().unwrap_or_default();
        let amount = want.amount.checked_sub(have.amount).map_err(|cause| PlanError::Amount { for_period, cause })?;
        let change = ConsumptionChange::between(want.consumption, have.consumption);
        if amount == Kopecks::ZERO && change.is_zero() {
            continue;
        }
        recalculations.push(Recalculation {
            period,
            for_period,
            zone,
            consumption: change,
            amount,
            dated_on,
            cause,
            reason: cause.reason(for_period),
        });
    }
    Ok(Plan { rebuilt, consumption, recalculations })
}

/// Consumption and money of one for month and zone.
#[derive(Debug, Clone, Copy, Default)]
struct Total {
    consumption: MeterValue,
    amount: Kopecks,
}

impl Total {
    fn add(&mut self, for_period: Period, consumption: MeterValue, amount: Kopecks) -> Result<(), PlanError> {
        self.consumption =
            self.consumption.checked_add(consumption).map_err(|cause| PlanError::Consumption { for_period, cause })?;
        self.amount = self.amount.checked_add(amount).map_err(|cause| PlanError::Amount { for_period, cause })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{d, p, v};
    use crate::{MeterSpec, ReadingPoint, Service, Tariff, charges_for_meter};

    fn k(kopecks: i64) -> Kopecks {
        Kopecks::new(kopecks).unwrap()
    }
    fn water(prices: &[(i64, &str)]) -> Vec<Tariff> {
        prices
            .iter()
            .map(|(price, from)| Tariff {
                service: Service::Water,
                zone: Zone::Single,
                price: k(*price),
                valid_from: d(from),
            })
            .collect()
    }
    /// What the meter's readings `(id, date, values)` are priced at now, installed 01.07.2026 at zero.
    fn desired(zones: &[Zone], readings: &[(i64, &str, &[i64])], tariffs: &[Tariff]) -> Vec<Charge> {
        let service = tariffs[0].service;
        let meter = MeterSpec {
            service,
            zones: zones.to_vec(),
            initial: vec![v(0); zones.len()],
            installed_on: d("2026-07-01"),
        };
        let points: Vec<_> = readings
            .iter()
            .map(|(id, date, values)| ReadingPoint {
                reading_id: *id,
                period: Period::of(d(date)),
                taken_on: d(date),
                values: values.iter().map(|u| v(*u)).collect(),
            })
            .collect();
        charges_for_meter(&meter, &points, tariffs).unwrap()
    }
    fn booked(month: &str, zone: Zone, units: i64, kopecks: i64) -> Booked {
        Booked { for_period: p(month), zone, consumption: v(units), amount: k(kopecks) }
    }
    /// Each recalculation as (booked in, for month, zone, consumption in thousandths, kopecks, reason).
    fn lines(plan: &Plan) -> Vec<(Period, Period, Zone, i64, i64, &str)> {
        plan.recalculations
            .iter()
            .map(|r| (r.period, r.for_period, r.zone, r.consumption.thousandths(), r.amount.get(), r.reason.as_str()))
            .collect()
    }
    fn rebuilt_lines(plan: &Plan) -> Vec<(Period, i64, i64)> {
        plan.consumption.iter().map(|c| (c.for_period, c.consumption.thousandths(), c.amount.get())).collect()
    }

    #[test]
    fn a_late_reading_for_a_closed_month_is_a_recalculation_in_the_open_one() {
        // Water at 40,00 ₽ until 31.08 and 50,00 ₽ from 01.09. July and September were read
        // (20.07: 10 m³, 15.09: 40 m³) and are closed; on 05.10 the reading of 12.08 (25 m³)
        // is entered late.
        let tariffs = water(&[(40_00, "2025-01-01"), (50_00, "2026-09-01")]);
        let now = desired(
            &[Zone::Single],
            &[(1, "2026-07-20", &[10]), (3, "2026-08-12", &[25]), (2, "2026-09-15", &[40])],
            &tariffs,
        );
        // Booked before: July 10 m³ = 400,00. September 30 m³ over 20.07 → 15.09, 57 days, 43 of
        // them at 40,00 and 14 at 50,00: 30 × 43/57 = 22,631 rest 33, × 14/57 = 7,368 rest 24,
        // the leftover litre to the former: 22,632 × 40 = 905,28 + 7,368 × 50 = 368,40 = 1 273,68.
        let ledger = [booked("2026-07", Zone::Single, 10, 400_00), booked("2026-09", Zone::Single, 30, 1_273_68)];
        let cause = Cause { kind: CauseKind::LateReading, id: 3, on: d("2026-08-12") };
        let plan = plan_recompute(&now, &ledger, ClosedMonths::through(p("2026-09")), cause, d("2026-10-05")).unwrap();
        // Now August is 20.07 → 12.08, 15 m³ × 40,00 = 600,00. September is 12.08 → 15.09, 34
        // days, 20 at 40,00 and 14 at 50,00: 15 × 20/34 = 8,823 rest 18, × 14/34 = 6,176 rest 16:
        // 8,824 × 40 = 352,96 + 6,176 × 50 = 308,80 = 661,76, which is 611,92 less than booked.
        assert_eq!(
            lines(&plan),
            [
                (
                    p("2026-10"),
                    p("2026-08"),
                    Zone::Single,
                    15_000,
                    600_00,
                    "Перерасчёт за август 2026: внесено с опозданием показание от 12.08.2026"
                ),
                (
                    p("2026-10"),
                    p("2026-09"),
                    Zone::Single,
                    -15_000,
                    -611_92,
                    "Перерасчёт за сентябрь 2026: внесено с опозданием показание от 12.08.2026"
                ),
            ]
        );
        assert!(plan.recalculations.iter().all(|r| r.dated_on == d("2026-10-05") && r.cause == cause));
        assert_eq!((plan.rebuilt.len(), plan.consumption.len()), (0, 0), "July is before the change, the rest closed");
    }

    /// Water at 40,00 ₽, readings 20.07: 10 m³, 12.08: 25 m³ and `next` on `next_on`: 40 m³,
    /// all booked; on `today` the reading of 12.08 is corrected to 22 m³.
    fn august_corrected(next_on: &str, closed_through: &str, today: &str) -> Plan {
        let tariffs = water(&[(40_00, "2025-01-01")]);
        let now = desired(
            &[Zone::Single],
            &[(1, "2026-07-20", &[10]), (4, "2026-08-12", &[22]), (3, next_on, &[40])],
            &tariffs,
        );
        let next_month = Period::of(d(next_on)).to_string();
        let ledger = [
            booked("2026-07", Zone::Single, 10, 400_00),
            booked("2026-08", Zone::Single, 15, 600_00),
            booked(&next_month, Zone::Single, 15, 600_00),
        ];
        let cause = Cause { kind: CauseKind::Correction, id: 4, on: d("2026-08-12") };
        plan_recompute(&now, &ledger, ClosedMonths::through(p(closed_through)), cause, d(today)).unwrap()
    }

    #[test]
    fn a_correction_lowering_a_closed_month_is_a_negative_recalculation() {
        // The worked example in the module's docs: July to October closed, November (read on
        // 10.11) open, the correction made on 15.11.
        let plan = august_corrected("2026-11-10", "2026-10", "2026-11-15");
        // August wants 12 m³ = 480,00 ₽: −3 m³, −120,00 ₽.
        assert_eq!(
            lines(&plan),
            [(
                p("2026-11"),
                p("2026-08"),
                Zone::Single,
                -3_000,
                -120_00,
                "Перерасчёт за август 2026: исправлено показание от 12.08.2026"
            )]
        );
        // November is open: rebuilt at 18 m³ = 720,00 ₽.
        assert_eq!(plan.rebuilt, [p("2026-11")]);
        assert_eq!(rebuilt_lines(&plan), [(p("2026-11"), 18_000, 720_00)]);
    }

    #[test]
    fn a_back_dated_tariff_recalculates_each_closed_month_from_its_start() {
        // On 05.11 a price of 50,00 ₽ from 01.09 is entered (it was 40,00 ₽); July to October
        // are closed. Readings 20.07: 10, 12.08: 25, 15.09: 40, 20.10: 50, 10.11: 58 m³.
        let tariffs = water(&[(40_00, "2025-01-01"), (50_00, "2026-09-01")]);
        let readings: [(i64, &str, &[i64]); 5] = [
            (1, "2026-07-20", &[10]),
            (2, "2026-08-12", &[25]),
            (3, "2026-09-15", &[40]),
            (4, "2026-10-20", &[50]),
            (5, "2026-11-10", &[58]),
        ];
        let now = desired(&[Zone::Single], &readings, &tariffs);
        let ledger = [
            // July as an older rule priced it: before the change's month, so never looked at.
            booked("2026-07", Zone::Single, 10, 399_99),
            booked("2026-08", Zone::Single, 15, 600_00),
            booked("2026-09", Zone::Single, 15, 600_00),
            booked("2026-10", Zone::Single, 10, 400_00),
            booked("2026-11", Zone::Single, 8, 320_00),
        ];
        let cause = Cause { kind: CauseKind::Tariff, id: 7, on: d("2026-09-01") };
        let plan = plan_recompute(&now, &ledger, ClosedMonths::through(p("2026-10")), cause, d("2026-11-05")).unwrap();
        // August (20.07 → 12.08) lies before 01.09: unchanged, no line. September (12.08 →
        // 15.09): 8,824 × 40 + 6,176 × 50 = 661,76, so +61,76. October (15.09 → 20.10): 10 × 50
        // = 500,00, so +100,00. Consumption does not change.
        assert_eq!(
            lines(&plan),
            [
                (
                    p("2026-11"),
                    p("2026-09"),
                    Zone::Single,
                    0,
                    61_76,
                    "Перерасчёт за сентябрь 2026: введён тариф с 01.09.2026"
                ),
                (
                    p("2026-11"),
                    p("2026-10"),
                    Zone::Single,
                    0,
                    100_00,
                    "Перерасчёт за октябрь 2026: введён тариф с 01.09.2026"
                ),
            ]
        );
        // November is open: 8 m³ × 50,00 = 400,00 ₽.
        assert_eq!(plan.rebuilt, [p("2026-11")]);
        assert_eq!(rebuilt_lines(&plan), [(p("2026-11"), 8_000, 400_00)]);
    }

    #[test]
    fn changes_that_net_to_zero_book_nothing() {
        // August is closed at 15 m³ = 600,00 ₽. A correction of 05.08 (not the reading that
        // closes August), and a tariff from 01.08 at the price already in force, change nothing.
        let tariffs = water(&[(40_00, "2025-01-01")]);
        let readings: [(i64, &str, &[i64]); 3] =
            [(1, "2026-07-20", &[10]), (5, "2026-08-05", &[18]), (2, "2026-08-12", &[25])];
        let ledger = [booked("2026-07", Zone::Single, 10, 400_00), booked("2026-08", Zone::Single, 15, 600_00)];
        let closed = ClosedMonths::through(p("2026-10"));
        let correction = Cause { kind: CauseKind::Correction, id: 5, on: d("2026-08-05") };
        let plan = plan_recompute(
            &desired(&[Zone::Single], &readings, &tariffs),
            &ledger,
            closed,
            correction,
            d("2026-11-15"),
        );
        assert_eq!(plan, Ok(Plan::default()));
        let same_price = water(&[(40_00, "2025-01-01"), (40_00, "2026-08-01")]);
        let tariff = Cause { kind: CauseKind::Tariff, id: 8, on: d("2026-08-01") };
        let plan =
            plan_recompute(&desired(&[Zone::Single], &readings, &same_price), &ledger, closed, tariff, d("2026-11-15"));
        assert_eq!(plan, Ok(Plan::default()));
    }

    #[test]
    fn a_change_in_an_open_month_rebuilds_it_without_recalculations() {
        // Only July is closed; September read on 15.09, the correction made on 20.09.
        let plan = august_corrected("2026-09-15", "2026-07", "2026-09-20");
        assert_eq!(plan.recalculations, []);
        assert_eq!(plan.rebuilt, [p("2026-08"), p("2026-09")]);
        // 12 m³ and 18 m³ at 40,00 ₽.
        assert_eq!(rebuilt_lines(&plan), [(p("2026-08"), 12_000, 480_00), (p("2026-09"), 18_000, 720_00)]);
    }

    #[test]
    fn each_zone_is_recalculated_on_its_own() {
        // Day 6,00 ₽, night 3,00 ₽; the night register of 12.08 corrected from 120 to 110 kWh.
        let tariffs: Vec<Tariff> = [(Zone::Day, 6_00), (Zone::Night, 3_00)]
            .into_iter()
            .map(|(zone, price)| Tariff {
                service: Service::Electricity,
                zone,
                price: k(price),
                valid_from: d("2025-01-01"),
            })
            .collect();
        let now = desired(
            &[Zone::Day, Zone::Night],
            &[(1, "2026-07-20", &[100, 50]), (4, "2026-08-12", &[250, 110])],
            &tariffs,
        );
        let ledger = [
            booked("2026-07", Zone::Day, 100, 600_00),
            booked("2026-07", Zone::Night, 50, 150_00),
            booked("2026-08", Zone::Day, 150, 900_00),
            booked("2026-08", Zone::Night, 70, 210_00),
        ];
        let cause = Cause { kind: CauseKind::Correction, id: 4, on: d("2026-08-12") };
        let plan = plan_recompute(&now, &ledger, ClosedMonths::through(p("2026-10")), cause, d("2026-11-15")).unwrap();
        // Night: 60 kWh × 3,00 = 180,00 against 70 kWh = 210,00. Day unchanged: no line.
        assert_eq!(
            lines(&plan),
            [(
                p("2026-11"),
                p("2026-08"),
                Zone::Night,
                -10_000,
                -30_00,
                "Перерасчёт за август 2026: исправлено показание от 12.08.2026"
            )]
        );
    }

    #[test]
    fn a_closed_month_that_no_longer_has_consumption_is_reversed() {
        // The only reading of September (closed) is moved by a correction to 02.10 (open).
        let tariffs = water(&[(40_00, "2025-01-01")]);
        let now = desired(&[Zone::Single], &[(1, "2026-07-20", &[10]), (6, "2026-10-02", &[25])], &tariffs);
        let ledger = [booked("2026-07", Zone::Single, 10, 400_00), booked("2026-09", Zone::Single, 15, 600_00)];
        let cause = Cause { kind: CauseKind::Correction, id: 6, on: d("2026-09-28") };
        let plan = plan_recompute(&now, &ledger, ClosedMonths::through(p("2026-09")), cause, d("2026-10-05")).unwrap();
        assert_eq!(
            lines(&plan),
            [(
                p("2026-10"),
                p("2026-09"),
                Zone::Single,
                -15_000,
                -600_00,
                "Перерасчёт за сентябрь 2026: исправлено показание от 28.09.2026"
            )]
        );
        assert_eq!(rebuilt_lines(&plan), [(p("2026-10"), 15_000, 600_00)]);
    }

    #[test]
    fn every_cause_reads_as_a_reason() {
        let august = p("2026-08");
        let reason = |kind| Cause { kind, id: 1, on: d("2026-08-12") }.reason(august);
        assert_eq!(
            reason(CauseKind::Review),
            "Перерасчёт за август 2026: принято после проверки показание от 12.08.2026"
        );
        assert_eq!(reason(CauseKind::Rollover), "Перерасчёт за август 2026: переход счётчика через ноль 12.08.2026");
        assert_eq!(reason(CauseKind::Replacement), "Перерасчёт за август 2026: замена счётчика 12.08.2026");
    }
}
