//! Pictures of the cooperative's figures: plain data in, PNG or SVG bytes out.
//!
//! Each chart is a plain struct ([`ConsumptionHistory`], [`CollectionHistory`], [`DebtHistory`],
//! [`RoundProgress`], [`SourcesHistory`], [`LossesHistory`]) filled by whoever queried the data;
//! [`Renderer`] draws any of them as a PNG (for Telegram) or an SVG (for the panel, no script).
//! Nothing here touches the database or knows about the bot or the panel.
//!
//! Text is drawn with DejaVu Sans, embedded in the binary (see `fonts/`), so Cyrillic renders the
//! same on every machine with no system fonts installed. If the font cannot be read the charts are
//! still drawn, without text, and the log says so once.
//!
//! Rendering costs CPU (a 1000×600 PNG is about 15 ms of rasterising and compressing in a release
//! build, see `benches/render.rs`): callers in async code run it through `service::heavy::run`.

mod canvas;
mod collection;
mod consumption;
mod debt;
mod fonts;
#[cfg(feature = "inspect")]
pub mod inspect;
mod losses;
mod months;
pub mod palette;
mod round;
mod scale;
mod sources;

use plotters::prelude::*;

pub use collection::{CollectionHistory, CollectionMonth};
pub use consumption::{ConsumptionHistory, ConsumptionMonth};
pub use debt::{DebtHistory, DebtMonth};
pub use losses::{LossLine, LossesHistory};
pub use round::{RoundMonth, RoundProgress};
pub use sources::{SourcesHistory, SourcesMonth};

use canvas::Canvas;

/// A picture's size in pixels (SVG: its user units, which the page may scale).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

impl Size {
    /// A photo in a Telegram chat: fills a phone's width and stays readable there.
    pub const PHONE: Size = Size { width: 1000, height: 600 };
    /// A chart on a panel page (scaled by the page to its column).
    pub const PANEL: Size = Size { width: 900, height: 400 };
    /// Smaller than this leaves no room for the labels; larger only costs memory (3 bytes a pixel).
    pub const MIN: u32 = 300;
    pub const MAX: u32 = 4000;

    fn check(self) -> Result<Size, ChartError> {
        let fits = |n: u32| (Size::MIN..=Size::MAX).contains(&n);
        if fits(self.width) && fits(self.height) { Ok(self) } else { Err(ChartError::Size(self)) }
    }
}

/// What the picture is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Svg,
}

/// Why no picture came out. The messages are for the user; the causes go to the log.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("Размер картинки {}×{} вне допустимого: от {min} до {max} точек по каждой стороне.", .0.width, .0.height, min = Size::MIN, max = Size::MAX)]
    Size(Size),
    #[error("Не удалось нарисовать график.")]
    Draw,
}

/// A chart this crate can draw. Implemented by the history structs; sealed.
pub trait Chart: canvas::Draw {}

impl<T: canvas::Draw> Chart for T {}

/// Draws charts. Cheap to make and `Copy`: it only remembers whether text can be drawn.
#[derive(Debug, Clone, Copy)]
pub struct Renderer {
    text: bool,
}

impl Default for Renderer {
    fn default() -> Renderer {
        Renderer::new()
    }
}

impl Renderer {
    /// A renderer with the embedded font (loaded once per process).
    pub fn new() -> Renderer {
        Renderer { text: fonts::embedded() }
    }

    /// False when the font could not be loaded and the charts come out without text.
    pub fn draws_text(self) -> bool {
        self.text
    }

    pub fn render(self, chart: &impl Chart, format: Format, size: Size) -> Result<Vec<u8>, ChartError> {
        match format {
            Format::Png => self.png(chart, size),
            Format::Svg => self.svg(chart, size).map(String::into_bytes),
        }
    }

