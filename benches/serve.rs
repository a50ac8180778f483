//! `citewatch serve` under load: a store of 100,000 captures (10,000 sources ×
//! 10 captures over 2,000 distinct article bodies, packed as a check packs
//! them) generated straight into the store, the release binary serving it on
//! 127.0.0.1, and `wrk` with 64 connections for 10 s against `/archive/{id}`
//! (random ids, a Lua script) and against `/api/report`. Prints requests/s and
//! latency percentiles.
//!
//! `bash bench/serve.sh` installs wrk when missing and runs this in release.
//! Knobs: CAPTURES, SOURCES, BODIES, DURATION (wrk -d), CONNECTIONS (wrk -c),
//! THREADS (wrk -t, default 2: on a 2-core machine wrk's threads compete with
//! the server for the cores, which shows in the tail).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use citewatch::archive::{BlobStore, FsBlobStore, blob_dir};
use citewatch::store::Store;
use sha2::{Digest, Sha256};

mod common;

use common::{env_usize as env, record_synthetic_capture};

/// An article page of about 20 KiB, different for each `n`.
fn article(n: usize) -> Vec<u8> {
    let mut s = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Article {n}</title></head><body><h1>Article {n}</h1>"
    );
    let mut x = n as u64 * 2_654_435_761 + 1;
    while s.len() < 20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push_str(&format!(
            "<p>Paragraph {} of article {n}: officials said on {} that the measure would take effect.</p>\n",
            x % 1000,
            x % 28 + 1
        ));
    }
    s.push_str("</body></html>");
    s.into_bytes()
}

fn build(dir: &Path, captures: usize, sources: usize, bodies: usize) {
    let t = Instant::now();
    // Packed, as the nightly check stores pages.
    let blobs = FsBlobStore::deferred_sync(blob_dir(dir));
    let mut names = Vec::with_capacity(bodies);
    for n in 0..bodies {
        let body = article(n);
        let sha = hex::encode(Sha256::digest(&body));
        let stored = blobs.put_hashed(&sha, &body).unwrap();
        names.push((sha, body.len() as u64, stored));
    }
    blobs.sync().unwrap();
    let mut store = Store::open(&dir.join("citewatch.db")).unwrap();
    let base = citewatch::time::now_millis() - 86_400_000 * 400;
    for i in 0..captures {
        let source = i % sources;
        let round = i / sources;
        let url = format!("http://bench{}.test/news/{source}.html", source % 100);
        let host = format!("bench{}.test", source % 100);
        let (sha, size, stored) = &names[(source + round / 5) % bodies];
        let at = base + round as i64 * 86_400_000 * 30 + source as i64 * 1000;
        record_synthetic_capture(
            &mut store,
            &url,
            &host,
            at,
            "text/html; charset=utf-8",
            sha,
            *size,
            *stored,
        );
    }
    drop(store);
    // Verdicts spread as a year of nights leaves them (the report lists the
    // sources needing attention: about 30% here).
    let db = rusqlite::Connection::open(dir.join("citewatch.db")).unwrap();
    db.execute_batch(
        "UPDATE sources SET status = CASE id % 10 WHEN 0 THEN 'dead' WHEN 1 THEN 'changed' WHEN 2 THEN 'soft_404'
            ELSE 'ok' END, evidence = 'bench', status_since = 0,
            baseline_capture_id = (SELECT min(id) FROM captures c WHERE c.source_id = sources.id),
            latest_capture_id = (SELECT max(id) FROM captures c WHERE c.source_id = sources.id)",
    )
    .unwrap();
    drop(db);
    // A briefing store citing every source twice: 2,500 documents of 8 items
    // (for 10,000 sources), so /api/report lists real sections.
    let mut store = Store::open(&dir.join("citewatch.db")).unwrap();
    let bulk = store.bulk().unwrap();
    let items_per_doc = 8;
    for d in 0..(2 * sources).div_ceil(items_per_doc) {
        let doc = bulk
            .document("../briefings", &format!("briefings-{d:05}.txt"), base)
            .unwrap();
        for k in 0..items_per_doc {
            let n = d * items_per_doc + k;
            let source = n % sources;
            let b = bulk
                .briefing(doc, k as i64 + 1, &format!("Briefing item {n}"))
                .unwrap();
            let url = format!("http://bench{}.test/news/{source}.html", source % 100);
            let outlet = format!("Outlet {}", source % 40);
            bulk.citation(
                b,
                1,
                Some(&outlet),
                Some("2020-12-26"),
                &url,
                source as i64 + 1,
            )
            .unwrap();
        }
    }
    bulk.commit().unwrap();
    println!(
        "built a store of {captures} captures ({sources} sources, {bodies} distinct bodies of ~20 KiB, {} citations) in {:.1} s",
        2 * sources,
        t.elapsed().as_secs_f64()
    );
}

