//! The cooperative's own network: what its common meters supplied against what the plots' meters
//! sold over the same interval (the balance), and how the losses are shared among the plots as
//! the general meeting decided.
//!
//! **Aligning intervals.** A common meter and the plots' meters are not read on the same day.
//! The balance is taken between two readings of the common meter; each plot meter's value at
//! those two moments is pro-rated by time between its own neighbouring readings (linear, to the
//! second, in integer thousandths). Before a meter's first point its first value counts (the
//! installation values), after its last point its last value: consumption nobody has read yet is
//! not invented, and such plots are counted as «не сняты» beside the balance.
//!
//! **The last kopeck.** Shares are `amount × weight / total weight` rounded down; the kopecks
//! left over go one each to the largest remainders (ties: the earlier in the given order, which
//! is the walking order). So the shares always sum to the amount charged, exactly.

use crate::kinds::LossMethod;
use crate::meter_value::ConsumptionChange;
use crate::money::Kopecks;

/// One meter record's accepted readings as (moment in seconds, sum of its registers in
/// thousandths), in time order; the first point is its installation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Track {
    points: Vec<(i64, i64)>,
}

impl Track {
    /// Points in any order; sorted by time (a later point with the same moment wins).
    pub fn new(mut points: Vec<(i64, i64)>) -> Track {
        points.sort_by_key(|&(at, _)| at);
        Track { points }
    }

    /// The value at moment `at`, pro-rated between the neighbouring points.
    pub fn value_at(&self, at: i64) -> Option<i64> {
        let (first, last) = (self.points.first()?, self.points.last()?);
        if at <= first.0 {
            return Some(first.1);
        }
        if at >= last.0 {
            return Some(last.1);
        }
        let after = self.points.partition_point(|&(t, _)| t <= at);
        let ((t0, v0), (t1, v1)) = (self.points[after - 1], self.points[after]);
        // i128: a value below 10¹⁵ times a span below 2⁶³ seconds cannot overflow.
        let part = i128::from(v1 - v0) * i128::from(at - t0) / i128::from(t1 - t0);
        Some(v0 + i64::try_from(part).unwrap_or(0))
    }

    /// What passed through the meter between `from` and `to`, pro-rated; zero without points.
    pub fn used_between(&self, from: i64, to: i64) -> i64 {
        match (self.value_at(from), self.value_at(to)) {
            (Some(a), Some(b)) => (b - a).max(0),
            _ => 0,
        }
    }

    /// True when the meter has no reading at or after `at` (its consumption up to `at` is not
    /// fully known).
    pub fn unread_at(&self, at: i64) -> bool {
        self.points.len() < 2 || self.points.last().is_some_and(|&(t, _)| t < at)
    }
}

/// Supplied against sold, in thousandths of a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Balance {
    pub supplied: i64,
    pub sold: i64,
}

impl Balance {
    /// Supplied minus sold: negative when the plots' meters show more than the common one.
    pub fn losses(self) -> i64 {
        self.supplied - self.sold
    }

    /// Losses in hundredths of a percent of what was supplied (1 550 is 15,50 %); none when
    /// nothing was supplied.
    pub fn losses_basis_points(self) -> Option<i64> {
        (self.supplied > 0).then(|| {
            let bp = i128::from(self.losses()) * 10_000 / i128::from(self.supplied);
            i64::try_from(bp).unwrap_or(i64::MAX)
        })
    }

    /// Losses above `threshold_percent` of what was supplied.
    pub fn is_flagged(self, threshold_percent: u32) -> bool {
        self.losses_basis_points().is_some_and(|bp| bp > i64::from(threshold_percent) * 100)
    }

    /// The losses the plots are charged for: none when negative, and with a cap at most
    /// `cap_percent` of what they bought; the rest stays with the cooperative.
    pub fn chargeable(self, cap_percent: Option<u32>) -> i64 {
        let losses = self.losses().max(0);
        match cap_percent {
            Some(cap) => {
                let allowed = i128::from(self.sold.max(0)) * i128::from(cap) / 100;
                losses.min(i64::try_from(allowed).unwrap_or(i64::MAX))
            }
            None => losses,
        }
    }
}

/// The largest plot area accepted, in m² (100 ha: far beyond any garden plot).
pub const AREA_MAX: i64 = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AreaError {
    #[error("Площадь «{0}» — не целое число квадратных метров. Пример: 600.")]
    NotANumber(String),
    #[error("Площадь {0} м² вне допустимого: от 1 до 1 000 000 м².")]
    OutOfRange(i64),
}

