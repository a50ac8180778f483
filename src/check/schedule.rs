//! Which sources a run takes, in which order, and when each is due next.

use std::collections::HashMap;

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
/// them.
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
