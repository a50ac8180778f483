//! `GET /archive/{capture_id}`: an archived body exactly as captured, with its
//! original Content-Type and its Memento headers, served so it cannot act in the
//! service's origin and cannot reach past itself: [`ARCHIVE_CSP`] (scripts,
//! forms, popups and same-origin access off; no fetch of anything, live or ours),
//! `nosniff`, no cookies, no referrer.
//!
//! The id is an integer looked up in SQLite; the blob is found by the sha256 in
//! that row and nothing else, so no part of the request ever becomes a path.

use std::io::Read;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::memento::{format_http_date, resource_links, write_links};
use super::{ApiError, AppState};
use crate::archive::BlobStore;

/// The Content-Security-Policy of every archived body. `sandbox` alone stops
/// script but not loads: a reader opening an archived page would fetch its
/// images, styles, fonts and frames live from the cited site (telling that site
/// who reads it, and showing content it can change since), a `<base href>` would
/// move every relative load elsewhere, and an `<img src="/api/report?…">` would
/// make each reader's browser ask this service for a whole report. So nothing
/// is fetched: only what the copy itself carries (inline styles, `data:` images,
/// fonts and media) is shown, and it may neither set a base nor submit a form.
pub const ARCHIVE_CSP: &str = "sandbox; default-src 'none'; img-src data:; \
style-src 'unsafe-inline'; font-src data:; media-src data:; base-uri 'none'; form-action 'none'";

/// The headers every archived body carries, whatever it is.
pub const SANDBOX_HEADERS: [(&str, &str); 5] = [
    ("content-security-policy", ARCHIVE_CSP),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-resource-policy", "same-origin"),
    ("x-frame-options", "SAMEORIGIN"),
];

/// Reads a capture id from the path: digits only, else 400.
pub fn capture_id(raw: &str) -> Result<i64, ApiError> {
    super::api::parse_id(raw, "capture")
}

/// Adds the sandbox headers to a response.
pub fn sandbox(headers: &mut HeaderMap) {
    for (k, v) in SANDBOX_HEADERS {
        headers.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
    }
}

/// `GET /archive/{capture_id}`.
pub async fn archived_copy(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = capture_id(&raw)?;
    // The row from memory or by primary key, here; the body from memory when
    // it was served before, else read, verified and decompressed on the
    // blocking pool.
    let copy = state.archived_copy(id)?;
    let body = match state.cached_body(&copy.body_sha256) {
        Some(body) => body,
        None => {
            let blobs = state.blobs().clone();
            let (sha256, size) = (copy.body_sha256.clone(), copy.body_size);
            let body =
                tokio::task::spawn_blocking(move || read_verified(&blobs, id, &sha256, size))
                    .await
                    .map_err(|e| ApiError::internal(format!("a request task failed: {e}")))??;
            state.cache_body(&copy.body_sha256, body.clone());
            body
        }
    };
    let links = state.links(&headers);
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    let content_type = copy
        .content_type
        .as_deref()
        .and_then(|c| HeaderValue::from_str(c).ok())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, content_type);
    sandbox(h);
    let text = |s: String| HeaderValue::from_str(&s).map_err(|e| ApiError::internal(e.to_string()));
    h.insert(
        "memento-datetime",
        text(format_http_date(copy.captured_at))?,
    );
    h.insert(
        header::LINK,
        text(write_links(&resource_links(&links, &copy.source_url), ", "))?,
    );
    h.insert(
        "x-citewatch-original-status",
        text(copy.status.to_string())?,
    );
    h.insert("x-citewatch-sha256", text(copy.body_sha256)?);
    // A body cut at the size cap renders as if whole; only this says it is not.
    if copy.truncated {
        h.insert("x-citewatch-truncated", HeaderValue::from_static("true"));
    }
    // A capture never changes.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(resp)
}

/// A blob's bytes, checked against its name: a damaged copy is an error, never
/// served.
fn read_verified(
    blobs: &crate::archive::FsBlobStore,
    id: i64,
    sha256: &str,
    size: u64,
) -> Result<bytes::Bytes, ApiError> {
    let mut reader = blobs.open(sha256)?;
    let mut body = Vec::with_capacity(size.min(64 << 20) as usize);
    reader
        .read_to_end(&mut body)
        .map_err(|e| ApiError::internal(format!("reading capture {id}: {e}")))?;
    let actual = hex::encode(Sha256::digest(&body));
    if actual != sha256 {
        tracing::error!(capture = id, "blob {sha256} hashes to {actual}");
        return Err(ApiError::internal(format!(
            "the archived copy of capture {id} is damaged; run `citewatch verify`"
        )));
    }
    Ok(bytes::Bytes::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_integers_are_capture_ids() {
        assert_eq!(capture_id("42").unwrap(), 42);
        for bad in [
            "",
            "..",
            "%2e%2e",
            "-1",
            "1.0",
            "/etc/passwd",
            "1/../2",
            "99999999999999999999",
            " 1",
        ] {
            let e = capture_id(bad).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{bad}");
        }
    }
}
