//! What a check run's writer does with results it has not recorded yet when
//! the run ends early: a batch the store refuses, damage met elsewhere in the
//! run, a stop asked for. Every run here holds the same results at the same
//! moment: three pages recorded, a down host's five failures held back for its
//! incident, and one page still in flight behind a gate the test opens.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::Ground;
use common::web::TestWeb;
use serde_json::Value;
use sha2::Digest;

const PAGES: [&str; 3] = ["/page/1", "/page/2", "/page/3"];
const GATED: &str = "/gated/ok/1";
/// Pages on the down host: enough failures for a host incident.
const DOWN: usize = 5;

struct Night {
    web: TestWeb,
    down: TestWeb,
    g: Ground,
}

impl Night {
    /// Both hosts allowed, no pacing, no retries; the gate closed.
    async fn new() -> Night {
        Night::with_fetch("").await
    }

    /// [`Night::new`] with more `[fetch]` settings.
    async fn with_fetch(fetch: &str) -> Night {
        let web = TestWeb::start("127.0.0.1").await;
        let down = TestWeb::start("127.0.0.2").await;
        down.state.down.store(true, Ordering::Relaxed);
        web.state.gate_closed.store(true, Ordering::Relaxed);
        let g = Ground::new();
        g.write_config(&format!(
            "[briefings]\npaths = [\"../briefings\"]\n[store]\ndir = \"../data\"\n\
             [fetch]\nrespect_robots = false\nrequests_per_second = 0.0\nretries = 0\n\
             allow_networks = [\"127.0.0.1/32\", \"127.0.0.2/32\"]\n{fetch}\
             [check]\ndead_after_checks = 1\ndead_after = \"0s\"\n"
        ));
        let mut doc = String::from("Briefings - test page\n\n");
        for (i, url) in PAGES
            .iter()
            .chain([&GATED])
            .map(|p| web.url("127.0.0.1", p))
            .chain((1..=DOWN).map(|i| down.url("127.0.0.2", &format!("/page/{i}"))))
            .enumerate()
        {
            doc.push_str(&format!(
                "Outlet {i}: Headline {i}\n\nA body paragraph for item {i} that is long enough.\n\n\
                 Source: Outlet {i}, December {}, 2020\n{url}\n\n",
                i + 1
            ));
        }
        g.brief("b.txt", doc);
        g.sync();
        Night { web, down, g }
    }

    fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.g.path("data/citewatch.db")).unwrap()
    }

    /// `check --format json` as a child, with `env` set.
    fn spawn_check(&self, env: &[(&str, &str)]) -> std::process::Child {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("citewatch"))
            .arg("--config")
            .arg(self.g.config())
            .args(["check", "--format", "json"])
            .env_remove("CITEWATCH_CONFIG")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Waits until the run has recorded the three pages, asked the down
    /// host for each of its pages (failures the writer holds until the run
    /// ends) and is waiting at the gate.
    async fn wait_for_the_gate(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let recorded: i64 = self
                .db()
                .query_row("SELECT count(*) FROM checks", [], |r| r.get(0))
                .unwrap_or(0);
            let asked = (1..=DOWN)
                .filter(|i| {
                    !self
                        .down
                        .hits_for("127.0.0.2", &format!("/page/{i}"))
                        .is_empty()
                })
                .count();
            let waiting = !self.web.hits_for("127.0.0.1", GATED).is_empty();
            if recorded == PAGES.len() as i64 && asked == DOWN && waiting {
                // The down host's answers reach the writer a moment after
                // the requests did.
                tokio::time::sleep(Duration::from_millis(300)).await;
                return;
            }
            assert!(recorded <= PAGES.len() as i64, "{recorded} checks recorded");
            assert!(Instant::now() < deadline, "the run did not reach the gate");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn open_gate(&self) {
        self.web.state.gate_closed.store(false, Ordering::Relaxed);
    }

    /// A check run with `env` let through the gate to its end, which must
    /// be a failed run's (exit 3, no summary): its standard error.
    async fn failed_run(&self, env: &[(&str, &str)]) -> String {
        let child = self.spawn_check(env);
        self.wait_for_the_gate().await;
        self.open_gate();
        let out = finish(child).await;
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(out.stdout.is_empty(), "no summary for a failed run");
        err
    }

    /// Check rows per source URL (port left out), every source listed.
    fn checks(&self) -> BTreeMap<String, i64> {
        let db = self.db();
        let mut stmt = db
            .prepare(
                "SELECT s.url, (SELECT count(*) FROM checks c WHERE c.source_id = s.id)
                 FROM sources s",
            )
            .unwrap();
        stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))
            .unwrap()
            .map(|row| {
                let (url, n) = row.unwrap();
                (self.unported(&url), n)
            })
            .collect()
    }

    fn unported(&self, url: &str) -> String {
        url.replace(&format!(":{}", self.web.port()), "")
            .replace(&format!(":{}", self.down.port()), "")
    }

    /// Sources never recorded: status, last check and next due as a new
    /// source has them, so the next run takes them first.
    fn never_recorded(&self) -> Vec<String> {
        let db = self.db();
        let mut stmt = db
            .prepare(
                "SELECT url FROM sources WHERE status = 'unchecked'
                   AND last_checked IS NULL AND next_check_at IS NULL
                   AND latest_capture_id IS NULL ORDER BY url",
            )
            .unwrap();
        stmt.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(|url| self.unported(&url.unwrap()))
            .collect()
    }

    fn count(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    fn verify(&self) -> Value {
        let out = self
            .g
            .cmd(&["verify", "--format", "json"])
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(0), "{v}");
        assert_eq!(v["problems"].as_array().unwrap().len(), 0, "{v}");
        v
    }

    /// What the first run left unrecorded (the gated page, the down host's
    /// pages) is all the next run checks, once each, with the incident.
    fn next_run_checks_the_rest_once(&self, left: usize) {
        let summary = self.g.json(&["check", "--format", "json"]);
        assert_eq!(summary["checked"], left as u64, "{summary}");
        let all = self.checks();
        assert_eq!(all.len(), PAGES.len() + 1 + DOWN, "{all:?}");
        assert!(all.values().all(|&n| n == 1), "recorded twice: {all:?}");
        assert_eq!(self.count("SELECT count(*) FROM host_incidents"), 1);
        let again = self.g.json(&["check", "--format", "json"]);
        assert_eq!(again["checked"], 0, "{again}");
    }
}

