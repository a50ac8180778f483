//! `citewatch serve`: the JSON API ([`api`]), archived copies ([`archive`]),
//! Memento TimeGate and TimeMap ([`memento`]), the web report and source history
//! pages ([`web`], rendered by [`report`], the seam `citewatch report` plugs
//! into), Prometheus metrics ([`metrics`]) and the admin token ([`auth`]).
//!
//! Reads go through a small pool of read-only SQLite connections, used on the
//! blocking pool, so they see the last committed state while a check run
//! writes (WAL). Archived bodies are served sandboxed: they never run script in
//! the service's origin.

pub mod api;
pub mod archive;
pub mod auth;
mod conn;
pub mod host;
pub mod hot;
pub mod memento;
pub mod metrics;
pub mod report;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::archive::{BlobError, FsBlobStore, blob_dir};
use crate::config::Config;
use crate::store::{ArchivedCopy, Store, StoreError};
use hot::HotCache;

/// Requests taking longer than this are answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Request bodies larger than this are refused (413): only `POST /api/check` takes one.
pub const BODY_LIMIT: usize = 64 * 1024;
/// Read connections, and so store reads at once: opening a connection per
/// request costs more than the read, so requests queue for one of these instead.
const POOL_SIZE: usize = 8;
/// Reports streamed at once (`/`, `/api/report`). Each holds a read connection
/// for as long as its client takes to read it, so they may take no more than
/// half the pool: clients that stop reading once held every connection and
/// every other endpoint waited behind them.
pub const REPORT_STREAMS: usize = POOL_SIZE / 2;
/// How long a report request waits for a stream's turn before it is answered
/// 503: long enough for a burst of editors opening the report at once, short
/// enough that a client learns the service is busy.
pub const REPORT_QUEUE_WAIT: Duration = Duration::from_secs(5);
/// What a 503 for a report asks the client to wait, in seconds.
const REPORT_RETRY_AFTER: u32 = 10;
/// How long a streamed report waits to hand a chunk to a client that reads
/// nothing; then the report is given up, and with it its read connection and
/// read transaction (which would otherwise also hold back WAL checkpoints).
/// The request timeout covers only the response head, so without this a
/// client that never reads kept them for as long as it kept the socket.
pub const REPORT_STALL: Duration = Duration::from_secs(30);
/// How long a streamed report may take in all, however its client reads;
/// then it is given up as a stalled one is, and its turn and read connection
/// freed. [`REPORT_STALL`] bounds each chunk's wait only, so clients that
/// each read a chunk just inside it held every turn for good. Ten minutes
/// sends a report of a million citations to any client reading at a few
/// hundred kilobytes a second; a client slower than that gets the report
/// cut (never a truncated one that looks whole) and may ask again.
pub const REPORT_DEADLINE: Duration = Duration::from_secs(600);
/// How long a connection may take to send a request head, counted from
/// when the server starts waiting for one: on a new connection, and between
/// requests on a kept-alive one, so it bounds idle keep-alive too (hyper has
/// one clock for both). Without it, a client that connected and sent nothing,
/// or half a head, held its connection, task and descriptor for good, and a
/// graceful stop waited for it. As long as the request timeout: a slow link
/// sends a head in well under that. Hyper then closes the connection, unanswered.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a response may wait on a client that reads none of it; then its
/// connection is cut. The request timeout covers only the response head,
/// and a report ([`REPORT_STALL`]) gives up on its own, but an archived copy of
/// many megabytes held its connection for as long as its client kept the socket.
pub const WRITE_STALL: Duration = Duration::from_secs(30);
/// How long a graceful stop waits for the connections still open; then they
/// are cut. Long enough for a request in flight to reach its timeout and
/// send its answer (idle connections close at once, half-sent heads within
/// [`HEADER_READ_TIMEOUT`]); short enough that, waited for alongside a check
/// run ([`CHECK_STOP_WAIT`]), stopping ends well within systemd's
/// `TimeoutStopSec=90s` of the shipped unit, whatever the clients do.
pub const STOP_GRACE: Duration = Duration::from_secs(35);
/// Connections served at once, at most; past it, new ones wait in the
/// listener's backlog until one closes. Without a cap, enough clients use up
/// the process's descriptors (systemd gives a service a soft limit of 1,024),
/// and then every blob and database open fails for everyone. Half that limit
/// leaves the rest to the read pool, the packs and a check run started through
/// the API (its fetches at its concurrency); the time bounds above free a slot
/// that a stalled client holds.
pub const MAX_CONNECTIONS: usize = 512;
/// Bytes of verified archived bodies kept in memory (hot copies skip the blob
/// read, decompression and re-hash).
const BODY_CACHE_BYTES: usize = 64 << 20;
/// Bytes of capture rows kept in memory (about 64,000 rows).
const COPY_CACHE_BYTES: usize = 16 << 20;

