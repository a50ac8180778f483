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

pub use blobs::{BlobError, BlobStore, FsBlobStore, blob_dir};
pub use record::{
    Archived, CaptureFields, RecordError, archive_body, conditional_on, conditional_request, record,
};
