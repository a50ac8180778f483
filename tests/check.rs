//! `citewatch check` through the real binary against the local test web.

mod common;

use common::Ground;
use common::web::TestWeb;
use serde_json::Value;

async fn run(g: &Ground, args: &[&str]) -> std::process::Output {
    run_with(g, args, &[]).await
}

/// [`run`] with environment variables set for the binary.
async fn run_with(g: &Ground, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = g.cmd(args);
    cmd.envs(env.iter().copied());
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

async fn json(g: &Ground, args: &[&str]) -> Value {
    let out = run(g, args).await;
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Loopback allowed, no pacing, no retries, and a failure confirmed by one check.
const IMMEDIATE: &str = "[briefings]\npaths = [\"../briefings\"]\n[store]\ndir = \"../data\"\n\
     [fetch]\nrespect_robots = false\nrequests_per_second = 0.0\nretries = 0\nallow_networks = [\"127.0.0.1/32\"]\n\
     [check]\ndead_after_checks = 1\ndead_after = \"0s\"\n";

/// Loopback allowed, no pacing, no retries, one fetch at a time: for runs a
/// test ends part way (a time budget, a signal, the service stopping).
const ONE_AT_A_TIME: &str = "[briefings]\npaths = [\"../briefings\"]\n[store]\ndir = \"../data\"\n\
     [fetch]\nrespect_robots = false\nrequests_per_second = 0.0\nretries = 0\nconcurrency = 1\n\
     allow_networks = [\"127.0.0.1/32\"]\n";

fn briefing(web: &TestWeb, paths: &[impl AsRef<str>]) -> String {
    let mut doc = String::from("Briefings - test page\n\n");
    for (i, p) in paths.iter().enumerate() {
        let p = p.as_ref();
        doc.push_str(&format!(
            "Outlet {i}: Headline {i}\n\nA body paragraph for item {i} that is long enough.\n\nSource: Outlet {i}, December {}, 2020\nhttp://127.0.0.1:{}{p}\n\n",
            i + 1,
            web.port()
        ));
    }
    doc
}

/// A project whose briefing cites `paths` on `web`, configured [`IMMEDIATE`]:
/// where most tests here start.
fn citing(web: &TestWeb, paths: &[impl AsRef<str>]) -> Ground {
    let g = Ground::new();
    g.write_config(IMMEDIATE);
    g.brief("b.txt", briefing(web, paths));
    g
}

fn source<'a>(sources: &'a Value, path: &str) -> &'a Value {
    sources
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["url"].as_str().unwrap().ends_with(path))
        .unwrap_or_else(|| panic!("{path} not in {sources}"))
}

fn status_of(sources: &Value, path: &str) -> String {
    source(sources, path)["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_gives_each_source_its_verdict() {
    let web = TestWeb::start("127.0.0.1").await;
    let paths = [
        "/page/1",
        "/gone",
        "/missing",
        "/news/2020/12/26/removed.htm",
        "/soft",
        "/always503",
        "/page/2",
    ];
    let g = citing(&web, &paths);
    let summary = json(&g, &["check", "--format", "json"]).await;
    assert_eq!(summary["checked"], 7, "{summary}");
    for key in [
        "run_id",
        "started_at",
        "duration_ms",
        "due",
        "checked",
        "sources_by_status",
        "newly_broken",
        "newly_recovered",
        "urls_per_second",
    ] {
        assert!(summary.get(key).is_some(), "{key} missing");
    }
    let sources = json(&g, &["sources", "--format", "json"]).await;
    for (path, want) in [
        ("/page/1", "ok"),
        ("/gone", "dead"),
        ("/missing", "dead"),
        ("/news/2020/12/26/removed.htm", "soft_404"),
        ("/soft", "soft_404"),
        ("/always503", "unreachable"),
    ] {
        assert_eq!(status_of(&sources, path), want, "{path}");
    }
    // The words every --status takes: `broken` is dead, soft_404, unreachable.
    let broken = json(&g, &["sources", "--status", "broken", "--format", "json"]).await;
    assert_eq!(broken.as_array().unwrap().len(), 5, "{broken}");
    let all = json(&g, &["sources", "--status", "all", "--format", "json"]).await;
    assert_eq!(all.as_array().unwrap().len(), 7, "{all}");
    // Nothing is due on the same night: a second run checks nothing.
    let again = json(&g, &["check", "--format", "json"]).await;
    assert_eq!(again["checked"], 0, "{again}");
    let all = json(&g, &["check", "--all", "--format", "json"]).await;
    assert_eq!(all["checked"], 7);
    let one = json(
        &g,
        &[
            "check",
            "--url",
            &format!("http://127.0.0.1:{}/page/1", web.port()),
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(one["checked"], 1);
    // A URL no briefing cites is named, not silently skipped.
    let stranger = format!("http://127.0.0.1:{}/never-cited", web.port());
    let out = run(&g, &["check", "--url", &stranger]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "--url: not a source, no briefing cites it: {stranger}"
        )),
        "{err}"
    );
    assert!(
        web.hits_for("127.0.0.1", "/never-cited").is_empty(),
        "nothing fetched"
    );
    // A cited URL copied with a trailing slash is named with the source it
    // may mean, as `status` and `get` name it.
    let slashed = format!("http://127.0.0.1:{}/page/1/", web.port());
    let out = run(&g, &["check", "--url", &slashed]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "{slashed} (sources nearby: {}); ",
            slashed.trim_end_matches('/')
        )),
        "{err}"
    );
    let status = json(
        &g,
        &[
            "status",
            &format!("http://127.0.0.1:{}/gone", web.port()),
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(status["status"], "dead");
    // A suspect is where a failing source heads; a confirmed one has none.
    assert_eq!(status["suspect"], Value::Null, "{status}");
    assert_eq!(status["http_status"], 410);
    assert_eq!(status["evidence"], "410 Gone");
    // The same verdict for people.
    let text = run(
        &g,
        &["status", &format!("http://127.0.0.1:{}/gone", web.port())],
    )
    .await;
    let text = String::from_utf8(text.stdout).unwrap();
    for line in [
        "  status: dead since ",
        "  evidence: 410 Gone\n",
        "  HTTP status: 410\n",
        "consecutive failures: 2, cited once\n",
    ] {
        assert!(text.contains(line), "{line:?} not in:\n{text}");
    }
    assert!(
        !text.contains("latest check"),
        "the verdict is the latest check's: {text}"
    );
    // A URL as a browser shows it, with a slash the citation lacks: bad input
    // (exit 2), and the source it probably means is named.
    let near = run(
        &g,
        &["status", &format!("http://127.0.0.1:{}/gone/", web.port())],
    )
    .await;
    let err = String::from_utf8_lossy(&near.stderr);
    assert_eq!(near.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "is not a source: no briefing cites it and it was never fetched; \
             sources nearby: http://127.0.0.1:{}/gone",
            web.port()
        )),
        "{err}"
    );
    // The list for people: a header, one line a source, a count.
    let out = run(&g, &["sources", "--status", "dead"]).await;
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[0].starts_with("status") && lines[0].ends_with("url  evidence"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("dead ") && lines[1].contains("1  http://127.0.0.1:"),
        "{text}"
    );
    assert_eq!(lines[3], "2 sources");
    let out = run(&g, &["sources", "--status", "unreachable"]).await;
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.ends_with("\n1 source\n"), "{text}");
    let citations = json(&g, &["citations", "--format", "json"]).await;
    assert!(
        citations
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"].is_string() && c.get("status_since").is_some())
    );
    let v = run(&g, &["verify"]).await;
    assert_eq!(v.status.code(), Some(0));
    // A host as in a URL, port and all, is the host; one with no source is named.
    let by_host = json(
        &g,
        &[
            "check",
            "--all",
            "--host",
            &format!("127.0.0.1:{}", web.port()),
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(by_host["checked"], 7, "{by_host}");
    let out = run(&g, &["check", "--all", "--host", "nosuch.example"]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--host `nosuch.example`: no source is on this host"),
        "{err}"
    );
    // Named as typed, and as sources would record it: `xn--…` alone would
    // not tell the user which host was meant.
    let out = run(&g, &["check", "--all", "--host", "Bücher.Example:8080"]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "--host `Bücher.Example:8080`: no source is on this host \
             (`xn--bcher-kva.example`, as sources record it)"
        ),
        "{err}"
    );
}

