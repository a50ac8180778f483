//! One check run: lock, sync, pick due sources, fetch them concurrently, archive
//! and read each page, decide verdicts, and write everything from one writer
//! thread in batched transactions.
//!
//! Crash safety: a check, its capture and its verdict are written in one
//! transaction, after the blob; a run killed at any moment leaves every source
//! either checked (and recorded) or still due, so the next run redoes exactly the
//! unrecorded ones.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{FutureExt, StreamExt};
use serde::Serialize;

use super::assess::{Checked, Job, Probes, assess, needs_cpu, prepare, probe_for};
use super::cpu::CpuPool;
use super::held::Held;
use super::landing::Landings;
use super::lock::{LockError, RunLock};
use super::schedule::{DUE_SLACK_MS, HostShares, Next, Turn, host_share, interleave_by_host};
use super::verdict::{Confirmation, Evidence, Status, Suspect};
use crate::archive::{FsBlobStore, RecordError, blob_dir};
use crate::config::Config;
use crate::fetch::Fetcher;
use crate::store::{
    CheckWrite, Disowned, DueFilter, NewCapture, NewCheck, NewIncident, SourceUpdate, Store,
    StoreError,
};
use crate::sync::{SyncError, SyncReport};
use crate::time::{Millis, format_millis, now_millis};
use tokio::sync::mpsc::error::TryRecvError;

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
    #[error("--url: `{0}` is not a URL citewatch could check: {1}")]
    BadUrl(String, String),
    /// URLs given with --url that no briefing cites (after the sync), and
    /// the sources they may have meant: a URL copied from a browser often
    /// differs from the cited one by its scheme, a `www.` or a trailing
    /// slash, as `status` and `get` say too.
    #[error(
        "--url: not a source, no briefing cites it: {}{}; `citewatch fetch URL` fetches any URL once",
        .unknown.join(", "),
        nearby_words(.nearby)
    )]
    NotSources {
        /// The URLs, normalised.
        unknown: Vec<String>,
        /// Sources spelled nearly as one of them.
        nearby: Vec<String>,
    },
    /// The host given with --host has no source.
    #[error(
        "--host `{given}`: no source is on this host{} (a host as in a URL, without its port)",
        recorded_as(.given, .recorded)
    )]
    UnknownHost {
        /// The host as given.
        given: String,
        /// As sources record it: lower case, punycode, no port.
        recorded: String,
    },
    /// SQLite found the store's database damaged (or not a database). The
    /// run stops at once and writes nothing more to it, not even how it
    /// ended: a write can spread the damage, and the file as it is is what
    /// `verify` examines and a restore replaces. A full check of the file at
    /// every start would find damage the run never reaches, but costs about
    /// a tenth of a re-check night (0.2–0.3 s on a 58 MB store).
    #[error(
        "{0}; the database is damaged, so the run stopped and wrote nothing more to it: \
         `citewatch verify` says what is damaged; restore the database from a backup \
         (the archive's blobs are kept apart, in the data folder's blobs/)"
    )]
    Damaged(#[source] StoreError),
    /// A fetch still in flight [`STOP_GRACE`] after the run was asked to
    /// stop, or after its time budget ran out (one waiting for its host's
    /// pace, or out a long Retry-After, or for a slow server): given up, the
    /// source stays due, unrecorded.
    #[error("gave up fetching {0}: the run was asked to stop, or its time budget ran out")]
    Abandoned(String),
    /// Checking this source failed on this machine, not at the source: its
    /// page could not be buffered on local disk ([`Outcome::Local`]). The
    /// source is not recorded, so it keeps its verdict, streak and due time,
    /// and no host incident counts it. The run stops rather than go on
    /// without it: a temporary folder that is full or gone fails every
    /// large page after it too, and a run that went on would exit 0 with
    /// those sources left unchecked night after night, unnoticed; stopped,
    /// it fails the nightly job, as a full disk under the archive does.
    ///
    /// [`Outcome::Local`]: crate::fetch::Outcome::Local
    #[error(
        "checking {url} failed on this machine, not the source's failure: {detail}; \
         the run stopped: every check recorded before stands, and the next run checks the rest"
    )]
    Local {
        /// The source.
        url: String,
        /// What failed.
        detail: String,
    },
    /// Judging this source panicked (a bug). The run logs it and goes on;
    /// the source is not recorded, so it keeps its state and due time.
    #[error("checking {0} failed on a bug (a panic)")]
    Panicked(String),
    /// The writer could not record a batch (a full disk, the database locked
    /// past the busy timeout, a blob sync failing; damage is
    /// [`CheckError::Damaged`]). The batch's transaction is rolled back whole
    /// and the results the run held besides are dropped, unrecorded: a store
    /// that refused one batch would most likely refuse the next, and a source
    /// left unrecorded is due again, as after a kill. Said in so many words,
    /// because SQLite's own words ("database or disk is full") do not tell
    /// whether the night's checks were kept.
    #[error(
        "recording checks failed, so the run stopped: {0}; every check recorded before \
         stands, and the next run checks the sources this one did not record"
    )]
    NotRecorded(#[source] Box<CheckError>),
    /// One of the run's own threads (the preparer, the writer) panicked, a
    /// bug. What the writer had committed stands; the rest is due again.
    #[error(
        "the run's {0} thread failed on a bug (a panic, reported above); \
         every check recorded before it stands, and the next run checks the rest"
    )]
    ThreadPanicked(&'static str),
}

