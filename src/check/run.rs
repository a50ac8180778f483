//! One check run: lock, sync, pick due sources, fetch them concurrently, archive
//! and read each page, decide verdicts, and write everything from one writer
//! thread in batched transactions.
//!
//! Crash safety: a check, its capture and its verdict are written in one
//! transaction, after the blob; a run killed at any moment leaves every source
//! either checked (and recorded) or still due, so the next run redoes exactly the
//! unrecorded ones.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{FutureExt, StreamExt};
use serde::Serialize;
use tokio::sync::OnceCell;

use super::analyze;
use super::classify::{FetchFacts, PageEvidence, classify};
use super::cpu::CpuPool;
use super::lock::{LockError, RunLock};
use super::schedule::{DUE_SLACK_MS, interleave_by_host, next_check_at};
use super::verdict::{Confirmation, Signal, State, Status, Suspect, decide};
use crate::archive::{self, FsBlobStore, RecordError, blob_dir};
use crate::config::Config;
use crate::fetch::{FetchReport, FetchRequest, Fetcher};
use crate::store::{
    CheckWrite, DueFilter, DueSource, NewCapture, NewCheck, SourceUpdate, Store, StoreError,
};
use crate::sync::{SyncError, SyncReport};
use crate::time::{Millis, format_millis, now_millis};

/// Why a run could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// Another run holds the lock.
    #[error(transparent)]
    Locked(#[from] LockError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The briefing store could not be synced.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// Archiving failed (disk full, permissions).
    #[error(transparent)]
    Archive(#[from] RecordError),
    /// A URL given with --url cannot be a source.
    #[error("--url {0}: {1}")]
    BadUrl(String, String),
    /// Judging this source panicked (a bug). The run logs it and goes on;
    /// the source is not recorded, so it keeps its state and due time.
    #[error("checking {0} failed on a bug (a panic)")]
    Panicked(String),
}

/// What a run was asked to do.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Check every source, due or not.
    pub all: bool,
    /// Only these URLs (as typed; normalised here).
    pub urls: Vec<String>,
    /// Only this host.
    pub host: Option<String>,
    /// At most this many sources.
    pub limit: Option<usize>,
    /// Time budget; overrides `[check] max_duration`.
    pub max_duration: Option<Duration>,
    /// Do not sync the briefing store first.
    pub no_sync: bool,
}

/// Reports progress to whoever watches (a progress bar, log lines).
pub trait Progress: Send + Sync {
    /// The run will check `total` sources.
    fn start(&self, total: usize);
    /// One more source checked.
    fn advance(&self, url: &str, status: &str);
    /// The run ended.
    fn finish(&self);
}

/// A [`Progress`] that says nothing.
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: usize) {}
    fn advance(&self, _: &str, _: &str) {}
    fn finish(&self) {}
}

/// What a run did.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// Run id.
    pub run_id: i64,
    /// Start, RFC 3339.
    pub started_at: String,
    /// Wall time.
    pub duration_ms: u64,
    /// Sources due (after --limit).
    pub due: usize,
    /// Sources checked and recorded.
    pub checked: usize,
    /// The time budget ended the run before every due source was checked.
    pub stopped_by_time_budget: bool,
    /// Checks by new status.
    pub checked_by_status: BTreeMap<String, usize>,
    /// All sources by status after the run.
    pub sources_by_status: BTreeMap<String, i64>,
    /// Hosts whose network failures this run were recorded as one incident
    /// instead of against each source.
    pub host_incidents: Vec<String>,
    /// Sources that became broken (dead, soft_404, unreachable) in this run.
    pub newly_broken: usize,
    /// Sources that were broken or failing and are good again.
    pub newly_recovered: usize,
    /// Checked sources per second.
    pub urls_per_second: f64,
    /// The sync done first, if any.
    pub sync: Option<SyncReport>,
}

/// The owned record of one checked source, sent to the writer.
struct Checked {
    source_id: i64,
    url: String,
    old_status: String,
    started_at: Millis,
    duration_ms: u64,
    final_url: String,
    outcome: &'static str,
    http_status: Option<u16>,
    attempts: u32,
    archived: archive::Archived,
    title: Option<String>,
    /// The page's reading, when this check made or grew one.
    reading: Option<String>,
    /// Otherwise the capture whose stored reading the new capture shares.
    reading_from: Option<i64>,
    state: State,
    evidence: String,
    similarity: Option<f64>,
    error_detail: Option<String>,
    next_check_at: Millis,
    capture_is_baseline: bool,
    /// The baseline capture's reading, grown by fingerprints computed for this check.
    baseline_update: Option<(i64, String)>,
    /// The host, for incident detection.
    host: String,
    /// The state before this check, kept in case a host incident voids it.
    prev: State,
    /// A network-level failure (connection, TLS, timeout, DNS, 5xx).
    network_failure: bool,
}

