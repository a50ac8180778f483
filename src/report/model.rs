//! What a report says, independent of its format: the header and summary, and
//! each listed citation with its evidence, archived copy and links. Every
//! renderer reads these types; the JSON schema is their serde form.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use super::evidence;
use super::select::{STATUSES, Section};
use crate::store::{ReportCounts, ReportRow};
use crate::time::{Millis, format_millis};

/// The schema name and version written into JSON reports.
pub const SCHEMA: &str = "citewatch.report/1";

/// What the report covers.
#[derive(Debug, Clone, Serialize)]
pub struct Header {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// When the report was made (RFC 3339).
    pub generated_at: String,
    /// "New" means a status change at or after this (RFC 3339); null: ever.
    pub since: Option<String>,
    /// Only citations that entered a broken, changed, moved or failing
    /// status since `since` are listed.
    pub new_only: bool,
    /// The listed statuses.
    pub statuses: Vec<&'static str>,
    /// The `--outlet` filter.
    pub outlet: Option<String>,
    /// The `--document` filter.
    pub document: Option<String>,
}

/// Citations and sources that became broken, or recovered.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Movement {
    /// Sources.
    pub sources: i64,
    /// Their citations in scope.
    pub citations: i64,
}

/// One row of the per-outlet table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OutletLine {
    /// The outlet as cited; null for citations without one.
    pub outlet: Option<String>,
    /// Citations in scope.
    pub citations: i64,
    /// Of which broken.
    pub broken: i64,
    /// `broken / citations × 100`, one decimal.
    pub broken_percent: f64,
}

/// The summary printed first.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Citations in scope.
    pub citations: i64,
    /// Every status name with its citation count (0 included).
    pub citations_by_status: BTreeMap<&'static str, i64>,
    /// Sources cited in scope.
    pub sources: i64,
    /// Every status name with its source count (0 included).
    pub sources_by_status: BTreeMap<&'static str, i64>,
    /// Broken citations in scope.
    pub broken: i64,
    /// Became broken since `since`.
    pub newly_broken: Movement,
    /// Recovered since `since`.
    pub recovered: Movement,
    /// Per outlet, highest broken share first.
    pub outlets: Vec<OutletLine>,
}

impl Summary {
    /// Builds the summary from the store's counts.
    pub fn from_counts(c: &ReportCounts) -> Summary {
        let all = |m: &BTreeMap<String, i64>| -> BTreeMap<&'static str, i64> {
            STATUSES
                .iter()
                .map(|s| (*s, m.get(*s).copied().unwrap_or(0)))
                .collect()
        };
        let citations_by_status = all(&c.citations_by_status);
        let broken = super::select::BROKEN
            .iter()
            .map(|s| citations_by_status[s])
            .sum();
        let mut outlets: Vec<OutletLine> = c
            .outlets
            .iter()
            .map(|o| OutletLine {
                outlet: o.outlet.clone(),
                citations: o.citations,
                broken: o.broken,
                broken_percent: percent(o.broken, o.citations),
            })
            .collect();
        outlets.sort_by(|a, b| {
            b.broken_percent
                .total_cmp(&a.broken_percent)
                .then(b.broken.cmp(&a.broken))
                .then(b.citations.cmp(&a.citations))
                .then_with(|| a.outlet.cmp(&b.outlet))
        });
        Summary {
            citations: c.citations_by_status.values().sum(),
            citations_by_status,
            sources: c.sources_by_status.values().sum(),
            sources_by_status: all(&c.sources_by_status),
            broken,
            newly_broken: Movement {
                sources: c.newly_broken_sources,
                citations: c.newly_broken_citations,
            },
            recovered: Movement {
                sources: c.recovered_sources,
                citations: c.recovered_citations,
            },
            outlets,
        }
    }
}

/// `part / whole × 100`, one decimal, half away from zero: every share a
/// report shows is rounded here, so the same counts read the same.
pub(crate) fn percent(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 1000.0 / whole as f64).round() / 10.0
    }
}

/// A section's heading.
#[derive(Debug, Clone, Copy)]
pub struct SectionHead {
    /// Which.
    pub section: Section,
    /// Citations listed in it.
    pub citations: i64,
}

/// A document's heading.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentHead {
    /// The `[briefings] paths` entry.
    pub root: String,
    /// Path relative to it.
    pub document: String,
    /// What a heading shows: see [`heading`]. JSON and CSV name the entry
    /// in a field of its own.
    #[serde(skip)]
    pub heading: String,
}

