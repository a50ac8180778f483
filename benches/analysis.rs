//! What reading one fetched page costs, stage by stage, on the simulated web's
//! article pages (20–60 KB of HTML each): the per-page CPU a first night spends
//! besides fetching. Single-threaded, in-process, no I/O but the blob write.
//!
//! Stages: the complete reading (`analyze::read`: glance, both fingerprints,
//! Readability), the baseline run in the same invocation; the glance a first
//! night does instead (`analyze::glance`: title, visible text, error notices);
//! its parts and the parts of a full read; sha256, zstd, and the blob store's
//! write (compression, temporary file, rename, fsync of file and folder).
//! The figures are microseconds per page and MB/s of HTML; the last column is
//! each stage's share of `analyze::read`.
//!
//! Run: `cargo bench --bench analysis`. Environment: `PAGES` (400).

use std::time::Instant;

use citewatch::archive::blobs::{BlobStore, FsBlobStore};
use citewatch::check::{analyze, fingerprint, lines, page, soft404};
use citewatch::simweb::article_page;
use sha2::{Digest, Sha256};

fn main() {
    let n: usize = std::env::var("PAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let pages: Vec<Vec<u8>> = (0..n)
        .map(|i| article_page(i % 100, (i / 100) as u64))
        .collect();
    let bytes: usize = pages.iter().map(Vec::len).sum();
    let ct = Some("text/html; charset=utf-8");
    let read: Vec<page::Page> = pages.iter().map(|p| page::read_page(p, ct)).collect();
    let glanced: Vec<page::Page> = pages.iter().map(|p| page::glance_page(p, ct)).collect();
    let dir = tempfile::tempdir().expect("temporary folder");
    let blobs = FsBlobStore::deferred_sync(dir.path());

    let mut rows: Vec<(&str, f64)> = Vec::new();
    let mut time = |label: &'static str, f: &mut dyn FnMut(usize)| {
        f(0); // warm up
        let start = Instant::now();
        for i in 0..n {
            f(i);
        }
        rows.push((label, start.elapsed().as_secs_f64()));
    };
    time("analyze::read (full)", &mut |i| {
        std::hint::black_box(analyze::read(&pages[i], ct));
    });
    time("analyze::glance", &mut |i| {
        std::hint::black_box(analyze::glance(&pages[i], ct));
    });
    time("  page::glance_page", &mut |i| {
        std::hint::black_box(page::glance_page(&pages[i], ct));
    });
    time("  soft-404 phrases", &mut |i| {
        std::hint::black_box(soft404::error_page_phrase(
            glanced[i].title.as_deref(),
            &glanced[i].main_text,
        ));
    });
    time("  lines::line_set", &mut |i| {
        std::hint::black_box(lines::line_set(&glanced[i].main_text));
    });
    time("page::read_page (Readability)", &mut |i| {
        std::hint::black_box(page::read_page(&pages[i], ct));
    });
    time("fingerprint, visible text", &mut |i| {
        std::hint::black_box(fingerprint::fingerprint(&glanced[i].main_text));
    });
    time("fingerprint, main text", &mut |i| {
        std::hint::black_box(fingerprint::fingerprint(&read[i].main_text));
    });
    time("sha256", &mut |i| {
        std::hint::black_box(Sha256::digest(&pages[i]));
    });
    time("zstd level 3", &mut |i| {
        std::hint::black_box(zstd::bulk::compress(&pages[i], 3).expect("zstd"));
    });
    let mut sizes = [0usize; 3];
    for (slot, level) in [3, 1, -1].into_iter().enumerate() {
        let mut reused = zstd::bulk::Compressor::new(level).expect("zstd context");
        let label = match level {
            3 => "zstd level 3, one context",
            1 => "zstd level 1, one context",
            _ => "zstd level -1, one context",
        };
        time(label, &mut |i| {
            let out = reused.compress(&pages[i]).expect("zstd");
            if i < n {
                sizes[slot] += out.len();
            }
        });
    }
    time("blob store write (put_sized)", &mut |i| {
        let sha = hex::encode(Sha256::digest(&pages[i]));
        blobs
            .put_sized(&sha, pages[i].len() as u64, &mut pages[i].as_slice())
            .expect("blob write");
    });
    let fresh = tempfile::tempdir().expect("temporary folder");
    let fresh_blobs = FsBlobStore::deferred_sync(fresh.path());
    time("blob store write (put_hashed)", &mut |i| {
        let sha = hex::encode(Sha256::digest(&pages[i]));
        fresh_blobs.put_hashed(&sha, &pages[i]).expect("blob write");
    });

    println!(
        "analysis benchmark: {n} simulated article pages, {:.1} KiB average",
        bytes as f64 / n as f64 / 1024.0
    );
    let (text, kept): (usize, usize) = glanced.iter().fold((0, 0), |(t, k), g| {
        (
            t + g.main_text.len(),
            k + lines::line_set(&g.main_text).lines.len(),
        )
    });
    println!(
        "visible text {:.1} KiB a page, {:.1} lines kept one by one",
        text as f64 / n as f64 / 1024.0,
        kept as f64 / n as f64
    );
    // Each stage ran every page once more as a warm-up.
    let ratio = |s: usize| s as f64 / (bytes + pages[0].len()) as f64;
    println!(
        "zstd output / input: level 3 {:.3}, level 1 {:.3}, level -1 {:.3}",
        ratio(sizes[0]),
        ratio(sizes[1]),
        ratio(sizes[2])
    );
    println!(
        "{:<28} {:>10} {:>10} {:>9}",
        "stage", "µs/page", "MB/s", "share"
    );
    let base = rows[0].1;
    for (label, secs) in &rows {
        println!(
            "{label:<31} {:>10.0} {:>10.1} {:>9.2}",
            secs / n as f64 * 1e6,
            bytes as f64 / secs / 1e6,
            secs / base
        );
    }
}
