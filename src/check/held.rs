//! A network failure held back until the run's end, when its host's share of
//! the run's failures decides whether it is one host incident (see
//! [`super::run`]). Held in the store (`held_checks`), not in memory: with the
//! resolver or the uplink down all night every due source fails, and a
//! record of each held to the end grew with the store. So this is only what
//! the writer needs of a [`Checked`], owned, as JSON: the check row, its
//! capture (a 5xx answer's), both verdicts it may end with (the one judged,
//! or the one it had, should an incident excuse the check) and what the
//! run's summary counts. Pure: no I/O.

use serde::{Deserialize, Serialize};

use super::assess::Checked;
use super::verdict::{State, Status};
use crate::store::{CheckWrite, Disowned, NewCapture, NewCheck, SourceUpdate};
use crate::time::Millis;

/// A held network failure, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Held {
    source_id: i64,
    url: String,
    pub(super) old_status: String,
    started_at: Millis,
    duration_ms: u64,
    final_url: String,
    outcome: String,
    http_status: Option<u16>,
    answered_status: Option<u16>,
    attempts: u32,
    hops_json: String,
    error_detail: Option<String>,
    capture: Option<HeldCapture>,
    title: Option<String>,
    reading: Option<String>,
    reading_from: Option<i64>,
    state: HeldState,
    prev: HeldState,
    evidence: String,
    similarity: Option<f64>,
    next_check_at: Millis,
    capture_is_baseline: bool,
    verdict_stands: bool,
    baseline_update: Option<(i64, String)>,
    /// See `Checked::disown_landing` (a removal confirmed by the landing
    /// rule, which a network failure is not expected to be: kept anyway).
    disown_landing: Option<bool>,
    pub(super) not_compared: bool,
}

/// The capture of a failure that came with an answer (a 5xx).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct HeldCapture {
    captured_at: Millis,
    status: u16,
    headers_json: String,
    content_type: Option<String>,
    sha256: String,
    size: u64,
    stored_size: u64,
    truncated: bool,
    not_modified: bool,
    response_from: Option<i64>,
}

/// A [`State`] by its names, as the store writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct HeldState {
    status: String,
    since: Option<Millis>,
    suspect: Option<String>,
    consecutive_failures: u32,
    failing_since: Option<Millis>,
    streak_kind: Option<String>,
    mixed_failures: u32,
    mixed_since: Option<Millis>,
    no_such_host_since: Option<Millis>,
    held_status: Option<String>,
}

impl From<State> for HeldState {
    fn from(s: State) -> Self {
        // Taken apart whole: a field added to `State` fails to compile here
        // until it is held too, instead of being lost with every held check.
        let State {
            status,
            since,
            suspect,
            consecutive_failures,
            failing_since,
            streak_kind,
            mixed_failures,
            mixed_since,
            no_such_host_since,
            held_status,
        } = s;
        HeldState {
            status: status.name().to_string(),
            since,
            suspect: suspect.map(|s| s.name().to_string()),
            consecutive_failures,
            failing_since,
            streak_kind: streak_kind.map(|k| k.name().to_string()),
            mixed_failures,
            mixed_since,
            no_such_host_since,
            held_status: held_status.map(|h| h.name().to_string()),
        }
    }
}

impl Held {
    /// What the writer needs of `c`, a network failure.
    pub(super) fn of(c: Checked) -> Held {
        let capture = c.archived.capture.map(|f| HeldCapture {
            captured_at: f.captured_at,
            status: f.status,
            headers_json: f.headers_json,
            content_type: f.content_type,
            sha256: f.sha256,
            size: f.size,
            stored_size: f.stored_size,
            truncated: f.truncated,
            not_modified: f.not_modified,
            response_from: f.response_from,
        });
        Held {
            source_id: c.source_id,
            url: c.url,
            old_status: c.old_status,
            started_at: c.started_at,
            duration_ms: c.duration_ms,
            final_url: c.final_url,
            outcome: c.outcome.to_string(),
            http_status: c.http_status,
            answered_status: c.answered_status,
            attempts: c.attempts,
            hops_json: c.archived.hops_json,
            error_detail: c.error_detail,
            capture,
            title: c.title,
            reading: c.reading,
            reading_from: c.reading_from,
            state: c.state.into(),
            prev: c.prev.into(),
            evidence: c.evidence,
            similarity: c.similarity,
            next_check_at: c.next_check_at,
            capture_is_baseline: c.capture_is_baseline,
            verdict_stands: c.verdict_stands,
            baseline_update: c.baseline_update,
            disown_landing: c.disown_landing,
            not_compared: c.not_compared,
        }
    }