/// A host incident: at least this many network failures in one run…
pub const INCIDENT_MIN_FAILURES: usize = 5;
/// …making up at least this share of the host's checks in the run.
pub const INCIDENT_SHARE: f64 = 0.8;

/// Results the writer commits in one transaction (or fewer, after half a
/// second). Each batch naming new blobs costs a `syncfs` first, which on a
/// busy disk takes milliseconds: large batches keep that off the critical path.
const WRITER_BATCH: usize = 1000;

/// Sources whose latest captures are read ahead of their fetch.
const PREPARED_AHEAD: usize = 256;

/// Prepared jobs handed to the network thread at a time.
const PREPARE_CHUNK: usize = 32;

/// Results sent to the writer at a time, at most.
const SEND_CHUNK: usize = 32;

fn parse_status(s: &str) -> Status {
    match s {
        "ok" => Status::Ok,
        "changed" => Status::Changed,
        "moved" => Status::Moved,
        "failing" => Status::Failing,
        "soft_404" => Status::Soft404,
        "dead" => Status::Dead,
        "unreachable" => Status::Unreachable,
        "blocked" => Status::Blocked,
        "invalid" => Status::Invalid,
        _ => Status::Unchecked,
    }
}

fn parse_suspect(s: Option<&str>) -> Option<Suspect> {
    match s? {
        "dead" => Some(Suspect::Dead),
        "soft_404" => Some(Suspect::Soft404),
        "unreachable" => Some(Suspect::Unreachable),
        _ => None,
    }
}

fn suspect_name(s: Suspect) -> &'static str {
    match s {
        Suspect::Dead => "dead",
        Suspect::Soft404 => "soft_404",
        Suspect::Unreachable => "unreachable",
    }
}

fn state_of(d: &DueSource) -> State {
    State {
        status: parse_status(&d.status),
        since: d.status_since,
        suspect: parse_suspect(d.suspect.as_deref()),
        consecutive_failures: d.consecutive_failures,
        failing_since: d.failing_since,
        no_such_host_since: d.no_such_host_since,
    }
}

/// What a host answers for a path that cannot exist, when it answers 2xx.
#[derive(Clone)]
struct Probe {
    fingerprint: super::fingerprint::Fingerprint,
    final_url: String,
}

type Probes = Mutex<HashMap<String, Arc<OnceCell<Option<Probe>>>>>;

/// Everything a source's task needs, prepared from the read connection.
struct Job {
    due: DueSource,
    request: FetchRequest,
    previous: Option<crate::store::CaptureRow>,
    /// The baseline when it is not the previous capture (see [`Job::baseline`]).
    other_baseline: Option<crate::store::CaptureRow>,
    baseline_is_previous: bool,
}

impl Job {
    /// The source's baseline capture. Until a page changes it is also its
    /// latest, read once and not copied: a copy per source was a tenth of the
    /// preparer's allocations, freed again on the network thread.
    fn baseline(&self) -> Option<&crate::store::CaptureRow> {
        if self.baseline_is_previous {
            self.previous.as_ref()
        } else {
            self.other_baseline.as_ref()
        }
    }
}

/// Runs a check, taking the run lock first ([`CheckError::Locked`] when held).
pub async fn run(
    config: &Config,
    options: &CheckOptions,
    fetcher: Fetcher,
    progress: &dyn Progress,
) -> Result<RunSummary, CheckError> {
    let lock = RunLock::acquire(&config.store.dir, &format_millis(now_millis()))?;
    run_holding(lock, config, options, fetcher, progress).await
}