/// The bounds that keep clients from holding the service, each described at
/// its constant. Tests set the times to fractions of a second, so that a
/// stalled client's test need not wait out the real ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// [`REQUEST_TIMEOUT`].
    pub request: Duration,
    /// [`REPORT_STALL`].
    pub report_stall: Duration,
    /// [`REPORT_DEADLINE`].
    pub report_deadline: Duration,
    /// [`HEADER_READ_TIMEOUT`].
    pub header_read: Duration,
    /// [`WRITE_STALL`].
    pub write_stall: Duration,
    /// [`STOP_GRACE`].
    pub stop_grace: Duration,
    /// [`MAX_CONNECTIONS`] (at least one is served, whatever this says).
    pub connections: usize,
}

impl Limits {
    /// The bounds `serve` runs with: the defaults, with the connection cap
    /// `[serve] max_connections` sets.
    pub fn of(serve: &crate::config::ServeConfig) -> Limits {
        Limits {
            connections: serve.max_connections,
            ..Limits::default()
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            request: REQUEST_TIMEOUT,
            report_stall: REPORT_STALL,
            report_deadline: REPORT_DEADLINE,
            header_read: HEADER_READ_TIMEOUT,
            write_stall: WRITE_STALL,
            stop_grace: STOP_GRACE,
            connections: MAX_CONNECTIONS,
        }
    }
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The address could not be listened on.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("serving failed: {0}")]
    Io(#[from] std::io::Error),
}

/// An error answered as JSON: `{"error": {"status": 404, "message": "…"}}`.
#[derive(Debug)]
pub struct ApiError {
    /// The status code.
    pub status: StatusCode,
    /// What went wrong, for people.
    pub message: String,
    /// Seconds to send as `Retry-After` (a 503 for a busy service).
    pub retry_after: Option<u32>,
}

impl ApiError {
    /// An error with this status; a long value it quotes (a query's 100 KB
    /// `document=`) is clipped, as the command's error lines are.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        let message = message.into();
        let message = match crate::error_text::clipped(&message) {
            std::borrow::Cow::Borrowed(_) => message,
            std::borrow::Cow::Owned(shorter) => shorter,
        };
        ApiError {
            status,
            message,
            retry_after: None,
        }
    }
    /// 400.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
    /// 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }
    /// 500.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        tracing::error!("store: {e}");
        ApiError::internal(format!("the store failed: {e}"))
    }
}

impl From<BlobError> for ApiError {
    fn from(e: BlobError) -> ApiError {
        tracing::error!("archive: {e}");
        ApiError::internal(format!("the archive failed: {e}; run `citewatch verify`"))
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    status: u16,
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                status: self.status.as_u16(),
                message: &self.message,
            },
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"citewatch\""),
            );
        }
        resp
    }
}

/// Where links point: the service's base URL and the base of archived copies
/// (the separate `archive_origin` when configured). Both end with `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    base: String,
    archive_base: String,
}

impl Links {
    /// Links under `base`, archived copies under `archive_base`.
    pub fn new(base: &str, archive_base: &str) -> Links {
        let slash = |s: &str| {
            if s.ends_with('/') {
                s.to_string()
            } else {
                format!("{s}/")
            }
        };
        Links {
            base: slash(base),
            archive_base: slash(archive_base),
        }
    }
    /// A path of the service.
    pub fn path(&self, rel: &str) -> String {
        format!("{}{}", self.base, rel.trim_start_matches('/'))
    }
    /// The archived copy of capture `id`.
    pub fn archive(&self, id: i64) -> String {
        format!("{}archive/{id}", self.archive_base)
    }
    /// The TimeGate of an original URL.
    pub fn timegate(&self, original: &str) -> String {
        self.path(&format!("timegate/{original}"))
    }
    /// The TimeMap of an original URL.
    pub fn timemap(&self, original: &str) -> String {
        self.path(&format!("timemap/link/{original}"))
    }
    /// A source's history page.
    pub fn source(&self, id: i64) -> String {
        self.path(&format!("sources/{id}"))
    }

