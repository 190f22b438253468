//! Work that costs real CPU or memory — password hashing, image decoding, spreadsheet parsing —
//! runs through [`run`]: off the async threads, so the panel, the bot and `/healthz` keep
//! answering, and at most one job per core at a time, so a flood of logins or uploads waits in
//! line instead of multiplying memory.

use std::sync::LazyLock;

use tokio::sync::Semaphore;

use crate::Internal;

/// One permit per core: the jobs are CPU-bound, so more at once would only add memory.
static PERMITS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));

/// Runs `job` on a blocking thread once a permit is free, and returns what it returned.
pub async fn run<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> Result<T, Internal> {
    let _permit = PERMITS.acquire().await.map_err(|e| Internal(e.into()))?;
    tokio::task::spawn_blocking(job).await.map_err(|e| Internal(e.into()))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn never_runs_more_jobs_than_permits() {
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..16)
            .map(|_| {
                let (running, most) = (running.clone(), most.clone());
                tokio::spawn(run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    running.fetch_sub(1, Ordering::SeqCst);
                }))
            })
            .collect();
        for job in jobs {
            job.await.unwrap().unwrap();
        }
        let limit = std::thread::available_parallelism().map_or(2, |n| n.get());
        let most = most.load(Ordering::SeqCst);
        assert!((1..=limit).contains(&most), "{most} jobs at once, limit {limit}");
    }
}