/// A plot's area in whole m², as typed (`600`, `1 200`, `600 м²`).
pub fn parse_area(input: &str) -> Result<i64, AreaError> {
    let shown = || input.trim().chars().take(40).collect::<String>();
    let digits: String =
        input.trim().trim_end_matches("м²").trim_end_matches("м2").chars().filter(|c| !c.is_whitespace()).collect();
    if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AreaError::NotANumber(shown()));
    }
    let area: i64 = digits.parse().map_err(|_| AreaError::NotANumber(shown()))?;
    if !(1..=AREA_MAX).contains(&area) {
        return Err(AreaError::OutOfRange(area));
    }
    Ok(area)
}

/// Thousandths of a unit as people read them (`-3`, `12,5`); a sum beyond any meter's bound as
/// a plain number of thousandths.
pub fn units_text(thousandths: i64) -> String {
    ConsumptionChange::from_thousandths(thousandths).map_or_else(|| format!("{thousandths}/1000"), |c| c.to_string())
}

/// «15,5 %» from hundredths of a percent.
pub fn percent_text(basis_points: i64) -> String {
    let sign = if basis_points < 0 { "−" } else { "" };
    let bp = basis_points.unsigned_abs();
    match bp % 100 {
        0 => format!("{sign}{} %", bp / 100),
        r if r % 10 == 0 => format!("{sign}{},{} %", bp / 100, r / 10),
        r => format!("{sign}{},{r:02} %", bp / 100),
    }
}

/// One contract taking part in the sharing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sharer {
    pub contract_id: i64,
    /// Consumption over the balance interval, thousandths.
    pub consumption: i64,
    /// The plot's area in m², if known.
    pub area: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShareError {
    #[error("Некому распределять потери: на линии нет участков с договорами.")]
    NoSharers,
    #[error("Потребление участков за месяц нулевое: распределять пропорционально нечему.")]
    NoConsumption,
    #[error("Площадь не указана у {0} участков: распределение по площади невозможно, заполните её в реестре.")]
    NoArea(usize),
}

