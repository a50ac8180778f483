//! What a report lists: the status names it accepts, the sections they fall
//! into, the documents its document filter names, and what `--fail-on`
//! matches.

use serde::Serialize;

use crate::config::BriefingRoot;
use crate::store::{Store, StoreError};

/// Every status name, in section order.
pub const STATUSES: &[&str] = &[
    "dead",
    "soft_404",
    "unreachable",
    "changed",
    "moved",
    "failing",
    "blocked",
    "invalid",
    "unchecked",
    "ok",
];

/// Listed when `--status` is not given: broken, changed, moved, and failing as
/// a watch list.
pub const DEFAULT_STATUSES: &[&str] = &[
    "dead",
    "soft_404",
    "unreachable",
    "changed",
    "moved",
    "failing",
];

/// The "broken" statuses (DESIGN.md).
pub const BROKEN: &[&str] = &["dead", "soft_404", "unreachable"];

/// A section of a report; citations appear in the section of their status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// dead, soft_404, unreachable.
    Broken,
    /// The main text differs in substance from the copy as cited.
    Changed,
    /// Moved permanently to a page with the same content.
    Moved,
    /// failing: a failure seen, not yet confirmed.
    Watch,
    /// blocked: cannot verify.
    Blocked,
    /// The URL cannot be fetched as written.
    Invalid,
    /// Not checked yet.
    Unchecked,
    /// Fine.
    Ok,
}

impl Section {
    /// The section a status belongs to.
    pub fn of(status: &str) -> Section {
        match status {
            "dead" | "soft_404" | "unreachable" => Section::Broken,
            "changed" => Section::Changed,
            "moved" => Section::Moved,
            "failing" => Section::Watch,
            "blocked" => Section::Blocked,
            "invalid" => Section::Invalid,
            "unchecked" => Section::Unchecked,
            _ => Section::Ok,
        }
    }

    /// The snake_case name used in JSON and CSV.
    pub fn name(self) -> &'static str {
        match self {
            Section::Broken => "broken",
            Section::Changed => "changed",
            Section::Moved => "moved",
            Section::Watch => "watch",
            Section::Blocked => "blocked",
            Section::Invalid => "invalid",
            Section::Unchecked => "unchecked",
            Section::Ok => "ok",
        }
    }

    /// The heading people read.
    pub fn title(self) -> &'static str {
        match self {
            Section::Broken => "Broken citations",
            Section::Changed => "Changed since cited",
            Section::Moved => "Moved",
            Section::Watch => "Watch: failing, not yet confirmed",
            Section::Blocked => "Blocked: cannot be verified from here",
            Section::Invalid => "Invalid: cannot be fetched as written",
            Section::Unchecked => "Not checked yet",
            Section::Ok => "OK",
        }
    }

    /// What an editor should do, one line.
    pub fn advice(self) -> &'static str {
        match self {
            Section::Broken => {
                "the cited page is gone or answers with an error; link the archived copy"
            }
            Section::Changed => "re-read the source; the archived copy shows what was cited",
            Section::Moved => "update the link to the new URL",
            Section::Watch => "failures seen but not yet confirmed; nothing to do yet",
            Section::Blocked => "the site refuses automated checks; verify by hand if it matters",
            Section::Invalid => "fix the URL in the briefing",
            Section::Unchecked => "wait for the next check",
            Section::Ok => "nothing to do",
        }
    }
}

/// Why a `--status` list was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BadStatuses {
    /// A name that is no status.
    #[error("unknown status `{name}` (valid: {}, `broken` for dead,soft_404,unreachable, or `all`)", STATUSES.join(", "))]
    Unknown {
        /// The name given.
        name: String,
    },
    /// `dead,,ok`, `dead,`: a name left out, perhaps the one that mattered.
    #[error(
        "`{list}` has an empty entry: name statuses separated by single commas, e.g. dead,soft_404"
    )]
    EmptyEntry {
        /// The list given.
        list: String,
    },
}

