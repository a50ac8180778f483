//! What the benchmarks share: the simulated web in a child process, child
//! processes measured with `wait4`, this process's own CPU and peak RSS, the
//! lychee runner, table printing, and synthetic captures for large stores.
//!
//! Each bench binary calls [`serve_if_asked`] first thing in `main`: the server
//! child is the bench binary itself, started again with [`SERVER_ENV`] set.
#![allow(dead_code, reason = "each bench uses a different part of this module")]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

use citewatch::simweb::{SimWeb, SimWebOptions};

/// Set in the server child: the file to write the URL list to.
const SERVER_ENV: &str = "CITEWATCH_BENCH_SIMWEB_URLS";
/// Set in the server child: URLs, hosts and churn fraction, so the child serves
/// exactly what the parent asked for whatever the parent's own environment says.
const SERVER_URLS_ENV: &str = "CITEWATCH_BENCH_SIMWEB_N";
const SERVER_HOSTS_ENV: &str = "CITEWATCH_BENCH_SIMWEB_HOSTS";
const SERVER_CHURN_ENV: &str = "CITEWATCH_BENCH_SIMWEB_CHURN";

/// Records a synthetic 200 capture of `url` at `at` whose body is the blob
/// `sha256` (already stored): how the archive and serve benchmarks build stores
/// of 100,000 captures without fetching them.
#[expect(
    clippy::too_many_arguments,
    reason = "one flat row, spelled out at the call"
)]
pub fn record_synthetic_capture(
    store: &mut citewatch::store::Store,
    url: &str,
    host: &str,
    at: i64,
    content_type: &str,
    sha256: &str,
    size: u64,
    stored_size: u64,
) {
    let check = citewatch::store::NewCheck {
        duration_ms: 10,
        ..citewatch::store::NewCheck::answered(url, at)
    };
    let headers = serde_json::json!([["content-type", content_type]]).to_string();
    let capture = citewatch::store::NewCapture {
        headers_json: &headers,
        content_type: Some(content_type),
        ..citewatch::store::NewCapture::answered(url, at, sha256, size, stored_size)
    };
    store
        .record_fetch(url, host, &check, Some(&capture))
        .expect("record a synthetic capture");
}

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

pub fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// In the server child, serves until stdin closes and returns true; in the
/// bench itself, returns false at once.
pub fn serve_if_asked() -> bool {
    let Ok(file) = std::env::var(SERVER_ENV) else {
        return false;
    };
    serve(
        Path::new(&file),
        env_usize(SERVER_URLS_ENV, 20_000),
        env_usize(SERVER_HOSTS_ENV, 100),
        env_f64(SERVER_CHURN_ENV, 0.0),
    );
    true
}

/// The simulated web in a child process, driven over its stdin and stdout.
pub struct Server {
    child: Child,
    to: ChildStdin,
    from: BufReader<ChildStdout>,
    /// The article URLs it serves, URL `i` being article `i / hosts` on host
    /// `i % hosts`; also written, one a line, to the file given to [`Server::spawn`].
    pub urls: Vec<String>,
}

impl Server {
    /// Starts `urls` articles over `hosts` hosts, `churn` of them churning (new
    /// bytes and validators on every load), renders every page, and writes the
    /// URL list to `url_file`.
    pub fn spawn(url_file: &Path, urls: usize, hosts: usize, churn: f64) -> Server {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(SERVER_ENV, url_file)
            .env(SERVER_URLS_ENV, urls.to_string())
            .env(SERVER_HOSTS_ENV, hosts.to_string())
            .env(SERVER_CHURN_ENV, churn.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let to = child.stdin.take().unwrap();
        let mut from = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        from.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready", "server said {line:?}");
        let list: Vec<String> = std::fs::read_to_string(url_file)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(list.len(), urls, "the server wrote {} URLs", list.len());
        Server {
            child,
            to,
            from,
            urls: list,
        }
    }

    /// Requests and connections the simulated web has seen so far, and the
    /// CPU seconds it has used: it shares the machine with the client measured,
    /// so a client that makes it work harder (full bodies rather than 304s) is
    /// slowed by it on a machine with few cores.
    pub fn stats(&mut self) -> (u64, u64, f64) {
        writeln!(self.to, "stats").unwrap();
        self.to.flush().unwrap();
        let mut line = String::new();
        self.from.read_line(&mut line).unwrap();
        let mut it = line.split_whitespace().skip(1);
        let mut next = || it.next().unwrap();
        (
            next().parse().unwrap(),
            next().parse().unwrap(),
            next().parse().unwrap(),
        )
    }

    pub fn stop(mut self) {
        drop(self.to);
        let _ = self.child.wait();
    }
}

/// Server mode: start the simulated web, render every page, write the URL list,
/// then answer `stats` lines until stdin closes.
fn serve(url_file: &Path, n: usize, hosts: usize, churn: f64) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let web = rt
        .block_on(SimWeb::start(SimWebOptions {
            hosts,
            articles_per_host: n.div_ceil(hosts) as u64,
            churn_fraction: churn,
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
                "stats {} {} {}",
                web.total_requests(),
                web.total_connections(),
                self_cpu_secs()
            )
            .unwrap();
            out.flush().unwrap();
        }
    }
    rt.block_on(web.shutdown());
}

