//! The threads that read pages and compress blobs during a check: one per core,
//! each taking the next job from a shared queue.
//!
//! Why not tokio's blocking pool: with a permit per core, every page meant a
//! worker parking, the network thread waking to hand over the next page, and
//! the worker being woken again; those futex round trips were about a tenth of
//! a first night's CPU. Here a worker that finishes a page takes the next one
//! queued without anyone being woken, and sleeps only when the queue is empty.
//! The queue is bounded by the fetches in flight, which hold their bodies
//! either way.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of worker threads; dropping it lets them finish what is queued
/// and joins them.
pub struct CpuPool {
    queue: Option<mpsc::Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
}

impl CpuPool {
    /// `threads` workers (at least one).
    pub fn new(threads: usize) -> CpuPool {
        let (queue, jobs) = mpsc::channel::<Job>();
        let jobs = Arc::new(Mutex::new(jobs));
        let workers = (0..threads.max(1))
            .map(|i| {
                let jobs = Arc::clone(&jobs);
                std::thread::Builder::new()
                    .name(format!("citewatch-cpu-{i}"))
                    .spawn(move || {
                        loop {
                            // The lock is held only while waiting for a job.
                            let job = match jobs.lock() {
                                Ok(rx) => rx.recv(),
                                Err(poisoned) => poisoned.into_inner().recv(),
                            };
                            let Ok(job) = job else { break };
                            // A panicking job drops its reply; the worker goes on.
                            let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                        }
                    })
                    // Worded as std words it, so that the panic hook names a
                    // refused thread as the system's limit (see `crate::bug`).
                    .expect("failed to spawn thread")
            })
            .collect();
        CpuPool {
            queue: Some(queue),
            workers,
        }
    }

    /// Runs `f` on a worker and waits for its result; `None` if it panicked.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (reply, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = reply.send(f());
        });
        self.queue.as_ref()?.send(job).ok()?;
        result.await.ok()
    }
}

impl Drop for CpuPool {
    fn drop(&mut self) {
        self.queue.take();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn jobs_run_on_the_workers_and_a_panic_costs_only_its_own_result() {
        let pool = CpuPool::new(2);
        let here = std::thread::current().id();
        let (ran_on, value) = pool
            .run(move || (std::thread::current().id(), 6 * 7))
            .await
            .unwrap();
        assert_ne!(ran_on, here);
        assert_eq!(value, 42);
        let panicked: Option<()> = pool.run(|| panic!("a job fails")).await;
        assert_eq!(panicked, None);
        let many = futures_util::future::join_all((0..100).map(|i| pool.run(move || i * 2))).await;
        assert_eq!(many, (0..100).map(|i| Some(i * 2)).collect::<Vec<_>>());
    }
}
