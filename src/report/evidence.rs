//! A verdict's evidence in plain words for an editor: what the check saw, for
//! how long, and since when ("404 Not Found for 4 checks since 2026-11-02").

use std::borrow::Cow;
use std::fmt::Write;

use crate::check::STANDS_UNTIL_CONFIRMED;
use crate::report::model::day;
use crate::store::ReportRow;

/// The evidence sentence for one listed citation.
///
/// Written once into a string of the right size: a report builds one per
/// listed citation, and growing a formatted string cost reallocations.
pub fn in_words(r: &ReportRow) -> String {
    let joined = |parts: &[&str]| {
        let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        parts.iter().for_each(|p| out.push_str(p));
        out
    };
    if r.source_id.is_none() {
        let why = r.invalid_reason.as_deref().unwrap_or("no URL");
        return joined(&["cannot be fetched as written: ", why]);
    }
    let seen: Cow<str> = match r.evidence.as_deref() {
        Some(e) if !e.is_empty() => e.into(),
        _ => fallback(r).into(),
    };
    match r.status.as_str() {
        // A new failure of another kind, not yet confirmed: its sentence
        // names its own streak and the one the status stands on.
        "dead" | "soft_404" | "unreachable" if seen.contains(STANDS_UNTIL_CONFIRMED) => {
            seen.into_owned()
        }
        "dead" | "soft_404" | "unreachable" => {
            let start = r.failing_since.or(r.status_since);
            match (r.consecutive_failures, start) {
                (n, Some(t)) if n >= 2 => {
                    let mut out = joined(&[&seen, " for "]);
                    out.reserve(40);
                    let _ = write!(out, "{n}");
                    out.push_str(" checks since ");
                    out.push_str(&day(t));
                    out
                }
                (_, Some(t)) => joined(&[&seen, " since ", &day(t)]),
                _ => seen.into_owned(),
            }
        }
        "moved" => match &r.final_url {
            Some(u) if !seen.contains(u.as_str()) => joined(&[&seen, "; now at ", u]),
            _ => seen.into_owned(),
        },
        _ => seen.into_owned(),
    }
}

/// When the check left no sentence (older stores, imports): say what we know.
fn fallback(r: &ReportRow) -> String {
    match (r.http_status, &r.error_kind) {
        (_, Some(kind)) => match &r.error_detail {
            Some(d) if !d.is_empty() => format!("{}: {d}", kind.replace('_', " ")),
            _ => kind.replace('_', " "),
        },
        (Some(s), None) => format!("HTTP {s}"),
        (None, None) => match r.status.as_str() {
            "unchecked" => "not checked yet".to_string(),
            other => other.replace('_', " "),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: &str, evidence: &str) -> ReportRow {
        ReportRow {
            status: status.into(),
            root: "b".into(),
            document: "d.txt".into(),
            briefing_ordinal: 0,
            title: "t".into(),
            citation_id: 1,
            outlet: None,
            cited_date: None,
            url: Some("http://a.example/x".into()),
            invalid_reason: None,
            source_id: Some(1),
            source_url: Some("http://a.example/x".into()),
            status_since: Some(1_793_750_400_000),
            suspect: None,
            http_status: Some(404),
            final_url: None,
            error_kind: None,
            error_detail: None,
            evidence: Some(evidence.into()),
            similarity: None,
            consecutive_failures: 4,
            failing_since: Some(1_793_577_600_000),
            capture_id: None,
            captured_at: None,
            capture_sha256: None,
            baseline_capture_id: None,
            baseline_at: None,
            is_new: false,
        }
    }

    #[test]
    fn broken_says_for_how_long() {
        assert_eq!(
            in_words(&row("dead", "404 Not Found")),
            "404 Not Found for 4 checks since 2026-11-02"
        );
        let mut once = row("dead", "410 Gone");
        once.consecutive_failures = 1;
        assert_eq!(in_words(&once), "410 Gone since 2026-11-02");
        // A sentence that already names the streaks is not given another.
        let both = "404 Not Found, new and not yet confirmed (1 failing check since \
                    2026-11-04); unreachable for 3 failing checks of both kinds since \
                    2026-11-02, until it is";
        assert_eq!(in_words(&row("unreachable", both)), both);
    }

    #[test]
    fn changed_keeps_the_checks_sentence_and_invalid_says_why() {
        let s = "main text 62% different from the copy archived on 2020-12-27";
        assert_eq!(in_words(&row("changed", s)), s);
        let mut bad = row("invalid", "");
        bad.source_id = None;
        bad.invalid_reason = Some("a space inside the URL".into());
        assert_eq!(
            in_words(&bad),
            "cannot be fetched as written: a space inside the URL"
        );
        let mut quiet = row("unreachable", "");
        quiet.error_kind = Some("timeout".into());
        quiet.consecutive_failures = 0;
        quiet.failing_since = None;
        assert_eq!(in_words(&quiet), "timeout since 2026-11-04");
    }
}