    pub fn png(self, chart: &impl Chart, size: Size) -> Result<Vec<u8>, ChartError> {
        let size = size.check()?;
        let mut rgb = vec![0u8; size.width as usize * size.height as usize * 3];
        {
            let area = BitMapBackend::with_buffer(&mut rgb, (size.width, size.height)).into_drawing_area();
            self.draw(chart, area, BITMAP_BASELINE)?;
        }
        encode_png(&rgb, size).map_err(|e| {
            tracing::error!(error = %e, "chart: PNG encoding failed");
            ChartError::Draw
        })
    }

    pub fn svg(self, chart: &impl Chart, size: Size) -> Result<String, ChartError> {
        let size = size.check()?;
        let mut svg = String::new();
        {
            let area = SVGBackend::with_string(&mut svg, (size.width, size.height)).into_drawing_area();
            self.draw(chart, area, SVG_BASELINE)?;
        }
        Ok(svg)
    }

    fn draw<DB: DrawingBackend>(
        self,
        chart: &impl Chart,
        area: DrawingArea<DB, plotters::coord::Shift>,
        baseline: f64,
    ) -> Result<(), ChartError> {
        let canvas = Canvas::new(area, self.text, baseline);
        canvas.fill().and_then(|()| chart.draw(&canvas)).and_then(|()| canvas.present()).map_err(|e| {
            tracing::error!(error = %e, "chart: drawing failed");
            ChartError::Draw
        })
    }
}

/// Where the baseline falls below a text's top, in font sizes: plotters' ab_glyph drawing puts it
/// half a size down; its SVG writes `dy="0.76em"` with the size divided by 1.24.
const BITMAP_BASELINE: f64 = 0.5;
const SVG_BASELINE: f64 = 0.76 / 1.24;

fn encode_png(rgb: &[u8], size: Size) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, size.width, size.height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // Flat colours compress well; the balanced level is within a few per cent of the best here.
    encoder.set_compression(png::Compression::Balanced);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use domain::{Kopecks, Period};

    use super::*;

    /// The log, as the program's subscriber would write it.
    #[derive(Clone, Default)]
    struct Log(Arc<Mutex<Vec<u8>>>);

    impl Write for Log {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn an_unreadable_font_draws_the_chart_without_text_and_says_so() {
        let log = Log::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).finish();
        let loaded = tracing::subscriber::with_default(subscriber, || fonts::register(b"not a font", b"nor this"));
        assert!(!loaded);
        let logged = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
        assert!(logged.contains("ERROR") && logged.contains("charts are drawn without text"), "{logged}");

        let chart = CollectionHistory {
            title: "Начислено и оплачено".into(),
            months: (1..=12)
                .map(|m| CollectionMonth {
                    period: Period::new(2026, m).unwrap(),
                    charged: Kopecks::parse_rubles("200000").unwrap(),
                    received: Kopecks::parse_rubles("150000").unwrap(),
                })
                .collect(),
        };
        let blind = Renderer { text: loaded };
        let png = blind.png(&chart, Size::PANEL).unwrap();
        let image = image::load_from_memory_with_format(&png, image::ImageFormat::Png).unwrap().to_rgb8();
        assert_eq!(image.dimensions(), (Size::PANEL.width, Size::PANEL.height));
        // Bars, gridlines, axis: a few flat colours, none of the shades anti-aliased text makes.
        let colours: HashSet<[u8; 3]> = image.pixels().map(|p| p.0).collect();
        assert!((4..10).contains(&colours.len()), "{} colours", colours.len());
        let svg = blind.svg(&chart, Size::PANEL).unwrap();
        assert!(!svg.contains("<text"));
        let charged = palette::CHARGED;
        let bar = format!(r##"fill="#{:02X}{:02X}{:02X}" stroke="none""##, charged.0, charged.1, charged.2);
        assert_eq!(svg.matches(&bar).count(), 12, "a bar a month, no legend swatch");

        // The bad font replaced nothing: the embedded one still draws for everyone else.
        assert!(Renderer::new().draws_text());
        assert!(Renderer::new().svg(&chart, Size::PANEL).unwrap().contains("<text"));
    }
}
