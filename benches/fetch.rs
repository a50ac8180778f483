//! Fetch throughput: citewatch's fetcher against lychee on the same URL list,
//! 20,000 article URLs over 100 simulated loopback hosts, pacing off,
//! concurrency 128. citewatch reads and hashes every body; a bare reqwest client
//! doing the same is shown as the floor any fetcher pays.
//!
//! The simulated web runs in a child process (this binary again, in server
//! mode), so the server's CPU and memory are not counted against the clients.
//! The server also counts the requests and connections each run made, which is
//! how the table proves that every tool really fetched every URL.
//!
//! Run: `bash bench/run.sh` (installs lychee) or `cargo bench --bench fetch`.
//! Environment: `URLS` (20000), `HOSTS` (100), `CONCURRENCY` (128), `RUNS` (2),
//! `LYCHEE` (path of the lychee binary), `ROBOTS_RUN` (1: also run citewatch
//! with robots.txt on; 0: skip).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use citewatch::config::FetchConfig;
use citewatch::fetch::{FetchRequest, Fetcher};
use citewatch::simweb::{SimWeb, SimWebOptions};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Set in the child: the file to write the URL list to.
const SERVER_ENV: &str = "CITEWATCH_BENCH_SIMWEB_URLS";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn main() {
    if let Ok(file) = std::env::var(SERVER_ENV) {
        serve(Path::new(&file));
        return;
    }
    let n = env_usize("URLS", 20_000);
    let hosts = env_usize("HOSTS", 100);
    let concurrency = env_usize("CONCURRENCY", 128);
    let runs = env_usize("RUNS", 2).max(1);
    let robots_run = env_usize("ROBOTS_RUN", 1) == 1;

    let dir = tempfile::tempdir().unwrap();
    let url_file = dir.path().join("urls.txt");
    let mut server = Server::spawn(&url_file);
    let urls: Vec<String> = std::fs::read_to_string(&url_file)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(urls.len(), n, "the server wrote {} URLs", urls.len());
    println!(
        "fetch benchmark: {n} URLs over {hosts} loopback hosts, concurrency {concurrency}, \
         pacing off, retries 0, every body read"
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    for run in 1..=runs {
        let label = format!("citewatch #{run}");
        rows.push(measure_in_process(&mut server, &label, || {
            rt.block_on(citewatch_run(&urls, concurrency, false))
        }));
    }
    if robots_run {
        rows.push(measure_in_process(
            &mut server,
            "citewatch robots on",
            || rt.block_on(citewatch_run(&urls, concurrency, true)),
        ));
    }
    rows.push(measure_in_process(&mut server, "reqwest (bare)", || {
        rt.block_on(reqwest_run(&urls, concurrency))
    }));
    drop(rt);

    let lychee = find_lychee();
    match &lychee {
        Some(bin) => {
            println!("lychee: {} ({})", bin.display(), lychee_version(bin));
            for run in 1..=runs {
                rows.push(lychee_run(
                    &mut server,
                    bin,
                    &url_file,
                    concurrency,
                    &format!("lychee #{run}"),
                ));
            }
        }
        None => {
            eprintln!();
            eprintln!("!!! lychee NOT FOUND: set LYCHEE, or run `bash bench/run.sh` to install it");
            eprintln!("!!! into bench/.venv. Printing citewatch's figures only.");
            eprintln!();
        }
    }
    server.stop();

    print_table(&rows);
    let best = |prefix: &str| {
        rows.iter()
            .filter(|r| r.tool.starts_with(prefix) && !r.tool.contains("robots"))
            .map(Row::rate)
            .fold(f64::NAN, f64::max)
    };
    if lychee.is_some() {
        let (ours, theirs) = (best("citewatch #"), best("lychee #"));
        println!(
            "\ncitewatch/lychee URLs/s (best runs): {:.2}  ({ours:.0} / {theirs:.0})",
            ours / theirs
        );
    }
    let floor = best("reqwest");
    println!(
        "citewatch/bare reqwest URLs/s (best runs): {:.2}",
        best("citewatch #") / floor
    );
    for row in &rows {
        if !row.complete(n) {
            println!(
                "WARNING: {} did not check all {n} URLs cleanly: {}",
                row.tool, row.note
            );
        }
    }
}

/// One measured run.
struct Row {
    tool: String,
    urls: usize,
    ok: usize,
    secs: f64,
    cpu_secs: f64,
    peak_rss_mib: f64,
    server_requests: u64,
    server_connections: u64,
    note: String,
}

impl Row {
    fn rate(&self) -> f64 {
        self.urls as f64 / self.secs
    }

    fn complete(&self, n: usize) -> bool {
        self.urls == n && self.ok == n && self.server_requests >= n as u64
    }
}

fn print_table(rows: &[Row]) {
    println!();
    println!(
        "{:<22} {:>7} {:>7} {:>8} {:>9} {:>7} {:>9} {:>9} {:>7}",
        "tool", "URLs", "ok", "seconds", "URLs/s", "CPU s", "RSS MiB", "srv reqs", "conns"
    );
    for r in rows {
        println!(
            "{:<22} {:>7} {:>7} {:>8.2} {:>9.0} {:>7.2} {:>9.1} {:>9} {:>7}",
            r.tool,
            r.urls,
            r.ok,
            r.secs,
            r.rate(),
            r.cpu_secs,
            r.peak_rss_mib,
            r.server_requests,
            r.server_connections
        );
    }
    for r in rows.iter().filter(|r| !r.note.is_empty()) {
        println!("  {}: {}", r.tool, r.note);
    }
}

/// What a client run counted.
#[derive(Default)]
struct Tally {
    urls: usize,
    /// 200 answers whose whole body was read and hashed.
    ok: usize,
    bytes: u64,
    kinds: BTreeMap<String, usize>,
    first_failure: Option<String>,
}

impl Tally {
    fn note(&self) -> String {
        let kinds: Vec<String> = self.kinds.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut note = format!(
            "{:.0} MiB of bodies; outcomes {}",
            self.bytes as f64 / 1_048_576.0,
            kinds.join(" ")
        );
        if let Some(f) = &self.first_failure {
            note.push_str(&format!("; first failure: {f}"));
        }
        note
    }
}

async fn citewatch_run(urls: &[String], concurrency: usize, robots: bool) -> Tally {
    let config = FetchConfig {
        requests_per_second: 0.0,
        concurrency,
        per_host_concurrency: concurrency,
        respect_robots: robots,
        allow_networks: vec!["127.0.0.0/8".parse().unwrap()],
        retries: 0,
        ..FetchConfig::default()
    };
    let fetcher = Fetcher::builder(config).build().unwrap();
    drive(urls, concurrency, move |url| {
        let fetcher = fetcher.clone();
        async move {
            let report = fetcher.fetch(&FetchRequest::new(url.clone())).await;
            let kind = report.outcome.kind().to_string();
            let status = report.outcome.status();
            let body = report.body().map(|b| (b.len(), b.sha256_hex()));
            match (status, body) {
                (Some(200), Some((len, hash))) if hash.len() == 64 && len > 0 => Ok((kind, len)),
                _ => Err((kind, format!("{url}: {}", report.outcome.detail()))),
            }
        }
    })
    .await
}

async fn reqwest_run(urls: &[String], concurrency: usize) -> Tally {
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    drive(urls, concurrency, move |url| {
        let client = client.clone();
        async move {
            let fail = |e: reqwest::Error| ("error".to_string(), format!("{url}: {e}"));
            let resp = client.get(&url).send().await.map_err(fail)?;
            let status = resp.status();
            let body = resp.bytes().await.map_err(fail)?;
            let hash = hex::encode(Sha256::digest(&body));
            if status == 200 && hash.len() == 64 && !body.is_empty() {
                Ok(("http".to_string(), body.len() as u64))
            } else {
                Err(("http".to_string(), format!("{url}: status {status}")))
            }
        }
    })
    .await
}

/// Runs `fetch` on every URL as its own task (so the work spreads over the
/// runtime's threads, as a real check run would), at most `concurrency` at once.
async fn drive<F, Fut>(urls: &[String], concurrency: usize, fetch: F) -> Tally
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<(String, u64), (String, String)>> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut tasks = JoinSet::new();
    let mut tally = Tally::default();
    let record = |tally: &mut Tally, result: Result<(String, u64), (String, String)>| {
        tally.urls += 1;
        match result {
            Ok((kind, len)) => {
                tally.ok += 1;
                tally.bytes += len;
                *tally.kinds.entry(kind).or_default() += 1;
            }
            Err((kind, detail)) => {
                *tally.kinds.entry(kind).or_default() += 1;
                tally.first_failure.get_or_insert(detail);
            }
        }
    };
    for url in urls {
        let permit = Arc::clone(&permits).acquire_owned().await.unwrap();
        let fut = fetch(url.clone());
        tasks.spawn(async move {
            let result = fut.await;
            drop(permit);
            result
        });
        while let Some(done) = tasks.try_join_next() {
            record(&mut tally, done.unwrap());
        }
    }
    while let Some(done) = tasks.join_next().await {
        record(&mut tally, done.unwrap());
    }
    tally
}