/// The down host's pages and the gated one, as `never_recorded` lists them.
fn unrecorded() -> Vec<String> {
    let mut urls: Vec<String> = (1..=DOWN)
        .map(|i| format!("http://127.0.0.2/page/{i}"))
        .chain([format!("http://127.0.0.1{GATED}")])
        .collect();
    urls.sort();
    urls
}

async fn finish(child: std::process::Child) -> std::process::Output {
    tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap()
}

/// A batch the store refuses (here a trigger; a full disk, or the database
/// locked past the busy timeout, in life) ends the run with exit 3 and words
/// saying what it cost. The batch is rolled back whole and the writer drops
/// what it held, the down host's failures and their incident among them:
/// those sources stay due, unrecorded, and the next run checks them once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_the_store_refuses_ends_the_run_and_leaves_its_sources_due() {
    let n = Night::new().await;
    n.db()
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON checks WHEN NEW.request_url LIKE '%/gated/%'
             BEGIN SELECT RAISE(ABORT, 'refused for a test'); END;",
        )
        .unwrap();
    let err = n.failed_run(&[]).await;
    assert!(
        err.contains("recording checks failed, so the run stopped: ")
            && err.contains(
                "citewatch.db: refused for a test; every check recorded before stands, \
                 and the next run checks the sources this one did not record"
            ),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    // Whoever started the run finds why in the store.
    let (state, error): (String, String) = n
        .db()
        .query_row(
            "SELECT state, json_extract(summary, '$.error') FROM runs",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(state, "interrupted");
    assert!(error.starts_with("recording checks failed"), "{error}");
    let checks = n.checks();
    for page in PAGES {
        assert_eq!(checks[&format!("http://127.0.0.1{page}")], 1, "{checks:?}");
    }
    assert_eq!(n.never_recorded(), unrecorded());
    assert_eq!(
        n.count("SELECT count(*) FROM checks"),
        PAGES.len() as i64,
        "{checks:?}"
    );
    assert_eq!(
        n.count("SELECT count(*) FROM host_incidents"),
        0,
        "an incident is written with the checks it excuses, or not at all"
    );
    // The gated page's blob was made durable before the batch was refused:
    // unreferenced, harmless.
    let gated = hex::encode(sha2::Sha256::digest(format!(
        "<html><title>{GATED}</title><body>article {GATED}</body></html>"
    )));
    let v = n.verify();
    assert!(
        v["unreferenced_blobs"]
            .as_array()
            .unwrap()
            .contains(&Value::from(gated)),
        "{v}"
    );
    n.db().execute_batch("DROP TRIGGER refuse").unwrap();
    n.next_run_checks_the_rest_once(1 + DOWN);
    let v = n.verify();
    assert_eq!(
        v["unreferenced_blobs"].as_array().unwrap().len(),
        0,
        "the next run adopted the blob: {v}"
    );
}

/// Damage to the database met elsewhere in the run (here injected as the
/// gated page's result comes in) stops the run, and the writer drops what it
/// holds rather than write it into the damaged file: the down host's
/// failures and their incident are not recorded, nor is how the run ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(debug_assertions),
    ignore = "the binary takes CITEWATCH_TEST_DAMAGE in debug builds only"
)]
async fn damage_met_while_the_writer_holds_results_drops_them_unwritten() {
    let n = Night::new().await;
    let err = n.failed_run(&[("CITEWATCH_TEST_DAMAGE", "/gated/")]).await;
    assert!(
        err.contains("injected for a test: database disk image is malformed")
            && err.contains("the database is damaged, so the run stopped and wrote nothing more"),
        "{err}"
    );
    let (state, finished): (String, Option<i64>) = n
        .db()
        .query_row("SELECT state, finished_at FROM runs", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((state.as_str(), finished), ("running", None));
    let checks = n.checks();
    for page in PAGES {
        assert_eq!(checks[&format!("http://127.0.0.1{page}")], 1, "{checks:?}");
    }
    assert_eq!(n.never_recorded(), unrecorded());
    assert_eq!(n.count("SELECT count(*) FROM host_incidents"), 0);
    n.verify();
    n.next_run_checks_the_rest_once(1 + DOWN);
    let states = n.count("SELECT count(*) FROM runs WHERE state = 'interrupted'");
    assert_eq!(states, 1, "the damaged run, marked by the next start");
}

/// A stop asked for while the writer holds results records them all (the
/// down host's failures with their incident); only the fetch still in flight
/// when the grace ran out is given up, and stays due.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_records_what_the_writer_holds_and_leaves_only_the_abandoned_due() {
    let n = Night::new().await;
    let child = n.spawn_check(&[]);
    n.wait_for_the_gate().await;
    // SAFETY: signalling our own child by its pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = finish(child).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["stopped_on_request"], true, "{summary}");
    assert_eq!(summary["abandoned_on_stop"], 1, "{summary}");
    assert_eq!(summary["checked"], (PAGES.len() + DOWN) as u64, "{summary}");
    assert_eq!(
        summary["host_incidents"],
        serde_json::json!(["127.0.0.2"]),
        "{summary}"
    );
    let checks = n.checks();
    assert_eq!(checks[&format!("http://127.0.0.1{GATED}")], 0, "{checks:?}");
    assert_eq!(
        checks.values().sum::<i64>(),
        (PAGES.len() + DOWN) as i64,
        "{checks:?}"
    );
    assert!(checks.values().all(|&n| n <= 1), "{checks:?}");
    assert_eq!(
        n.never_recorded(),
        [format!("http://127.0.0.1{GATED}")],
        "only the abandoned fetch is due"
    );
    n.verify();
    n.open_gate();
    let next = n.g.json(&["check", "--format", "json"]);
    assert_eq!(next["checked"], 1, "{next}");
    let all = n.checks();
    assert!(all.values().all(|&n| n == 1), "recorded twice: {all:?}");
}

