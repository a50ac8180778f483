//! Politeness: per-host request rate (governor), per-host and global caps on
//! requests in flight, and `Retry-After` deadlines and robots.txt
//! `Crawl-delay` gaps per host.
//!
//! Order matters. A request first takes its host's slot (so a slow host queues
//! only its own requests), then waits out the host's `Retry-After` deadline, then
//! takes a global slot and asks the host's limiter. When the limiter says "not
//! yet", the global slot is given back while waiting, so a throttled host never
//! holds capacity other hosts could use, and the limiter's grant is followed
//! at once by the request (never queued behind the global cap, which could
//! bunch requests to one host together).
//!
//! governor runs on its monotonic clock (std's `Instant`), not its default
//! TSC clock: quanta calibrates that clock once per process, spinning on the
//! system clock for up to 200 ms until the estimate settles, which on a busy
//! virtual machine added tens of milliseconds to some runs' start.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::config::HostPolicy;

struct HostState {
    limiter: Option<DefaultDirectRateLimiter>,
    slots: Arc<Semaphore>,
    /// No request before this; and the status whose Retry-After asked for
    /// it, so that a page refused meanwhile is told why in the host's words.
    not_before: Mutex<Option<(Instant, Option<u16>)>>,
    /// The least time between two requests' starts the host asked for in
    /// robots.txt (`Crawl-delay`), beyond what its rate allows.
    gap: Mutex<Option<Duration>>,
    /// When the latest request to the host was let go: a gap learnt after
    /// it (from the robots.txt that request fetched) runs from it.
    last_start: Mutex<Option<Instant>>,
}

/// Shared pacing state for one run.
pub struct Pacer {
    hosts: Mutex<HashMap<String, Arc<HostState>>>,
    global: Arc<Semaphore>,
    clock: DefaultClock,
}

/// Held while a request (and its body) is in flight.
pub struct Permit {
    _host: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

/// The host asked us to wait longer than we are willing to.
#[derive(Debug, Clone, Copy)]
pub struct WaitTooLong {
    /// How long the host still wants us to wait.
    pub remaining: Duration,
    /// The HTTP status that asked for the wait (429 or 503).
    pub status: Option<u16>,
}

fn quota(rps: f64, burst: u32) -> Option<Quota> {
    if rps <= 0.0 {
        return None;
    }
    let period = Duration::from_secs_f64(1.0 / rps);
    Quota::with_period(period)
        .map(|q| q.allow_burst(NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN)))
}

impl Pacer {
    /// A pacer allowing `concurrency` requests in flight overall.
    pub fn new(concurrency: usize) -> Pacer {
        Pacer {
            hosts: Mutex::new(HashMap::new()),
            global: Arc::new(Semaphore::new(concurrency.max(1))),
            clock: DefaultClock::default(),
        }
    }