/// Runs a check under a lock the caller already took (the server takes it
/// before answering, so a second request is refused at once).
pub async fn run_holding(
    lock: RunLock,
    config: &Config,
    options: &CheckOptions,
    fetcher: Fetcher,
    progress: &dyn Progress,
) -> Result<RunSummary, CheckError> {
    let _lock = lock;
    let started = Instant::now();
    let started_at = now_millis();
    let db = config.store.database();
    let mut store = Store::open(&db)?;
    let sync = if options.no_sync {
        None
    } else {
        Some(crate::sync::sync(config, &mut store)?)
    };
    let run_id = store.start_run(started_at, std::process::id())?;
    let mut urls = Vec::new();
    for u in &options.urls {
        let n = crate::source_url::normalize(u)
            .map_err(|e| CheckError::BadUrl(u.clone(), e.to_string()))?;
        urls.push(n.to_string());
    }
    let filter = DueFilter {
        all: options.all,
        urls,
        host: options.host.as_ref().map(|h| h.to_ascii_lowercase()),
        horizon: started_at + DUE_SLACK_MS,
    };
    // Ids only: a source's row is read by the preparer when its turn comes.
    let mut due: Vec<i64> = interleave_by_host(store.due_order(&filter)?)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    if let Some(limit) = options.limit {
        due.truncate(limit);
    }
    due.shrink_to_fit();
    let total = due.len();
    progress.start(total);
    let budget = options.max_duration.or_else(|| {
        (!config.check.max_duration.is_zero()).then(|| config.check.max_duration.std())
    });
    let deadline = budget.map(|b| started + b);

    // One writer thread owns the write connection; tasks send it their results.
    // Room for two batches, so fetching goes on while the writer commits one.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Checked>>(2 * WRITER_BATCH / SEND_CHUNK);
    let recheck_failing = config.check.recheck_failing.as_millis();
    let blobs = Arc::new(FsBlobStore::deferred_sync(blob_dir(&config.store.dir)));
    let writer_blobs = FsBlobStore::clone(&blobs);
    let writer =
        std::thread::spawn(move || writer_loop(store, &writer_blobs, run_id, rx, recheck_failing));
    // Read-only, with a small page cache: it reads each capture row once.
    let reader = Store::open_read_only(&db)?;
    let probes: Arc<Probes> = Arc::default();
    let confirmation = Confirmation {
        dead_after_checks: config.check.dead_after_checks,
        dead_after_ms: config.check.dead_after.as_millis(),
        gone_after_ms: config.check.gone_after.as_millis(),
    };
    let check_cfg = config.check.clone();
    let concurrency = config.fetch.concurrency.max(1) * 2;
    // Reading pages and compressing blobs is CPU work: one thread per core, so
    // a hundred fetches in flight do not mean a hundred compressors in memory.
    let cpu = Arc::new(CpuPool::new(
        std::thread::available_parallelism().map_or(2, |n| n.get()),
    ));
    let mut checked = 0usize;
    // Reading each source's latest captures is SQLite work: a thread of its own
    // does it ahead of the fetches, so the network thread only fetches.
    // Jobs go over in chunks: a channel of single jobs, kept full, woke the
    // preparer for every job the network thread took.
    let (job_tx, job_rx) =
        tokio::sync::mpsc::channel::<Vec<Result<Job, CheckError>>>(PREPARED_AHEAD / PREPARE_CHUNK);
    let preparer = std::thread::spawn(move || {
        let mut chunk = Vec::with_capacity(PREPARE_CHUNK);
        for id in due {
            let job = match reader.due_source(id) {
                Ok(Some(d)) => prepare(&reader, d),
                // Nothing deletes a source during a run; should one go, so be it.
                Ok(None) => continue,
                Err(e) => Err(e.into()),
            };
            chunk.push(job);
            if chunk.len() == PREPARE_CHUNK {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(PREPARE_CHUNK));
                if job_tx.blocking_send(full).is_err() {
                    return;
                }
            }
        }
        if !chunk.is_empty() {
            let _ = job_tx.blocking_send(chunk);
        }
    });
    let stopped_by_budget = std::cell::Cell::new(false);
    let jobs =
        futures_util::stream::unfold((job_rx, Vec::new().into_iter()), |(mut rx, mut ready)| {
            let stopped = &stopped_by_budget;
            async move {
                let job = match ready.next() {
                    Some(job) => job,
                    None => {
                        ready = rx.recv().await?.into_iter();
                        ready.next()?
                    }
                };
                if deadline.is_some_and(|dl| Instant::now() >= dl) {
                    stopped.set(true);
                    return None;
                }
                Some((job, (rx, ready)))
            }
        });
    let results = jobs
        .map(|job| {
            let fetcher = fetcher.clone();
            let blobs = blobs.clone();
            let probes = probes.clone();
            let check_cfg = check_cfg.clone();
            let cpu = cpu.clone();
            async move {
                let job = job?;
                let url = job.due.url.clone();
                let report = fetcher.fetch(&job.request).await;
                let probe = if report
                    .outcome
                    .status()
                    .is_some_and(|s| (200..300).contains(&s))
                {
                    probe_for(&fetcher, &probes, &job.due).await
                } else {
                    None
                };
                // Nothing to read or store (a 304, a refused connection): the
                // verdict is a few comparisons, cheaper here than a hand-off
                // to a CPU thread and back.
                let here = !needs_cpu(&report, job.previous.as_ref());
                let judge = move || {
                    assess(
                        job,
                        report,
                        probe,
                        blobs.as_ref(),
                        &check_cfg,
                        &confirmation,
                    )
                };
                // Beyond reading the page (guarded inside), a panic here is a
                // bug of ours: the source goes unrecorded, keeps its state
                // (and so stays due if it was), and the run goes on.
                let unjudged = || Err(CheckError::Panicked(url));
                if here {
                    return std::panic::catch_unwind(std::panic::AssertUnwindSafe(judge))
                        .unwrap_or_else(|_| unjudged());
                }
                cpu.run(judge).await.unwrap_or_else(unjudged)
            }
        })
        .buffer_unordered(concurrency);
    // Boxed so that dropping it drops the job receiver, which stops the preparer.
    let mut results = Box::pin(results);
    let mut first_error = None;
    // Results go to the writer in small chunks: waking it for every one cost
    // more than recording it. A chunk leaves as soon as no result is ready, so
    // a slow night does not hold results back.
    let mut chunk: Vec<Checked> = Vec::with_capacity(SEND_CHUNK);
    // False once the writer has gone (after an error, which its join reports).
    let send = |chunk: &mut Vec<Checked>| {
        tx.send(std::mem::replace(chunk, Vec::with_capacity(SEND_CHUNK)))
            .is_ok()
    };
    loop {
        let ready = match results.next().now_or_never() {
            Some(ready) => ready,
            None => {
                if !chunk.is_empty() && !send(&mut chunk) {
                    break;
                }
                results.next().await
            }
        };
        let Some(result) = ready else { break };
        match result {
            Ok(c) => {
                checked += 1;
                progress.advance(&c.url, c.state.status.name());
                chunk.push(c);
                if chunk.len() >= SEND_CHUNK && !send(&mut chunk) {
                    break;
                }
            }
            Err(CheckError::Panicked(url)) => {
                tracing::error!(
                    %url,
                    "checking this source failed on a bug (a panic, reported above); \
                     it was not recorded, so the next run that finds it due checks it again"
                );
            }
            Err(e) => {
                first_error.get_or_insert(e);
                break;
            }
        }
    }
    drop(results);
    // The fetches no longer take jobs: the preparer stops at its next one.
    preparer.join().expect("the preparer does not panic");
    if !chunk.is_empty() {
        send(&mut chunk);
    }
    drop(tx);
    progress.finish();
    let (store, stats) = writer.join().expect("the writer does not panic");
    let store = store?;
    if let Some(e) = first_error {
        return Err(e);
    }
    let duration = started.elapsed();
    let summary = RunSummary {
        run_id,
        started_at: format_millis(started_at),
        duration_ms: duration.as_millis() as u64,
        due: total,
        checked,
        stopped_by_time_budget: stopped_by_budget.get(),
        checked_by_status: stats.checked_by_status,
        host_incidents: stats.incidents,
        sources_by_status: store.sources_by_status()?,
        newly_broken: stats.newly_broken,
        newly_recovered: stats.newly_recovered,
        urls_per_second: checked as f64 / duration.as_secs_f64().max(1e-9),
        sync,
    };
    store.finish_run(
        run_id,
        now_millis(),
        &serde_json::to_value(&summary).unwrap_or_default(),
    )?;
    Ok(summary)
}