/// A writer that failed while every fetch still in flight is slow (here one
/// held at the gate past the run's end; a Retry-After or a paced host's turn
/// in life) ends the run at once: its results could no longer be recorded.
/// The run went on until the next fetch came back, up to `[fetch] timeout`
/// (a minute here) or a Retry-After of ten minutes, fetching for nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_writer_failed_ends_without_waiting_for_the_fetches_in_flight() {
    let n = Night::with_fetch("timeout = \"60s\"\n").await;
    n.db()
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON checks
             WHEN NEW.request_url LIKE 'http://127.0.0.1:%/page/%'
             BEGIN SELECT RAISE(ABORT, 'refused for a test'); END;",
        )
        .unwrap();
    let mut child = n.spawn_check(&[]);
    // The pages' batch is refused half a second after they come back; the
    // gated page is awaited for a minute unless the run gives it up.
    let deadline = Instant::now() + Duration::from_secs(20);
    let ended = loop {
        if child.try_wait().unwrap().is_some() {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let waiting = !n.web.hits_for("127.0.0.1", GATED).is_empty();
    n.open_gate();
    let out = finish(child).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(waiting, "the gated page was never asked for: {err}");
    assert!(
        ended,
        "the run went on waiting for the gated fetch after its writer failed: {err}"
    );
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("recording checks failed, so the run stopped: ")
            && err.contains("refused for a test"),
        "{err}"
    );
    assert_eq!(n.count("SELECT count(*) FROM checks"), 0);
    n.verify();
    n.db().execute_batch("DROP TRIGGER refuse").unwrap();
    let next = n.g.json(&["check", "--format", "json"]);
    assert_eq!(next["checked"], (PAGES.len() + 1 + DOWN) as u64, "{next}");
    let all = n.checks();
    assert!(all.values().all(|&n| n == 1), "recorded twice: {all:?}");
}
