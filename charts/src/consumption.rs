//! The consumer's picture: consumption by month, the same month a year before beside it, and the
//! money charged as a line on its own axis.

use domain::{Kopecks, MeterValue, Period, Service, Zone};
use plotters::prelude::DrawingBackend;

use crate::canvas::{Axis, Canvas, Draw, Drawn, Entry, MONTHLY};
use crate::months::{MOST, Months};
use crate::palette::{CHARGED, NIGHT, NIGHT_YEAR_BEFORE, USED, USED_YEAR_BEFORE};
use crate::scale::{Unit, extent};

/// One contract's monthly consumption and charges.
#[derive(Debug, Clone)]
pub struct ConsumptionHistory {
    /// Whose meter, as the consumer knows it: «Участок 57, договор 57-Э». The chart adds the
    /// service and its unit.
    pub contract: String,
    pub service: Service,
    /// How many months, up to the latest one with data, the chart shows: 12 (a year against the
    /// year before) to 24 (two years); outside that range, the nearer end.
    pub shown: usize,
    /// One entry per month, in any order. The bars beside each shown month come from the same
    /// month a year before, so 12 + `shown` months is all the chart ever uses.
    pub months: Vec<ConsumptionMonth>,
}

#[derive(Debug, Clone)]
pub struct ConsumptionMonth {
    pub period: Period,
    /// Consumption per register: one `Zone::Single` entry, or `Day` and `Night`.
    pub zones: Vec<(Zone, MeterValue)>,
    pub charged: Kopecks,
}

/// The bar colours of a zone: this year, a year before.
fn colors(zone: Zone) -> (plotters::style::RGBColor, plotters::style::RGBColor) {
    match zone {
        Zone::Single | Zone::Day => (USED, USED_YEAR_BEFORE),
        Zone::Night => (NIGHT, NIGHT_YEAR_BEFORE),
    }
}

impl Draw for ConsumptionHistory {
    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<DB>) -> Drawn<DB> {
        let unit = self.service.unit();
        let title = format!("{} — {} по месяцам, {unit}", self.contract.trim(), self.service.label().to_lowercase());
        let shown = self.shown.clamp(12, MOST);
        let Some(months) = Months::ending_at_latest(self.months.iter().map(|m| m.period), shown, shown) else {
            return canvas.no_data(&title);
        };
        let now = months.slots(self.months.iter().map(|m| (m.period, m)));
        let year_before = months
            .year_before()
            .map_or_else(|| vec![None; months.count], |before| before.slots(self.months.iter().map(|m| (m.period, m))));
        let zones: Vec<Zone> = Zone::ALL
            .iter()
            .copied()
            .filter(|z| now.iter().chain(&year_before).flatten().any(|m| m.zones.iter().any(|(mz, _)| mz == z)))
            .collect();
        // Heights of the stacked parts, in units. Consumption is never negative once billed; a
        // negative figure (a data error upstream) is drawn as none rather than below the axis.
        let stack = |m: &ConsumptionMonth| -> Vec<f64> {
            zones
                .iter()
                .map(|z| {
                    let value: f64 =
                        m.zones.iter().filter(|(mz, _)| mz == z).map(|(_, v)| v.as_units_for_display()).sum();
                    value.max(0.0)
                })
                .collect()
        };
        let now_stacks: Vec<Option<Vec<f64>>> = now.iter().map(|m| m.map(stack)).collect();
        let before_stacks: Vec<Option<Vec<f64>>> = year_before.iter().map(|m| m.map(stack)).collect();
        let tallest =
            now_stacks.iter().chain(&before_stacks).flatten().map(|s| s.iter().sum::<f64>()).fold(0.0, f64::max);
        let charged: Vec<Option<f64>> = now.iter().map(|m| m.map(|m| m.charged.as_rubles_for_display())).collect();
        let (low, high) = extent(charged.iter().flatten().copied());

        let left = Axis::fit((0.0, tallest), Unit::Plain);
        let right = Axis { color: CHARGED, ..Axis::new(left.scale.aligned(low, high), Unit::Plain) };

        let mut legend: Vec<Entry> = match zones.as_slice() {
            [Zone::Single] => vec![Entry::bar(USED, format!("Потребление, {unit}"))],
            _ => zones.iter().map(|z| Entry::bar(colors(*z).0, z.label())).collect(),
        };
        if before_stacks.iter().any(Option::is_some) {
            legend.push(Entry::bar(USED_YEAR_BEFORE, "Год назад"));
        }
        legend.push(Entry::line(CHARGED, "Начислено, ₽ (шкала справа)"));

        let top = canvas.title(&title)?;
        let top = canvas.legend(&legend, top)?;
        let plot = canvas.plot(top, &left, Some(&right), 2)?;
        canvas.axes(&plot, &left, Some(&right))?;
        for (i, (now, before)) in now_stacks.iter().zip(&before_stacks).enumerate() {
            for (j, stack, year_before) in [(0, before, true), (1, now, false)] {
                let Some(stack) = stack else { continue };
                let x = plot.bar(months.count, i, j, 2);
                let mut base = 0.0;
                for (zone, height) in zones.iter().zip(stack) {
                    let (this_year, a_year_before) = colors(*zone);
                    let color = if year_before { a_year_before } else { this_year };
                    canvas.bar(x, plot.y(left.scale, base), plot.y(left.scale, base + height), color)?;
                    base += height;
                }
            }
        }
        canvas.month_labels(&plot, months)?;
        canvas.line(&plot, right.scale, months.count, &charged, CHARGED, MONTHLY)
    }
}