/// Whether assessing this answer means reading, hashing or storing a body
/// (or loading an archived one): CPU and disk work for the CPU threads.
fn needs_cpu(report: &FetchReport, previous: Option<&crate::store::CaptureRow>) -> bool {
    match &report.outcome {
        crate::fetch::Outcome::NotModified { .. } => previous.is_none_or(|p| p.reading.is_none()),
        other => other.body().is_some(),
    }
}

fn prepare(reader: &Store, due: DueSource) -> Result<Job, CheckError> {
    let previous = match due.latest_capture_id {
        Some(id) => reader.capture(id)?,
        None => None,
    };
    // Until a page changes, its latest capture is its baseline: read it once.
    let baseline_is_previous = matches!(
        (due.baseline_capture_id, &previous),
        (Some(id), Some(p)) if p.id == id
    );
    let other_baseline = match due.baseline_capture_id {
        Some(id) if !baseline_is_previous => reader.capture(id)?,
        _ => None,
    };
    let request = archive::conditional_on(&due.url, previous.as_ref());
    Ok(Job {
        due,
        request,
        previous,
        other_baseline,
        baseline_is_previous,
    })
}

/// The host's answer to a path that cannot exist, fetched once per host per run.
async fn probe_for(fetcher: &Fetcher, probes: &Probes, due: &DueSource) -> Option<Probe> {
    let cell = {
        let mut map = probes.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(due.host.clone()).or_default().clone()
    };
    cell.get_or_init(|| async {
        let token = format!("{:016x}", rand::random::<u64>());
        let url = analyze::probe_url(&due.url, &token)?;
        let report = fetcher.fetch(&FetchRequest::new(url)).await;
        let status = report.outcome.status()?;
        if !(200..300).contains(&status) {
            return None;
        }
        let body = report.body()?.to_vec().ok()?;
        let content_type = header(&report, "content-type");
        let reading = analyze::glance(&body, content_type.as_deref());
        let mut subject =
            analyze::Subject::new(reading, content_type.as_deref(), || Some(body.clone()));
        Some(Probe {
            fingerprint: subject.page_fingerprint()?,
            final_url: report.final_url.clone(),
        })
    })
    .await
    .clone()
}

