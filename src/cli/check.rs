//! `citewatch check`, `status`, `sources`.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use citewatch::check::run::{CheckError, CheckOptions, Progress, RunSummary, run};
use citewatch::config::Config;
use citewatch::fetch::Fetcher;
use citewatch::store::{SourceRow, Store};
use citewatch::time::{Millis, format_millis};

use super::{
    Failure, Format, RUNTIME_FAILURE, Streamed, lock_failure, output_failed, print_json, runtime,
    usage,
};

/// A progress bar on a terminal; a log line every 10 s otherwise.
struct Shown {
    bar: Option<indicatif::ProgressBar>,
    /// Sources checked, and to check.
    counts: Arc<(AtomicUsize, AtomicUsize)>,
    /// Stops the log line's clock (by being dropped) and its thread.
    ticker: Mutex<Option<(mpsc::Sender<()>, std::thread::JoinHandle<()>)>>,
}

/// How often the log line comes when no terminal shows a bar: by the clock,
/// not by sources finished, so a run waiting on one slow host still says it
/// is alive. Shorter in debug builds through `CITEWATCH_TEST_LOG_EVERY_MS`,
/// for a test.
fn log_every() -> Duration {
    #[cfg(debug_assertions)]
    if let Some(ms) = std::env::var("CITEWATCH_TEST_LOG_EVERY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return Duration::from_millis(ms);
    }
    Duration::from_secs(10)
}

impl Progress for Shown {
    fn start(&self, total: usize) {
        if let Some(bar) = &self.bar {
            bar.set_length(total as u64);
            return;
        }
        self.counts.1.store(total, Ordering::Relaxed);
        let counts = self.counts.clone();
        let (stop, stopped) = mpsc::channel::<()>();
        let every = log_every();
        let spawned = std::thread::Builder::new()
            .name("citewatch-log".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                    eprintln!(
                        "citewatch: checked {}/{} sources",
                        counts.0.load(Ordering::Relaxed),
                        counts.1.load(Ordering::Relaxed)
                    );
                }
            });
        // Without the thread, no log lines: the run itself goes on.
        if let (Ok(handle), Ok(mut ticker)) = (spawned, self.ticker.lock()) {
            *ticker = Some((stop, handle));
        }
    }
    fn advance(&self, url: &str, status: &str) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(format!("{status:<11} {url}"));
            return;
        }
        self.counts.0.fetch_add(1, Ordering::Relaxed);
    }
    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let ticker = self.ticker.lock().ok().and_then(|mut t| t.take());
        if let Some((stop, handle)) = ticker {
            drop(stop);
            let _ = handle.join();
        }
    }
}

impl Drop for Shown {
    /// A run that ends in an error does not call `finish`; its log lines stop too.
    fn drop(&mut self) {
        self.finish();
    }
}

