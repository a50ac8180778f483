//! `citewatch report --format json` on a large store, through the real release
//! binary: wall time and the child's peak RSS (wait4), at 100,000 and 1,000,000
//! citations, to show the report streams (memory independent of store size).
//! On the same stores it also starts `citewatch check --all --limit 0`: the
//! due list a run holds for its whole length is all that costs, per source.
//!
//! The store is written straight into SQLite by `Store::bulk` in one
//! transaction: documents of 25 briefing items with 2 citations each, sources
//! cited ~3.3 times each, a realistic status mix (mostly ok; dead, soft 404,
//! unreachable, changed, moved, failing, blocked, unchecked), a baseline capture
//! for every source that was ever good, and two completed runs whose status
//! changes make a "what broke last night" set.
//!
//! Run: `cargo bench --bench report` (`CITATIONS=N` changes the large size).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use citewatch::store::{BulkSource, Store};
use common::{Table, env_usize, run_child};

const ITEMS: usize = 25;
const PER_ITEM: usize = 2;
const OUTLETS: usize = 300;
const HOSTS: usize = 2_000;
const DAY: i64 = 86_400_000;

/// A deterministic spread of `i` over 0..100.
fn bucket(i: usize) -> usize {
    (i.wrapping_mul(2_654_435_761) >> 7) % 100
}

/// Status of source `i`: 70% ok, 6% changed, 2% moved, 3% failing, 9% dead,
/// 4% soft_404, 2% unreachable, 2% blocked, 2% unchecked.
fn status_of(i: usize) -> &'static str {
    match bucket(i) {
        0..70 => "ok",
        70..76 => "changed",
        76..78 => "moved",
        78..81 => "failing",
        81..90 => "dead",
        90..94 => "soft_404",
        94..96 => "unreachable",
        96..98 => "blocked",
        _ => "unchecked",
    }
}

