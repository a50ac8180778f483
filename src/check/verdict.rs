//! The status of a source, decided from its previous state and one new piece of
//! evidence. Pure: no clock, no I/O, so every rule is a unit test.
//!
//! A failure is *confirmed* only after `dead_after_checks` failing checks that
//! span at least `dead_after`; until then the source is `failing` with a
//! `suspect`. One good check resets the streak, and so does a failure of the
//! other kind (page gone vs. network). A 410 is dead at once. Network
//! failures and 5xx confirm to `unreachable`, never to `dead` (many sites time
//! out from abroad). A host that does not resolve is dead only once that has
//! lasted `gone_after`; a resolver failing for now (no answer about the name)
//! is a network failure that neither starts nor restarts that clock; any
//! answer from the host, a blocked one too, ends it. Blocked answers never
//! count towards dead.

use serde::Serialize;

use crate::time::Millis;

/// A source's confirmed status (see DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Never fetched.
    Unchecked,
    /// 2xx, main text consistent with the baseline.
    Ok,
    /// 2xx, main text differs in substance from the baseline.
    Changed,
    /// Permanent redirect to a working page with the same content.
    Moved,
    /// A failure seen, not yet confirmed.
    Failing,
    /// Confirmed: an error page, removal notice or homepage served as success.
    Soft404,
    /// Confirmed 404, 410 at once, or a host gone for `gone_after`.
    Dead,
    /// Confirmed connection, TLS, timeout or 5xx failures.
    Unreachable,
    /// 401/403/429/451, a bot challenge or robots.txt: cannot verify.
    Blocked,
    /// The cited URL cannot be fetched as written.
    Invalid,
}

impl Status {
    /// Every status, in the order of DESIGN.md's vocabulary.
    pub const ALL: [Status; 10] = [
        Status::Unchecked,
        Status::Ok,
        Status::Changed,
        Status::Moved,
        Status::Failing,
        Status::Soft404,
        Status::Dead,
        Status::Unreachable,
        Status::Blocked,
        Status::Invalid,
    ];

    /// The snake_case name used in the store, JSON and `--status`.
    pub fn name(self) -> &'static str {
        match self {
            Status::Unchecked => "unchecked",
            Status::Ok => "ok",
            Status::Changed => "changed",
            Status::Moved => "moved",
            Status::Failing => "failing",
            Status::Soft404 => "soft_404",
            Status::Dead => "dead",
            Status::Unreachable => "unreachable",
            Status::Blocked => "blocked",
            Status::Invalid => "invalid",
        }
    }

    /// The status named `name` in the store; `Unchecked` for a name it does
    /// not know, so a row written by a newer version is checked again rather
    /// than given a verdict it never had.
    pub fn from_name(name: &str) -> Status {
        Status::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .unwrap_or(Status::Unchecked)
    }

    /// `counts` by status name with every status present, 0 when none: a
    /// script (or an alert) reads `dead` without asking first.
    pub fn count_every<N: Default>(
        mut counts: std::collections::BTreeMap<String, N>,
    ) -> std::collections::BTreeMap<String, N> {
        for status in Status::ALL {
            counts.entry(status.name().to_string()).or_default();
        }
        counts
    }

    /// "Broken" in reports: dead, soft 404, unreachable.
    pub fn is_broken(self) -> bool {
        matches!(self, Status::Dead | Status::Soft404 | Status::Unreachable)
    }
}

/// The verdict a failing source is heading for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Suspect {
    /// 404, or a host that does not resolve.
    Dead,
    /// An error page served as success.
    Soft404,
    /// Connection, TLS, timeout or 5xx.
    Unreachable,
}

impl Suspect {
    /// The snake_case name used in the store and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Suspect::Dead => "dead",
            Suspect::Soft404 => "soft_404",
            Suspect::Unreachable => "unreachable",
        }
    }

    /// The suspect named `name` in the store, if any.
    pub fn from_name(name: &str) -> Option<Suspect> {
        [Suspect::Dead, Suspect::Soft404, Suspect::Unreachable]
            .into_iter()
            .find(|s| s.name() == name)
    }

    fn confirmed(self) -> Status {
        match self {
            Suspect::Dead => Status::Dead,
            Suspect::Soft404 => Status::Soft404,
            Suspect::Unreachable => Status::Unreachable,
        }
    }
}

