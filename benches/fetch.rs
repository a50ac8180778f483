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

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use citewatch::config::FetchConfig;
use citewatch::fetch::{FetchRequest, Fetcher};
use common::{
    LycheeRun, Server, Table, env_usize, find_lychee, lychee_run, lychee_version, peak_rss_mib,
    reset_peak_rss, self_cpu_secs,
};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

fn main() {
    if common::serve_if_asked() {
        return;
    }
    let n = env_usize("URLS", 20_000);
    let hosts = env_usize("HOSTS", 100);
    let concurrency = env_usize("CONCURRENCY", 128);
    let runs = env_usize("RUNS", 2).max(1);
    let robots_run = env_usize("ROBOTS_RUN", 1) == 1;

    let dir = tempfile::tempdir().unwrap();
    let url_file = dir.path().join("urls.txt");
    let mut server = Server::spawn(&url_file, n, hosts, 0.0);
    let urls = server.urls.clone();
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
                let tool = format!("lychee #{run}");
                let l = lychee_run(&mut server, bin, &url_file, concurrency);
                eprintln!("{tool}: {:.2} s", l.run.secs);
                rows.push(Row::of_lychee(tool, l));
            }
        }
        None => common::warn_no_lychee(),
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

    fn of_lychee(tool: String, l: LycheeRun) -> Row {
        Row {
            tool,
            urls: l.total,
            ok: l.successful,
            secs: l.run.secs,
            cpu_secs: l.run.cpu_secs,
            peak_rss_mib: l.run.peak_rss_mib,
            server_requests: l.server_requests,
            server_connections: l.server_connections,
            note: l.note,
        }
    }
}

fn print_table(rows: &[Row]) {
    let mut table = Table::new(&[
        "tool", "URLs", "ok", "seconds", "URLs/s", "CPU s", "RSS MiB", "srv reqs", "conns",
    ]);
    for r in rows {
        table.row(vec![
            r.tool.clone(),
            r.urls.to_string(),
            r.ok.to_string(),
            format!("{:.2}", r.secs),
            format!("{:.0}", r.rate()),
            format!("{:.2}", r.cpu_secs),
            format!("{:.1}", r.peak_rss_mib),
            r.server_requests.to_string(),
            r.server_connections.to_string(),
        ]);
        table.note(&r.tool, &r.note);
    }
    table.print();
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
    let (req0, conn0, _) = server.stats();
    let cpu0 = self_cpu_secs();
    let started = Instant::now();
    let tally = run();
    let secs = started.elapsed().as_secs_f64();
    let cpu_secs = self_cpu_secs() - cpu0;
    let (req1, conn1, _) = server.stats();
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