fn measure_in_process(server: &mut Server, tool: &str, run: impl FnOnce() -> Tally) -> Row {
    reset_peak_rss();
    let (req0, conn0) = server.stats();
    let cpu0 = self_cpu_secs();
    let started = Instant::now();
    let tally = run();
    let secs = started.elapsed().as_secs_f64();
    let cpu_secs = self_cpu_secs() - cpu0;
    let (req1, conn1) = server.stats();
    let row = Row {
        tool: tool.to_string(),
        urls: tally.urls,
        ok: tally.ok,
        secs,
        cpu_secs,
        peak_rss_mib: peak_rss_mib(),
        server_requests: req1 - req0,
        server_connections: conn1 - conn0,
        note: tally.note(),
    };
    eprintln!("{tool}: {:.2} s", row.secs);
    row
}

fn lychee_run(
    server: &mut Server,
    bin: &Path,
    url_file: &Path,
    concurrency: usize,
    tool: &str,
) -> Row {
    // A fresh folder each run: no `.lycheecache`, no `lychee.toml` or
    // `.lycheeignore` picked up from the current folder.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("urls.txt");
    std::fs::copy(url_file, &input).unwrap();
    let report = dir.path().join("report.json");
    let log = std::fs::File::create(dir.path().join("lychee.log")).unwrap();
    let c = concurrency.to_string();
    let (req0, conn0) = server.stats();
    let started = Instant::now();
    #[expect(
        clippy::zombie_processes,
        reason = "reaped by wait4 below, which also gives its rusage"
    )]
    let child = Command::new(bin)
        .current_dir(dir.path())
        .args([
            "--no-progress",
            "--mode",
            "plain",
            "--max-concurrency",
            &c,
            "--host-concurrency",
            &c,
            "--host-request-interval",
            "0ms",
            "--max-retries",
            "0",
            // Defaults today, spelled out so a default change cannot skip our
            // loopback hosts or answer from a cache.
            "--exclude-loopback=false",
            "--exclude-private=false",
            "--cache=false",
            "--format",
            "json",
            "--output",
        ])
        .arg(&report)
        .arg(&input)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let (exit, usage) = wait4(&child);
    let secs = started.elapsed().as_secs_f64();
    let (req1, conn1) = server.stats();
    let json: serde_json::Value = std::fs::read_to_string(&report)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    let field = |k: &str| json[k].as_u64().unwrap_or(0) as usize;
    let mut note = format!(
        "exit {exit}; summary total={} successful={} errors={} timeouts={} excludes={} cached={}",
        field("total"),
        field("successful"),
        field("errors"),
        field("timeouts"),
        field("excludes"),
        field("cached")
    );
    if json.is_null() {
        let log = std::fs::read_to_string(dir.path().join("lychee.log")).unwrap_or_default();
        note.push_str(&format!("; no JSON report; log: {}", log.trim()));
    }
    eprintln!("{tool}: {secs:.2} s");
    Row {
        tool: tool.to_string(),
        urls: field("total"),
        ok: field("successful"),
        secs,
        cpu_secs: usage.0,
        peak_rss_mib: usage.1,
        server_requests: req1 - req0,
        server_connections: conn1 - conn0,
        note,
    }
}

