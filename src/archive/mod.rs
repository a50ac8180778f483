//! What citewatch keeps of every source: content-addressed bodies ([`blobs`],
//! appended to [`packs`] by the nightly check),
//! capture and check records ([`record`](fn@record)), WARC export ([`warc`]) and fixity
//! checks ([`verify`]).
//!
//! The promise: whatever the web does later, the copy of a source as we saw it
//! can be had back byte for byte, proven by its sha256.

pub mod blobs;
pub mod packs;
mod record;
pub mod verify;
pub mod warc;

pub use blobs::{BlobError, BlobStore, DamagedCopy, FsBlobStore, SetAside, blob_dir};

/// A path in JSON as the text output shows it, each byte that is not UTF-8
/// as U+FFFD: serde refuses such a path outright, which cut a summary off
/// after `"file": ` once its export had been written whole.
fn path_lossy<S: serde::Serializer>(path: &std::path::Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&path.to_string_lossy())
}

/// [`path_lossy`], for a path that may be absent (`null`).
fn path_lossy_opt<S: serde::Serializer>(
    path: &Option<std::path::PathBuf>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match path {
        Some(path) => path_lossy(path, s),
        None => s.serialize_none(),
    }
}
pub use record::{
    Archived, CaptureFields, RecordError, archive_body, conditional_on, conditional_request,
    record, whole_unless_copy_kept,
};