    /// A path of the service as a reference from the origin it is reached
    /// at, for `next` and `Location`: under a `public_url` of
    /// `https://host/base/`, `/base/api/…`; a bare `/api/…` lost the `/base`
    /// a proxy serves the service under.
    pub fn local(&self, rel: &str) -> String {
        let root = url::Url::parse(&self.base)
            .map(|u| u.path().to_string())
            .unwrap_or_else(|_| "/".to_string());
        format!("{root}{}", rel.trim_start_matches('/'))
    }

    /// Where archived copies live, ending with `/` (`{root}archive/{id}`).
    pub fn archive_root(&self) -> &str {
        &self.archive_base
    }
}

struct Inner {
    config: Config,
    db: PathBuf,
    blobs: FsBlobStore,
    pool: Mutex<Vec<Store>>,
    /// Permits to use a pooled connection.
    readers: tokio::sync::Semaphore,
    /// Permits to stream a report ([`REPORT_STREAMS`]).
    reports: Arc<tokio::sync::Semaphore>,
    /// Shorter in tests.
    limits: Limits,
    /// Verified archived bodies by sha256.
    bodies: Mutex<HotCache<String, bytes::Bytes>>,
    /// Capture rows as `/archive/{id}` needs them, by id (a capture never
    /// changes once recorded).
    copies: Mutex<HotCache<i64, ArchivedCopy>>,
    /// A check started through the API is running in this process.
    check_running: AtomicBool,
    /// The latest such run: its stop flag and thread, for shutdown.
    check_run: Mutex<Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>>,
    /// Set when the service is told to stop: no check run starts after it.
    stopping: AtomicBool,
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    /// Opens the store (migrating it once, read-write) and prepares the state.
    /// The store must exist: `serve` shows what `sync` and `check` recorded.
    pub fn new(config: Config) -> Result<AppState, ServeError> {
        let limits = Limits::of(&config.serve);
        AppState::with_limits(config, limits)
    }

    /// [`AppState::new`] with another [`REPORT_STALL`], so that tests of a
    /// stalled client need not wait out the real one.
    pub fn with_report_stall(config: Config, stall: Duration) -> Result<AppState, ServeError> {
        let limits = Limits {
            report_stall: stall,
            ..Limits::of(&config.serve)
        };
        AppState::with_limits(config, limits)
    }