/// Parses a comma-separated status list (`broken` stands for the three broken
/// statuses, `all` for every one) into known names in section order, without
/// repeats. Every `--status` and `?status=` reads its list here, so each
/// takes the same words, in any case: `DEAD` copied from a heading is no
/// other status than `dead`.
pub fn parse_statuses(list: &str) -> Result<Vec<&'static str>, BadStatuses> {
    let mut picked: Vec<&'static str> = Vec::new();
    for name in list.split(',').map(str::trim) {
        let names: Vec<&'static str> = if name.is_empty() {
            return Err(BadStatuses::EmptyEntry {
                list: list.to_string(),
            });
        } else if name.eq_ignore_ascii_case("broken") {
            BROKEN.to_vec()
        } else if name.eq_ignore_ascii_case("all") {
            STATUSES.to_vec()
        } else {
            let known = STATUSES
                .iter()
                .find(|s| s.eq_ignore_ascii_case(name))
                .ok_or_else(|| BadStatuses::Unknown {
                    name: name.to_string(),
                })?;
            vec![*known]
        };
        for n in names {
            if !picked.contains(&n) {
                picked.push(n);
            }
        }
    }
    picked.sort_by_key(|s| rank(s));
    Ok(picked)
}

/// The documents a report is narrowed to, as the store knows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentFilter {
    /// A document, or the documents under a folder, by the path `citations`
    /// shows (relative to its `[briefings] paths` entry): under `root` when
    /// that is given, else under every entry holding that path.
    pub document: Option<String>,
    /// The documents under this `[briefings] paths` entry, as written: all of
    /// them (a whole entry asked for), or those at `document` under it (a
    /// document named with its entry or by its path on disk).
    pub root: Option<String>,
}

/// Why a document filter was refused.
#[derive(Debug, thiserror::Error)]
pub enum BadDocument {
    /// It names no document, folder or entry: an empty report would read
    /// as "nothing broken".
    #[error(
        "`{0}`: no document or folder with that path in the store (a path as \
         `citewatch citations` and /api/citations show it, relative to a [briefings] paths \
         entry; or as `sync` names it; or the file's path on disk under an entry; or a whole \
         entry, as written or as its folder on disk; run `citewatch sync` after adding a file)"
    )]
    Unknown(String),
    /// It names only documents that left the briefing store: said so, not
    /// "no document", which sends the user looking for a typo.
    #[error(
        "`{0}`: that document left the briefing store (withdrawn), and reports leave out \
         withdrawn documents' citations; `citewatch citations --include-withdrawn` lists them"
    )]
    Withdrawn(String),
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads a document filter (`report --document`, the service's `document=`)
/// in any of the forms a person has at hand: the path `citations` shows, the
/// name `sync` gives (the entry as written, then the path), the file's or
/// folder's path on disk under an entry, or a whole entry as written or as
/// its folder on disk. The command and the service read it here, so each
/// takes what the other does.
pub fn document_filter(
    store: &Store,
    roots: &[BriefingRoot],
    asked: &str,
) -> Result<DocumentFilter, BadDocument> {
    // The path `citations` shows says no entry: it names what lies at that
    // path under each entry holding it.
    if store.has_document(None, asked)? {
        return Ok(DocumentFilter {
            document: Some(asked.to_string()),
            root: None,
        });
    }
    // A folder as a shell completes it (`2021/`): the store names it bare.
    let folder = asked.trim_end_matches('/');
    if !folder.is_empty() && folder != asked && store.has_document(None, folder)? {
        return Ok(DocumentFilter {
            document: Some(folder.to_string()),
            root: None,
        });
    }
    // A whole entry, unless a document or folder under an entry has that
    // name too (found above).
    if let Some(root) = crate::briefing::entry_named(roots, asked) {
        return Ok(DocumentFilter {
            document: None,
            root: Some(root),
        });
    }
    // Named with its entry (as `sync` names it, or on disk): that entry's
    // document only, though another entry holds the same path.
    let other_name = crate::briefing::name_after_root(roots, asked)
        .or_else(|| crate::briefing::name_on_disk(roots, std::path::Path::new(asked)));
    match other_name {
        Some((root, name)) if store.has_document(Some(&root), &name)? => Ok(DocumentFilter {
            document: Some(name),
            root: Some(root),
        }),
        named => {
            let withdrawn = store.only_withdrawn_document(None, asked)?
                || match named {
                    Some((root, name)) => store.only_withdrawn_document(Some(&root), &name)?,
                    None => false,
                };
            Err(if withdrawn {
                BadDocument::Withdrawn(asked.to_string())
            } else {
                BadDocument::Unknown(asked.to_string())
            })
        }
    }
}

/// A status's position in a report (sections in order, then statuses).
pub fn rank(status: &str) -> i64 {
    STATUSES
        .iter()
        .position(|s| *s == status)
        .map_or(99, |p| p as i64)
}

/// The sections of these statuses, in order.
pub fn sections(statuses: &[&str]) -> Vec<Section> {
    let mut out: Vec<Section> = statuses.iter().map(|s| Section::of(s)).collect();
    out.sort();
    out.dedup();
    out
}

/// What `--fail-on` matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// A listed citation is dead, soft_404 or unreachable.
    Broken,
    /// A listed citation is changed.
    Changed,
    /// A listed citation is failing: a 404 or a network failure not yet
    /// confirmed (a new citation's dead link stays failing for days).
    Failing,
}

