//! Photo intake shared by the bot and the web panel.
//!
//! Whatever a phone sends — any size, any orientation, any of the common formats — is checked and
//! turned into an upright JPEG of bounded size plus a thumbnail. Pure: bytes in, bytes out; storing
//! the result is the caller's business.

use std::fmt;
use std::io::Cursor;
use std::ops::Range;

use image::metadata::Orientation;
use image::{ColorType, DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits, RgbImage};
use sha2::{Digest, Sha256};

const MIB: usize = 1024 * 1024;

/// Below this on either side the digits of a meter cannot be read, so there is no point storing it.
const MIN_SIDE: u32 = 200;

/// JPEG cannot store a longer side than this.
const JPEG_MAX_SIDE: u32 = 65_535;

/// Limits on what is accepted.
#[derive(Debug, Clone, Copy)]
pub struct IntakeLimits {
    /// Size of the uploaded file.
    pub max_bytes: usize,
    /// Width × height as declared in the header; refused before anything is decoded. Phones save
    /// 12–24 Mp in their usual settings; only their «high resolution» modes go beyond.
    pub max_pixels: u64,
    /// Memory one decode may hold for pixels, estimated from the header before decoding (see
    /// `decode_cost`): a small file can describe a 16-bit RGBA picture several times the size
    /// of a phone photo in memory. The decoders that honour `image::Limits` get the same budget.
    pub max_decode_bytes: u64,
    /// Longest side of the stored photo; larger photos are scaled down, smaller ones kept as they are.
    pub max_side: u32,
    /// Longest side of the thumbnail.
    pub thumb_side: u32,
    /// JPEG quality (1–100) of both outputs.
    pub jpeg_quality: u8,
}

impl Default for IntakeLimits {
    fn default() -> Self {
        Self {
            max_bytes: 15 * MIB,
            max_pixels: 27_000_000,
            // A 27 Mp photo as 8-bit RGB (81 MB) fits. With one job per core (`heavy::run`), 8
            // uploads at once on 2 cores peak at about 210 MB (tests/tests/panel_photo_memory.rs).
            max_decode_bytes: 80 * MIB as u64,
            max_side: 1600,
            thumb_side: 320,
            jpeg_quality: 82,
        }
    }
}

/// An accepted photo, re-encoded: no metadata (GPS included) survives the trip.
#[derive(Clone)]
pub struct ProcessedPhoto {
    /// JPEG, upright, longest side at most `max_side`.
    pub full: Vec<u8>,
    /// JPEG, longest side at most `thumb_side`.
    pub thumb: Vec<u8>,
    /// Width of `full`.
    pub width: u32,
    /// Height of `full`.
    pub height: u32,
    /// Lowercase hex SHA-256 of `full`, for deduplication and integrity checks.
    pub sha256: String,
}

/// Sizes instead of contents: megabytes of JPEG in a log line help nobody.
impl fmt::Debug for ProcessedPhoto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessedPhoto")
            .field("full", &format_args!("{} bytes", self.full.len()))
            .field("thumb", &format_args!("{} bytes", self.thumb.len()))
            .field("width", &self.width)
            .field("height", &self.height)
            .field("sha256", &self.sha256)
            .finish()
    }
}

/// Why a photo was refused. The messages are shown to the sender as they are.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum PhotoError {
    #[error("Файл пустой.")]
    Empty,
    #[error("Фото слишком большое: не больше {max_mb} МБ.")]
    TooLarge { max_mb: usize },
    #[error("Это не фотография. Пришлите снимок в формате JPEG, PNG или WebP.")]
    NotAnImage,
    #[error("Формат {format} не поддерживается. Сохраните фото как JPEG и пришлите ещё раз.")]
    Unsupported { format: &'static str },
    #[error("Снимок слишком большой по размеру ({megapixels} Мп). Уменьшите разрешение камеры.")]
    TooManyPixels { megapixels: u64 },
    /// Fewer pixels than the limit, but wide ones (16-bit channels, alpha) or a costly encoding.
    #[error(
        "Снимок слишком большой для обработки ({megapixels} Мп в таком формате). Сохраните его как обычное \
         фото JPEG или уменьшите разрешение."
    )]
    TooHeavy { megapixels: u64 },
    #[error("Файл повреждён или обрезан. Сделайте снимок ещё раз.")]
    Corrupt,
    #[error("Снимок слишком маленький, цифры на нём не разобрать.")]
    TooSmall,
}

