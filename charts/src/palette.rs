//! The colours of the charts. Public so that a page can match its legend text to a chart, and so
//! tests can find the bars in a picture. Every colour is opaque: a lighter shade is a colour of
//! its own, not a transparency, so a bar is exactly one colour in both PNG and SVG.

use domain::ReadingSource;
pub use plotters::style::RGBColor;

pub const BACKGROUND: RGBColor = RGBColor(255, 255, 255);
pub const INK: RGBColor = RGBColor(34, 34, 34);
pub const MUTED: RGBColor = RGBColor(96, 96, 96);
pub const GRID: RGBColor = RGBColor(228, 228, 228);
pub const AXIS: RGBColor = RGBColor(140, 140, 140);

/// Consumption (single zone, or the day zone) and the same month a year before.
pub const USED: RGBColor = RGBColor(47, 109, 181);
pub const USED_YEAR_BEFORE: RGBColor = RGBColor(172, 199, 232);
/// The night zone, stacked on the day zone.
pub const NIGHT: RGBColor = RGBColor(30, 58, 110);
pub const NIGHT_YEAR_BEFORE: RGBColor = RGBColor(150, 166, 196);
/// Money charged: the line over the consumption bars, the first bar of the collection chart.
pub const CHARGED: RGBColor = RGBColor(217, 115, 13);
pub const RECEIVED: RGBColor = RGBColor(58, 157, 93);
pub const DEBT: RGBColor = RGBColor(192, 57, 43);
/// The reading round: this month strong, the month before faded.
pub const ROUND: RGBColor = RGBColor(47, 109, 181);
pub const ROUND_BEFORE: RGBColor = RGBColor(178, 190, 206);

/// One colour per reading source; a new source does not compile until it has one.
pub fn source(source: ReadingSource) -> RGBColor {
    match source {
        ReadingSource::ConsumerBot => RGBColor(78, 121, 167),
        ReadingSource::ControllerBot => RGBColor(242, 142, 43),
        ReadingSource::ControllerWeb => RGBColor(89, 161, 79),
        ReadingSource::Panel => RGBColor(176, 122, 161),
        ReadingSource::Import => RGBColor(156, 117, 95),
    }
}

/// Lines of a multi-line chart, in order (Tableau 10: told apart on screen and by most
/// colour-blind readers); a chart shows at most this many lines.
pub const LINES: [RGBColor; 10] = [
    RGBColor(78, 121, 167),
    RGBColor(242, 142, 43),
    RGBColor(225, 87, 89),
    RGBColor(118, 183, 178),
    RGBColor(89, 161, 79),
    RGBColor(237, 201, 72),
    RGBColor(176, 122, 161),
    RGBColor(255, 157, 167),
    RGBColor(156, 117, 95),
    RGBColor(186, 176, 172),
];