    /// As the store keeps it.
    pub(super) fn encode(&self) -> String {
        // Plain fields and strings: serializing cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Read back from the store; `None` for a record this build cannot
    /// read (none is expected: the rows live for one run of one build).
    pub(super) fn decode(record: &str) -> Option<Held> {
        serde_json::from_str(record).ok()
    }

    /// The status this check leaves.
    pub(super) fn status(&self) -> Status {
        Status::from_name(&self.state.status)
    }

    /// Excused by a host incident: the source keeps its verdict and streak
    /// (the state it had), says why, and is simply tried again soon.
    pub(super) fn excuse(&mut self, detail: &str, recheck_at: Millis) {
        self.state = self.prev.clone();
        self.verdict_stands = true;
        self.evidence = detail.to_string();
        self.next_check_at = recheck_at;
    }

    /// The write, as `run::to_write` makes it of a [`Checked`].
    pub(super) fn to_write(&self) -> CheckWrite<'_> {
        let capture = self.capture.as_ref().map(|f| NewCapture {
            captured_at: f.captured_at,
            request_url: &self.url,
            final_url: &self.final_url,
            hops_json: &self.hops_json,
            status: f.status,
            headers_json: &f.headers_json,
            content_type: f.content_type.as_deref(),
            sha256: &f.sha256,
            size: f.size,
            stored_size: f.stored_size,
            truncated: f.truncated,
            not_modified: f.not_modified,
            title: self.title.as_deref(),
            reading: self.reading.as_deref(),
            reading_from: self.reading_from,
            response_from: f.response_from,
        });
        let is_error = self.error_detail.is_some();
        let s = &self.state;
        CheckWrite {
            source_id: self.source_id,
            old_status: &self.old_status,
            check: NewCheck {
                started_at: self.started_at,
                duration_ms: self.duration_ms,
                request_url: &self.url,
                final_url: Some(&self.final_url),
                outcome: &self.outcome,
                http_status: self.answered_status,
                error_detail: self.error_detail.as_deref(),
                hops_json: &self.hops_json,
                attempts: self.attempts,
                run_id: None,
                status_after: None,
                evidence: None,
            },
            capture,
            update: SourceUpdate {
                status: &s.status,
                status_since: s.since,
                suspect: s.suspect.as_deref(),
                http_status: self.http_status,
                final_url: Some(&self.final_url),
                error_kind: is_error.then_some(self.outcome.as_str()),
                error_detail: self.error_detail.as_deref(),
                similarity: self.similarity,
                evidence: &self.evidence,
                last_checked: self.started_at + self.duration_ms as i64,
                next_check_at: self.next_check_at,
                consecutive_failures: s.consecutive_failures,
                failing_since: s.failing_since,
                streak_kind: s.streak_kind.as_deref(),
                mixed_failures: s.mixed_failures,
                mixed_since: s.mixed_since,
                no_such_host_since: s.no_such_host_since,
                held_status: s.held_status.as_deref(),
                capture_is_baseline: self.capture_is_baseline,
                verdict_stands: self.verdict_stands,
                disown_landing: self.disown_landing.map(|judged_good_too| Disowned {
                    landing: &self.final_url,
                    judged_good_too,
                }),
            },
            baseline_reading: self
                .baseline_update
                .as_ref()
                .map(|(id, json)| (*id, json.as_str())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::verdict::{Evidence, Suspect};

    fn held() -> Held {
        let prev = State {
            status: Status::Ok,
            since: Some(5),
            ..State::default()
        };
        let state = State {
            status: Status::Failing,
            since: Some(10),
            suspect: Some(Suspect::Unreachable),
            consecutive_failures: 1,
            failing_since: Some(10),
            streak_kind: Some(Evidence::Network),
            mixed_failures: 1,
            mixed_since: Some(10),
            no_such_host_since: None,
            held_status: Some(Status::Dead),
        };
        Held {
            source_id: 7,
            url: "http://h/a".into(),
            old_status: "ok".into(),
            started_at: 10,
            duration_ms: 2,
            final_url: "http://h/a".into(),
            outcome: "connect_refused".into(),
            http_status: None,
            answered_status: None,
            attempts: 1,
            hops_json: "[]".into(),
            error_detail: Some("refused \"here\"".into()),
            capture: Some(HeldCapture {
                captured_at: 11,
                status: 503,
                headers_json: "[]".into(),
                content_type: Some("text/html".into()),
                sha256: "ab".repeat(32),
                size: 3,
                stored_size: 3,
                truncated: false,
                not_modified: false,
                response_from: None,
            }),
            title: None,
            reading: None,
            reading_from: None,
            state: state.into(),
            prev: prev.into(),
            evidence: "could not connect".into(),
            similarity: None,
            next_check_at: 1_000,
            capture_is_baseline: false,
            verdict_stands: false,
            baseline_update: Some((3, "{}".into())),
            disown_landing: None,
            not_compared: false,
        }
    }

    /// What the store keeps is read back whole: the verdict judged, the
    /// one before (should an incident excuse the check), the capture.
    #[test]
    fn a_held_failure_is_read_back_as_it_was_written() {
        let h = held();
        assert_eq!(Held::decode(&h.encode()), Some(h.clone()));
        assert_eq!(Held::decode("{\"not\": \"a record\"}"), None);
        let w = h.to_write();
        assert_eq!(w.update.status, "failing");
        assert_eq!(w.update.suspect, Some("unreachable"));
        assert_eq!(w.update.streak_kind, Some("network"));
        assert_eq!(w.update.error_kind, Some("connect_refused"));
        assert_eq!(w.update.held_status, Some("dead"));
        assert_eq!(w.update.last_checked, 12);
        assert_eq!(w.capture.map(|c| c.status), Some(503));
        assert_eq!(w.baseline_reading, Some((3, "{}")));
        assert_eq!(h.status(), Status::Failing);
    }

    /// An incident leaves the source as it was (status, streak), says why,
    /// and has it tried again soon; the check keeps what happened.
    #[test]
    fn an_excused_failure_keeps_the_verdict_it_had() {
        let mut h = held();
        h.excuse("host incident: 5 of 5", 99);
        let w = h.to_write();
        assert_eq!(w.update.status, "ok");
        assert_eq!(w.update.status_since, Some(5));
        assert_eq!(w.update.consecutive_failures, 0);
        assert_eq!(w.update.streak_kind, None);
        assert!(w.update.verdict_stands);
        assert_eq!(w.update.evidence, "host incident: 5 of 5");
        assert_eq!(w.update.next_check_at, 99);
        assert_eq!(w.check.outcome, "connect_refused");
        assert_eq!(h.status(), Status::Ok);
    }
}