/// What one check says, already interpreted (HTTP status, soft-404 and drift
/// analysis happen before this).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// 2xx and the main text matches the baseline.
    Ok,
    /// 2xx and the main text differs in substance.
    Changed,
    /// Permanent redirect to a page with the baseline's content.
    Moved,
    /// 410 Gone.
    Gone,
    /// 404 Not Found.
    NotFound,
    /// An error page, removal notice or homepage served as success.
    SoftNotFound,
    /// Connection refused/reset, TLS, timeout, 5xx.
    Unreachable,
    /// The host name does not resolve.
    NoSuchHost,
    /// The resolver failed for now (SERVFAIL, a timeout, "try again"): no
    /// answer about the name, either way.
    ResolverFailed,
    /// 401/403/429/451, bot challenge, robots.txt.
    Blocked,
    /// The URL cannot be fetched as written.
    Invalid,
}

/// How much evidence confirms a failure (`[check]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Confirmation {
    /// Failing checks needed.
    pub dead_after_checks: u32,
    /// Time the failing checks must span.
    pub dead_after_ms: i64,
    /// Time a host must stay unresolvable to be dead.
    pub gone_after_ms: i64,
}

impl Default for Confirmation {
    fn default() -> Self {
        Confirmation {
            dead_after_checks: 3,
            dead_after_ms: 72 * 3_600_000,
            gone_after_ms: 14 * 86_400_000,
        }
    }
}

/// What the store keeps of a source's verdict between checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct State {
    /// Confirmed status.
    pub status: Status,
    /// Since when it holds.
    pub since: Option<Millis>,
    /// For `failing` (and kept while a confirmed failure persists): where it heads.
    pub suspect: Option<Suspect>,
    /// Failing checks in the current streak.
    pub consecutive_failures: u32,
    /// First failing check of the current streak.
    pub failing_since: Option<Millis>,
    /// First check of the current streak of unresolvable-host failures.
    pub no_such_host_since: Option<Millis>,
}

impl Default for State {
    fn default() -> Self {
        State {
            status: Status::Unchecked,
            since: None,
            suspect: None,
            consecutive_failures: 0,
            failing_since: None,
            no_such_host_since: None,
        }
    }
}

fn with_status(prev: &State, status: Status, now: Millis) -> State {
    State {
        status,
        since: if prev.status == status {
            prev.since
        } else {
            Some(now)
        },
        ..*prev
    }
}

/// Which way a failing check points. A streak counts checks of one kind only:
/// four nights of timeouts and then one 404 are not three 404s, and a 404
/// streak interrupted by an outage does not confirm `unreachable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Evidence {
    /// 404, 410, an error page served as success: the page is gone.
    Removed,
    /// Connect, TLS, timeout, 5xx, an unresolvable host: we could not reach it.
    Network,
}

/// The kind of the streak `prev` is in, if any.
fn streak_kind(prev: &State) -> Option<Evidence> {
    if prev.consecutive_failures == 0 {
        return None;
    }
    match prev.suspect? {
        Suspect::Unreachable => Some(Evidence::Network),
        Suspect::Dead if prev.no_such_host_since.is_some() => Some(Evidence::Network),
        Suspect::Dead | Suspect::Soft404 => Some(Evidence::Removed),
    }
}

/// Whether `state` keeps a confirmed network failure (`unreachable`) while
/// its latest failures say the page is gone (a 404, an error page served as
/// success), not yet confirmed: the evidence shown with it must say so, or
/// the status and its evidence contradict each other.
pub fn removal_unconfirmed(state: &State) -> bool {
    state.status == Status::Unreachable && streak_kind(state) == Some(Evidence::Removed)
}

/// Failing checks and the streak's start after one more failure of `kind`:
/// the streak goes on when it is of the same kind, else one starts now.
fn streak(prev: &State, kind: Evidence, now: Millis) -> (u32, Millis) {
    match (streak_kind(prev), prev.failing_since) {
        (Some(k), Some(since)) if k == kind => (prev.consecutive_failures + 1, since),
        _ => (1, now),
    }
}

/// `state` once the host has been heard from, refusing us (a blocked
/// answer): its name resolved, so the unresolvable-host clock ends, as it
/// does for any other answer. Kept, a fortnight of 403s between two
/// NXDOMAINs counted as a fortnight gone. The failing streak is kept as it
/// was, of its kind: one of unresolvable-host failures goes on as a network
/// streak (suspect `unreachable`, as after a resolver failing for now)
/// rather than read as a page gone for want of its clock.
fn name_resolved(state: State) -> State {
    let suspect = match state.suspect {
        Some(Suspect::Dead) if state.no_such_host_since.is_some() => Some(Suspect::Unreachable),
        suspect => suspect,
    };
    State {
        suspect,
        no_such_host_since: None,
        ..state
    }
}

