//! Turning a fetch into history: a check row always, and a capture (with its
//! blob written first) whenever a response arrived.
//!
//! Split in two so that `check` can write blobs from many tasks and the rows
//! from its single writer: [`archive_body`] writes the blob, [`Archived`] then
//! lends the row fields.

use crate::fetch::{FetchReport, FetchRequest, Outcome};
use crate::store::{CaptureRow, NewCapture, NewCheck, Recorded, Store, StoreError};

use super::blobs::{BlobError, BlobStore, FsBlobStore};

/// Recording failed.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The blob could not be written.
    #[error(transparent)]
    Blob(#[from] BlobError),
    /// The store refused the rows.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The body could not be read back from its temporary file.
    #[error("reading the fetched body: {0}")]
    Body(#[from] std::io::Error),
    /// The report is of a URL that is not a source.
    #[error("`{0}` is not a fetchable URL; nothing to record")]
    NotASource(String),
}

/// The request for `url` made conditional on `latest`'s ETag and Last-Modified,
/// so an unchanged page is not downloaded again.
pub fn conditional_on(url: &str, latest: Option<&CaptureRow>) -> FetchRequest {
    let mut req = FetchRequest::new(url);
    if let Some(latest) = latest.filter(|c| (200..300).contains(&c.status) && !c.truncated) {
        let find = |name: &str| {
            latest
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        req.etag = find("etag");
        req.last_modified = find("last-modified");
        req.validators_url = Some(latest.final_url.clone());
    }
    req
}

/// [`conditional_on`] the latest capture the store has of `url`, unless
/// that capture's copy is missing from `blobs` (see
/// [`whole_unless_copy_kept`]): `fetch --save` heals a lost copy as a
/// check does.
pub fn conditional_request(
    store: &Store,
    blobs: &FsBlobStore,
    url: &str,
) -> Result<FetchRequest, StoreError> {
    let latest = match store.source_id(url)? {
        Some(id) => store.pick_capture(id, None)?,
        None => None,
    };
    let request = conditional_on(url, latest.as_ref());
    Ok(whole_unless_copy_kept(request, latest.as_ref(), blobs))
}

/// `request`, or the same request without its validators when the copy
/// they stand for (`previous`'s) is missing from the archive (set aside by
/// `verify --repair` as damaged, or otherwise lost): a 304 would bring no
/// bytes, and the copy would stay lost however often the page was asked
/// for. Asked whole, the page's answer stores it again, and every capture
/// naming it reads it once more. Only a request that carries validators is
/// looked at, and its copy is looked up in the pack index first (no system
/// call on a normal night, see [`FsBlobStore::is_stored`]); an index that
/// cannot be read keeps the validators: a check rebuilds a lost index
/// before it starts, and `verify` reports what stays wrong.
pub fn whole_unless_copy_kept(
    request: FetchRequest,
    previous: Option<&CaptureRow>,
    blobs: &FsBlobStore,
) -> FetchRequest {
    let validated = request.etag.is_some() || request.last_modified.is_some();
    match previous {
        Some(p) if validated && matches!(blobs.is_stored(&p.body_sha256), Ok(false)) => {
            FetchRequest::new(&request.url)
        }
        _ => request,
    }
}

/// A report whose body (if any) is safely in the blob store: the row fields.
#[derive(Debug, Clone)]
pub struct Archived {
    /// Check fields.
    pub hops_json: String,
    /// Error detail for failures.
    pub error_detail: Option<String>,
    /// Capture fields, when a response arrived (or a 304 matched `previous`).
    pub capture: Option<CaptureFields>,
}

/// The capture part of [`Archived`].
#[derive(Debug, Clone)]
pub struct CaptureFields {
    /// Body sha256.
    pub sha256: String,
    /// Bytes the blob takes on disk.
    pub stored_size: u64,
    /// HTTP status.
    pub status: u16,
    /// Headers as JSON; empty for a 304, whose headers are those of
    /// `response_from` and are not stored again.
    pub headers_json: String,
    /// Content-Type.
    pub content_type: Option<String>,
    /// Body size.
    pub size: u64,
    /// Cut at the size cap.
    pub truncated: bool,
    /// From a 304.
    pub not_modified: bool,
    /// For a 304: the capture whose response it repeats, one that stores its
    /// own headers (never another that names one).
    pub response_from: Option<i64>,
    /// When the response arrived.
    pub captured_at: i64,
}

/// Writes the report's body to the blob store (a 304 reuses `previous`'s blob)
/// and returns the row fields. Nothing is written to the database here.
///
/// `like`: a blob the body probably resembles (the source's latest good
/// copy), which the store may keep only the difference from. Pages churn: a
/// timestamp or a list of related articles changes, and a whole new copy each
/// time made a night's archive grow by as much as a first night's tenth.
pub fn archive_body(
    blobs: &dyn BlobStore,
    report: &FetchReport,
    previous: Option<&CaptureRow>,
    like: Option<&str>,
) -> Result<Archived, RecordError> {
    let captured_at = report.started_at + report.duration_ms as i64;
    let error_detail = match &report.outcome {
        Outcome::Response { .. } | Outcome::NotModified { .. } => None,
        other => Some(other.detail()),
    };
    let capture = match &report.outcome {
        Outcome::Response {
            status,
            headers,
            body,
        }
        | Outcome::BodyTooLarge {
            status,
            headers,
            body,
            ..
        } => {
            let sha256 = body.sha256_hex();
            let stored = match body.as_slice() {
                // Hashed as it arrived: no need to hash it again.
                Some(bytes) => match like {
                    Some(base) => blobs.put_hashed_against(&sha256, bytes, base)?,
                    None => blobs.put_hashed(&sha256, bytes)?,
                },
                None => blobs.put_sized(&sha256, body.len(), &mut body.reader()?)?,
            };
            let stored_size = if stored == 0 {
                blobs.stored_size(&sha256).unwrap_or(0)
            } else {
                stored
            };
            Some(CaptureFields {
                sha256,
                stored_size,
                status: *status,
                headers_json: serde_json::to_string(headers).unwrap_or_else(|_| "[]".into()),
                content_type: headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                    .map(|(_, v)| v.clone()),
                size: body.len(),
                truncated: body.truncated(),
                not_modified: false,
                response_from: None,
                captured_at,
            })
        }
        Outcome::NotModified { .. } => previous.map(|p| CaptureFields {
            sha256: p.body_sha256.clone(),
            // Unused: the previous capture names this blob, so its row exists
            // (a foreign key) and keeps the size it was stored with.
            stored_size: 0,
            status: p.status,
            headers_json: String::new(),
            content_type: p.content_type.clone(),
            size: p.body_size,
            truncated: p.truncated,
            not_modified: true,
            response_from: Some(p.response_from.unwrap_or(p.id)),
            captured_at,
        }),
        _ => None,
    };
    Ok(Archived {
        hops_json: serde_json::to_string(&report.hops).unwrap_or_else(|_| "[]".into()),
        error_detail,
        capture,
    })
}

impl Archived {
    /// The check row.
    pub fn check<'a>(&'a self, report: &'a FetchReport) -> NewCheck<'a> {
        NewCheck {
            started_at: report.started_at,
            duration_ms: report.duration_ms,
            request_url: &report.url,
            final_url: Some(&report.final_url),
            outcome: report.outcome.kind(),
            http_status: report.answered_status(),
            error_detail: self.error_detail.as_deref(),
            hops_json: &self.hops_json,
            attempts: report.attempts,
            run_id: None,
            status_after: None,
            evidence: None,
        }
    }

    /// The capture row, if any.
    pub fn capture<'a>(&'a self, report: &'a FetchReport) -> Option<NewCapture<'a>> {
        self.capture.as_ref().map(|c| NewCapture {
            captured_at: c.captured_at,
            request_url: &report.url,
            final_url: &report.final_url,
            hops_json: &self.hops_json,
            status: c.status,
            headers_json: &c.headers_json,
            content_type: c.content_type.as_deref(),
            sha256: &c.sha256,
            size: c.size,
            stored_size: c.stored_size,
            truncated: c.truncated,
            not_modified: c.not_modified,
            title: None,
            reading: None,
            reading_from: None,
            response_from: c.response_from,
        })
    }
}

/// Records `report`: writes the body's blob (before any row), then the capture
/// and check rows in one transaction.
pub fn record(
    store: &mut Store,
    blobs: &dyn BlobStore,
    report: &FetchReport,
) -> Result<Recorded, RecordError> {
    let source = crate::source_url::normalize(&report.url)
        .map_err(|_| RecordError::NotASource(report.url.clone()))?;
    let previous = match (&report.outcome, store.source_id(source.as_str())?) {
        (Outcome::NotModified { .. }, Some(id)) => store.pick_capture(id, None)?,
        _ => None,
    };
    let archived = archive_body(blobs, report, previous.as_ref(), None)?;
    let capture = archived.capture(report);
    Ok(store.record_fetch(
        source.as_str(),
        source.host(),
        &archived.check(report),
        capture.as_ref(),
    )?)
}