/// Runs `check`.
pub fn check(
    config: &Config,
    mut options: CheckOptions,
    format: Format,
) -> Result<ExitCode, Failure> {
    let bar = (std::io::stderr().is_terminal() && format == Format::Text).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {pos}/{len} {per_sec} {wide_msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let progress = Shown {
        bar,
        counts: Arc::default(),
        ticker: Mutex::new(None),
    };
    // A configured briefings path that is missing is a usage error found
    // before the lock is taken or a store made (the run syncs again, holding it).
    if !options.no_sync {
        citewatch::sync::find(config).map_err(usage)?;
    }
    let fetcher = Fetcher::builder(config.fetch.clone())
        .build()
        .map_err(runtime)?;
    // One thread does all the networking: a fetch's wake-ups stay on it instead
    // of crossing threads; reading pages and writing blobs go to the blocking
    // pool, and the SQLite writer has its own thread.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(runtime)?;
    // SIGINT or SIGTERM (systemctl stop) ends the run as its time budget
    // would: the fetches in flight are recorded and the summary printed. A
    // second signal stops at once, as a kill would; the store stays whole.
    // Installed before the lock, the store and the sync, which run
    // synchronously inside the run: a stop asked for then is seen at the
    // run's first pause, before any fetch, and a second one is not kept
    // waiting for it (see `stop_on_signals`).
    let stop = Arc::new(AtomicBool::new(false));
    options.stop = Some(stop.clone());
    citewatch::signals::stop_on_signals(
        stop,
        "citewatch: stopping: finishing the fetches in flight, for at most 10 s (a second signal stops at once)",
        "citewatch: stopped at once; the next run checks what this one did not record",
    )
    .map_err(runtime)?;
    let summary = match rt.block_on(run(config, &options, fetcher, &progress)) {
        Ok(s) => s,
        Err(CheckError::Locked(e)) => return Err(lock_failure(e)),
        Err(
            e @ (CheckError::BadUrl(..)
            | CheckError::NotSources { .. }
            | CheckError::UnknownHost { .. }),
        ) => return Err(usage(e)),
        Err(CheckError::Sync(citewatch::sync::SyncError::Walk(e))) => return Err(usage(e)),
        // Itself, not through the transparent wrapper, so no store yet is
        // told apart (exit 2) as in every other command.
        Err(CheckError::Store(e)) => return Err(runtime(e)),
        // Says what to do itself; the generic words for a damaged store
        // would only repeat them.
        Err(e @ CheckError::Damaged(_)) => {
            return Err(Failure {
                code: RUNTIME_FAILURE,
                error: e.into(),
            });
        }
        Err(e) => return Err(runtime(e)),
    };
    print_summary(&summary, format).map_err(output_failed)?;
    // As `sync` does: a document that could not be read is named and fails
    // the command, so a nightly timer shows it; the check itself ran.
    let unreadable = summary.sync.as_ref().map_or(&[][..], |s| &s.unreadable[..]);
    if !unreadable.is_empty() {
        for u in unreadable {
            eprintln!("citewatch: cannot read {}: {}", u.document, u.error);
        }
        return Err(runtime(anyhow::anyhow!(
            "{} (the check itself ran, its summary is above)",
            super::sync::unreadable_line(unreadable.len())
        )));
    }
    Ok(ExitCode::SUCCESS)
}

fn print_summary(s: &RunSummary, format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        return print_json(s);
    }
    let mut out = citewatch::printable::Printable::new(std::io::stdout().lock());
    writeln!(
        out,
        "checked {} of {} due sources in {:.1} s ({:.1} URLs/s){}",
        s.checked,
        s.due,
        s.duration_ms as f64 / 1000.0,
        s.urls_per_second,
        if s.stopped_by_time_budget {
            "; the time budget ended the run, the rest waits for the next one"
        } else if s.stopped_on_request {
            "; stopped on request, the rest waits for the next run"
        } else {
            ""
        }
    )?;
    if s.abandoned_on_stop > 0 {
        writeln!(
            out,
            "gave up {} fetch{} still in flight {} s after the {} (still due)",
            s.abandoned_on_stop,
            if s.abandoned_on_stop == 1 { "" } else { "es" },
            citewatch::check::run::STOP_GRACE.as_secs(),
            if s.stopped_by_time_budget {
                "time budget ran out"
            } else {
                "stop request"
            }
        )?;
    }
    writeln!(
        out,
        "newly broken: {}, recovered: {}",
        s.newly_broken, s.newly_recovered
    )?;
    // The JSON counts every status; people read the ones that have sources.
    // This run's checks first (what the night found), then the whole store.
    let checked: Vec<String> = s
        .checked_by_status
        .iter()
        .filter(|(_, v)| **v > 0)
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    if !checked.is_empty() {
        writeln!(out, "checked by new status: {}", checked.join(", "))?;
    }
    let by: Vec<String> = s
        .sources_by_status
        .iter()
        .filter(|(_, v)| **v > 0)
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    if by.is_empty() {
        writeln!(out, "sources by status: none yet (no briefing cites a URL)")?;
    } else {
        writeln!(out, "sources by status: {}", by.join(", "))?;
    }
    let blocked = s.sources_by_status.get("blocked").copied().unwrap_or(0);
    if s.due == 0 && blocked > 0 {
        // Often our own refusal (allow_networks, robots.txt, the user agent):
        // fixed in the configuration, it shows only when they are checked again.
        writeln!(
            out,
            "nothing was due; {blocked} blocked source{} wait for their next check \
             (`citewatch check --all` checks every source now, after a configuration change say)",
            if blocked == 1 { "" } else { "s" }
        )?;
    }
    if s.not_compared > 0 {
        writeln!(
            out,
            "warning: {} page{} could not be compared with the copy cited: the archive did not \
             give its bytes back, so a rewrite would go unseen; `citewatch verify` names the damage",
            s.not_compared,
            if s.not_compared == 1 { "" } else { "s" }
        )?;
    }
    if !s.host_incidents.is_empty() {
        writeln!(
            out,
            "host incidents: {} (most of their checks failed on the network: counted once \
             per host, not against each source{})",
            s.host_incidents.join(", "),
            match s.excused_by_incident {
                0 => String::new(),
                n => format!(
                    "; {n} check{} excused: the sources keep their verdicts and are tried again",
                    if n == 1 { "" } else { "s" },
                ),
            }
        )?;
    }
    Ok(())
}