impl FailOn {
    /// Whether a citation with this status matches.
    pub fn matches(self, status: &str) -> bool {
        match self {
            FailOn::Broken => BROKEN.contains(&status),
            FailOn::Changed => status == "changed",
            FailOn::Failing => status == "failing",
        }
    }

    /// Its name, as `--fail-on` takes it.
    pub fn name(self) -> &'static str {
        match self {
            FailOn::Broken => "broken",
            FailOn::Changed => "changed",
            FailOn::Failing => "failing",
        }
    }
}

/// The first of `fail_on` that a report listing only `listed` statuses can
/// never match: `--fail-on` counts listed citations only, so `report
/// --status changed --fail-on broken` exited 0 however broken the store
/// was, a CI gate that never fails. A list keeping one status of the class
/// (`--status dead --fail-on broken`) can match.
pub fn never_fires(fail_on: &[FailOn], listed: &[&str]) -> Option<FailOn> {
    fail_on
        .iter()
        .copied()
        .find(|f| !listed.iter().any(|s| f.matches(s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_knows_every_status_once() {
        let mut ours: Vec<&str> = STATUSES.to_vec();
        let mut all: Vec<&str> = crate::check::verdict::Status::ALL
            .map(|s| s.name())
            .to_vec();
        ours.sort_unstable();
        all.sort_unstable();
        assert_eq!(ours, all);
    }

    #[test]
    fn statuses_parse_in_section_order_with_broken_as_a_shorthand() {
        assert_eq!(
            parse_statuses("ok, broken,dead").unwrap(),
            ["dead", "soft_404", "unreachable", "ok"]
        );
        let e = parse_statuses("dead,gone").unwrap_err().to_string();
        assert!(e.contains("`gone`") && e.contains("soft_404"), "{e}");
        assert_eq!(parse_statuses("ok,all").unwrap(), STATUSES);
        // Any case: `DEAD` as a heading shows it, ` Soft_404` as typed.
        assert_eq!(
            parse_statuses("DEAD, Soft_404,Broken").unwrap(),
            ["dead", "soft_404", "unreachable"]
        );
        assert_eq!(parse_statuses("ALL").unwrap(), STATUSES);
    }

    /// `--status dead,,ok` was read as `dead,ok`.
    #[test]
    fn a_list_with_an_empty_entry_is_refused_by_name() {
        for list in ["dead,,ok", "dead,", ",dead", " , ", "", "dead, ,ok"] {
            assert_eq!(
                parse_statuses(list),
                Err(BadStatuses::EmptyEntry {
                    list: list.to_string()
                }),
                "{list:?}"
            );
        }
        let e = parse_statuses("dead,,ok").unwrap_err().to_string();
        assert!(e.starts_with("`dead,,ok` has an empty entry"), "{e}");
    }

    #[test]
    fn sections_follow_statuses() {
        assert_eq!(
            sections(DEFAULT_STATUSES),
            [
                Section::Broken,
                Section::Changed,
                Section::Moved,
                Section::Watch
            ]
        );
        assert!(FailOn::Broken.matches("soft_404") && !FailOn::Broken.matches("changed"));
        assert!(FailOn::Failing.matches("failing") && !FailOn::Failing.matches("dead"));
        let listed = |list: &str| parse_statuses(list).unwrap();
        let all = [FailOn::Broken, FailOn::Changed, FailOn::Failing];
        assert_eq!(never_fires(&all, DEFAULT_STATUSES), None);
        assert_eq!(never_fires(&all, &listed("all")), None);
        assert_eq!(
            never_fires(&[FailOn::Broken], &listed("changed,soft_404")),
            None
        );
        assert_eq!(
            never_fires(&[FailOn::Broken], &listed("changed")),
            Some(FailOn::Broken)
        );
        assert_eq!(
            never_fires(&[FailOn::Broken, FailOn::Failing], &listed("dead")),
            Some(FailOn::Failing)
        );
        assert_eq!(never_fires(&[], &listed("ok")), None);
    }
}
