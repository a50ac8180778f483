//! The whole job over several nights, through the real binary, against the
//! simulated web: everything is served and archived on the first night, then
//! pages rot in every way the plan knows, and the verdicts must find them.
//! Prints a confusion matrix (truth × verdict) and asserts it.

mod common;

use std::collections::BTreeMap;

use citewatch::simweb::{SimWeb, SimWebOptions, rot, write_briefing_store};
use common::Ground;
use serde_json::Value;

const PER_CASE: usize = 3;

async fn check(g: &Ground) -> Value {
    let mut cmd = g.cmd(&["check", "--all", "--format", "json"]);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotting_pages_are_found_and_churn_is_not_change() {
    let plan = rot::plan();
    let n = plan.len() * PER_CASE;
    let web = SimWeb::start(SimWebOptions {
        hosts: 5,
        articles_per_host: 20,
        churn_fraction: 0.0,
        gzip: true,
    })
    .await
    .unwrap();
    let urls = web.urls(n);
    let truth = rot::assign(&plan, &urls);
    rot::start(&web, &urls, &truth).unwrap();
    let g = Ground::new();
    g.write_config(
        "[briefings]\npaths = [\"../briefings\"]\n[store]\ndir = \"../data\"\n\
         [fetch]\nrequests_per_second = 0.0\nretries = 0\nallow_networks = [\"127.0.0.0/8\"]\n\
         [check]\ndead_after_checks = 2\ndead_after = \"0s\"\n",
    );
    write_briefing_store(&g.path("briefings"), &urls, 6).unwrap();

    let first = check(&g).await;
    assert_eq!(first["checked"].as_u64(), Some(n as u64), "{first}");
    let sources = g.json(&["sources", "--format", "json"]);
    assert!(
        sources
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "ok"),
        "first night: everything ok: {sources}"
    );
    rot::after_first_night(&web, &urls, &truth).unwrap();
    for _night in 2..=4 {
        check(&g).await;
    }
    let sources = g.json(&["sources", "--format", "json"]);
    let verdict: BTreeMap<String, String> = sources
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["url"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut matrix: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
    for (url, case) in urls.iter().zip(&truth) {
        let v = verdict
            .get(url)
            .cloned()
            .unwrap_or_else(|| "missing".into());
        *matrix.entry(case.label).or_default().entry(v).or_default() += 1;
    }
    println!("truth × verdict after 4 nights:");
    for (label, row) in &matrix {
        let cells: Vec<String> = row.iter().map(|(v, c)| format!("{v}={c}")).collect();
        println!("  {label:<22} {}", cells.join("  "));
    }
    let mut wrong = Vec::new();
    for (url, case) in urls.iter().zip(&truth) {
        let v = verdict.get(url).map(String::as_str).unwrap_or("missing");
        if !case.expect.contains(&v) {
            let why = g.json(&["status", url, "--format", "json"]);
            wrong.push(format!(
                "{} ({url}): {v}, expected {:?}; evidence: {}",
                case.label, case.expect, why["evidence"]
            ));
        }
        if case.label == "flaky 503" {
            assert!(
                v != "dead" && v != "unreachable",
                "flaky page condemned: {url}"
            );
        }
    }
    assert!(wrong.is_empty(), "wrong verdicts:\n{}", wrong.join("\n"));
    let v = g.cmd(&["verify"]).output().unwrap();
    assert_eq!(v.status.code(), Some(0));
}

#[test]
fn the_demo_finds_every_case() {
    let top = tempfile::tempdir().unwrap();
    // A folder name with a space: the commands the demo suggests must still
    // run as printed.
    let dir = top.path().join("my demo");
    let out = assert_cmd::Command::cargo_bin("citewatch")
        .unwrap()
        .args(["demo", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Two cited pages a case, each found.
    let cases = 2 * rot::plan().len();
    assert!(
        text.contains(&format!("{cases} of {cases} verdicts as expected")),
        "{text}"
    );
    assert!(
        dir.join("data/citewatch.db").exists(),
        "--dir keeps the data"
    );
    let suggested = text
        .lines()
        .find(|l| l.contains("Look closer"))
        .unwrap_or_default();
    assert!(
        suggested.contains(&format!("--config '{}", dir.display())),
        "{suggested}"
    );
    // Run again into the same folder, it would mix two demos' stores: refused.
    let again = assert_cmd::Command::cargo_bin("citewatch")
        .unwrap()
        .args(["demo", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty"));
    // A --config the demo would not use is refused, not ignored.
    let out = assert_cmd::Command::cargo_bin("citewatch")
        .unwrap()
        .args(["--config", "mine.toml", "demo"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("a configuration of its own"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_answering_200_for_everything_is_caught_by_the_probe() {
    let web = SimWeb::start(SimWebOptions {
        hosts: 1,
        articles_per_host: 5,
        churn_fraction: 0.0,
        gzip: false,
    })
    .await
    .unwrap();
    web.set_soft_404_everything(0, true).unwrap();
    let real = web.article_url(0, 1).unwrap();
    let removed = web.url(0, "/news/99999.html").unwrap();
    let g = Ground::new();
    g.write_config(
        "[briefings]\npaths = [\"../briefings\"]\n[store]\ndir = \"../data\"\n\
         [fetch]\nrequests_per_second = 0.0\nretries = 0\nallow_networks = [\"127.0.0.0/8\"]\n\
         [check]\ndead_after_checks = 1\ndead_after = \"0s\"\n",
    );
    write_briefing_store(&g.path("briefings"), &[real.clone(), removed.clone()], 2).unwrap();
    check(&g).await;
    let removed_status = g.json(&["status", &removed, "--format", "json"]);
    assert_eq!(removed_status["status"], "soft_404", "{removed_status}");
    assert!(
        removed_status["evidence"]
            .as_str()
            .unwrap()
            .contains("front page"),
        "{removed_status}"
    );
    assert_eq!(
        g.json(&["status", &real, "--format", "json"])["status"],
        "ok"
    );
    let counts = web.request_counts(0);
    let cited = ["/news/1.html", "/news/99999.html", "/robots.txt", "/"];
    let probes: u64 = counts
        .iter()
        .filter(|(p, _)| !cited.contains(&p.as_str()))
        .map(|(_, n)| *n)
        .sum();
    assert_eq!(probes, 1, "one probe per host per run: {counts:?}");
    let front = counts.get("/").copied().unwrap_or(0);
    assert_eq!(
        front, 1,
        "one look at the front page per host per run: {counts:?}"
    );
    // The next night the server could answer the removed page's validators
    // with a 304, and the probe's evidence would be lost with the body.
    check(&g).await;
    let again = g.json(&["status", &removed, "--format", "json"]);
    assert_eq!(again["status"], "soft_404", "{again}");
    assert_eq!(
        g.json(&["status", &real, "--format", "json"])["status"],
        "ok"
    );
}