fn generate(file: &Path, citations: usize) -> usize {
    let sources = citations * 3 / 10;
    let mut store = Store::open(file).unwrap();
    let bulk = store.bulk().unwrap();
    let t0: i64 = 1_793_577_600_000; // 2026-11-02
    let run1 = bulk.run(t0 - DAY, t0 - DAY + 3_600_000).unwrap();
    let run2 = bulk.run(t0, t0 + 3_600_000).unwrap();
    let mut ids = Vec::with_capacity(sources);
    for i in 0..sources {
        let host = format!("www.host{}.example", i % HOSTS);
        let url = format!(
            "https://{host}/news/2020-12/{}/c_{i}.htm",
            1 + (i / HOSTS) % 28
        );
        let status = status_of(i);
        let broken = matches!(status, "dead" | "soft_404" | "unreachable");
        let sha = format!("{:064x}", i as u128 * 0x9e37_79b9_7f4a_7c15_u128);
        let final_url = format!("https://{host}/world/c_{i}.htm");
        let evidence = match status {
            "dead" => "404 Not Found",
            "soft_404" => "redirects to the site's homepage or a section page",
            "unreachable" => "timeout: operation timed out",
            "changed" => "main text 41% different from the copy archived on 2020-12-27",
            "moved" => "moved permanently",
            "failing" => "404 Not Found (1 failing check since 2026-11-02)",
            "blocked" => "HTTP 403: access refused to us",
            "unchecked" => "",
            _ => "HTTP 200",
        };
        let id = bulk
            .source(
                &BulkSource {
                    url: &url,
                    host: &host,
                    status,
                    status_since: (status != "unchecked").then_some(t0 - (i % 30) as i64 * DAY),
                    suspect: (status == "failing").then_some("dead"),
                    http_status: match status {
                        "dead" | "failing" => Some(404),
                        "unreachable" | "unchecked" => None,
                        "blocked" => Some(403),
                        _ => Some(200),
                    },
                    final_url: Some(if status == "moved" { &final_url } else { &url }),
                    error_kind: (status == "unreachable").then_some("timeout"),
                    evidence: (!evidence.is_empty()).then_some(evidence),
                    similarity: match status {
                        "changed" => Some(0.59),
                        "ok" | "moved" => Some(0.97),
                        _ => None,
                    },
                    last_checked: (status != "unchecked").then_some(t0),
                    consecutive_failures: if broken || status == "failing" {
                        1 + (i % 6) as u32
                    } else {
                        0
                    },
                    failing_since: (broken || status == "failing")
                        .then_some(t0 - (i % 30) as i64 * DAY),
                    no_such_host_since: None,
                    baseline: (!matches!(status, "unchecked" | "blocked") && bucket(i * 7) < 90)
                        .then_some((t0 - 700 * DAY + (i % 1000) as i64 * 1000, sha.as_str())),
                },
                t0 - 800 * DAY,
            )
            .unwrap();
        // One in ten broken sources broke last night; the rest the night before.
        if broken || matches!(status, "changed" | "moved" | "failing") {
            let (run, at) = if i % 10 == 0 {
                (run2, t0 + 1000)
            } else {
                (run1, t0 - DAY + 1000)
            };
            bulk.status_change(id, run, at, "ok", status).unwrap();
        }
        ids.push(id);
    }
    let docs = citations.div_ceil(ITEMS * PER_ITEM);
    let mut written = 0;
    'docs: for d in 0..docs {
        let doc = bulk
            .document(
                "../briefings",
                &format!("{:03}/briefings-{d}.txt", d / 1000),
                t0 - 900 * DAY,
            )
            .unwrap();
        for item in 0..ITEMS {
            let b = bulk
                .briefing(
                    doc,
                    item as i64,
                    &format!(
                        "Outlet news: headline {item} of briefing page {d}, on trade and diplomacy"
                    ),
                )
                .unwrap();
            for k in 0..PER_ITEM {
                if written == citations {
                    break 'docs;
                }
                let s = (written.wrapping_mul(7_919)) % sources;
                let outlet = format!("Outlet {}", (s * 31 + k) % OUTLETS);
                let date = format!("2020-12-{:02}", 1 + (d + item) % 28);
                let url = format!(
                    "https://www.host{}.example/news/2020-12/{}/c_{s}.htm",
                    s % HOSTS,
                    1 + (s / HOSTS) % 28
                );
                bulk.citation(b, k as i64, Some(&outlet), Some(&date), &url, ids[s])
                    .unwrap();
                written += 1;
            }
        }
    }
    bulk.commit().unwrap();
    sources
}

/// The parts of the JSON report the bench checks; the rest is skipped unread.
#[derive(serde::Deserialize)]
struct Shape {
    summary: ShapeSummary,
    sections: Vec<ShapeSection>,
}

#[derive(serde::Deserialize)]
struct ShapeSummary {
    citations: u64,
}

#[derive(serde::Deserialize)]
struct ShapeSection {
    citations: u64,
}

struct Measured {
    citations: usize,
    sources: usize,
    secs: f64,
    cpu: f64,
    rss: f64,
    bytes: u64,
    listed: u64,
    check_secs: f64,
    check_rss: f64,
}

