//! Fixity: re-hash every blob against its name and its rows, check every
//! capture's blob exists, and run SQLite's own integrity check. Honest
//! reporting; the one repair of a blob is [`set_aside_damaged`], which moves
//! damaged copies out of the way (deleting nothing) so that the next check
//! of their sources stores them again.

use std::collections::HashSet;

use serde::Serialize;

use super::blobs::{BlobError, BlobStore, FsBlobStore, Leftover, rehash};
use super::packs::{Rebuilt, Unindexed};
use crate::store::{Store, StoreError};

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `sqlite`, `missing_blob`, `corrupt_blob`, `size_mismatch`, `capture_without_blob`.
    pub kind: &'static str,
    /// The blob concerned, when one is.
    pub sha256: Option<String>,
    /// Captures affected.
    pub captures: Vec<i64>,
    /// The URLs of the sources whose copies these are (empty when none is
    /// known: no capture names the blob, or the rows cannot be read).
    pub sources: Vec<String>,
    /// What is wrong.
    pub detail: String,
}

/// What `verify` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    /// Blob rows re-hashed.
    pub blobs_checked: usize,
    /// Problems; empty when the archive is sound.
    pub problems: Vec<Problem>,
    /// Blob files no row names (left by an interrupted write): harmless, listed.
    pub unreferenced_blobs: Vec<String>,
    /// Pack bytes no pack index row names (an interrupted or racing write,
    /// or a damaged record [`set_aside_damaged`] took out of the index):
    /// harmless, space only, listed per pack.
    pub unindexed_pack_bytes: Vec<Unindexed>,
    /// Temporary files of blob writes that never finished: space only, safe
    /// to delete while no run is going. Not listed while a run is going
    /// (`run_in_progress`): they may be its writes.
    pub interrupted_writes: Vec<Leftover>,
    /// Damaged loose files an earlier `verify --repair` set aside
    /// (`<sha256>.damaged-<millis>`): kept for inspection, never read
    /// again; space only, safe to delete.
    pub damaged_copies_kept: Vec<Leftover>,
    /// The holder of the run lock while this verify ran, if any.
    pub run_in_progress: Option<String>,
    /// What `verify --repair` rebuilt first, if anything.
    pub pack_index_rebuilt: Option<Repaired>,
    /// Why `verify --repair` would build the pack index again, when it
    /// would (asked only when something is wrong or unindexed).
    pub pack_index_repairable: Option<String>,
    /// The damaged copies `verify --repair` set aside ([`set_aside_damaged`]):
    /// still lost (their problems are listed all the same) until the next
    /// check of their sources fetches the pages and stores them again.
    pub set_aside: Vec<SetAsideCopy>,
}

/// A damaged copy set aside by `verify --repair`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetAsideCopy {
    /// The blob.
    pub sha256: String,
    /// Where its damaged bytes are kept.
    pub kept_as: String,
    /// The sources whose next check stores it again.
    pub sources: Vec<String>,
}

/// The pack index built again from the packs ([`super::packs::Packs::rebuild_index`]).
#[derive(Debug, Clone, Serialize)]
pub struct Repaired {
    /// Why it was rebuilt.
    pub reason: String,
    /// What the rebuild found.
    #[serde(flatten)]
    pub rebuilt: Rebuilt,
}

