//! Which sources a run takes, in which order, and when each is due next.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use super::verdict::Status;
use crate::config::CheckConfig;
use crate::time::Millis;

/// A timer's randomised delay must not push a source to the night after: a
/// source is due when its next check falls before the run's start plus this.
pub const DUE_SLACK_MS: Millis = 3_600_000;

/// Reorders due sources so hosts take turns: one host with 30,000 citations at
/// 1 request/s must not keep the others waiting. Within a host the store's
/// priority order (never checked, failing, longest unchecked) is kept. Each
/// item is a source's id and its host's number, as [`Store::due_order`] gives
/// them. An order alone only delays the wait: the big host's sources still
/// come one a round, and waiting for their turns they filled the run's window
/// of jobs in flight; [`HostShares`] keeps each host to its share of it.
///
/// [`Store::due_order`]: crate::store::Store::due_order
pub fn interleave_by_host(sources: Vec<(i64, u32)>) -> Vec<(i64, u32)> {
    // Host after host, round after round: a source's place is its turn (how
    // many of its host come before it), then its host's first appearance.
    let mut hosts: HashMap<u32, (u32, u32)> = HashMap::new();
    let mut placed: Vec<((u32, u32), (i64, u32))> = sources
        .into_iter()
        .map(|s| {
            let next = hosts.len() as u32;
            let (host, taken) = hosts.entry(s.1).or_insert((next, 0));
            *taken += 1;
            ((*taken, *host), s)
        })
        .collect();
    drop(hosts);
    // Each (turn, host) pair is unique.
    placed.sort_unstable_by_key(|(place, _)| *place);
    placed.into_iter().map(|(_, s)| s).collect()
}

/// How many jobs of one host may be out at once (handed to the network
/// thread and not yet fetched), when the run keeps `window` jobs in flight.
/// A host that is slow to answer, paced, or deferred by a Retry-After keeps
/// its jobs waiting in the window; more than its share, and no job of
/// another host could start (a fast host sat idle for 40 s of a 56 s run
/// behind one answering in 8 s). Twice the host's own concurrency keeps a
/// job ready for each one fetching; half the window leaves the other half
/// to the other hosts even when one host may fetch as many as all of them.
pub fn host_share(per_host_concurrency: usize, window: usize) -> usize {
    (2 * per_host_concurrency).min(window / 2).max(1)
}

/// Hands out due sources in their order, but none of a host that has its
/// share out: those are set aside (ids only, so memory stays as flat as the
/// order itself) and handed out, in their order, as the host's jobs give
/// their turns back. Used by the preparer thread; the turns come back from
/// the network thread.
pub struct HostShares {
    order: std::vec::IntoIter<(i64, u32)>,
    aside: HashMap<u32, VecDeque<i64>>,
    /// Hosts with sources set aside, in the order they were first set aside,
    /// so the host that waited first is served first.
    aside_hosts: Vec<u32>,
    shares: HashMap<u32, usize>,
    out: Arc<Out>,
}

/// Jobs out per host, shared with their [`Turn`]s.
#[derive(Default)]
struct Out {
    load: Mutex<Load>,
    returned: Condvar,
}

#[derive(Default)]
struct Load {
    by_host: HashMap<u32, usize>,
    /// Turns given back so far: a waiter that saw this number wakes when it
    /// changes, so a turn given back between its look and its wait is not missed.
    returned: u64,
    /// Someone waits: only then does a turn given back cost a wake-up.
    waiting: bool,
}

impl Out {
    fn lock(&self) -> MutexGuard<'_, Load> {
        self.load.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One job's place in its host's share, given back when dropped: once its
/// fetch is done (judging the page holds no place at the host), or when the
/// job fails, is abandoned, or is dropped unstarted with a stopped run.
pub struct Turn {
    host: u32,
    out: Arc<Out>,
}

impl Turn {
    /// The host's number.
    pub fn host(&self) -> u32 {
        self.host
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut load = self.out.lock();
        if let Some(n) = load.by_host.get_mut(&self.host) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                load.by_host.remove(&self.host);
            }
        }
        load.returned += 1;
        if load.waiting {
            self.out.returned.notify_one();
        }
    }
}

