//! Network losses by month, one line per feeder line (issue 16): the panel page and the monthly
//! message to the accountants' chat.

use domain::Period;
use plotters::prelude::DrawingBackend;

use crate::canvas::{Axis, Canvas, Draw, Drawn, Entry, MONTHLY};
use crate::months::{MOST, Months};
use crate::palette::LINES;
use crate::scale::{Unit, extent};

#[derive(Debug, Clone)]
pub struct LossesHistory {
    /// «Электроэнергия: потери в сетях».
    pub title: String,
    /// In the order the board wants them read (the worst first, say): the first ten are drawn
    /// and the title says how many there were.
    pub lines: Vec<LossLine>,
}

#[derive(Debug, Clone)]
pub struct LossLine {
    /// The line's name as the board calls it: «Линия 1 (ул. Морская)».
    pub name: String,
    /// Losses per month in hundredths of a per cent (`1250` is 12,5 %; negative when the plots'
    /// meters sold more than the common meter supplied), as the balance computed them.
    pub months: Vec<(Period, i64)>,
}

impl Draw for LossesHistory {
    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<DB>) -> Drawn<DB> {
        let shown = &self.lines[..self.lines.len().min(LINES.len())];
        let mut title = format!("{}, %", self.title.trim());
        if shown.len() < self.lines.len() {
            title = format!("{title} — {} линий из {}", shown.len(), self.lines.len());
        }
        let Some(months) =
            Months::ending_at_latest(shown.iter().flat_map(|l| l.months.iter().map(|(p, _)| *p)), 12, MOST)
        else {
            return canvas.no_data(&title);
        };
        let percent = |hundredths: i64| hundredths as f64 / 100.0;
        let series: Vec<Vec<Option<f64>>> =
            shown.iter().map(|l| months.slots(l.months.iter().map(|(p, v)| (*p, percent(*v))))).collect();
        let axis = Axis::fit(extent(series.iter().flatten().flatten().copied()), Unit::Percent);
        let legend: Vec<Entry> = shown.iter().zip(LINES).map(|(l, color)| Entry::line(color, l.name.trim())).collect();

        let top = canvas.title(&title)?;
        let top = canvas.legend(&legend, top)?;
        let plot = canvas.plot(top, &axis, None, 2)?;
        canvas.axes(&plot, &axis, None)?;
        canvas.month_labels(&plot, months)?;
        for (values, color) in series.iter().zip(LINES) {
            canvas.line(&plot, axis.scale, months.count, values, color, MONTHLY)?;
        }
        Ok(())
    }
}
