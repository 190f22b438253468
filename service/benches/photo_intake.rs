//! How long the photo intake takes for a 12 Mp phone photo (check, decode, resize, re-encode, and
//! the thumbnail), against a plain decode of the same JPEG in the same run (issue 20.3: at most
//! ×1.25). A figure for the README, not a test: nothing here asserts a time. Run with
//! `cargo bench -p service --bench photo_intake`.

use std::time::{Duration, Instant};

use service::meters::photos::intake::{IntakeLimits, process};
use service::testing::photos::jpeg;

/// Best of ten runs, so that a busy machine does not decide the figure.
fn fastest(f: impl Fn()) -> Duration {
    (0..10)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed()
        })
        .min()
        .expect("ten runs")
}

fn main() {
    let bytes = jpeg(4000, 3000);
    let decode = fastest(|| {
        std::hint::black_box(image::load_from_memory(&bytes).expect("a JPEG"));
    });
    let intake = fastest(|| {
        std::hint::black_box(process(&bytes, IntakeLimits::default()).expect("a phone photo is accepted"));
    });
    let ratio = intake.as_secs_f64() / decode.as_secs_f64();
    println!(
        "photo intake: {} KiB 4000×3000 JPEG processed in {intake:.0?}; plain decode (image::load_from_memory): \
         {decode:.0?} → ×{ratio:.2} (best of 10 each); goal ≤ ×1.25 → {}",
        bytes.len() / 1024,
        if ratio <= 1.25 { "met" } else { "not met" }
    );
}
