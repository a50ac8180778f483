//! `GET /archive/{capture_id}`: an archived body exactly as captured, with its
//! original Content-Type and its Memento headers, served so it cannot act in the
//! service's origin and cannot reach past itself: [`ARCHIVE_CSP`] (scripts,
//! forms, popups and same-origin access off; no fetch of anything, live or ours),
//! `nosniff`, no cookies, no referrer.
//!
//! When `[serve] archive_origin` is set, a request for an archived copy that
//! names another host (the service's own origin) is redirected there, not
//! answered: the links lead there, but the copy was still served on the
//! report's origin to whoever asked it there.
//!
//! The id is an integer looked up in SQLite; the blob is found by the sha256 in
//! that row and nothing else, so no part of the request ever becomes a path.
//!
//! A body of up to [`WHOLE_BODY_MAX`] is read whole, verified and kept in
//! memory for the next request. A larger one is verified by a first streamed
//! read (its sha256 whole before a byte of it leaves) and then streamed
//! again from the blob in [`STREAM_CHUNK`]s: read whole, each request for a
//! 50 MiB PDF held 50 MiB, and a few dozen clients asking at once took
//! gigabytes. A streamed body holds a chunk and the zstd decoder's window.

use std::io::{self, BufRead, BufReader, Read};

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

/// The largest body read whole into memory (and so kept in the body cache,
/// whose entries are at most this); larger ones are streamed.
pub const WHOLE_BODY_MAX: u64 = 1 << 20;

/// The bytes a streamed body reads from its blob at a time.
pub const STREAM_CHUNK: usize = 64 * 1024;

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
    // Asked on the main origin while archived copies have one of their own:
    // sent there, so an archived page never runs in the report's origin.
    if let Some(origin) = state.config().serve.archive_origin() {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        if host.is_some_and(|h| !super::host::names_origin(h, &origin)) {
            let to = state.links(&headers).archive(id);
            let to = HeaderValue::from_str(&to).map_err(|e| ApiError::internal(e.to_string()))?;
            return Ok((StatusCode::FOUND, [(header::LOCATION, to)]).into_response());
        }
    }
    // The row from memory or by primary key, here; the body from memory when
    // it was served before, else read, verified and decompressed on the
    // blocking pool.
    let copy = state.archived_copy(id)?;
    let blobs = state.blobs().clone();
    let (sha256, size) = (copy.body_sha256.clone(), copy.body_size);
    let mut resp = match state.cached_body(&copy.body_sha256) {
        Some(body) => (StatusCode::OK, body).into_response(),
        None if size > WHOLE_BODY_MAX => {
            let (reader, len) =
                tokio::task::spawn_blocking(move || open_verified(&blobs, id, &sha256))
                    .await
                    .map_err(|e| ApiError::internal(format!("a request task failed: {e}")))??;
            let mut resp =
                (StatusCode::OK, streamed(reader, copy.body_sha256.clone())).into_response();
            // What was verified; a second read that gave other bytes is cut.
            resp.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            resp
        }
        None => {
            let body =
                tokio::task::spawn_blocking(move || read_verified(&blobs, id, &sha256, size))
                    .await
                    .map_err(|e| ApiError::internal(format!("a request task failed: {e}")))??;
            state.cache_body(&copy.body_sha256, body.clone());
            (StatusCode::OK, body).into_response()
        }
    };
    let links = state.links(&headers);
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
        return Err(damaged(id));
    }
    Ok(bytes::Bytes::from(body))
}

/// The capture's blob, its sha256 checked by reading it through once (in
/// [`STREAM_CHUNK`]s, not whole), opened again to be streamed: a damaged copy
/// is an error, never served. Returns the reader and the body's length.
fn open_verified(
    blobs: &crate::archive::FsBlobStore,
    id: i64,
    sha256: &str,
) -> Result<(Box<dyn Read + Send>, u64), ApiError> {
    let (actual, len) = crate::archive::blobs::rehash(blobs, sha256)?;
    if actual != sha256 {
        tracing::error!(capture = id, "blob {sha256} hashes to {actual}");
        return Err(damaged(id));
    }
    Ok((blobs.open(sha256)?, len))
}

