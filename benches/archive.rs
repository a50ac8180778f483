//! Archive figures on the simulated web: bytes stored per captured HTML byte,
//! blob bytes added by re-capturing an unchanged store and by re-capturing pages
//! whose only change is per-load churn, and `get` latency on a store of 100,000
//! captures (library path and the real binary).
//!
//! Run: `cargo bench --bench archive` (env `PAGES`, `CAPTURES` to resize).

use std::time::{Duration, Instant};

use citewatch::archive::{self, BlobStore, FsBlobStore, blob_dir};
use citewatch::config::FetchConfig;
use citewatch::fetch::{FetchRequest, Fetcher};
use citewatch::simweb::{PageKind, SimWeb, SimWebOptions};
use citewatch::store::Store;
use futures_util::StreamExt;

mod common;

use common::{env_usize as env, record_synthetic_capture};

fn mib(b: u64) -> f64 {
    b as f64 / 1048576.0
}

struct Night {
    body_bytes: u64,
    blob_bytes_added: u64,
    captures: usize,
    not_modified: usize,
}

/// Fetches every URL (conditionally when `conditional`) and records it.
async fn night(
    fetcher: &Fetcher,
    store: &mut Store,
    blobs: &FsBlobStore,
    urls: &[String],
    conditional: bool,
) -> Night {
    let before = store.blob_totals().unwrap().0;
    let reqs: Vec<FetchRequest> = urls
        .iter()
        .map(|u| {
            if conditional {
                archive::conditional_request(store, blobs, u).unwrap()
            } else {
                FetchRequest::new(u.as_str())
            }
        })
        .collect();
    let reports: Vec<_> = futures_util::stream::iter(reqs.iter().map(|r| fetcher.fetch(r)))
        .buffer_unordered(64)
        .collect()
        .await;
    let mut n = Night {
        body_bytes: 0,
        blob_bytes_added: 0,
        captures: 0,
        not_modified: 0,
    };
    for r in &reports {
        if let Some(b) = r.body() {
            n.body_bytes += b.len();
        }
        if r.outcome.kind() == "not_modified" {
            n.not_modified += 1;
        }
        if archive::record(store, blobs, r)
            .unwrap()
            .capture_id
            .is_some()
        {
            n.captures += 1;
        }
    }
    n.blob_bytes_added = store.blob_totals().unwrap().0 - before;
    n
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let pages = env("PAGES", 2000);
    let hosts = 20;
    let web = SimWeb::start(SimWebOptions {
        hosts,
        articles_per_host: (pages / hosts) as u64,
        churn_fraction: 0.0,
        gzip: false,
    })
    .await
    .unwrap();
    let urls = web.urls(pages);
    // A quarter of the pages churn on every load (a nonce, a timestamp, a rotating list).
    let churn: Vec<String> = urls.iter().step_by(4).cloned().collect();
    for u in &churn {
        web.set_url_kind(u, PageKind::Churn).unwrap();
    }
    let stable: Vec<String> = urls
        .iter()
        .filter(|u| !churn.contains(u))
        .cloned()
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("citewatch.db")).unwrap();
    let blobs = FsBlobStore::new(blob_dir(dir.path()));
    let fetcher = Fetcher::builder(FetchConfig {
        requests_per_second: 0.0,
        concurrency: 64,
        per_host_concurrency: 64,
        respect_robots: false,
        retries: 0,
        allow_networks: vec!["127.0.0.0/8".parse().unwrap()],
        ..FetchConfig::default()
    })
    .build()
    .unwrap();

    let first = night(&fetcher, &mut store, &blobs, &urls, false).await;
    let again_stable = night(&fetcher, &mut store, &blobs, &stable, true).await;
    let again_stable_uncond = night(&fetcher, &mut store, &blobs, &stable, false).await;
    let again_churn = night(&fetcher, &mut store, &blobs, &churn, true).await;

    println!(
        "archive figures ({pages} simulated article pages over {hosts} hosts, {} with churn)",
        churn.len()
    );
    println!(
        "{:<48} {:>12} {:>14} {:>10}",
        "run", "body MiB", "blob MiB added", "ratio"
    );
    let row = |name: &str, n: &Night| {
        let ratio = if n.body_bytes == 0 {
            0.0
        } else {
            n.blob_bytes_added as f64 / n.body_bytes as f64
        };
        println!(
            "{:<48} {:>12.2} {:>14.3} {:>10.3}   ({} captures, {} not modified)",
            name,
            mib(n.body_bytes),
            mib(n.blob_bytes_added),
            ratio,
            n.captures,
            n.not_modified
        );
    };
    row("first capture of every page", &first);
    row("re-capture, unchanged pages (conditional)", &again_stable);
    row(
        "re-capture, unchanged pages (unconditional)",
        &again_stable_uncond,
    );
    row("re-capture, churn-only pages", &again_churn);
    if !churn.is_empty() {
        println!(
            "churn costs {:.1} KiB of blob per re-captured churn page per night",
            again_churn.blob_bytes_added as f64 / 1024.0 / churn.len() as f64
        );
    }

    // get latency on a store of CAPTURES captures: synthetic rows pointing at the
    // blobs archived above (recording is not what is measured here).
    let target = env("CAPTURES", 100_000);
    let existing = store.blob_rows().unwrap();
    let have = first.captures
        + again_stable.captures
        + again_stable_uncond.captures
        + again_churn.captures;
    let sources = 10_000usize;
    let t = Instant::now();
    let base = citewatch::time::now_millis() - 86_400_000 * 30;
    for i in 0..target.saturating_sub(have) {
        let (sha, size) = &existing[i % existing.len()];
        let url = format!("http://bench{}.example/news/{}.html", i % 100, i % sources);
        let at = base + (i / sources) as i64 * 86_400_000;
        let host = format!("bench{}.example", i % 100);
        record_synthetic_capture(&mut store, &url, &host, at, "text/html", sha, *size, 0);
    }
    println!(
        "built a store of {} captures in {:.1} s",
        have.max(target),
        t.elapsed().as_secs_f64()
    );
    let mut lat = Vec::new();
    let mut sink = Vec::with_capacity(1 << 20);
    for i in 0..2000usize {
        let url = format!(
            "http://bench{}.example/news/{}.html",
            (i * 7919) % 100,
            (i * 7919) % sources
        );
        let at = base + ((i % 10) as i64) * 86_400_000 + 3_600_000;
        let t = Instant::now();
        let id = store.source_id(&url).unwrap().expect("source exists");
        let c = store
            .pick_capture(id, Some(at))
            .unwrap()
            .expect("a capture");
        sink.clear();
        archive::blobs::copy_to(&blobs, &c.body_sha256, &mut sink).unwrap();
        lat.push(t.elapsed());
        assert_eq!(sink.len() as u64, c.body_size);
    }
    lat.sort();
    println!(
        "get (library: lookup + nearest capture + decompress {} KiB): p50 {:.3} ms, p99 {:.3} ms",
        sink.len() / 1024,
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3
    );
    drop(store);
    let config = dir.path().join("citewatch.toml");
    std::fs::write(
        &config,
        "[store]\ndir = \".\"\n[briefings]\npaths = [\".\"]\n",
    )
    .unwrap();
    let mut cli = Vec::new();
    for i in 0..30usize {
        let url = format!(
            "http://bench{}.example/news/{}.html",
            (i * 31) % 100,
            (i * 31) % sources
        );
        let t = Instant::now();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_citewatch"))
            .args([
                "--config",
                config.to_str().unwrap(),
                "get",
                &url,
                "--at",
                "2026-11-01",
                "-o",
                "/dev/null",
            ])
            .output()
            .unwrap();
        cli.push(t.elapsed());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    cli.sort();
    println!(
        "get (citewatch binary, process start to exit): p50 {:.1} ms, p99 {:.1} ms",
        percentile(&cli, 0.5).as_secs_f64() * 1e3,
        percentile(&cli, 0.99).as_secs_f64() * 1e3
    );
    let _ = blobs.list().map(|l| println!("blobs on disk: {}", l.len()));
    web.shutdown().await;
}
