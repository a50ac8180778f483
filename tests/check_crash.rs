//! A check run killed with SIGKILL at several points leaves a consistent store;
//! re-runs finish the job with no check lost or duplicated, and the statuses
//! equal those of an uninterrupted run.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::Ground;
use common::web::TestWeb;
use serde_json::Value;

const KINDS: [&str; 4] = ["ok", "gone", "missing", "soft"];
const SOURCES: usize = 300;

fn ground(web: &TestWeb) -> Ground {
    let g = Ground::new();
    g.write_config(
        "[briefings]\npaths = [\"../briefings\"]\n[store]\ndir = \"../data\"\n\
         [fetch]\nrespect_robots = false\nrequests_per_second = 0.0\nretries = 0\nconcurrency = 4\n\
         allow_networks = [\"127.0.0.1/32\"]\n[check]\ndead_after_checks = 1\ndead_after = \"0s\"\n",
    );
    let mut doc = String::new();
    for i in 0..SOURCES {
        let kind = KINDS[i % KINDS.len()];
        doc.push_str(&format!(
            "Item {i}\n\nBody of item {i} is here.\n\nSource: Outlet, May 1, 2021\nhttp://127.0.0.1:{}/slow/{kind}/{i}\n\n",
            web.port()
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_runs_resume_without_losing_or_duplicating_checks() {
    let web = TestWeb::start("127.0.0.1").await;
    let reference = ground(&web);
    let full = tokio::task::spawn_blocking({
        let mut c = reference.cmd(&["check", "--format", "json"]);
        move || c.output().unwrap()
    })
    .await
    .unwrap();
    assert!(full.status.success());
    let want = statuses(&reference);
    assert_eq!(want.len(), SOURCES);

    let g = ground(&web);
    let bin = assert_cmd::cargo::cargo_bin("citewatch");
    let mut killed_with_progress = 0;
    for delay_ms in [400u64, 900, 1400] {
        let mut child = std::process::Command::new(&bin)
            .arg("--config")
            .arg(g.config())
            .args(["check"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        let finished = child.try_wait().unwrap().is_some();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let done: usize = checks_per_source(&g).len();
        if !finished && done > 0 && done < SOURCES {
            killed_with_progress += 1;
        }
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
    let out = g.cmd(&["check", "--format", "json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let per_source = checks_per_source(&g);
    assert_eq!(per_source.len(), SOURCES, "every source checked");
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
