//! `citewatch demo`: the whole job in a minute, on a simulated web on loopback.
//!
//! Starts the simulated web, writes a briefing store citing it, runs a first
//! night, lets pages rot in every way `simweb::rot` knows, runs the following
//! nights, and prints what citewatch found. It never touches the internet and
//! uses a data folder of its own.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use citewatch::check::run::{CheckOptions, Quiet, RunSummary, run};
use citewatch::config::Config;
use citewatch::fetch::Fetcher;
use citewatch::simweb::{SimWeb, SimWebOptions, rot, write_briefing_store};
use citewatch::store::Store;

use super::{Failure, runtime, usage};

const PER_CASE: usize = 2;

/// Runs the demo in `dir` (a temporary folder when `None`).
pub fn demo(dir: Option<PathBuf>) -> Result<ExitCode, Failure> {
    let (dir, _temp) = match dir {
        Some(d) => {
            // A folder of its own: an earlier demo's store would mix its
            // sources (on other ports) into this one's story.
            if d.is_file() {
                return Err(usage(anyhow::anyhow!(
                    "--dir {}: is a file; give the demo a new or empty folder",
                    d.display()
                )));
            }
            if std::fs::read_dir(&d).is_ok_and(|mut e| e.next().is_some()) {
                return Err(usage(anyhow::anyhow!(
                    "--dir {}: is not empty (an earlier demo?); give the demo a new or empty folder",
                    d.display()
                )));
            }
            std::fs::create_dir_all(&d)
                .map_err(|e| runtime(anyhow::anyhow!("{}: {e}", d.display())))?;
            (d, None)
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("citewatch-demo-")
                .tempdir()
                .map_err(runtime)?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    let rt = tokio::runtime::Runtime::new().map_err(runtime)?;
    rt.block_on(nights(&dir, _temp.is_some()))
        .map_err(runtime)?;
    Ok(ExitCode::SUCCESS)
}

fn line(out: &mut impl Write, text: &str) -> anyhow::Result<()> {
    writeln!(out, "{text}")?;
    Ok(())
}

async fn nights(dir: &Path, temporary: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let plan = rot::plan();
    let n = plan.len() * PER_CASE;
    let web = SimWeb::start(SimWebOptions {
        hosts: 4,
        articles_per_host: 20,
        churn_fraction: 0.0,
        gzip: true,
    })
    .await?;
    let urls = web.urls(n);
    let truth = rot::assign(&plan, &urls);
    rot::start(&web, &urls, &truth)?;
    write_briefing_store(&dir.join("briefings"), &urls, 5)?;
    let config_file = dir.join("citewatch.toml");
    std::fs::write(
        &config_file,
        "# Written by `citewatch demo`: a simulated web on loopback, so confirmation is immediate.\n\
         [briefings]\npaths = [\"briefings\"]\n[store]\ndir = \"data\"\n\
         [fetch]\nrequests_per_second = 20.0\nretries = 0\nallow_networks = [\"127.0.0.0/8\"]\n\
         [check]\ndead_after_checks = 2\ndead_after = \"0s\"\n",
    )?;
    let config = Config::load(&config_file)?;
    line(
        &mut out,
        &format!(
            "citewatch demo: {} briefings cite {n} pages on a simulated web of {} hosts (127.0.1.x); data in {}",
            n.div_ceil(5),
            web.host_count(),
            dir.display()
        ),
    )?;
    let options = CheckOptions {
        all: true,
        ..CheckOptions::default()
    };
    let night = |s: &RunSummary| {
        let by: Vec<String> = s
            .checked_by_status
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        format!(
            "checked {} sources in {:.1} s: {}",
            s.checked,
            s.duration_ms as f64 / 1000.0,
            by.join(", ")
        )
    };
    let fetcher = Fetcher::builder(config.fetch.clone()).build()?;
    let first = run(&config, &options, fetcher.clone(), &Quiet).await?;
    line(
        &mut out,
        &format!("night 1: everything served and archived; {}", night(&first)),
    )?;
    rot::after_first_night(&web, &urls, &truth)?;
    line(
        &mut out,
        "then the web rots: pages deleted (404, 410), sent to the homepage or to a page for removed articles, replaced by error pages, moved, rewritten, flaky",
    )?;
    for n in 2..=3 {
        // A fresh fetcher each night, as each nightly process would have.
        let fetcher = Fetcher::builder(config.fetch.clone()).build()?;
        let s = run(&config, &options, fetcher, &Quiet).await?;
        line(&mut out, &format!("night {n}: {}", night(&s)))?;
    }
    let store = Store::open_existing(&config.store.database())?;
    let sources = store.sources(None)?;
    let titles: BTreeMap<String, String> = store
        .citations(false)?
        .into_iter()
        .filter_map(|c| Some((c.source_url?, c.title)))
        .collect();
    line(
        &mut out,
        "\nwhat citewatch found (truth from the simulated web → verdict):",
    )?;
    let mut right = 0;
    for (url, case) in urls.iter().zip(&truth) {
        let Some(s) = sources.iter().find(|s| &s.url == url) else {
            continue;
        };
        let ok = case.expect.contains(&s.status.as_str());
        right += usize::from(ok);
        line(
            &mut out,
            &format!(
                "  {} {:<20} → {:<9} {}\n      {}  ({})",
                if ok { "✓" } else { "✗" },
                case.label,
                s.status,
                s.evidence.as_deref().unwrap_or(""),
                titles.get(url).map(String::as_str).unwrap_or(""),
                url
            ),
        )?;
    }
    line(&mut out, &format!("\n{right} of {n} verdicts as expected."))?;
    if temporary {
        line(
            &mut out,
            "The demo's folder is removed now; run `citewatch demo --dir DIR` to keep it and look closer.",
        )?;
    } else {
        line(
            &mut out,
            &format!(
                "Look closer: citewatch --config {} report | report --format html -o report.html | sources | status URL | history URL | get URL | export-warc -o demo.warc.gz | serve",
                citewatch::report::model::shell_quote(&config_file.display().to_string())
            ),
        )?;
    }
    web.shutdown().await;
    Ok(())
}
