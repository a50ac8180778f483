//! Turning a fetch into history: a check row always, and a capture (with its
//! blob written first) whenever a response arrived.

use crate::fetch::{FetchReport, FetchRequest, Outcome};
use crate::store::{NewCapture, NewCheck, Recorded, Store, StoreError};

use super::blobs::{BlobError, BlobStore};

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

/// The request for `url` made conditional on the latest capture's ETag and
/// Last-Modified, so an unchanged page is not downloaded again.
pub fn conditional_request(store: &Store, url: &str) -> Result<FetchRequest, StoreError> {
    let mut req = FetchRequest::new(url);
    let Some(source_id) = store.source_id(url)? else {
        return Ok(req);
    };
    if let Some(latest) = store.pick_capture(source_id, None)?
        && (200..300).contains(&latest.status)
        && !latest.truncated
    {
        let find = |name: &str| {
            latest
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        req.etag = find("etag");
        req.last_modified = find("last-modified");
    }
    Ok(req)
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
    let hops_json = serde_json::to_string(&report.hops).unwrap_or_else(|_| "[]".into());
    let error_detail = match &report.outcome {
        Outcome::Response { .. } | Outcome::NotModified { .. } => None,
        other => Some(other.detail()),
    };
    let check = NewCheck {
        started_at: report.started_at,
        duration_ms: report.duration_ms,
        request_url: &report.url,
        final_url: Some(&report.final_url),
        outcome: report.outcome.kind(),
        http_status: report.outcome.status(),
        error_detail: error_detail.as_deref(),
        hops_json: &hops_json,
        attempts: report.attempts,
    };
    let captured_at = report.started_at + report.duration_ms as i64;
    let previous;
    let headers_json;
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
            let sha = body.sha256_hex();
            let stored = blobs.put(&sha, &mut body.reader()?)?;
            headers_json = serde_json::to_string(headers).unwrap_or_else(|_| "[]".into());
            let content_type = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                .map(|(_, v)| v.as_str());
            Some((
                sha,
                stored,
                *status,
                content_type.map(str::to_string),
                body.len(),
                body.truncated(),
                false,
            ))
        }
        Outcome::NotModified { .. } => {
            previous = match store.source_id(source.as_str())? {
                Some(id) => store.pick_capture(id, None)?,
                None => None,
            };
            headers_json = previous
                .as_ref()
                .map(|p| serde_json::to_string(&p.headers).unwrap_or_else(|_| "[]".into()))
                .unwrap_or_default();
            previous.as_ref().map(|p| {
                let stored = blobs.stored_size(&p.body_sha256).unwrap_or(0);
                (
                    p.body_sha256.clone(),
                    stored,
                    p.status,
                    p.content_type.clone(),
                    p.body_size,
                    p.truncated,
                    true,
                )
            })
        }
        _ => {
            headers_json = String::new();
            None
        }
    };
    let new_capture = capture.as_ref().map(
        |(sha, stored, status, content_type, size, truncated, not_modified)| NewCapture {
            captured_at,
            request_url: &report.url,
            final_url: &report.final_url,
            hops_json: &hops_json,
            status: *status,
            headers_json: &headers_json,
            content_type: content_type.as_deref(),
            sha256: sha,
            size: *size,
            stored_size: *stored,
            truncated: *truncated,
            not_modified: *not_modified,
        },
    );
    Ok(store.record_fetch(source.as_str(), source.host(), &check, new_capture.as_ref())?)
}
