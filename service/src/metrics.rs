//! What `/metrics` shows, in Prometheus' (OpenMetrics) text format: counters the code moves as
//! things happen, and gauges read at each scrape (the newest backup's age, the pool). One registry
//! per process: every part that counts (the panel's requests, the bot's updates, the scheduler's
//! sends, readings and payments stored) records here.

use std::sync::LazyLock;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Metric, Registry};
use sea_orm::DatabaseBackend;

use crate::Context;

/// The content type of [`render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = Vec<(&'static str, String)>;

struct Metrics {
    registry: Registry,
    http_requests: Family<Labels, Counter>,
    bot_updates: Family<Labels, Counter>,
    deliveries: Family<Labels, Counter>,
    recorded: Family<Labels, Counter>,
    write_wait: Histogram,
    pool: Family<Labels, Gauge>,
    backup_age: Gauge<f64, AtomicU64>,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut r = Registry::with_prefix("chernomorsk");
    let http_requests = add(
        &mut r,
        "http_requests",
        "HTTP requests answered, by route pattern (not the raw path), method and status",
        Family::default(),
    );
    let bot_updates =
        add(&mut r, "bot_updates", "Telegram updates handled, by outcome (handled, failed)", Family::default());
    let deliveries = add(
        &mut r,
        "deliveries",
        "Scheduled sends (report, reminders, backup), by kind and outcome (sent, failed)",
        Family::default(),
    );
    let recorded = add(&mut r, "recorded", "Readings and payments stored, by what and source", Family::default());
    let write_wait = add(
        &mut r,
        "db_write_wait_seconds",
        "Time a write waited to start: this process's writer queue (SQLite), a pool connection and BEGIN",
        // 100 µs to about 26 s.
        Histogram::new(exponential_buckets(0.0001, 4.0, 10)),
    );
    let pool =
        add(&mut r, "db_pool_connections", "Database pool connections, by state (idle, busy)", Family::default());
    let backup_age = add(
        &mut r,
        "backup_age_seconds",
        "Age of the newest nightly backup; NaN on PostgreSQL and before the first one",
        Gauge::default(),
    );
    Metrics { registry: r, http_requests, bot_updates, deliveries, recorded, write_wait, pool, backup_age }
});

/// Registers `metric` under `name` and returns it, to be moved as things happen.
fn add<M: Metric + Clone>(registry: &mut Registry, name: &str, help: &str, metric: M) -> M {
    registry.register(name, help, metric.clone());
    metric
}

/// An HTTP request answered: `route` is the pattern it matched (`/plots/:id`), or `unmatched`.
pub fn http_request(route: &str, method: &str, status: u16) {
    let labels = vec![("route", route.to_owned()), ("method", method.to_owned()), ("status", status.to_string())];
    METRICS.http_requests.get_or_create(&labels).inc();
}

/// A Telegram update went through the handlers.
pub fn bot_update(failed: bool) {
    let outcome = if failed { "failed" } else { "handled" };
    METRICS.bot_updates.get_or_create(&vec![("outcome", outcome.to_owned())]).inc();
}

/// A scheduled send of `kind` (`deliveries.kind`) was made or failed.
pub fn delivery(kind: &str, sent: bool) {
    let outcome = if sent { "sent" } else { "failed" };
    METRICS.deliveries.get_or_create(&vec![("kind", kind.to_owned()), ("outcome", outcome.to_owned())]).inc();
}

/// `count` readings or payments (`what`) from `source` were stored.
pub(crate) fn recorded(what: &'static str, source: &str, count: u64) {
    METRICS.recorded.get_or_create(&vec![("what", what.to_owned()), ("source", source.to_owned())]).inc_by(count);
}

/// A write waited `waited` before its transaction began (see [`crate::Db::begin_write`]).
pub(crate) fn write_waited(waited: Duration) {
    METRICS.write_wait.observe(waited.as_secs_f64());
}

/// The whole registry as text, with the gauges read now.
pub fn render(ctx: &Context) -> String {
    let conn = ctx.db.conn();
    let (size, idle) = match ctx.db.backend() {
        DatabaseBackend::Sqlite => {
            let pool = conn.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => {
            let pool = conn.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(size);
    METRICS.pool.get_or_create(&vec![("state", "idle".to_owned())]).set(i64::from(idle));
    METRICS.pool.get_or_create(&vec![("state", "busy".to_owned())]).set(i64::from(size - idle));
    let age = (ctx.db.backend() == DatabaseBackend::Sqlite)
        .then(|| crate::backup::newest_age(&ctx.settings.backup_dir, chrono::Utc::now()))
        .flatten();
    // NaN when there is none: a rule `backup_age_seconds > 26h` does not fire on it, one on
    // absence of a fresh copy should test for it (`backup_age_seconds != backup_age_seconds`).
    METRICS.backup_age.set(age.map_or(f64::NAN, |a| a.num_milliseconds() as f64 / 1000.0));
    let mut text = String::new();
    encode(&mut text, &METRICS.registry).expect("writing to a String does not fail");
    text
}
