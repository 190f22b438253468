//! Reading the pictures back, for tests here and in other crates: decode a PNG, count the bars
//! of a colour in a PNG or an SVG.

use image::{Rgb, RgbImage};

use crate::Size;
use crate::palette::RGBColor;

/// Decodes a PNG as any program would, and checks it is the size asked for.
pub fn decode(png: &[u8], size: Size) -> RgbImage {
    let image = image::load_from_memory_with_format(png, image::ImageFormat::Png).expect("a valid PNG").to_rgb8();
    assert_eq!(image.dimensions(), (size.width, size.height));
    image
}

pub fn rgb(c: RGBColor) -> Rgb<u8> {
    Rgb([c.0, c.1, c.2])
}

/// Bars of exactly `colour`: runs along the row just above the lowest row where the colour
/// occurs (every bar stands on the zero line, so that row crosses them all).
pub fn bar_runs(image: &RgbImage, colour: RGBColor) -> usize {
    let colour = rgb(colour);
    let Some(lowest) =
        (0..image.height()).rev().find(|y| (0..image.width()).any(|x| *image.get_pixel(x, *y) == colour))
    else {
        return 0;
    };
    let row = lowest.saturating_sub(2);
    let mut runs = 0;
    let mut inside = false;
    for x in 0..image.width() {
        let hit = *image.get_pixel(x, row) == colour;
        runs += usize::from(hit && !inside);
        inside = hit;
    }
    runs
}

/// `<rect>` elements filled with `colour` in an SVG this crate wrote (bars, and a legend's swatch).
pub fn svg_rects(svg: &str, colour: RGBColor) -> usize {
    let fill = format!(r##"fill="#{:02X}{:02X}{:02X}""##, colour.0, colour.1, colour.2);
    svg.split("<rect").skip(1).filter(|rest| rest.split('>').next().is_some_and(|attrs| attrs.contains(&fill))).count()
}