    /// [`AppState::new`] with other time bounds (tests of stalled clients).
    pub fn with_limits(config: Config, limits: Limits) -> Result<AppState, ServeError> {
        let db = config.store.database();
        drop(Store::open_existing(&db)?);
        let first = Store::open_read_only(&db)?;
        Ok(AppState(Arc::new(Inner {
            blobs: FsBlobStore::new(blob_dir(&config.store.dir)),
            db,
            config,
            pool: Mutex::new(vec![first]),
            readers: tokio::sync::Semaphore::new(POOL_SIZE),
            reports: Arc::new(tokio::sync::Semaphore::new(REPORT_STREAMS)),
            limits,
            bodies: Mutex::new(HotCache::new(BODY_CACHE_BYTES)),
            copies: Mutex::new(HotCache::new(COPY_CACHE_BYTES)),
            check_running: AtomicBool::new(false),
            check_run: Mutex::new(None),
            stopping: AtomicBool::new(false),
        })))
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// The blob store.
    pub fn blobs(&self) -> &FsBlobStore {
        &self.0.blobs
    }

    /// Runs `f` with a read-only store connection on the blocking pool.
    pub async fn with_store<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, ApiError> + Send + 'static,
    {
        let state = self.clone();
        let _permit = self
            .0
            .readers
            .acquire()
            .await
            .map_err(|_| ApiError::internal("the server is shutting down"))?;
        tokio::task::spawn_blocking(move || {
            let pooled = state.0.pool.lock().ok().and_then(|mut p| p.pop());
            let store = match pooled {
                Some(s) => s,
                None => Store::open_read_only(&state.0.db)?,
            };
            let out = f(&store);
            if let Ok(mut p) = state.0.pool.lock()
                && p.len() < POOL_SIZE
            {
                p.push(store);
            }
            out
        })
        .await
        .map_err(|e| ApiError::internal(format!("a request task failed: {e}")))?
    }

    /// A turn to stream a report, waited for at most [`REPORT_QUEUE_WAIT`];
    /// then 503 with `Retry-After`, so that report streams never take the
    /// read connections every other endpoint needs.
    pub async fn report_turn(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        let turn = self.0.reports.clone().acquire_owned();
        match tokio::time::timeout(REPORT_QUEUE_WAIT, turn).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(ApiError::internal("the server is shutting down")),
            Err(_) => {
                let mut e = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "{REPORT_STREAMS} reports are being sent already; try again in \
                         {REPORT_RETRY_AFTER} s"
                    ),
                );
                e.retry_after = Some(REPORT_RETRY_AFTER);
                Err(e)
            }
        }
    }

    /// How long a report waits for a client that reads nothing ([`REPORT_STALL`]).
    pub fn report_stall(&self) -> Duration {
        self.0.limits.report_stall
    }

    /// The time bounds this service keeps.
    pub fn limits(&self) -> Limits {
        self.0.limits
    }

    /// Runs `f` right here, on the calling runtime thread, with that thread's own
    /// read-only connection: for primary-key lookups, which take microseconds,
    /// less than the hand-off to the blocking pool and back. Anything that
    /// scans belongs in [`AppState::with_store`].
    pub fn with_store_here<T>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        thread_local! {
            static HERE: std::cell::RefCell<Option<(PathBuf, Store)>> =
                const { std::cell::RefCell::new(None) };
        }
        HERE.with(|cell| {
            let mut slot = cell.borrow_mut();
            let store = match slot.take() {
                Some((db, store)) if db == self.0.db => store,
                _ => Store::open_read_only(&self.0.db)?,
            };
            let out = f(&store);
            *slot = Some((self.0.db.clone(), store));
            out
        })
    }

    /// Link bases for a request: `[serve] public_url`, else the request's Host.
    pub fn links(&self, headers: &HeaderMap) -> Links {
        let serve = &self.0.config.serve;
        let base = match serve.public_url() {
            Some(u) => u.to_string(),
            None => match headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
                Some(host) if valid_host(host) => format!("http://{host}/"),
                _ => "/".to_string(),
            },
        };
        let archive = serve
            .archive_origin()
            .map(|u| u.to_string())
            .unwrap_or_else(|| base.clone());
        Links::new(&base, &archive)
    }

    /// A verified archived body from memory.
    pub fn cached_body(&self, sha256: &str) -> Option<bytes::Bytes> {
        self.0.bodies.lock().ok()?.get(sha256)
    }

    /// Keeps a verified archived body in memory.
    pub fn cache_body(&self, sha256: &str, body: bytes::Bytes) {
        if let Ok(mut c) = self.0.bodies.lock() {
            let weight = body.len();
            c.put(sha256.to_string(), body, weight);
        }
    }

    /// The capture row behind `/archive/{id}`, from memory or the store.
    pub fn archived_copy(&self, id: i64) -> Result<ArchivedCopy, ApiError> {
        if let Some(copy) = self.0.copies.lock().ok().and_then(|mut c| c.get(&id)) {
            return Ok(copy);
        }
        let copy = self.with_store_here(|store| {
            store
                .archived_copy(id)?
                .ok_or_else(|| ApiError::not_found(format!("no capture {id}")))
        })?;
        if let Ok(mut c) = self.0.copies.lock() {
            let weight = 96
                + copy.source_url.len()
                + copy.body_sha256.len()
                + copy.content_type.as_ref().map_or(0, String::len);
            c.put(id, copy.clone(), weight);
        }
        Ok(copy)
    }

    fn check_running(&self) -> &AtomicBool {
        &self.0.check_running
    }

    /// Keeps the API-started run's stop flag and thread, for [`Self::ask_check_run_to_stop`] and [`Self::wait_for_check_run`].
    /// A run begun just as the service was told to stop (its request read
    /// before, its thread started after) is asked to stop at once too.
    fn track_check_run(&self, stop: Arc<AtomicBool>, thread: std::thread::JoinHandle<()>) {
        if let Ok(mut run) = self.0.check_run.lock() {
            if self.stopping() {
                stop.store(true, std::sync::atomic::Ordering::Release);
            }
            *run = Some((stop, thread));
        }
    }

    /// Whether the service has been told to stop ([`Self::ask_check_run_to_stop`]).
    pub fn stopping(&self) -> bool {
        self.0.stopping.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Asks a check run started through the API to stop as its time budget
    /// would (no new fetches, those in flight recorded, the run completed):
    /// a service stopped mid-run once left the run `running`, its held-back
    /// failures lost, without a word. Asked as soon as the service is told to
    /// stop, while it still finishes the requests in flight.
    pub fn ask_check_run_to_stop(&self) {
        // Under the run's lock, so that a run being tracked now sees it.
        let run = self.0.check_run.lock();
        self.0
            .stopping
            .store(true, std::sync::atomic::Ordering::Release);
        if let Ok(run) = run
            && let Some((stop, thread)) = run.as_ref()
            && !thread.is_finished()
        {
            tracing::info!("asking the check run started through the API to stop");
            stop.store(true, std::sync::atomic::Ordering::Release);
        }
    }

    /// Waits at most `wait` for a check run started through the API to end
    /// (see [`Self::ask_check_run_to_stop`]); one still going is left to the
    /// process's exit, and the next run marks it interrupted.
    pub async fn wait_for_check_run(&self, wait: std::time::Duration) {
        let run = self.0.check_run.lock().ok().and_then(|mut r| r.take());
        let Some((stop, thread)) = run else { return };
        if thread.is_finished() {
            return;
        }
        stop.store(true, std::sync::atomic::Ordering::Release);
        // Polled rather than joined on a blocking task: the runtime would wait
        // for that task at exit, however long the run took.
        let deadline = tokio::time::Instant::now() + wait;
        while !thread.is_finished() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        if thread.is_finished() {
            tracing::info!("the check run stopped; the rest waits for the next run");
        } else {
            tracing::warn!(
                "the check run did not stop within {} s (a fetch waiting out a retry, \
                 say); left as it is: the next run marks it interrupted and checks what it \
                 did not record",
                wait.as_secs()
            );
        }
    }
}