/// `--host localhost` checked only the sources cited as `http://localhost:…`,
/// not those cited as `http://localhost.:…`, the same host written as an
/// absolute name (sources record the host as the URL wrote it); and
/// `--host localhost.` found neither spelling's sources but the first. A
/// host in any case, with its dot or without, selects both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_in_any_case_or_with_a_trailing_dot_selects_all_its_sources() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = Ground::new();
    g.write_config(IMMEDIATE);
    let mut doc = String::from("Briefings - test page\n\n");
    for (i, url) in [
        web.url("localhost.", "/page/1"),
        web.url("LocalHost", "/page/2"),
        web.url("127.0.0.1", "/page/3"),
    ]
    .iter()
    .enumerate()
    {
        doc.push_str(&format!(
            "Outlet {i}: Headline {i}\n\nA body paragraph for item {i} that is long enough.\n\n\
             Source: Outlet {i}, December 1, 2020\n{url}\n\n"
        ));
    }
    g.brief("b.txt", doc);
    let port = web.port();
    for given in [
        "localhost".to_string(),
        "LOCALHOST.".to_string(),
        format!("LocalHost.:{port}"),
    ] {
        let summary = json(
            &g,
            &["check", "--all", "--host", &given, "--format", "json"],
        )
        .await;
        assert_eq!(summary["checked"], 2, "--host {given}: {summary}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_is_refused_with_exit_4() {
    let g = Ground::new();
    g.brief("b.txt", common::SEED);
    let _held =
        citewatch::check::lock::RunLock::acquire(&g.data(), "2026-11-29T01:00:00Z").unwrap();
    let out = run(&g, &["check", "--no-sync"]).await;
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "another run (a check, a sync, a `verify --repair` or a `fetch --save`) holds"
        ) && err.contains("2026-11-29T01:00:00Z"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_check_counts_from_the_runs_start_not_the_fetch() {
    // Due-ness is measured from a run's start; so must the next check be, or
    // a source checked late in a long run misses the next night. One request
    // at a time to pages that take 20 ms: the run lasts over a second.
    let web = TestWeb::start("127.0.0.1").await;
    let g = Ground::new();
    g.write_config(&IMMEDIATE.replace("retries = 0\n", "retries = 0\nconcurrency = 1\n"));
    let mut paths: Vec<String> = (0..60).map(|i| format!("/slow/ok/{i}")).collect();
    paths.extend(["/slow/missing/1".to_string(), "/slow/flaky/1".to_string()]);
    g.brief("b.txt", briefing(&web, &paths));
    let summary = json(&g, &["check", "--format", "json"]).await;
    assert_eq!(summary["checked"], 62, "{summary}");
    assert!(summary["duration_ms"].as_u64().unwrap() > 1200, "{summary}");
    let started: jiff::Timestamp = summary["started_at"].as_str().unwrap().parse().unwrap();
    // recheck_ok and recheck_dead at their defaults; the last pages were
    // fetched over a second after the run began.
    for (path, days) in [
        ("/slow/ok/0", 7),
        ("/slow/ok/59", 7),
        ("/slow/missing/1", 30),
        ("/slow/flaky/1", 30),
    ] {
        let url = format!("http://127.0.0.1:{}{path}", web.port());
        let status = json(&g, &["status", &url, "--format", "json"]).await;
        let next: jiff::Timestamp = status["next_check"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            next.duration_since(started),
            jiff::SignedDuration::from_hours(24 * days),
            "{status}"
        );
    }
}

/// `--limit N` takes the first N sources in priority order (never checked
/// first), hosts taking turns among those: cut after the turns, it took
/// one source of each host in turn, routine re-checks of the other hosts
/// in place of the new sources of one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limited_run_takes_the_new_sources_first_whatever_their_host() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = Ground::new();
    g.write_config(IMMEDIATE);
    let item = |i: usize, url: String| {
        format!(
            "Outlet {i}: Headline {i}\n\nA body paragraph for item {i} that is long enough.\n\n\
             Source: Outlet {i}, December {}, 2020\n{url}\n\n",
            i + 1
        )
    };
    // A night checks four pages of one host: `ok`, due again with --all.
    let mut doc = String::from("Briefings - test page\n\n");
    for i in 0..4 {
        doc.push_str(&item(i, web.url("localhost", &format!("/page/{i}"))));
    }
    g.brief("b.txt", &doc);
    let night = json(&g, &["check", "--format", "json"]).await;
    assert_eq!(night["checked"], 4, "{night}");
    // Four new sources, all on another host.
    for i in 4..8 {
        doc.push_str(&item(i, web.url("127.0.0.1", &format!("/page/{i}"))));
    }
    g.brief("b.txt", &doc);
    let run = json(&g, &["check", "--all", "--limit", "4", "--format", "json"]).await;
    assert_eq!(run["checked"], 4, "{run}");
    let db = rusqlite::Connection::open(g.path("data/citewatch.db")).unwrap();
    let checks: Vec<(String, i64)> = db
        .prepare(
            "SELECT s.url, (SELECT count(*) FROM checks c WHERE c.source_id = s.id)
             FROM sources s ORDER BY s.url",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(checks.len(), 8, "{checks:?}");
    for (url, n) in &checks {
        assert_eq!(
            *n, 1,
            "{url}: new ones once, the others not again: {checks:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_run_is_not_last_night_for_the_report() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = citing(&web, &["/page/1", "/gone"]);
    let night = json(&g, &["check", "--format", "json"]).await;
    assert_eq!(night["partial"], false, "{night}");
    // Every status is counted, 0 included, so scripts need not ask first.
    assert_eq!(night["sources_by_status"]["unreachable"], 0, "{night}");
    assert_eq!(night["checked_by_status"]["soft_404"], 0, "{night}");
    let since = |report: &Value| report["since"].clone();
    let report = json(&g, &["report", "--new", "--format", "json"]).await;
    assert_eq!(since(&report), night["started_at"], "{report}");
    let page = format!("http://127.0.0.1:{}/page/1", web.port());
    for args in [
        vec!["check", "--url", page.as_str(), "--format", "json"],
        vec!["check", "--all", "--host", "127.0.0.1", "--format", "json"],
        vec!["check", "--all", "--limit", "1", "--format", "json"],
        // Nothing due: a run that checked nothing.
        vec!["check", "--format", "json"],
    ] {
        let run = json(&g, &args).await;
        assert_eq!(run["partial"], args.len() > 3, "{args:?}: {run}");
        let report = json(&g, &["report", "--new", "--format", "json"]).await;
        assert_eq!(since(&report), night["started_at"], "{args:?}");
        assert_eq!(report["summary"]["newly_broken"]["sources"], 1, "{report}");
    }
    // A whole night moves the reference on.
    let next = json(&g, &["check", "--all", "--format", "json"]).await;
    let report = json(&g, &["report", "--new", "--format", "json"]).await;
    assert_eq!(since(&report), next["started_at"]);
    assert_eq!(report["summary"]["newly_broken"]["sources"], 0, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_hands_out_a_good_copy_never_the_error_page() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = citing(&web, &["/page/1", "/soft", "/missing"]);
    json(&g, &["check", "--format", "json"]).await;
    let url = |path: &str| format!("http://127.0.0.1:{}{path}", web.port());
    let good = run(&g, &["get", &url("/page/1")]).await;
    assert_eq!(good.status.code(), Some(0));
    // A 200 judged a soft 404, and a 404: error pages, not copies.
    for path in ["/soft", "/missing"] {
        let out = run(&g, &["get", &url(path)]).await;
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{path}: {err}");
        assert!(err.contains("no good copy of"), "{path}: {err}");
        assert!(out.stdout.is_empty(), "{path} wrote a body");
        // Asked for by time, the nearest capture comes, said to be an error page.
        let at = run(&g, &["get", &url(path), "--at", "2030-01-01"]).await;
        let err = String::from_utf8_lossy(&at.stderr);
        assert_eq!(at.status.code(), Some(0), "{path}: {err}");
        assert!(err.contains("note: no good copy"), "{path}: {err}");
        if path == "/soft" {
            let body = String::from_utf8_lossy(&at.stdout);
            assert!(body.contains("页面不存在"), "{body}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_blocked_by_our_own_policy_are_pointed_out_when_nothing_is_due() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = Ground::new();
    // The guard's forbidden side: a loopback address outside allow_networks.
    g.write_config(&IMMEDIATE.replace("127.0.0.1/32", "127.0.0.2/32"));
    g.brief("b.txt", briefing(&web, &["/page/1", "/page/2"]));
    let first = run(&g, &["check"]).await;
    let text = String::from_utf8_lossy(&first.stdout);
    assert!(text.contains("sources by status: blocked 2\n"), "{text}");
    assert!(
        text.contains("checked by new status: blocked 2\n"),
        "{text}"
    );
    let again = run(&g, &["check"]).await;
    let text = String::from_utf8_lossy(&again.stdout);
    // Nothing checked, so no line of this run's checks.
    assert!(!text.contains("checked by new status"), "{text}");
    assert!(
        text.contains("nothing was due; 2 blocked sources wait for their next check"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_failing_on_most_checks_is_one_incident_not_many_failures() {
    let web = TestWeb::start("127.0.0.1").await;
    let paths: Vec<String> = (0..6)
        .map(|i| format!("/always503?{i}"))
        .chain(["/page/1".to_string()])
        .collect();
    let g = citing(&web, &paths);
    let summary = json(&g, &["check", "--format", "json"]).await;
    assert_eq!(
        summary["host_incidents"],
        serde_json::json!(["127.0.0.1"]),
        "{summary}"
    );
    // The excused checks left no verdict: counted apart, not as the
    // `unchecked` they kept.
    assert_eq!(summary["excused_by_incident"], 6, "{summary}");
    assert_eq!(summary["checked_by_status"]["unchecked"], 0, "{summary}");
    assert_eq!(summary["checked_by_status"]["ok"], 1, "{summary}");
    let sources = json(&g, &["sources", "--format", "json"]).await;
    for s in sources.as_array().unwrap() {
        let url = s["url"].as_str().unwrap();
        if url.contains("always503") {
            assert_eq!(s["status"], "unchecked", "{url} was counted against");
            assert_eq!(s["consecutive_failures"], 0);
            assert!(
                s["evidence"].as_str().unwrap().starts_with("host incident"),
                "{s}"
            );
        } else {
            assert_eq!(s["status"], "ok");
        }
    }
    // People reading the nightly log see the incident too.
    let text = run(&g, &["check", "--all"]).await;
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("\nhost incidents: 127.0.0.1 (most of their checks failed on the network"),
        "{text}"
    );
}

/// `localhost.` is `localhost` written as an absolute name: one host for the
/// incident rule, as for pacing. Grouped by the host as written, an outage
/// of six checks split three and three, and neither half reached the five
/// failures an incident needs: each source was counted against. And when
/// the next run is down too, the incident recorded under one spelling is
/// the host's previous incident for sources under the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_spelled_with_a_trailing_dot_is_one_host_for_incidents() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = Ground::new();
    g.write_config(IMMEDIATE);
    let mut doc = String::from("Briefings - test page\n\n");
    for i in 0..6 {
        let host = if i % 2 == 0 {
            "localhost"
        } else {
            "localhost."
        };
        doc.push_str(&format!(
            "Outlet {i}: Headline {i}\n\nA body paragraph for item {i} that is long enough.\n\nSource: Outlet {i}, December {}, 2020\n{}\n\n",
            i + 1,
            web.url(host, &format!("/always503?{i}"))
        ));
    }
    g.brief("b.txt", doc);
    let summary = json(&g, &["check", "--format", "json"]).await;
    assert_eq!(
        summary["host_incidents"],
        serde_json::json!(["localhost"]),
        "{summary}"
    );
    let sources = json(&g, &["sources", "--format", "json"]).await;
    let sources = sources.as_array().unwrap();
    assert_eq!(sources.len(), 6, "{sources:?}");
    for s in sources {
        assert_eq!(s["status"], "unchecked", "counted against: {s}");
        assert!(
            s["evidence"]
                .as_str()
                .unwrap()
                .starts_with("host incident: 6 of 6 checks on localhost"),
            "{s}"
        );
    }
    // Down again on the host's next run: the outage has lasted, for the
    // sources under either spelling.
    let second = json(&g, &["check", "--all", "--format", "json"]).await;
    assert_eq!(second["host_incidents"], serde_json::json!(["localhost"]));
    let sources = json(&g, &["sources", "--format", "json"]).await;
    for s in sources.as_array().unwrap() {
        assert_eq!(s["status"], "unreachable", "{s}");
    }
}

/// A page past 1 MiB is buffered in a temporary file. When this machine
/// cannot make one (a full or missing temporary folder), the failure is
/// ours: it is not counted against the source (it was recorded as a
/// `connect` failure, and confirmed `unreachable`), and the run stops
/// saying why, as it does when the archive cannot be written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_cannot_be_buffered_here_is_not_held_against_its_source() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = citing(&web, &["/files/blob.bin"]);
    json(&g, &["check", "--format", "json"]).await;
    let before = json(&g, &["sources", "--format", "json"]).await;
    let before = source(&before, "/files/blob.bin").clone();
    assert_eq!(before["consecutive_failures"], 0, "{before}");
    let no_tmp = g.data().join("no-such-folder");
    let out = run_with(
        &g,
        &["check", "--all", "--format", "json"],
        &[("TMPDIR", no_tmp.to_str().unwrap())],
    )
    .await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("cannot buffer the body on this machine's disk")
            && err.contains("not the source's failure"),
        "{err}"
    );
    let after = json(&g, &["sources", "--format", "json"]).await;
    let after = source(&after, "/files/blob.bin");
    for key in [
        "status",
        "status_since",
        "suspect",
        "consecutive_failures",
        "evidence",
        "error",
        "last_checked",
    ] {
        assert_eq!(after[key], before[key], "{key}: {after}");
    }
}

/// Issue 5: bot challenges are `blocked`, whatever status they come with:
/// Cloudflare's comes with a 503, and was confirmed `unreachable`, a broken
/// link, though nothing says the page is gone or the server down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_challenge_served_with_a_503_is_blocked_not_unreachable() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = Ground::new();
    g.write_config(IMMEDIATE);
    g.brief("b.txt", briefing(&web, &["/challenge503", "/always503"]));
    let summary = json(&g, &["check", "--format", "json"]).await;
    assert_eq!(summary["newly_broken"], 1, "{summary}");
    let sources = json(&g, &["sources", "--format", "json"]).await;
    let challenged = source(&sources, "/challenge503");
    assert_eq!(challenged["status"], "blocked", "{challenged}");
    assert_eq!(challenged["http_status"], 503, "{challenged}");
    assert!(
        challenged["evidence"]
            .as_str()
            .is_some_and(|e| e.contains("bot challenge")),
        "{challenged}"
    );
    // A 503 without one is a server error, as before.
    assert_eq!(status_of(&sources, "/always503"), "unreachable");
}

/// A page answering 404 and 503 by turns is never served: three failing
/// checks confirm it `unreachable` (never `dead`), though no one kind lasted
/// three checks; the streak and its kind must survive in the store between
/// runs for that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_failing_by_turns_404_and_503_is_confirmed_unreachable() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = Ground::new();
    g.write_config(&IMMEDIATE.replace("dead_after_checks = 1", "dead_after_checks = 3"));
    g.brief("b.txt", briefing(&web, &["/by-turns-404-503"]));
    let mut seen = Vec::new();
    for _night in 0..3 {
        json(&g, &["check", "--all", "--format", "json"]).await;
        let sources = json(&g, &["sources", "--format", "json"]).await;
        let s = source(&sources, "/by-turns-404-503");
        seen.push((
            s["status"].as_str().unwrap().to_string(),
            s["suspect"].as_str().map(str::to_string),
            s["http_status"].as_u64(),
        ));
    }
    let want = |status: &str, suspect: Option<&str>, http: u64| {
        (status.to_string(), suspect.map(str::to_string), Some(http))
    };
    assert_eq!(
        seen,
        [
            want("failing", Some("dead"), 404),
            want("failing", Some("unreachable"), 503),
            want("unreachable", None, 404),
        ]
    );
    let fetched = web
        .hits()
        .into_iter()
        .filter(|h| h.path == "/by-turns-404-503");
    assert_eq!(fetched.count(), 3, "one fetch a night, no retry");
    // What an editor reads counts every failing check since the last good
    // one, not the last 404's own streak of one ("… since today").
    let sources = json(&g, &["sources", "--format", "json"]).await;
    let s = source(&sources, "/by-turns-404-503");
    assert_eq!(s["consecutive_failures"], 3, "{s}");
    let report = json(&g, &["report", "--format", "json"]).await;
    let mut evidence = Vec::new();
    find_evidence(&report, "/by-turns-404-503", &mut evidence);
    assert_eq!(evidence.len(), 1, "{report}");
    assert!(
        evidence[0].contains("unreachable for 3 failing checks of both kinds since ")
            && evidence[0].ends_with(", until it is"),
        "{}",
        evidence[0]
    );
    let status = g
        .cmd(&["status", &web.url("127.0.0.1", "/by-turns-404-503")])
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(status.contains("consecutive failures: 3"), "{status}");
}

/// A page gone (a 410), refused the next night (a 403) and failing the
/// night after (a 503): the refusal saw nothing of the page, so the 503
/// continues the failures before it and leaves `dead` standing, as it would
/// with no refusal between. The status held through the refusal must
/// survive in the store between runs for that; lost, the held streaks
/// confirmed `unreachable` at the first 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_page_refused_then_failing_on_the_network_stays_dead() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = citing(&web, &["/gone-403-503"]);
    let mut seen = Vec::new();
    for _night in 0..3 {
        json(&g, &["check", "--all", "--format", "json"]).await;
        let sources = json(&g, &["sources", "--format", "json"]).await;
        let s = source(&sources, "/gone-403-503");
        seen.push((
            s["status"].as_str().unwrap().to_string(),
            s["http_status"].as_u64(),
        ));
    }
    let want = |status: &str, http: u64| (status.to_string(), Some(http));
    assert_eq!(
        seen,
        [want("dead", 410), want("blocked", 403), want("dead", 503)]
    );
    let fetched = web.hits_for("127.0.0.1", "/gone-403-503");
    assert_eq!(fetched.len(), 3, "one fetch a night, no retry");
}

/// The `evidence` of every listed citation whose URL ends in `path`.
fn find_evidence(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if m.get("url")
                .and_then(Value::as_str)
                .is_some_and(|u| u.ends_with(path))
                && let Some(e) = m.get("evidence").and_then(Value::as_str)
            {
                out.push(e.to_string());
            }
            m.values().for_each(|v| find_evidence(v, path, out));
        }
        Value::Array(a) => a.iter().for_each(|v| find_evidence(v, path, out)),
        _ => {}
    }
}

/// A store citing six pages of one host (one of them gone), after a first night.
async fn six_pages_after_a_night(web: &TestWeb) -> Ground {
    let pages = [
        "/gone", "/page/1", "/page/2", "/page/3", "/page/4", "/page/5",
    ];
    let g = citing(web, &pages);
    json(&g, &["check", "--format", "json"]).await;
    g
}

/// Takes the whole test web down (every answer a 503), or up again.
fn set_down(web: &TestWeb, down: bool) {
    web.state
        .down
        .store(down, std::sync::atomic::Ordering::Relaxed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_incident_leaves_each_verdict_with_its_own_evidence() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = six_pages_after_a_night(&web).await;
    let url = |path: &str| format!("http://127.0.0.1:{}{path}", web.port());
    let gone_before = json(&g, &["status", &url("/gone"), "--format", "json"]).await;
    assert_eq!(gone_before["status"], "dead", "{gone_before}");

    // The whole host goes down for a night.
    set_down(&web, true);
    let summary = json(&g, &["check", "--all", "--format", "json"]).await;
    assert_eq!(summary["host_incidents"], serde_json::json!(["127.0.0.1"]));
    let gone = json(&g, &["status", &url("/gone"), "--format", "json"]).await;
    for key in [
        "status",
        "status_since",
        "http_status",
        "final_url",
        "error",
        "evidence",
    ] {
        assert_eq!(gone[key], gone_before[key], "{key}: {gone}");
    }
    assert_eq!(gone["evidence"], "410 Gone");
    let page = json(&g, &["status", &url("/page/1"), "--format", "json"]).await;
    assert_eq!(
        (&page["status"], &page["http_status"], &page["error"]),
        (
            &serde_json::json!("ok"),
            &serde_json::json!(200),
            &Value::Null
        ),
        "{page}"
    );
    // In words, the verdict's evidence and then what the latest check met.
    let text = run(&g, &["status", &url("/gone")]).await;
    let text = String::from_utf8(text.stdout).unwrap();
    let evidence = text.find("  evidence: 410 Gone\n");
    let latest = text.find("  latest check (");
    assert!(
        evidence.is_some() && latest.is_some() && evidence < latest,
        "{text}"
    );
    assert!(
        text.contains("): host incident: 6 of 6 checks on 127.0.0.1 failed on the network"),
        "{text}"
    );
    // The check itself keeps what happened.
    let history = json(&g, &["history", &url("/gone"), "--format", "json"]).await;
    let checks = history["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 2, "{history}");
    let last = &checks[1];
    assert_eq!(
        (&last["http_status"], &last["status_after"]),
        (&serde_json::json!(503), &serde_json::json!("dead")),
        "{last}"
    );
    assert!(
        last["evidence"]
            .as_str()
            .is_some_and(|e| e.starts_with("host incident: 6 of 6 checks")),
        "{last}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_forgives_one_run_and_a_lasting_outage_counts() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = six_pages_after_a_night(&web).await;
    let url = |path: &str| format!("http://127.0.0.1:{}{path}", web.port());
    let status = |path: &'static str| {
        let g = &g;
        let url = url(path);
        async move { json(g, &["status", &url, "--format", "json"]).await }
    };
    set_down(&web, true);
    // A first night down: one incident, no verdict moves.
    let first = json(&g, &["check", "--all", "--format", "json"]).await;
    assert_eq!(first["host_incidents"], serde_json::json!(["127.0.0.1"]));
    assert_eq!(status("/page/1").await["status"], "ok");
    // Down again on the host's next run: the outage has lasted, and each
    // failure counts (confirmed at once here by dead_after_checks = 1).
    let second = json(&g, &["check", "--all", "--format", "json"]).await;
    assert_eq!(second["host_incidents"], serde_json::json!(["127.0.0.1"]));
    let page = status("/page/1").await;
    assert_eq!(page["status"], "unreachable", "{page}");
    assert_eq!(page["http_status"], 503, "{page}");
    let gone = status("/gone").await;
    assert_eq!(
        (&gone["status"], &gone["evidence"]),
        (&serde_json::json!("dead"), &serde_json::json!("410 Gone")),
        "a network failure never overrides a stronger verdict: {gone}"
    );
    // Back up: one good check is a recovery.
    set_down(&web, false);
    let back = json(&g, &["check", "--all", "--format", "json"]).await;
    assert_eq!(back["host_incidents"], serde_json::json!([]), "{back}");
    assert_eq!(status("/page/1").await["status"], "ok");
}

/// A loopback port with nothing listening on 127.0.0.2: every connection refused.
fn refusing_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// With a host down all night (here every connection refused), its network
/// failures wait for the run's end to be judged as one incident: they are
/// held in the store with the batches around them, not in memory, so what
/// the writer holds is bounded by its batch, not by the outage (each held
/// record is a source's whole check: a night of 300,000 sources down was
/// hundreds of MB). They still end as one incident, each source recorded once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(debug_assertions),
    ignore = "the binary reports what it held in debug builds only"
)]
async fn a_host_down_all_night_is_one_incident_held_on_disk_not_in_memory() {
    const DOWN: usize = 150;
    const BATCH: usize = 8;
    let web = TestWeb::start("127.0.0.1").await;
    let down = refusing_port();
    let g = Ground::new();
    g.write_config(&IMMEDIATE.replace("\"127.0.0.1/32\"", "\"127.0.0.1/32\", \"127.0.0.2/32\""));
    let mut doc = briefing(&web, &["/page/1", "/page/2"]);
    for i in 0..DOWN {
        doc.push_str(&format!(
            "Outlet d{i}: Headline d{i}\n\nA body paragraph for item d{i} that is long enough.\n\n\
             Source: Outlet d{i}, December 1, 2020\nhttp://127.0.0.2:{down}/down/{i}\n\n"
        ));
    }
    g.brief("b.txt", doc);
    let peak = g.path("held-peak");
    let out = run_with(
        &g,
        &["check", "--format", "json"],
        &[
            ("CITEWATCH_TEST_WRITER_BATCH", &BATCH.to_string()),
            ("CITEWATCH_TEST_HELD_PEAK", peak.to_str().unwrap()),
        ],
    )
    .await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["checked"], DOWN + 2, "{summary}");
    assert_eq!(
        summary["host_incidents"],
        serde_json::json!(["127.0.0.2"]),
        "{summary}"
    );
    let held: usize = std::fs::read_to_string(&peak).unwrap().parse().unwrap();
    // A batch, and the chunk of results (32 at most) that filled it.
    assert!(
        (1..BATCH + 32).contains(&held),
        "the writer held {held} failures in memory at once"
    );
    let sources = json(&g, &["sources", "--format", "json"]).await;
    let mut excused = 0;
    for s in sources.as_array().unwrap() {
        if s["url"].as_str().unwrap().contains("/down/") {
            assert_eq!(s["status"], "unchecked", "counted against: {s}");
            assert!(
                s["evidence"].as_str().unwrap().starts_with(&format!(
                    "host incident: {DOWN} of {DOWN} checks on 127.0.0.2"
                )),
                "{s}"
            );
            excused += 1;
        } else {
            assert_eq!(s["status"], "ok", "{s}");
        }
    }
    assert_eq!(excused, DOWN);
    let db = rusqlite::Connection::open(g.path("data/citewatch.db")).unwrap();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM held_checks"), 0);
    assert_eq!(count("SELECT count(*) FROM host_incidents"), 1);
    assert_eq!(
        count("SELECT count(DISTINCT source_id) FROM checks"),
        count("SELECT count(*) FROM checks"),
        "a source recorded twice"
    );
    assert_eq!(count("SELECT count(*) FROM checks"), (DOWN + 2) as i64);
}

/// A writer behind (held here by a debug gate; a slow disk in life) fills
/// its queue, and the run waits to hand it more. That wait blocked the
/// network thread: a fetch in flight was not polled again until the writer
/// caught up, after its timeout, and was recorded as a timeout though its
/// page had come long before. Now the wait pauses only the loop taking
/// results, and the fetches in flight go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(debug_assertions),
    ignore = "the binary takes its writer's test gate in debug builds only"
)]
async fn a_writer_falling_behind_does_not_time_out_the_fetches_in_flight() {
    use std::sync::atomic::Ordering::Relaxed;
    use std::time::{Duration, Instant};
    const GATED: &str = "/gated/ok/1";
    const PAGES: usize = 40;
    let web = TestWeb::start("127.0.0.1").await;
    web.state.gate_closed.store(true, Relaxed);
    let g = Ground::new();
    g.write_config(&IMMEDIATE.replace("retries = 0\n", "retries = 0\ntimeout = \"3s\"\n"));
    let paths: Vec<String> = [GATED.to_string()]
        .into_iter()
        .chain((1..=PAGES).map(|i| format!("/page/{i}")))
        .collect();
    g.brief("b.txt", briefing(&web, &paths));
    let gate = g.path("writer-gate");
    // One chunk of results waits for the writer at most: a few pages fill it.
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("citewatch"))
        .arg("--config")
        .arg(g.config())
        .args(["check", "--format", "json"])
        .env_remove("CITEWATCH_CONFIG")
        .env("CITEWATCH_TEST_WRITER_QUEUE", "1")
        .env("CITEWATCH_TEST_WRITER_GATE", &gate)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    // The gated page is asked for first, and waits; the others come back
    // to the writer, which takes one chunk and stops at its gate, the
    // queue fills, and the run waits to send the next.
    let pages_back = || {
        (1..=PAGES)
            .filter(|i| !web.hits_for("127.0.0.1", &format!("/page/{i}")).is_empty())
            .count()
    };
    // Until the run has stopped asking for more: it is waiting to send.
    let mut seen = (0, Instant::now());
    loop {
        let back = pages_back();
        if back != seen.0 {
            seen = (back, Instant::now());
        }
        let asked = !web.hits_for("127.0.0.1", GATED).is_empty();
        if asked && back >= 3 && seen.1.elapsed() > Duration::from_millis(500) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the run did not start its fetches"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(pages_back() < PAGES, "the writer's queue never filled");
    let asked = Instant::now();
    // The gated page answers at once, well within its timeout...
    web.state.gate_closed.store(false, Relaxed);
    // ...and the writer catches up only once that timeout has passed.
    tokio::time::sleep_until((asked + Duration::from_millis(4_500)).into()).await;
    std::fs::write(&gate, "").unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["checked"], PAGES + 1, "{summary}");
    let sources = json(&g, &["sources", "--format", "json"]).await;
    assert_eq!(
        status_of(&sources, GATED),
        "ok",
        "{}",
        source(&sources, GATED)
    );
    let db = rusqlite::Connection::open(g.path("data/citewatch.db")).unwrap();
    let timeouts: i64 = db
        .query_row(
            "SELECT count(*) FROM checks WHERE outcome LIKE '%timeout%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        timeouts, 0,
        "a fetch in flight timed out while the writer was behind"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_304_is_recorded_as_a_304_and_the_page_stays_as_it_was() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = citing(&web, &["/cached"]);
    json(&g, &["check", "--format", "json"]).await;
    json(&g, &["check", "--all", "--format", "json"]).await;
    let url = format!("http://127.0.0.1:{}/cached", web.port());
    let history = json(&g, &["history", &url, "--format", "json"]).await;
    let checks = history["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 2, "{history}");
    // What came: a 304; what it means: the 200 page as it was.
    assert_eq!(
        (&checks[1]["outcome"], &checks[1]["http_status"]),
        (&serde_json::json!("not_modified"), &serde_json::json!(304)),
        "{history}"
    );
    let status = json(&g, &["status", &url, "--format", "json"]).await;
    assert_eq!(
        (&status["status"], &status["http_status"]),
        (&serde_json::json!("ok"), &serde_json::json!(200)),
        "{status}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_bytes_reuse_the_stored_reading_instead_of_reading_again() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = citing(&web, &["/page/1"]);
    json(&g, &["check", "--format", "json"]).await;
    // Plant a sentinel in the stored reading (a bot challenge the page never
    // showed): only a reused reading can bring it back.
    let db = rusqlite::Connection::open(g.path("data/citewatch.db")).unwrap();
    let n = db
        .execute(
            "UPDATE captures SET reading = json_set(reading, '$.bot_challenge', json('true'))",
            [],
        )
        .unwrap();
    assert_eq!(n, 1);
    let page = format!("http://127.0.0.1:{}/page/1", web.port());
    // A second night, and a third through the capture that holds the reading.
    for _ in 0..2 {
        json(&g, &["check", "--all", "--format", "json"]).await;
        let status = json(&g, &["status", &page, "--format", "json"]).await;
        assert_eq!(status["status"], "blocked", "{status}");
        assert!(
            status["evidence"]
                .as_str()
                .unwrap()
                .contains("a bot challenge answered"),
            "{status}"
        );
    }
    // The later captures point at the first one's reading; none copies it.
    let rows: Vec<(i64, bool, Option<i64>)> = db
        .prepare("SELECT id, reading IS NOT NULL, reading_from FROM captures ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let first = rows[0].0;
    assert_eq!(
        rows,
        vec![
            (first, true, None),
            (rows[1].0, false, Some(first)),
            (rows[2].0, false, Some(first))
        ],
    );
}

/// The stored reading of a source's baseline capture.
fn baseline_reading(g: &Ground, url: &str) -> Value {
    let db = rusqlite::Connection::open(g.path("data/citewatch.db")).unwrap();
    let json: String = db
        .query_row(
            "SELECT c.reading FROM sources s JOIN captures c ON c.id = s.baseline_capture_id WHERE s.url = ?1",
            [url],
            |r| r.get(0),
        )
        .unwrap();
    serde_json::from_str(&json).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_night_glances_churn_is_settled_by_lines_and_a_rewrite_by_fingerprints() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = citing(&web, &["/article/churn", "/article/rewritten"]);
    let (churn, rewritten) = (
        web.url("127.0.0.1", "/article/churn"),
        web.url("127.0.0.1", "/article/rewritten"),
    );
    json(&g, &["check", "--format", "json"]).await;
    for url in [&churn, &rewritten] {
        let first = baseline_reading(&g, url);
        assert_eq!(first["lazy"], true, "{first}");
        assert!(
            first.get("fingerprint").is_none() && first.get("page_fingerprint").is_none(),
            "a first night only glances: {first}"
        );
        assert_eq!(
            first["lines"]["version"],
            citewatch::check::lines::LINES_VERSION,
            "the glance keeps the lines: {first}"
        );
    }

    json(&g, &["check", "--all", "--format", "json"]).await;
    let sources = json(&g, &["sources", "--format", "json"]).await;
    assert_eq!(status_of(&sources, "/article/churn"), "ok");
    assert_eq!(status_of(&sources, "/article/rewritten"), "changed");
    // Churn: the visible lines settled it; no fingerprint of either copy.
    let base = baseline_reading(&g, &churn);
    assert!(
        base.get("page_fingerprint").is_none() && base.get("fingerprint").is_none(),
        "{base}"
    );
    // A rewrite: decided on the main text, whose fingerprint the baseline now keeps.
    let base = baseline_reading(&g, &rewritten);
    assert_eq!(
        base["fingerprint"]["version"],
        citewatch::check::fingerprint::FINGERPRINT_VERSION,
        "{base}"
    );
    // `get` writes the latest copy, and of a rewritten page says where the
    // first one is; of churn, nothing.
    let got = run(&g, &["get", &rewritten]).await;
    let said = String::from_utf8_lossy(&got.stderr);
    assert!(
        said.contains("note: this is the latest copy; the page was rewritten since")
            && said.contains(&format!("`citewatch get {rewritten} --at ")),
        "{said}"
    );
    let got = run(&g, &["get", &churn]).await;
    let said = String::from_utf8_lossy(&got.stderr);
    assert!(got.status.success() && !said.contains("note:"), "{said}");
    let status = json(&g, &["status", &churn, "--format", "json"]).await;
    assert!(status["similarity"].as_f64().unwrap() >= 0.95, "{status}");
    let status = json(&g, &["status", &rewritten, "--format", "json"]).await;
    assert!(
        status["evidence"]
            .as_str()
            .unwrap()
            .contains("different from the copy archived"),
        "{status}"
    );
}

/// Readers' comments inside a short story's `<article>` grow between two
/// nights: the story is untouched and `ok`. It was `changed` while the
/// comments counted as the story's text. A story rewritten under growing
/// comments is `changed` still.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_story_whose_comments_grow_is_ok_and_one_rewritten_under_them_is_changed() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = citing(&web, &["/article/comments", "/article/comments-rewritten"]);
    json(&g, &["check", "--format", "json"]).await;
    json(&g, &["check", "--all", "--format", "json"]).await;
    let sources = json(&g, &["sources", "--format", "json"]).await;
    assert_eq!(status_of(&sources, "/article/comments"), "ok", "{sources}");
    assert_eq!(
        status_of(&sources, "/article/comments-rewritten"),
        "changed",
        "{sources}"
    );
    // The new comments were settled by the visible lines, which leave them
    // out: no fingerprint of the baseline was needed.
    let base = baseline_reading(&g, &web.url("127.0.0.1", "/article/comments"));
    assert!(
        base.get("fingerprint").is_none() && base.get("page_fingerprint").is_none(),
        "{base}"
    );
}

/// A store from before comments were left out of the main text holds
/// baselines fingerprinted with their comments, at fingerprint version 3.
/// Compared with a fingerprint of the story alone, such a baseline made the
/// page look rewritten; the version says it is to be fingerprinted again.
/// (The visible lines now leave comments out too and settle this page
/// before any fingerprint is asked for; the baseline here is a reading
/// from before lines were kept, which only its fingerprint can compare.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_baseline_fingerprinted_with_its_comments_by_an_older_version_is_read_again() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = citing(&web, &["/article/comments"]);
    let url = web.url("127.0.0.1", "/article/comments");
    json(&g, &["check", "--format", "json"]).await;
    // The fingerprint version 3 gave the cited copy: comments and all (the
    // glance now leaves out sections named as comments, so their names are
    // changed here for it to read them).
    let cited = common::web::comments_load(1, false).replace("comment", "remark");
    let old = citewatch::check::page::glance_page(cited.as_bytes(), Some("text/html"));
    assert!(old.main_text.contains("reader1"), "{}", old.main_text);
    let mut fingerprint = citewatch::check::fingerprint::fingerprint(&old.main_text);
    fingerprint.version = 3;
    let mut reading = baseline_reading(&g, &url);
    reading["fingerprint"] = serde_json::to_value(&fingerprint).unwrap();
    reading["lazy"] = serde_json::Value::Bool(false);
    reading.as_object_mut().unwrap().remove("lines");
    let db = rusqlite::Connection::open(g.path("data/citewatch.db")).unwrap();
    db.execute(
        "UPDATE captures SET reading = ?1 WHERE id = \
         (SELECT baseline_capture_id FROM sources WHERE url = ?2)",
        (reading.to_string(), &url),
    )
    .unwrap();
    drop(db);
    json(&g, &["check", "--all", "--format", "json"]).await;
    let sources = json(&g, &["sources", "--format", "json"]).await;
    assert_eq!(status_of(&sources, "/article/comments"), "ok", "{sources}");
    let base = baseline_reading(&g, &url);
    assert_eq!(
        base["fingerprint"]["version"],
        citewatch::check::fingerprint::FINGERPRINT_VERSION,
        "{base}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_copy_of_a_churning_page_is_kept_as_a_small_delta_and_read_back_exactly() {
    use sha2::{Digest, Sha256};
    let web = TestWeb::start("127.0.0.1").await;
    let g = citing(&web, &["/article/churn"]);
    let url = web.url("127.0.0.1", "/article/churn");
    json(&g, &["check", "--format", "json"]).await;
    json(&g, &["check", "--all", "--format", "json"]).await;

    let db = rusqlite::Connection::open(g.path("data/citewatch.db")).unwrap();
    let copies: Vec<(String, i64, i64)> = db
        .prepare(
            "SELECT c.body_sha256, c.body_size, b.stored_size
               FROM captures c JOIN blobs b ON b.sha256 = c.body_sha256 ORDER BY c.id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(copies.len(), 2, "{copies:?}");
    let (cited, churned) = (&copies[0], &copies[1]);
    assert_ne!(cited.0, churned.0, "the page churned");
    assert!(
        churned.2 * 3 < cited.2,
        "the new copy is stored as its difference: {copies:?}"
    );
    // The latest copy, read back through its base; verify reads both.
    let got = run(&g, &["get", &url]).await;
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert_eq!(hex::encode(Sha256::digest(&got.stdout)), churned.0);
    assert_eq!(got.stdout.len() as i64, churned.1);
    // A WARC export carries the whole page, not the delta.
    let warc = g.path("night.warc.gz");
    let export = json(
        &g,
        &[
            "export-warc",
            "-o",
            warc.to_str().unwrap(),
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(export["captures"], 2, "{export}");
    let mut records = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(&warc).unwrap()),
        &mut records,
    )
    .unwrap();
    assert!(
        records.windows(got.stdout.len()).any(|w| w == got.stdout),
        "the churned copy's bytes are in the WARC"
    );
    let v = json(&g, &["verify", "--format", "json"]).await;
    assert_eq!(v["problems"].as_array().unwrap().len(), 0, "{v}");
    assert_eq!(v["blobs_checked"], 2, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_time_budget_ends_a_run_cleanly_and_the_next_run_goes_on() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = Ground::new();
    g.write_config(&format!(
        "{ONE_AT_A_TIME}[check]\nmax_duration = \"1500ms\"\n"
    ));
    // The budget counts the sync too, which on a loaded machine took all of
    // a 300 ms one: pages of 300 ms under a budget of 1.5 s leave room for
    // the sync and still end the run after a few.
    let paths: Vec<String> = (0..20).map(|i| format!("/slower/ok/{i}")).collect();
    g.brief("b.txt", briefing(&web, &paths));
    let first = json(&g, &["check", "--format", "json"]).await;
    assert_eq!(first["stopped_by_time_budget"], true, "{first}");
    let done = first["checked"].as_u64().unwrap();
    assert!(done > 0 && done < 20, "{first}");
    // 0s lifts the configured budget, as "0s" in the file means no budget.
    let second = json(&g, &["check", "--max-duration", "0s", "--format", "json"]).await;
    assert_eq!(second["stopped_by_time_budget"], false, "{second}");
    assert_eq!(second["checked"].as_u64().unwrap() + done, 20, "{second}");
    let third = json(
        &g,
        &[
            "check",
            "--all",
            "--max-duration",
            "1500ms",
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(third["stopped_by_time_budget"], true, "{third}");
    let bad = run(&g, &["check", "--max-duration", "soon"]).await;
    assert_eq!(bad.status.code(), Some(2));
}

/// The budget bounds fetches already taken too: a paced host's queue and a
/// server that answers a byte a second would otherwise hold the run for
/// minutes past it (the run took 28 s on a 3 s budget before).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_time_budget_ends_fetches_waiting_on_a_paced_host_or_a_slow_server() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = Ground::new();
    // One request every 10 s to the host; every source is taken at once.
    g.write_config(
        "[briefings]\npaths = [\"../briefings\"]\n[store]\ndir = \"../data\"\n\
         [fetch]\nrespect_robots = false\nrequests_per_second = 0.1\nretries = 0\n\
         timeout = \"120s\"\nallow_networks = [\"127.0.0.1/32\"]\n[check]\nmax_duration = \"1s\"\n",
    );
    let paths = ["/trickle", "/page/1", "/page/2", "/page/3", "/page/4"];
    g.brief("b.txt", briefing(&web, &paths));
    let started = std::time::Instant::now();
    let first = json(&g, &["check", "--format", "json"]).await;
    let took = started.elapsed();
    // Unbounded, the four queued requests alone take 40 s, and /trickle 120 s.
    assert!(
        took < std::time::Duration::from_secs(25),
        "took {took:?}: {first}"
    );
    assert_eq!(first["stopped_by_time_budget"], true, "{first}");
    assert_eq!(first["stopped_on_request"], false, "{first}");
    assert_eq!(first["partial"], false, "{first}");
    let checked = first["checked"].as_u64().unwrap();
    let abandoned = first["abandoned_on_stop"].as_u64().unwrap();
    assert!(abandoned >= 1, "{first}");
    assert!(checked + abandoned <= 5, "{first}");
    // What was given up is unrecorded and waits for the next night.
    let unchecked = first["sources_by_status"]["unchecked"].as_u64().unwrap();
    assert_eq!(unchecked, 5 - checked, "{first}");
    let url = web.url("127.0.0.1", "/trickle");
    let trickle = json(&g, &["status", &url, "--format", "json"]).await;
    assert_eq!(trickle["status"], "unchecked", "{trickle}");
}

/// A paced host's jobs, waiting for their turn at it, filled the run's
/// whole window of jobs in flight: the other hosts got nothing until the
/// paced one was nearly done (an audit saw a fast host idle from 0.2 s to
/// 20 s of a 28 s run). A host holds only its share of the window, so the
/// fast host is done while the paced one has had a request or two. Judged by
/// the order of the requests the servers saw, not by how long anything took.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paced_host_does_not_keep_the_other_hosts_waiting() {
    // Two hosts: the pacer tells hosts apart by name, not by port.
    let fast = TestWeb::start("127.0.0.1").await;
    let paced = TestWeb::start("127.0.0.3").await;
    let g = Ground::new();
    g.write_config(
        "[briefings]\npaths = [\"../briefings\"]\n[store]\ndir = \"../data\"\n\
         [fetch]\nrespect_robots = false\nrequests_per_second = 0.0\nretries = 0\n\
         concurrency = 2\nallow_networks = [\"127.0.0.1/32\", \"127.0.0.3/32\"]\n\
         [fetch.hosts.\"127.0.0.3\"]\nrequests_per_second = 2.0\n",
    );
    let mut doc = String::from("Briefings - test page\n\n");
    let urls = (0..8)
        .map(|i| paced.url("127.0.0.3", &format!("/page/{i}")))
        .chain((0..24).map(|i| fast.url("127.0.0.1", &format!("/page/{i}"))));
    for (i, url) in urls.enumerate() {
        doc.push_str(&format!(
            "Outlet {i}: Headline {i}\n\nA body paragraph for item {i} that is long enough.\n\n\
             Source: Outlet {i}, December 1, 2020\n{url}\n\n"
        ));
    }
    g.brief("b.txt", doc);
    let summary = json(&g, &["check", "--format", "json"]).await;
    assert_eq!(summary["checked"], 32, "{summary}");
    let pages = |web: &TestWeb| -> Vec<std::time::Instant> {
        let mut at: Vec<_> = web
            .hits()
            .into_iter()
            // Not the probes of the host (a sibling that cannot exist).
            .filter(|h| {
                h.path
                    .strip_prefix("/page/")
                    .is_some_and(|n| n.len() <= 2 && n.bytes().all(|b| b.is_ascii_digit()))
            })
            .map(|h| h.at)
            .collect();
        at.sort();
        at
    };
    let (fast_pages, paced_pages) = (pages(&fast), pages(&paced));
    assert_eq!(fast_pages.len(), 24);
    assert_eq!(paced_pages.len(), 8);
    let fast_done = *fast_pages.last().unwrap();
    // Half a second a request, and the host's first page brings two probes
    // of the host: its second page comes 1.5 s after its first, time for the
    // fast host's 24 on a slow machine. Holding the whole window, the paced
    // host had five pages fetched before the fast host's last.
    let paced_before = paced_pages.iter().filter(|&&t| t < fast_done).count();
    assert!(
        paced_before <= 2,
        "the fast host's last page came after {paced_before} of the paced host's 8"
    );
}

/// A robots.txt answering 500 made every source on the host `blocked`,
/// "robots.txt disallows fetching it", a confirmed dead page included, which
/// so left the broken report. It is the host failing for now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_robots_txt_is_the_hosts_failure_not_its_policy() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = Ground::new();
    g.write_config(&IMMEDIATE.replace("respect_robots = false", "respect_robots = true"));
    g.brief("b.txt", briefing(&web, &["/gone", "/page/1"]));
    json(&g, &["check", "--format", "json"]).await;
    let first = json(&g, &["sources", "--format", "json"]).await;
    assert_eq!(status_of(&first, "/gone"), "dead", "{first}");
    assert_eq!(status_of(&first, "/page/1"), "ok", "{first}");
    web.set_robots("127.0.0.1", "!500");
    json(&g, &["check", "--all", "--format", "json"]).await;
    let second = json(&g, &["sources", "--format", "json"]).await;
    // The dead page stays dead, as through any network failure.
    assert_eq!(status_of(&second, "/gone"), "dead", "{second}");
    let page = source(&second, "/page/1");
    assert_ne!(page["status"], "blocked", "{second}");
    assert_eq!(page["error"]["kind"], "robots_unavailable", "{second}");
    let evidence = page["evidence"].as_str().unwrap();
    assert!(
        evidence.contains("robots.txt answered HTTP 500") && !evidence.contains("disallows"),
        "{evidence}"
    );
    // Nothing but robots.txt was asked of the host.
    assert!(
        web.hits_for("127.0.0.1", "/page/1").len() == 1,
        "{:?}",
        web.hits()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_night_packs_its_archive_and_verify_checks_every_packed_blob() {
    use sha2::{Digest, Sha256};
    let web = TestWeb::start("127.0.0.1").await;
    let paths = ["/page/1", "/page/2", "/page/3", "/page/4"];
    let g = citing(&web, &paths);
    json(&g, &["check", "--format", "json"]).await;

    // No file per body: the bodies went into a pack, found through its index.
    let blobs = g.path("data/blobs");
    let loose: Vec<_> = walkdir::WalkDir::new(&blobs)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.file_name().len() == 64)
        .collect();
    assert!(loose.is_empty(), "loose blobs: {loose:?}");
    let packs: Vec<_> = std::fs::read_dir(blobs.join("packs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "cwpack"))
        .collect();
    assert_eq!(packs.len(), 1, "{packs:?}");

    let v = json(&g, &["verify", "--format", "json"]).await;
    assert_eq!(v["problems"].as_array().unwrap().len(), 0, "{v}");
    assert_eq!(v["blobs_checked"], paths.len(), "{v}");
    assert_eq!(v["unreferenced_blobs"].as_array().unwrap().len(), 0, "{v}");
    assert_eq!(v["unindexed_pack_bytes"], serde_json::json!([]), "{v}");
    // Bytes a dead writer appended but never indexed are space, not damage:
    // verify counts them and stays clean.
    let len = std::fs::metadata(&packs[0]).unwrap().len();
    let mut pack = std::fs::OpenOptions::new()
        .append(true)
        .open(&packs[0])
        .unwrap();
    std::io::Write::write_all(&mut pack, &[7u8; 100]).unwrap();
    let out = run(&g, &["verify", "--format", "json"]).await;
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let name = packs[0].file_name().unwrap().to_str().unwrap();
    assert_eq!(
        v["unindexed_pack_bytes"],
        serde_json::json!([{ "pack": name, "bytes": 100 }]),
        "{v}"
    );
    let text = String::from_utf8(run(&g, &["verify"]).await.stdout).unwrap();
    assert!(
        text.contains("100 bytes in 1 pack file are named"),
        "{text}"
    );
    pack.set_len(len).unwrap();
    let db = rusqlite::Connection::open(g.path("data/citewatch.db")).unwrap();
    for p in paths {
        let url = format!("http://127.0.0.1:{}{p}", web.port());
        let got = run(&g, &["get", &url]).await;
        assert!(
            got.status.success(),
            "{}",
            String::from_utf8_lossy(&got.stderr)
        );
        let recorded: String = db
            .query_row(
                "SELECT c.body_sha256 FROM captures c JOIN sources s ON s.id = c.source_id WHERE s.url = ?1",
                [&url],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(hex::encode(Sha256::digest(&got.stdout)), recorded, "{p}");
    }

    // Damage one byte in the middle of the pack: verify names a corrupt blob.
    let mut bytes = std::fs::read(&packs[0]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x20;
    std::fs::write(&packs[0], bytes).unwrap();
    let out = run(&g, &["verify", "--format", "json"]).await;
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = v["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{v}");
    assert_eq!(problems[0]["kind"], "corrupt_blob", "{v}");

    // A lost pack file is named by its file, not its folder.
    let aside = packs[0].with_extension("aside");
    std::fs::rename(&packs[0], &aside).unwrap();
    let text = String::from_utf8(run(&g, &["verify"]).await.stdout).unwrap();
    let file = packs[0].file_name().unwrap().to_str().unwrap();
    assert!(
        text.contains(&format!("{file}: No such file or directory")),
        "{text}"
    );
    std::fs::rename(&aside, &packs[0]).unwrap();
    // A lost pack index: the packs hold the blobs, and must not be called
    // harmless leftovers.
    std::fs::remove_file(packs[0].with_file_name("index.db")).unwrap();
    let text = String::from_utf8(run(&g, &["verify"]).await.stdout).unwrap();
    assert!(text.contains("PROBLEM missing_blob"), "{text}");
    assert!(
        text.contains("the missing blobs may be among them")
            && !text.contains("space only, harmless"),
        "{text}"
    );
}

/// The binary allocates through jemalloc with the decay settings `main.rs`
/// gives it. If the symbol jemalloc reads them from were misnamed (a prefix
/// change in an upgrade, say), nothing would fail, but a night would keep
/// freed pages resident and peak memory would grow; this catches it.
#[test]
fn the_binary_runs_on_jemalloc_with_its_decay_settings() {
    let out = assert_cmd::Command::cargo_bin("citewatch")
        .unwrap()
        .env("_RJEM_MALLOC_CONF", "stats_print:true")
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stats = String::from_utf8_lossy(&out.stderr);
    for option in ["opt.dirty_decay_ms: 500", "opt.muzzy_decay_ms: 0"] {
        assert!(
            stats.contains(option),
            "jemalloc's statistics lack {option:?}:\n{stats}"
        );
    }
}

/// A parser that panics on one page, or a bug of ours while judging one
/// source, costs only that source: the run goes on, exits 0 and records the
/// rest. An unread page keeps its capture and says why it went unread; an
/// unjudged source is left as it was, so the next run checks it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(debug_assertions),
    ignore = "the binary takes CITEWATCH_TEST_PANIC in debug builds only"
)]
async fn a_panic_while_judging_one_source_costs_only_that_source() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = citing(&web, &["/page/1", "/page/2", "/page/3"]);
    let night = |panic: Option<&str>, args: &[&str]| {
        let mut cmd = g.cmd(args);
        if let Some(p) = panic {
            cmd.env("CITEWATCH_TEST_PANIC", p);
        }
        async move {
            tokio::task::spawn_blocking(move || cmd.output().unwrap())
                .await
                .unwrap()
        }
    };
    let status = |g: &Ground| {
        let url = format!("http://127.0.0.1:{}/page/3", web.port());
        g.json(&["status", &url, "--format", "json"])
    };

    // Judging /page/3 panics after its fetch: not recorded, still unchecked.
    let out = night(Some("judging:/page/3"), &["check", "--format", "json"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (summary["due"].as_u64(), summary["checked"].as_u64()),
        (Some(3), Some(2))
    );
    assert!(
        stderr.contains("/page/3") && stderr.contains("not recorded"),
        "{stderr}"
    );
    // The panic is described as citewatch's bug, not in Rust's words.
    assert!(
        stderr.contains("citewatch: internal error (a bug in citewatch, not in your input): injected for a test: judging"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked at"), "{stderr}");
    let sources = json(&g, &["sources", "--format", "json"]).await;
    assert_eq!(status_of(&sources, "/page/1"), "ok");
    assert_eq!(status_of(&sources, "/page/2"), "ok");
    assert_eq!(status_of(&sources, "/page/3"), "unchecked");

    // The next night it is due; reading it panics: recorded, capture kept.
    let out = night(Some("reading:/page/3"), &["check", "--format", "json"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["checked"], 1, "{summary}");
    let s = status(&g);
    assert_eq!(s["status"], "ok", "{s}");
    assert_eq!(s["http_status"], 200, "{s}");
    let evidence = s["evidence"].as_str().unwrap();
    assert!(
        evidence.contains("the page could not be read: injected for a test"),
        "{s}"
    );
    assert!(
        s["error"]["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("the page could not be read")),
        "{s}"
    );
    let get = g
        .cmd(&["get", &format!("http://127.0.0.1:{}/page/3", web.port())])
        .output()
        .unwrap();
    assert!(
        get.status.success() && !get.stdout.is_empty(),
        "the capture was kept"
    );

    // Without the fault the page is read and the failure is gone.
    let out = night(None, &["check", "--all", "--format", "json"]).await;
    assert!(out.status.success());
    let s = status(&g);
    assert_eq!(s["status"], "ok", "{s}");
    assert!(
        !s["evidence"]
            .as_str()
            .unwrap()
            .contains("could not be read"),
        "{s}"
    );
    assert_eq!(s["error"], Value::Null, "{s}");
    assert_eq!(run(&g, &["verify"]).await.status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(debug_assertions),
    ignore = "the binary takes CITEWATCH_TEST_PANIC in debug builds only"
)]
async fn a_panic_in_the_writer_or_the_network_thread_fails_the_run_with_exit_3() {
    let web = TestWeb::start("127.0.0.1").await;
    // The writer's panic becomes the run's error; the network thread's
    // unwinds to main, which the hook has already told.
    for (stage, says) in [
        (
            "writing",
            "citewatch: the run's writer thread failed on a bug",
        ),
        ("recording", "injected for a test: recording"),
    ] {
        let g = citing(&web, &["/page/1", "/page/2", "/page/3"]);
        let mut cmd = g.cmd(&["check", "--format", "json"]);
        cmd.env("CITEWATCH_TEST_PANIC", format!("{stage}:/page/2"));
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{stage}: {stderr}");
        assert!(
            out.stdout.is_empty(),
            "{stage}: no summary for a failed run"
        );
        assert!(
            stderr.contains(&format!(
                "citewatch: internal error (a bug in citewatch, not in your input): \
                 injected for a test: {stage}"
            )),
            "{stderr}"
        );
        assert!(stderr.contains(says), "{stage}: {stderr}");
        assert!(!stderr.contains("panicked at"), "{stderr}");
        if stage == "writing" {
            // A run that ends on an error says so in the store, for whoever
            // started it and was not watching its stderr (a timer, the API).
            let db = rusqlite::Connection::open(g.path("data/citewatch.db")).unwrap();
            let (state, finished, summary): (String, Option<i64>, String) = db
                .query_row(
                    "SELECT state, finished_at, summary FROM runs ORDER BY id DESC",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .unwrap();
            assert_eq!(state, "interrupted");
            assert!(finished.is_some());
            let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
            assert!(
                summary["error"]
                    .as_str()
                    .unwrap()
                    .contains("the run's writer thread failed on a bug"),
                "{summary}"
            );
        }
        // The store is consistent, the lock free, and the next run checks
        // what the failed one did not record.
        assert_eq!(run(&g, &["verify"]).await.status.code(), Some(0), "{stage}");
        json(&g, &["check", "--format", "json"]).await;
        let sources = json(&g, &["sources", "--format", "json"]).await;
        for page in ["/page/1", "/page/2", "/page/3"] {
            assert_eq!(status_of(&sources, page), "ok", "{stage}: {page}");
        }
    }
}

/// A file where the data folder's parent should be is the configuration's
/// mistake (exit 2, said before any run starts), not a held lock (exit 4).
/// It was exit 3, "cannot create the data folder", until the configuration
/// looked; the run lock's own refusal is pinned in `check::lock`.
#[test]
fn a_data_folder_that_cannot_be_made_is_named_exit_2_not_a_held_lock() {
    let g = Ground::new();
    std::fs::write(g.path("a-file"), "not a folder").unwrap();
    g.write_config("[briefings]\npaths = [\"../briefings\"]\n[store]\ndir = \"../a-file/data\"\n");
    g.brief("b.txt", "Briefings\n");
    let out = g.cmd(&["check"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("key `store.dir`: ")
            && err.contains("a-file/data cannot be made: ")
            && err.contains("a-file is a file, not a folder"),
        "{err}"
    );
}

/// `check --all --format json` as a child process, for a test to signal.
fn spawn_check_all(g: &Ground) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("citewatch"))
        .arg("--config")
        .arg(g.config())
        .args(["check", "--all", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_a_run_as_its_budget_would_and_a_second_stops_at_once() {
    use std::time::{Duration, Instant};
    let web = TestWeb::start("127.0.0.1").await;
    let g = Ground::new();
    g.write_config(ONE_AT_A_TIME);
    // Slow enough that the second signal finds the first's fetch still going.
    let paths: Vec<String> = (0..200).map(|i| format!("/slower/ok/{i}")).collect();
    g.brief("b.txt", briefing(&web, &paths));
    let db = g.path("data/citewatch.db");
    let checks = |db: &std::path::Path| -> i64 {
        rusqlite::Connection::open(db)
            .and_then(|c| c.query_row("SELECT count(*) FROM checks", [], |r| r.get(0)))
            .unwrap_or(0)
    };
    // Once as soon as the run holds its lock (before its sync is done, or
    // while it reads the due list), once mid-run, then twice mid-run.
    for (early, signals) in [(true, 1), (false, 1), (false, 2)] {
        let child = spawn_check_all(&g);
        let before = checks(&db);
        let deadline = Instant::now() + Duration::from_secs(30);
        let holder = format!("pid {} ", child.id());
        let lock = g.path("data/check.lock");
        while !std::fs::read_to_string(&lock).is_ok_and(|l| l.starts_with(&holder))
            || (!early && checks(&db) < before + 3)
        {
            assert!(Instant::now() < deadline, "the run did not get going");
            tokio::time::sleep(Duration::from_millis(if early { 1 } else { 20 })).await;
        }
        for _ in 0..signals {
            // SAFETY: signalling our own child by its pid.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
            .await
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("citewatch: stopping: finishing the fetches in flight"),
            "{err}"
        );
        if signals == 1 {
            assert_eq!(out.status.code(), Some(0), "{err}");
            let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(summary["stopped_on_request"], true, "{summary}");
            // Stopped before every due source was checked: partial, so it is
            // not the "last night" of `report --new` nor of the metrics.
            assert_eq!(summary["partial"], true, "{summary}");
            let checked = summary["checked"].as_i64().unwrap();
            assert!(checked < 200 && (early || checked > 0), "{summary}");
            assert_eq!(checks(&db) - before, checked, "every check recorded once");
        } else {
            assert_eq!(out.status.code(), Some(128 + libc::SIGTERM), "{err}");
            assert!(err.contains("citewatch: stopped at once"), "{err}");
        }
    }
    assert_eq!(run(&g, &["verify"]).await.status.code(), Some(0));
    let runs = rusqlite::Connection::open(&db)
        .unwrap()
        .prepare("SELECT state FROM runs ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    // Stopped on request, a run is completed; stopped at once, it is left
    // running, as a kill leaves it, until the next start marks it interrupted.
    assert_eq!(runs, ["completed", "completed", "running"], "{runs:?}");
}

/// The sync runs without a pause of the run's runtime: the signals are read
/// on a thread of their own, so a second one stops a long sync at once
/// instead of waiting, coalesced with the first, for the sync to end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_during_a_long_sync_stops_at_once() {
    use std::time::{Duration, Instant};
    let web = TestWeb::start("127.0.0.1").await;
    let g = Ground::new();
    g.write_config(ONE_AT_A_TIME);
    // Enough documents that the sync lasts well past two signals.
    for d in 0..500 {
        let paths: Vec<String> = (0..8).map(|i| format!("/page/{d}-{i}")).collect();
        g.brief(&format!("{d}.txt"), briefing(&web, &paths));
    }
    let child = spawn_check_all(&g);
    let deadline = Instant::now() + Duration::from_secs(60);
    let holder = format!("pid {} ", child.id());
    let lock = g.path("data/check.lock");
    while !std::fs::read_to_string(&lock).is_ok_and(|l| l.starts_with(&holder)) {
        assert!(Instant::now() < deadline, "the run did not take its lock");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    for _ in 0..2 {
        // SAFETY: signalling our own child by its pid.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(128 + libc::SIGTERM), "{err}");
    assert!(err.contains("citewatch: stopped at once"), "{err}");
    assert!(out.stdout.is_empty(), "no summary of a run stopped at once");
    assert!(web.hits().is_empty(), "nothing fetched");
    // Whatever part of the sync was done, the next sync takes it from there
    // and the store is whole.
    let sync = run(&g, &["sync"]).await;
    assert_eq!(
        sync.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&sync.stderr)
    );
    let verify = run(&g, &["verify"]).await;
    let err = String::from_utf8_lossy(&verify.stderr);
    assert_eq!(verify.status.code(), Some(0), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_waiting_out_a_retry_after_is_given_up_soon_after_a_stop() {
    use std::time::{Duration, Instant};
    let web = TestWeb::start("127.0.0.1").await;
    let g = Ground::new();
    g.write_config(
        "[briefings]\npaths = [\"../briefings\"]\n[store]\ndir = \"../data\"\n\
         [fetch]\nrespect_robots = false\nrequests_per_second = 0.0\nretries = 1\n\
         allow_networks = [\"127.0.0.1/32\"]\n",
    );
    // One source: a 429 makes the whole host wait, so a second page there
    // would be given up too or not, as the fetch order falls.
    g.brief("b.txt", briefing(&web, &["/ratelimited-minute"]));
    let child = spawn_check_all(&g);
    // Once the server has asked it to wait a minute…
    let deadline = Instant::now() + Duration::from_secs(30);
    while web.hits_for("127.0.0.1", "/ratelimited-minute").is_empty() {
        assert!(Instant::now() < deadline, "the run did not get going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let asked = Instant::now();
    // SAFETY: signalling our own child by its pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    // …the run ends after its grace, not after the minute.
    let took = asked.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(took < Duration::from_secs(45), "{took:?}: {err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["stopped_on_request"], true, "{summary}");
    assert_eq!(summary["abandoned_on_stop"], 1, "{summary}");
    assert_eq!(summary["checked"], 0, "{summary}");
    // Given up, unrecorded: still due for the next run.
    let sources = json(&g, &["sources", "--format", "json"]).await;
    assert_eq!(status_of(&sources, "/ratelimited-minute"), "unchecked");
    assert_eq!(run(&g, &["verify"]).await.status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stopping_ends_its_api_run_cleanly_instead_of_abandoning_it() {
    use std::time::{Duration, Instant};
    let web = TestWeb::start("127.0.0.1").await;
    let g = Ground::new();
    g.write_config(&format!("{ONE_AT_A_TIME}[serve]\nadmin_token = \"t\"\n"));
    let paths: Vec<String> = (0..200).map(|i| format!("/slow/ok/{i}")).collect();
    g.brief("b.txt", briefing(&web, &paths));
    json(&g, &["sync", "--format", "json"]).await;
    let (child, base) = g.serve();
    let r = reqwest::Client::new()
        .post(format!("{base}api/check"))
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let started: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    let id = started["run_id"].as_i64().unwrap();
    let db = g.path("data/citewatch.db");
    let checks = || -> i64 {
        rusqlite::Connection::open(&db)
            .and_then(|c| c.query_row("SELECT count(*) FROM checks", [], |r| r.get(0)))
            .unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while checks() < 3 {
        assert!(Instant::now() < deadline, "the run checked nothing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // SAFETY: signalling our own child by its pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("the check run stopped"), "{log}");
    let (state, summary): (String, String) = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT state, summary FROM runs WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(state, "completed");
    let summary: Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["stopped_on_request"], true, "{summary}");
    let checked = summary["checked"].as_i64().unwrap();
    assert!(checked > 0 && checked < 200, "{summary}");
    assert_eq!(checks(), checked, "every check recorded once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_hop_that_only_adds_a_slash_is_no_move() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = citing(&web, &["/respelled", "/chain/1"]);
    json(&g, &["check", "--format", "json"]).await;
    let sources = json(&g, &["sources", "--format", "json"]).await;
    // 301 to `/respelled/`, then 302 to `/respelled/today`: not moved.
    assert_eq!(status_of(&sources, "/respelled"), "ok", "{sources}");
    // 301s to other addresses: moved.
    assert_eq!(status_of(&sources, "/chain/1"), "moved", "{sources}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_front_page_served_at_a_deep_link_is_found_on_the_first_night() {
    let web = TestWeb::start("127.0.0.1").await;
    let front = "/news/2020/12/27/front.htm";
    let g = citing(&web, &[front, "/article/rewritten", "/"]);
    json(&g, &["check", "--format", "json"]).await;
    let sources = json(&g, &["sources", "--format", "json"]).await;
    assert_eq!(status_of(&sources, front), "soft_404", "{sources}");
    let why = json(
        &g,
        &["status", &web.url("127.0.0.1", front), "--format", "json"],
    )
    .await;
    assert_eq!(
        why["evidence"], "the page is the site's front page, not the page cited",
        "{why}"
    );
    // Never taken for the copy cited.
    assert!(why["baseline_capture_id"].is_null(), "{why}");
    // The article beside it, and the front page cited as such, are fine.
    assert_eq!(status_of(&sources, "/article/rewritten"), "ok", "{sources}");
    let home = sources
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["url"]
                .as_str()
                .unwrap()
                .ends_with(&format!("{}/", web.port()))
        })
        .unwrap();
    assert_eq!(home["status"], "ok", "{sources}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_port_of_a_host_is_its_own_site_for_the_probe_and_front_page() {
    // Two servers on one address: what one answers for a made-up path or its
    // front page says nothing of the other's.
    let (a, b) = (
        TestWeb::start("127.0.0.1").await,
        TestWeb::start("127.0.0.1").await,
    );
    let g = Ground::new();
    g.write_config(IMMEDIATE);
    g.brief("a.txt", briefing(&a, &["/article/rewritten"]));
    g.brief("b.txt", briefing(&b, &["/article/rewritten"]));
    json(&g, &["check", "--format", "json"]).await;
    for (name, web) in [("first", &a), ("second", &b)] {
        let hits = web.hits();
        assert!(
            hits.iter().any(|h| h.path == "/"),
            "the {name} server's front page was not asked for: {:?}",
            hits.iter().map(|h| &h.path).collect::<Vec<_>>()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_cited_the_archive_cannot_give_back_is_named_not_taken_as_unchanged() {
    let web = TestWeb::start("127.0.0.1").await;
    let rewritten = "/article/rewritten";
    let g = citing(&web, &[rewritten]);
    json(&g, &["check", "--format", "json"]).await;
    // Every packed copy damaged: same length, other bytes.
    let packs = g.path("data/blobs/packs");
    for entry in std::fs::read_dir(&packs).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "cwpack") {
            let len = std::fs::metadata(&path).unwrap().len() as usize;
            std::fs::write(&path, vec![0u8; len]).unwrap();
        }
    }
    // The page is rewritten by now, and its copy cited cannot be read back.
    let summary = json(&g, &["check", "--all", "--format", "json"]).await;
    assert_eq!(summary["not_compared"], 1, "{summary}");
    let url = web.url("127.0.0.1", rewritten);
    let status = json(&g, &["status", &url, "--format", "json"]).await;
    let evidence = status["evidence"].as_str().unwrap();
    assert!(
        evidence.contains("not compared with the copy cited") && evidence.contains("verify"),
        "{status}"
    );
    assert!(status["similarity"].is_null(), "{status}");
    // People reading the text summary are told too.
    let out = run(&g, &["check", "--all"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("1 page could not be compared with the copy cited"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_asked_for_during_the_sync_starts_no_fetch() {
    let web = TestWeb::start("127.0.0.1").await;
    let paths: Vec<String> = (0..20).map(|i| format!("/page/{i}")).collect();
    let g = citing(&web, &paths);
    // The run's own SIGTERM once its sync is done (debug builds only).
    let out = run_with(
        &g,
        &["check", "--format", "json"],
        &[("CITEWATCH_TEST_SIGTERM_AFTER_SYNC", "1")],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["checked"], 0, "{summary}\n{stderr}");
    assert_eq!(summary["stopped_on_request"], true, "{summary}");
    assert_eq!(
        summary["sync"]["total_citations"], 20,
        "the sync itself is kept"
    );
    let sources = json(&g, &["sources", "--format", "json"]).await;
    assert!(
        sources
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "unchecked"),
        "{sources}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn articles_sent_to_one_page_are_removed_not_moved() {
    let web = TestWeb::start("127.0.0.1").await;
    let retired = ["/retired/1", "/retired/2", "/retired/3"];
    let mut cited = retired.to_vec();
    cited.extend(["/chain/1", "/mobile/c_77.htm", "/desktop/c_77.htm"]);
    let g = citing(&web, &cited);
    let statuses = |sources: &Value| -> Vec<String> {
        retired.iter().map(|p| status_of(sources, p)).collect()
    };
    // The first night, with no copy cited to compare: two others are
    // enough, and those that landed there first are judged again once the
    // others are in.
    json(&g, &["check", "--format", "json"]).await;
    let sources = json(&g, &["sources", "--format", "json"]).await;
    assert_eq!(statuses(&sources), ["soft_404"; 3], "{sources}");
    // The next night knows the landing from the store.
    json(&g, &["check", "--all", "--format", "json"]).await;
    let sources = json(&g, &["sources", "--format", "json"]).await;
    assert_eq!(statuses(&sources), ["soft_404"; 3], "{sources}");
    let why = json(
        &g,
        &[
            "status",
            &web.url("127.0.0.1", "/retired/2"),
            "--format",
            "json",
        ],
    )
    .await;
    let evidence = why["evidence"].as_str().unwrap();
    assert!(
        evidence.starts_with("redirects to http://127.0.0.1:")
            && evidence.ends_with("/topics/latest.html, where 2 other cited pages land too"),
        "{evidence}"
    );
    // A real move, and two addresses of one article moving to one place.
    for path in ["/chain/1", "/mobile/c_77.htm", "/desktop/c_77.htm"] {
        assert_eq!(status_of(&sources, path), "moved", "{path}: {sources}");
    }
}

/// The archived copy of each citation in a JSON report, by URL path.
fn archived_copies(report: &Value) -> std::collections::BTreeMap<String, Value> {
    let mut archived = std::collections::BTreeMap::new();
    for section in report["sections"].as_array().unwrap() {
        for doc in section["documents"].as_array().unwrap() {
            for b in doc["briefings"].as_array().unwrap() {
                for c in b["citations"].as_array().unwrap() {
                    let url = c["url"].as_str().unwrap();
                    let path = url.splitn(4, '/').nth(3).unwrap_or("");
                    archived.insert(format!("/{path}"), c["archived"].clone());
                }
            }
        }
    }
    archived
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_landing_taken_for_the_copy_cited_is_disowned_once_others_land_there() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = Ground::new();
    g.write_config(IMMEDIATE);
    let first = web.url("127.0.0.1", "/retired/1");
    // Alone, the first article sent to the page of latest headlines looks
    // moved, and that page becomes its copy cited.
    g.brief("a.txt", briefing(&web, &["/retired/1"]));
    json(&g, &["check", "--format", "json"]).await;
    let sources = json(&g, &["sources", "--format", "json"]).await;
    assert_eq!(status_of(&sources, "/retired/1"), "moved", "{sources}");
    let got = run(&g, &["get", &first]).await;
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert!(String::from_utf8_lossy(&got.stdout).contains("Latest headlines"));
    // Two more cited articles are sent there: a removal, and the page of
    // headlines was never the copy cited.
    g.brief("b.txt", briefing(&web, &["/retired/2", "/retired/3"]));
    json(&g, &["check", "--all", "--format", "json"]).await;
    let sources = json(&g, &["sources", "--format", "json"]).await;
    for path in ["/retired/1", "/retired/2", "/retired/3"] {
        assert_eq!(status_of(&sources, path), "soft_404", "{path}: {sources}");
    }
    let got = run(&g, &["get", &first]).await;
    assert!(!got.status.success(), "get handed out the landing");
    let stderr = String::from_utf8_lossy(&got.stderr);
    assert!(stderr.contains("no good copy"), "{stderr}");
    let report = json(&g, &["report", "--status", "all", "--format", "json"]).await;
    let archived = archived_copies(&report);
    assert_eq!(archived["/retired/1"], Value::Null, "{archived:?}");
    // The checks keep what they judged at the time; the capture says it
    // was disowned.
    let history = json(&g, &["history", &first, "--format", "json"]).await;
    assert_eq!(history["checks"][0]["status_after"], "moved", "{history}");
    assert!(
        history["captures"][0]["disowned_at"].is_string(),
        "{history}"
    );
    let text = run(&g, &["history", &first]).await;
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("(disowned 20") && text.contains("other cited articles are sent to"),
        "{text}"
    );
}

/// Articles sent to a page for now, by a temporary redirect, are not counted
/// as landing there when the next night reads the store's landings: an
/// article moved there for good is judged on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn articles_sent_to_a_page_for_now_do_not_make_it_a_landing_the_next_night() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = Ground::new();
    g.write_config(IMMEDIATE);
    g.brief("a.txt", briefing(&web, &["/paused/1", "/paused/2"]));
    json(&g, &["check", "--format", "json"]).await;
    let sources = json(&g, &["sources", "--format", "json"]).await;
    for path in ["/paused/1", "/paused/2"] {
        let s = source(&sources, path);
        assert!(
            s["final_url"]
                .as_str()
                .is_some_and(|f| f.ends_with("/topics/latest.html")),
            "{path}: {sources}"
        );
    }
    // Another article (a landing counts articles by their last path segment).
    // Checked alone: the host's probe is a made-up sibling of the first
    // source that asks for it, and one under /paused/ is sent to the same
    // page, which rightly makes that page a soft 404. Which source asked
    // first was a race, lost when the landing was fetched once.
    g.brief("b.txt", briefing(&web, &["/retired/7"]));
    json(&g, &["sync", "--format", "json"]).await;
    let retired = web.url("127.0.0.1", "/retired/7");
    json(&g, &["check", "--url", &retired, "--format", "json"]).await;
    let sources = json(&g, &["sources", "--format", "json"]).await;
    assert_eq!(status_of(&sources, "/retired/7"), "moved", "{sources}");
}

/// Without a terminal, the log line comes by the clock: a run waiting on a
/// slow page still says how far it is before that page is in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(debug_assertions),
    ignore = "the binary takes CITEWATCH_TEST_LOG_EVERY_MS in debug builds only"
)]
async fn the_log_line_comes_while_a_slow_page_is_awaited() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = citing(&web, &["/slower/ok/1"]);
    let out = run_with(
        &g,
        &["check", "--format", "json"],
        &[("CITEWATCH_TEST_LOG_EVERY_MS", "40")],
    )
    .await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("citewatch: checked 0/1 sources\n"), "{err}");
}

/// Held for the landing's second look, at most so many: past the cap, a
/// check is judged as it is that night (and again the next).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(debug_assertions),
    ignore = "the binary takes CITEWATCH_TEST_MAX_HELD in debug builds only"
)]
async fn checks_held_for_a_second_look_are_capped() {
    let web = TestWeb::start("127.0.0.1").await;
    let retired = ["/retired/1", "/retired/2", "/retired/3"];
    let g = citing(&web, &retired);
    let out = run_with(
        &g,
        &["check", "--format", "json"],
        &[("CITEWATCH_TEST_MAX_HELD", "1")],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sources = json(&g, &["sources", "--format", "json"]).await;
    let mut statuses: Vec<String> = retired.iter().map(|p| status_of(&sources, p)).collect();
    statuses.sort();
    // The first two to land wait for a second look: one is held and judged
    // again, the other is past the cap and stays a move that night; the
    // last to land sees two others.
    assert_eq!(statuses, ["moved", "soft_404", "soft_404"], "{sources}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_applications_shell_is_blocked_not_ok() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = citing(&web, &["/app/news/2020/1", "/spa/news/2020/1", "/page/1"]);
    for night in ["first", "second"] {
        json(&g, &["check", "--all", "--format", "json"]).await;
        let sources = json(&g, &["sources", "--format", "json"]).await;
        // A shell was `ok`: the copy cited was the same shell, so nothing
        // seemed to change, though nothing was ever seen. Removed or not, the
        // article is answered with the same shell.
        assert_eq!(
            status_of(&sources, "/app/news/2020/1"),
            "blocked",
            "{night}: {sources}"
        );
        assert_eq!(
            status_of(&sources, "/spa/news/2020/1"),
            "blocked",
            "{night}: {sources}"
        );
        assert_eq!(status_of(&sources, "/page/1"), "ok", "{night}: {sources}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_still_as_cited_is_not_condemned_by_a_probe_like_it() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = citing(&web, &["/heavy/story-1.html"]);
    json(&g, &["check", "--format", "json"]).await;
    // The site starts answering made-up addresses with a page in the same
    // heavy template: the short story is now as like that page as the
    // probe threshold asks.
    web.state
        .heavy_catch_all
        .store(true, std::sync::atomic::Ordering::Relaxed);
    json(&g, &["check", "--all", "--format", "json"]).await;
    let sources = json(&g, &["sources", "--format", "json"]).await;
    // The probe was asked for on both nights.
    let probes = web
        .hits()
        .iter()
        .filter(|h| h.path.starts_with("/heavy/") && !h.path.contains("story"))
        .count();
    assert_eq!(probes, 2);
    assert_eq!(
        status_of(&sources, "/heavy/story-1.html"),
        "ok",
        "{sources}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_story_with_paragraphs_of_its_own_is_not_condemned_by_the_probe_on_a_first_night() {
    let web = TestWeb::start("127.0.0.1").await;
    // A site that answers made-up addresses with a page in its heavy
    // template from the start, so the first night has no copy cited to
    // trust.
    web.state
        .heavy_catch_all
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let cited = ["/heavy/brief-1.html", "/heavy/removed-1.html"];
    let g = citing(&web, &cited);
    json(&g, &["check", "--format", "json"]).await;
    let probes = web
        .hits()
        .iter()
        .filter(|h| h.path.starts_with("/heavy/") && !cited.contains(&h.path.as_str()))
        .count();
    assert_eq!(probes, 1);
    let sources = json(&g, &["sources", "--format", "json"]).await;
    // Two paragraphs of its own: a live story, however like the catch-all.
    assert_eq!(
        status_of(&sources, "/heavy/brief-1.html"),
        "ok",
        "{sources}"
    );
    // The catch-all page itself, where a story was: gone.
    assert_eq!(
        status_of(&sources, "/heavy/removed-1.html"),
        "soft_404",
        "{sources}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_read_by_the_old_decoder_is_read_again_not_taken_for_rewritten() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = citing(&web, &["/article/churn"]);
    let url = web.url("127.0.0.1", "/article/churn");
    json(&g, &["check", "--format", "json"]).await;
    assert_eq!(baseline_reading(&g, &url)["decoder"], 2);
    // As a store written before readings kept their decoder: its text read
    // as something else (mojibake, for a page whose label lied).
    let db = rusqlite::Connection::open(g.path("data/citewatch.db")).unwrap();
    db.execute(
        "UPDATE captures SET reading = json_remove(json_set(reading,
           '$.lines.lines', json('[[1, 500]]')), '$.decoder')",
        [],
    )
    .unwrap();
    drop(db);
    json(&g, &["check", "--all", "--format", "json"]).await;
    let sources = json(&g, &["sources", "--format", "json"]).await;
    assert_eq!(status_of(&sources, "/article/churn"), "ok", "{sources}");
    // The baseline was read again from its blob, and kept so.
    let baseline = baseline_reading(&g, &url);
    assert_eq!(baseline["decoder"], 2, "{baseline}");
    assert_ne!(baseline["lines"]["lines"][0][0], 1, "{baseline}");
    assert!(
        sources[0]["similarity"].as_f64().is_some_and(|s| s > 0.9),
        "{sources}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_page_the_old_decoder_misread_is_read_again() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = citing(&web, &["/gbk-lying-notice"]);
    json(&g, &["check", "--format", "json"]).await;
    let sources = json(&g, &["sources", "--format", "json"]).await;
    // Read through the lie, its notice is found.
    assert_eq!(
        status_of(&sources, "/gbk-lying-notice"),
        "soft_404",
        "{sources}"
    );
    // As a store of the old decoder had it: mojibake, no notice seen, ok.
    let db = rusqlite::Connection::open(g.path("data/citewatch.db")).unwrap();
    db.execute_batch(
        "UPDATE captures SET reading = json_remove(json_set(reading,
           '$.title', 'ҳ\u{FFFD}治\u{FFFD}\u{FFFD} - \u{FFFD}»\u{FFFD}\u{FFFD}', '$.error_phrase', NULL), '$.decoder');
         UPDATE sources SET status = 'ok', suspect = NULL, consecutive_failures = 0,
           failing_since = NULL, evidence = 'HTTP 200';",
    )
    .unwrap();
    drop(db);
    // The same bytes the next night: read again all the same.
    json(&g, &["check", "--all", "--format", "json"]).await;
    let sources = json(&g, &["sources", "--format", "json"]).await;
    assert_eq!(
        status_of(&sources, "/gbk-lying-notice"),
        "soft_404",
        "{sources}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_offers_no_error_page_as_the_archived_copy() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = citing(&web, &["/soft", "/page/1"]);
    json(&g, &["check", "--format", "json"]).await;
    let report = json(&g, &["report", "--status", "all", "--format", "json"]).await;
    let mut archived = std::collections::BTreeMap::new();
    for section in report["sections"].as_array().unwrap() {
        for doc in section["documents"].as_array().unwrap() {
            for b in doc["briefings"].as_array().unwrap() {
                for c in b["citations"].as_array().unwrap() {
                    let path = c["url"].as_str().unwrap().rsplit_once(':').unwrap().1;
                    archived.insert(
                        path.to_string(),
                        (c["status"].clone(), c["archived"].clone()),
                    );
                }
            }
        }
    }
    let port = web.port();
    let soft = &archived[&format!("{port}/soft")];
    assert_eq!(soft.0, "soft_404", "{archived:?}");
    // Its only capture is the "page not found" page: no copy of what was cited,
    // as `citewatch get` says too.
    assert_eq!(soft.1, Value::Null, "{archived:?}");
    let page = &archived[&format!("{port}/page/1")];
    assert_eq!(page.0, "ok");
    assert!(page.1["capture_id"].is_i64(), "{archived:?}");
    let get = run(&g, &["get", &web.url("127.0.0.1", "/soft")]).await;
    assert_eq!(get.status.code(), Some(3));
}

/// `citewatch ARGS…` as a user who may read the store but not write it:
/// another user (nobody) when the tests run as root, whom no permission bit
/// would stop, else this user with the write bits taken off (`chmod`).
fn as_reader(g: &Ground, args: &[&str]) -> std::process::Output {
    let mut bin = assert_cmd::cargo::cargo_bin("citewatch");
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if root {
        // A copy another user can run wherever this build lives (a clone
        // under /root is out of nobody's reach).
        let copy = g.path("bin/citewatch");
        if !copy.exists() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::create_dir_all(g.path("bin")).unwrap();
            std::fs::copy(&bin, &copy).unwrap();
            std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        bin = copy;
    }
    let mut cmd = if root {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin);
        c
    } else {
        std::process::Command::new(&bin)
    };
    cmd.arg("--config")
        .arg(g.config())
        .args(args)
        .env_remove("CITEWATCH_CONFIG");
    cmd.output()
        .expect("setpriv (util-linux) is needed to test as another user")
}

/// Sets or clears the write bits of everything under `dir`, itself included.
fn writable(dir: &std::path::Path, yes: bool) {
    use std::os::unix::fs::PermissionsExt;
    for e in walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
    {
        let mut mode = e.metadata().unwrap().permissions().mode();
        mode = if yes { mode | 0o200 } else { mode & !0o222 };
        std::fs::set_permissions(e.path(), std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_who_may_not_write_the_store_reads_its_packed_archive() {
    use sha2::{Digest, Sha256};
    use std::os::unix::fs::PermissionsExt;
    let web = TestWeb::start("127.0.0.1").await;
    let paths = ["/page/1", "/page/2", "/page/3"];
    let g = citing(&web, &paths);
    json(&g, &["check", "--format", "json"]).await;
    let index = g.path("data/blobs/packs/index.db");
    assert!(index.exists());
    // Readable by all, writable by none: the reporting user's view of a
    // store the nightly check writes.
    std::fs::set_permissions(g.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out_dir = g.path("out");
    std::fs::create_dir(&out_dir).unwrap();
    std::fs::set_permissions(&out_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let recorded: Vec<(String, String)> = {
        let db = rusqlite::Connection::open(g.path("data/citewatch.db")).unwrap();
        paths
            .iter()
            .map(|p| {
                let url = format!("http://127.0.0.1:{}{p}", web.port());
                let sha = db
                    .query_row(
                        "SELECT c.body_sha256 FROM captures c JOIN sources s \
                         ON s.id = c.source_id WHERE s.url = ?1",
                        [&url],
                        |r| r.get(0),
                    )
                    .unwrap();
                (url, sha)
            })
            .collect()
    };
    writable(&g.data(), false);
    let before = common::snapshot(&g.data());

    let v = as_reader(&g, &["verify", "--format", "json"]);
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
    let v: Value = serde_json::from_slice(&v.stdout).unwrap();
    assert_eq!(v["problems"], serde_json::json!([]), "{v}");
    assert_eq!(v["blobs_checked"], paths.len(), "{v}");
    for (url, sha) in &recorded {
        let got = as_reader(&g, &["get", url]);
        assert!(
            got.status.success(),
            "{}",
            String::from_utf8_lossy(&got.stderr)
        );
        assert_eq!(&hex::encode(Sha256::digest(&got.stdout)), sha, "{url}");
    }
    let warc = out_dir.join("all.warc.gz");
    let out = as_reader(&g, &["export-warc", "-o", warc.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::metadata(&warc).unwrap().len() > 0);
    writable(&g.data(), true);
    assert!(
        before == common::snapshot(&g.data()),
        "reading the archive changed the store's files"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_pack_is_offered_to_repair_and_the_next_check_stores_its_pages_again() {
    // A pack file lost while the index still named its records: every copy
    // in it was unreadable, and each later fetch of the same bytes was found
    // in the index and not stored, so no check could mend the archive.
    let web = TestWeb::start("127.0.0.1").await;
    let g = citing(&web, &["/page/1", "/page/2", "/page/3"]);
    json(&g, &["check", "--format", "json"]).await;
    let packs = g.path("data/blobs/packs");
    std::fs::remove_file(packs.join("pack-000001.cwpack")).unwrap();
    let why = "the pack index names pack files that are gone: pack-000001.cwpack";
    let out = run(&g, &["verify"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("{why}: `citewatch verify --repair` builds")),
        "{text}"
    );
    let out = run(&g, &["verify", "--format", "json"]).await;
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["pack_index_repairable"], why, "{v}");
    // Missing, not damaged: nothing of them is left to set aside.
    let problems = v["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 3, "{v}");
    for p in problems {
        assert_eq!(p["kind"], "missing_blob", "{p}");
        assert!(
            p["detail"].as_str().unwrap().contains("pack-000001.cwpack"),
            "{p}"
        );
    }

    let out = run(&g, &["check", "--all", "--format", "json"]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains(&format!("{why}: rebuilt it")), "{err}");
    let v = json(&g, &["verify", "--format", "json"]).await;
    assert_eq!(v["problems"], serde_json::json!([]), "{v}");
    assert_eq!(v["pack_index_repairable"], Value::Null, "{v}");
    for path in ["/page/1", "/page/2", "/page/3"] {
        let out = run(&g, &["get", &web.url("127.0.0.1", path)]).await;
        assert!(
            out.status.success(),
            "{path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_or_damaged_pack_index_is_rebuilt_from_the_packs() {
    let web = TestWeb::start("127.0.0.1").await;
    let paths = ["/page/1", "/page/2", "/page/3"];
    let g = citing(&web, &paths);
    json(&g, &["check", "--format", "json"]).await;
    let packs = g.path("data/blobs/packs");
    let pack_files = || {
        let mut names: Vec<String> = std::fs::read_dir(&packs)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".cwpack"))
            .collect();
        names.sort();
        names
    };
    assert_eq!(pack_files(), ["pack-000001.cwpack"]);

    // Lost, and `verify` run first: its blobs were missing, the packs to be
    // kept, and no word said how to index them again.
    for f in ["index.db", "index.db-wal", "index.db-shm"] {
        let _ = std::fs::remove_file(packs.join(f));
    }
    let out = run(&g, &["verify"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("keep the packs; `citewatch verify --repair` builds the index again"),
        "{text}"
    );

    // Lost: the next check numbered its pack from the empty index and failed
    // on "File exists". It now rebuilds the index first, so the same pages
    // are found packed already and nothing is packed again.
    for f in ["index.db", "index.db-wal", "index.db-shm"] {
        let _ = std::fs::remove_file(packs.join(f));
    }
    let out = run(&g, &["check", "--all", "--format", "json"]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("the pack index is missing: rebuilt it from 1 pack file (3 records)"),
        "{err}"
    );
    assert_eq!(pack_files(), ["pack-000001.cwpack"]);
    let v = json(&g, &["verify", "--format", "json"]).await;
    assert_eq!(v["problems"], serde_json::json!([]), "{v}");
    assert_eq!(v["unindexed_pack_bytes"], serde_json::json!([]), "{v}");

    // One row lost from an index that knows its pack (a copy of it
    // restored, its log lost): `--repair` answered "nothing to repair" and
    // the blob stayed missing though its bytes were sound in the pack.
    rusqlite::Connection::open(packs.join("index.db"))
        .unwrap()
        .execute(
            "DELETE FROM packed WHERE sha256 = (SELECT sha256 FROM packed LIMIT 1)",
            [],
        )
        .unwrap();
    let out = run(&g, &["verify"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("keep the packs; `citewatch verify --repair` builds the index again"),
        "{text}"
    );
    let out = run(&g, &["verify", "--repair"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("the pack index does not name 1 sound record in pack-000001.cwpack"),
        "{text}"
    );

    // Damaged where only a lookup reads: the run names the damage and the
    // way out, and `verify --repair` takes it.
    common::damage_root_page(&packs.join("index.db"), "packed");
    let out = run(&g, &["check", "--all"]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("the pack index is damaged") && err.contains("citewatch verify --repair"),
        "{err}"
    );
    // Not the advice for the database itself, which the index is not.
    assert!(!err.contains("restore it from a backup"), "{err}");
    let text = String::from_utf8(run(&g, &["verify"]).await.stdout).unwrap();
    assert!(text.contains("citewatch verify --repair"), "{text}");
    let out = run(&g, &["verify", "--repair", "--format", "json"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["problems"], serde_json::json!([]), "{v}");
    let rebuilt = &v["pack_index_rebuilt"];
    assert!(
        rebuilt["reason"]
            .as_str()
            .unwrap()
            .starts_with("the pack index is damaged"),
        "{v}"
    );
    assert_eq!(rebuilt["packs"], 1, "{v}");
    assert!(
        std::path::Path::new(rebuilt["old_index"].as_str().unwrap()).exists(),
        "{v}"
    );
    let text = String::from_utf8(run(&g, &["verify", "--repair"]).await.stdout).unwrap();
    assert!(
        text.contains("the pack index is sound: nothing to repair"),
        "{text}"
    );
    let out = run(&g, &["check", "--all"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(pack_files(), ["pack-000001.cwpack"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damage_to_the_database_found_during_a_check_stops_it_and_nothing_more_is_written() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = citing(&web, &["/page/1", "/page/2", "/page/3"]);
    json(&g, &["check", "--format", "json"]).await;
    let db = g.path("data/citewatch.db");
    // Damage a quick look at start-up does not see (the full check costs
    // a tenth of a re-check night): the run meets it when it records checks.
    common::damage_root_page(&db, "checks");
    let runs = || {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.prepare("SELECT id, state, finished_at, summary FROM runs ORDER BY id")
            .unwrap()
            .query_map([], |r| {
                Ok(format!(
                    "{} {} {:?} {:?}",
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<String>>(3)?
                ))
            })
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap()
    };
    let out = run(&g, &["check", "--all"]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("data/citewatch.db") && err.contains("`citewatch verify`"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    // The run's row stays as a killed run leaves it: recording how it
    // ended would have been one more write into the damaged file.
    let after = runs();
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(after[1].ends_with("running None None"), "{after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_names_every_kind_of_damage_to_a_packed_archive() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = citing(&web, &["/page/1", "/page/2", "/page/3"]);
    json(&g, &["check", "--format", "json"]).await;
    let packs = g.path("data/blobs/packs");
    let pack = packs.join("pack-000001.cwpack");
    let db = g.path("data/citewatch.db");
    let shas: Vec<String> = rusqlite::Connection::open(&db)
        .unwrap()
        .prepare("SELECT sha256 FROM blobs ORDER BY sha256")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(shas.len(), 3);
    let whole = std::fs::read(&pack).unwrap();
    let index: Vec<(String, Vec<u8>)> = ["index.db", "index.db-wal"]
        .iter()
        .filter_map(|f| Some((f.to_string(), std::fs::read(packs.join(f)).ok()?)))
        .collect();
    let restore = || {
        std::fs::write(&pack, &whole).unwrap();
        for f in ["index.db", "index.db-wal", "index.db-shm"] {
            let _ = std::fs::remove_file(packs.join(f));
        }
        for (f, bytes) in &index {
            std::fs::write(packs.join(f), bytes).unwrap();
        }
    };
    let clean = run(&g, &["verify"]).await;
    assert_eq!(clean.status.code(), Some(0));
    type Damage = Box<dyn Fn()>;
    let damages: Vec<(&str, Damage, Vec<&str>)> = vec![
        (
            "a flipped bit in the pack",
            Box::new({
                let (pack, whole) = (pack.clone(), whole.clone());
                move || {
                    let mut bytes = whole.clone();
                    let at = bytes.len() / 2;
                    bytes[at] ^= 0x04;
                    std::fs::write(&pack, &bytes).unwrap();
                }
            }),
            vec!["corrupt_blob"],
        ),
        (
            "a truncated pack",
            Box::new({
                let (pack, len) = (pack.clone(), whole.len() as u64);
                move || {
                    std::fs::OpenOptions::new()
                        .write(true)
                        .open(&pack)
                        .unwrap()
                        .set_len(len - 10)
                        .unwrap()
                }
            }),
            vec!["corrupt_blob"],
        ),
        (
            "a missing pack",
            Box::new({
                let pack = pack.clone();
                move || std::fs::remove_file(&pack).unwrap()
            }),
            // Missing, not damaged: nothing of them is left to set aside.
            vec!["missing_blob"; 3],
        ),
        (
            "a lost index",
            Box::new({
                let packs = packs.clone();
                move || {
                    for f in ["index.db", "index.db-wal", "index.db-shm"] {
                        let _ = std::fs::remove_file(packs.join(f));
                    }
                }
            }),
            vec!["missing_blob"; 3],
        ),
        (
            "a capture without its blob",
            Box::new({
                let (db, sha) = (db.clone(), shas[0].clone());
                move || {
                    let conn = rusqlite::Connection::open(&db).unwrap();
                    conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
                    conn.execute("DELETE FROM blobs WHERE sha256 = ?1", [&sha])
                        .unwrap();
                }
            }),
            vec!["capture_without_blob"],
        ),
    ];
    for (what, damage, kinds) in damages {
        damage();
        let out = run(&g, &["verify", "--format", "json"]).await;
        assert_eq!(out.status.code(), Some(1), "{what}");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut found: Vec<&str> = v["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["kind"].as_str().unwrap())
            .collect();
        found.sort();
        assert_eq!(found, kinds, "{what}: {v}");
        for p in v["problems"].as_array().unwrap() {
            assert!(
                shas.iter().any(|s| p["sha256"] == **s),
                "{what}: the blob is named: {v}"
            );
        }
        restore();
        if what == "a capture without its blob" {
            break;
        }
        let out = run(&g, &["verify"]).await;
        assert_eq!(out.status.code(), Some(0), "{what}: restored");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_pack_record_loses_only_itself_when_the_index_is_rebuilt() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = citing(&web, &["/page/1", "/page/2", "/page/3"]);
    json(&g, &["check", "--format", "json"]).await;
    let packs = g.path("data/blobs/packs");
    // The pack's first record damaged (its magic), and the index lost: the
    // rebuild stopped there, and every page packed after it was lost too.
    let pack = packs.join("pack-000001.cwpack");
    let mut bytes = std::fs::read(&pack).unwrap();
    bytes[..4].copy_from_slice(b"\0\0\0\0");
    std::fs::write(&pack, &bytes).unwrap();
    for f in ["index.db", "index.db-wal", "index.db-shm"] {
        let _ = std::fs::remove_file(packs.join(f));
    }
    let out = run(&g, &["verify", "--repair", "--format", "json"]).await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rebuilt = &v["pack_index_rebuilt"];
    assert_eq!(rebuilt["blobs"], 2, "{v}");
    let skipped = rebuilt["unreadable"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{v}");
    assert_eq!(skipped[0]["offset"], 0, "{v}");
    let problems = v["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "only the damaged copy is lost: {v}");
    assert_eq!(problems[0]["kind"], "missing_blob", "{v}");
    let text = String::from_utf8(run(&g, &["verify"]).await.stdout).unwrap();
    assert!(text.contains("1 problem"), "{text}");
}

/// The four cited reports of the test web's `/pdf/` (see `tests/common/web.rs`).
const REPORTS: [&str; 4] = [
    "/pdf/reissued.pdf",
    "/pdf/replaced.pdf",
    "/pdf/to-notice.pdf",
    "/pdf/broken.pdf",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pdf_replaced_by_another_document_is_changed_and_one_reissued_is_ok() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = citing(&web, &REPORTS);
    json(&g, &["check", "--format", "json"]).await;
    let sources = json(&g, &["sources", "--format", "json"]).await;
    for path in REPORTS {
        assert_eq!(status_of(&sources, path), "ok", "{sources}");
        // The copy cited is read: its text's lines, by this PDF reader.
        let base = baseline_reading(&g, &web.url("127.0.0.1", path));
        assert_eq!(
            base["pdf"],
            citewatch::check::pdf::PDF_TEXT_VERSION,
            "{base}"
        );
        assert!(base["lines"].is_object(), "{base}");
    }

    json(&g, &["check", "--all", "--format", "json"]).await;
    let sources = json(&g, &["sources", "--format", "json"]).await;
    let evidence = |path: &str| {
        source(&sources, path)["evidence"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // The same text in other bytes: as cited.
    assert_eq!(status_of(&sources, "/pdf/reissued.pdf"), "ok", "{sources}");
    assert!(
        source(&sources, "/pdf/reissued.pdf")["similarity"]
            .as_f64()
            .is_some_and(|s| s >= 0.95),
        "{sources}"
    );
    // Another document at the cited address.
    assert_eq!(
        status_of(&sources, "/pdf/replaced.pdf"),
        "changed",
        "{sources}"
    );
    assert!(
        evidence("/pdf/replaced.pdf").contains("different from the copy archived"),
        "{sources}"
    );
    // The site's notice in its place is found by its words, as before.
    let notice = source(&sources, "/pdf/to-notice.pdf");
    assert!(
        notice["status"] == "soft_404" || notice["suspect"] == "soft_404",
        "{sources}"
    );
    assert!(
        evidence("/pdf/to-notice.pdf").contains("页面不存在"),
        "{sources}"
    );
    // A file the parser gives up on is recorded unread, and says why.
    assert_eq!(status_of(&sources, "/pdf/broken.pdf"), "ok", "{sources}");
    assert!(
        evidence("/pdf/broken.pdf")
            .contains("the page could not be read: the PDF could not be parsed"),
        "{sources}"
    );
    let db = rusqlite::Connection::open(g.path("data/citewatch.db")).unwrap();
    let (reading, checks): (Option<String>, i64) = db
        .query_row(
            "SELECT c.reading, (SELECT count(*) FROM checks k WHERE k.source_id = s.id)
             FROM sources s JOIN captures c ON c.id = s.latest_capture_id WHERE s.url = ?1",
            [web.url("127.0.0.1", "/pdf/broken.pdf")],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((reading, checks), (None, 2), "captured, unread");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdfs_a_store_kept_before_pdfs_were_read_are_read_again_not_taken_for_changed() {
    let web = TestWeb::start("127.0.0.1").await;
    let reports = &REPORTS[..2];
    let g = citing(&web, reports);
    json(&g, &["check", "--format", "json"]).await;
    // As a store of the previous version kept them: readings without text.
    let db = rusqlite::Connection::open(g.path("data/citewatch.db")).unwrap();
    let old = db
        .execute(
            "UPDATE captures SET reading =
               '{\"title\":null,\"error_phrase\":null,\"bot_challenge\":false,\"decoder\":0}'",
            [],
        )
        .unwrap();
    assert_eq!(old, 2);
    drop(db);
    json(&g, &["check", "--all", "--format", "json"]).await;
    let sources = json(&g, &["sources", "--format", "json"]).await;
    assert_eq!(status_of(&sources, "/pdf/reissued.pdf"), "ok", "{sources}");
    assert_eq!(
        status_of(&sources, "/pdf/replaced.pdf"),
        "changed",
        "{sources}"
    );
    // Each copy cited was read again from its archived bytes, and kept so.
    for path in reports {
        let base = baseline_reading(&g, &web.url("127.0.0.1", path));
        assert_eq!(
            base["pdf"],
            citewatch::check::pdf::PDF_TEXT_VERSION,
            "{base}"
        );
        assert!(base["lines"].is_object(), "{base}");
    }
}

/// `sources --status broken` listed a dead source that only a withdrawn
/// document cited, while the report said nothing was broken, and an editor
/// had no way to leave such sources out. They are still listed (their
/// verdicts stand), the text says so, and `--cited` leaves them out, so
/// `sources --status broken --cited` agrees with the report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_cited_only_by_withdrawn_documents_are_said_and_can_be_left_out() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = citing(&web, &["/page/1"]);
    g.brief("w.txt", briefing(&web, &["/gone"]));
    json(&g, &["check", "--format", "json"]).await;
    std::fs::remove_file(g.path("briefings/w.txt")).unwrap();
    assert_eq!(
        json(&g, &["sync", "--format", "json"]).await["withdrawn"],
        1
    );
    let broken = json(&g, &["sources", "--status", "broken", "--format", "json"]).await;
    let broken = broken.as_array().unwrap();
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert_eq!(
        (&broken[0]["status"], &broken[0]["citations"]),
        (&Value::from("dead"), &Value::from(0))
    );
    let out = run(&g, &["sources", "--status", "broken"]).await;
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.ends_with(
            "\n1 source\n1 of them cited by no document in the briefing store (cited 0: only \
             withdrawn documents cite it, or none), which the report does not count; \
             `--cited` leaves them out\n"
        ),
        "{text}"
    );
    let cited = json(
        &g,
        &[
            "sources", "--status", "broken", "--cited", "--format", "json",
        ],
    )
    .await;
    assert_eq!(cited, Value::Array(vec![]));
    let out = run(&g, &["sources", "--status", "broken", "--cited"]).await;
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "0 sources\n");
    let report = json(&g, &["report", "--format", "json"]).await;
    assert_eq!(report["summary"]["broken"], 0, "{report}");
    // Without a status, `--cited` keeps the source still cited.
    let all = json(&g, &["sources", "--cited", "--format", "json"]).await;
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(all[0]["url"].as_str().unwrap().ends_with("/page/1"));
    assert_eq!(all[0]["citations"], 1);
}
