//! Work that costs real CPU or memory — password hashing, image decoding, spreadsheet parsing,
//! writing workbooks — runs through [`run`]: off the async threads, so the panel, the bot and
//! `/healthz` keep answering, and at most one job per core at a time, so a flood of logins or
//! uploads waits in line instead of multiplying memory.
//!
//! The jobs run on a fixed set of worker threads, one per core, rather than on tokio's blocking
//! pool: the allocator keeps memory per thread (glibc's arenas) and does not give it back, so a
//! burst spread over dozens of short-lived blocking threads left hundreds of megabytes resident
//! for good, where the same burst on a few long-lived threads reuses the same memory.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, LazyLock, Mutex};

use tokio::sync::{Semaphore, oneshot};

use crate::Internal;

type Job = Box<dyn FnOnce() + Send>;

/// One worker per core: the jobs are CPU-bound, so more at once would only add memory.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Futures wait here, in order, before their job is handed to a worker; a request given up
/// while waiting (the browser closed) never costs a worker anything. A job handed over keeps its
/// permit until it is done, even when its caller gives up meanwhile: otherwise a client closing
/// each upload right after it was handed over would queue job after job, each holding its file.
static PERMITS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(cores())));

static WORKERS: LazyLock<Mutex<Sender<Job>>> = LazyLock::new(|| {
    let (jobs, queue) = channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    for n in 0..cores() {
        let queue = queue.clone();
        // Without any worker the queue's last receiver is gone and `run` answers with an error.
        if let Err(e) = std::thread::Builder::new().name(format!("heavy-{n}")).spawn(move || work(&queue)) {
            tracing::error!("cannot start a heavy-work thread: {e}");
        }
    }
    Mutex::new(jobs)
});

fn work(queue: &Mutex<Receiver<Job>>) {
    loop {
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        let Ok(job) = job else { return };
        // A job that panics loses its answer (the caller gets an error), not the worker.
        let _ = catch_unwind(AssertUnwindSafe(job));
    }
}

/// Runs `job` on a worker once one is free, and returns what it returned.
pub async fn run<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> Result<T, Internal> {
    let permit = PERMITS.clone().acquire_owned().await.map_err(|e| Internal(e.into()))?;
    let (answer, answered) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = answer.send(job());
        drop(permit);
    });
    let sent = match WORKERS.lock() {
        Ok(workers) => workers.send(job),
        Err(poisoned) => poisoned.into_inner().send(job),
    };
    sent.map_err(|_| Internal(anyhow::anyhow!("the heavy-work threads have stopped")))?;
    answered.await.map_err(|_| Internal(anyhow::anyhow!("a heavy job panicked")))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn never_runs_more_jobs_than_cores_and_always_on_the_same_threads() {
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..32)
            .map(|_| {
                let (running, most) = (running.clone(), most.clone());
                tokio::spawn(run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(2));
                    running.fetch_sub(1, Ordering::SeqCst);
                    std::thread::current().name().unwrap_or_default().to_owned()
                }))
            })
            .collect();
        let mut threads = HashSet::new();
        for job in jobs {
            threads.insert(job.await.unwrap().unwrap());
        }
        let most = most.load(Ordering::SeqCst);
        assert!((1..=cores()).contains(&most), "{most} jobs at once, {} cores", cores());
        assert!(threads.len() <= cores() && threads.iter().all(|t| t.starts_with("heavy-")), "{threads:?}");
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_and_the_workers_carry_on() {
        let failed = run(|| -> u8 { panic!("a broken decoder") }).await;
        assert!(failed.is_err());
        for _ in 0..cores() * 2 {
            assert_eq!(run(|| 2 + 2).await.unwrap(), 4);
        }
    }
}
