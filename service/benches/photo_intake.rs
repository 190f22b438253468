//! How long the photo intake takes for a 12 Mp phone photo (check, decode, resize, re-encode, and
//! the thumbnail). A figure for the README, not a test: nothing here asserts a time. Run with
//! `cargo bench -p service --bench photo_intake`.

use std::time::Instant;

use service::meters::photos::intake::{IntakeLimits, process};
use service::testing::photos::jpeg;

fn main() {
    let bytes = jpeg(4000, 3000);
    // Best of a few runs, so that a busy machine does not decide the figure.
    let fastest = (0..10)
        .map(|_| {
            let started = Instant::now();
            let processed = process(&bytes, IntakeLimits::default()).expect("a phone photo is accepted");
            std::hint::black_box(processed);
            started.elapsed()
        })
        .min()
        .expect("ten runs");
    println!("photo intake: {} KiB 4000×3000 JPEG processed in {fastest:?} (best of 10)", bytes.len() / 1024);
}