/// What [`HostShares::hand_out`] has.
pub enum Next {
    /// This source, now: its turn is held until dropped.
    Take(i64, Turn),
    /// Every source left is set aside until its host gives a turn back:
    /// [`HostShares::wait`] with this.
    Wait(u64),
    /// Every source was handed out.
    Done,
}

impl HostShares {
    /// Over `order`, as [`interleave_by_host`] gives it.
    pub fn new(order: Vec<(i64, u32)>) -> HostShares {
        HostShares {
            order: order.into_iter(),
            aside: HashMap::new(),
            aside_hosts: Vec::new(),
            shares: HashMap::new(),
            out: Arc::default(),
        }
    }

    /// Sets `host`'s share, unless known: learnt from the first of its
    /// sources taken (the order knows hosts by number, the configuration by
    /// name). Until then its share is unbounded, and none of it is out.
    pub fn share(&mut self, host: u32, share: impl FnOnce() -> usize) {
        self.shares.entry(host).or_insert_with(share);
    }

    fn has_room(&self, load: &Load, host: u32) -> bool {
        let out = load.by_host.get(&host).copied().unwrap_or(0);
        out < self.shares.get(&host).copied().unwrap_or(usize::MAX)
    }

    fn take(&self, load: &mut Load, id: i64, host: u32) -> Next {
        *load.by_host.entry(host).or_default() += 1;
        Next::Take(
            id,
            Turn {
                host,
                out: self.out.clone(),
            },
        )
    }

    /// The next source whose host has room.
    pub fn hand_out(&mut self) -> Next {
        let out = self.out.clone();
        let mut load = out.lock();
        // Sources set aside came before the order's next of their host.
        if let Some(i) = self
            .aside_hosts
            .iter()
            .position(|&h| self.has_room(&load, h))
        {
            let host = self.aside_hosts[i];
            let queue = self
                .aside
                .get_mut(&host)
                .expect("a host set aside has a queue");
            let id = queue.pop_front().expect("a queue set aside is never empty");
            if queue.is_empty() {
                self.aside.remove(&host);
                self.aside_hosts.remove(i);
            }
            return self.take(&mut load, id, host);
        }
        while let Some((id, host)) = self.order.next() {
            if !self.aside.contains_key(&host) && self.has_room(&load, host) {
                return self.take(&mut load, id, host);
            }
            // Behind its host's sources set aside before it, in order.
            self.aside
                .entry(host)
                .or_insert_with(|| {
                    self.aside_hosts.push(host);
                    VecDeque::new()
                })
                .push_back(id);
        }
        if self.aside.is_empty() {
            Next::Done
        } else {
            Next::Wait(load.returned)
        }
    }

    /// Waits until a turn is given back after [`Next::Wait`] (`seen`), or
    /// for `at_most`, so the caller can see whether it is still wanted.
    pub fn wait(&self, seen: u64, at_most: Duration) {
        let mut load = self.out.lock();
        if load.returned == seen {
            load.waiting = true;
            load = self
                .out
                .returned
                .wait_timeout_while(load, at_most, |l| l.returned == seen)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            load.waiting = false;
        }
    }
}