/// Checks an uploaded photo and produces the stored JPEG and its thumbnail.
pub fn process(bytes: &[u8], limits: IntakeLimits) -> Result<ProcessedPhoto, PhotoError> {
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(PhotoError::TooLarge { max_mb: limits.max_bytes / MIB });
    }
    let format = sniff(bytes)?;
    let jpeg = (format == ImageFormat::Jpeg).then(|| jpeg_layout(bytes));
    // The JPEG decoder quietly fills a missing tail with grey; a half-sent photo must be refused instead.
    if jpeg.is_some_and(|jpeg| !jpeg.complete) {
        return Err(PhotoError::Corrupt);
    }
    let (image, orientation) = decode(bytes, format, jpeg, &limits)?;

    // JPEG has no alpha. Fitting into a square does not depend on orientation, and turning the
    // smaller image is cheaper.
    let mut full = DynamicImage::ImageRgb8(shrink(image.into_rgb8(), limits.max_side.min(JPEG_MAX_SIDE)));
    full.apply_orientation(orientation);
    let full = full.into_rgb8();
    let thumb = shrink(full.clone(), limits.thumb_side);

    let full_jpeg = encode_jpeg(&full, limits.jpeg_quality);
    Ok(ProcessedPhoto {
        sha256: hex::encode(Sha256::digest(&full_jpeg)),
        full: full_jpeg,
        thumb: encode_jpeg(&thumb, limits.jpeg_quality),
        width: full.width(),
        height: full.height(),
    })
}

/// Tells the real format from the leading bytes: file names and declared MIME types lie.
fn sniff(bytes: &[u8]) -> Result<ImageFormat, PhotoError> {
    match image::guess_format(bytes) {
        Ok(format @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP | ImageFormat::Gif)) => Ok(format),
        _ => match foreign_image_format(bytes) {
            Some(format) => Err(PhotoError::Unsupported { format }),
            None => Err(PhotoError::NotAnImage),
        },
    }
}

/// Names image formats we cannot decode, so the sender learns what to change rather than that
/// their photo is not a photo. iPhones save HEIC by default.
fn foreign_image_format(bytes: &[u8]) -> Option<&'static str> {
    const SIGNATURES: [(&[u8], &str); 8] = [
        (b"II*\0", "TIFF"),
        (b"MM\0*", "TIFF"),
        (b"BM", "BMP"),
        (b"8BPS", "PSD"),
        (&[0xFF, 0x0A], "JPEG XL"),
        (b"\0\0\0\x0cJXL \r\n\x87\n", "JPEG XL"),
        (b"\0\0\0\x0cjP  \r\n\x87\n", "JPEG 2000"),
        (&[0, 0, 1, 0], "ICO"),
    ];
    iso_bmff_image_format(bytes)
        .or_else(|| SIGNATURES.iter().find(|(magic, _)| bytes.starts_with(magic)).map(|&(_, name)| name))
}

/// HEIC and AVIF are ISO-BMFF files: an `ftyp` box listing brands. The brands, not the major
/// brand alone, decide, because an AVIF may declare `mif1` as its major brand.
fn iso_bmff_image_format(bytes: &[u8]) -> Option<&'static str> {
    if bytes.get(4..8)? != b"ftyp" {
        return None;
    }
    let box_len = usize::try_from(u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?)).ok()?;
    // Major brand, minor version, compatible brands; a minor version never spells a brand.
    let brands = bytes.get(8..box_len.min(bytes.len()))?;
    let has_brand = |names: &[&[u8]]| brands.chunks_exact(4).any(|brand| names.contains(&brand));
    if has_brand(&[b"avif", b"avis"]) {
        Some("AVIF")
    } else if has_brand(&[b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"]) {
        // Bare HEIF is rare; HEIC is the name people see in their phone's settings.
        Some("HEIC")
    } else {
        None
    }
}

