//! The report as the server shows it: `GET /api/report` (the report's JSON,
//! schema `citewatch.report/1`, exactly what `citewatch report --format json`
//! writes) and the web report at `/` (its HTML page, plus a filter form and a
//! link to each source's history), both rendered by [`crate::report`] with the
//! service's own links to archived copies.
//!
//! Both stream: the report is written on the blocking pool into a bounded
//! channel whose chunks become the response body, so a report of a million
//! citations takes no more memory in the server than in the command. Streams
//! take turns ([`super::REPORT_STREAMS`] at once) and give up a client that
//! reads nothing ([`super::REPORT_STALL`]) or has not read the whole report
//! within [`super::REPORT_DEADLINE`], so slow readers cannot take the read
//! connections the rest of the service needs, nor hold the turns for good.

use std::io::{self, Write};
use std::time::Duration;

use axum::body::{Body, Bytes};
use tokio::sync::mpsc::{self, error::SendTimeoutError};
use tokio::sync::oneshot;

use super::api::{param, parse_flag, query_pairs, status_lists};
use super::{ApiError, AppState, Links};
use crate::report::html::{Html, ServedPage};
use crate::report::select::{BadDocument, DEFAULT_STATUSES, DocumentFilter, document_filter};
use crate::report::{self, Options, ReportFormat};
use crate::time::{Millis, now_millis, parse_since};

/// What a report covers, from the query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    /// `status=a,b` (repeatable; `broken` stands for the three broken
    /// statuses); the report's default sections without one.
    pub statuses: Vec<&'static str>,
    /// `outlet=`.
    pub outlet: Option<String>,
    /// `document=`: a document or folder under a `[briefings] paths`
    /// entry, as the store names it once [`resolve_filters`] has read it.
    pub document: Option<String>,
    /// A whole `[briefings] paths` entry `document=` named.
    pub root: Option<String>,
    /// `new=1`: only what became broken, changed, moved or failing since the last run (or `since`).
    pub new_only: bool,
    /// `since=` (RFC 3339 or a duration such as `2d`).
    pub since: Option<Millis>,
}

/// Refuses a report whose `outlet` or `document` filter names nothing in the
/// store, as `citewatch report` does: a mistyped filter is a mistake to say,
/// not an empty report that reads as "nothing broken". The `document` is
/// read as `report --document` reads it (a path as /api/citations shows it,
/// as `sync` names it, on disk, or a whole `[briefings] paths` entry) and
/// left as the store names it.
pub async fn resolve_filters(state: &AppState, q: &mut ReportQuery) -> Result<(), ApiError> {
    let (outlet, document) = (q.outlet.clone(), q.document.take());
    let roots = state.config().briefings.paths.clone();
    let filter = state
        .with_store(move |s| {
            if let Some(o) = outlet
                && !s.has_outlet(&o)?
            {
                return Err(ApiError::bad_request(format!(
                    "outlet `{o}`: no citation names that outlet"
                )));
            }
            match document {
                None => Ok(DocumentFilter::default()),
                Some(d) => document_filter(s, &roots, &d).map_err(|e| match e {
                    BadDocument::Unknown(_) | BadDocument::Withdrawn(_) => {
                        ApiError::bad_request(format!("document {e}"))
                    }
                    BadDocument::Store(e) => e.into(),
                }),
            }
        })
        .await?;
    q.document = filter.document;
    q.root = filter.root;
    Ok(())
}

/// Reads the report filters of a query string; a bad value is a 400 naming it.
pub fn report_query(raw: Option<&str>) -> Result<ReportQuery, ApiError> {
    let pairs = query_pairs(raw);
    let listed = status_lists(&pairs)?;
    let statuses = if listed.is_empty() {
        DEFAULT_STATUSES.to_vec()
    } else {
        listed
    };
    let since = param(&pairs, "since")
        .map(|s| parse_since(s).map_err(|e| ApiError::bad_request(format!("since `{s}`: {e}"))))
        .transpose()?;
    Ok(ReportQuery {
        statuses,
        outlet: param(&pairs, "outlet").map(str::to_string),
        document: param(&pairs, "document").map(str::to_string),
        root: None,
        new_only: parse_flag(&pairs, "new")?,
        since,
    })
}

fn options(q: &ReportQuery, links: &Links) -> Options {
    Options {
        statuses: q.statuses.clone(),
        new_only: q.new_only,
        since: q.since,
        outlet: q.outlet.clone(),
        document: q.document.clone(),
        root: q.root.clone(),
        // Archived copies link to this service (or its archive origin).
        public_url: Some(links.archive_root().to_string()),
        now: now_millis(),
        color: false,
    }
}

/// `GET /api/report`: the report's JSON, streamed.
pub async fn report_json(state: &AppState, q: ReportQuery, links: Links) -> Result<Body, ApiError> {
    stream(state, move |store, out| {
        report::write(store, &options(&q, &links), ReportFormat::Json, out).map(drop)
    })
    .await
}