/// A blob's bytes, or `None` when it cannot be read (`verify` reports that).
fn load_blob(blobs: &FsBlobStore, sha256: &str) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    archive::blobs::copy_to(blobs, sha256, &mut bytes).ok()?;
    Some(bytes)
}

fn header(report: &FetchReport, name: &str) -> Option<String> {
    report
        .outcome
        .headers()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

/// Archives the body, reads the page, and decides the verdict (blocking work).
fn assess(
    job: Job,
    report: FetchReport,
    probe: Option<Probe>,
    blobs: &FsBlobStore,
    cfg: &crate::config::CheckConfig,
    confirmation: &Confirmation,
) -> Result<Checked, CheckError> {
    // A new copy of a page is kept as its difference from the latest good
    // copy (or from the whole copy that one is a delta against).
    let like = job
        .previous
        .as_ref()
        .filter(|p| (200..300).contains(&p.status))
        .or(job.baseline())
        .map(|c| c.body_sha256.as_str());
    let archived = archive::archive_body(blobs, &report, job.previous.as_ref(), like)?;
    #[cfg(debug_assertions)]
    inject_panic("judging", &report.url);
    let prev = state_of(&job.due);
    let mut page = PageEvidence::default();
    let permanent_redirect = report.hops.iter().any(|h| matches!(h.status, 301 | 308));
    // The same body as the latest capture (a 304, or identical bytes): its stored
    // reading stands, and the page is not read again. Redirects are judged anew.
    let same_body = job.previous.as_ref().filter(|p| {
        let identical = match &report.outcome {
            crate::fetch::Outcome::NotModified { .. } => true,
            other => other
                .body()
                .is_some_and(|b| b.sha256_hex() == p.body_sha256),
        };
        identical && p.reading.is_some()
    });
    let (outcome_kind, status) = match (&report.outcome, &job.previous) {
        (crate::fetch::Outcome::NotModified { .. }, Some(prev_capture)) => {
            ("http", Some(prev_capture.status))
        }
        _ => (report.outcome.kind(), report.outcome.status()),
    };
    let content_type = header(&report, "content-type");
    let fresh_body = match &report.outcome {
        crate::fetch::Outcome::NotModified { .. } => None,
        other => other.body(),
    };
    let is_2xx = status.is_some_and(|s| (200..300).contains(&s));
    // An unchanged copy of the cited page (the usual 304): the head of its
    // stored reading is all a verdict needs. Parsing the whole reading (its
    // lines and fingerprints) for every 304 was a tenth of the network thread.
    let settled = same_body
        .filter(|p| {
            is_2xx
                && probe.is_none()
                && job
                    .baseline()
                    .is_none_or(|b| b.body_sha256 == p.body_sha256)
        })
        .and_then(|p| serde_json::from_str::<analyze::ReadingHead>(p.reading.as_deref()?).ok());
    let mut baseline_update = None;
    // Why the page went unread, if reading it failed.
    let mut unread: Option<String> = None;
    // The stored reading of the same body stands, unless this check added to it.
    let reuse_stored;
    let (title, has_reading, fresh_json) = if let Some(head) = settled {
        page.error_phrase = head.error_phrase;
        page.bot_challenge = head.bot_challenge;
        page.sent_to_root = analyze::sent_to_root(&report.url, &report.final_url);
        if let Some(base) = job.baseline() {
            page.baseline_date = Some(format_millis(base.captured_at)[..10].to_string());
            // The very bytes that were cited.
            page.similarity = Some(1.0);
        }
        reuse_stored = true;
        (head.title, true, None)
    } else {
        // Reading a page runs parsers over whatever a server sent. Should one
        // of them panic, the page goes unread: the capture is kept, the verdict
        // rests on the HTTP answer, and the failure is recorded with the check.
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            #[cfg(debug_assertions)]
            inject_panic("reading", &report.url);
            let mut grew = false;
            // The page as a comparison sees it: its reading (stored, or a glance at
            // the new body) and where its bytes are should a fingerprint be missing.
            let subject: Option<analyze::Subject> = match (same_body, status) {
                (_, Some(s)) if !(200..300).contains(&s) => None,
                (Some(p), _) => p
                    .reading
                    .as_deref()
                    .and_then(|r| serde_json::from_str(r).ok())
                    .map(|r| {
                        analyze::Subject::new(r, p.content_type.as_deref(), || {
                            load_blob(blobs, &p.body_sha256)
                        })
                    }),
                (None, Some(_)) => match (&job.previous, fresh_body) {
                    // A 304 for a capture read before readings were kept: read its blob.
                    (Some(p), None) => load_blob(blobs, &p.body_sha256).map(|bytes| {
                        let reading = analyze::glance(&bytes, p.content_type.as_deref());
                        analyze::Subject::new(reading, p.content_type.as_deref(), move || {
                            Some(bytes.clone())
                        })
                    }),
                    // A body in memory is read where it is, not copied first.
                    (_, Some(b)) => match b.as_slice() {
                        Some(bytes) => Some(analyze::Subject::new(
                            analyze::glance(bytes, content_type.as_deref()),
                            content_type.as_deref(),
                            move || Some(bytes.to_vec()),
                        )),
                        None => {
                            let bytes = b.to_vec().unwrap_or_default();
                            let reading = analyze::glance(&bytes, content_type.as_deref());
                            Some(analyze::Subject::new(
                                reading,
                                content_type.as_deref(),
                                move || Some(bytes.clone()),
                            ))
                        }
                    },
                    (None, None) => None,
                },
                (None, None) => None,
            };
            let reading = subject.map(|mut subject| {
                page.error_phrase = subject.reading.error_phrase.clone();
                page.bot_challenge = subject.reading.bot_challenge;
                page.sent_to_root = analyze::sent_to_root(&report.url, &report.final_url);
                if let Some(p) = &probe
                    && let Some(fp) = subject.page_fingerprint()
                {
                    page.like_probe =
                        analyze::like_probe(&fp, &report.final_url, &p.fingerprint, &p.final_url);
                }
                if let Some(base) = job.baseline() {
                    page.baseline_date = Some(format_millis(base.captured_at)[..10].to_string());
                    page.similarity = if archived.capture.as_ref().map(|c| c.sha256.as_str())
                        == Some(base.body_sha256.as_str())
                    {
                        // The very bytes that were cited.
                        Some(1.0)
                    } else if let Some(base_reading) = base
                        .reading
                        .as_deref()
                        .and_then(|r| serde_json::from_str::<analyze::Reading>(r).ok())
                    {
                        let mut base_subject = analyze::Subject::new(
                            base_reading,
                            base.content_type.as_deref(),
                            || load_blob(blobs, &base.body_sha256),
                        );
                        let similarity =
                            analyze::drift(&mut subject, &mut base_subject, cfg.changed_below);
                        if base_subject.grew {
                            baseline_update = serde_json::to_string(&base_subject.reading)
                                .ok()
                                .map(|json| (base.id, json));
                        }
                        similarity
                    } else {
                        None
                    };
                }
                grew = subject.grew;
                subject.reading
            });
            (reading, grew)
        }));
        let (reading, grew) = read.unwrap_or_else(|panic| {
            let what = unread.insert(format!(
                "the page could not be read: {}",
                panic_message(panic.as_ref())
            ));
            tracing::warn!(url = %report.url, "{what}");
            page = PageEvidence::default();
            baseline_update = None;
            (None, false)
        });
        reuse_stored = same_body.is_some() && !grew && reading.is_some();
        let title = reading.as_ref().and_then(|r| r.title.clone());
        let fresh_json = if reuse_stored {
            None
        } else {
            reading.as_ref().and_then(|r| serde_json::to_string(r).ok())
        };
        (title, reading.is_some(), fresh_json)
    };
    // The same bytes as the previous capture: the new capture points at the
    // reading instead of copying it.
    let reading_from = job
        .previous
        .as_ref()
        .filter(|_| reuse_stored)
        .map(|p| p.reading_from.unwrap_or(p.id));
    let detail = archived.error_detail.clone().or_else(|| unread.clone());
    let facts = FetchFacts {
        outcome: outcome_kind,
        status,
        detail: detail.as_deref(),
        url: &report.url,
        final_url: &report.final_url,
        permanent_redirect,
    };
    let (signal, evidence) = classify(&facts, &page, prev.status, cfg.changed_below);
    let now = report.started_at + report.duration_ms as i64;
    let state = decide(&prev, signal, now, confirmation);
    let good = matches!(state.status, Status::Ok | Status::Changed | Status::Moved);
    let capture_is_baseline = job.due.baseline_capture_id.is_none() && good && has_reading;
    let evidence = match state.status {
        Status::Failing => format!(
            "{evidence} ({} failing check{} since {})",
            state.consecutive_failures,
            if state.consecutive_failures == 1 {
                ""
            } else {
                "s"
            },
            state
                .failing_since
                .map(|t| format_millis(t)[..10].to_string())
                .unwrap_or_default()
        ),
        _ => evidence,
    };
    let evidence = match &unread {
        Some(why) => format!("{evidence}; {why}"),
        None => evidence,
    };
    let network_failure = matches!(signal, Signal::Unreachable | Signal::NoSuchHost);
    Ok(Checked {
        host: job.due.host.clone(),
        prev,
        network_failure,
        source_id: job.due.id,
        url: job.due.url.clone(),
        old_status: job.due.status.clone(),
        started_at: report.started_at,
        duration_ms: report.duration_ms,
        final_url: report.final_url.clone(),
        outcome: report.outcome.kind(),
        http_status: status,
        attempts: report.attempts,
        archived,
        title,
        reading: fresh_json,
        reading_from,
        next_check_at: next_check_at(state.status, now, cfg),
        state,
        evidence,
        similarity: page.similarity,
        error_detail: detail,
        capture_is_baseline,
        baseline_update,
    })
}

