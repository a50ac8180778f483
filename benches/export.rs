//! `citewatch export-warc`, measured: the whole archive of a store the nightly
//! job built (a first night and a re-check night of `URLS` sources on the
//! simulated loopback web, 10% of them churning), written as a gzipped WARC
//! with its CDXJ index by the real release binary, as a child process.
//!
//! Each round exports once with `--jobs 1` (the baseline: every record
//! compressed on one thread) and once with each count in `JOBS`, alternated,
//! so both sides meet the same neighbours on a shared machine. Wall time, CPU
//! (user + system) and peak RSS come from `wait4` on the child. Every export
//! of a round must decompress to the same records (the `warcinfo` record's
//! identity and date aside), or the benchmark fails.
//!
//! Run: `cargo bench --bench export`. Environment: `URLS` (20000), `HOSTS`
//! (100), `ROUNDS` (3), `JOBS` (the counts measured besides 1, comma-separated;
//! default: this machine's cores), `STORE` (a folder: build the store there
//! once and reuse it on later invocations, to measure the export alone).

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use citewatch::simweb::write_briefing_store;
use common::{ChildRun, Server, Table, env_usize, run_child};
use serde_json::Value;

fn main() {
    if common::serve_if_asked() {
        return;
    }
    let n = env_usize("URLS", 20_000);
    let hosts = env_usize("HOSTS", 100);
    let rounds = env_usize("ROUNDS", 3).max(1);
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let jobs: Vec<usize> = std::env::var("JOBS")
        .ok()
        .map(|v| {
            v.split(',')
                .filter_map(|j| j.trim().parse().ok())
                .filter(|&j| j > 1)
                .collect()
        })
        .unwrap_or_else(|| vec![cores.max(2)]);

    let scratch = tempfile::tempdir().unwrap();
    let root = match std::env::var_os("STORE") {
        Some(dir) => PathBuf::from(dir),
        None => scratch.path().join("store"),
    };
    if !root.join("citewatch.toml").exists() {
        build_store(&root, scratch.path(), n, hosts);
    }
    println!("export benchmark: the store in {}", root.display());
    println!("citewatch: {}", env!("CARGO_BIN_EXE_citewatch"));

    let mut table = Table::new(&[
        "export",
        "captures",
        "records",
        "seconds",
        "CPU s",
        "RSS MiB",
        "WARC MiB",
        "MiB/s out",
        "×jobs 1",
    ]);
    let mut speedups: Vec<(usize, f64)> = Vec::new();
    let mut failed = false;
    for round in 1..=rounds {
        let mut base: Option<(f64, Vec<u8>)> = None;
        for &j in std::iter::once(&1).chain(&jobs) {
            // One name in a folder each: the records name their file.
            let out = scratch.path().join(format!("jobs{j}/all.warc.gz"));
            std::fs::create_dir_all(out.parent().unwrap()).unwrap();
            let (run, summary) = export(&root, &out, j);
            if run.exit != 0 {
                eprintln!("export --jobs {j} exited {}", run.exit);
                failed = true;
                continue;
            }
            let bytes = summary["bytes"].as_f64().unwrap_or(f64::NAN);
            let records = normalised_records(&out);
            let ratio = match &base {
                None => {
                    base = Some((run.secs, records));
                    1.0
                }
                Some((secs, expected)) => {
                    if *expected != records {
                        eprintln!("WARNING: --jobs {j} wrote other records than --jobs 1");
                        failed = true;
                    }
                    speedups.push((j, secs / run.secs));
                    secs / run.secs
                }
            };
            table.row(vec![
                format!("--jobs {j} #{round}"),
                summary["captures"].to_string(),
                summary["records"].to_string(),
                format!("{:.2}", run.secs),
                format!("{:.2}", run.cpu_secs),
                format!("{:.1}", run.peak_rss_mib),
                format!("{:.1}", bytes / 1_048_576.0),
                format!("{:.1}", bytes / 1_048_576.0 / run.secs),
                format!("{ratio:.2}"),
            ]);
            let _ = std::fs::remove_file(&out);
        }
    }
    table.print();
    for &j in &jobs {
        let mut r: Vec<f64> = speedups
            .iter()
            .filter(|(k, _)| *k == j)
            .map(|(_, s)| *s)
            .collect();
        r.sort_by(f64::total_cmp);
        if let Some(median) = r.get(r.len() / 2) {
            println!(
                "--jobs {j} against --jobs 1, round by round: {}; median {median:.2}×",
                r.iter()
                    .map(|s| format!("{s:.2}×"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    assert!(!failed, "an export failed or differed; see above");
}

/// A store after a first night and a re-check night on the simulated web.
fn build_store(root: &Path, scratch: &Path, n: usize, hosts: usize) {
    std::fs::create_dir_all(root).unwrap();
    let url_file = scratch.join("urls.txt");
    let server = Server::spawn(&url_file, n, hosts, 0.1);
    let briefings = root.join("briefings");
    write_briefing_store(&briefings, &server.urls, 8).unwrap();
    std::fs::write(
        root.join("citewatch.toml"),
        "[briefings]\npaths = [\"briefings\"]\n[store]\ndir = \"data\"\n\
         [fetch]\nrequests_per_second = 0.0\nconcurrency = 128\nper_host_concurrency = 128\n\
         retries = 0\nrespect_robots = false\nallow_networks = [\"127.0.0.0/8\"]\n",
    )
    .unwrap();
    for args in [&["check"][..], &["check", "--all"]] {
        let run = run_child(
            Command::new(env!("CARGO_BIN_EXE_citewatch"))
                .arg("--config")
                .arg(root.join("citewatch.toml"))
                .args(args)
                .args(["--format", "json"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        assert_eq!(run.exit, 0, "citewatch {args:?} failed");
        eprintln!("{args:?}: {:.1} s", run.secs);
    }
    server.stop();
}

/// `citewatch export-warc --cdxj --jobs J`, measured, and its JSON summary.
fn export(root: &Path, out: &Path, jobs: usize) -> (ChildRun, Value) {
    let summary = out.with_extension("json");
    let run = run_child(
        Command::new(env!("CARGO_BIN_EXE_citewatch"))
            .arg("--config")
            .arg(root.join("citewatch.toml"))
            .args(["export-warc", "--cdxj", "--format", "json", "--jobs"])
            .arg(jobs.to_string())
            .arg("-o")
            .arg(out)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&summary).unwrap())
            .stderr(Stdio::null()),
    );
    let value = std::fs::read_to_string(&summary)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    (run, value)
}

/// The sha256 of the WARC's records, decompressed, with the `warcinfo`
/// record's identity and date (which name the export, not the archive)
/// blanked: two exports of one store must agree on everything else. Read a
/// line at a time: this process's own size would count in its children's
/// peak RSS, which includes what they were forked from.
fn normalised_records(path: &Path) -> Vec<u8> {
    use sha2::Digest;
    let mut lines = BufReader::new(flate2::read::MultiGzDecoder::new(
        std::fs::File::open(path).unwrap(),
    ));
    let mut hash = sha2::Sha256::new();
    let (mut id, mut date) = (None::<Vec<u8>>, None::<Vec<u8>>);
    let mut line = Vec::new();
    while lines.read_until(b'\n', &mut line).unwrap() > 0 {
        if id.is_none() {
            id = line.strip_prefix(b"WARC-Record-ID: ").map(<[u8]>::to_vec);
        }
        if date.is_none() && line.starts_with(b"WARC-Date: ") {
            date = Some(line.clone());
            line = b"WARC-Date: <now>\r\n".to_vec();
        }
        if let Some(id) = id
            .as_deref()
            .map(|i| i.trim_ascii())
            .filter(|i| !i.is_empty())
            && let Some(at) = line.windows(id.len()).position(|w| w == id)
        {
            line.splice(at..at + id.len(), b"<warcinfo>".iter().copied());
        }
        hash.update(&line);
        line.clear();
    }
    hash.finalize().to_vec()
}