fn measure(citations: usize) -> Measured {
    // `REPORT_BENCH_KEEP=1` keeps each store (its path is printed) for profiling.
    let dir = tempfile::Builder::new()
        .prefix("citewatch-report-bench")
        .disable_cleanup(std::env::var_os("REPORT_BENCH_KEEP").is_some())
        .tempdir()
        .unwrap();
    std::fs::create_dir_all(dir.path().join("briefings")).unwrap();
    let config = dir.path().join("citewatch.toml");
    std::fs::write(
        &config,
        "[briefings]\npaths = [\"briefings\"]\n[store]\ndir = \"data\"\n[serve]\npublic_url = \"https://citewatch.example.org/\"\n",
    )
    .unwrap();
    let db = dir.path().join("data/citewatch.db");
    let t = Instant::now();
    // Generated in a child: a child's peak RSS from wait4 includes what its parent
    // held when it was spawned, so this process must stay small.
    let status = Command::new(std::env::current_exe().unwrap())
        .env(GENERATE_ENV, format!("{citations}:{}", db.display()))
        .status()
        .unwrap();
    assert!(status.success(), "generating the store failed");
    let sources = citations * 3 / 10;
    eprintln!(
        "generated {citations} citations of {sources} sources in {:.1} s ({:.0} MiB) in {}",
        t.elapsed().as_secs_f64(),
        std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0) as f64 / 1048576.0,
        dir.path().display()
    );
    let out = dir.path().join("report.json");
    let mut runs = Vec::new();
    // First run warms the page cache; the second is the figure.
    for _ in 0..2 {
        runs.push(run_child(
            Command::new(env!("CARGO_BIN_EXE_citewatch"))
                .arg("--config")
                .arg(&config)
                .args(["report", "--format", "json", "-o"])
                .arg(&out)
                .env_remove("CITEWATCH_CONFIG")
                .stdin(Stdio::null())
                .stdout(Stdio::null()),
        ));
    }
    let run = runs.pop().unwrap();
    assert_eq!(run.exit, 0, "report failed");
    // A check's start on the same store: everything is due (`--all`), and the
    // due list is what a run holds for its whole length. `--limit 0` keeps it
    // from fetching anything (these sources are not on loopback).
    let check = run_child(
        Command::new(env!("CARGO_BIN_EXE_citewatch"))
            .arg("--config")
            .arg(&config)
            .args([
                "check",
                "--all",
                "--no-sync",
                "--limit",
                "0",
                "--format",
                "json",
            ])
            .env_remove("CITEWATCH_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null()),
    );
    assert_eq!(check.exit, 0, "check --limit 0 failed");
    // Parsed without keeping it: this process must stay small (see above).
    let bytes = std::fs::metadata(&out).unwrap().len();
    let report: Shape =
        serde_json::from_reader(std::io::BufReader::new(std::fs::File::open(&out).unwrap()))
            .unwrap();
    let listed: u64 = report.sections.iter().map(|s| s.citations).sum();
    assert_eq!(
        report.summary.citations, citations as u64,
        "the summary counts every citation"
    );
    Measured {
        citations,
        sources,
        secs: run.secs,
        cpu: run.cpu_secs,
        rss: run.peak_rss_mib,
        bytes,
        listed,
        check_secs: check.secs,
        check_rss: check.peak_rss_mib,
    }
}

/// Set in the generating child: `CITATIONS:DATABASE`.
const GENERATE_ENV: &str = "CITEWATCH_BENCH_REPORT_GENERATE";

fn main() {
    if let Ok(job) = std::env::var(GENERATE_ENV) {
        let (n, db) = job.split_once(':').unwrap();
        generate(Path::new(db), n.parse().unwrap());
        return;
    }
    let large = env_usize("CITATIONS", 1_000_000);
    let small = (large / 10).max(1_000);
    let mut table = Table::new(&[
        "citations",
        "sources",
        "listed",
        "report MiB",
        "seconds",
        "CPU s",
        "peak RSS MiB",
        "check start s",
        "its RSS MiB",
    ]);
    let mut rss = Vec::new();
    let mut check_rss = Vec::new();
    for n in [small, large] {
        let m = measure(n);
        rss.push(m.rss);
        check_rss.push(m.check_rss);
        table.row(vec![
            m.citations.to_string(),
            m.sources.to_string(),
            m.listed.to_string(),
            format!("{:.1}", m.bytes as f64 / 1048576.0),
            format!("{:.2}", m.secs),
            format!("{:.2}", m.cpu),
            format!("{:.1}", m.rss),
            format!("{:.2}", m.check_secs),
            format!("{:.1}", m.check_rss),
        ]);
    }
    table.note(
        "this process",
        &format!(
            "peak RSS {:.1} MiB (a floor under the children's figures)",
            common::peak_rss_mib()
        ),
    );
    table.note(
        "memory",
        &format!(
            "peak RSS at {large} citations is {:.2}× that at {small}",
            rss[1] / rss[0]
        ),
    );
    table.note(
        "check start",
        &format!(
            "peak RSS at {large} citations is {:.2}× that at {small} (all sources due)",
            check_rss[1] / check_rss[0]
        ),
    );
    table.print();
}