/// A Host header fit to be echoed into a link (no spaces, quotes or brackets
/// that could break a Link header or an attribute).
fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() < 256
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
}

/// The router with every endpoint, timeouts, body limit and access log.
pub fn router(state: AppState) -> Router {
    let timeout = state.limits().request;
    let guarded = routes().layer(axum::middleware::from_fn_with_state(
        state.clone(),
        host::guard,
    ));
    with_layers(guarded, timeout).with_state(state)
}

fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(web::report_page))
        .route("/sources/{id}", get(web::source_page))
        .route("/api/sources", get(api::sources))
        .route("/api/sources/{id}", get(api::source))
        .route("/api/citations", get(api::citations))
        .route("/api/report", get(api::report))
        .route("/api/runs", get(api::runs))
        .route("/api/runs/{id}", get(api::run))
        .route("/api/check", post(api::start_check))
        .route("/archive/{id}", get(archive::archived_copy))
        .route("/timegate/{*url}", get(memento::timegate))
        .route("/timemap/link/{*url}", get(memento::timemap_link))
        .route("/metrics", get(metrics::metrics))
        .route("/healthz", get(healthz))
        .fallback(not_found)
}

/// What every endpoint gets: a bug's panic answered as a 500 (and logged by
/// the panic hook) rather than a dropped connection, the body limit, the
/// timeout and the access log, which sees that 500 like any other answer.
fn with_layers<S: Clone + Send + Sync + 'static>(
    routes: Router<S>,
    timeout: Duration,
) -> Router<S> {
    routes
        .layer(CatchPanicLayer::custom(|_panic: Box<dyn std::any::Any + Send>| {
            ApiError::internal("internal error (a bug in citewatch); the server's log has it")
                .into_response()
        }))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(axum::middleware::map_response(json_errors))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
                })
                .on_response(
                    |resp: &Response, latency: Duration, _span: &tracing::Span| {
                        tracing::info!(
                            status = resp.status().as_u16(),
                            latency_us = latency.as_micros() as u64,
                            "served"
                        );
                    },
                ),
        )
}

