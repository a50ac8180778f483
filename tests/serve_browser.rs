//! A real browser against `citewatch serve`: Debian's Chromium, headless, loads
//! the web report and an archived page whose own script tries to change its
//! title. The report must render; the archived page's script must not run
//! (Content-Security-Policy: sandbox). A control page carrying the same script
//! but served without the sandbox header must show the changed title: proof that
//! this browser runs script at all.
//!
//! An archived page whose image and stylesheet point at a second local listener
//! must cause no request to it, while the same page served without the
//! archive's policy does: the copy never loads anything live.
//!
//! Under CI=true a missing chromium fails the test; elsewhere it is skipped with
//! a message. Only 127.0.0.1 is ever loaded.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::RawQuery;
use axum::http::header;
use axum::routing::get;
use common::served::{ARCHIVED_TITLE, ARTICLE, GONE, SCRIPT_TITLE, Served, article_v1, required};

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// `chromium --headless --dump-dom URL`, bounded in time, with a profile of its own.
fn dump_dom(browser: &Path, url: &str) -> String {
    assert!(url.starts_with("http://127.0.0.1:"), "loopback only: {url}");
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--no-proxy-server",
            "--metrics-recording-only",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--dump-dom", url])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish loading {url} in 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn title_of(dom: &str) -> String {
    let start = dom.find("<title>").map(|i| i + 7).unwrap_or(0);
    let end = dom[start..]
        .find("</title>")
        .map(|i| start + i)
        .unwrap_or(start);
    dom[start..end].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_renders_the_report_and_runs_no_script_in_archived_pages() {
    let Some(browser) = chromium() else {
        if required() {
            panic!("chromium is missing (CI=true): apt-get install -y chromium");
        }
        eprintln!(
            "SKIPPED: no chromium here (apt-get install -y chromium); set CI=true to require it"
        );
        return;
    };
    let s = Served::new("");
    let srv = s.start().await;
    // The control: the same page, same script, no sandbox header.
    let control = Router::new().route(
        "/control",
        get(|| async {
            (
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                article_v1(),
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let control_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, control).await.unwrap() });

    let report_url = srv.url("/");
    let archived_url = srv.url(&format!("/archive/{}", s.ids.a2020));
    let control_url = format!("http://{control_addr}/control");
    let b = browser.clone();
    let (report, archived, ctrl) = tokio::task::spawn_blocking(move || {
        (
            dump_dom(&b, &report_url),
            dump_dom(&b, &archived_url),
            dump_dom(&b, &control_url),
        )
    })
    .await
    .unwrap();

    // The report renders: its title, the broken source and the changed one, with
    // links to the archived copy and the history.
    assert!(
        title_of(&report).starts_with("citewatch report"),
        "{report}"
    );
    assert!(
        report.contains(GONE) && report.contains(ARTICLE),
        "{report}"
    );
    assert!(report.contains("<section id=\"broken\">"), "{report}");
    assert!(
        report.contains(&format!("/archive/{}", s.ids.a2020)),
        "{report}"
    );

    // The control proves script runs in this browser…
    assert_eq!(title_of(&ctrl), SCRIPT_TITLE, "control page: {ctrl}");
    // …and the sandboxed archived copy did not let it.
    assert!(
        archived.contains("The article as it was cited."),
        "{archived}"
    );
    assert_eq!(
        title_of(&archived),
        ARCHIVED_TITLE,
        "archived page: {archived}"
    );
    srv.stop().await;
}

/// A page citing a live image and stylesheet on `host`, each named `from`.
fn page_loading_from(host: std::net::SocketAddr, from: &str) -> String {
    format!(
        "<!doctype html><html><head><title>{ARCHIVED_TITLE}</title>\
         <link rel=\"stylesheet\" href=\"http://{host}/px?{from}-css\"></head>\
         <body><p>The article as it was cited.</p>\
         <img src=\"http://{host}/px?{from}-img\" width=\"1\" height=\"1\"></body></html>"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_loads_nothing_live_from_an_archived_page() {
    let Some(browser) = chromium() else {
        if required() {
            panic!("chromium is missing (CI=true): apt-get install -y chromium");
        }
        eprintln!(
            "SKIPPED: no chromium here (apt-get install -y chromium); set CI=true to require it"
        );
        return;
    };
    // The "cited site": notes every load of /px, and serves the control page,
    // the same markup without the archive's policy.
    let hits: Arc<Mutex<Vec<String>>> = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let site = listener.local_addr().unwrap();
    let noted = hits.clone();
    let router = Router::new()
        .route(
            "/px",
            get(move |RawQuery(q): RawQuery| {
                let noted = noted.clone();
                async move {
                    noted.lock().unwrap().push(q.unwrap_or_default());
                    ([(header::CONTENT_TYPE, "image/gif")], &b"GIF89a"[..])
                }
            }),
        )
        .route(
            "/control",
            get(move || async move {
                (
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    page_loading_from(site, "control"),
                )
            }),
        );
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let s = Served::new("");
    let id = s.add_article_capture(page_loading_from(site, "archived").as_bytes());
    let srv = s.start().await;
    let archived_url = srv.url(&format!("/archive/{id}"));
    let control_url = format!("http://{site}/control");
    let b = browser.clone();
    let (archived, _) = tokio::task::spawn_blocking(move || {
        (dump_dom(&b, &archived_url), dump_dom(&b, &control_url))
    })
    .await
    .unwrap();

    // The archived copy rendered…
    assert!(
        archived.contains("The article as it was cited."),
        "{archived}"
    );
    let hits = hits.lock().unwrap().clone();
    // …this browser loads such an image and stylesheet when allowed to…
    assert!(
        hits.iter().any(|h| h == "control-img") && hits.iter().any(|h| h == "control-css"),
        "control page: {hits:?}"
    );
    // …and the archived copy made no request at all to the cited site.
    assert!(
        !hits.iter().any(|h| h.starts_with("archived")),
        "archived page loaded live: {hits:?}"
    );
    srv.stop().await;
}
