//! The font every chart's text is drawn with.
//!
//! DejaVu Sans, shipped in `fonts/` (subset by `fonts/subset.sh`, licence beside it): it covers
//! Cyrillic, ₽, · and ³, its wide letters and large x-height stay legible when a 1000 px picture
//! is shrunk to a phone's width, and it is the font Debian itself installs, so the SVG's
//! `sans-serif` looks alike in the office browsers. Embedding it means no system font lookup
//! (no font-kit, no fontconfig) and the same pixels on every machine.

use std::sync::OnceLock;

use plotters::style::{FontStyle, register_font};

static REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.subset.ttf");
static BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.subset.ttf");

/// The family name the charts ask plotters for; also what the SVG names, for the browser.
pub const FAMILY: &str = "sans-serif";

/// Registers the embedded font the first time; true when text can be drawn.
pub fn embedded() -> bool {
    static LOADED: OnceLock<bool> = OnceLock::new();
    *LOADED.get_or_init(|| register(REGULAR, BOLD))
}

/// Registers a regular and a bold face under [`FAMILY`]. A face that cannot be parsed leaves the
/// charts without text rather than failing them: a picture without labels still shows the shape
/// of the figures, and the log says why.
pub fn register(regular: &'static [u8], bold: &'static [u8]) -> bool {
    if register_font(FAMILY, FontStyle::Normal, regular).is_err() {
        tracing::error!(bytes = regular.len(), "chart font unreadable: charts are drawn without text");
        return false;
    }
    if register_font(FAMILY, FontStyle::Bold, bold).is_err() {
        // plotters falls back to the regular face for a style it does not have.
        tracing::warn!(bytes = bold.len(), "bold chart font unreadable: titles use the regular face");
    }
    true
}
