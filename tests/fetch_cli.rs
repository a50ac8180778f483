//! `citewatch fetch URL` through the real binary.

mod common;

use common::Ground;
use common::web::TestWeb;
use serde_json::Value;
use sha2::{Digest, Sha256};

async fn run(g: &Ground, args: &[&str]) -> (Option<i32>, Value, String) {
    let mut cmd = g.cmd(args);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code(),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_prints_the_whole_account_as_json() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = Ground::new();
    g.write_config(
        "[fetch]\nrespect_robots = false\nrequests_per_second = 0.0\nallow_networks = [\"127.0.0.1/32\"]\n",
    );
    let url = format!("http://127.0.0.1:{}/chain/1#frag", web.port());
    let (code, j, err) = run(&g, &["fetch", &url, "--format", "json"]).await;
    assert_eq!(code, Some(0), "{err}");
    for key in [
        "url",
        "final_url",
        "outcome",
        "status",
        "error",
        "hops",
        "headers",
        "size",
        "sha256",
        "truncated",
        "attempts",
        "retries",
        "started_at",
        "duration_ms",
    ] {
        assert!(j.get(key).is_some(), "{key} missing: {j}");
    }
    assert_eq!(
        j["url"],
        format!("http://127.0.0.1:{}/chain/1", web.port()),
        "normalised"
    );
    assert_eq!(j["outcome"], "http");
    assert_eq!(j["status"], 200);
    assert_eq!(j["error"], Value::Null);
    assert_eq!(j["hops"].as_array().unwrap().len(), 3);
    assert_eq!(j["sha256"], hex::encode(Sha256::digest(b"arrived")));
    assert_eq!(j["size"], 7);
    assert!(j["started_at"].as_str().unwrap().ends_with('Z'));

    let forbidden = format!("http://127.0.0.2:{}/secret", web.port());
    let (code, j, _) = run(&g, &["fetch", &forbidden, "--format", "json"]).await;
    assert_eq!(code, Some(3));
    assert_eq!(j["error"]["kind"], "address_refused");
    assert!(j["error"]["detail"].as_str().unwrap().contains("loopback"));

    let (code, j, _) = run(&g, &["fetch", "htp://example.com/", "--format", "json"]).await;
    assert_eq!(code, Some(2));
    assert_eq!(j["error"]["kind"], "invalid_url");

    let (code, _, _) = run(&g, &["fetch", &url]).await;
    assert_eq!(code, Some(0));
    assert!(web.hits().iter().all(|h| h.path != "/secret"));

    // A redirect loop, a Retry-After of a day and a redirect no one can
    // follow are answers too: exit 0.
    for (path, kind) in [
        ("/loop/a", "too_many_redirects"),
        ("/ratelimited-long", "rate_limited"),
        ("/to-mailto", "invalid_url"),
    ] {
        let u = format!("http://127.0.0.1:{}{path}", web.port());
        let (code, j, err) = run(&g, &["fetch", &u, "--format", "json"]).await;
        assert_eq!(code, Some(0), "{path}: {err}");
        assert_eq!(j["error"]["kind"], kind, "{j}");
    }
    // The hop that could not be followed is in the account.
    let u = format!("http://127.0.0.1:{}/to-mailto", web.port());
    let (_, j, _) = run(&g, &["fetch", &u, "--format", "json"]).await;
    let hops = j["hops"].as_array().unwrap();
    assert_eq!(hops.len(), 1, "{j}");
    assert_eq!(
        (&hops[0]["status"], &hops[0]["location"]),
        (&302.into(), &"mailto:desk@example.org".into())
    );
}

/// A 100 KB URL or host given by mistake was repeated whole in the error
/// line: it is named by its start and its length.
#[test]
fn a_long_bad_argument_is_named_by_its_start_and_its_length() {
    let g = Ground::new();
    g.brief("seed.txt", common::SEED);
    g.sync();
    let with_space = format!("http://127.0.0.1/{} b", "a".repeat(100_000));
    let no_source = format!("http://127.0.0.1/{}", "a".repeat(100_000));
    let host = "h".repeat(100_000);
    for args in [
        vec!["status", with_space.as_str()],
        vec!["fetch", &with_space],
        vec!["check", "--no-sync", "--url", &with_space],
        vec!["check", "--no-sync", "--url", &no_source],
        vec!["check", "--no-sync", "--host", &host],
    ] {
        let out = g.cmd(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let shown = &err[..err.len().min(300)];
        assert_eq!(out.status.code(), Some(2), "{:?}: {shown}", &args[..2]);
        assert!(
            err.len() < 1_000,
            "{:?}: {} bytes: {shown}",
            &args[..2],
            err.len()
        );
        let given = args.last().unwrap();
        assert!(err.contains(&given[..60]), "{:?}: {err}", &args[..2]);
        let length = format!(" ({} characters)", given.chars().count());
        assert!(err.contains(&length), "{:?}: {err}", &args[..2]);
    }
    // Nothing was fetched or checked.
    let sources = g.json(&["sources", "--format", "json"]);
    assert!(
        sources
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["last_checked"].is_null()),
        "{sources}"
    );
}

/// `fetch ftp://…` printed `GET ftp://…` and `attempts: 0`, as if a request
/// had been made.
#[test]
fn a_url_of_another_scheme_is_refused_not_shown_as_a_get() {
    let g = Ground::new();
    for url in ["ftp://127.0.0.1/file.txt", "mailto:editor@127.0.0.1"] {
        for args in [vec!["fetch", url], vec!["fetch", "--save", url]] {
            let out = g.cmd(&args).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            let said = String::from_utf8_lossy(&out.stdout);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(said.is_empty(), "{args:?} claimed a request: {said}");
            assert!(
                err.contains(&format!(
                    "`{url}` cannot be fetched as written, so nothing was requested: scheme"
                )) && err.contains("is not http or https"),
                "{args:?}: {err}"
            );
        }
    }
    assert!(!g.data().exists(), "--save made a store for nothing");
}

/// A body past 1 MiB is buffered in a temporary file; when this machine
/// cannot make one, the failure is ours, not the server's: not `connect`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_cannot_be_buffered_here_is_a_local_failure() {
    let web = TestWeb::start("127.0.0.1").await;
    let g = Ground::new();
    g.write_config(
        "[fetch]\nrespect_robots = false\nrequests_per_second = 0.0\nretries = 0\nallow_networks = [\"127.0.0.1/32\"]\n",
    );
    let url = format!("http://127.0.0.1:{}/files/blob.bin", web.port());
    let mut cmd = g.cmd(&["fetch", &url, "--format", "json"]);
    cmd.env("TMPDIR", g.data().join("no-such-folder"));
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let j: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(j["outcome"], "local", "{j} {err}");
    assert_eq!(j["error"]["kind"], "local", "{j}");
    let detail = j["error"]["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("cannot buffer the body on this machine's disk: "),
        "{detail}"
    );
    assert_eq!(j["attempts"], 1, "a failure of ours is not retried: {j}");
}