/// What a caught panic said, for the record (at most 200 characters).
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message");
    text.chars().take(200).collect()
}

/// Debug builds only: a test makes one stage of judging a source panic with
/// `CITEWATCH_TEST_PANIC=STAGE:PART-OF-URL` (`reading` or `judging`), to show
/// that a run survives what a parser bug, or a bug of ours, would do.
#[cfg(debug_assertions)]
fn inject_panic(stage: &str, url: &str) {
    let Some(wanted) = std::env::var_os("CITEWATCH_TEST_PANIC") else {
        return;
    };
    let wanted = wanted.to_string_lossy();
    if let Some((s, marker)) = wanted.split_once(':')
        && s == stage
        && url.contains(marker)
    {
        panic!("injected for a test: {stage} {url}");
    }
}

#[derive(Default)]
struct WriterStats {
    newly_broken: usize,
    newly_recovered: usize,
    checked_by_status: BTreeMap<String, usize>,
    incidents: Vec<String>,
}

/// Writes results in batches: up to [`WRITER_BATCH`] per transaction, or whatever has waited
/// half a second, so a slow night still commits steadily.
///
/// Network failures are held back per host until the run ends: when a host's
/// failures reach [`INCIDENT_MIN_FAILURES`] and [`INCIDENT_SHARE`] of its checks,
/// the run records one host incident and those checks leave their sources' verdicts
/// as they were (the host was down from here, not each page gone).
fn writer_loop(
    mut store: Store,
    blobs: &FsBlobStore,
    run_id: i64,
    rx: std::sync::mpsc::Receiver<Vec<Checked>>,
    recheck_failing: Millis,
) -> (Result<Store, CheckError>, WriterStats) {
    let mut stats = WriterStats::default();
    let mut batch: Vec<Checked> = Vec::new();
    let mut held: HashMap<String, Vec<Checked>> = HashMap::new();
    let mut per_host: HashMap<String, usize> = HashMap::new();
    let flush = |store: &mut Store,
                 batch: &mut Vec<Checked>,
                 stats: &mut WriterStats|
     -> Result<(), CheckError> {
        if batch.is_empty() {
            return Ok(());
        }
        let writes: Vec<CheckWrite> = batch.iter().map(to_write).collect();
        // Blobs are written without fsync (see FsBlobStore::deferred_sync): make
        // them durable before any row names them.
        if writes.iter().any(|w| w.capture.is_some()) {
            blobs.sync().map_err(RecordError::from)?;
        }
        store.write_checks(run_id, &writes)?;
        for c in batch.iter() {
            let old = parse_status(&c.old_status);
            let new = c.state.status;
            *stats
                .checked_by_status
                .entry(new.name().to_string())
                .or_default() += 1;
            if new.is_broken() && !old.is_broken() {
                stats.newly_broken += 1;
            }
            if (old.is_broken() || old == Status::Failing)
                && matches!(new, Status::Ok | Status::Changed | Status::Moved)
            {
                stats.newly_recovered += 1;
            }
        }
        batch.clear();
        Ok(())
    };
    // Age of the oldest unwritten result: a steady trickle must not hold a batch open.
    let mut oldest: Option<Instant> = None;
    let max_age = Duration::from_millis(500);
    loop {
        let wait = oldest.map_or(max_age, |t| max_age.saturating_sub(t.elapsed()));
        let received = rx.recv_timeout(wait);
        let disconnected = matches!(
            received,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected)
        );
        for c in received.into_iter().flatten() {
            *per_host.entry(c.host.clone()).or_default() += 1;
            if c.network_failure {
                held.entry(c.host.clone()).or_default().push(c);
            } else {
                oldest.get_or_insert_with(Instant::now);
                batch.push(c);
            }
        }
        if disconnected {
            for (host, mut failures) in held.drain() {
                let checks = per_host.get(&host).copied().unwrap_or(failures.len());
                let incident = failures.len() >= INCIDENT_MIN_FAILURES
                    && failures.len() as f64 >= INCIDENT_SHARE * checks as f64;
                if incident {
                    let detail = format!(
                        "host incident: {} of {} checks on {host} failed on the network in this run",
                        failures.len(),
                        checks
                    );
                    if let Err(e) = store.record_incident(
                        run_id,
                        &host,
                        now_millis(),
                        checks,
                        failures.len(),
                        &detail,
                    ) {
                        return (Err(e.into()), stats);
                    }
                    for c in &mut failures {
                        // The source keeps its verdict and streak; it is simply tried again soon.
                        c.state = c.prev;
                        c.evidence = detail.clone();
                        c.next_check_at = c.started_at + recheck_failing;
                    }
                    stats.incidents.push(host);
                }
                batch.extend(failures);
            }
        }
        let due = batch.len() >= WRITER_BATCH
            || oldest.is_some_and(|t| t.elapsed() >= max_age)
            || disconnected;
        if due {
            if let Err(e) = flush(&mut store, &mut batch, &mut stats) {
                return (Err(e), stats);
            }
            oldest = None;
        }
        if disconnected {
            return (Ok(store), stats);
        }
    }
}