    fn host(&self, host: &str, policy: &HostPolicy) -> Arc<HostState> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        hosts
            .entry(host.to_string())
            .or_insert_with(|| {
                Arc::new(HostState {
                    limiter: quota(policy.requests_per_second, policy.burst)
                        .map(RateLimiter::direct),
                    slots: Arc::new(Semaphore::new(policy.per_host_concurrency.max(1))),
                    not_before: Mutex::new(None),
                    gap: Mutex::new(None),
                    last_start: Mutex::new(None),
                })
            })
            .clone()
    }

    /// Waits until a request to `host` may be sent. Fails without waiting when the
    /// host's `Retry-After` deadline lies further than `policy.max_retry_after`.
    pub async fn acquire(&self, host: &str, policy: &HostPolicy) -> Result<Permit, WaitTooLong> {
        let state = self.host(host, policy);
        let host_permit = state
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("pacer semaphores are never closed");
        loop {
            let deadline = {
                let not_before = state.not_before.lock().unwrap_or_else(|e| e.into_inner());
                not_before.filter(|(deadline, _)| *deadline > Instant::now())
            };
            if let Some((deadline, status)) = deadline {
                let remaining = deadline - Instant::now().min(deadline);
                if remaining > policy.max_retry_after.std() {
                    return Err(WaitTooLong { remaining, status });
                }
                tokio::time::sleep_until(deadline).await;
                continue;
            }
            let global = self
                .global
                .clone()
                .acquire_owned()
                .await
                .expect("pacer semaphores are never closed");
            if let Some(limiter) = &state.limiter
                && let Err(not_until) = limiter.check()
            {
                drop(global);
                let wait = not_until.wait_time_from(self.clock.now());
                tokio::time::sleep(wait).await;
                continue;
            }
            // The global slot may have been long in coming, and meanwhile
            // the host asked for a wait (a Retry-After to another of its
            // requests) or another request started (a Crawl-delay's gap
            // runs from it): both are looked at again as the request goes.
            // The gap is taken here, under the lock, so that two requests
            // cannot both start at the end of one wait.
            let mut not_before = state.not_before.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            if not_before.is_some_and(|(deadline, _)| deadline > now) {
                continue;
            }
            if let Some(gap) = *state.gap.lock().unwrap_or_else(|e| e.into_inner()) {
                *not_before = Some((now + gap, None));
            }
            *state.last_start.lock().unwrap_or_else(|e| e.into_inner()) = Some(now);
            return Ok(Permit {
                _host: host_permit,
                _global: global,
            });
        }
    }

    /// Records that `host` asked for `gap` between requests (robots.txt's
    /// `Crawl-delay`). The first answer stands for the run.
    pub fn space(&self, host: &str, policy: &HostPolicy, gap: Duration) {
        let state = self.host(host, policy);
        let mut current = state.gap.lock().unwrap_or_else(|e| e.into_inner());
        if current.is_some() {
            return;
        }
        // Within what a Retry-After may ask, or `acquire` would refuse the
        // host's every request as a wait too long.
        let gap = *current.insert(gap.min(policy.max_retry_after.std()));
        drop(current);
        // The request that fetched robots.txt went before the gap was
        // known: the next waits the gap from it, not only the rate's.
        let last = *state.last_start.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(last) = last {
            self.defer(host, policy, last + gap, None);
        }
    }

    /// Records that `host` asked for no requests before `until`, by a
    /// Retry-After on an answer of `status` (or a backoff: `None`). A later
    /// deadline wins; an earlier one never shortens a standing one.
    pub fn defer(&self, host: &str, policy: &HostPolicy, until: Instant, status: Option<u16>) {
        let state = self.host(host, policy);
        let mut nb = state.not_before.lock().unwrap_or_else(|e| e.into_inner());
        if nb.is_none_or(|(current, _)| current < until) {
            *nb = Some((until, status));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(rps: f64) -> HostPolicy {
        crate::config::FetchConfig {
            requests_per_second: rps,
            ..Default::default()
        }
        .policy("x")
    }

    /// The gap a robots.txt asks for is learnt after the request that
    /// fetched it started: the next request kept only the rate's spacing.
    #[tokio::test(start_paused = true)]
    async fn a_gap_learnt_after_a_request_spaces_the_next_from_it() {
        let pacer = Pacer::new(8);
        let p = policy(0.0);
        let t0 = Instant::now();
        drop(pacer.acquire("a", &p).await.unwrap());
        pacer.space("a", &p, Duration::from_secs(10));
        drop(pacer.acquire("a", &p).await.unwrap());
        assert!(Instant::now() >= t0 + Duration::from_secs(10));
        // Another host asked for nothing.
        let t1 = Instant::now();
        drop(pacer.acquire("b", &p).await.unwrap());
        drop(pacer.acquire("b", &p).await.unwrap());
        assert_eq!(Instant::now(), t1);
    }

    // Real time: governor keeps its own clock, which tokio's paused time cannot move.
    #[tokio::test]
    async fn requests_to_one_host_are_spaced_and_others_are_not() {
        let pacer = Pacer::new(8);
        let p = policy(2.0);
        let t0 = Instant::now();
        drop(pacer.acquire("a", &p).await.unwrap());
        drop(pacer.acquire("a", &p).await.unwrap());
        let a2 = t0.elapsed();
        drop(pacer.acquire("b", &p).await.unwrap());
        let b1 = t0.elapsed();
        assert!(a2 >= Duration::from_millis(490), "{a2:?}");
        // Had b waited for a's turn it would take another 500 ms; the bound is
        // half that, so a busy test machine's scheduling delay cannot fail it.
        assert!(
            b1 - a2 < Duration::from_millis(250),
            "host b waited for a: {b1:?}"
        );
    }

    /// The only global slot, held by a request to another host, so that
    /// requests to "a" queue for it.
    async fn one_slot_taken(pacer: &Pacer, p: &HostPolicy) -> Permit {
        pacer.acquire("other", p).await.unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_given_while_a_request_waits_for_a_slot_holds_it_too() {
        let pacer = Pacer::new(1);
        let p = policy(0.0);
        let other = one_slot_taken(&pacer, &p).await;
        let mut queued = Box::pin(pacer.acquire("a", &p));
        assert!(futures_util::poll!(queued.as_mut()).is_pending());
        // Meanwhile the host's answer to another request asks for a wait.
        let t0 = Instant::now();
        pacer.defer("a", &p, t0 + Duration::from_secs(5), Some(429));
        drop(other);
        let _permit = queued.await.unwrap();
        assert!(
            Instant::now() >= t0 + Duration::from_secs(5),
            "sent {:?} into a 5 s Retry-After",
            Instant::now() - t0
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_crawl_delay_spaces_requests_that_waited_for_a_slot_together() {
        let pacer = Pacer::new(1);
        let p = policy(0.0);
        assert!(p.per_host_concurrency >= 2);
        pacer.space("a", &p, Duration::from_secs(2));
        let other = one_slot_taken(&pacer, &p).await;
        let mut first = Box::pin(pacer.acquire("a", &p));
        let mut second = Box::pin(pacer.acquire("a", &p));
        assert!(futures_util::poll!(first.as_mut()).is_pending());
        assert!(futures_util::poll!(second.as_mut()).is_pending());
        // Both wait for the slot past the host's gap.
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert!(futures_util::poll!(second.as_mut()).is_pending());
        drop(other);
        drop(first.await.unwrap());
        let t1 = Instant::now();
        let _permit = second.await.unwrap();
        assert!(
            Instant::now() >= t1 + Duration::from_secs(2),
            "two requests {:?} apart under a 2 s Crawl-delay",
            Instant::now() - t1
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_holds_the_host_and_a_long_one_is_refused() {
        let pacer = Pacer::new(8);
        let p = policy(0.0);
        let t0 = Instant::now();
        pacer.defer("a", &p, t0 + Duration::from_secs(2), None);
        pacer.defer("a", &p, t0 + Duration::from_secs(1), None); // does not shorten it
        drop(pacer.acquire("a", &p).await.unwrap());
        assert!(t0.elapsed() >= Duration::from_secs(2));
        pacer.defer(
            "a",
            &p,
            Instant::now() + Duration::from_secs(3600),
            Some(503),
        );
        let refused = pacer.acquire("a", &p).await.err().unwrap();
        assert_eq!(refused.status, Some(503), "the host's own words");
        assert!(
            pacer.acquire("b", &p).await.is_ok(),
            "other hosts unaffected"
        );
    }
}
