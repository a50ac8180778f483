//! Sync throughput on a generated briefing store: 10,000 documents × 8 items,
//! each document the size and shape of the seed page. Prints citations per
//! second for the first sync, the time of a re-sync of the unchanged store (and
//! its ratio to the first), and peak RSS.
//!
//! Run: `cargo bench --bench sync` (env `DOCS=N` to change the size).

mod common;

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use citewatch::config::Config;
use citewatch::store::Store;
use citewatch::sync::{self, SyncOptions};
use common::peak_rss_mib;

const ITEMS: usize = 8;

fn paragraph(doc: usize, item: usize, p: usize) -> String {
    let words = [
        "the",
        "provincial",
        "authorities",
        "reported",
        "that",
        "agreement",
        "technology",
        "transfer",
        "vaccination",
        "personnel",
        "according",
        "to",
        "state",
        "media",
        "committee",
        "national",
    ];
    let mut s = String::with_capacity(700);
    for w in 0..110 {
        s.push_str(words[(doc * 7 + item * 13 + p * 17 + w * 3) % words.len()]);
        s.push(' ');
    }
    s.push_str("end of paragraph.");
    s
}

fn document(doc: usize) -> String {
    let mut s = String::from("Skip to content\n\nBriefings - generated page\n\n");
    for item in 0..ITEMS {
        let host = (doc * ITEMS + item) % 100;
        let _ = writeln!(
            s,
            "Outlet {host}: Headline number {item} of document {doc}\n"
        );
        for p in 0..3 {
            let _ = writeln!(s, "{}\n", paragraph(doc, item, p));
        }
        let _ = writeln!(
            s,
            "Source: Outlet {host}, December {}, 2020\nhttps://host{host}.example/news/2020-12/{doc}/c_{item}.htm\n",
            1 + item
        );
    }
    s
}

fn main() {
    let docs: usize = std::env::var("DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let briefings = dir.path().join("briefings");
    let started = Instant::now();
    let mut bytes = 0usize;
    for d in 0..docs {
        let sub = briefings.join(format!("{:03}", d / 100));
        if d % 100 == 0 {
            std::fs::create_dir_all(&sub).unwrap();
        }
        let text = document(d);
        bytes += text.len();
        let path = sub.join(format!("briefings-{d}.txt"));
        std::fs::write(&path, text).unwrap();
        // A real briefing store was written long before it is synced.
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(86_400);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    println!(
        "generated {docs} documents, {:.1} MiB, in {:.2} s",
        bytes as f64 / 1048576.0,
        started.elapsed().as_secs_f64()
    );
    let config = Config::from_toml(
        "[briefings]\npaths = [\"briefings\"]\n[store]\ndir = \"data\"\n",
        &dir.path().join("citewatch.toml"),
    )
    .unwrap();
    run(&config, dir.path(), docs);
}

fn run(config: &Config, _root: &Path, docs: usize) {
    // The parsers alone, on one thread: how much of a sync is parsing.
    let found = sync::find(config).unwrap();
    let t = Instant::now();
    let mut parsed = 0;
    for doc in &found {
        let bytes = std::fs::read(&doc.path).unwrap();
        let text = citewatch::briefing::decode(&bytes, false).text;
        parsed += citewatch::briefing::parse(doc.format, &text)
            .iter()
            .map(|i| i.citations.len())
            .sum::<usize>();
    }
    let parse_s = t.elapsed().as_secs_f64();
    assert_eq!(parsed, docs * ITEMS);
    let mut store = Store::open(&config.store.database()).unwrap();
    let t = Instant::now();
    let found = sync::find(config).unwrap();
    let first = sync::apply(
        &mut store,
        &config.briefings.paths,
        &found,
        SyncOptions::default(),
    )
    .unwrap();
    let first_s = t.elapsed().as_secs_f64();
    assert_eq!(
        first.citations_written,
        docs * ITEMS,
        "every generated citation was found"
    );
    let t = Instant::now();
    let found = sync::find(config).unwrap();
    let again = sync::apply(
        &mut store,
        &config.briefings.paths,
        &found,
        SyncOptions::default(),
    )
    .unwrap();
    let again_s = t.elapsed().as_secs_f64();
    assert_eq!(again.unchanged, docs);
    let t = Instant::now();
    let found = sync::find(config).unwrap();
    let rehash = SyncOptions { rehash: true };
    let hashed = sync::apply(&mut store, &config.briefings.paths, &found, rehash).unwrap();
    let hashed_s = t.elapsed().as_secs_f64();
    assert_eq!(hashed.unchanged, docs);
    println!(
        "{:<28} {:>12} {:>14} {:>10}",
        "run", "seconds", "citations/s", "ratio"
    );
    println!(
        "{:<28} {:>12.3} {:>14.0} {:>10}",
        "first sync",
        first_s,
        first.citations_written as f64 / first_s,
        "1.00"
    );
    println!(
        "{:<28} {:>12.3} {:>14.0} {:>10.3}",
        "re-sync, unchanged store",
        again_s,
        (docs * ITEMS) as f64 / again_s,
        again_s / first_s
    );
    println!(
        "{:<28} {:>12.3} {:>14.0} {:>10.3}",
        "re-sync --rehash (sha256)",
        hashed_s,
        (docs * ITEMS) as f64 / hashed_s,
        hashed_s / first_s
    );
    println!(
        "{:<28} {:>12.3} {:>14.0} {:>10.3}",
        "parse only, one thread",
        parse_s,
        parsed as f64 / parse_s,
        parse_s / first_s
    );
    println!("peak RSS: {:.1} MiB", peak_rss_mib());
}