/// What a JPEG's marker segments tell before decoding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct JpegLayout {
    /// The end-of-image marker is reached.
    complete: bool,
    /// A progressive frame: the decoder keeps every DCT coefficient of the picture until the last scan.
    progressive: bool,
    /// Colour components in the frame (1 grey, 3 YCbCr, 4 CMYK).
    components: u8,
}

/// Walks the JPEG marker segments.
fn jpeg_layout(bytes: &[u8]) -> JpegLayout {
    const SOS: u8 = 0xDA;
    const EOI: u8 = 0xD9;
    let is_standalone = |marker: u8| matches!(marker, 0x01 | 0xD0..=0xD8);
    // Start of frame: C0–CF except DHT (C4), JPG (C8) and DAC (CC).
    let is_frame = |marker: u8| matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
    let mut layout = JpegLayout::default();
    let mut pos = 2; // past SOI
    loop {
        // Markers may be padded with any number of 0xFF fill bytes.
        while bytes.get(pos..pos + 2).is_some_and(|pair| pair == [0xFF, 0xFF]) {
            pos += 1;
        }
        let (Some(0xFF), Some(&marker)) = (bytes.get(pos), bytes.get(pos + 1)) else {
            return layout;
        };
        pos += 2;
        if marker == EOI {
            return JpegLayout { complete: true, ..layout };
        }
        if is_standalone(marker) {
            continue;
        }
        let Some(&[hi, lo]) = bytes.get(pos..pos + 2) else {
            return layout;
        };
        if is_frame(marker) {
            // Length, precision, height, width, then the number of components.
            layout.progressive = matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE);
            layout.components = bytes.get(pos + 7).copied().unwrap_or(0);
        }
        pos += usize::from(u16::from_be_bytes([hi, lo]));
        if marker == SOS {
            // Entropy-coded data: a 0xFF in it is followed by a stuffed 0x00 or a restart marker.
            while let Some(&byte) = bytes.get(pos) {
                if byte == 0xFF && !matches!(bytes.get(pos + 1), Some(0x00 | 0xD0..=0xD7)) {
                    break;
                }
                pos += 1;
            }
        }
    }
}

/// Decodes the image only after its header has shown a sane size and cost: a tiny file can claim
/// 100000×100000 pixels, or 16-bit RGBA ones, and allocating that must never be attempted.
fn decode(
    bytes: &[u8],
    format: ImageFormat,
    jpeg: Option<JpegLayout>,
    limits: &IntakeLimits,
) -> Result<(DynamicImage, Orientation), PhotoError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut memory = Limits::default();
    memory.max_alloc = Some(limits.max_decode_bytes);
    reader.limits(memory.clone());
    let mut decoder = reader.into_decoder().map_err(|_| PhotoError::Corrupt)?;

    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    let megapixels = pixels.div_ceil(1_000_000);
    if pixels > limits.max_pixels {
        return Err(PhotoError::TooManyPixels { megapixels });
    }
    if width.min(height) < MIN_SIDE {
        return Err(PhotoError::TooSmall);
    }
    let too_heavy = PhotoError::TooHeavy { megapixels };
    if decode_cost(&decoder, format, jpeg) > limits.max_decode_bytes {
        return Err(too_heavy);
    }
    // What the header does not tell (a GIF frame larger than its canvas) is held to the rest of
    // the budget by the decoders that count their allocations.
    memory.reserve(decoder.total_bytes()).map_err(|_| too_heavy.clone())?;
    decoder.set_limits(memory).map_err(|_| too_heavy.clone())?;

    // A mangled EXIF block is no reason to refuse a readable photo.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    if jpeg.is_some_and(|jpeg| jpeg.components == 3) && width.max(height) >= 2 * limits.max_side {
        drop(decoder);
        return Ok((DynamicImage::ImageRgb8(decode_jpeg_scaled(bytes, limits)?), orientation));
    }
    let image = DynamicImage::from_decoder(decoder).map_err(|error| match error {
        ImageError::Limits(_) => too_heavy,
        _ => PhotoError::Corrupt,
    })?;
    Ok((image, orientation))
}

