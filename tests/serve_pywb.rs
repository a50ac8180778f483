//! A real Memento/WARC client against our archive: pywb replays the WARC that
//! `citewatch export-warc` writes from the same store, and its `id_` (identity,
//! unrewritten) bytes of each capture must equal what `citewatch serve` answers
//! at `/archive/{id}` and what was captured. pywb's own TimeMap must count the
//! same mementos as ours.
//!
//! pywb (`wayback`, `wb-manager`) comes from the CI venv (.ci/run exports
//! WAYBACK); under CI=true a missing pywb fails the test, elsewhere it is
//! skipped with a message. pywb listens on 127.0.0.1 and fetches nothing live.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::served::{
    ARTICLE, REPORT, Served, article_v1, article_v2, client, get, pdf, required, sha,
};

fn wayback() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("WAYBACK") {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("wayback"))
            .find(|p| p.exists())
    })
}

struct Pywb(Child);

impl Drop for Pywb {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run(cmd: &Path, dir: &Path, args: &[&str]) {
    let out = Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", cmd.display()));
    assert!(
        out.status.success(),
        "{} {args:?}: {}{}",
        cmd.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pywb_replays_our_warc_with_the_bytes_we_serve() {
    let Some(wayback) = wayback() else {
        if required() {
            panic!("pywb's `wayback` is missing (CI=true): .ci/run installs it into its venv");
        }
        eprintln!("SKIPPED: no pywb here (pip install pywb); set CI=true to require it");
        return;
    };
    let wb_manager = wayback.with_file_name("wb-manager");
    let s = Served::new("");
    let work = s.g.path("pywb");
    std::fs::create_dir_all(&work).unwrap();
    let warc = work.join("citewatch.warc.gz");
    let out =
        s.g.cmd(&["export-warc", "-o", warc.to_str().unwrap()])
            .output()
            .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    run(&wb_manager, &work, &["init", "cw"]);
    run(&wb_manager, &work, &["add", "cw", warc.to_str().unwrap()]);
    let port = free_port();
    let _pywb = Pywb(
        Command::new(&wayback)
            .args(["-b", "127.0.0.1", "-p", &port.to_string()])
            .current_dir(&work)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let srv = s.start().await;
    let c = client();
    let pywb = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while c.get(format!("{pywb}/")).send().await.is_err() {
        assert!(Instant::now() < deadline, "pywb did not start on {pywb}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    for (id, url, stamp, bytes) in [
        (s.ids.a2020, ARTICLE, "20200101000000", article_v1()),
        (s.ids.a2021, ARTICLE, "20210101000000", article_v2()),
        (s.ids.pdf, REPORT, "20200101010000", pdf()),
    ] {
        let theirs = get(&c, format!("{pywb}/cw/{stamp}id_/{url}")).await;
        assert_eq!(theirs.status(), 200, "pywb {stamp} {url}");
        let theirs = theirs.bytes().await.unwrap();
        let ours = get(&c, srv.url(&format!("/archive/{id}")))
            .await
            .bytes()
            .await
            .unwrap();
        assert_eq!(
            sha(&theirs),
            sha(&bytes),
            "pywb's id_ bytes of {url} at {stamp}"
        );
        assert_eq!(
            sha(&ours),
            sha(&theirs),
            "ours and pywb's agree for capture {id}"
        );
    }

    // pywb's TimeMap of the article lists as many mementos as ours.
    let count = |text: &str| text.matches("memento\"").count() + text.matches("memento;").count();
    let theirs = get(&c, format!("{pywb}/cw/timemap/link/{ARTICLE}"))
        .await
        .text()
        .await
        .unwrap();
    let ours = get(&c, srv.url(&format!("/timemap/link/{ARTICLE}")))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(count(&ours), 2, "{ours}");
    assert_eq!(count(&theirs), count(&ours), "pywb: {theirs}\nours: {ours}");
    srv.stop().await;
}
