//! The nightly job, measured: `citewatch check` (the real release binary, as a
//! child process) on a briefing store citing 20,000 article URLs over 100
//! simulated loopback hosts, pacing off, concurrency 128, next to lychee on the
//! same URLs.
//!
//! - first night: `citewatch check --format json` on a fresh store: the sync of
//!   the briefing store, then every source unchecked, fetched, archived, read
//!   and given a verdict;
//! - re-check night: `citewatch check --all --format json` right after: every
//!   source again, with conditional requests (304s), except the churning pages
//!   (`CHURN`, 10%), whose bytes and validators change on every load, so they
//!   are downloaded, archived and compared with their first copy again.
//!
//! Wall time, CPU (user + system) and peak RSS come from `wait4` on the child,
//! so they are the whole process's: start-up, sync, fetching, archiving, page
//! analysis and the SQLite writer. The simulated web runs in another child
//! (this binary in server mode), not counted. Each night's JSON summary must
//! say every source was checked and is `ok`; the table follows, then the
//! closing lines compare the best runs with lychee's against the aims.
//!
//! Run: `bash bench/run.sh` (installs lychee) or `cargo bench --bench check`.
//! Environment: `URLS` (20000), `HOSTS` (100), `CHURN` (0.1), `CONCURRENCY`
//! (128), `RUNS` (2: store pairs of nights, and lychee runs), `ROBOTS_RUN` (1:
//! also a first night with robots.txt on; 0: skip), `RECHECKS` (1: re-check
//! nights after each first night; more give more samples of the nightly figure
//! on a noisy machine), `PAIRED` (1: also run lychee right after each re-check
//! night, and give each such pair's ratio; 0: skip), `LYCHEE` (the lychee
//! binary), `CITEWATCH` (the citewatch binary measured; default: this build's).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use citewatch::simweb::write_briefing_store;
use common::{
    ChildRun, Server, Table, env_f64, env_usize, find_lychee, lychee_run, lychee_version, run_child,
};
use serde_json::Value;

/// The aims, from the issue.
const AIM_RECHECK_RATIO: f64 = 1.5;
const AIM_FIRST_RATIO: f64 = 0.7;
const AIM_RSS_BYTES: f64 = 120e6;

/// Items per briefing document, as in the seed page.
const ITEMS_PER_DOC: usize = 8;