struct Wrk {
    rps: f64,
    p50: String,
    p99: String,
    errors: String,
}

fn wrk(
    url: &str,
    script: Option<&Path>,
    threads: usize,
    connections: usize,
    duration: usize,
) -> Wrk {
    let mut cmd = Command::new("wrk");
    cmd.args([
        &format!("-t{threads}"),
        &format!("-c{connections}"),
        &format!("-d{duration}s"),
        // wrk's default 2 s timeout would cut the full report's tail off.
        "--timeout",
        "30s",
        "--latency",
    ]);
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    let out = cmd.arg(url).output().expect("wrk (apt-get install wrk)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let find = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .map(|l| l[prefix.len()..].trim().to_string())
            .unwrap_or_else(|| "?".into())
    };
    Wrk {
        rps: find("Requests/sec:").parse().unwrap_or(0.0),
        p50: find("50%"),
        p99: find("99%"),
        errors: text
            .lines()
            .filter(|l| l.contains("Non-2xx") || l.contains("Socket errors"))
            .map(str::trim)
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn main() {
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("wrk is missing: apt-get install -y wrk (bench/serve.sh does)");
        std::process::exit(2);
    }
    let captures = env("CAPTURES", 100_000);
    let sources = env("SOURCES", 10_000).min(captures);
    let bodies = env("BODIES", 2_000);
    let duration = env("DURATION", 10);
    let connections = env("CONNECTIONS", 64);
    let threads = env("THREADS", 2);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    build(&data, captures, sources, bodies);
    // Flush what building the store wrote, so the kernel's writeback of it does
    // not land in the middle of the measurement.
    // SAFETY: sync takes no arguments and cannot fail.
    unsafe { libc::sync() };
    let config = dir.path().join("citewatch.toml");
    std::fs::write(
        &config,
        format!(
            "[briefings]\npaths = [\"briefings\"]\n[store]\ndir = \"{}\"\n",
            data.display()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_citewatch"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .env("CITEWATCH_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("citewatch: serving ")
        .expect("serve prints its address")
        .trim_end_matches('/')
        .to_string();
    let script = dir.path().join("archive.lua");
    std::fs::write(
        &script,
        format!(
            "math.randomseed(7)\nrequest = function()\n  return wrk.format(\"GET\", \"/archive/\" .. math.random(1, {captures}))\nend\n"
        ),
    )
    .unwrap();
    println!(
        "wrk -t{threads} -c{connections} -d{duration}s against citewatch serve (release) on 127.0.0.1, {} cores shared",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("| endpoint | requests/s | p50 | p99 | errors |");
    println!("| --- | ---: | ---: | ---: | --- |");
    for (name, url, script) in [
        ("/archive/{random id}", base.clone(), Some(script.as_path())),
        ("/api/report", format!("{base}/api/report"), None),
    ] {
        let r = wrk(&url, script, threads, connections, duration);
        println!(
            "| {name} | {:.0} | {} | {} | {} |",
            r.rps,
            r.p50,
            r.p99,
            if r.errors.is_empty() {
                "none"
            } else {
                &r.errors
            }
        );
    }
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "serve did not stop cleanly: {status:?}");
}
