//! The status of a source, decided from its previous state and one new piece of
//! evidence. Pure: no clock, no I/O, so every rule is a unit test.
//!
//! A failure is *confirmed* only after `dead_after_checks` failing checks that
//! span at least `dead_after`; until then the source is `failing` with a
//! `suspect`. One good check resets the streak. A streak counts one kind of
//! failure (page gone vs. network) towards `dead` or `soft_404`; failures of
//! both kinds, with no good check between them, confirm `unreachable` only
//! (the citation has not been served, but that is no proof the page is gone).
//! A 410 is dead at once. Network failures and 5xx confirm to `unreachable`,
//! never to `dead` (many sites time out from abroad). A host that does not
//! resolve is dead only once that has lasted `gone_after`; a resolver failing
//! for now (no answer about the name) is a network failure that neither
//! starts nor restarts that clock; any answer from the host, a blocked one
//! too, ends it. Blocked answers never count towards dead, nor reset a
//! streak: both streaks are held through them (see `name_resolved`), and so
//! is the failure confirmed before them (`held_status`): a network failure
//! after a refusal no more overrides a confirmed `dead` than one before it.

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
    /// Failing checks in the current streak of one kind.
    pub consecutive_failures: u32,
    /// First failing check of the current streak of one kind.
    pub failing_since: Option<Millis>,
    /// The kind of that streak; `None` without one. Kept apart from the
    /// suspect, which for a mixed streak names `unreachable` whatever its
    /// latest failures were.
    pub streak_kind: Option<Evidence>,
    /// Failing checks of either kind since the last good check: the mixed
    /// streak, which holds the streak of one kind.
    pub mixed_failures: u32,
    /// First failing check of the mixed streak.
    pub mixed_since: Option<Millis>,
    /// First check of the current streak of unresolvable-host failures.
    pub no_such_host_since: Option<Millis>,
    /// While `blocked`: the failure confirmed before the refusals (`dead`,
    /// `soft_404` or `unreachable`), held with the streaks, so the failure
    /// after them builds on it (see `standing`); the status it leaves holds
    /// since that failure, as any change from `blocked` does. `None` otherwise: a
    /// refusal of a source that was not confirmed broken, or any status but
    /// `blocked` (a failure or a good check ends the refusals and this with
    /// them).
    pub held_status: Option<Status>,
}