impl CheckError {
    /// This error, or [`CheckError::Damaged`] when it is the store's
    /// database found damaged, wherever in the run that was met.
    fn or_damaged(self) -> CheckError {
        match self {
            CheckError::Store(e)
            | CheckError::Sync(SyncError::Store(e))
            | CheckError::Archive(RecordError::Store(e))
                if e.is_damage() =>
            {
                CheckError::Damaged(e)
            }
            other => other,
        }
    }

    /// The writer's error, said to have cost the checks it had not recorded;
    /// damage stays [`CheckError::Damaged`]'s to say.
    fn not_recorded(self) -> CheckError {
        if self.is_damage() {
            self
        } else {
            CheckError::NotRecorded(Box::new(self))
        }
    }

    /// Whether this is the store's database found damaged.
    fn is_damage(&self) -> bool {
        match self {
            CheckError::Damaged(_) => true,
            CheckError::Store(e)
            | CheckError::Sync(SyncError::Store(e))
            | CheckError::Archive(RecordError::Store(e)) => e.is_damage(),
            _ => false,
        }
    }
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
    /// Time budget; overrides `[check] max_duration` (0: none).
    pub max_duration: Option<Duration>,
    /// Do not sync the briefing store first.
    pub no_sync: bool,
    /// Set to stop the run as its time budget would: no new fetches, those
    /// in flight recorded, the run completed.
    pub stop: Option<Arc<std::sync::atomic::AtomicBool>>,
}

/// Reports progress to whoever watches (a progress bar, log lines).
pub trait Progress: Send + Sync {
    /// The run is recorded in the store as run `run_id` (after the sync,
    /// before anything is fetched).
    fn begun(&self, _run_id: i64) {}
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
    /// Whoever started the run asked it to stop (`serve` shutting down)
    /// before every due source was checked; the rest waits for the next run.
    pub stopped_on_request: bool,
    /// Fetches still in flight [`STOP_GRACE`] after the stop request or the
    /// end of the time budget, given up: their sources stay due.
    pub abandoned_on_stop: usize,
    /// Only some sources were asked for (`--url`, `--host`, `--limit`), or the
    /// run was stopped on request: the run is not the reference of `report
    /// --new` nor of the metrics' last run, and neither is one that checked
    /// nothing.
    pub partial: bool,
    /// Checks by new status (every status, 0 included).
    pub checked_by_status: BTreeMap<String, usize>,
    /// Checks excused by a host incident: their sources keep the verdicts
    /// they had, so these are in no status of `checked_by_status` (counted
    /// there under the verdict kept, a host down all night read as hundreds
    /// of `ok` checks).
    pub excused_by_incident: usize,
    /// All sources by status after the run (every status, 0 included).
    pub sources_by_status: BTreeMap<String, i64>,
    /// Hosts whose network failures this run were recorded as one incident
    /// instead of against each source.
    pub host_incidents: Vec<String>,
    /// Sources that became broken (dead, soft_404, unreachable) in this run.
    pub newly_broken: usize,
    /// Sources that were broken or failing and are good again.
    pub newly_recovered: usize,
    /// Pages that answered but could not be compared with the copy cited,
    /// because the archive did not give its bytes back (damage `verify`
    /// names): their verdicts rest on the answer alone, and a rewrite or
    /// move found before stands.
    pub not_compared: usize,
    /// Checked sources per second.
    pub urls_per_second: f64,
    /// The sync done first, if any.
    pub sync: Option<SyncReport>,
}

/// ` (sources nearby: …)` when there are some.
/// The host as sources record it, when the user wrote it otherwise: named as
/// given first, since `新华网.中国` told only of `xn--…` would not know it.
fn recorded_as(given: &str, recorded: &str) -> String {
    if given.trim() == recorded {
        return String::new();
    }
    format!(" (`{recorded}`, as sources record it)")
}

fn nearby_words(nearby: &[String]) -> String {
    if nearby.is_empty() {
        return String::new();
    }
    format!(" (sources nearby: {})", nearby.join(", "))
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

/// The most checks held back for a second look at their landing (see
/// `Checked::reconsider_landing`), each with its page's reading: a first night
/// over years of citations can meet thousands of redirects to pages not yet
/// known as shared.
const MAX_HELD_LANDINGS: usize = 1000;

/// [`MAX_HELD_LANDINGS`], or in debug builds `CITEWATCH_TEST_MAX_HELD`, so a
/// test can reach the cap with a few pages.
fn max_held_landings() -> usize {
    #[cfg(debug_assertions)]
    if let Some(n) = std::env::var("CITEWATCH_TEST_MAX_HELD")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    MAX_HELD_LANDINGS
}

/// Debug builds only: with `CITEWATCH_TEST_DAMAGE=PART-OF-URL`, the run
/// meets damage to its database as that source's result comes in, as it
/// does when the preparer's read of a later source reaches a damaged page;
/// a test chooses the moment (what the writer holds then) by when that
/// source's page answers.
#[cfg(debug_assertions)]
fn inject_damage(
    result: Result<Checked, CheckError>,
    db: &std::path::Path,
) -> Result<Checked, CheckError> {
    let Some(wanted) = std::env::var_os("CITEWATCH_TEST_DAMAGE") else {
        return result;
    };
    match result {
        Ok(c) if c.url.contains(&*wanted.to_string_lossy()) => {
            Err(CheckError::Store(StoreError::damage_for_a_test(db)))
        }
        other => other,
    }
}

/// How long fetches in flight may go on once the run is asked to stop, or
/// its time budget is spent. A fetch takes at most `[fetch] timeout` a try,
/// but one waiting out a Retry-After (up to `max_retry_after`, ten minutes by
/// default), or its turn at a slow-paced host behind a hundred others, would
/// keep `serve`'s shutdown, `systemctl stop`, or the nightly budget waiting
/// well past their patience.
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// Why the fetches still in flight are being ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    OnRequest,
    ByBudget,
}

