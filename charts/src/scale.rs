//! Value axes: round steps through zero, and tick labels as Russian readers write numbers.
//!
//! Values arrive here as `f64` display units (rubles, кВт·ч, per cent) only to be placed on
//! pixels and printed on the axis; the figures themselves stay integers in the caller's data.

use domain::money::group_thousands;

/// How many steps an axis aims for: enough to read a value off, few enough for a phone.
const TARGET_STEPS: f64 = 5.0;

/// An axis from `-below × step` to `above × step`: zero is always a tick, so bars start on a
/// gridline and a second axis can share the gridlines.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub step: f64,
    pub below: u32,
    pub above: u32,
}

/// What the axis counts, for its labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Rubles, кВт·ч, м³: the unit is named in the title or the legend.
    Plain,
    /// Whole things (readings): no fractional steps.
    Count,
    Percent,
}

impl Scale {
    /// The smallest round axis holding `lo..=hi` and zero.
    pub fn fit(lo: f64, hi: f64, unit: Unit) -> Scale {
        let (lo, hi) = (lo.min(0.0), hi.max(0.0));
        let span = hi - lo;
        if !span.is_finite() || span <= 0.0 {
            // Nothing but zeros: an axis 0…5 reads as "nothing", not as an error.
            return Scale { step: 1.0, below: 0, above: TARGET_STEPS as u32 };
        }
        let mut step = round_up(span / TARGET_STEPS);
        if unit == Unit::Count {
            step = step.max(1.0);
        }
        Scale { step, below: steps(-lo, step), above: steps(hi, step) }
    }

    /// Percentages of a whole: 0…100 in steps of 20.
    pub fn percent() -> Scale {
        Scale { step: 20.0, below: 0, above: 5 }
    }

    /// A second axis for `lo..=hi` whose ticks fall on this axis' gridlines.
    pub fn aligned(self, lo: f64, hi: f64) -> Scale {
        let (lo, hi) = (lo.min(0.0), hi.max(0.0));
        let need_above = if self.above > 0 { hi / self.above as f64 } else { 0.0 };
        let need_below = if self.below > 0 { -lo / self.below as f64 } else { 0.0 };
        let fits = (hi <= 0.0 || self.above > 0) && (lo >= 0.0 || self.below > 0);
        let need = need_above.max(need_below);
        if !fits || !need.is_finite() {
            return Scale::fit(lo, hi, Unit::Plain);
        }
        Scale { step: if need > 0.0 { round_up(need) } else { self.step }, ..self }
    }

    pub fn min(self) -> f64 {
        -(self.below as f64) * self.step
    }

    pub fn max(self) -> f64 {
        self.above as f64 * self.step
    }

    pub fn ticks(self) -> impl Iterator<Item = f64> {
        (0..=self.below + self.above).map(move |i| self.min() + i as f64 * self.step)
    }

    /// The pixel row of `value` on an axis drawn from `bottom` (its minimum) up to `top`.
    pub fn row(self, value: f64, top: i32, bottom: i32) -> i32 {
        let share = (value - self.min()) / (self.max() - self.min());
        (bottom as f64 - share.clamp(0.0, 1.0) * (bottom - top) as f64).round() as i32
    }

    /// The label of a tick: `250 000`, `15 млн`, `2,5`, `40 %`; zero is always `0`.
    pub fn label(self, value: f64, unit: Unit) -> String {
        // Millions and up are named once the step itself is that large, so labels stay short
        // without growing decimals (`0,25 млн`).
        let (divisor, suffix) = match self.step {
            s if s >= 1e12 => (1e12, "\u{a0}трлн"),
            s if s >= 1e9 => (1e9, "\u{a0}млрд"),
            s if s >= 1e6 => (1e6, "\u{a0}млн"),
            _ => (1.0, ""),
        };
        let percent = if unit == Unit::Percent { "\u{202f}%" } else { "" };
        if value == 0.0 {
            return format!("0{percent}");
        }
        format!("{}{suffix}{percent}", number(value / divisor, decimals(self.step / divisor)))
    }
}