impl Default for State {
    fn default() -> Self {
        State {
            status: Status::Unchecked,
            since: None,
            suspect: None,
            consecutive_failures: 0,
            failing_since: None,
            streak_kind: None,
            mixed_failures: 0,
            mixed_since: None,
            no_such_host_since: None,
            held_status: None,
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

/// Which way a failing check points. A streak counts checks of one kind
/// towards `dead` and `soft_404`: four nights of timeouts and then one 404
/// are not three 404s. Both kinds together, with no good check between them,
/// count towards `unreachable` only (see [`State::mixed_failures`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// 404, 410, an error page served as success: the page is gone.
    Removed,
    /// Connect, TLS, timeout, 5xx, an unresolvable host: we could not reach it.
    Network,
}

impl Evidence {
    /// The snake_case name used in the store.
    pub fn name(self) -> &'static str {
        match self {
            Evidence::Removed => "removed",
            Evidence::Network => "network",
        }
    }

    /// The kind named `name` in the store, if any.
    pub fn from_name(name: &str) -> Option<Evidence> {
        [Evidence::Removed, Evidence::Network]
            .into_iter()
            .find(|k| k.name() == name)
    }
}

/// The kind of the streak `prev` is in, if any.
fn streak_kind(prev: &State) -> Option<Evidence> {
    if prev.consecutive_failures == 0 {
        return None;
    }
    prev.streak_kind
}

/// The kind of a streak of `failures` failing checks of one kind, for a
/// writer that knows the verdict but not the checks behind it (a store's
/// fixtures written in bulk): where it heads says it, the `suspect`, or
/// without one the confirmed `status`, the streak heading where it stands
/// (a dead source's for `dead`). A host
/// whose name did not resolve (`name_unresolved`: `no_such_host_since` set)
/// heads for `dead` on a network streak, as [`decide`] counts an NXDOMAIN;
/// read as a page gone, the next NXDOMAIN would start a new streak. `None`
/// without a streak, or with nothing that says where it heads.
///
/// Only for a streak of one kind: a mixed streak's suspect is `unreachable`
/// whatever its latest failures were, which is why [`State::streak_kind`] is
/// stored rather than read back this way.
pub fn streak_kind_of(
    status: Status,
    suspect: Option<Suspect>,
    failures: u32,
    name_unresolved: bool,
) -> Option<Evidence> {
    if failures == 0 {
        return None;
    }
    let heading = suspect.or(match status {
        Status::Dead => Some(Suspect::Dead),
        Status::Soft404 => Some(Suspect::Soft404),
        Status::Unreachable => Some(Suspect::Unreachable),
        _ => None,
    })?;
    Some(match heading {
        Suspect::Unreachable => Evidence::Network,
        Suspect::Dead if name_unresolved => Evidence::Network,
        Suspect::Dead | Suspect::Soft404 => Evidence::Removed,
    })
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

/// Failing checks of either kind, and their start, after one more failure
/// that makes the streak of one kind `kind_streak`: the mixed streak goes on
/// until a good check. Never shorter than the streak of one kind it holds (a
/// row written before the mixed streak was kept starts from that streak).
fn mixed_streak(prev: &State, kind_streak: (u32, Millis), now: Millis) -> (u32, Millis) {
    let (mixed, since) = match prev.mixed_since {
        Some(since) if prev.mixed_failures > 0 => (prev.mixed_failures + 1, since),
        _ => (1, now),
    };
    (mixed.max(kind_streak.0), since.min(kind_streak.1))
}

/// `state` once the host has been heard from, refusing us (a blocked
/// answer): its name resolved, so the unresolvable-host clock ends, as it
/// does for any other answer. Kept, a fortnight of 403s between two
/// NXDOMAINs counted as a fortnight gone.
///
/// Both failing streaks, of one kind and mixed, are held as they were, with
/// their counts and starts: a refusal is no good check (the citation was not
/// served) and no evidence of a failure (nothing was seen of the page), so it
/// neither counts nor resets, and the failures on either side of it make one
/// streak. Reset, a page gone behind a firewall that refuses us every other
/// night would stay `failing` for ever, as 404s and 503s by turns did before
/// the mixed streak; paused (the refusals' time left out of the span), it
/// would take a stored duration for no better verdict, since the span asks
/// how long the citation has gone unserved. The two streaks are held alike,
/// so they never disagree about what came before the refusals. The streak of
/// one kind keeps its kind: one of unresolvable-host failures goes on as a
/// network streak, its suspect `unreachable` (as after a resolver failing for
/// now), since `dead` would need the clock.
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

/// The failure confirmed before a refusal of `prev`'s source, to hold
/// through it: `prev`'s own if broken, or the one already held when `prev`
/// is a refusal too. The streaks are held through refusals (see
/// [`name_resolved`]), and the status they confirmed must be held with
/// them: forgotten, a dead page refused once and then timing out once was
/// `unreachable` at once, its held mixed streak long enough to confirm that,
/// and `blocked` no confirmed failure for the timeout to leave standing.
fn held_through_refusal(prev: &State) -> Option<Status> {
    match prev.status {
        s if s.is_broken() => Some(s),
        Status::Blocked => prev.held_status.filter(|s| s.is_broken()),
        _ => None,
    }
}

/// The status a failure after `prev` builds on: `prev`'s, or for a refusal
/// the failure confirmed before it (see [`State::held_status`]). A refusal
/// saw nothing of the page, so the failure after it continues the failures
/// before it, as the streaks do: a network failure never overrides a
/// confirmed `dead` or `soft_404`, nor does a failure that confirms nothing
/// make a confirmed one `failing` again.
fn standing(prev: &State) -> Status {
    match (prev.status, prev.held_status) {
        (Status::Blocked, Some(held)) if held.is_broken() => held,
        (status, _) => status,
    }
}

/// The state after one check with `signal` at `now`.
pub fn decide(prev: &State, signal: Signal, now: Millis, c: &Confirmation) -> State {
    let alive = |status| State {
        suspect: None,
        consecutive_failures: 0,
        failing_since: None,
        streak_kind: None,
        mixed_failures: 0,
        mixed_since: None,
        no_such_host_since: None,
        held_status: None,
        ..with_status(prev, status, now)
    };
    let suspect = match signal {
        Signal::Ok => return alive(Status::Ok),
        Signal::Changed => return alive(Status::Changed),
        Signal::Moved => return alive(Status::Moved),
        Signal::Blocked => {
            return name_resolved(State {
                held_status: held_through_refusal(prev),
                ..with_status(prev, Status::Blocked, now)
            });
        }
        // Not a refusal: nothing is held through it.
        Signal::Invalid => {
            return State {
                held_status: None,
                ..with_status(prev, Status::Invalid, now)
            };
        }
        Signal::Gone => {
            let (failures, failing_since) = streak(prev, Evidence::Removed, now);
            let (mixed, mixed_since) = mixed_streak(prev, (failures, failing_since), now);
            return State {
                suspect: Some(Suspect::Dead),
                consecutive_failures: failures,
                failing_since: Some(failing_since),
                streak_kind: Some(Evidence::Removed),
                mixed_failures: mixed,
                mixed_since: Some(mixed_since),
                no_such_host_since: None,
                held_status: None,
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
    let (mixed, mixed_since) = mixed_streak(prev, (failures, failing_since), now);
    let no_such_host_since = match signal {
        Signal::NoSuchHost => Some(prev.no_such_host_since.unwrap_or(now)),
        // No answer about the name either way: the clock neither starts nor
        // restarts. Erased, one SERVFAIL between two NXDOMAINs put off
        // `dead` by up to `gone_after`.
        Signal::ResolverFailed => prev.no_such_host_since,
        // Anything else reached the host, so its name resolved.
        _ => None,
    };
    let enough_since =
        |n: u32, since: Millis| n >= c.dead_after_checks && now - since >= c.dead_after_ms;
    let enough = enough_since(failures, failing_since);
    // Failures of both kinds, no good check between: the citation has not
    // been served all that time, though neither kind alone says why. Kept
    // `failing`, a page answering 404 and 503 by turns stayed on the watch
    // list for ever.
    let mixed_enough = enough_since(mixed, mixed_since);
    let confirmed = match signal {
        // An unresolvable host is dead only once that has lasted gone_after.
        Signal::NoSuchHost => {
            let long = no_such_host_since.is_some_and(|s| now - s >= c.gone_after_ms);
            if enough && long {
                Some(Status::Dead)
            } else if enough || mixed_enough {
                Some(Status::Unreachable)
            } else {
                None
            }
        }
        _ if enough => Some(suspect.confirmed()),
        _ => mixed_enough.then_some(Status::Unreachable),
    };
    // A confirmed failure stays as it is while the failures continue, unless the
    // new evidence confirms something else.
    // A network failure never overrides a stronger confirmed verdict.
    // Refusals between them do not end the failures (see `standing`).
    let before = standing(prev);
    let status = match confirmed {
        Some(Status::Unreachable) if before.is_broken() => before,
        Some(s) => s,
        None if before.is_broken() => before,
        None => Status::Failing,
    };
    // A failing source shows where it heads: a mixed streak confirms
    // `unreachable`, whichever kind its latest failures are.
    let suspect = if status == Status::Failing && mixed > failures {
        Suspect::Unreachable
    } else {
        suspect
    };
    State {
        suspect: Some(suspect),
        consecutive_failures: failures,
        failing_since: Some(failing_since),
        streak_kind: Some(kind),
        mixed_failures: mixed,
        mixed_since: Some(mixed_since),
        no_such_host_since,
        held_status: None,
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
        for k in [Evidence::Removed, Evidence::Network] {
            assert_eq!(Evidence::from_name(k.name()), Some(k), "{}", k.name());
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

    /// A failure, a fortnight of 403s, failures again: the mixed streak is
    /// held through the refusals exactly as the streak of one kind is (see
    /// [`name_resolved`]), neither counted nor reset, its start kept, so a
    /// refusal never makes the two streaks disagree about what came before.
    #[test]
    fn a_blocked_answer_holds_the_mixed_streak_as_the_streak_of_one_kind() {
        let mut sig = nights(Signal::NotFound, 0, 1);
        sig.extend(nights(Signal::Blocked, 1, 15));
        let s = run(&sig);
        assert_eq!(
            (s.status, s.since, s.consecutive_failures, s.mixed_failures),
            (Status::Blocked, Some(D), 1, 1),
            "refusals count for neither streak"
        );
        assert_eq!((s.failing_since, s.mixed_since), (Some(0), Some(0)));
        // 404s after it go on with the 404 streak: three over 16 days.
        let mut removed = sig.clone();
        removed.extend(nights(Signal::NotFound, 15, 17));
        let s = run(&removed);
        assert_eq!(
            (s.status, s.consecutive_failures, s.failing_since),
            (Status::Dead, 3, Some(0))
        );
        assert_eq!((s.mixed_failures, s.mixed_since), (3, Some(0)));
        // Timeouts after it go on with the mixed streak alike: three
        // failing checks over 16 days, no good one between them.
        let mut mixed = sig.clone();
        mixed.extend(nights(Signal::Unreachable, 15, 17));
        let s = run(&mixed);
        assert_eq!(
            (s.status, s.consecutive_failures, s.failing_since),
            (Status::Unreachable, 2, Some(15 * D))
        );
        assert_eq!((s.mixed_failures, s.mixed_since), (3, Some(0)));
        // One failure after the refusals is failing again, since then, with
        // the streaks it continues.
        sig.push((Signal::Unreachable, 15 * D));
        let s = run(&sig);
        assert_eq!(
            (s.status, s.since, s.suspect),
            (Status::Failing, Some(15 * D), Some(Suspect::Unreachable))
        );
        assert_eq!((s.mixed_failures, s.mixed_since), (2, Some(0)));
        // A good check after the refusals resets both, as ever.
        let mut good = nights(Signal::NotFound, 0, 1);
        good.extend(nights(Signal::Blocked, 1, 3));
        good.push((Signal::Ok, 3 * D));
        good.extend(nights(Signal::Blocked, 4, 6));
        let s = run(&good);
        assert_eq!(
            (s.consecutive_failures, s.mixed_failures, s.mixed_since),
            (0, 0, None)
        );
    }

    /// A page confirmed dead, then refused (a 403, robots.txt), then timing
    /// out once: the timeout continues the failures before the refusal, and
    /// a network failure never overrides a confirmed `dead`. Forgotten, the
    /// held mixed streak confirmed `unreachable` at the first timeout.
    #[test]
    fn a_dead_page_refused_then_timing_out_once_stays_dead() {
        // Three 404s over 72 h, two nights of 403s, one timeout.
        let mut sig = vec![
            (Signal::NotFound, 0),
            (Signal::NotFound, 2 * D),
            (Signal::NotFound, 4 * D),
        ];
        sig.extend(nights(Signal::Blocked, 5, 7));
        let s = run(&sig);
        assert_eq!(
            (s.status, s.held_status, s.consecutive_failures),
            (Status::Blocked, Some(Status::Dead), 3),
            "held through every refusal"
        );
        sig.push((Signal::Unreachable, 7 * D));
        let s = run(&sig);
        assert_eq!(
            (s.status, s.since, s.suspect),
            (Status::Dead, Some(7 * D), Some(Suspect::Unreachable)),
            "dead again since the refusals ended"
        );
        assert_eq!(s.held_status, None, "no longer refused: nothing held");
        assert_eq!(
            (s.consecutive_failures, s.mixed_failures, s.mixed_since),
            (1, 4, Some(0))
        );
        // A 410, one refusal, one timeout: too short a mixed streak to
        // confirm anything, and still no reason to doubt the 410.
        let s = run(&[
            (Signal::Gone, 0),
            (Signal::Blocked, D),
            (Signal::Unreachable, 2 * D),
        ]);
        assert_eq!(s.status, Status::Dead);
        // Nor does a host that stops resolving, or a resolver failing, make
        // it less than dead.
        for network in [Signal::NoSuchHost, Signal::ResolverFailed] {
            let s = run(&[
                (Signal::Gone, 0),
                (Signal::Blocked, D),
                (Signal::Unreachable, 2 * D),
                (Signal::Blocked, 3 * D),
                (network, 4 * D),
            ]);
            assert_eq!(s.status, Status::Dead, "{network:?}");
        }
    }

    /// After the refusals, failures of the page-gone kind count on as they
    /// would have without them; the status held is the one they build on.
    #[test]
    fn a_removal_after_the_refusals_counts_on_from_the_status_held() {
        let dead = [
            (Signal::NotFound, 0),
            (Signal::NotFound, 2 * D),
            (Signal::NotFound, 4 * D),
            (Signal::Blocked, 5 * D),
        ];
        let s = run(&[&dead[..], &[(Signal::NotFound, 6 * D)]].concat());
        assert_eq!(
            (s.status, s.consecutive_failures, s.failing_since),
            (Status::Dead, 4, Some(0))
        );
        // A soft 404, refused: a timeout leaves it a soft 404, an error page
        // keeps it one, and 404s on its streak confirm dead, as they would
        // have with no refusal between.
        let soft = [
            (Signal::SoftNotFound, 0),
            (Signal::SoftNotFound, 2 * D),
            (Signal::SoftNotFound, 4 * D),
            (Signal::Blocked, 5 * D),
        ];
        assert_eq!(run(&soft).held_status, Some(Status::Soft404));
        for (then, want) in [
            (Signal::Unreachable, Status::Soft404),
            (Signal::NoSuchHost, Status::Soft404),
            (Signal::SoftNotFound, Status::Soft404),
            (Signal::NotFound, Status::Dead),
            (Signal::Gone, Status::Dead),
        ] {
            let s = run(&[&soft[..], &[(then, 6 * D)]].concat());
            assert_eq!(s.status, want, "soft 404, refused, {then:?}");
        }
        // Unreachable, refused: a timeout keeps it unreachable; a 404 is
        // new and not yet confirmed, as on an unreachable source never
        // refused.
        let down = [
            (Signal::Unreachable, 0),
            (Signal::Unreachable, 2 * D),
            (Signal::Unreachable, 4 * D),
            (Signal::Blocked, 5 * D),
        ];
        assert_eq!(run(&down).held_status, Some(Status::Unreachable));
        let s = run(&[&down[..], &[(Signal::Unreachable, 6 * D)]].concat());
        assert_eq!((s.status, s.consecutive_failures), (Status::Unreachable, 4));
        let s = run(&[&down[..], &[(Signal::NotFound, 6 * D)]].concat());
        assert_eq!(s.status, Status::Unreachable);
        assert!(removal_unconfirmed(&s), "the 404 is not yet confirmed");
    }

    /// Only a confirmed failure is held, and only until the refusals end: a
    /// good check between forgets it with the streaks, and a source merely
    /// failing before the refusals is failing after them.
    #[test]
    fn the_status_held_through_refusals_is_forgotten_after_a_good_check() {
        let mut sig = vec![(Signal::Gone, 0), (Signal::Blocked, D)];
        sig.push((Signal::Ok, 2 * D));
        let s = run(&sig);
        assert_eq!((s.status, s.held_status), (Status::Ok, None));
        sig.push((Signal::Blocked, 3 * D));
        let s = run(&sig);
        assert_eq!((s.status, s.held_status), (Status::Blocked, None));
        sig.push((Signal::Unreachable, 4 * D));
        let s = run(&sig);
        assert_eq!(
            (s.status, s.consecutive_failures, s.mixed_failures),
            (Status::Failing, 1, 1),
            "one timeout since the page came back"
        );
        // Failing, not confirmed: nothing to hold.
        let s = run(&[(Signal::NotFound, 0), (Signal::Blocked, D)]);
        assert_eq!((s.status, s.held_status), (Status::Blocked, None));
        let s = run(&[
            (Signal::NotFound, 0),
            (Signal::Blocked, D),
            (Signal::Unreachable, 2 * D),
        ]);
        assert_eq!(s.status, Status::Failing);
        // An address that cannot be fetched as written ends the refusals too.
        let s = run(&[
            (Signal::Gone, 0),
            (Signal::Blocked, D),
            (Signal::Invalid, 2 * D),
        ]);
        assert_eq!((s.status, s.held_status), (Status::Invalid, None));
    }

    /// Every sequence of up to five checks, then a refusal before one more
    /// failure: the failure's verdict and streaks are the ones it gives with
    /// no refusal before it, since a refusal saw nothing of the page. (But
    /// for an unresolvable host, whose clock any answer ends: see
    /// `a_blocked_answer_ends_the_no_such_host_clock`.)
    #[test]
    fn a_refusal_before_a_failure_changes_nothing_it_decides() {
        let c = Confirmation {
            gone_after_ms: 5 * D,
            ..Confirmation::default()
        };
        let alphabet = [
            Signal::Ok,
            Signal::NotFound,
            Signal::SoftNotFound,
            Signal::Gone,
            Signal::Unreachable,
            Signal::NoSuchHost,
            Signal::ResolverFailed,
            Signal::Blocked,
        ];
        let failures = &alphabet[1..7];
        let mut held = std::collections::BTreeSet::new();
        let mut sequence = Vec::new();
        for code in 0..alphabet.len().pow(5) {
            let mut n = code;
            sequence.clear();
            while n > 0 || sequence.is_empty() {
                sequence.push(alphabet[n % alphabet.len()]);
                n /= alphabet.len();
            }
            let mut s = State::default();
            for (night, signal) in sequence.iter().enumerate() {
                s = decide(&s, *signal, night as i64 * 2 * D, &c);
            }
            let refused = decide(&s, Signal::Blocked, 11 * D, &c);
            if let Some(h) = refused.held_status {
                held.insert(h.name());
            }
            for &failure in failures {
                if failure == Signal::NoSuchHost && s.no_such_host_since.is_some() {
                    continue;
                }
                let want = decide(&s, failure, 12 * D, &c);
                let got = decide(&refused, failure, 12 * D, &c);
                let key = |s: &State| {
                    (
                        s.status,
                        s.suspect,
                        s.consecutive_failures,
                        s.failing_since,
                        s.streak_kind,
                        s.mixed_failures,
                        s.mixed_since,
                        s.held_status,
                    )
                };
                assert_eq!(key(&got), key(&want), "{sequence:?}, refused, {failure:?}");
            }
        }
        assert_eq!(
            held,
            ["dead", "soft_404", "unreachable"].into(),
            "every confirmed failure was held"
        );
    }

    /// Every sequence of up to six checks: wherever the failures since the
    /// last good check are of one kind, the kind read back from the verdict
    /// is the kind `decide` counted, with the suspect or (a confirmed
    /// failure written without one, its streak heading where it stands)
    /// from the status alone.
    #[test]
    fn the_streak_kind_read_from_a_verdict_is_the_kind_counted() {
        let c = Confirmation {
            gone_after_ms: 5 * D,
            ..Confirmation::default()
        };
        let alphabet = [
            Signal::Ok,
            Signal::NotFound,
            Signal::SoftNotFound,
            Signal::Gone,
            Signal::Unreachable,
            Signal::NoSuchHost,
            Signal::ResolverFailed,
            Signal::Blocked,
        ];
        let mut pure = std::collections::BTreeSet::new();
        let mut sequence = Vec::new();
        for code in 0..alphabet.len().pow(6) {
            let mut n = code;
            sequence.clear();
            while n > 0 || sequence.is_empty() {
                sequence.push(alphabet[n % alphabet.len()]);
                n /= alphabet.len();
            }
            let mut s = State::default();
            for (night, signal) in sequence.iter().enumerate() {
                s = decide(&s, *signal, night as i64 * 2 * D, &c);
                if s.mixed_failures != s.consecutive_failures {
                    continue;
                }
                let unresolved = s.no_such_host_since.is_some();
                let read = streak_kind_of(s.status, s.suspect, s.consecutive_failures, unresolved);
                assert_eq!(read, streak_kind(&s), "{sequence:?} to {night}: {s:?}");
                // Written without a suspect, a confirmed failure says the
                // streak heads where it stands.
                if s.status.is_broken() && s.suspect.map(Suspect::confirmed) == Some(s.status) {
                    let read = streak_kind_of(s.status, None, s.consecutive_failures, unresolved);
                    assert_eq!(read, streak_kind(&s), "{sequence:?} to {night}, no suspect");
                }
                pure.insert((s.status.name(), streak_kind(&s).map(Evidence::name)));
            }
        }
        // The walk met each confirmed failure on each kind it can rest on.
        for seen in [
            ("dead", Some("removed")),
            ("dead", Some("network")),
            ("soft_404", Some("removed")),
            ("unreachable", Some("network")),
            ("failing", Some("removed")),
            ("failing", Some("network")),
            ("blocked", Some("removed")),
            ("blocked", Some("network")),
        ] {
            assert!(pure.contains(&seen), "{seen:?} never met");
        }
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
        // 404, timeout, 404 is not two 404s in a row: three failures over
        // 96 h with no good check confirm `unreachable`, not `dead`.
        let s = run(&[
            (Signal::NotFound, 0),
            (Signal::Unreachable, 2 * D),
            (Signal::NotFound, 4 * D),
        ]);
        assert_eq!(
            (s.status, s.consecutive_failures, s.mixed_failures),
            (Status::Unreachable, 1, 3)
        );
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

    /// 404, timeout, 404, 503 … for weeks: no good check, so the citation
    /// has not been served all that time, though no one kind of failure
    /// lasted. Confirmed `unreachable`, never `dead`.
    fn alternating(from: i64, to: i64) -> Vec<(Signal, i64)> {
        (from..to)
            .map(|i| {
                let signal = if i % 2 == 0 {
                    Signal::NotFound
                } else {
                    Signal::Unreachable
                };
                (signal, i * D)
            })
            .collect()
    }

    #[test]
    fn a_mixed_streak_confirms_unreachable_after_the_count_and_the_span() {
        let s = run(&alternating(0, 4));
        assert_eq!(
            (s.status, s.since, s.consecutive_failures),
            (Status::Unreachable, Some(3 * D), 1),
            "four failing checks over three days"
        );
        // Weeks of it stay unreachable, never dead.
        let s = run(&alternating(0, 30));
        assert_eq!(s.status, Status::Unreachable);
        // A removal notice and a network failure mix too.
        let s = run(&[
            (Signal::SoftNotFound, 0),
            (Signal::Unreachable, 2 * D),
            (Signal::SoftNotFound, 4 * D),
        ]);
        assert_eq!(s.status, Status::Unreachable);
    }

    #[test]
    fn a_mixed_streak_is_not_confirmed_before_the_span() {
        let s = run(&[
            (Signal::NotFound, 0),
            (Signal::Unreachable, H),
            (Signal::NotFound, 2 * H),
            (Signal::Unreachable, 3 * H),
            (Signal::NotFound, 71 * H),
        ]);
        assert_eq!(s.status, Status::Failing, "five checks over 71 h");
    }

    #[test]
    fn a_mixed_streak_is_not_confirmed_before_the_count() {
        let s = run(&[(Signal::NotFound, 0), (Signal::Unreachable, 10 * D)]);
        assert_eq!(s.status, Status::Failing, "ten days but two checks");
    }

    #[test]
    fn a_good_check_resets_a_mixed_streak() {
        let mut sig = alternating(0, 2);
        sig.push((Signal::Ok, 2 * D));
        sig.extend(alternating(3, 5));
        let s = run(&sig);
        assert_eq!(
            (s.status, s.consecutive_failures),
            (Status::Failing, 1),
            "two failing checks since the good one"
        );
        sig.push((Signal::NotFound, 5 * D));
        assert_eq!(run(&sig).status, Status::Failing, "three, over 48 h");
        sig.push((Signal::Unreachable, 6 * D));
        assert_eq!(run(&sig).status, Status::Unreachable, "four, over 72 h");
    }

    #[test]
    fn a_mixed_streak_then_404s_confirms_dead() {
        let mut sig = alternating(0, 10);
        assert_eq!(run(&sig).status, Status::Unreachable);
        // The page then answers 404 night after night: the page is gone.
        sig.extend(nights(Signal::NotFound, 10, 13));
        let s = run(&sig);
        assert_eq!(
            (s.status, s.consecutive_failures),
            (Status::Unreachable, 3),
            "three 404s over 48 h, as a 404 streak of its own needs"
        );
        assert!(removal_unconfirmed(&s), "the 404s are not yet confirmed");
        sig.push((Signal::NotFound, 13 * D));
        let s = run(&sig);
        assert_eq!((s.status, s.since), (Status::Dead, Some(13 * D)));
        // Likewise for error pages served as success.
        let mut sig = alternating(0, 10);
        sig.extend(nights(Signal::SoftNotFound, 10, 14));
        assert_eq!(run(&sig).status, Status::Soft404);
    }

    #[test]
    fn a_mixed_failing_streak_heads_for_unreachable() {
        let s = run(&[(Signal::Unreachable, 0), (Signal::NotFound, D)]);
        assert_eq!(
            (s.status, s.suspect),
            (Status::Failing, Some(Suspect::Unreachable))
        );
        let s = run(&[(Signal::SoftNotFound, 0), (Signal::Unreachable, D)]);
        assert_eq!(
            (s.status, s.suspect),
            (Status::Failing, Some(Suspect::Unreachable))
        );
        // The 404s go on counting as a streak of their own: three over
        // 72 h since the first 404 confirm dead, though the suspect said
        // unreachable.
        let s = run(&[
            (Signal::Unreachable, 0),
            (Signal::NotFound, H),
            (Signal::NotFound, D),
        ]);
        assert_eq!(
            (s.status, s.suspect, s.consecutive_failures),
            (Status::Failing, Some(Suspect::Unreachable), 2)
        );
        // A pure streak still names its own kind.
        let s = run(&[(Signal::NotFound, 0), (Signal::NotFound, D)]);
        assert_eq!(s.suspect, Some(Suspect::Dead));
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