/// Resolves once the run's stop grace is over; never when nobody can say so.
async fn abandoned(mut over: tokio::sync::watch::Receiver<Option<Ending>>) {
    if over.wait_for(Option::is_some).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// A fetch's task, cancelled when dropped (as the run's stream of fetches
/// is when the run stops): a detached fetch would go on after its run.
struct Aborting<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for Aborting<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> std::future::Future for Aborting<T> {
    type Output = Result<T, tokio::task::JoinError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx)
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
    let recorded = std::sync::OnceLock::new();
    let outcome = run_locked(config, options, fetcher, progress, &recorded)
        .await
        .map_err(CheckError::or_damaged);
    if let Err(CheckError::Damaged(_)) = &outcome {
        return outcome;
    }
    if let (Err(e), Some(&run_id)) = (&outcome, recorded.get()) {
        // Best effort: the error itself goes to the caller either way.
        let failed = Store::open(&config.store.database())
            .and_then(|s| s.fail_run(run_id, now_millis(), &e.to_string()));
        if let Err(why) = failed {
            tracing::warn!(run = run_id, "could not record how the run ended: {why}");
        }
    }
    outcome
}

/// The run itself, under the lock; sets `recorded` to the run's id once the
/// run has a row in the store.
async fn run_locked(
    config: &Config,
    options: &CheckOptions,
    fetcher: Fetcher,
    progress: &dyn Progress,
    recorded: &std::sync::OnceLock<i64>,
) -> Result<RunSummary, CheckError> {
    let started = Instant::now();
    let started_at = now_millis();
    let db = config.store.database();
    // Without a sync first there is nothing to check in a new store: say
    // so, rather than make an empty one and report on it.
    let mut store = if options.no_sync {
        Store::open_existing(&db)?
    } else {
        Store::open(&db)?
    };
    let sync = if options.no_sync {
        None
    } else {
        Some(crate::sync::sync(config, &mut store)?)
    };
    let mut urls = Vec::new();
    for u in &options.urls {
        let n = crate::source_url::normalize(u)
            .map_err(|e| CheckError::BadUrl(u.clone(), e.to_string()))?;
        urls.push(n.to_string());
    }
    // Asked for by name and unknown: say so rather than check nothing.
    let unknown = store.not_sources(&urls)?;
    if !unknown.is_empty() {
        let mut nearby = Vec::new();
        for u in &unknown {
            let Ok(n) = crate::source_url::normalize(u) else {
                continue;
            };
            let near = crate::source_url::near_misses(&n);
            let missing = store.not_sources(&near)?;
            for m in near {
                // Two --url values near one source name it once.
                if !missing.contains(&m) && !nearby.contains(&m) {
                    nearby.push(m);
                }
            }
        }
        return Err(CheckError::NotSources { unknown, nearby });
    }
    let host = options
        .host
        .as_deref()
        .map(crate::source_url::host_as_given);
    if let Some(h) = &host
        && !store.has_host(h)?
    {
        return Err(CheckError::UnknownHost {
            given: options.host.clone().unwrap_or_default(),
            recorded: h.clone(),
        });
    }
    let run_id = store.start_run(started_at, std::process::id())?;
    let _ = recorded.set(run_id);
    progress.begun(run_id);
    let filter = DueFilter {
        all: options.all,
        urls,
        host,
        horizon: started_at + DUE_SLACK_MS,
    };
    // Ids and host numbers only: a source's row is read by the preparer when
    // its turn comes.
    let mut due = store.due_order(&filter)?;
    // The limit takes the first sources in priority order (never checked,
    // then failing, then the longest unchecked), and hosts take turns among
    // those: cut after the turns, it took one source of each host, new or
    // not, and left the new ones of a large host for later.
    if let Some(limit) = options.limit {
        due.truncate(limit);
    }
    let mut due = interleave_by_host(due);
    due.shrink_to_fit();
    let total = due.len();
    progress.start(total);
    // 0 means no budget, on the command line as in the configuration.
    let budget = options
        .max_duration
        .unwrap_or(config.check.max_duration.std());
    let budget = (!budget.is_zero()).then_some(budget);
    let deadline = budget.map(|b| started + b);

    // One writer thread owns the write connection; tasks send it their results.
    // Room for two batches, so fetching goes on while the writer commits one.
    // An async channel: when the writer falls behind, a send waits without
    // blocking the network thread, whose fetches in flight go on (a blocking
    // send froze them, and their timeouts ran out while they were not polled).
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<Checked>>(writer_queue());
    let recheck_failing = config.check.recheck_failing.as_millis();
    let blobs = Arc::new(FsBlobStore::deferred_sync(blob_dir(&config.store.dir)));
    // A pack index lost (or damaged where a glance sees it) left every
    // packed blob unfindable and, damaged, ended every run: the packs repeat
    // what it held, so it is built again here, under the run lock, before
    // anything is packed.
    if let Some(why) = blobs
        .packs()
        .needs_rebuild(false)
        .map_err(RecordError::from)?
    {
        let rebuilt = blobs.rebuild_pack_index().map_err(RecordError::from)?;
        let skipped: u64 = rebuilt.unreadable.iter().map(|u| u.bytes).sum();
        tracing::warn!(
            "{why}: rebuilt it from {} ({}){}{}",
            crate::report::text::plural(rebuilt.packs as i64, "pack file", "pack files"),
            crate::report::text::plural(rebuilt.blobs as i64, "record", "records"),
            if skipped > 0 {
                format!(
                    "; skipped {skipped} bytes in {} holding no sound record \
                     (`citewatch verify` names any blob lost with them)",
                    crate::report::text::plural(
                        rebuilt.unreadable.len() as i64,
                        "stretch",
                        "stretches"
                    )
                )
            } else {
                String::new()
            },
            rebuilt
                .old_index
                .as_ref()
                .map(|p| format!("; the old index is kept as {}", p.display()))
                .unwrap_or_default()
        );
    }
    let writer_blobs = FsBlobStore::clone(&blobs);
    // Set when the run met damage to the database: the writer then drops
    // what it holds rather than write it there.
    let halt = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer_halt = Arc::clone(&halt);
    // Closed as the writer ends, however it ends (an error, a panic): the
    // run stops waiting for fetches whose results it could no longer record.
    let (writer_gone_tx, mut writer_gone) = tokio::sync::oneshot::channel::<()>();
    let writer = std::thread::spawn(move || {
        let _gone = writer_gone_tx;
        writer_loop(
            store,
            &writer_blobs,
            run_id,
            rx,
            started_at.saturating_add(recheck_failing),
            &writer_halt,
        )
    });
    // Read-only, with a small page cache: it reads each capture row once.
    let reader = Store::open_read_only(&db)?;
    let probes: Arc<Probes> = Arc::default();
    let redirected = reader.redirected_sources()?;
    let landings =
        Arc::new(Landings::seeded(redirected.iter().map(|r| {
            (r.url.as_str(), r.final_url.as_str(), r.hops.as_deref())
        })));
    drop(redirected);
    let confirmation = Confirmation {
        dead_after_checks: config.check.dead_after_checks,
        dead_after_ms: config.check.dead_after.as_millis(),
        gone_after_ms: config.check.gone_after.as_millis(),
    };
    let check_cfg = config.check.clone();
    let concurrency = config.fetch.concurrency.max(1) * 2;
    let fetch_cfg = config.fetch.clone();
    let share =
        move |host: &str| host_share(fetch_cfg.policy(host).per_host_concurrency, concurrency);
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
    // Each job goes with its turn in its host's share (see `HostShares`).
    let (job_tx, job_rx) = tokio::sync::mpsc::channel::<Vec<(Turn, Result<Job, CheckError>)>>(
        PREPARED_AHEAD / PREPARE_CHUNK,
    );
    let prepare_blobs = blobs.reading_apart();
    let preparer = std::thread::spawn(move || {
        let mut shares = HostShares::new(due);
        let mut chunk = Vec::with_capacity(PREPARE_CHUNK);
        // A chunk's reads share one read transaction (see `Store::read_batch`,
        // `FsBlobStore::read_batch`), ended before any send or wait, which
        // may block for long.
        let mut batch = None;
        let send = |chunk: &mut Vec<_>| {
            let full = std::mem::replace(chunk, Vec::with_capacity(PREPARE_CHUNK));
            job_tx.blocking_send(full).is_ok()
        };
        loop {
            let (id, turn) = match shares.hand_out() {
                Next::Take(id, turn) => (id, turn),
                Next::Done => break,
                Next::Wait(seen) => {
                    batch = None;
                    // The jobs prepared first: their fetches give the turns back.
                    if !chunk.is_empty() {
                        if !send(&mut chunk) {
                            return;
                        }
                        continue;
                    }
                    // The run stopped taking jobs.
                    if job_tx.is_closed() {
                        return;
                    }
                    shares.wait(seen, Duration::from_millis(100));
                    continue;
                }
            };
            // Without one (it could not begin), each read is its own. The
            // pack index's lookups (is the copy behind the validators still
            // stored?) share one of their own alike.
            if batch.is_none() {
                batch = Some((reader.read_batch().ok(), prepare_blobs.read_batch()));
            }
            let job = match reader.due_source(id) {
                Ok(Some(d)) => {
                    shares.share(turn.host(), || share(&d.host));
                    prepare(&reader, &prepare_blobs, d)
                }
                // Nothing deletes a source during a run; should one go, so be it.
                Ok(None) => continue,
                Err(e) => Err(e.into()),
            };
            chunk.push((turn, job));
            if chunk.len() == PREPARE_CHUNK {
                batch = None;
                if !send(&mut chunk) {
                    return;
                }
            }
        }
        drop(batch);
        if !chunk.is_empty() {
            send(&mut chunk);
        }
    });
    let stopped_by_budget = std::cell::Cell::new(false);
    let stopped_on_request = std::cell::Cell::new(false);
    let stop = options.stop.clone();
    // Once asked to stop, or once the budget is spent, fetches in flight get
    // STOP_GRACE to finish. Taking no new job is not enough: up to
    // `concurrency` jobs are taken at once, and those waiting for a paced
    // host's turn or for a slow server could outlast the budget many times.
    let (grace_over_tx, grace_over) = tokio::sync::watch::channel(None);
    let grace_watch = (options.stop.is_some() || deadline.is_some()).then(|| {
        let stop = options.stop.clone();
        tokio::spawn(async move {
            let ending = loop {
                if stop
                    .as_ref()
                    .is_some_and(|s| s.load(std::sync::atomic::Ordering::Acquire))
                {
                    break Ending::OnRequest;
                }
                if deadline.is_some_and(|dl| Instant::now() >= dl) {
                    break Ending::ByBudget;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            };
            tokio::time::sleep(STOP_GRACE).await;
            let _ = grace_over_tx.send(Some(ending));
        })
    });
    #[cfg(debug_assertions)]
    if std::env::var_os("CITEWATCH_TEST_SIGTERM_AFTER_SYNC").is_some() {
        // A test's stand-in for `systemctl stop` during a long sync: the
        // signal comes, and the preparer fills its queue, before this task
        // pauses.
        // SAFETY: raise(2) has no preconditions; the handler is installed.
        unsafe { libc::raise(libc::SIGTERM) };
        std::thread::sleep(Duration::from_millis(300));
    }
    // The sync and the set-up ran without a pause: a stop asked for meanwhile
    // (`check`'s signals set the flag from a thread of their own; a caller
    // may set it from a task of this runtime) is in the flag, or waits for a
    // task to see it. Pause once (a sleep parks the runtime, which reads its
    // drivers; a bare yield did not let such a task run first) before the
    // first fetch, or the first jobs would be taken regardless.
    tokio::time::sleep(Duration::from_millis(1)).await;
    let jobs =
        futures_util::stream::unfold((job_rx, Vec::new().into_iter()), |(mut rx, mut ready)| {
            let (by_budget, on_request) = (&stopped_by_budget, &stopped_on_request);
            let stop = stop.clone();
            async move {
                let job = match ready.next() {
                    Some(job) => job,
                    None => {
                        ready = rx.recv().await?.into_iter();
                        ready.next()?
                    }
                };
                if deadline.is_some_and(|dl| Instant::now() >= dl) {
                    by_budget.set(true);
                    return None;
                }
                if stop.is_some_and(|s| s.load(std::sync::atomic::Ordering::Acquire)) {
                    on_request.set(true);
                    return None;
                }
                Some((job, (rx, ready)))
            }
        });
    let results = jobs
        .map(|(turn, job): (Turn, Result<Job, CheckError>)| {
            let fetcher = fetcher.clone();
            let blobs = blobs.clone();
            let probes = probes.clone();
            let landings = landings.clone();
            let check_cfg = check_cfg.clone();
            let cpu = cpu.clone();
            let grace_over = grace_over.clone();
            // A task of its own: its fetch goes on while the result loop
            // waits for the writer (see `Aborting`).
            Aborting(tokio::spawn(async move {
                let job = job?;
                let url = job.due.url.clone();
                let fetched = async {
                    let report = fetcher.fetch(&job.request).await;
                    let probe = if report
                        .outcome
                        .status()
                        .is_some_and(|s| (200..300).contains(&s))
                    {
                        Some(probe_for(&fetcher, &probes, &job.due).await)
                    } else {
                        None
                    };
                    (report, probe)
                };
                let (report, probe) = tokio::select! {
                    biased;
                    done = fetched => done,
                    () = abandoned(grace_over) => return Err(CheckError::Abandoned(url)),
                };
                // Judging the page asks nothing more of the host.
                drop(turn);
                if let crate::fetch::Outcome::Local { detail } = &report.outcome {
                    return Err(CheckError::Local {
                        url,
                        detail: detail.clone(),
                    });
                }
                // Only where a permanent redirect led: a temporary one to a
                // maintenance page says nothing of the article.
                let shared_landing = super::classify::moved_permanently(
                    &report.url,
                    report.hops.iter().map(|h| (h.status, h.resolved.as_str())),
                )
                .then(|| landings.note(&report.url, &report.final_url))
                .flatten();
                // Nothing to read or store (a 304, a refused connection): the
                // verdict is a few comparisons, cheaper here than a hand-off
                // to a CPU thread and back.
                let here = !needs_cpu(&report, job.previous.as_ref());
                let judge = move || {
                    assess(
                        job,
                        report,
                        probe,
                        shared_landing,
                        blobs.as_ref(),
                        &check_cfg,
                        &confirmation,
                        started_at,
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
            }))
        })
        .buffer_unordered(concurrency)
        // A panic in a fetch's task is the network thread's, as before. Only
        // dropping the task cancels it, and then nothing polls it.
        .map(|joined| match joined.map_err(|e| e.try_into_panic()) {
            Ok(result) => result,
            Err(Ok(panic)) => std::panic::resume_unwind(panic),
            Err(Err(_cancelled)) => Err(CheckError::ThreadPanicked("network")),
        });
    // Boxed so that dropping it drops the job receiver, which stops the preparer.
    let mut results = Box::pin(results);
    let mut first_error = None;
    // Results go to the writer in small chunks: waking it for every one cost
    // more than recording it. A chunk leaves as soon as no result is ready, so
    // a slow night does not hold results back.
    let mut chunk: Vec<Checked> = Vec::with_capacity(SEND_CHUNK);
    // Redirects judged before enough others had landed where they did: sent
    // once every fetch is in (see `Checked::reconsider_landing`).
    let mut pending_landings: Vec<Checked> = Vec::new();
    let mut abandoned_fetches = 0usize;
    let max_held = max_held_landings();
    // False once the writer has gone (after an error, which its join reports).
    let writer_thread = writer.thread().clone();
    let send = |chunk: &mut Vec<Checked>| {
        let full = std::mem::replace(chunk, Vec::with_capacity(SEND_CHUNK));
        let (tx, writer_thread) = (&tx, &writer_thread);
        async move {
            let sent = tx.send(full).await.is_ok();
            writer_thread.unpark();
            sent
        }
    };
    loop {
        let ready = match results.next().now_or_never() {
            Some(ready) => ready,
            None => {
                if !chunk.is_empty() && !send(&mut chunk).await {
                    break;
                }
                // Before the last result is in, the writer ends only on a
                // failure. A send would find that out, but only once a fetch
                // comes back: those in flight may be waiting out a
                // Retry-After, or their turn at a slow-paced host.
                tokio::select! {
                    biased;
                    next = results.next() => next,
                    _ = &mut writer_gone => break,
                }
            }
        };
        let Some(result) = ready else { break };
        #[cfg(debug_assertions)]
        let result = inject_damage(result, &db);
        match result {
            Ok(mut c) => {
                #[cfg(debug_assertions)]
                super::assess::inject_panic("recording", &c.url);
                checked += 1;
                if c.landing_pending.is_some() {
                    if pending_landings.len() < max_held {
                        // Shown with the verdict it ends with, at the end.
                        pending_landings.push(c);
                        continue;
                    }
                    // Enough held: this one is judged as it is, and again
                    // the next night, when the store knows the landing.
                    c.landing_pending = None;
                }
                progress.advance(&c.url, c.state.status.name());
                chunk.push(c);
                if chunk.len() >= SEND_CHUNK && !send(&mut chunk).await {
                    break;
                }
            }
            Err(CheckError::Abandoned(url)) => {
                abandoned_fetches += 1;
                let why = match *grace_over.borrow() {
                    Some(Ending::ByBudget) => "the run's time budget ran out",
                    _ => "the run was asked to stop",
                };
                tracing::warn!(%url, "gave up fetching: {why}; the source stays due");
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
    if let Some(watch) = grace_watch {
        watch.abort();
    }
    // Every job was taken before the request came (or the budget ran out),
    // but some were given up.
    if abandoned_fetches > 0 {
        match *grace_over.borrow() {
            Some(Ending::ByBudget) => stopped_by_budget.set(true),
            _ => stopped_on_request.set(true),
        }
    }
    if first_error.as_ref().is_some_and(CheckError::is_damage) {
        halt.store(true, std::sync::atomic::Ordering::Release);
        chunk.clear();
        pending_landings.clear();
    }
    // The fetches no longer take jobs: the preparer stops at its next one.
    let prepared = preparer.join();
    for mut c in pending_landings {
        if let Some(others) = landings.others(&c.url, &c.final_url) {
            c.reconsider_landing(others, &confirmation, &check_cfg, started_at);
        }
        progress.advance(&c.url, c.state.status.name());
        chunk.push(c);
    }
    if !chunk.is_empty() {
        send(&mut chunk).await;
    }
    drop(tx);
    // The writer sees the channel closed when it next looks.
    writer_thread.unpark();
    progress.finish();
    let (store, stats) = writer
        .join()
        .map_err(|_| CheckError::ThreadPanicked("writer"))?;
    prepared.map_err(|_| CheckError::ThreadPanicked("preparer"))?;
    let store = store.map_err(CheckError::not_recorded)?;
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
        stopped_on_request: stopped_on_request.get(),
        abandoned_on_stop: abandoned_fetches,
        // A run stopped on request left its night unfinished, unlike one
        // its time budget ended (the budget is how the nightly job is meant
        // to run on a large store).
        partial: !options.urls.is_empty()
            || options.host.is_some()
            || options.limit.is_some()
            || stopped_on_request.get(),
        checked_by_status: Status::count_every(stats.checked_by_status),
        excused_by_incident: stats.excused,
        host_incidents: stats.incidents,
        sources_by_status: Status::count_every(store.sources_by_status()?),
        newly_broken: stats.newly_broken,
        newly_recovered: stats.newly_recovered,
        not_compared: stats.not_compared,
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

#[derive(Default)]
struct WriterStats {
    newly_broken: usize,
    newly_recovered: usize,
    not_compared: usize,
    checked_by_status: BTreeMap<String, usize>,
    excused: usize,
    incidents: Vec<String>,
}

impl WriterStats {
    /// One recorded check, which left its source `new`.
    fn count(&mut self, old_status: &str, new: Status, not_compared: bool) {
        let old = Status::from_name(old_status);
        *self
            .checked_by_status
            .entry(new.name().to_string())
            .or_default() += 1;
        if new.is_broken() && !old.is_broken() {
            self.newly_broken += 1;
        }
        self.not_compared += usize::from(not_compared);
        if (old.is_broken() || old == Status::Failing)
            && matches!(new, Status::Ok | Status::Changed | Status::Moved)
        {
            self.newly_recovered += 1;
        }
    }

    /// Another's counts added (its incidents apart).
    fn add(&mut self, other: WriterStats) {
        self.newly_broken += other.newly_broken;
        self.newly_recovered += other.newly_recovered;
        self.not_compared += other.not_compared;
        self.excused += other.excused;
        for (status, n) in other.checked_by_status {
            *self.checked_by_status.entry(status).or_default() += n;
        }
    }
}

/// Writes results in batches: up to [`WRITER_BATCH`] per transaction, or whatever has waited
/// half a second, so a slow night still commits steadily.
///
/// Network failures are held back per host until the run ends: when a host's
/// failures reach [`INCIDENT_MIN_FAILURES`] and [`INCIDENT_SHARE`] of its checks,
/// the run records one host incident and those checks leave their sources' verdicts
/// as they were (the host was down from here, not each page gone). One run only:
/// when the host's previous run was an incident too, the failures count.
/// They are held in the store, not in memory (see [`Held`]), written in the
/// batches of the results around them: with every host down all night,
/// memory holds no more than a batch. The run's end records each host's
/// (with its incident, if any) in a transaction of its own; a run killed
/// before leaves them held, and the next run's start drops them, so their
/// sources stay due and nothing is recorded twice.
///
/// A write that fails ends the loop at once: its transaction is rolled back
/// whole and what the writer holds (the rest of its batch, the failures held
/// back, their incidents) is dropped, unrecorded, so each of those sources
/// stays due as after a kill; a second try would most likely meet the same
/// full disk or refusal. When `halt` is set (the run met damage to the
/// database) it drops what it holds without writing it.
fn writer_loop(
    mut store: Store,
    blobs: &FsBlobStore,
    run_id: i64,
    mut rx: tokio::sync::mpsc::Receiver<Vec<Checked>>,
    incident_recheck_at: Millis,
    halt: &std::sync::atomic::AtomicBool,
) -> (Result<Store, CheckError>, WriterStats) {
    let mut stats = WriterStats::default();
    let mut batch: Vec<Checked> = Vec::new();
    // This batch's network failures, as (host, record) for `held_checks`.
    let mut held: Vec<(String, String)> = Vec::new();
    let mut held_captures = false;
    #[cfg(debug_assertions)]
    let mut held_peak = 0usize;
    let mut per_host: HashMap<String, usize> = HashMap::new();
    let writer_batch = writer_batch();
    let flush = |store: &mut Store,
                 batch: &mut Vec<Checked>,
                 held: &mut Vec<(String, String)>,
                 held_captures: &mut bool,
                 stats: &mut WriterStats|
     -> Result<(), CheckError> {
        if batch.is_empty() && held.is_empty() {
            return Ok(());
        }
        #[cfg(debug_assertions)]
        for c in batch.iter() {
            super::assess::inject_panic("writing", &c.url);
        }
        let writes: Vec<CheckWrite> = batch.iter().map(to_write).collect();
        // Blobs are written without fsync (see FsBlobStore::deferred_sync): make
        // them durable before any row names them, a held one's too.
        if *held_captures || writes.iter().any(|w| w.capture.is_some()) {
            blobs.sync().map_err(RecordError::from)?;
        }
        let rows: Vec<(&str, &str)> = held.iter().map(|(h, r)| (h.as_str(), r.as_str())).collect();
        store.write_checks_holding(run_id, &writes, &rows)?;
        drop(rows);
        held.clear();
        *held_captures = false;
        for c in batch.iter() {
            stats.count(&c.old_status, c.state.status, c.not_compared);
        }
        batch.clear();
        Ok(())
    };
    // Age of the oldest unwritten result: a steady trickle must not hold a batch open.
    let mut oldest: Option<Instant> = None;
    let max_age = Duration::from_millis(500);
    #[cfg(debug_assertions)]
    let mut gated = false;
    loop {
        let wait = oldest.map_or(max_age, |t| max_age.saturating_sub(t.elapsed()));
        // Each send unparks this thread (and a park may end early): what
        // came is taken when it wakes, and an empty look waits again.
        let received = match rx.try_recv() {
            Err(TryRecvError::Empty) => {
                std::thread::park_timeout(wait);
                rx.try_recv()
            }
            received => received,
        };
        let disconnected = matches!(received, Err(TryRecvError::Disconnected));
        #[cfg(debug_assertions)]
        if received.is_ok() && !std::mem::replace(&mut gated, true) {
            writer_gate();
        }
        for c in received.into_iter().flatten() {
            *per_host.entry(c.host.clone()).or_default() += 1;
            oldest.get_or_insert_with(Instant::now);
            if c.network_failure {
                let host = c.host.clone();
                held_captures |= c.archived.capture.is_some();
                held.push((host, Held::of(c).encode()));
                #[cfg(debug_assertions)]
                {
                    held_peak = held_peak.max(held.len());
                }
            } else {
                batch.push(c);
            }
        }
        if halt.load(std::sync::atomic::Ordering::Acquire) {
            return (Ok(store), stats);
        }
        let due = batch.len() + held.len() >= writer_batch
            || oldest.is_some_and(|t| t.elapsed() >= max_age)
            || disconnected;
        if due {
            if let Err(e) = flush(
                &mut store,
                &mut batch,
                &mut held,
                &mut held_captures,
                &mut stats,
            ) {
                return (Err(e), stats);
            }
            oldest = None;
        }
        if disconnected {
            #[cfg(debug_assertions)]
            report_held_peak(held_peak);
            if let Err(e) = record_held(
                &mut store,
                run_id,
                &per_host,
                incident_recheck_at,
                &mut stats,
            ) {
                return (Err(e), stats);
            }
            return (Ok(store), stats);
        }
    }
}

/// The run's end: each host's held network failures recorded, in host name
/// order (so incidents are recorded and listed alike from run to run), as
/// one incident when they are most of its `checks` (see [`writer_loop`]).
fn record_held(
    store: &mut Store,
    run_id: i64,
    checks: &HashMap<String, usize>,
    incident_recheck_at: Millis,
    stats: &mut WriterStats,
) -> Result<(), CheckError> {
    let mut after: Option<String> = None;
    while let Some((host, failures)) = store.next_held_host(after.as_deref())? {
        let checks = checks.get(&host).copied().unwrap_or(failures).max(failures);
        let incident =
            failures >= INCIDENT_MIN_FAILURES && failures as f64 >= INCIDENT_SHARE * checks as f64;
        // An incident forgives one run: when the host's previous run was
        // one too, the outage has lasted, and each source's failure counts
        // (a lapsed domain must reach `dead`, a host gone for good
        // `unreachable`).
        let lasting = incident && store.incident_in_previous_run(&host, run_id)?;
        let incident = incident.then(|| {
            let detail = format!(
                "host incident: {failures} of {checks} checks on {host} failed on the network in this run{}",
                if lasting {
                    ", as in its previous run: counted against each source"
                } else {
                    ""
                }
            );
            NewIncident {
                host: host.clone(),
                at: now_millis(),
                checks,
                failures,
                detail,
            }
        });
        let excuse = incident.as_ref().filter(|_| !lasting).map(|i| &i.detail);
        let mut counted = WriterStats::default();
        store.apply_held(
            run_id,
            &host,
            incident.as_ref(),
            |record| {
                let Some(mut held) = Held::decode(record) else {
                    tracing::warn!(%host, "a held check could not be read back; its source stays due");
                    return None;
                };
                if let Some(detail) = excuse {
                    held.excuse(detail, incident_recheck_at);
                    counted.excused += 1;
                } else {
                    counted.count(&held.old_status, held.status(), held.not_compared);
                }
                Some(held)
            },
            Held::to_write,
        )?;
        stats.add(counted);
        if incident.is_some() {
            stats.incidents.push(host.clone());
        }
        after = Some(host);
    }
    Ok(())
}

/// Chunks of results waiting for the writer: room for two batches, so
/// fetching goes on while the writer commits one. In debug builds
/// `CITEWATCH_TEST_WRITER_QUEUE`, so a test can fill it with a few pages.
fn writer_queue() -> usize {
    #[cfg(debug_assertions)]
    if let Some(n) = std::env::var("CITEWATCH_TEST_WRITER_QUEUE")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    2 * WRITER_BATCH / SEND_CHUNK
}

/// Debug builds only: with `CITEWATCH_TEST_WRITER_GATE=FILE`, the writer
/// takes its first results and then waits until FILE exists, as a writer
/// behind a slow disk does, so a test can see what the fetches do meanwhile.
#[cfg(debug_assertions)]
fn writer_gate() {
    if let Some(path) = std::env::var_os("CITEWATCH_TEST_WRITER_GATE") {
        while !std::path::Path::new(&path).exists() {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// [`WRITER_BATCH`], or in debug builds `CITEWATCH_TEST_WRITER_BATCH`, so a
/// test can show what the writer holds at most with a few sources.
fn writer_batch() -> usize {
    #[cfg(debug_assertions)]
    if let Some(n) = std::env::var("CITEWATCH_TEST_WRITER_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    WRITER_BATCH
}

/// Debug builds only: with `CITEWATCH_TEST_HELD_PEAK=FILE`, the most network
/// failures the writer held in memory at once is written to FILE as the
/// run ends, so a test can see it bounded by the batch, not by the outage.
#[cfg(debug_assertions)]
fn report_held_peak(peak: usize) {
    if let Some(path) = std::env::var_os("CITEWATCH_TEST_HELD_PEAK") {
        let _ = std::fs::write(path, peak.to_string());
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
        response_from: f.response_from,
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
            http_status: c.answered_status,
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
            suspect: c.state.suspect.map(Suspect::name),
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
            streak_kind: c.state.streak_kind.map(Evidence::name),
            mixed_failures: c.state.mixed_failures,
            mixed_since: c.state.mixed_since,
            no_such_host_since: c.state.no_such_host_since,
            held_status: c.state.held_status.map(Status::name),
            capture_is_baseline: c.capture_is_baseline,
            verdict_stands: c.verdict_stands,
            disown_landing: c.disown_landing.map(|judged_good_too| Disowned {
                landing: &c.final_url,
                judged_good_too,
            }),
        },
        baseline_reading: c
            .baseline_update
            .as_ref()
            .map(|(id, json)| (*id, json.as_str())),
    }
}