/// Decodes a colour JPEG at the smallest of 1/8, 1/4 or 1/2 of its size whose longer side still
/// covers `max_side` (DCT scaling): the pixels the shrink would average away are never computed.
/// A 12 Mp phone photo is decoded at 2000 × 1500.
fn decode_jpeg_scaled(bytes: &[u8], limits: &IntakeLimits) -> Result<RgbImage, PhotoError> {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.set_max_decoding_buffer_size(usize::try_from(limits.max_decode_bytes).unwrap_or(usize::MAX));
    let side = u16::try_from(limits.max_side).unwrap_or(u16::MAX);
    let (width, height) = decoder.scale(side, side).map_err(|_| PhotoError::Corrupt)?;
    let pixels = decoder.decode().map_err(|_| PhotoError::Corrupt)?;
    if decoder.info().map(|info| info.pixel_format) != Some(jpeg_decoder::PixelFormat::RGB24) {
        return Err(PhotoError::Corrupt);
    }
    RgbImage::from_raw(width.into(), height.into(), pixels).ok_or(PhotoError::Corrupt)
}

/// The most memory decoding will hold for pixels, from the header alone: the decoded image
/// (bytes per pixel × pixels, so 16-bit channels and alpha count), what the decoder keeps
/// besides it, and the 8-bit RGB copy [`process`] makes of anything that is not 8-bit RGB.
fn decode_cost(decoder: &impl ImageDecoder, format: ImageFormat, jpeg: Option<JpegLayout>) -> u64 {
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    let working = match (format, jpeg) {
        // Two bytes per coefficient of every component, over the picture padded to whole blocks.
        (ImageFormat::Jpeg, Some(JpegLayout { progressive: true, components, .. })) => {
            let padded = u64::from(width.next_multiple_of(16)) * u64::from(height.next_multiple_of(16));
            padded * 2 * u64::from(components)
        }
        // An RGBA frame or canvas besides the output (lossless WebP without alpha, animations).
        (ImageFormat::WebP | ImageFormat::Gif, _) => pixels * 4,
        _ => 0,
    };
    let rgb_copy = if decoder.color_type() == ColorType::Rgb8 { 0 } else { pixels * 3 };
    decoder.total_bytes().saturating_add(working).saturating_add(rgb_copy)
}

/// Scales down so that the longest side is at most `max_side`, keeping the aspect; never scales up.
fn shrink(image: RgbImage, max_side: u32) -> RgbImage {
    let longest = image.width().max(image.height());
    if longest <= max_side {
        return image;
    }
    let fit = |side: u32| {
        let scaled = (u64::from(side) * u64::from(max_side) + u64::from(longest / 2)) / u64::from(longest);
        u32::try_from(scaled).unwrap_or(max_side).max(1)
    };
    area_average(&image, fit(image.width()), fit(image.height()))
}

/// Makes each target pixel the average of the block of source pixels it covers. Every source pixel
/// counts exactly once, so thin strokes of digits blur rather than vanish. A single pass over the
/// source: on a 12 MP photo about three times faster than `image`'s `thumbnail`, five than its `resize`.
fn area_average(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    // Source indices covered by each of the `to` target indices; none is empty when shrinking.
    let blocks = |from: u32, to: u32| -> Vec<Range<usize>> {
        let edge = |i: u32| (u64::from(i) * u64::from(from) / u64::from(to)) as usize;
        (0..to).map(|i| edge(i)..edge(i + 1)).collect()
    };
    let columns = blocks(image.width(), width);
    let row_len = image.width() as usize * 3;
    let mut sums = vec![0u64; width as usize * 3];
    let mut averaged = Vec::with_capacity(width as usize * height as usize * 3);
    for rows in blocks(image.height(), height) {
        sums.fill(0);
        for line in image.as_raw()[rows.start * row_len..rows.end * row_len].chunks_exact(row_len) {
            for (sum, block) in sums.chunks_exact_mut(3).zip(&columns) {
                for pixel in line[block.start * 3..block.end * 3].chunks_exact(3) {
                    sum.iter_mut().zip(pixel).for_each(|(sum, &channel)| *sum += u64::from(channel));
                }
            }
        }
        for (sum, block) in sums.chunks_exact(3).zip(&columns) {
            let count = (block.len() * rows.len()) as u64;
            averaged.extend(sum.iter().map(|&sum| ((sum + count / 2) / count) as u8));
        }
    }
    RgbImage::from_raw(width, height, averaged).expect("one pixel was averaged per target position")
}

