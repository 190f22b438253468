//! What every chart draws with: text that is skipped when there is no font, a title, a legend
//! row above the plot (never over the data), value axes with gridlines, month and day labels,
//! bars, lines, and the «Нет данных» picture.
//!
//! Layout is done here in pixels rather than through plotters' `ChartBuilder`: month labels need
//! a second row for the year, legends must not cover bars, and a second value axis must share
//! the first one's gridlines — and the same code then draws the PNG and the SVG alike.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::fonts::FAMILY;
use crate::months::{Months, short_name};
use crate::palette::{AXIS, BACKGROUND, GRID, INK, MUTED};
use crate::scale::{Scale, Unit};

pub type Drawn<DB, T = ()> = Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Implemented by each chart's data. Lives in a private module, which seals [`crate::Chart`].
pub trait Draw {
    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<DB>) -> Drawn<DB>;
}

/// The text sizes, in pixels of a 1000 px wide picture.
#[derive(Debug, Clone, Copy)]
pub enum Font {
    Title,
    Label,
    Tick,
    Big,
}

impl Font {
    fn size(self) -> f64 {
        match self {
            Font::Title => 30.0,
            Font::Label => 21.0,
            Font::Tick => 19.0,
            Font::Big => 40.0,
        }
    }
}

/// How lines through months are drawn: 3 px wide, a dot on each month.
pub const MONTHLY: (f64, bool) = (3.0, true);

/// How a legend entry is marked.
#[derive(Debug, Clone, Copy)]
pub enum Mark {
    Bar(RGBColor),
    Line(RGBColor),
}

pub struct Entry {
    pub mark: Mark,
    pub label: String,
}

impl Entry {
    pub fn bar(color: RGBColor, label: impl Into<String>) -> Entry {
        Entry { mark: Mark::Bar(color), label: label.into() }
    }

    pub fn line(color: RGBColor, label: impl Into<String>) -> Entry {
        Entry { mark: Mark::Line(color), label: label.into() }
    }
}

/// A value axis: its scale, what it counts, and the colour of its labels.
#[derive(Debug, Clone, Copy)]
pub struct Axis {
    pub scale: Scale,
    pub unit: Unit,
    pub color: RGBColor,
}

impl Axis {
    /// A round axis holding `lo..=hi` and zero.
    pub fn fit((lo, hi): (f64, f64), unit: Unit) -> Axis {
        Axis::new(Scale::fit(lo, hi, unit), unit)
    }

    pub fn new(scale: Scale, unit: Unit) -> Axis {
        Axis { scale, unit, color: MUTED }
    }

    fn labels(self) -> impl Iterator<Item = (f64, String)> {
        self.scale.ticks().map(move |v| (v, self.scale.label(v, self.unit)))
    }
}

/// The rectangle the data is drawn in, in pixels.
#[derive(Debug, Clone, Copy)]
pub struct Plot {
    pub left: i32,
    pub top: i32,
    pub right: i32,
    pub bottom: i32,
}

impl Plot {
    /// The pixel row of `value` on `scale`.
    pub fn y(&self, scale: Scale, value: f64) -> i32 {
        scale.row(value, self.top, self.bottom)
    }

    fn slot(&self, count: usize, i: usize) -> (f64, f64) {
        let width = (self.right - self.left) as f64 / count.max(1) as f64;
        (self.left as f64 + i as f64 * width, width)
    }

    /// The middle of slot `i` of `count`.
    pub fn center(&self, count: usize, i: usize) -> i32 {
        let (x, w) = self.slot(count, i);
        (x + w / 2.0).round() as i32
    }

    /// Bar `j` of `k` side by side in slot `i` of `count`: the group takes most of the slot (at
    /// most 48 px a bar, so two months do not make two walls) and bars are 2 px apart.
    pub fn bar(&self, count: usize, i: usize, j: usize, k: usize) -> (i32, i32) {
        let (x, w) = self.slot(count, i);
        let bar = ((w * 0.8 - 2.0 * (k - 1) as f64) / k as f64).clamp(1.0, 48.0);
        let group = bar * k as f64 + 2.0 * (k - 1) as f64;
        let start = x + (w - group) / 2.0 + j as f64 * (bar + 2.0);
        (start.round() as i32, (start + bar).round() as i32 - 1)
    }
}

