//! A check run killed with SIGKILL at several points leaves a consistent store;
//! re-runs finish the job with no check lost or duplicated, and the statuses
//! equal those of an uninterrupted run. A host down for the night (every
//! connection refused) is among them: its failures, held in the store until
//! a run's end decides they are one incident, are dropped by the next run's
//! start when a run is killed before its end, and checked again, once.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::Ground;
use common::web::TestWeb;
use serde_json::Value;

const KINDS: [&str; 4] = ["ok", "gone", "missing", "soft"];
const SOURCES: usize = 300;
/// Sources on the host that is down (a port of 127.0.0.2 nothing listens on).
const DOWN: usize = 10;

fn ground(web: &TestWeb, down: u16) -> Ground {
    let g = Ground::new();
    g.write_config(
        "[briefings]\npaths = [\"../briefings\"]\n[store]\ndir = \"../data\"\n\
         [fetch]\nrespect_robots = false\nrequests_per_second = 0.0\nretries = 0\nconcurrency = 4\n\
         allow_networks = [\"127.0.0.1/32\", \"127.0.0.2/32\"]\n\
         [check]\ndead_after_checks = 1\ndead_after = \"0s\"\n",
    );
    let mut doc = String::new();
    for i in 0..SOURCES {
        let kind = KINDS[i % KINDS.len()];
        doc.push_str(&format!(
            "Item {i}\n\nBody of item {i} is here.\n\nSource: Outlet, May 1, 2021\nhttp://127.0.0.1:{}/slow/{kind}/{i}\n\n",
            web.port()
        ));
    }
    for i in 0..DOWN {
        doc.push_str(&format!(
            "Down {i}\n\nBody of down item {i} is here.\n\nSource: Outlet, May 1, 2021\nhttp://127.0.0.2:{down}/down/{i}\n\n"
        ));
    }
    g.brief("b.txt", doc);
    g
}

fn statuses(g: &Ground) -> BTreeMap<String, String> {
    let v = g.json(&["sources", "--format", "json"]);
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["url"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn checks_per_source(g: &Ground) -> BTreeMap<i64, i64> {
    let db = rusqlite::Connection::open(g.path("data/citewatch.db")).unwrap();
    let mut stmt = db
        .prepare("SELECT source_id, count(*) FROM checks GROUP BY source_id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Network failures held for the run's end (see `held_checks`).
fn held(g: &Ground) -> i64 {
    count(g, "SELECT count(*) FROM held_checks")
}

/// A count in the store as a run writes it; 0 before the run made it.
fn count(g: &Ground, sql: &str) -> i64 {
    let Ok(db) = rusqlite::Connection::open_with_flags(
        g.path("data/citewatch.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    ) else {
        return 0;
    };
    db.query_row(sql, [], |r| r.get(0)).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_runs_resume_without_losing_or_duplicating_checks() {
    let web = TestWeb::start("127.0.0.1").await;
    let down = std::net::TcpListener::bind("127.0.0.2:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let reference = ground(&web, down);
    let full = tokio::task::spawn_blocking({
        let mut c = reference.cmd(&["check", "--format", "json"]);
        move || c.output().unwrap()
    })
    .await
    .unwrap();
    assert!(full.status.success());
    let want = statuses(&reference);
    assert_eq!(want.len(), SOURCES + DOWN);
    assert_eq!(
        want.iter()
            .filter(|(u, s)| u.contains("/down/") && *s == "unchecked")
            .count(),
        DOWN,
        "the down host's failures were one incident: {want:?}"
    );

    let g = ground(&web, down);
    let bin = assert_cmd::cargo::cargo_bin("citewatch");
    let mut killed_with_progress = 0;
    // Kills that left the down host's failures held for the run's end.
    let mut killed_holding = 0;
    // Three kills, each at a point the run reaches rather than after a
    // time (the machine may be busy): once it holds the down host's
    // failures, then twice once it has recorded some more checks.
    for point in 0..3 {
        let before = count(&g, "SELECT count(DISTINCT source_id) FROM checks") as usize;
        let mut child = std::process::Command::new(&bin)
            .arg("--config")
            .arg(g.config())
            .args(["check"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        let finished = loop {
            if child.try_wait().unwrap().is_some() {
                break true;
            }
            let reached = if point == 0 {
                count(&g, "SELECT count(*) FROM held_checks") > 0
            } else {
                count(&g, "SELECT count(DISTINCT source_id) FROM checks") as usize > before + 20
            };
            if reached {
                break false;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the run did not reach kill point {point}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let done: usize = checks_per_source(&g).len();
        if !finished && done > 0 && done < SOURCES {
            killed_with_progress += 1;
        }
        killed_holding += usize::from(!finished && held(&g) > 0);
        // Between kills the store is always consistent.
        let v = g.cmd(&["verify"]).output().unwrap();
        assert_eq!(
            v.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&v.stdout)
        );
    }
    assert!(
        killed_with_progress >= 1,
        "no kill landed mid-run; the test did not test anything"
    );
    assert!(
        killed_holding >= 1,
        "no kill left failures held; the test did not test dropping them"
    );
    let out = g.cmd(&["check", "--format", "json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let per_source = checks_per_source(&g);
    assert_eq!(per_source.len(), SOURCES + DOWN, "every source checked");
    assert!(
        per_source.values().all(|&n| n == 1),
        "a check was recorded twice: {per_source:?}"
    );
    let got = statuses(&g);
    let strip = |m: &BTreeMap<String, String>, port: u16| -> Vec<(String, String)> {
        m.iter()
            .map(|(u, s)| (u.replace(&port.to_string(), "PORT"), s.clone()))
            .collect()
    };
    assert_eq!(strip(&got, web.port()), strip(&want, web.port()));
    let db = rusqlite::Connection::open(g.path("data/citewatch.db")).unwrap();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM held_checks"), 0);
    assert_eq!(count("SELECT count(*) FROM host_incidents"), 1);
    let runs = g.json(&["check", "--format", "json"]);
    assert_eq!(runs["checked"], 0);
    let v: Value = g.json(&["verify", "--format", "json"]);
    assert_eq!(v["problems"].as_array().unwrap().len(), 0);
    // What the kills cost: bytes appended to packs but never indexed.
    eprintln!(
        "unindexed pack bytes after the kills: {}",
        v["unindexed_pack_bytes"]
    );
}