fn encode_jpeg(image: &RgbImage, quality: u8) -> Vec<u8> {
    let mut jpeg = Vec::new();
    let side = |side: u32| u16::try_from(side).expect("both outputs fit JPEG's side limit (shrunk to it)");
    jpeg_encoder::Encoder::new(&mut jpeg, quality)
        .encode(image.as_raw(), side(image.width()), side(image.height()), jpeg_encoder::ColorType::Rgb)
        .expect("an in-memory RGB image within JPEG's size limit always encodes");
    jpeg
}

#[cfg(test)]
mod tests {

    use image::codecs::jpeg::JpegEncoder;
    use image::{Rgb, Rgba, RgbaImage};

    use super::*;

    /// Deterministic pseudo-random bytes (xorshift), so fixtures need no `rand`.
    fn random_bytes(seed: u64) -> impl Iterator<Item = u8> {
        let mut state = seed | 1;
        std::iter::repeat_with(move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_be_bytes()[0]
        })
    }

    /// A gradient with sensor-like noise: compresses like a photo, not like a flat fill.
    fn noisy_photo(width: u32, height: u32) -> RgbImage {
        let mut noise = random_bytes(u64::from(width) << 32 | u64::from(height));
        RgbImage::from_fn(width, height, |x, y| {
            let base = ((x + y) * 255 / (width + height)) as u8;
            Rgb([0, 1, 2].map(|_| base.saturating_add(noise.next().unwrap_or(0) / 16)))
        })
    }

    fn encoded(image: impl Into<DynamicImage>, format: ImageFormat) -> Vec<u8> {
        let mut bytes = Cursor::new(Vec::new());
        image.into().write_to(&mut bytes, format).unwrap();
        bytes.into_inner()
    }

    fn jpeg(image: &RgbImage) -> Vec<u8> {
        let mut bytes = Vec::new();
        JpegEncoder::new_with_quality(&mut bytes, 90).encode_image(image).unwrap();
        bytes
    }

    fn accept(bytes: &[u8]) -> ProcessedPhoto {
        process(bytes, IntakeLimits::default()).unwrap()
    }

    fn reject(bytes: &[u8]) -> PhotoError {
        process(bytes, IntakeLimits::default()).unwrap_err()
    }

    fn decoded(jpeg: &[u8]) -> RgbImage {
        image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg).unwrap().into_rgb8()
    }

    /// An APP1 segment with a minimal big-endian EXIF block holding only the Orientation tag.
    fn exif_orientation_segment(orientation: u16) -> Vec<u8> {
        let tiff = [
            b"MM\0\x2a".as_slice(),                        // big-endian TIFF header
            &8u32.to_be_bytes(),                           // offset of the first IFD: right after the header
            &1u16.to_be_bytes(),                           // one entry
            &0x0112u16.to_be_bytes(),                      // tag: Orientation
            &3u16.to_be_bytes(),                           // type: SHORT
            &1u32.to_be_bytes(),                           // one value
            &[orientation.to_be_bytes(), [0, 0]].concat(), // the value, left-justified in 4 bytes
            &0u32.to_be_bytes(),                           // no next IFD
        ]
        .concat();
        let payload = [b"Exif\0\0".as_slice(), &tiff].concat();
        let length = u16::try_from(payload.len() + 2).unwrap();
        [[0xFF, 0xE1].as_slice(), &length.to_be_bytes(), &payload].concat()
    }

    /// Splices the EXIF segment in after the JFIF APP0 segment, where cameras put it.
    fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
        assert_eq!(jpeg[2..4], [0xFF, 0xE0], "the encoder starts with a JFIF segment");
        let app0_end = 4 + usize::from(u16::from_be_bytes([jpeg[4], jpeg[5]]));
        [&jpeg[..app0_end], &exif_orientation_segment(orientation), &jpeg[app0_end..]].concat()
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let step = |crc: u32| if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        !bytes.iter().fold(!0, |crc, &byte| (0..8).fold(crc ^ u32::from(byte), |crc, _| step(crc)))
    }

    fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let body = [kind.as_slice(), data].concat();
        [&u32::try_from(data.len()).unwrap().to_be_bytes(), body.as_slice(), &crc32(&body).to_be_bytes()].concat()
    }

    /// A well-formed PNG of a few dozen bytes whose header claims any size.
    fn png_bomb(width: u32, height: u32) -> Vec<u8> {
        // 8-bit RGB, deflate, standard filters, not interlaced.
        let ihdr = [width.to_be_bytes().as_slice(), &height.to_be_bytes(), &[8, 2, 0, 0, 0]].concat();
        [
            b"\x89PNG\r\n\x1a\n".as_slice(),
            &png_chunk(b"IHDR", &ihdr),
            &png_chunk(b"IDAT", &[]),
            &png_chunk(b"IEND", &[]),
        ]
        .concat()
    }

    #[test]
    fn jpeg_is_stored_with_its_hash_and_a_thumbnail() {
        let photo = accept(&jpeg(&noisy_photo(800, 600)));

        assert_eq!((photo.width, photo.height), (800, 600), "never upscaled");
        assert_eq!(decoded(&photo.full).dimensions(), (800, 600));
        assert_eq!(decoded(&photo.thumb).dimensions(), (320, 240));
        assert_eq!(photo.sha256, hex::encode(Sha256::digest(&photo.full)));
    }

    #[test]
    fn small_photo_is_kept_at_its_size() {
        let photo = accept(&jpeg(&noisy_photo(300, 250)));
        assert_eq!((photo.width, photo.height), (300, 250));
        assert_eq!(decoded(&photo.thumb).dimensions(), (300, 250));
    }

    #[test]
    fn large_photo_is_scaled_down_keeping_its_aspect() {
        let photo = accept(&jpeg(&noisy_photo(3000, 2000)));

        assert_eq!(photo.width, 1600);
        assert!(photo.height.abs_diff(1067) <= 1, "height {}", photo.height);
        assert_eq!(decoded(&photo.full).dimensions(), (photo.width, photo.height));
        let thumb = decoded(&photo.thumb);
        assert_eq!(thumb.width(), 320);
        assert!(thumb.height().abs_diff(213) <= 1, "thumb height {}", thumb.height());
    }

    #[test]
    fn shrinking_averages_rather_than_samples() {
        let checkerboard = RgbImage::from_fn(400, 300, |x, y| Rgb([if (x + y) % 2 == 0 { 255 } else { 0 }; 3]));
        let shrunk = shrink(checkerboard, 200);
        assert_eq!(shrunk.dimensions(), (200, 150));
        assert!(shrunk.pixels().all(|pixel| pixel.0 == [128; 3]), "every 2×2 block is half white, half black");
    }

    #[test]
    fn same_input_gives_same_hash() {
        let bytes = jpeg(&noisy_photo(1000, 700));
        assert_eq!(accept(&bytes).sha256, accept(&bytes).sha256);
    }

    #[test]
    fn exif_orientation_is_applied_and_metadata_dropped() {
        // Left half red, right half blue; turning 90° clockwise puts the red half on top.
        let landscape =
            RgbImage::from_fn(400, 300, |x, _| if x < 200 { Rgb([220, 20, 20]) } else { Rgb([20, 20, 220]) });
        let bytes = with_exif_orientation(&jpeg(&landscape), 6);

        let photo = accept(&bytes);

        assert_eq!((photo.width, photo.height), (300, 400));
        let upright = decoded(&photo.full);
        assert!(upright.get_pixel(150, 100)[0] > 150, "top is red");
        assert!(upright.get_pixel(150, 300)[2] > 150, "bottom is blue");
        assert!(!photo.full.windows(4).any(|window| window == b"Exif"), "EXIF (and any GPS in it) is gone");
        assert_eq!(decoded(&photo.thumb).dimensions(), (240, 320));
    }

    #[test]
    fn a_phone_sized_jpeg_is_decoded_at_half_scale_upright_and_at_full_size() {
        // 4000 × 3000 is decoded at 2000 × 1500 (DCT scaling), then shrunk to 1600 × 1200 and
        // turned: left half red, right half blue, so red ends on top.
        let landscape =
            RgbImage::from_fn(4000, 3000, |x, _| if x < 2000 { Rgb([220, 20, 20]) } else { Rgb([20, 20, 220]) });
        let bytes = with_exif_orientation(&jpeg(&landscape), 6);

        let photo = accept(&bytes);

        assert_eq!((photo.width, photo.height), (1200, 1600));
        let upright = decoded(&photo.full);
        assert_eq!(upright.dimensions(), (1200, 1600));
        assert!(upright.get_pixel(600, 400)[0] > 150, "top is red");
        assert!(upright.get_pixel(600, 1200)[2] > 150, "bottom is blue");
        assert_eq!(decoded(&photo.thumb).dimensions(), (240, 320));
    }

    #[test]
    fn png_with_alpha_is_accepted() {
        let translucent = RgbaImage::from_fn(500, 400, |x, y| Rgba([x as u8, y as u8, 90, (x % 256) as u8]));
        let photo = accept(&encoded(translucent, ImageFormat::Png));
        assert_eq!((photo.width, photo.height), (500, 400));
    }

    #[test]
    fn webp_and_first_frame_of_gif_are_accepted() {
        for format in [ImageFormat::WebP, ImageFormat::Gif] {
            let photo = accept(&encoded(noisy_photo(300, 250), format));
            assert_eq!((photo.width, photo.height), (300, 250), "{format:?}");
        }
    }

    #[test]
    fn empty_file_is_refused() {
        assert_eq!(reject(&[]), PhotoError::Empty);
    }

    #[test]
    fn oversized_file_is_refused_before_looking_at_it() {
        let error = reject(&vec![0; 15 * MIB + 1]);
        assert_eq!(error, PhotoError::TooLarge { max_mb: 15 });
        assert_eq!(error.to_string(), "Фото слишком большое: не больше 15 МБ.");
    }

    #[test]
    fn non_images_are_refused() {
        let garbage: Vec<u8> = random_bytes(7).take(4096).collect();
        for bytes in [b"12345 kWh, meter 7".as_slice(), b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", &garbage] {
            assert_eq!(reject(bytes), PhotoError::NotAnImage);
        }
        assert_eq!(
            PhotoError::NotAnImage.to_string(),
            "Это не фотография. Пришлите снимок в формате JPEG, PNG или WebP."
        );
    }

    #[test]
    fn known_foreign_formats_are_named() {
        let iphone_heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".as_slice();
        let avif_declared_as_heif = b"\0\0\0\x1cftypmif1\0\0\0\0mif1avifmiaf".as_slice();
        let bare_heif = b"\0\0\0\x10ftypmif1\0\0\0\0".as_slice();
        let tiff = b"II*\0\x08\0\0\0".as_slice();
        let cases = [(iphone_heic, "HEIC"), (avif_declared_as_heif, "AVIF"), (bare_heif, "HEIC"), (tiff, "TIFF")];
        for (bytes, format) in cases {
            assert_eq!(reject(bytes), PhotoError::Unsupported { format });
        }
        assert_eq!(
            PhotoError::Unsupported { format: "HEIC" }.to_string(),
            "Формат HEIC не поддерживается. Сохраните фото как JPEG и пришлите ещё раз."
        );
        let mp4_video = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2".as_slice();
        assert_eq!(reject(mp4_video), PhotoError::NotAnImage);
    }

    #[test]
    fn decompression_bombs_are_refused_from_the_header() {
        // Refused from the header: decoding either would need gigabytes, more than a test has.
        assert_eq!(reject(&png_bomb(100_000, 100_000)), PhotoError::TooManyPixels { megapixels: 10_000 });

        // A real JPEG whose frame header is edited to claim 60000×60000.
        let mut bomb = jpeg(&noisy_photo(300, 300));
        let sof = bomb.windows(2).position(|marker| marker == [0xFF, 0xC0]).unwrap();
        bomb[sof + 5..sof + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]);
        assert_eq!(reject(&bomb), PhotoError::TooManyPixels { megapixels: 3_600 });

        assert_eq!(
            PhotoError::TooManyPixels { megapixels: 3_600 }.to_string(),
            "Снимок слишком большой по размеру (3600 Мп). Уменьшите разрешение камеры."
        );
    }

    /// Limits whose decode budget is 1 MiB: room for 400×400 8-bit RGB (480 000 bytes), not
    /// for the same picture as 16-bit RGBA.
    fn small_budget() -> IntakeLimits {
        IntakeLimits { max_decode_bytes: MIB as u64, ..IntakeLimits::default() }
    }

    #[test]
    fn wide_pixels_count_against_the_decode_budget() {
        let picture = noisy_photo(400, 400);
        assert!(process(&encoded(picture.clone(), ImageFormat::Png), small_budget()).is_ok());

        // The same picture as 16-bit RGBA: 8 bytes a pixel decoded, 3 more for the RGB copy.
        let wide = DynamicImage::ImageRgb8(picture).into_rgba16();
        let error = process(&encoded(wide, ImageFormat::Png), small_budget()).unwrap_err();
        assert_eq!(error, PhotoError::TooHeavy { megapixels: 1 });
        assert_eq!(
            error.to_string(),
            "Снимок слишком большой для обработки (1 Мп в таком формате). Сохраните его как обычное фото JPEG \
             или уменьшите разрешение."
        );
    }

    #[test]
    fn a_progressive_jpeg_counts_its_coefficients() {
        let baseline = jpeg(&noisy_photo(400, 400));
        assert_eq!(jpeg_layout(&baseline), JpegLayout { complete: true, progressive: false, components: 3 });
        assert!(process(&baseline, small_budget()).is_ok());

        // The same frame header marked progressive: its 3 × 160 000 coefficients of 2 bytes are
        // kept besides the 480 000-byte picture. Refused from the header, before decoding.
        let mut progressive = baseline;
        let sof = progressive.windows(2).position(|marker| marker == [0xFF, 0xC0]).unwrap();
        progressive[sof + 1] = 0xC2;
        assert_eq!(jpeg_layout(&progressive), JpegLayout { complete: true, progressive: true, components: 3 });
        assert_eq!(process(&progressive, small_budget()).unwrap_err(), PhotoError::TooHeavy { megapixels: 1 });
    }

    #[test]
    fn truncated_photos_are_corrupt() {
        let jpeg = jpeg(&noisy_photo(400, 300));
        assert_eq!(reject(&jpeg[..jpeg.len() / 2]), PhotoError::Corrupt);
        let png = encoded(noisy_photo(400, 300), ImageFormat::Png);
        assert_eq!(reject(&png[..png.len() / 2]), PhotoError::Corrupt);
    }

    #[test]
    fn tiny_photos_are_refused() {
        assert_eq!(reject(&encoded(noisy_photo(150, 600), ImageFormat::Png)), PhotoError::TooSmall);
        assert_eq!(reject(&jpeg(&noisy_photo(600, 199))), PhotoError::TooSmall);
    }

    #[test]
    fn broken_input_is_refused_without_panicking() {
        let jpeg = jpeg(&noisy_photo(300, 250));
        let png = encoded(noisy_photo(300, 250), ImageFormat::Png);
        for bytes in [&jpeg, &png] {
            for len in (0..bytes.len()).step_by(97) {
                assert!(process(&bytes[..len], IntakeLimits::default()).is_err(), "prefix of {len} bytes accepted");
            }
        }

        let magics: [&[u8]; 5] =
            [b"", &[0xFF, 0xD8, 0xFF], b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF\x00\x10\x00\x00WEBPVP8 "];
        for (seed, magic) in (1..).zip(magics.iter().cycle().take(200)) {
            let len = 10 + (seed as usize * 37) % 3000;
            let bytes: Vec<u8> = magic.iter().copied().chain(random_bytes(seed)).take(len).collect();
            assert!(process(&bytes, IntakeLimits::default()).is_err(), "garbage #{seed} accepted");
        }

        // Damage inside an intact structure may still decode to something; it only must not panic.
        for (seed, photo) in (1..).zip([&jpeg, &png].iter().cycle().take(100)) {
            let mut damaged = photo.to_vec();
            let at = 20 + (seed as usize * 7919) % (damaged.len() - 40);
            damaged[at..at + 16].copy_from_slice(&random_bytes(seed).take(16).collect::<Vec<_>>());
            let _ = process(&damaged, IntakeLimits::default());
        }
    }
}
