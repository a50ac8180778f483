//! Fixity: re-hash every blob against its name and its rows, check every
//! capture's blob exists, and run SQLite's own integrity check. Honest reporting,
//! no repair.

use std::collections::HashSet;

use serde::Serialize;

use super::blobs::{BlobError, BlobStore, Leftover, rehash};
use super::packs::Unindexed;
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
    /// Pack bytes no pack index row names (an interrupted or racing write):
    /// harmless, space only, listed per pack.
    pub unindexed_pack_bytes: Vec<Unindexed>,
    /// Temporary files of blob writes that never finished: space only, safe
    /// to delete while no run is going. Not listed while a run is going
    /// (`run_in_progress`): they may be its writes.
    pub interrupted_writes: Vec<Leftover>,
    /// The holder of the run lock while this verify ran, if any.
    pub run_in_progress: Option<String>,
}

/// Checks the whole archive.
pub fn verify(store: &Store, blobs: &dyn BlobStore) -> Result<VerifyReport, StoreError> {
    let mut report = VerifyReport::default();
    for line in store.integrity_check()? {
        report.problems.push(Problem {
            kind: "sqlite",
            sha256: None,
            captures: Vec::new(),
            detail: line,
        });
    }
    let rows = store.blob_rows()?;
    let named: HashSet<&str> = rows.iter().map(|(s, _)| s.as_str()).collect();
    for (sha, size) in &rows {
        report.blobs_checked += 1;
        let problem = match rehash(blobs, sha) {
            Ok((actual, _)) if actual != *sha => {
                Some(("corrupt_blob", format!("content hashes to {actual}")))
            }
            Ok((_, len)) if len != *size => {
                Some(("size_mismatch", format!("{len} bytes, recorded {size}")))
            }
            Ok(_) => None,
            Err(BlobError::Missing(_)) => {
                Some(("missing_blob", "the blob file is missing".to_string()))
            }
            Err(e) => Some(("corrupt_blob", format!("cannot be read back: {e}"))),
        };
        if let Some((kind, detail)) = problem {
            report.problems.push(Problem {
                kind,
                sha256: Some(sha.clone()),
                captures: store.captures_using(sha)?,
                detail,
            });
        }
    }
    for (capture, sha) in store.captures_disagreeing_with_blobs()? {
        report.problems.push(Problem {
            kind: "capture_without_blob",
            sha256: Some(sha),
            captures: vec![capture],
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
            detail: format!("cannot list blobs: {e}"),
        }),
    }
    match blobs.leftovers() {
        Ok(files) => report.interrupted_writes = files,
        Err(e) => report.problems.push(Problem {
            kind: "missing_blob",
            sha256: None,
            captures: Vec::new(),
            detail: format!("cannot list the blob folder's temporary files: {e}"),
        }),
    }
    match blobs.unindexed() {
        Ok(packs) => report.unindexed_pack_bytes = packs,
        Err(e) => report.problems.push(Problem {
            kind: "missing_blob",
            sha256: None,
            captures: Vec::new(),
            detail: format!("cannot account for the packs' bytes: {e}"),
        }),
    }
    Ok(report)
}