/// The smallest and largest of `values`, and zero: what an axis must hold.
pub fn extent(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    values.into_iter().fold((0.0, 0.0), |(lo, hi), v| (v.min(lo), v.max(hi)))
}

/// `1234.5` with one decimal → `1 234,5`; a minus sign, not a hyphen, for negatives.
pub fn number(value: f64, decimals: u32) -> String {
    let scale = 10u64.pow(decimals);
    let scaled = (value.abs() * scale as f64).round() as u64;
    let sign = if value < 0.0 && scaled > 0 { "\u{2212}" } else { "" };
    let whole = group_thousands(scaled / scale);
    match decimals {
        0 => format!("{sign}{whole}"),
        d => format!("{sign}{whole},{:0width$}", scaled % scale, width = d as usize),
    }
}

/// Decimals needed to print every multiple of `step` exactly (0 for whole steps, 1 for 2,5 …).
fn decimals(step: f64) -> u32 {
    (0..3)
        .find(|&d| {
            let shifted = step * 10f64.powi(d as i32);
            (shifted - shifted.round()).abs() < 1e-6 * shifted.max(1.0)
        })
        .unwrap_or(3)
}

/// The smallest of 1, 2, 2.5, 5 × 10ⁿ that is at least `x` (> 0).
fn round_up(x: f64) -> f64 {
    let base = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * base).find(|s| *s >= x * (1.0 - 1e-9)).unwrap_or(10.0 * base)
}

/// Whole steps needed to reach `extent` (≥ 0).
fn steps(extent: f64, step: f64) -> u32 {
    (extent / step - 1e-9).ceil().max(0.0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_are_round_and_hold_the_values() {
        let s = Scale::fit(0.0, 437.0, Unit::Plain);
        assert_eq!((s.step, s.below, s.above), (100.0, 0, 5));
        let s = Scale::fit(-30.0, 95.0, Unit::Plain);
        assert_eq!((s.step, s.below, s.above), (25.0, 2, 4));
        assert_eq!(Scale::fit(0.0, 3.0, Unit::Count).step, 1.0);
        assert_eq!(Scale::fit(0.0, 0.0, Unit::Plain), Scale { step: 1.0, below: 0, above: 5 });
        let huge = Scale::fit(0.0, i64::MAX as f64, Unit::Plain);
        assert!(huge.max() >= i64::MAX as f64 && huge.above <= 6);
    }

    #[test]
    fn extents_hold_zero() {
        assert_eq!(extent([3.0, 7.5, 1.0]), (0.0, 7.5));
        assert_eq!(extent([-2.0, 5.0]), (-2.0, 5.0));
        assert_eq!(extent([]), (0.0, 0.0));
    }

    #[test]
    fn a_second_axis_shares_the_gridlines() {
        let left = Scale::fit(0.0, 437.0, Unit::Plain);
        let right = left.aligned(0.0, 3_210.5);
        assert_eq!((right.below, right.above), (left.below, left.above));
        assert!(right.max() >= 3_210.5);
        assert_eq!(right.step, 1000.0);
    }

    #[test]
    fn labels_read_like_russian_numbers() {
        let s = Scale::fit(0.0, 437_000.0, Unit::Plain);
        assert_eq!(s.label(300_000.0, Unit::Plain), "300\u{202f}000");
        let s = Scale::fit(0.0, 43_000_000.0, Unit::Plain);
        assert_eq!(s.label(10_000_000.0, Unit::Plain), "10\u{a0}млн");
        let s = Scale::fit(-300_000.0, 1_200_000.0, Unit::Plain);
        assert_eq!(s.label(-250_000.0, Unit::Plain), "\u{2212}250\u{202f}000");
        assert_eq!(s.label(0.0, Unit::Plain), "0");
        let s = Scale::fit(0.0, 12.0, Unit::Plain);
        assert_eq!(s.label(7.5, Unit::Plain), "7,5");
        assert_eq!(Scale::percent().label(40.0, Unit::Percent), "40\u{202f}%");
        assert_eq!(number(-1234.5, 1), "\u{2212}1\u{202f}234,5");
        assert_eq!(number(-0.001, 0), "0");
    }
}