fn damaged(id: i64) -> ApiError {
    ApiError::internal(format!(
        "the archived copy of capture {id} is damaged; run `citewatch verify`"
    ))
}

/// A verified blob streamed as a response body, a [`STREAM_CHUNK`] at a time
/// (each read on the blocking pool). It is hashed again as it goes, and its
/// last chunk is held back until the hash is known: should the blob read
/// otherwise than when it was verified, the body ends in an error, and the
/// connection is cut short of the whole.
fn streamed(reader: Box<dyn Read + Send>, sha256: String) -> axum::body::Body {
    struct Streaming {
        reader: BufReader<Box<dyn Read + Send>>,
        hasher: Sha256,
        sha256: String,
    }
    /// The next chunk; empty at the end; an error for a read that failed or
    /// a body that no longer hashes to its name.
    fn next_chunk(s: &mut Streaming) -> io::Result<bytes::Bytes> {
        let mut buf = vec![0u8; STREAM_CHUNK];
        let mut filled = 0;
        while filled < buf.len() {
            match s.reader.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        buf.truncate(filled);
        s.hasher.update(&buf);
        let at_end = filled < STREAM_CHUNK || s.reader.fill_buf()?.is_empty();
        if at_end && hex::encode(s.hasher.clone().finalize()) != s.sha256 {
            return Err(io::Error::other(format!(
                "blob {} read otherwise than when it was verified",
                s.sha256
            )));
        }
        Ok(bytes::Bytes::from(buf))
    }
    let state = Streaming {
        reader: BufReader::with_capacity(STREAM_CHUNK, reader),
        hasher: Sha256::new(),
        sha256,
    };
    let chunks = futures_util::stream::unfold(Some(state), |state| async move {
        let mut state = state?;
        let read = tokio::task::spawn_blocking(move || {
            let chunk = next_chunk(&mut state);
            (state, chunk)
        })
        .await;
        match read {
            Ok((_, Ok(chunk))) if chunk.is_empty() => None,
            Ok((state, Ok(chunk))) => Some((Ok(chunk), Some(state))),
            Ok((_, Err(e))) => {
                tracing::error!("streaming an archived copy: {e}");
                Some((Err(e), None))
            }
            Err(e) => Some((Err(io::Error::other(e.to_string())), None)),
        }
    });
    axum::body::Body::from_stream(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drains a streamed body: the bytes that came before an error, and whether one came.
    async fn drain(body: axum::body::Body) -> (Vec<u8>, bool) {
        use futures_util::StreamExt;
        let mut frames = body.into_data_stream();
        let mut got = Vec::new();
        while let Some(frame) = frames.next().await {
            match frame {
                Ok(f) => got.extend_from_slice(&f),
                Err(_) => return (got, true),
            }
        }
        (got, false)
    }

    #[tokio::test]
    async fn a_streamed_body_that_hashes_otherwise_never_ends_whole() {
        // Whole chunks and a short last one, and whole chunks only: the last
        // is held back until the hash is known either way.
        for len in [2 * STREAM_CHUNK + 100, 2 * STREAM_CHUNK] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let name = hex::encode(Sha256::digest(&data));
            let (got, failed) =
                drain(streamed(Box::new(io::Cursor::new(data.clone())), name)).await;
            assert!(
                !failed && got == data,
                "{len}: a good body came back otherwise"
            );
            let other = hex::encode(Sha256::digest(b"other bytes"));
            let (got, failed) =
                drain(streamed(Box::new(io::Cursor::new(data.clone())), other)).await;
            assert!(failed, "{len}: a body that hashes otherwise ended cleanly");
            assert!(got.len() < len, "{len}: all {} bytes were sent", got.len());
        }
    }

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