pub struct Canvas<DB: DrawingBackend> {
    area: DrawingArea<DB, Shift>,
    text: bool,
    /// From the top of a text box to its baseline, in font sizes: the bitmap and SVG backends
    /// place text differently, and labels must sit alike in both.
    baseline: f64,
    width: i32,
    height: i32,
    zoom: f64,
}

impl<DB: DrawingBackend> Canvas<DB> {
    pub fn new(area: DrawingArea<DB, Shift>, text: bool, baseline: f64) -> Canvas<DB> {
        let (width, height) = area.dim_in_pixel();
        // Text and spacing grow with the picture's width, so a 2000 px chart is not all plot.
        let zoom = (width as f64 / 1000.0).clamp(0.6, 4.0);
        Canvas { area, text, baseline, width: width as i32, height: height as i32, zoom }
    }

    pub fn fill(&self) -> Drawn<DB> {
        self.area.fill(&BACKGROUND)
    }

    pub fn present(&self) -> Drawn<DB> {
        self.area.present()
    }

    /// `base` pixels of a 1000 px picture, in this one.
    pub fn px(&self, base: f64) -> i32 {
        (base * self.zoom).round() as i32
    }

    fn margin(&self) -> i32 {
        self.px(18.0)
    }

    fn size(&self, font: Font) -> f64 {
        font.size() * self.zoom
    }

    /// The height of a line of `font`; nothing when there is no text.
    fn line_height(&self, font: Font) -> i32 {
        if self.text { (self.size(font) * 1.3).round() as i32 } else { 0 }
    }

