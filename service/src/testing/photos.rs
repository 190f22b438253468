//! Photos as a phone or Telegram sends them, for every test that attaches one.

use std::io::Cursor;

use image::{ImageFormat, Rgb, RgbImage};

/// A photo-like picture: a gradient with texture, so it is neither tiny nor trivially compressible.
fn picture(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| Rgb([(x % 251) as u8, (y % 241) as u8, ((x * y) % 239) as u8]))
}

fn encoded(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    picture(width, height).write_to(&mut bytes, format).expect("encode a test photo");
    bytes.into_inner()
}

/// A JPEG, as a phone's camera takes it.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    encoded(width, height, ImageFormat::Jpeg)
}

/// A PNG, as a phone's gallery may hold it.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    encoded(width, height, ImageFormat::Png)
}