fn to_write(c: &Checked) -> CheckWrite<'_> {
    let capture = c.archived.capture.as_ref().map(|f| NewCapture {
        captured_at: f.captured_at,
        request_url: &c.url,
        final_url: &c.final_url,
        hops_json: &c.archived.hops_json,
        status: f.status,
        headers_json: &f.headers_json,
        content_type: f.content_type.as_deref(),
        sha256: &f.sha256,
        size: f.size,
        stored_size: f.stored_size,
        truncated: f.truncated,
        not_modified: f.not_modified,
        title: c.title.as_deref(),
        reading: c.reading.as_deref(),
        reading_from: c.reading_from,
    });
    let is_error = c.error_detail.is_some();
    CheckWrite {
        source_id: c.source_id,
        old_status: &c.old_status,
        check: NewCheck {
            started_at: c.started_at,
            duration_ms: c.duration_ms,
            request_url: &c.url,
            final_url: Some(&c.final_url),
            outcome: c.outcome,
            http_status: c.http_status,
            error_detail: c.error_detail.as_deref(),
            hops_json: &c.archived.hops_json,
            attempts: c.attempts,
            run_id: None,
            status_after: None,
            evidence: None,
        },
        capture,
        update: SourceUpdate {
            status: c.state.status.name(),
            status_since: c.state.since,
            suspect: c.state.suspect.map(suspect_name),
            http_status: c.http_status,
            final_url: Some(&c.final_url),
            error_kind: is_error.then_some(c.outcome),
            error_detail: c.error_detail.as_deref(),
            similarity: c.similarity,
            evidence: &c.evidence,
            last_checked: c.started_at + c.duration_ms as i64,
            next_check_at: c.next_check_at,
            consecutive_failures: c.state.consecutive_failures,
            failing_since: c.state.failing_since,
            no_such_host_since: c.state.no_such_host_since,
            capture_is_baseline: c.capture_is_baseline,
        },
        baseline_reading: c
            .baseline_update
            .as_ref()
            .map(|(id, json)| (*id, json.as_str())),
    }
}