fn main() {
    if common::serve_if_asked() {
        return;
    }
    let n = env_usize("URLS", 20_000);
    let hosts = env_usize("HOSTS", 100);
    let churn = env_f64("CHURN", 0.1);
    let concurrency = env_usize("CONCURRENCY", 128);
    let runs = env_usize("RUNS", 2).max(1);
    let robots_run = env_usize("ROBOTS_RUN", 1) == 1;
    let rechecks = env_usize("RECHECKS", 1).max(1);
    let pair = env_usize("PAIRED", 1) == 1;

    let dir = tempfile::tempdir().unwrap();
    let url_file = dir.path().join("urls.txt");
    let mut server = Server::spawn(&url_file, n, hosts, churn);
    let briefings = dir.path().join("briefings");
    let docs = write_briefing_store(&briefings, &server.urls, ITEMS_PER_DOC)
        .unwrap()
        .len();
    println!(
        "check benchmark: {n} sources cited in {docs} briefing documents, {hosts} loopback \
         hosts, {:.0}% churning pages, concurrency {concurrency}, pacing off, retries 0",
        churn * 100.0
    );
    println!("citewatch: {}", citewatch_bin());

    let lychee = find_lychee();
    if let Some(bin) = &lychee {
        println!("lychee: {} ({})", bin.display(), lychee_version(bin));
    }
    let mut lychee_rows = Vec::new();
    // Each re-check night's rate over that of a lychee run right after it:
    // on a shared machine the two then meet much the same neighbours.
    let mut paired: Vec<f64> = Vec::new();
    let mut nights = Vec::new();
    for run in 1..=runs {
        let ground = Ground::new(dir.path(), &format!("store-{run}"), &briefings, concurrency);
        ground.write_config(false);
        nights.push(night(
            &mut server,
            &ground,
            &format!("first night #{run}"),
            &["check"],
        ));
        for again in 1..=rechecks {
            let label = if again == 1 {
                format!("re-check night #{run}")
            } else {
                format!("re-check night #{run}.{again}")
            };
            nights.push(night(&mut server, &ground, &label, &["check", "--all"]));
            if let (Some(bin), true) = (&lychee, pair) {
                let l = lychee_run(&mut server, bin, &url_file, concurrency);
                eprintln!("lychee after {label}: {:.2} s", l.run.secs);
                paired.push(nights[nights.len() - 1].rate() / l.rate());
                lychee_rows.push((format!("lychee #{run}.{again}"), l));
            }
        }
        ground.remove();
    }
    if robots_run {
        let ground = Ground::new(dir.path(), "store-robots", &briefings, concurrency);
        ground.write_config(true);
        nights.push(night(
            &mut server,
            &ground,
            "first night, robots on",
            &["check"],
        ));
        ground.remove();
    }

    match &lychee {
        Some(bin) => {
            for run in 1..=runs {
                let l = lychee_run(&mut server, bin, &url_file, concurrency);
                eprintln!("lychee #{run}: {:.2} s", l.run.secs);
                lychee_rows.push((format!("lychee #{run}"), l));
            }
        }
        None => common::warn_no_lychee(),
    }
    server.stop();

    let lychee_best = lychee_rows
        .iter()
        .map(|(_, l)| l.rate())
        .fold(f64::NAN, f64::max);
    let ratio = |rate: f64| {
        if lychee_best.is_finite() {
            format!("{:.2}", rate / lychee_best)
        } else {
            "-".to_string()
        }
    };
    let mut table = Table::new(&[
        "run",
        "URLs",
        "seconds",
        "URLs/s",
        "CPU s",
        "RSS MiB",
        "×lychee",
        "srv reqs",
        "srv CPU s",
        "conns",
        "db MiB",
        "blobs MiB",
    ]);
    for night in &nights {
        table.row(vec![
            night.label.clone(),
            night.checked.to_string(),
            format!("{:.2}", night.run.secs),
            format!("{:.0}", night.rate()),
            format!("{:.2}", night.run.cpu_secs),
            format!("{:.1}", night.run.peak_rss_mib),
            ratio(night.rate()),
            night.server_requests.to_string(),
            format!("{:.2}", night.server_cpu_secs),
            night.server_connections.to_string(),
            format!("{:.1}", mib(night.db_bytes)),
            format!("{:.1}", mib(night.blob_bytes)),
        ]);
        table.note(&night.label, &night.note());
    }
    for (label, l) in &lychee_rows {
        table.row(vec![
            label.clone(),
            l.total.to_string(),
            format!("{:.2}", l.run.secs),
            format!("{:.0}", l.rate()),
            format!("{:.2}", l.run.cpu_secs),
            format!("{:.1}", l.run.peak_rss_mib),
            ratio(l.rate()),
            l.server_requests.to_string(),
            format!("{:.2}", l.server_cpu_secs),
            l.server_connections.to_string(),
            "-".to_string(),
            "-".to_string(),
        ]);
        table.note(label, &l.note);
    }
    table.print();

    let best = |prefix: &str| {
        nights
            .iter()
            .filter(|n| n.label.starts_with(prefix))
            .map(Night::rate)
            .fold(f64::NAN, f64::max)
    };
    let (first, recheck) = (best("first night #"), best("re-check night #"));
    let peak = nights
        .iter()
        .map(|n| n.run.peak_rss_mib)
        .fold(f64::NAN, f64::max);
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    println!();
    if lychee_best.is_finite() {
        println!("best runs, against lychee's best {lychee_best:.0} URLs/s:");
        let r = recheck / lychee_best;
        println!(
            "  re-check night  {r:.2}× lychee  ({recheck:.0} URLs/s; aim ≥ {AIM_RECHECK_RATIO}×)  {}",
            verdict(r >= AIM_RECHECK_RATIO)
        );
        let f = first / lychee_best;
        println!(
            "  first night     {f:.2}× lychee  ({first:.0} URLs/s; aim ≥ {AIM_FIRST_RATIO}×)  {}",
            verdict(f >= AIM_FIRST_RATIO)
        );
        if !paired.is_empty() {
            let shown: Vec<String> = paired.iter().map(|r| format!("{r:.2}")).collect();
            let mut sorted = paired.clone();
            sorted.sort_by(f64::total_cmp);
            let median = if sorted.len() % 2 == 1 {
                sorted[sorted.len() / 2]
            } else {
                (sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2]) / 2.0
            };
            println!(
                "  re-check night, each against a lychee run right after it: {}×; median {median:.2}×",
                shown.join("×, ")
            );
        }
    } else {
        println!("best runs (no lychee to compare with):");
        println!("  re-check night  {recheck:.0} URLs/s");
        println!("  first night     {first:.0} URLs/s");
    }
    let peak_mb = peak * 1_048_576.0 / 1e6;
    println!(
        "  peak RSS        {peak:.1} MiB = {peak_mb:.1} MB  (aim ≤ {:.0} MB)  {}",
        AIM_RSS_BYTES / 1e6,
        verdict(peak * 1_048_576.0 <= AIM_RSS_BYTES)
    );

    let mut wrong = Vec::new();
    for night in &nights {
        if let Some(why) = night.fault(n) {
            wrong.push(format!("{}: {why}", night.label));
        }
    }
    for (label, l) in &lychee_rows {
        if l.total != n || l.successful != n {
            wrong.push(format!(
                "{label} did not check all {n} URLs cleanly: {}",
                l.note
            ));
        }
    }
    for w in &wrong {
        println!("WARNING: {w}");
    }
    assert!(
        wrong.iter().all(|w| w.starts_with("lychee")),
        "a citewatch night did not check every source cleanly (see the WARNING lines)"
    );
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

