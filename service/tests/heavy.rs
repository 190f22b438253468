//! The heavy-work pool in a process of its own (its workers and permits are global): a caller
//! that gives up after its job was handed over does not free a core for another job, so closing
//! uploads one after another cannot queue job after job, each holding its file.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Counts the inputs still held somewhere: in a waiting future, or in a job queued for a worker.
struct Input(Arc<AtomicUsize>);

impl Drop for Input {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_keeps_its_core_after_its_caller_gave_up() {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    // Every worker busy with a job whose caller then gives up (the browser closed).
    let (release, released) = std::sync::mpsc::channel::<()>();
    let released = Arc::new(std::sync::Mutex::new(released));
    let (started, mut starts) = tokio::sync::mpsc::unbounded_channel();
    let busy: Vec<_> = (0..cores)
        .map(|_| {
            let (released, started) = (released.clone(), started.clone());
            tokio::spawn(service::heavy::run(move || {
                started.send(()).unwrap();
                let _ = released.lock().unwrap().recv();
            }))
        })
        .collect();
    for _ in 0..cores {
        starts.recv().await.unwrap();
    }
    busy.iter().for_each(|caller| caller.abort());

    // Then twenty uploads, each given up a moment later.
    let held = Arc::new(AtomicUsize::new(0));
    let uploads: Vec<_> = (0..20)
        .map(|_| {
            held.fetch_add(1, Ordering::SeqCst);
            let input = Input(held.clone());
            tokio::spawn(service::heavy::run(move || drop(input)))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    uploads.iter().for_each(|caller| caller.abort());
    // Aborted tasks drop their futures soon, not at once: wait for it, a few seconds at most.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while held.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(held.load(Ordering::SeqCst), 0, "inputs queued behind the busy workers");

    for _ in 0..cores {
        release.send(()).unwrap();
    }
    let answer = tokio::time::timeout(Duration::from_secs(10), service::heavy::run(|| 42)).await;
    assert_eq!(answer.expect("the workers are free again").unwrap(), 42);
}