/// Reaps `child` and returns its exit status and (CPU seconds, max RSS MiB),
/// from wait4 so that only this child is counted.
fn wait4(child: &Child) -> (i32, (f64, f64)) {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data, zero is a valid value, and wait4 writes it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own unreaped child; the pointers are to live locals.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4 failed: {}", std::io::Error::last_os_error());
    let exit = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (exit, (cpu_of(&usage), usage.ru_maxrss as f64 / 1024.0))
}

fn cpu_of(usage: &libc::rusage) -> f64 {
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn self_cpu_secs() -> f64 {
    // SAFETY: as in wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a pointer to a live local.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    cpu_of(&usage)
}

/// Resets VmHWM (Linux: writing 5 to clear_refs), so each in-process run
/// reports its own peak rather than the largest so far.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn find_lychee() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LYCHEE") {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Some(p);
        }
        eprintln!("LYCHEE={} is not a file", p.display());
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/.venv/bin/lychee");
    if venv.is_file() {
        return Some(venv);
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("lychee"))
            .find(|p| p.is_file())
    })
}

fn lychee_version(bin: &Path) -> String {
    Command::new(bin)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|e| e.to_string())
}

/// The simulated web in a child process, driven over its stdin and stdout.
struct Server {
    child: Child,
    to: ChildStdin,
    from: BufReader<ChildStdout>,
}

