//! How the monthly report scales: the real cooperative (420 plots, a year of history) against
//! 10 000 plots with two years of it, each on its own SQLite file. Generating the demo data is
//! not timed.
//!
//! `cargo bench -p reports` prints, per size, the median of a few runs of the report's two steps
//! one after the other ([`reports::monthly_data`], then [`reports::write_monthly`] on a blocking
//! thread), then the ratio of the large run to the small one and the cost per plot.
//! `monthly_report` overlaps them (the sheets are laid out while the network is read), so its
//! own time is less than their sum: `cargo bench -p bot --bench cold_report` measures that, in a
//! fresh process as users meet it.

use std::hint::black_box;
use std::time::{Duration, Instant};

use service::demo::{self, DemoSpec};
use service::testing::TestContext;

const PUBLIC_URL: &str = "https://panel.example.org";

struct Size {
    plots: u32,
    months: u32,
    runs: usize,
}

/// Median times of one size.
struct Timing {
    data: Duration,
    write: Duration,
    total: Duration,
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    let baseline = Size { plots: 420, months: 12, runs: 9 };
    let large = Size { plots: 10_000, months: 24, runs: 5 };
    let small = runtime.block_on(measure(&baseline));
    let big = runtime.block_on(measure(&large));

    let ratio = big.total.as_secs_f64() / small.total.as_secs_f64();
    let per_plot = |size: &Size, timing: &Timing| timing.total.as_secs_f64() * 1e6 / f64::from(size.plots);
    println!(
        "10 000 plots take {ratio:.1}× the time of 420 plots ({:.1}× the plots); per plot: {:.0} µs vs {:.0} µs",
        f64::from(large.plots) / f64::from(baseline.plots),
        per_plot(&large, &big),
        per_plot(&baseline, &small),
    );
}

async fn measure(size: &Size) -> Timing {
    let t = TestContext::new().await;
    let started = Instant::now();
    let spec = DemoSpec { plots: size.plots, months: size.months, seed: 1 };
    let summary = demo::generate(&t.ctx, spec).await.expect("demo data");
    println!(
        "{} plots × {} months: generated {} contracts, {} readings, {} payments in {:.1?} (not timed)",
        size.plots,
        size.months,
        summary.contracts,
        summary.readings,
        summary.payments,
        started.elapsed()
    );

    // The last complete month: what the scheduler sends to accounting.
    let period = t.ctx.current_period().prev();
    let mut runs = Vec::with_capacity(size.runs);
    let mut bytes = 0;
    for _ in 0..size.runs {
        let started = Instant::now();
        let data = reports::monthly_data(&t.ctx, period, PUBLIC_URL).await.expect("report data");
        let read = started.elapsed();
        let file = tokio::task::spawn_blocking(move || reports::write_monthly(&data)).await.unwrap().unwrap();
        let total = started.elapsed();
        bytes = black_box(file).len();
        runs.push(Timing { data: read, write: total - read, total });
    }
    runs.sort_by_key(|timing| timing.total);
    let best = runs[0].total;
    let median = runs.swap_remove(runs.len() / 2);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{} plots: report in {:.0} ms (data {:.0} ms, workbook {:.0} ms), {} KiB; median of {} (best {:.0} ms)",
        size.plots,
        ms(median.total),
        ms(median.data),
        ms(median.write),
        bytes / 1024,
        size.runs,
        ms(best),
    );
    median
}