/// Shares `amount` among `sharers` by `method`, largest remainder for the last kopeck. The
/// shares are in the order of `sharers` and sum to `amount` exactly; `None` shares nothing.
pub fn allocate(method: LossMethod, amount: Kopecks, sharers: &[Sharer]) -> Result<Vec<(i64, Kopecks)>, ShareError> {
    if method == LossMethod::None || amount == Kopecks::ZERO {
        return Ok(Vec::new());
    }
    if sharers.is_empty() {
        return Err(ShareError::NoSharers);
    }
    let weights: Vec<i128> = match method {
        LossMethod::None => unreachable!("returned above"),
        LossMethod::Consumption => sharers.iter().map(|s| i128::from(s.consumption.max(0))).collect(),
        LossMethod::PerPlot => vec![1; sharers.len()],
        LossMethod::Area => {
            let missing = sharers.iter().filter(|s| s.area.is_none_or(|a| a <= 0)).count();
            if missing > 0 {
                return Err(ShareError::NoArea(missing));
            }
            sharers.iter().map(|s| i128::from(s.area.unwrap_or(0))).collect()
        }
    };
    let total: i128 = weights.iter().sum();
    if total == 0 {
        return Err(ShareError::NoConsumption);
    }
    let whole = i128::from(amount.get());
    let mut shares: Vec<i128> = weights.iter().map(|w| whole * w / total).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    // Largest remainder first; a stable sort keeps the given order among equal remainders.
    order.sort_by_key(|&i| std::cmp::Reverse(whole * weights[i] % total));
    let left = whole - shares.iter().sum::<i128>();
    for &i in order.iter().take(usize::try_from(left).unwrap_or(0)) {
        shares[i] += 1;
    }
    Ok(sharers
        .iter()
        .zip(shares)
        // Each share is at most `amount`, which is a valid amount.
        .map(|(s, share)| (s.contract_id, Kopecks::from_i128(share).unwrap_or(Kopecks::ZERO)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    fn k(kopecks: i64) -> Kopecks {
        Kopecks::new(kopecks).unwrap()
    }

    fn sharer(contract_id: i64, consumption: i64, area: Option<i64>) -> Sharer {
        Sharer { contract_id, consumption, area }
    }

    #[test]
    fn pro_rates_a_plot_meter_to_the_common_meters_days() {
        // Read on day 0 at 1 000, day 10 at 2 000 (100 a day); the common meter on days 4 and 30.
        let track = Track::new(vec![(0, 1_000_000), (10 * DAY, 2_000_000)]);
        assert_eq!(track.value_at(4 * DAY), Some(1_400_000));
        // After the last reading nothing is invented: the value stays, and the plot is unread.
        assert_eq!(track.used_between(4 * DAY, 30 * DAY), 600_000);
        assert!(track.unread_at(30 * DAY));
        assert!(!track.unread_at(10 * DAY));
        // Before the first point: the installation values.
        assert_eq!(track.value_at(-DAY), Some(1_000_000));
        assert_eq!(Track::default().used_between(0, DAY), 0);
    }

    #[test]
    fn losses_in_units_and_percent_and_the_flag() {
        let b = Balance { supplied: 1_000_000, sold: 845_000 };
        assert_eq!(b.losses(), 155_000);
        assert_eq!(b.losses_basis_points(), Some(1_550));
        assert_eq!(percent_text(1_550), "15,5 %");
        assert_eq!(percent_text(-305), "−3,05 %");
        assert_eq!((units_text(155_000), units_text(-40_500)), ("155".to_owned(), "-40,5".to_owned()));
        assert!(b.is_flagged(15) && !b.is_flagged(16));
        assert_eq!(Balance { supplied: 0, sold: 5 }.losses_basis_points(), None);
        // The cap: at most 10 % of 845 sold = 84,5 charged; without it all 155.
        assert_eq!(b.chargeable(Some(10)), 84_500);
        assert_eq!(b.chargeable(None), 155_000);
        // More sold than supplied: nothing to charge.
        assert_eq!(Balance { supplied: 100, sold: 200 }.chargeable(None), 0);
    }

    #[test]
    fn areas_are_whole_square_metres_within_bounds() {
        assert_eq!(parse_area(" 1 200 м² "), Ok(1_200));
        assert_eq!(parse_area("600"), Ok(600));
        assert_eq!(parse_area("6 соток"), Err(AreaError::NotANumber("6 соток".into())));
        assert_eq!(parse_area("-5"), Err(AreaError::NotANumber("-5".into())));
        assert_eq!(parse_area("0"), Err(AreaError::OutOfRange(0)));
        assert!(matches!(parse_area(&"9".repeat(100_000)), Err(AreaError::NotANumber(s)) if s.len() == 40));
    }

    #[test]
    fn shares_by_consumption_to_the_kopeck() {
        // 100,00 ₽ over 100, 200 and 300 kWh: 16,666…, 33,333…, 50,00 → 16,67 (remainder 4/6
        // is the largest), 33,33, 50,00.
        let sharers = [sharer(1, 100_000, None), sharer(2, 200_000, None), sharer(3, 300_000, None)];
        let shares = allocate(LossMethod::Consumption, k(10_000), &sharers).unwrap();
        assert_eq!(shares, [(1, k(1_667)), (2, k(3_333)), (3, k(5_000))]);
    }

    #[test]
    fn shares_per_plot_with_the_last_kopeck_to_the_first_in_walking_order() {
        // 100,00 ₽ over 3 plots: 33,33 each and one kopeck left: all remainders equal, so it goes
        // to the first.
        let sharers = [sharer(7, 0, None), sharer(8, 0, None), sharer(9, 0, None)];
        let shares = allocate(LossMethod::PerPlot, k(10_000), &sharers).unwrap();
        assert_eq!(shares, [(7, k(3_334)), (8, k(3_333)), (9, k(3_333))]);
    }

    #[test]
    fn shares_by_area_and_refuses_plots_without_one() {
        // 10,01 ₽ over 600, 600 and 800 m²: 3,003, 3,003, 4,004 → 300 + 300 + 400 = 1 000 and one
        // kopeck left; remainders 600·1001 mod 2000 = 600, 600 and 800·1001 mod 2000 = 800: to
        // the third.
        let sharers = [sharer(1, 5, Some(600)), sharer(2, 0, Some(600)), sharer(3, 9, Some(800))];
        let shares = allocate(LossMethod::Area, k(1_001), &sharers).unwrap();
        assert_eq!(shares, [(1, k(300)), (2, k(300)), (3, k(401))]);
        let no_area = [sharer(1, 5, Some(600)), sharer(2, 0, None)];
        assert_eq!(allocate(LossMethod::Area, k(1_001), &no_area), Err(ShareError::NoArea(1)));
    }

    #[test]
    fn none_and_empty_cases() {
        let sharers = [sharer(1, 0, None)];
        assert_eq!(allocate(LossMethod::None, k(500), &sharers), Ok(vec![]));
        assert_eq!(allocate(LossMethod::Consumption, k(500), &sharers), Err(ShareError::NoConsumption));
        assert_eq!(allocate(LossMethod::PerPlot, k(500), &[]), Err(ShareError::NoSharers));
    }

    #[test]
    fn the_shares_always_sum_to_the_amount() {
        let sharers: Vec<Sharer> = (1..=421).map(|i| sharer(i, i * 1_337 % 9_001, Some(400 + i % 7))).collect();
        for method in [LossMethod::Consumption, LossMethod::PerPlot, LossMethod::Area] {
            for amount in [1, 420, 421, 999_999, 123_456_789] {
                let shares = allocate(method, k(amount), &sharers).unwrap();
                assert_eq!(shares.iter().map(|(_, s)| s.get()).sum::<i64>(), amount, "{method:?} {amount}");
            }
        }
    }
}