/// `GET /`: the report's HTML page with the filter form, streamed.
pub async fn report_html(state: &AppState, q: ReportQuery, links: Links) -> Result<Body, ApiError> {
    stream(state, move |store, out| {
        // As the store names them, which the filters take back.
        let mut kept = Vec::new();
        if let Some(d) = q.document.as_ref().or(q.root.as_ref()) {
            kept.push(("document", d.clone()));
        }
        if q.new_only {
            kept.push(("new", "1".to_string()));
        }
        if let Some(t) = q.since {
            kept.push(("since", crate::time::format_millis(t)));
        }
        let page = ServedPage {
            base: links.path(""),
            statuses: q.statuses.clone(),
            outlet: q.outlet.clone(),
            kept,
        };
        let mut html = Html::served(out, page);
        report::drive(store, &options(&q, &links), &mut html)?;
        drop(html);
        out.flush()?;
        Ok(())
    })
    .await
}

/// Bytes a chunk collects before it is sent.
const CHUNK: usize = 64 * 1024;

/// Runs `render` on a pooled store connection, its output becoming the body.
/// A failure before the first chunk is an error response; a later one (the
/// client went away, read nothing for [`AppState::report_stall`] or had not
/// read it all by the stream's deadline ([`super::Limits::report_deadline`],
/// counted from when the stream got its turn), the store failed midway) ends
/// the body with an error, so the connection is cut and the client cannot
/// take a truncated report for a whole one.
pub(super) async fn stream<F>(state: &AppState, render: F) -> Result<Body, ApiError>
where
    F: FnOnce(&crate::store::Store, &mut dyn Write) -> Result<(), report::ReportError>
        + Send
        + 'static,
{
    let turn = state.report_turn().await?;
    let (tx, mut rx) = mpsc::channel::<Bytes>(4);
    // How the render ended: the body ends cleanly only on `Ok`.
    let (done_tx, done_rx) = oneshot::channel::<Result<(), String>>();
    let state = state.clone();
    tokio::spawn(async move {
        let runtime = tokio::runtime::Handle::current();
        let stall = state.report_stall();
        let deadline = std::time::Instant::now() + state.limits().report_deadline;
        let result = state
            .with_store(move |store| {
                let _turn = turn;
                let mut out = ChunkWriter {
                    tx,
                    buf: Vec::with_capacity(CHUNK),
                    runtime,
                    stall,
                    deadline,
                };
                render(store, &mut out).map_err(|e| ApiError::internal(e.to_string()))?;
                out.flush().map_err(|e| ApiError::internal(e.to_string()))
            })
            .await;
        if let Err(e) = &result {
            tracing::warn!("report: {}", e.message);
        }
        let _ = done_tx.send(result.map_err(|e| e.message));
    });
    let first = match rx.recv().await {
        Some(chunk) => chunk,
        None => {
            return match ended(done_rx).await {
                Ok(()) => Ok(Body::empty()),
                Err(message) => Err(ApiError::internal(message)),
            };
        }
    };
    let rest = futures_util::stream::unfold((rx, Some(done_rx)), |(mut rx, done)| async move {
        if let Some(chunk) = rx.recv().await {
            return Some((Ok(chunk), (rx, done)));
        }
        // Every chunk is out and the writer gone: how did the render end?
        match ended(done?).await {
            Ok(()) => None,
            Err(message) => Some((Err(io::Error::other(message)), (rx, None))),
        }
    });
    let first = futures_util::stream::once(async move { Ok::<_, io::Error>(first) });
    Ok(Body::from_stream(futures_util::StreamExt::chain(
        first, rest,
    )))
}

/// How a render ended; a task that vanished (a panic) counts as a failure.
async fn ended(done: oneshot::Receiver<Result<(), String>>) -> Result<(), String> {
    done.await
        .unwrap_or_else(|_| Err("the report stopped unexpectedly".to_string()))
}

/// An [`io::Write`] sending what it is given, in chunks, to the response body.
struct ChunkWriter {
    tx: mpsc::Sender<Bytes>,
    buf: Vec<u8>,
    /// To wait for the body with a timeout from the blocking pool.
    runtime: tokio::runtime::Handle,
    /// How long a chunk may wait for the client to make room.
    stall: Duration,
    /// When the stream is given up, however the client reads: the stall
    /// alone let a client reading a chunk every 29 s hold its turn for good.
    deadline: std::time::Instant,
}

impl ChunkWriter {
    /// The error a stream given up at its deadline ends with.
    fn past_deadline(&self) -> io::Error {
        io::Error::new(
            io::ErrorKind::TimedOut,
            "the client had not read the report by the stream's deadline; the report was given up",
        )
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let left = self
            .deadline
            .saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(self.past_deadline());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        // Bounded: a client that stops reading would otherwise hold this
        // thread, its read connection and its read transaction for as long
        // as it kept the socket open.
        let wait = self.stall.min(left);
        match self.runtime.block_on(self.tx.send_timeout(chunk, wait)) {
            Ok(()) => Ok(()),
            Err(SendTimeoutError::Closed(_)) => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the client went away",
            )),
            Err(SendTimeoutError::Timeout(_)) if wait < self.stall => Err(self.past_deadline()),
            Err(SendTimeoutError::Timeout(_)) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the client read nothing for {} s; the report was given up",
                    self.stall.as_secs_f32()
                ),
            )),
        }
    }
}
