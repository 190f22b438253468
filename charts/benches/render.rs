//! What a chart costs: `cargo bench -p charts --bench render` prints the median time of each
//! picture beside a baseline from the same run — the «Нет данных» picture of the same size, which
//! is little more than filling and compressing the canvas — so the ratio carries over to other
//! machines.

use std::hint::black_box;
use std::time::{Duration, Instant};

use charts::{ConsumptionHistory, Renderer, Size};
use domain::Service;

#[path = "../tests/common/mod.rs"]
mod common;

const RUNS: usize = 31;

fn median(mut job: impl FnMut() -> usize) -> (Duration, usize) {
    let mut times = Vec::with_capacity(RUNS);
    let mut bytes = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        bytes = black_box(job());
        times.push(start.elapsed());
    }
    times.sort();
    (times[RUNS / 2], bytes)
}

fn main() {
    let renderer = Renderer::new();
    let chart = common::electricity("2026-11", 36, true, 24);
    let empty =
        ConsumptionHistory {
            contract: "Участок 57".into(), service: Service::Electricity, shown: 12, months: vec![]
        };
    let (baseline, _) = median(|| renderer.png(&empty, Size::PHONE).unwrap().len());
    println!("baseline: «Нет данных» PNG 1000×600: {:.2} ms", baseline.as_secs_f64() * 1e3);
    for (name, (time, bytes)) in [
        ("consumption, 24 day/night months, PNG 1000×600", median(|| renderer.png(&chart, Size::PHONE).unwrap().len())),
        ("consumption, 24 day/night months, SVG 900×400", median(|| renderer.svg(&chart, Size::PANEL).unwrap().len())),
        (
            "collection, 24 months, PNG 900×400",
            median(|| renderer.png(&common::collection("2026-11", 24), Size::PANEL).unwrap().len()),
        ),
    ] {
        println!(
            "{name}: {:.2} ms (×{:.2} the baseline), {} KiB",
            time.as_secs_f64() * 1e3,
            time.as_secs_f64() / baseline.as_secs_f64(),
            bytes / 1024
        );
    }
}