fn parse_statuses(list: Option<&str>) -> Result<Option<Vec<String>>, Failure> {
    let Some(list) = list else { return Ok(None) };
    let names = citewatch::report::select::parse_statuses(list)
        .map_err(|e| usage(anyhow::anyhow!("--status: {e}")))?;
    Ok(Some(names.into_iter().map(str::to_string).collect()))
}

/// Runs `sources`. The rows are streamed from the store to a buffered
/// standard output, one at a time, as `citations` streams its own: held
/// whole and printed a line per system call, a large store's listing cost
/// memory in proportion to it and most of its time in writes.
///
/// `cited`: only the sources some document still in the briefing store
/// cites. Without it, the sources no such document cites (`cited 0`: only
/// withdrawn documents cite them, or none) are listed too, as their
/// verdicts stand, and the text says how many there are: the report counts
/// none of them, so `--status broken` could list more than it.
pub fn sources(
    config: &Config,
    status: Option<&str>,
    cited: bool,
    format: Format,
) -> Result<ExitCode, Failure> {
    let statuses = parse_statuses(status)?;
    let store = Store::open_existing(&config.store.database()).map_err(runtime)?;
    if format == Format::Json {
        sources_json(&store, statuses.as_deref(), cited)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = citewatch::printable::Printable::new(super::buffered_stdout());
    let (mut listed, mut uncited) = (0i64, 0i64);
    store.for_each_source(statuses.as_deref(), cited, |r| -> Result<(), Streamed> {
        if listed == 0 {
            writeln!(out, "{:<11} {:>5}  url  evidence", "status", "cited")?;
        }
        listed += 1;
        uncited += i64::from(r.citations == 0);
        writeln!(
            out,
            "{:<11} {:>5}  {}  {}",
            r.status,
            r.citations,
            r.url,
            r.evidence.as_deref().unwrap_or("")
        )?;
        Ok(())
    })?;
    let mut w = || -> std::io::Result<()> {
        writeln!(
            out,
            "{}",
            citewatch::report::text::plural(listed, "source", "sources")
        )?;
        if uncited > 0 {
            writeln!(
                out,
                "{uncited} of them cited by no document in the briefing store (cited 0: only \
                 withdrawn documents cite {}, or none), which the report does not count; \
                 `--cited` leaves them out",
                if uncited == 1 { "it" } else { "them" }
            )?;
        }
        out.flush()
    };
    w().map_err(output_failed)?;
    Ok(ExitCode::SUCCESS)
}

/// The JSON array `sources --format json` has always printed, written an
/// element at a time.
fn sources_json(store: &Store, statuses: Option<&[String]>, cited: bool) -> Result<(), Streamed> {
    super::json_array(|emit| {
        store.for_each_source(statuses, cited, |r| emit(&r))?;
        Ok(())
    })
}

/// A URL asked about (`status`, `history`) that no source has: bad input,
/// exit code 2. A URL copied from a browser often differs from the cited
/// one by its scheme, a `www.` or a trailing slash: the sources it might
/// mean are named.
pub fn not_a_source(
    store: &Store,
    n: &citewatch::source_url::SourceUrl,
) -> Result<Failure, Failure> {
    let near = citewatch::source_url::near_misses(n);
    let unknown = store.not_sources(&near).map_err(runtime)?;
    let near: Vec<&str> = near
        .iter()
        .filter(|u| !unknown.contains(u))
        .map(String::as_str)
        .collect();
    let mut msg = format!("{n} is not a source: no briefing cites it and it was never fetched");
    if !near.is_empty() {
        msg.push_str(&format!("; sources nearby: {}", near.join(", ")));
    }
    Ok(usage(anyhow::anyhow!(msg)))
}

/// Runs `status URL`.
pub fn status(config: &Config, url: &str, format: Format) -> Result<ExitCode, Failure> {
    let n = citewatch::source_url::normalize(url).map_err(|e| {
        usage(anyhow::anyhow!(
            "`{url}` is not a URL citewatch could have checked: {e}"
        ))
    })?;
    let store = Store::open_existing(&config.store.database()).map_err(runtime)?;
    let Some(row) = store.source(n.as_str()).map_err(runtime)? else {
        return Err(not_a_source(&store, &n)?);
    };
    if format == Format::Json {
        print_json(&row).map_err(output_failed)?;
        return Ok(ExitCode::SUCCESS);
    }
    // A check that left the verdict as it was (a host incident) says so:
    // the evidence above is the verdict's, from an earlier check.
    let latest = store.latest_check(row.id).map_err(runtime)?;
    // `fetch --save` records a check but judges nothing (no status after it).
    let saved_at = latest
        .as_ref()
        .filter(|c| c.status_after.is_none())
        .map(|c| c.started_at);
    let aside = latest
        .and_then(|c| c.evidence.map(|e| (c.started_at, e)))
        .filter(|(_, e)| !e.is_empty() && Some(e) != row.evidence.as_ref());
    print_source(&row, aside, saved_at).map_err(output_failed)?;
    Ok(ExitCode::SUCCESS)
}

/// "once", "twice", "3 times".
fn cited_times(n: i64) -> String {
    match n {
        1 => "once".to_string(),
        2 => "twice".to_string(),
        n => citewatch::report::text::plural(n, "time", "times"),
    }
}

fn print_source(
    r: &SourceRow,
    latest_check: Option<(Millis, String)>,
    saved_at: Option<Millis>,
) -> std::io::Result<()> {
    let mut out = citewatch::printable::Printable::new(std::io::stdout().lock());
    writeln!(out, "{} (source {})", r.url, r.id)?;
    let since = r
        .status_since
        .as_deref()
        .map_or_else(String::new, |t| format!(" since {t}"));
    match &r.suspect {
        Some(s) if r.status == "failing" => {
            writeln!(out, "  status: failing (suspect {s}){since}")?
        }
        _ => writeln!(out, "  status: {}{since}", r.status)?,
    }
    if let Some(e) = &r.evidence {
        writeln!(out, "  evidence: {e}")?;
    }
    if let Some(s) = r.http_status {
        writeln!(out, "  HTTP status: {s}")?;
    }
    if let Some(f) = &r.final_url {
        writeln!(out, "  final URL: {f}")?;
    }
    if let Some(e) = &r.error {
        writeln!(out, "  error: {} ({})", e.kind, e.detail)?;
    }
    if let Some(s) = r.similarity {
        writeln!(out, "  similarity to the copy as cited: {:.0}%", s * 100.0)?;
    }
    let never = match saved_at {
        Some(at) => format!(
            "never by `check` (fetched by `fetch --save` at {}, unjudged: `citewatch history` lists it)",
            format_millis(at)
        ),
        None => "never".to_string(),
    };
    writeln!(
        out,
        "  last checked: {}, next due: {}, consecutive failures: {}, cited {}",
        r.last_checked.as_deref().unwrap_or(&never),
        if r.citations == 0 {
            // A source only `fetch --save` made, or whose citations left.
            "none, no active citation (the nightly check leaves it alone)"
        } else {
            r.next_check.as_deref().unwrap_or("at the next run")
        },
        r.consecutive_failures,
        cited_times(r.citations)
    )?;
    if let Some((at, evidence)) = latest_check {
        writeln!(out, "  latest check ({}): {evidence}", format_millis(at))?;
    }
    if let Some(b) = r.baseline_capture_id {
        writeln!(
            out,
            "  baseline capture: {b}; latest capture: {}",
            r.latest_capture_id.unwrap_or(b)
        )?;
    }
    Ok(())
}