/// The state after one check with `signal` at `now`.
pub fn decide(prev: &State, signal: Signal, now: Millis, c: &Confirmation) -> State {
    let alive = |status| State {
        suspect: None,
        consecutive_failures: 0,
        failing_since: None,
        no_such_host_since: None,
        ..with_status(prev, status, now)
    };
    let suspect = match signal {
        Signal::Ok => return alive(Status::Ok),
        Signal::Changed => return alive(Status::Changed),
        Signal::Moved => return alive(Status::Moved),
        Signal::Blocked => return name_resolved(with_status(prev, Status::Blocked, now)),
        Signal::Invalid => return with_status(prev, Status::Invalid, now),
        Signal::Gone => {
            let (failures, failing_since) = streak(prev, Evidence::Removed, now);
            return State {
                suspect: Some(Suspect::Dead),
                consecutive_failures: failures,
                failing_since: Some(failing_since),
                no_such_host_since: None,
                ..with_status(prev, Status::Dead, now)
            };
        }
        Signal::NotFound | Signal::NoSuchHost => Suspect::Dead,
        Signal::SoftNotFound => Suspect::Soft404,
        Signal::Unreachable | Signal::ResolverFailed => Suspect::Unreachable,
    };
    let kind = match signal {
        Signal::Unreachable | Signal::NoSuchHost | Signal::ResolverFailed => Evidence::Network,
        _ => Evidence::Removed,
    };
    let (failures, failing_since) = streak(prev, kind, now);
    let no_such_host_since = match signal {
        Signal::NoSuchHost => Some(prev.no_such_host_since.unwrap_or(now)),
        // No answer about the name either way: the clock neither starts nor
        // restarts. Erased, one SERVFAIL between two NXDOMAINs put off
        // `dead` by up to `gone_after`.
        Signal::ResolverFailed => prev.no_such_host_since,
        // Anything else reached the host, so its name resolved.
        _ => None,
    };
    let enough = failures >= c.dead_after_checks && now - failing_since >= c.dead_after_ms;
    let confirmed = match signal {
        // An unresolvable host is dead only once that has lasted gone_after.
        Signal::NoSuchHost => {
            let long = no_such_host_since.is_some_and(|s| now - s >= c.gone_after_ms);
            if enough && long {
                Some(Status::Dead)
            } else if enough {
                Some(Status::Unreachable)
            } else {
                None
            }
        }
        _ => enough.then(|| suspect.confirmed()),
    };
    // A confirmed failure stays as it is while the failures continue, unless the
    // new evidence confirms something else.
    // A network failure never overrides a stronger confirmed verdict.
    let status = match confirmed {
        Some(Status::Unreachable) if prev.status.is_broken() => prev.status,
        Some(s) => s,
        None if prev.status.is_broken() => prev.status,
        None => Status::Failing,
    };
    State {
        suspect: Some(suspect),
        consecutive_failures: failures,
        failing_since: Some(failing_since),
        no_such_host_since,
        ..with_status(prev, status, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;
    const D: i64 = 24 * H;

    fn run(signals: &[(Signal, i64)]) -> State {
        let c = Confirmation::default();
        signals
            .iter()
            .fold(State::default(), |s, (sig, at)| decide(&s, *sig, *at, &c))
    }

    #[test]
    fn status_and_suspect_names_read_back_as_themselves() {
        for s in Status::ALL {
            // A new status fails to compile here until it is thought about,
            // and then fails the count until it is in ALL.
            match s {
                Status::Unchecked
                | Status::Ok
                | Status::Changed
                | Status::Moved
                | Status::Failing
                | Status::Soft404
                | Status::Dead
                | Status::Unreachable
                | Status::Blocked
                | Status::Invalid => {}
            }
            assert_eq!(Status::from_name(s.name()), s, "{}", s.name());
        }
        let names: std::collections::BTreeSet<_> = Status::ALL.map(Status::name).into();
        assert_eq!(names.len(), 10);
        assert_eq!(
            Status::from_name("verdict-of-a-newer-version"),
            Status::Unchecked
        );
        for s in [Suspect::Dead, Suspect::Soft404, Suspect::Unreachable] {
            assert_eq!(Suspect::from_name(s.name()), Some(s), "{}", s.name());
        }
        assert_eq!(Suspect::from_name("ok"), None);
    }

    #[test]
    fn good_checks() {
        assert_eq!(run(&[(Signal::Ok, 0)]).status, Status::Ok);
        assert_eq!(
            run(&[(Signal::Ok, 0), (Signal::Changed, D)]).status,
            Status::Changed
        );
        let s = run(&[(Signal::Ok, 0), (Signal::Ok, D)]);
        assert_eq!(s.since, Some(0), "since stays while the status holds");
    }

    #[test]
    fn a_410_is_dead_at_once() {
        let s = run(&[(Signal::Ok, 0), (Signal::Gone, D)]);
        assert_eq!((s.status, s.since), (Status::Dead, Some(D)));
    }

    #[test]
    fn a_404_needs_three_checks_over_72_hours() {
        let s = run(&[(Signal::NotFound, 0), (Signal::NotFound, D)]);
        assert_eq!(
            (s.status, s.suspect),
            (Status::Failing, Some(Suspect::Dead))
        );
        let s = run(&[
            (Signal::NotFound, 0),
            (Signal::NotFound, H),
            (Signal::NotFound, 2 * H),
        ]);
        assert_eq!(s.status, Status::Failing, "three checks but not 72 h");
        let s = run(&[
            (Signal::NotFound, 0),
            (Signal::NotFound, D),
            (Signal::NotFound, 3 * D),
        ]);
        assert_eq!((s.status, s.since), (Status::Dead, Some(3 * D)));
        let s = run(&[(Signal::NotFound, 0), (Signal::NotFound, 3 * D)]);
        assert_eq!(s.status, Status::Failing, "72 h but two checks");
    }

    #[test]
    fn one_good_check_resets_the_count() {
        let s = run(&[
            (Signal::NotFound, 0),
            (Signal::NotFound, D),
            (Signal::Ok, 2 * D),
            (Signal::NotFound, 3 * D),
            (Signal::NotFound, 4 * D),
        ]);
        assert_eq!(
            (s.status, s.consecutive_failures, s.failing_since),
            (Status::Failing, 2, Some(3 * D))
        );
    }

    #[test]
    fn network_failures_confirm_to_unreachable_never_dead() {
        let s = run(&[
            (Signal::Unreachable, 0),
            (Signal::Unreachable, 2 * D),
            (Signal::Unreachable, 4 * D),
        ]);
        assert_eq!(s.status, Status::Unreachable);
        let s = run(&(0..20)
            .map(|i| (Signal::Unreachable, i * D))
            .collect::<Vec<_>>());
        assert_eq!(s.status, Status::Unreachable);
    }

    #[test]
    fn soft_404_confirms_to_soft_404() {
        let s = run(&[
            (Signal::SoftNotFound, 0),
            (Signal::SoftNotFound, 2 * D),
            (Signal::SoftNotFound, 4 * D),
        ]);
        assert_eq!(s.status, Status::Soft404);
        let s = run(&[(Signal::SoftNotFound, 0)]);
        assert_eq!(
            (s.status, s.suspect),
            (Status::Failing, Some(Suspect::Soft404))
        );
    }

    #[test]
    fn an_unresolvable_host_is_dead_only_after_gone_after() {
        let week = run(&(0..8)
            .map(|i| (Signal::NoSuchHost, i * D))
            .collect::<Vec<_>>());
        assert_eq!(
            week.status,
            Status::Unreachable,
            "a week without DNS is not proof of death"
        );
        let fortnight = run(&(0..15)
            .map(|i| (Signal::NoSuchHost, i * D))
            .collect::<Vec<_>>());
        assert_eq!(fortnight.status, Status::Dead);
    }

    /// Days `from..to` of one signal each.
    fn nights(signal: Signal, from: i64, to: i64) -> Vec<(Signal, i64)> {
        (from..to).map(|i| (signal, i * D)).collect()
    }

    #[test]
    fn a_resolver_failing_for_now_keeps_the_no_such_host_clock() {
        // NXDOMAIN, one SERVFAIL, NXDOMAIN again: the host has been gone
        // since the first answer, and is dead once that has lasted 14 days.
        let mut sig = nights(Signal::NoSuchHost, 0, 7);
        sig.push((Signal::ResolverFailed, 7 * D));
        let s = run(&sig);
        assert_eq!(
            (s.status, s.no_such_host_since, s.suspect),
            (Status::Unreachable, Some(0), Some(Suspect::Unreachable)),
            "a network failure, which keeps the clock"
        );
        sig.extend(nights(Signal::NoSuchHost, 8, 15));
        let s = run(&sig);
        assert_eq!((s.status, s.no_such_host_since), (Status::Dead, Some(0)));
        assert_eq!(s.consecutive_failures, 15, "one network streak throughout");
    }

    #[test]
    fn a_resolver_failing_for_now_is_no_evidence_of_a_name_gone() {
        // Alone, it never starts the clock, nor confirms more than unreachable.
        let s = run(&nights(Signal::ResolverFailed, 0, 20));
        assert_eq!(
            (s.status, s.no_such_host_since),
            (Status::Unreachable, None)
        );
        // After one NXDOMAIN, 20 days of SERVFAIL do not make the name gone:
        // only an NXDOMAIN past gone_after does.
        let mut sig = nights(Signal::NoSuchHost, 0, 1);
        sig.extend(nights(Signal::ResolverFailed, 1, 21));
        let s = run(&sig);
        assert_eq!(
            (s.status, s.no_such_host_since),
            (Status::Unreachable, Some(0))
        );
        sig.push((Signal::NoSuchHost, 21 * D));
        assert_eq!(run(&sig).status, Status::Dead);
        // A confirmed verdict stands through it, as through any network failure.
        let mut sig = nights(Signal::NotFound, 0, 4);
        sig.push((Signal::ResolverFailed, 5 * D));
        assert_eq!(run(&sig).status, Status::Dead);
    }

    #[test]
    fn an_answer_from_the_host_restarts_the_no_such_host_clock() {
        // Anything that reached the host says the name resolved then.
        for answer in [
            Signal::Ok,
            Signal::Changed,
            Signal::Moved,
            Signal::NotFound,
            Signal::SoftNotFound,
            Signal::Gone,
            Signal::Unreachable,
            Signal::Blocked,
        ] {
            let mut sig = nights(Signal::NoSuchHost, 0, 7);
            sig.push((Signal::ResolverFailed, 7 * D));
            sig.push((answer, 8 * D));
            let s = run(&sig);
            assert_eq!(s.no_such_host_since, None, "{answer:?}");
            sig.extend(nights(Signal::NoSuchHost, 9, 16));
            let s = run(&sig);
            assert_eq!(
                s.no_such_host_since,
                Some(9 * D),
                "{answer:?}: gone for a week, not since the first NXDOMAIN"
            );
            // A 410 is dead for itself; the rest are not dead yet.
            let want = match answer {
                Signal::Gone => Status::Dead,
                _ => Status::Unreachable,
            };
            assert_eq!(s.status, want, "{answer:?}");
        }
    }

    /// NXDOMAIN, then a fortnight of 403s, then NXDOMAIN again: the 403s
    /// came from the host, so its name resolved all that time, and it has
    /// been gone since the second NXDOMAIN only, not since the first.
    #[test]
    fn a_blocked_answer_ends_the_no_such_host_clock() {
        let mut sig = nights(Signal::NoSuchHost, 0, 1);
        sig.extend(nights(Signal::Blocked, 1, 15));
        let s = run(&sig);
        assert_eq!((s.status, s.no_such_host_since), (Status::Blocked, None));
        sig.push((Signal::NoSuchHost, 15 * D));
        let s = run(&sig);
        assert_eq!(
            (s.status, s.no_such_host_since),
            (Status::Failing, Some(15 * D)),
            "gone for a moment, not for gone_after"
        );
        sig.extend(nights(Signal::NoSuchHost, 16, 29));
        assert_eq!(run(&sig).status, Status::Unreachable, "gone for 13 days");
        sig.push((Signal::NoSuchHost, 29 * D));
        assert_eq!(run(&sig).status, Status::Dead, "gone for 14 days");
    }

    /// The clock ends, the streak does not: a blocked answer neither counts
    /// towards a failure nor resets one, and the network streak it
    /// interrupts goes on as one kind (an NXDOMAIN after it is no new one).
    #[test]
    fn a_blocked_answer_keeps_the_failing_streak_as_it_was() {
        let s = run(&[
            (Signal::NoSuchHost, 0),
            (Signal::NoSuchHost, D),
            (Signal::Blocked, 2 * D),
        ]);
        assert_eq!(
            (
                s.consecutive_failures,
                s.failing_since,
                s.no_such_host_since
            ),
            (2, Some(0), None)
        );
        assert_eq!(streak_kind(&s), Some(Evidence::Network));
        let s = run(&[
            (Signal::NoSuchHost, 0),
            (Signal::NoSuchHost, D),
            (Signal::Blocked, 2 * D),
            (Signal::NoSuchHost, 3 * D),
        ]);
        assert_eq!(
            (
                s.status,
                s.consecutive_failures,
                s.failing_since,
                s.no_such_host_since
            ),
            (Status::Unreachable, 3, Some(0), Some(3 * D))
        );
        // A 404 streak is not touched.
        let s = run(&[
            (Signal::NotFound, 0),
            (Signal::NotFound, D),
            (Signal::Blocked, 2 * D),
            (Signal::NotFound, 3 * D),
        ]);
        assert_eq!(
            (s.status, s.consecutive_failures, s.suspect),
            (Status::Dead, 3, Some(Suspect::Dead))
        );
    }

    #[test]
    fn blocked_never_counts_towards_dead() {
        let s = run(&(0..10)
            .map(|i| (Signal::Blocked, i * D))
            .collect::<Vec<_>>());
        assert_eq!((s.status, s.consecutive_failures), (Status::Blocked, 0));
    }

    #[test]
    fn a_dead_source_stays_dead_through_failures_and_recovers_on_a_good_check() {
        let mut sig = vec![
            (Signal::NotFound, 0),
            (Signal::NotFound, 2 * D),
            (Signal::NotFound, 4 * D),
        ];
        sig.push((Signal::Unreachable, 30 * D));
        let s = run(&sig);
        assert_eq!((s.status, s.since), (Status::Dead, Some(4 * D)));
        sig.push((Signal::Ok, 60 * D));
        let s = run(&sig);
        assert_eq!(
            (s.status, s.consecutive_failures, s.suspect),
            (Status::Ok, 0, None)
        );
    }

    #[test]
    fn a_streak_counts_one_kind_of_failure() {
        // Four nights of timeouts, then the new site answers 404 for a night:
        // that is one 404, not five failures.
        let mut sig: Vec<_> = (0..4).map(|i| (Signal::Unreachable, i * D)).collect();
        sig.push((Signal::NotFound, 4 * D));
        let s = run(&sig);
        assert_eq!(
            (s.status, s.suspect, s.consecutive_failures, s.failing_since),
            (Status::Unreachable, Some(Suspect::Dead), 1, Some(4 * D))
        );
        // Three 404s over 72 h are needed, counted from the first of them.
        sig.extend([(Signal::NotFound, 5 * D), (Signal::NotFound, 6 * D)]);
        assert_eq!(run(&sig).status, Status::Unreachable, "48 h of 404s");
        sig.push((Signal::NotFound, 7 * D));
        assert_eq!(run(&sig).status, Status::Dead);
        // 404, timeout, 404 is not two 404s in a row.
        let s = run(&[
            (Signal::NotFound, 0),
            (Signal::Unreachable, 2 * D),
            (Signal::NotFound, 4 * D),
        ]);
        assert_eq!((s.status, s.consecutive_failures), (Status::Failing, 1));
        // An unresolvable host is a network failure, like a timeout.
        let s = run(&[
            (Signal::NoSuchHost, 0),
            (Signal::Unreachable, 2 * D),
            (Signal::Unreachable, 4 * D),
        ]);
        assert_eq!((s.status, s.consecutive_failures), (Status::Unreachable, 3));
        // A removal notice and a 404 both say the page is gone.
        let s = run(&[
            (Signal::SoftNotFound, 0),
            (Signal::NotFound, 2 * D),
            (Signal::Gone, 4 * D),
        ]);
        assert_eq!((s.status, s.consecutive_failures), (Status::Dead, 3));
        let s = run(&[(Signal::Unreachable, 0), (Signal::Gone, D)]);
        assert_eq!(
            (s.status, s.consecutive_failures, s.failing_since),
            (Status::Dead, 1, Some(D))
        );
    }

    #[test]
    fn immediate_confirmation_when_configured() {
        let c = Confirmation {
            dead_after_checks: 1,
            dead_after_ms: 0,
            gone_after_ms: 0,
        };
        assert_eq!(
            decide(&State::default(), Signal::NotFound, 5, &c).status,
            Status::Dead
        );
        assert_eq!(
            decide(&State::default(), Signal::NoSuchHost, 5, &c).status,
            Status::Dead
        );
    }
}