/// A document's heading in a report read by a person: its path under its
/// `[briefings] paths` entry, or, when the store's documents lie under more
/// than one entry (`name_root`), the entry too, as `sync` names the document
/// and `report --document` takes it. Two entries may each hold
/// `2020/12/x.txt`, and even a path only one of them holds does not say
/// which folder to open; so every heading names its entry then, not only
/// the ones a path is shared by, and a report reads the same whichever
/// documents it lists. One entry, the common case, leaves the headings bare.
pub fn heading(root: &str, document: &str, name_root: bool) -> String {
    if !name_root {
        return document.to_string();
    }
    let root = root.trim_end_matches('/');
    // An entry naming one file holds it under its file name.
    if root == document || root.ends_with(&format!("/{document}")) {
        return root.to_string();
    }
    format!("{root}/{document}")
}

/// A briefing item's heading.
#[derive(Debug, Clone, Serialize)]
pub struct BriefingHead {
    /// Position in the document, from 1.
    pub item: i64,
    /// Title.
    pub title: String,
}

/// The archived copy of a source and how to get it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Archived {
    /// Capture id.
    pub capture_id: i64,
    /// When captured (RFC 3339).
    pub captured_at: String,
    /// sha256 of the body as received.
    pub sha256: String,
    /// The command line that writes it out.
    pub get_command: String,
    /// `{public_url}archive/{capture_id}` when `[serve] public_url` is set.
    pub url: Option<String>,
}

/// One listed citation.
#[derive(Debug, Clone, Serialize)]
pub struct Citation {
    /// Citation id.
    pub id: i64,
    /// Cited outlet.
    pub outlet: Option<String>,
    /// Cited date (ISO).
    pub cited_date: Option<String>,
    /// The URL as written in the briefing.
    pub url: Option<String>,
    /// The normalised source URL.
    pub source_url: Option<String>,
    /// Source id.
    pub source_id: Option<i64>,
    /// Status name.
    pub status: String,
    /// For `failing`: the verdict it is heading for.
    pub suspect: Option<String>,
    /// Since when the status holds (RFC 3339).
    pub status_since: Option<String>,
    /// The evidence in plain words.
    pub evidence: String,
    /// HTTP status of the last check.
    pub http_status: Option<u16>,
    /// For `moved`: where the page is now.
    pub new_url: Option<String>,
    /// Main-text similarity to the copy as cited (0–1).
    pub similarity: Option<f64>,
    /// For `changed`: the date of the baseline copy (YYYY-MM-DD), the copy
    /// the change is measured against.
    pub baseline_date: Option<String>,
    /// The archived copy, if any: the copy as cited, the latest good capture
    /// within its cited date's grace, else the baseline (see
    /// [`crate::store::ReportRow::capture_id`]).
    pub archived: Option<Archived>,
    /// Whether `archived` is a later copy than the baseline (the citation is
    /// dated after a later capture): people are told which copy is which.
    #[serde(skip)]
    pub archived_after_baseline: bool,
    /// Wayback Machine lookup (no request is sent).
    pub wayback_url: Option<String>,
    /// The source entered this status group since `since`.
    pub new: bool,
}

/// Quotes a word for a POSIX shell, so that a command line citewatch
/// suggests (a report's, an error's) runs as shown when pasted: a cited
/// URL's `&` or `?` would otherwise cut it or start a job.
pub fn shell_quote(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b))
    {
        return s.into();
    }
    format!("'{}'", s.replace('\'', r"'\''")).into()
}

/// `text` with its first letter upper case, to begin a sentence.
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The Wayback Machine's list of snapshots of `url`.
pub fn wayback_url(url: &str) -> String {
    concat(&["https://web.archive.org/web/*/", url])
}

/// `parts` end to end, in a string of exactly their size: a report builds
/// several such strings per listed citation, where `format!` guessed a size
/// and grew it.
fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        out.push_str(p);
    }
    out
}