/// Errors the framework answers by itself (405 with no body, 413 and 408 in
/// plain text) in the JSON every other error has, keeping their headers
/// (`Allow`, say). Hyper's own 400, 414 and 431, for a request head it cannot
/// parse, never reach this: hyper writes them, with no body, before any
/// service runs, and offers no hook to word them.
async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    let plain = resp.headers().get(header::CONTENT_TYPE).is_none_or(|v| {
        v.to_str()
            .is_ok_and(|t| t.trim_start().starts_with("text/plain"))
    });
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let said = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let said = String::from_utf8_lossy(&said).trim().to_string();
    let message = if said.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("error")
            .to_ascii_lowercase()
    } else {
        said
    };
    let mut json = ApiError::new(status, message).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            json.headers_mut().insert(name.clone(), value.clone());
        }
    }
    json
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such page")
}

/// Asks the store on the runtime thread's own connection, not the pool's: a
/// health check must answer while slow readers hold the pool, and it once
/// counted every citation, a scan on a large store.
async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    let ok = state.with_store_here(|s| Ok(s.ping()?));
    match ok {
        Ok(()) => ([(header::CONTENT_TYPE, "text/plain")], "ok\n").into_response(),
        Err(e) => e.into_response(),
    }
}

/// Binds `addr` (port 0 picks a free one) and returns the listener.
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, ServeError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

/// Serves until `shutdown` completes, then finishes the requests in flight
/// for at most [`STOP_GRACE`] and cuts the connections still open; a check
/// run started through the API is asked to stop at once and then waited for
/// at most [`CHECK_STOP_WAIT`].
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let stopping = state.clone();
    let shutdown = async move {
        shutdown.await;
        tracing::info!("shutting down: finishing requests in flight");
        stopping.ask_check_run_to_stop();
    };
    let router = router(state.clone());
    conn::serve_connections(listener, router, state.limits(), shutdown).await;
    state.wait_for_check_run(CHECK_STOP_WAIT).await;
    Ok(())
}

/// How long shutting down waits for a check run to stop: fetches in flight
/// are given up [`crate::check::run::STOP_GRACE`] after the request (a
/// batch of results then goes to the store). Waited for after the
/// connections' [`STOP_GRACE`], the two within systemd's `TimeoutStopSec=90s`
/// of the shipped unit.
pub const CHECK_STOP_WAIT: std::time::Duration = std::time::Duration::from_secs(50);

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::routing::get;

    #[test]
    fn local_references_keep_the_public_urls_path() {
        let under = super::Links::new("https://cw.example.org/base", "https://a.example/");
        assert_eq!(under.local("/api/runs/7"), "/base/api/runs/7");
        assert_eq!(
            under.local("api/sources?page=2"),
            "/base/api/sources?page=2"
        );
        let host = super::Links::new("http://127.0.0.1:8080/", "http://127.0.0.1:8080/");
        assert_eq!(host.local("/api/runs/7"), "/api/runs/7");
        let bare = super::Links::new("/", "/");
        assert_eq!(bare.local("/api/runs/7"), "/api/runs/7");
    }

    async fn boom() -> &'static str {
        panic!("a bug in a handler")
    }

    #[tokio::test]
    async fn a_panicking_endpoint_answers_500_and_the_server_goes_on() {
        let app = super::with_layers(
            Router::new()
                .route("/boom", get(boom))
                .route("/fine", get(|| async { "fine" })),
            super::REQUEST_TIMEOUT,
        );
        let listener = super::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = reqwest::Client::new();
        for _ in 0..2 {
            let r = client.get(format!("http://{addr}/boom")).send().await;
            let r = r.expect("an answer, not a dropped connection");
            assert_eq!(r.status(), 500);
            let body: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
            assert_eq!(body["error"]["status"], 500, "{body}");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("internal error (a bug in citewatch)")),
                "{body}"
            );
            let fine = client
                .get(format!("http://{addr}/fine"))
                .send()
                .await
                .unwrap();
            assert_eq!(fine.text().await.unwrap(), "fine");
        }
    }
}