/// When a source with `status` should be checked again: `from` is the run's
/// start, as due-ness is, so a source checked late in a long run is due again
/// at the same hour of a later night rather than the night after.
pub fn next_check_at(status: Status, from: Millis, c: &CheckConfig) -> Millis {
    let interval = match status {
        Status::Failing | Status::Unreachable => c.recheck_failing,
        Status::Dead | Status::Soft404 => c.recheck_dead,
        _ => c.recheck_ok,
    };
    from.saturating_add(interval.as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_big_host_does_not_starve_the_others() {
        let mut v: Vec<(i64, u32)> = (0..100).map(|i| (i, 7)).collect();
        v.push((100, 3));
        v.push((101, 9));
        let order: Vec<i64> = interleave_by_host(v).iter().map(|s| s.0).collect();
        assert_eq!(&order[..4], &[0, 100, 101, 1]);
        assert_eq!(order.len(), 102);
    }

    #[test]
    fn hosts_take_turns_in_order_of_first_appearance() {
        // Hosts of 3, 1 and 2 sources, in priority order as the store gave them;
        // their numbers say nothing of their order.
        let hosts = [5, 2, 5, 0, 5, 0];
        let v: Vec<(i64, u32)> = hosts
            .iter()
            .enumerate()
            .map(|(i, h)| (i as i64, *h))
            .collect();
        let order: Vec<i64> = interleave_by_host(v).iter().map(|s| s.0).collect();
        // Round one: a0 b1 c3; round two: a2 c5; round three: a4.
        assert_eq!(order, [0, 1, 3, 2, 5, 4]);
    }

    fn taken(shares: &mut HostShares) -> Option<(i64, Turn)> {
        match shares.hand_out() {
            Next::Take(id, turn) => Some((id, turn)),
            _ => None,
        }
    }

    #[test]
    fn a_host_with_its_share_out_waits_and_the_others_go_on() {
        // Host 7 has six sources, host 3 three; host 7 may have two out.
        let order = interleave_by_host(
            [
                (0, 7),
                (1, 7),
                (2, 7),
                (3, 7),
                (4, 7),
                (5, 7),
                (10, 3),
                (11, 3),
                (12, 3),
            ]
            .to_vec(),
        );
        let mut shares = HostShares::new(order);
        shares.share(7, || 2);
        shares.share(3, || 1);
        let (a, slow1) = taken(&mut shares).unwrap();
        let (b, fast) = taken(&mut shares).unwrap();
        let (c, slow2) = taken(&mut shares).unwrap();
        assert_eq!((a, b, c), (0, 10, 1));
        // Both hosts have their share out.
        let Next::Wait(seen) = shares.hand_out() else {
            panic!("every host is at its share")
        };
        // The fast host's job is fetched: the fast host's next, not the slow one's.
        drop(fast);
        shares.wait(seen, Duration::from_secs(5));
        let (d, fast) = taken(&mut shares).unwrap();
        assert_eq!(d, 11);
        drop(fast);
        assert_eq!(taken(&mut shares).unwrap().0, 12);
        // Only the slow host is left, its sources in their order.
        assert!(matches!(shares.hand_out(), Next::Wait(_)));
        drop(slow1);
        let (e, slow3) = taken(&mut shares).unwrap();
        assert_eq!(e, 2);
        drop((slow2, slow3));
        let rest: Vec<i64> = std::iter::from_fn(|| taken(&mut shares).map(|t| t.0)).collect();
        assert_eq!(rest, [3, 4, 5]);
        assert!(matches!(shares.hand_out(), Next::Done));
    }

    #[test]
    fn a_turn_given_back_from_another_thread_wakes_the_waiter() {
        let mut shares = HostShares::new(vec![(0, 1), (1, 1)]);
        shares.share(1, || 1);
        let (_, turn) = taken(&mut shares).unwrap();
        let Next::Wait(seen) = shares.hand_out() else {
            panic!("host 1 is at its share")
        };
        let giver = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            drop(turn);
        });
        let started = std::time::Instant::now();
        shares.wait(seen, Duration::from_secs(30));
        assert!(started.elapsed() < Duration::from_secs(30));
        assert_eq!(taken(&mut shares).unwrap().0, 1);
        giver.join().unwrap();
    }

    #[test]
    fn a_share_leaves_half_the_window_to_the_other_hosts() {
        assert_eq!(host_share(2, 128), 4);
        assert_eq!(host_share(128, 256), 128);
        assert_eq!(host_share(2, 2), 1);
        assert_eq!(host_share(1, 1), 1);
    }

    #[test]
    fn intervals_follow_the_status() {
        let c = CheckConfig::default();
        let day = 86_400_000;
        assert_eq!(next_check_at(Status::Ok, 0, &c), 7 * day);
        assert_eq!(next_check_at(Status::Failing, 0, &c), day);
        assert_eq!(next_check_at(Status::Dead, 0, &c), 30 * day);
        assert_eq!(next_check_at(Status::Blocked, 0, &c), 7 * day);
    }
}