/// What a read of a damaged database yields: the value, or, for damage,
/// `None` and an `sqlite` problem saying what could not be read. Any other
/// failure (busy, I/O) is the command's.
fn unless_damaged<T>(
    report: &mut VerifyReport,
    what: &str,
    result: Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_damage() => {
            report.problems.push(Problem {
                kind: "sqlite",
                sha256: None,
                captures: Vec::new(),
                sources: Vec::new(),
                detail: format!("{what}: {e}; restore the database from a backup"),
            });
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// A lookup of what a problem affects; nothing, for damage to the tables
/// it reads: one complaint about them is enough, and the integrity check
/// has already made it.
fn unless_damage<T: Default>(result: Result<T, StoreError>) -> Result<T, StoreError> {
    match result {
        Err(e) if e.is_damage() => Ok(T::default()),
        other => other,
    }
}

/// Checks the whole archive.
///
/// A damaged database is a finding, not a failure: whatever can still be
/// read of it is used, and when the blob rows cannot be, every blob the
/// store holds is still re-hashed against its own name (its size and
/// captures then unknown), so damage to the blobs is not hidden behind
/// damage to the database.
pub fn verify(store: &Store, blobs: &dyn BlobStore) -> Result<VerifyReport, StoreError> {
    verify_reporting(store, blobs, &mut |_, _| {})
}

/// [`verify`], telling `progress` how many of the recorded blobs have been
/// re-hashed and of how many, after each: re-hashing a large archive takes
/// minutes, and a command that long shows how far it is.
pub fn verify_reporting(
    store: &Store,
    blobs: &dyn BlobStore,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<VerifyReport, StoreError> {
    let mut report = VerifyReport::default();
    for line in store.integrity_check()? {
        report.problems.push(Problem {
            kind: "sqlite",
            sha256: None,
            captures: Vec::new(),
            sources: Vec::new(),
            detail: line,
        });
    }
    let rows = unless_damaged(
        &mut report,
        "the blob rows cannot be read (every blob is checked against its name alone)",
        store.blob_rows(),
    )?;
    let Some(rows) = rows else {
        check_names_only(&mut report, blobs, progress);
        leftovers_and_unindexed(&mut report, blobs);
        return Ok(report);
    };
    let named: HashSet<&str> = rows.iter().map(|(s, _)| s.as_str()).collect();
    let total = rows.len() as u64;
    for (sha, size) in &rows {
        report.blobs_checked += 1;
        let rehashed = rehash(blobs, sha);
        progress(report.blobs_checked as u64, total);
        let problem = match rehashed {
            Ok((actual, _)) if actual != *sha => {
                Some(("corrupt_blob", format!("content hashes to {actual}")))
            }
            Ok((_, len)) if len != *size => {
                Some(("size_mismatch", format!("{len} bytes, recorded {size}")))
            }
            Ok(_) => None,
            Err(BlobError::Missing(_)) => Some((
                "missing_blob",
                "stored nowhere: no blob file, no pack index row".to_string(),
            )),
            // Nothing of the copy is left to be damaged, and nothing to set
            // aside: the index still names a pack that is gone, which
            // `--repair` mends by building the index again.
            Err(e) if in_a_pack_gone(&e) => Some((
                "missing_blob",
                format!("stored nowhere: the pack file its index row names is gone ({e})"),
            )),
            Err(e) => Some(("corrupt_blob", format!("cannot be read back: {e}"))),
        };
        if let Some((kind, detail)) = problem {
            let captures = unless_damage(store.captures_using(sha))?;
            let sources = unless_damage(store.sources_using(sha, None))?;
            report.problems.push(Problem {
                kind,
                sha256: Some(sha.clone()),
                captures,
                sources,
                detail,
            });
        }
    }
    let disagreeing = unless_damaged(
        &mut report,
        "the captures cannot be compared with the blob rows",
        store.captures_disagreeing_with_blobs(),
    )?
    .unwrap_or_default();
    for (capture, sha) in disagreeing {
        let sources = unless_damage(store.sources_using(&sha, Some(capture)))?;
        report.problems.push(Problem {
            kind: "capture_without_blob",
            sha256: Some(sha),
            captures: vec![capture],
            sources,
            detail: "no blob row of this sha256 and size".into(),
        });
    }
    match blobs.list() {
        Ok(files) => {
            report.unreferenced_blobs = files
                .into_iter()
                .filter(|f| !named.contains(f.as_str()))
                .collect();
        }
        Err(e) => report.problems.push(Problem {
            kind: "missing_blob",
            sha256: None,
            captures: Vec::new(),
            sources: Vec::new(),
            detail: format!("cannot list blobs: {e}"),
        }),
    }
    leftovers_and_unindexed(&mut report, blobs);
    Ok(report)
}

/// Whether reading a blob failed because the pack file its index row names
/// is gone: a copy missing, not one damaged.
fn in_a_pack_gone(e: &BlobError) -> bool {
    matches!(e, BlobError::Pack { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
}

/// The space interrupted writes left: temporary files and unindexed pack bytes.
fn leftovers_and_unindexed(report: &mut VerifyReport, blobs: &dyn BlobStore) {
    match blobs.leftovers() {
        Ok(files) => report.interrupted_writes = files,
        Err(e) => report.problems.push(Problem {
            kind: "missing_blob",
            sha256: None,
            captures: Vec::new(),
            sources: Vec::new(),
            detail: format!("cannot list the blob folder's temporary files: {e}"),
        }),
    }
    match blobs.set_aside_files() {
        Ok(files) => report.damaged_copies_kept = files,
        Err(e) => report.problems.push(Problem {
            kind: "missing_blob",
            sha256: None,
            captures: Vec::new(),
            sources: Vec::new(),
            detail: format!("cannot list the damaged copies set aside: {e}"),
        }),
    }
    match blobs.unindexed() {
        Ok(packs) => report.unindexed_pack_bytes = packs,
        Err(e) => report.problems.push(Problem {
            kind: "missing_blob",
            sha256: None,
            captures: Vec::new(),
            sources: Vec::new(),
            detail: format!("cannot account for the packs' bytes: {e}"),
        }),
    }
}

/// Re-hashes every blob the store holds against its own name, for a
/// database whose blob rows cannot be read.
fn check_names_only(
    report: &mut VerifyReport,
    blobs: &dyn BlobStore,
    progress: &mut dyn FnMut(u64, u64),
) {
    let names = match blobs.list() {
        Ok(names) => names,
        Err(e) => {
            report.problems.push(Problem {
                kind: "missing_blob",
                sha256: None,
                captures: Vec::new(),
                sources: Vec::new(),
                detail: format!("cannot list blobs: {e}"),
            });
            return;
        }
    };
    let total = names.len() as u64;
    for sha in names {
        report.blobs_checked += 1;
        let rehashed = rehash(blobs, &sha);
        progress(report.blobs_checked as u64, total);
        let detail = match rehashed {
            Ok((actual, _)) if actual != sha => format!("content hashes to {actual}"),
            Ok(_) => continue,
            Err(e) => format!("cannot be read back: {e}"),
        };
        report.problems.push(Problem {
            kind: "corrupt_blob",
            sha256: Some(sha),
            captures: Vec::new(),
            sources: Vec::new(),
            detail,
        });
    }
}

/// Sets aside the copies of the blobs `report` found corrupt whose own bytes
/// are damaged ([`FsBlobStore::set_aside_if_damaged`]): while such a copy is
/// found, a check fetching the same bytes stores nothing and the archive
/// never heals. Each is listed in [`VerifyReport::set_aside`] with the
/// sources whose next check stores it again; its problem stays listed, since
/// the copy is lost until then. A copy that cannot be set aside is a
/// problem of its own. The caller holds the run lock.
pub fn set_aside_damaged(report: &mut VerifyReport, blobs: &FsBlobStore) {
    let corrupt: Vec<(String, Vec<String>)> = report
        .problems
        .iter()
        .filter(|p| p.kind == "corrupt_blob")
        .filter_map(|p| Some((p.sha256.clone()?, p.sources.clone())))
        .collect();
    // All judged before any is set aside: a delta whose base is set aside
    // here is judged against the base as found, not as missing.
    let mut judged = Vec::new();
    for (sha, sources) in corrupt {
        match blobs.damaged_copies(&sha) {
            Ok(copies) => judged.extend(
                copies
                    .into_iter()
                    .map(|c| (sha.clone(), c, sources.clone())),
            ),
            Err(e) => cannot_set_aside(report, sha, sources, e),
        }
    }
    for (sha, copy, sources) in judged {
        match blobs.set_aside(&sha, &copy) {
            Ok(c) => report.set_aside.push(SetAsideCopy {
                sha256: c.sha256,
                kept_as: c.kept_as,
                sources,
            }),
            Err(e) => cannot_set_aside(report, sha, sources, e),
        }
    }
}

/// A damaged copy that could not be judged or set aside: a problem of its own.
fn cannot_set_aside(report: &mut VerifyReport, sha: String, sources: Vec<String>, e: BlobError) {
    report.problems.push(Problem {
        kind: "corrupt_blob",
        sha256: Some(sha),
        captures: Vec::new(),
        sources,
        detail: format!("cannot be set aside: {e}"),
    });
}