    fn style<'a>(&self, font: Font, color: &'a RGBColor, h: HPos) -> TextStyle<'a> {
        let weight = if matches!(font, Font::Title) { FontStyle::Bold } else { FontStyle::Normal };
        FontDesc::new(FAMILY.into(), self.size(font), weight).color(color).pos(Pos::new(h, VPos::Top))
    }

    /// Draws `s` with its baseline on row `baseline`, starting, centred or ending at `x`.
    pub fn text(&self, s: &str, x: i32, baseline: i32, font: Font, color: &RGBColor, h: HPos) -> Drawn<DB> {
        if !self.text || s.is_empty() {
            return Ok(());
        }
        let top = baseline - (self.baseline * self.size(font)).round() as i32;
        self.area.draw_text(s, &self.style(font, color, h), (x, top))
    }

    /// The baseline that centres digits and capitals on row `y`.
    pub fn centred(&self, y: i32, font: Font) -> i32 {
        y + (0.3 * self.size(font)).round() as i32
    }

    /// The width of `s`; nothing when there is no text.
    pub fn width_of(&self, s: &str, font: Font) -> Drawn<DB, i32> {
        if !self.text || s.is_empty() {
            return Ok(0);
        }
        Ok(self.area.estimate_text_size(s, &self.style(font, &INK, HPos::Left))?.0 as i32)
    }

    /// `s` cut with «…» to fit `width` pixels.
    fn fitted(&self, s: &str, font: Font, width: i32) -> Drawn<DB, String> {
        // Longer text cannot fit any chart; measuring it would only spend time. Control
        // characters have no glyph and would make the SVG invalid XML.
        let s: String = s.chars().take(200).map(|c| if c.is_control() { ' ' } else { c }).collect();
        if self.width_of(&s, font)? <= width {
            return Ok(s);
        }
        let chars: Vec<char> = s.chars().collect();
        let cut = |n: usize| format!("{}…", chars[..n].iter().collect::<String>().trim_end());
        let (mut fits, mut too_long) = (0, chars.len());
        while too_long - fits > 1 {
            let mid = (fits + too_long) / 2;
            if self.width_of(&cut(mid), font)? <= width { fits = mid } else { too_long = mid }
        }
        Ok(cut(fits))
    }

    /// The title across the top; returns the row below it.
    pub fn title(&self, title: &str) -> Drawn<DB, i32> {
        let top = self.margin();
        if !self.text {
            return Ok(top);
        }
        let title = self.fitted(title, Font::Title, self.width - 2 * self.margin())?;
        let baseline = top + (0.8 * self.size(Font::Title)).round() as i32;
        self.text(&title, self.margin(), baseline, Font::Title, &INK, HPos::Left)?;
        Ok(top + self.line_height(Font::Title))
    }

    /// The legend in rows under the title, wrapping as needed; returns the row below it.
    pub fn legend(&self, entries: &[Entry], top: i32) -> Drawn<DB, i32> {
        if !self.text || entries.is_empty() {
            return Ok(top);
        }
        let (row, swatch, gap) = (self.line_height(Font::Label), self.px(24.0), self.px(8.0));
        let (left, right) = (self.margin(), self.width - self.margin());
        let (mut x, mut y) = (left, top);
        for entry in entries {
            let label = self.fitted(&entry.label, Font::Label, right - left - swatch - gap)?;
            let width = swatch + gap + self.width_of(&label, Font::Label)?;
            if x > left && x + width > right {
                (x, y) = (left, y + row);
            }
            let middle = y + row / 2;
            match entry.mark {
                Mark::Bar(color) => {
                    let half = self.px(8.0);
                    self.rect((x + swatch / 2 - half, middle - half), (x + swatch / 2 + half, middle + half), color)?
                }
                Mark::Line(color) => {
                    self.polyline(&[(x, middle), (x + swatch, middle)], color, self.px(3.0) as u32)?;
                    self.dot((x + swatch / 2, middle), color)?;
                }
            }
            self.text(&label, x + swatch + gap, self.centred(middle, Font::Label), Font::Label, &INK, HPos::Left)?;
            x += width + self.px(28.0);
        }
        Ok(y + row + self.px(6.0))
    }

    /// The plot rectangle below `top`, leaving room for the value labels at its sides and for
    /// `rows` rows of labels under it.
    pub fn plot(&self, top: i32, left: &Axis, right: Option<&Axis>, rows: i32) -> Drawn<DB, Plot> {
        let widest = |axis: &Axis| -> Drawn<DB, i32> {
            axis.labels().try_fold(0, |w, (_, label)| Ok(w.max(self.width_of(&label, Font::Tick)?)))
        };
        let pad = self.px(10.0);
        let left = self.margin() + widest(left)? + pad;
        let right = match right {
            Some(axis) => self.width - self.margin() - widest(axis)? - pad,
            // Room for half a label hanging past the last slot.
            None => self.width - self.margin() - self.px(10.0),
        };
        // Half a tick label sticks out above the top gridline.
        let top = top + self.line_height(Font::Tick) / 2 + self.px(4.0);
        let bottom = self.height - self.margin() - rows * self.line_height(Font::Tick) - pad;
        Ok(Plot { left, top, right, bottom: bottom.max(top + 1) })
    }

    /// Gridlines and labels of the left axis, labels of the right one, the zero line last.
    pub fn axes(&self, plot: &Plot, left: &Axis, right: Option<&Axis>) -> Drawn<DB> {
        let pad = self.px(10.0);
        for (value, label) in left.labels() {
            let y = plot.y(left.scale, value);
            self.polyline(&[(plot.left, y), (plot.right, y)], GRID, 1)?;
            self.text(&label, plot.left - pad, self.centred(y, Font::Tick), Font::Tick, &left.color, HPos::Right)?;
        }
        if let Some(right) = right {
            for (value, label) in right.labels() {
                let y = plot.y(right.scale, value);
                self.text(&label, plot.right + pad, self.centred(y, Font::Tick), Font::Tick, &right.color, HPos::Left)?;
            }
        }
        let zero = plot.y(left.scale, 0.0);
        self.polyline(&[(plot.left, zero), (plot.right, zero)], AXIS, 1)
    }

    /// Month names under the slots, the year under each January and under the first month;
    /// every second (third …) name only when the slots are too narrow for all of them.
    pub fn month_labels(&self, plot: &Plot, months: Months) -> Drawn<DB> {
        if !self.text {
            return Ok(());
        }
        let slot = (plot.right - plot.left) as f64 / months.count as f64;
        let mut widest = 0;
        for period in months.iter() {
            widest = widest.max(self.width_of(&short_name(period), Font::Tick)?);
        }
        let every =
            [1, 2, 3, 4, 6, 12].into_iter().find(|k| slot * *k as f64 >= (widest + self.px(6.0)) as f64).unwrap_or(12);
        let name_row = plot.bottom + self.px(8.0) + self.line_height(Font::Tick) * 3 / 4;
        let year_row = name_row + self.line_height(Font::Tick);
        let year_width = self.width_of("2000", Font::Tick)?;
        let next_january = months.iter().position(|p| p.month() == 1).unwrap_or(months.count);
        for (i, period) in months.iter().enumerate() {
            let x = plot.center(months.count, i);
            if (period.month() - 1) % every == 0 {
                self.text(&short_name(period), x, name_row, Font::Tick, &MUTED, HPos::Center)?;
            }
            // The first month's year only when it does not run into the next January's.
            let first_fits = i == 0 && (next_january as f64 * slot) as i32 >= year_width + self.px(12.0);
            if period.month() == 1 || first_fits {
                let x = x - (slot / 2.0) as i32 + self.px(2.0);
                self.text(&period.year().to_string(), x, year_row, Font::Tick, &INK, HPos::Left)?;
            }
        }
        Ok(())
    }

    /// Day numbers 1, 5, 10 … under a plot of `days` slots.
    pub fn day_labels(&self, plot: &Plot, days: usize) -> Drawn<DB> {
        let row = plot.bottom + self.px(8.0) + self.line_height(Font::Tick) * 3 / 4;
        for day in (1..=days).filter(|d| *d == 1 || d % 5 == 0) {
            self.text(&day.to_string(), plot.center(days, day - 1), row, Font::Tick, &MUTED, HPos::Center)?;
        }
        Ok(())
    }

    pub fn rect(&self, from: (i32, i32), to: (i32, i32), color: RGBColor) -> Drawn<DB> {
        self.area.draw(&Rectangle::new([from, to], color.filled()))
    }

    /// A bar in columns `x` from row `from` to row `to` (either may be the higher).
    pub fn bar(&self, x: (i32, i32), from: i32, to: i32, color: RGBColor) -> Drawn<DB> {
        if from == to {
            return Ok(());
        }
        self.rect((x.0, from.min(to)), (x.1, from.max(to)), color)
    }

    pub fn polyline(&self, points: &[(i32, i32)], color: RGBColor, width: u32) -> Drawn<DB> {
        self.area.draw(&PathElement::new(points.to_vec(), color.stroke_width(width)))
    }

    pub fn dot(&self, at: (i32, i32), color: RGBColor) -> Drawn<DB> {
        self.area.draw(&Circle::new(at, self.px(5.0), color.filled()))
    }

    /// A line through `values` placed in `slots` slots from the left (a missing value breaks
    /// it), `width` pixels wide at 1000 px, with a dot on each point if `dots`, and always on a
    /// point standing alone.
    pub fn line(
        &self,
        plot: &Plot,
        scale: Scale,
        slots: usize,
        values: &[Option<f64>],
        color: RGBColor,
        (width, dots): (f64, bool),
    ) -> Drawn<DB> {
        let points: Vec<Option<(i32, i32)>> =
            values.iter().enumerate().map(|(i, v)| v.map(|v| (plot.center(slots, i), plot.y(scale, v)))).collect();
        for run in points.split(Option::is_none) {
            let run: Vec<(i32, i32)> = run.iter().flatten().copied().collect();
            if run.len() > 1 {
                self.polyline(&run, color, self.px(width).max(1) as u32)?;
            }
            if dots || run.len() == 1 {
                for p in run {
                    self.dot(p, color)?;
                }
            }
        }
        Ok(())
    }

    /// The whole picture when there is nothing to draw: the title and «Нет данных».
    pub fn no_data(&self, title: &str) -> Drawn<DB> {
        let top = self.title(title)? + self.px(10.0);
        let (left, right, bottom) = (self.margin(), self.width - self.margin(), self.height - self.margin());
        self.area.draw(&Rectangle::new([(left, top), (right, bottom)], GRID.stroke_width(self.px(2.0) as u32)))?;
        let middle = self.centred((top + bottom) / 2, Font::Big);
        self.text("Нет данных", (left + right) / 2, middle, Font::Big, &MUTED, HPos::Center)
    }
}