/// A child process run to its end and measured.
pub struct ChildRun {
    /// Exit code; -1 when killed by a signal.
    pub exit: i32,
    /// Wall time from spawn to reaping.
    pub secs: f64,
    /// User + system CPU of the child alone.
    pub cpu_secs: f64,
    /// The child's peak resident memory.
    pub peak_rss_mib: f64,
}

/// Spawns `cmd` (its stdio as the caller set it; nothing may be piped that
/// the caller does not drain, since this blocks until the child exits) and
/// measures it with `wait4`, so only this child is counted.
pub fn run_child(cmd: &mut Command) -> ChildRun {
    let started = Instant::now();
    #[expect(
        clippy::zombie_processes,
        reason = "reaped by wait4 below, which also gives its rusage"
    )]
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", cmd.get_program().display()));
    let (exit, (cpu_secs, peak_rss_mib)) = wait4(&child);
    ChildRun {
        exit,
        secs: started.elapsed().as_secs_f64(),
        cpu_secs,
        peak_rss_mib,
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

/// This process's user + system CPU so far.
pub fn self_cpu_secs() -> f64 {
    // SAFETY: as in wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a pointer to a live local.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    cpu_of(&usage)
}

/// Resets VmHWM (Linux: writing 5 to clear_refs), so each in-process run
/// reports its own peak rather than the largest so far.
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// This process's peak resident memory (VmHWM) since the last reset.
pub fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The lychee binary: `LYCHEE`, else `bench/.venv/bin/lychee`, else `lychee` on
/// `PATH`.
pub fn find_lychee() -> Option<PathBuf> {
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

pub fn lychee_version(bin: &Path) -> String {
    Command::new(bin)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|e| e.to_string())
}

/// Says loudly that lychee is missing and only citewatch's figures follow.
pub fn warn_no_lychee() {
    eprintln!();
    eprintln!("!!! lychee NOT FOUND: set LYCHEE, or run `bash bench/run.sh` to install it");
    eprintln!("!!! into bench/.venv. Printing citewatch's figures only.");
    eprintln!();
}

/// One lychee run over a URL list.
pub struct LycheeRun {
    pub run: ChildRun,
    /// URLs lychee reported on (its summary's `total`).
    pub total: usize,
    /// Its summary's `successful`.
    pub successful: usize,
    /// Requests and connections the simulated web saw during the run.
    pub server_requests: u64,
    pub server_connections: u64,
    /// CPU seconds the simulated web used during the run.
    pub server_cpu_secs: f64,
    /// Exit code and lychee's summary counts, and its log when it wrote no report.
    pub note: String,
}

impl LycheeRun {
    pub fn rate(&self) -> f64 {
        self.total as f64 / self.run.secs
    }
}

/// Runs lychee on `url_file` with at most `concurrency` requests in flight,
/// pacing off and no retries, reading its JSON summary.
pub fn lychee_run(
    server: &mut Server,
    bin: &Path,
    url_file: &Path,
    concurrency: usize,
) -> LycheeRun {
    // A fresh folder each run: no `.lycheecache`, no `lychee.toml` or
    // `.lycheeignore` picked up from the current folder.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("urls.txt");
    std::fs::copy(url_file, &input).unwrap();
    let report = dir.path().join("report.json");
    let log = std::fs::File::create(dir.path().join("lychee.log")).unwrap();
    let c = concurrency.to_string();
    let (req0, conn0, cpu0) = server.stats();
    let run = run_child(
        Command::new(bin)
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
            .stderr(log),
    );
    let (req1, conn1, cpu1) = server.stats();
    let json: serde_json::Value = std::fs::read_to_string(&report)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    let field = |k: &str| json[k].as_u64().unwrap_or(0) as usize;
    let mut note = format!(
        "exit {}; summary total={} successful={} errors={} timeouts={} excludes={} cached={}",
        run.exit,
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
    LycheeRun {
        total: field("total"),
        successful: field("successful"),
        server_requests: req1 - req0,
        server_connections: conn1 - conn0,
        server_cpu_secs: cpu1 - cpu0,
        note,
        run,
    }
}

/// A table: the first column left-aligned, the others right-aligned, each as
/// wide as its widest cell.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    /// Lines printed under the table.
    notes: Vec<String>,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        assert_eq!(cells.len(), self.header.len(), "cells for every column");
        self.rows.push(cells);
    }

    /// A line printed under the table, `  label: note`, when `note` is not empty.
    pub fn note(&mut self, label: &str, note: &str) {
        if !note.is_empty() {
            self.notes.push(format!("  {label}: {note}"));
        }
    }

    pub fn print(&self) {
        let widths: Vec<usize> = (0..self.header.len())
            .map(|c| {
                self.rows
                    .iter()
                    .map(|r| r[c].chars().count())
                    .chain([self.header[c].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (c, (cell, w)) in cells.iter().zip(&widths).enumerate() {
                if c == 0 {
                    s.push_str(&format!("{cell:<w$}"));
                } else {
                    s.push_str(&format!("  {cell:>w$}"));
                }
            }
            println!("{}", s.trim_end());
        };
        println!();
        line(&self.header);
        for r in &self.rows {
            line(r);
        }
        for n in &self.notes {
            println!("{n}");
        }
    }
}