/// One store: its config file and data folder, citing the shared briefing store.
struct Ground {
    root: PathBuf,
    briefings: PathBuf,
    concurrency: usize,
}

impl Ground {
    fn new(parent: &Path, name: &str, briefings: &Path, concurrency: usize) -> Ground {
        let root = parent.join(name);
        std::fs::create_dir_all(&root).unwrap();
        Ground {
            root,
            briefings: briefings.to_path_buf(),
            concurrency,
        }
    }

    fn config(&self) -> PathBuf {
        self.root.join("citewatch.toml")
    }

    fn data(&self) -> PathBuf {
        self.root.join("data")
    }

    fn write_config(&self, robots: bool) {
        // A JSON string is a valid TOML basic string.
        let briefings = serde_json::to_string(&self.briefings.to_str().unwrap()).unwrap();
        let c = self.concurrency;
        let text = format!(
            "[briefings]\npaths = [{briefings}]\n\
             [store]\ndir = \"data\"\n\
             [fetch]\nrequests_per_second = 0.0\nconcurrency = {c}\nper_host_concurrency = {c}\n\
             retries = 0\nrespect_robots = {robots}\nallow_networks = [\"127.0.0.0/8\"]\n"
        );
        std::fs::write(self.config(), text).unwrap();
    }

    /// Bytes on disk (allocated blocks) of the database files and of the blobs.
    fn sizes(&self) -> (u64, u64) {
        let (mut db, mut blobs) = (0, 0);
        for entry in walkdir::WalkDir::new(self.data()).into_iter().flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            let bytes = std::os::unix::fs::MetadataExt::blocks(&meta) * 512;
            let rel = entry.path().strip_prefix(self.data()).unwrap();
            if rel.starts_with("blobs") {
                blobs += bytes;
            } else if rel.to_string_lossy().starts_with("citewatch.db") {
                db += bytes;
            }
        }
        (db, blobs)
    }

    fn remove(self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// One measured `citewatch check`.
struct Night {
    label: String,
    run: ChildRun,
    summary: Value,
    /// `checked` from the summary.
    checked: usize,
    server_requests: u64,
    server_connections: u64,
    /// CPU seconds the simulated web used meanwhile.
    server_cpu_secs: f64,
    db_bytes: u64,
    blob_bytes: u64,
    /// The end of stderr when the run failed.
    log_tail: String,
}

impl Night {
    /// Sources checked per second of the process's wall time.
    fn rate(&self) -> f64 {
        self.checked as f64 / self.run.secs
    }

    fn statuses(&self, key: &str) -> BTreeMap<String, u64> {
        self.summary[key]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn note(&self) -> String {
        let counts = |key: &str| {
            let m = self.statuses(key);
            m.iter()
                .filter(|(_, v)| **v > 0)
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let s = &self.summary;
        let mut note = format!(
            "exit {}; run {:.2} s ({:.0} URLs/s by its summary), sync {:.2} s; \
             checked by status {}; sources by status {}",
            self.run.exit,
            s["duration_ms"].as_f64().unwrap_or(f64::NAN) / 1000.0,
            s["urls_per_second"].as_f64().unwrap_or(f64::NAN),
            s["sync"]["duration_ms"].as_f64().unwrap_or(0.0) / 1000.0,
            counts("checked_by_status"),
            counts("sources_by_status"),
        );
        if let Some(h) = s["host_incidents"].as_array().filter(|h| !h.is_empty()) {
            note.push_str(&format!("; host incidents {}", h.len()));
        }
        if !self.log_tail.is_empty() {
            note.push_str(&format!("; stderr: {}", self.log_tail));
        }
        note
    }

    /// Why this night does not count as a clean check of all `n` sources.
    fn fault(&self, n: usize) -> Option<String> {
        if self.run.exit != 0 {
            return Some(format!("exit {}", self.run.exit));
        }
        if self.checked != n {
            return Some(format!("checked {} of {n}", self.checked));
        }
        let by_status = self.statuses("sources_by_status");
        let ok = by_status.get("ok").copied().unwrap_or(0) as usize;
        // Nearly everything: a clean simulated web, so at most 0.1% astray.
        (ok + n / 1000 < n).then(|| format!("only {ok} of {n} sources ok: {by_status:?}"))
    }
}

/// The binary measured: this build's, or `CITEWATCH` (say, a copy of an older
/// build, to compare two builds on the same machine the same hour).
///
/// A relative `CITEWATCH` is taken from the folder the bench was started in,
/// not the store's, where the child runs.
fn citewatch_bin() -> String {
    match std::env::var("CITEWATCH") {
        Ok(bin) => std::fs::canonicalize(&bin)
            .map(|p| p.display().to_string())
            .unwrap_or(bin),
        Err(_) => env!("CARGO_BIN_EXE_citewatch").to_string(),
    }
}

/// Runs `citewatch --config F <args> --format json` and measures it.
fn night(server: &mut Server, ground: &Ground, label: &str, args: &[&str]) -> Night {
    let out_path = ground.root.join(format!("{label}.json"));
    let log_path = ground.root.join(format!("{label}.log"));
    let (req0, conn0, srv_cpu0) = server.stats();
    let run = run_child(
        Command::new(citewatch_bin())
            .arg("--config")
            .arg(ground.config())
            .args(args)
            .args(["--format", "json"])
            .current_dir(&ground.root)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(std::fs::File::create(&log_path).unwrap()),
    );
    let (req1, conn1, srv_cpu1) = server.stats();
    eprintln!("{label}: {:.2} s", run.secs);
    let summary: Value = std::fs::read_to_string(&out_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let log_tail = if run.exit == 0 {
        String::new()
    } else {
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(5)..].join(" | ")
    };
    let (db_bytes, blob_bytes) = ground.sizes();
    Night {
        label: label.to_string(),
        checked: summary["checked"].as_u64().unwrap_or(0) as usize,
        summary,
        run,
        server_requests: req1 - req0,
        server_connections: conn1 - conn0,
        server_cpu_secs: srv_cpu1 - srv_cpu0,
        db_bytes,
        blob_bytes,
        log_tail,
    }
}