impl Server {
    fn spawn(url_file: &Path) -> Server {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(SERVER_ENV, url_file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let to = child.stdin.take().unwrap();
        let mut from = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        from.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready", "server said {line:?}");
        Server { child, to, from }
    }

    /// Requests and connections the simulated web has seen so far.
    fn stats(&mut self) -> (u64, u64) {
        writeln!(self.to, "stats").unwrap();
        self.to.flush().unwrap();
        let mut line = String::new();
        self.from.read_line(&mut line).unwrap();
        let mut it = line.split_whitespace().skip(1).map(|v| v.parse().unwrap());
        (it.next().unwrap(), it.next().unwrap())
    }

    fn stop(mut self) {
        drop(self.to);
        let _ = self.child.wait();
    }
}

/// Server mode: start the simulated web, render every page, write the URL list,
/// then answer `stats` lines until stdin closes.
fn serve(url_file: &Path) {
    let n = env_usize("URLS", 20_000);
    let hosts = env_usize("HOSTS", 100);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let web = rt
        .block_on(SimWeb::start(SimWebOptions {
            hosts,
            articles_per_host: n.div_ceil(hosts) as u64,
            ..SimWebOptions::default()
        }))
        .unwrap();
    rt.block_on(web.warm(n.div_ceil(hosts) as u64));
    let urls = web.urls(n);
    std::fs::write(url_file, urls.join("\n") + "\n").unwrap();
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready").unwrap();
    out.flush().unwrap();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if line.trim() == "stats" {
            writeln!(
                out,
                "stats {} {}",
                web.total_requests(),
                web.total_connections()
            )
            .unwrap();
            out.flush().unwrap();
        }
    }
    rt.block_on(web.shutdown());
}