impl Citation {
    /// The view of one store row; `public_url` ends with `/`. Takes the row to
    /// move its strings rather than copy them (a report has many rows).
    pub fn from_row(r: ReportRow, public_url: Option<&str>) -> Citation {
        let evidence = evidence::in_words(&r);
        let archived = match (r.capture_id, r.captured_at, r.capture_sha256) {
            (Some(id), Some(at), Some(sha)) => {
                let at_s = format_millis(at);
                let url = r.source_url.as_deref().unwrap_or_default();
                let get = ["citewatch get ", &shell_quote(url), " --at ", &at_s];
                Some(Archived {
                    capture_id: id,
                    get_command: concat(&get),
                    captured_at: at_s,
                    sha256: sha,
                    url: public_url.map(|base| {
                        let mut u = concat(&[base, "archive/"]);
                        u.reserve(20);
                        let _ = write!(u, "{id}");
                        u
                    }),
                })
            }
            _ => None,
        };
        let baseline_date = match (r.status.as_str(), r.baseline_at) {
            ("changed", Some(at)) => Some(day(at)),
            _ => None,
        };
        let archived_after_baseline = r.capture_id.is_some()
            && r.baseline_capture_id.is_some()
            && r.capture_id != r.baseline_capture_id;
        let failing = r.status == "failing";
        let moved = r.status == "moved";
        Citation {
            id: r.citation_id,
            outlet: r.outlet,
            cited_date: r.cited_date,
            url: r.url,
            wayback_url: r.source_url.as_deref().map(wayback_url),
            source_url: r.source_url,
            source_id: r.source_id,
            status: r.status,
            suspect: r.suspect.filter(|_| failing),
            status_since: r.status_since.map(format_millis),
            evidence,
            http_status: r.http_status,
            new_url: r.final_url.filter(|_| moved),
            similarity: r.similarity,
            baseline_date,
            archived,
            archived_after_baseline,
            new: r.is_new,
        }
    }

    /// For `changed`, which copy the archived one is, in words: the
    /// baseline, or a later copy (the citation is dated after it), while the
    /// change is still measured against the baseline.
    pub fn as_cited_note(&self) -> Option<String> {
        let d = self.baseline_date.as_deref()?;
        Some(if self.archived_after_baseline {
            format!(
                "changed since the baseline copy of {d}; as cited: the archived copy, the latest \
                 taken by the cited date"
            )
        } else {
            format!("as cited: the baseline copy of {d}")
        })
    }

    /// The status as a reader sees it: `failing (suspect dead)`.
    pub fn status_label(&self) -> String {
        match &self.suspect {
            Some(s) => format!("{} (suspect {s})", self.status),
            None => self.status.clone(),
        }
    }

    /// "status since …", unless the evidence already says since when.
    pub fn since_note(&self) -> Option<String> {
        if self.evidence.contains(" since ") {
            return None;
        }
        self.status_since
            .as_deref()
            .map(|s| format!("status since {s}"))
    }

    /// The URL to show: as written, else the source URL.
    pub fn shown_url(&self) -> &str {
        self.url
            .as_deref()
            .or(self.source_url.as_deref())
            .unwrap_or("(no URL)")
    }

    /// "Outlet, date" as cited, dashes for what is missing.
    pub fn cited(&self) -> String {
        format!(
            "{}, {}",
            self.outlet.as_deref().unwrap_or("-"),
            self.cited_date.as_deref().unwrap_or("-")
        )
    }
}

/// `YYYY-MM-DD` of an instant.
pub fn day(ms: Millis) -> String {
    let mut t = format_millis(ms);
    if t.get(..10).is_some() {
        t.truncate(10);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A heading names the entry only when asked, as `sync` names the
    /// document: an entry's trailing `/` is not doubled, and an entry that
    /// is one file is that file's name.
    #[test]
    fn a_heading_names_the_entry_as_sync_does() {
        assert_eq!(heading("../b", "2020/x.txt", false), "2020/x.txt");
        assert_eq!(heading("../b", "2020/x.txt", true), "../b/2020/x.txt");
        assert_eq!(heading("../b/", "2020/x.txt", true), "../b/2020/x.txt");
        assert_eq!(heading("../b/one.txt", "one.txt", true), "../b/one.txt");
        assert_eq!(heading("one.txt", "one.txt", true), "one.txt");
    }

    #[test]
    fn shell_quoting_survives_quotes_and_ampersands() {
        assert_eq!(shell_quote("http://a.example/x"), "http://a.example/x");
        assert_eq!(
            shell_quote("http://a.example/?a=1&b='2'"),
            r"'http://a.example/?a=1&b='\''2'\'''"
        );
    }
}
