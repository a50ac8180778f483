//! `citewatch sync` and `citewatch citations` driven through the real binary.

mod common;

use common::{Ground, SEED, snapshot};
use serde_json::{Value, json};

fn field<'a>(v: &'a Value, k: &str) -> &'a Value {
    v.get(k)
        .unwrap_or_else(|| panic!("key {k} missing from {v}"))
}

#[test]
fn seed_page_syncs_to_its_eight_citations() {
    let g = Ground::new();
    g.brief("briefings-244.txt", SEED);
    let r = g.sync();
    assert_eq!(
        (r["new"].as_u64(), r["citations_written"].as_u64()),
        (Some(1), Some(8))
    );
    let rows = g.citations();
    assert_eq!(rows.len(), 8);
    let keys = [
        "document",
        "title",
        "outlet",
        "cited_date",
        "url",
        "source_url",
        "invalid_reason",
    ];
    for row in &rows {
        for k in keys {
            field(row, k);
        }
        assert_eq!(row["document"], "briefings-244.txt");
        assert_eq!(row["invalid_reason"], Value::Null);
        assert_eq!(row["withdrawn"], false);
    }
    let dhs = &rows[4];
    assert_eq!(
        dhs["title"],
        "DHS Warns Businesses about Security Risks on Data Services and Equipment from China Linked Firms"
    );
    assert_eq!(dhs["outlet"], "U.S. Department of Home Security");
    assert_eq!(dhs["cited_date"], "2020-12-22");
    assert_eq!(
        dhs["source_url"],
        "https://www.dhs.gov/news/2020/12/22/dhs-warns-american-businesses-about-data-services-and-equipment-firms-linked-chinese"
    );
    // Three Xinhua citations on one date, three distinct sources.
    let xinhua: Vec<_> = rows.iter().filter(|r| r["outlet"] == "Xinhua").collect();
    assert_eq!(xinhua.len(), 3);
    assert!(xinhua.iter().all(|r| r["cited_date"] == "2020-12-26"));
}

#[test]
fn one_source_cited_twice_is_one_source() {
    let g = Ground::new();
    g.brief(
        "a.txt",
        "Title A\n\nBody of item A here.\n\nSource: X, May 1, 2021\nHTTP://Example.COM:80/a#top\n",
    );
    g.brief(
        "b.md",
        "# B\n\nBody of B, see [the page](http://example.com/a).\n",
    );
    let r = g.sync();
    assert_eq!(r["total_sources"], 1);
    let rows = g.citations();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["source_id"], rows[1]["source_id"]);
    assert_eq!(rows[0]["url"], "HTTP://Example.COM:80/a#top");
    assert_eq!(rows[0]["source_url"], "http://example.com/a");
    // Text shows the source checked beside a URL written otherwise, and
    // nothing more beside one written as checked.
    let out = g.cmd(&["citations"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "    X, 2021-05-01  HTTP://Example.COM:80/a#top  (source: http://example.com/a)\n"
        ),
        "{text}"
    );
    assert!(text.contains("    -, -  http://example.com/a\n"), "{text}");
}

#[test]
fn malformed_urls_are_recorded_with_reasons() {
    let g = Ground::new();
    let doc = "One\n\nBody one here.\n\nSource: A, December 1, 2020\nhtp://example.com/x\n\n\
               Two\n\nBody two here.\n\nSource: B, December 2, 2020\nhttp://\n\n\
               Three\n\nBody three here.\n\nSource: C, December 3, 2020\nhttp://example.com/a b\n\n\
               Four\n\nBody four here.\n\nSource: D, December 4, 2020\n\n\
               Five\n\nBody five here.\n\nSource: E, December 5, 2020\nhttps://ok.example/e\n";
    g.brief("bad.txt", doc);
    let r = g.sync();
    assert_eq!(r["invalid_written"], 4);
    let rows = g.citations();
    let got: Vec<(Value, Value, Value)> = rows
        .iter()
        .map(|r| {
            (
                r["url"].clone(),
                r["source_url"].clone(),
                r["invalid_reason"].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                json!("htp://example.com/x"),
                Value::Null,
                json!("scheme `htp` is not http or https")
            ),
            (json!("http://"), Value::Null, json!("no host name")),
            (
                json!("http://example.com/a b"),
                Value::Null,
                json!("contains whitespace")
            ),
            (Value::Null, Value::Null, json!("no URL given")),
            (
                json!("https://ok.example/e"),
                json!("https://ok.example/e"),
                Value::Null
            ),
        ]
    );
    let text = g.cmd(&["citations", "--invalid"]).output().unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("INVALID (scheme `htp` is not http or https): htp://example.com/x"),
        "{text}"
    );
    assert!(!text.contains("ok.example"), "{text}");
}

#[test]
fn citations_invalid_with_none_says_so_not_sync_first() {
    let g = Ground::new();
    g.brief("good.txt", SEED);
    g.sync();
    let out = g.cmd(&["citations", "--invalid"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.trim(), "no invalid citation among 8");
}

#[test]
fn resync_of_an_unchanged_store_changes_nothing() {
    let g = Ground::new();
    g.brief("briefings-244.txt", SEED);
    g.brief("more/b.md", "# T\n\nSee https://a.example/x.\n");
    g.sync();
    let before = g.citations();
    let r = g.sync();
    assert_eq!(
        (
            r["unchanged"].as_u64(),
            r["new"].as_u64(),
            r["changed"].as_u64()
        ),
        (Some(2), Some(0), Some(0))
    );
    assert_eq!(r["citations_written"], 0);
    assert_eq!(g.citations(), before, "ids and fields are stable");
    assert!(
        before.iter().any(|r| r["document"] == "more/b.md"),
        "nested names are /-separated"
    );
}

#[test]
fn a_changed_document_replaces_its_items() {
    let g = Ground::new();
    g.brief("briefings-244.txt", SEED);
    g.sync();
    let edited = SEED.replace(
        "http://www.xinhuanet.com/world/2020-12/26/c_1126911308.htm",
        "http://www.xinhuanet.com/world/2020-12/27/c_999.htm",
    );
    g.brief("briefings-244.txt", edited);
    let r = g.sync();
    assert_eq!(
        (r["changed"].as_u64(), r["citations_written"].as_u64()),
        (Some(1), Some(8))
    );
    assert_eq!(r["new_sources"], 1);
    let rows = g.citations();
    assert_eq!(rows.len(), 8, "items replaced, not added");
    assert_eq!(
        rows[2]["url"],
        "http://www.xinhuanet.com/world/2020-12/27/c_999.htm"
    );
    // The old source stays (its history must), though nothing cites it now.
    assert_eq!(r["total_sources"], 9);
}

#[test]
fn a_removed_document_is_withdrawn_and_can_come_back() {
    let g = Ground::new();
    g.brief("briefings-244.txt", SEED);
    g.brief(
        "other.txt",
        "T\n\nBody text here.\n\nSource: A, May 1, 2021\nhttps://a.example/1\n",
    );
    g.sync();
    std::fs::remove_file(g.path("briefings/briefings-244.txt")).unwrap();
    let r = g.sync();
    assert_eq!(
        (r["withdrawn"].as_u64(), r["citations_withdrawn"].as_u64()),
        (Some(1), Some(8))
    );
    assert_eq!(g.citations().len(), 1);
    let all = g.json(&["citations", "--format", "json", "--include-withdrawn"]);
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 9);
    assert_eq!(all.iter().filter(|r| r["withdrawn"] == true).count(), 8);
    assert_eq!(r["total_sources"], 9, "sources stay");
    g.brief("briefings-244.txt", SEED);
    let r = g.sync();
    assert_eq!(r["restored"], 1);
    assert_eq!(g.citations().len(), 9);
}

/// A document withdrawn, then put back with edits, was counted as
/// `changed`, as if it had never gone, and so was one put back as it was
/// once a newer reader had come: each is back, as one put back unchanged
/// is, and its edits are read all the same.
#[test]
fn a_document_put_back_with_edits_is_restored_and_its_edits_read() {
    let g = Ground::new();
    let doc = |url: &str| format!("T\n\nBody text here.\n\nSource: A, May 1, 2021\n{url}\n");
    g.brief("a.txt", doc("http://127.0.0.1/1"));
    g.brief("other.txt", doc("http://127.0.0.1/other"));
    g.sync();
    std::fs::remove_file(g.path("briefings/a.txt")).unwrap();
    assert_eq!(g.sync()["withdrawn"], 1);
    g.brief("a.txt", doc("http://127.0.0.1/2"));
    let out = g.cmd(&["sync"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.starts_with(
            "synced 2 documents: 0 new, 0 changed, 1 unchanged, 1 restored, 0 withdrawn (with 0 citations)\n"
        ),
        "{text}"
    );
    let urls = |g: &Ground| {
        g.citations()
            .iter()
            .map(|r| r["url"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(urls(&g), ["http://127.0.0.1/2", "http://127.0.0.1/other"]);
    // Put back as it was, but read by an older reader before it went.
    std::fs::remove_file(g.path("briefings/a.txt")).unwrap();
    assert_eq!(g.sync()["withdrawn"], 1);
    {
        let db = rusqlite::Connection::open(g.path("data/citewatch.db")).unwrap();
        db.execute_batch("UPDATE documents SET reader = 0 WHERE path = 'a.txt';")
            .unwrap();
    }
    g.brief("a.txt", doc("http://127.0.0.1/2"));
    let r = g.sync();
    assert_eq!(
        (
            r["restored"].as_u64(),
            r["changed"].as_u64(),
            r["unchanged"].as_u64(),
            r["citations_written"].as_u64()
        ),
        (Some(1), Some(0), Some(1), Some(1)),
        "{r}"
    );
    assert_eq!(urls(&g), ["http://127.0.0.1/2", "http://127.0.0.1/other"]);
}

#[test]
fn a_gbk_document_is_decoded() {
    let g = Ground::new();
    let text = "新华社：上海启动重点人群新冠疫苗接种\n\n据新华社报道，上海市疾病预防控制中心透露，上海已陆续启动新冠病毒疫苗接种工作。\n\n来源：新华社，2020年12月26日\nhttp://www.xinhuanet.com/local/2020-12/26/c_1126910999.htm\n";
    let (bytes, _, _) = encoding_rs::GBK.encode(text);
    g.brief("gbk.txt", &bytes[..]);
    let r = g.sync();
    assert_eq!(r["citations_written"], 1);
    let rows = g.citations();
    assert_eq!(rows[0]["title"], "新华社：上海启动重点人群新冠疫苗接种");
    assert_eq!(rows[0]["outlet"], "新华社");
    assert_eq!(rows[0]["cited_date"], "2020-12-26");
}

#[test]
fn html_and_markdown_briefings_sync() {
    let g = Ground::new();
    g.brief(
        "page.html",
        "<h2>Xinhua: Title</h2><p>Body text.</p><p>Source: <a href='http://x.example/1'>Xinhua, December 26, 2020</a></p>",
    );
    g.brief(
        "page.md",
        "## RFA: Title\n\nBody.\n\nSource: [RFA, January 2, 2021](https://rfa.example/2)\n",
    );
    g.brief("ignored.pdf", "not a briefing");
    g.sync();
    let rows = g.citations();
    let got: Vec<_> = rows
        .iter()
        .map(|r| (r["document"].clone(), r["outlet"].clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (json!("page.html"), json!("Xinhua")),
            (json!("page.md"), json!("RFA"))
        ]
    );
}

#[test]
fn bad_config_is_one_clear_line_exit_2_and_no_store() {
    let g = Ground::new();
    g.brief("a.txt", SEED);
    for (config, needle) in [
        ("[store]\ndir = \"../data\"\ndri = 1\n", "dri"),
        ("[briefings]\npaths = \"../briefings\"\n", "briefings.paths"),
        ("[briefings]\npaths = []\n", "briefings.paths"),
        ("[fetch]\nspeed = 3\n", "speed"),
        // Once accepted, and every request then went without a User-Agent.
        (
            "[fetch]\nuser_agent = \"cw/1\\nX-Evil: 1\"\n",
            "citewatch.toml:2: key `fetch.user_agent`",
        ),
        ("[briefings\n", "citewatch.toml:1"),
        (
            "[briefings]\npaths = [\"../nowhere\"]\n[store]\ndir = \"../data\"\n",
            "../nowhere",
        ),
    ] {
        g.write_config(config);
        let out = g.cmd(&["sync"]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{config:?}: {err}");
        assert!(err.contains(needle), "{config:?}: {err}");
        assert!(
            err.contains("citewatch.toml") || err.contains("nowhere"),
            "{err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(!g.data().exists(), "store created despite {config:?}");
    }
    // A configuration file that is not there (this once asserted on clap
    // refusing a second --config, which also exits 2).
    let out = assert_cmd::Command::cargo_bin("citewatch")
        .unwrap()
        .arg("--config")
        .arg(g.path("missing.toml"))
        .arg("sync")
        .env_remove("CITEWATCH_CONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // The cause is said once, not once per layer that names it.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("missing.toml: cannot read the configuration: "),
        "{err}"
    );
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
}

#[test]
fn unreadable_document_is_named_and_the_rest_synced_and_kept() {
    let g = Ground::new();
    g.brief("good.txt", SEED);
    g.brief(
        "later.txt",
        "T\n\nBody text here.\n\nSource: A, May 1, 2021\nhttps://a.example/1\n",
    );
    g.sync();
    // A document that can no longer be read is not taken for withdrawn.
    std::fs::remove_file(g.path("briefings/later.txt")).unwrap();
    std::os::unix::fs::symlink(g.path("nowhere.txt"), g.path("briefings/later.txt")).unwrap();
    let out = g.cmd(&["sync"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("later.txt"), "{err}");
    assert_eq!(g.citations().len(), 9);
    // `check`, which syncs first, says so too (`--limit 0`: nothing fetched).
    let out = g.cmd(&["check", "--limit", "0"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("citewatch: cannot read ../briefings/later.txt: "),
        "{err}"
    );
    assert!(
        err.contains("1 document could not be read; it was left as the store had it"),
        "{err}"
    );
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("checked 0 of 0"), "{summary}");
}

#[test]
fn a_missing_briefings_path_is_exit_2_before_any_store_is_made() {
    let g = Ground::new();
    g.write_config("[briefings]\npaths = [\"../nope\"]\n[store]\ndir = \"../data\"\n");
    for args in [vec!["sync"], vec!["check", "--limit", "0"]] {
        let out = g.cmd(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("briefings path `../nope`"), "{args:?}: {err}");
        assert!(!g.data().exists(), "{args:?} made the data folder");
    }
}

#[test]
fn a_device_or_a_pipe_among_the_briefings_is_named_not_read() {
    let g = Ground::new();
    g.brief("good.txt", SEED);
    // Read, /dev/zero would fill memory and a pipe would wait for ever.
    std::os::unix::fs::symlink("/dev/zero", g.path("briefings/zero.txt")).unwrap();
    let fifo = std::ffi::CString::new(
        g.path("briefings/pipe.md")
            .into_os_string()
            .into_encoded_bytes(),
    )
    .unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a file.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    let out = g.cmd(&["sync"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    for name in ["zero.txt", "pipe.md"] {
        assert!(
            err.lines()
                .any(|l| l.contains(name) && l.contains("not a regular file")),
            "{name}: {err}"
        );
    }
    assert_eq!(g.citations().len(), 8);
}

#[test]
fn a_reader_closing_the_pipe_early_is_not_a_failure() {
    use std::io::Read;
    let g = Ground::new();
    let mut doc = String::from("Briefings\n\n");
    for i in 0..3000 {
        doc.push_str(&format!(
            "Outlet: Headline {i}\n\nA body paragraph long enough to be one.\n\n\
             Source: Outlet, December 26, 2020\nhttps://a.example/{i}\n\n"
        ));
    }
    g.brief("many.txt", &doc);
    g.sync();
    for args in [
        vec!["citations", "--format", "json"],
        vec!["sources", "--format", "json"],
    ] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("citewatch"))
            .arg("--config")
            .arg(g.config())
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut head = [0u8; 10];
        child.stdout.take().unwrap().read_exact(&mut head).unwrap();
        // The pipe is closed here, with most of the output unread (`| head -c 10`).
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
}

/// `--config` naming a pipe waited for ever; a folder gave a bare EISDIR.
#[test]
fn a_configuration_that_is_a_pipe_or_a_folder_is_refused_at_once() {
    let g = Ground::new();
    let fifo_path = g.path("config/pipe.toml");
    let fifo =
        std::ffi::CString::new(fifo_path.clone().into_os_string().into_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a file.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    for (path, says) in [
        (fifo_path, "not a regular file"),
        (g.path("config"), "a folder, not a configuration file"),
    ] {
        let mut cmd = assert_cmd::Command::cargo_bin("citewatch").unwrap();
        cmd.arg("--config")
            .arg(&path)
            .arg("sources")
            .env_remove("CITEWATCH_CONFIG")
            .timeout(std::time::Duration::from_secs(20));
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {err}", path.display());
        assert!(err.contains(says), "{err}");
    }
}

#[test]
fn a_mistyped_cited_date_is_named_and_the_outlet_kept_clean() {
    let g = Ground::new();
    g.brief(
        "typo.txt",
        "Briefings\n\nOutlet: A headline\n\nA body paragraph long enough to be one.\n\n\
         Source: Fourth Outlet, Decembr 40, 2020\nhttps://a.example/1\n",
    );
    let out = g.cmd(&["sync"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("1 cited date could not be read; its citation is kept undated:\n")
            && text.contains("typo.txt: \"Decembr 40, 2020\""),
        "{text}"
    );
    let rows = g.citations();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["outlet"], "Fourth Outlet");
    assert_eq!(rows[0]["cited_date"], Value::Null);
    let json: Value = serde_json::from_slice(
        &g.cmd(&["sync", "--rehash", "--format", "json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        json["unread_dates_total"], 0,
        "an unchanged document is not read again"
    );
}

/// Numeric cited dates were all named as unreadable. Each order forced by
/// a number over 12 is read; one that reads both ways is named as
/// ambiguous, its citation kept undated.
#[test]
fn a_numeric_cited_date_is_read_or_named_as_ambiguous() {
    let g = Ground::new();
    let item = |title: &str, source: &str, n: u32| {
        format!(
            "{title}\n\nA body paragraph long enough to be one.\n\n\
             Source: {source}\nhttp://127.0.0.1/{n}\n\n"
        )
    };
    g.brief(
        "numeric.txt",
        [
            item("One", "Reuters, 12/26/2020", 1),
            item("Two", "AP, 26/12/2020", 2),
            item("Three", "AFP, 2020/12/26", 3),
            item("Four", "Kyodo, 03/04/2020", 4),
            item("Five", "Yonhap, 02/30/2020", 5),
        ]
        .concat(),
    );
    let out = g.cmd(&["sync"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("2 cited dates could not be read; those citations are kept undated:\n")
            && text.contains("numeric.txt: \"03/04/2020\" (ambiguous: month/day or day/month)\n")
            && text.contains("numeric.txt: \"02/30/2020\"\n"),
        "{text}"
    );
    let rows = g.citations();
    let got: Vec<(Value, Value)> = rows
        .iter()
        .map(|r| (r["outlet"].clone(), r["cited_date"].clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (json!("Reuters"), json!("2020-12-26")),
            (json!("AP"), json!("2020-12-26")),
            (json!("AFP"), json!("2020-12-26")),
            (json!("Kyodo"), Value::Null),
            (json!("Yonhap"), Value::Null),
        ]
    );
    g.brief(
        "numeric.txt",
        [
            item("Four", "Kyodo, 03/04/2020", 4),
            item("Five", "Yonhap, 02/30/2020", 5),
        ]
        .concat(),
    );
    let json: Value = serde_json::from_slice(
        &g.cmd(&["sync", "--rehash", "--format", "json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(json["unread_dates_total"], 2, "{json}");
    assert_eq!(
        json["unread_dates"],
        json!([
            {"document": "../briefings/numeric.txt", "written": "03/04/2020", "ambiguous": true},
            {"document": "../briefings/numeric.txt", "written": "02/30/2020", "ambiguous": false},
        ])
    );
}

#[test]
fn the_sync_summary_counts_one_in_the_singular() {
    // It said "synced 1 documents", "1 items", "1 citations", "1 sources".
    let g = Ground::new();
    g.brief(
        "a.txt",
        "T\n\nBody text here.\n\nSource: A, May 1, 2021\nhttps://a.example/1\n",
    );
    let out = g.cmd(&["sync"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for line in [
        "synced 1 document: 1 new, 0 changed, 0 unchanged, 0 restored, 0 withdrawn (with 0 citations)\n",
        "wrote 1 item and 1 citation (0 invalid), 1 new source, in ",
        "store now holds 1 citation of 1 source\n",
    ] {
        assert!(text.contains(line), "{line:?} not in {text}");
    }
    g.brief(
        "b.txt",
        "U\n\nBody text here.\n\nSource: B, May 2, 2021\nhttps://a.example/2\n",
    );
    std::fs::remove_file(g.path("briefings/a.txt")).unwrap();
    let out = g.cmd(&["sync"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("synced 1 document: 1 new, 0 changed, 0 unchanged, 0 restored, 1 withdrawn (with 1 citation)\n")
            && text.contains("store now holds 1 citation of 2 sources\n"),
        "{text}"
    );
}

#[test]
fn a_source_never_checked_says_so_in_words() {
    let g = Ground::new();
    g.brief("good.txt", SEED);
    g.sync();
    let url = g.citations()[0]["source_url"].as_str().unwrap().to_string();
    // Read from the store only: nothing is fetched.
    let out = g.cmd(&["status", &url]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("\n  status: unchecked\n"), "{text}");
    assert!(
        text.contains("last checked: never, next due: at the next run"),
        "{text}"
    );
}

/// A URL cited with escapes (`%C3%A9`, `%7E`) and typed as a browser or
/// another page spells it (`%c3%a9`, `~`, `é`) was "not a source", with no
/// source named: normalisation keeps escapes as cited.
#[test]
fn a_url_typed_with_other_escapes_names_the_source_cited() {
    let g = Ground::new();
    let cited = "https://a.example/caf%C3%A9/%7Euser?q=a%20b";
    g.brief(
        "a.txt",
        format!("T\n\nBody text here.\n\nSource: A, May 1, 2021\n{cited}\n"),
    );
    g.sync();
    for typed in [
        "https://a.example/caf%c3%a9/~user?q=a%20b",
        "https://a.example/café/~user?q=a%20b",
    ] {
        let out = g.cmd(&["status", typed]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{typed}: {err}");
        assert!(err.contains(&format!("sources nearby: {cited}")), "{err}");
    }
}

#[test]
fn config_is_found_through_the_environment_and_the_default_path() {
    let g = Ground::new();
    g.brief("a.txt", SEED);
    let mut c = assert_cmd::Command::cargo_bin("citewatch").unwrap();
    c.env("CITEWATCH_CONFIG", g.config())
        .args(["sync"])
        .assert()
        .success();
    assert!(g.path("data/citewatch.db").exists());
    let mut c = assert_cmd::Command::cargo_bin("citewatch").unwrap();
    let out = c
        .current_dir(g.dir.path())
        .env_remove("CITEWATCH_CONFIG")
        .args(["citations", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 8);
    let empty = tempfile::tempdir().unwrap();
    let mut c = assert_cmd::Command::cargo_bin("citewatch").unwrap();
    let out = c
        .current_dir(empty.path())
        .env_remove("CITEWATCH_CONFIG")
        .arg("sync")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--config"));
}

#[test]
fn an_empty_citewatch_config_is_as_if_unset() {
    // It once named the file "" ("citewatch: : cannot read the configuration").
    let g = Ground::new();
    g.brief("a.txt", SEED);
    let mut c = assert_cmd::Command::cargo_bin("citewatch").unwrap();
    c.current_dir(g.dir.path())
        .env("CITEWATCH_CONFIG", "")
        .arg("sync")
        .assert()
        .success();
    assert!(g.path("data/citewatch.db").exists());
    let empty = tempfile::tempdir().unwrap();
    let mut c = assert_cmd::Command::cargo_bin("citewatch").unwrap();
    let out = c
        .current_dir(empty.path())
        .env("CITEWATCH_CONFIG", "")
        .arg("sync")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no configuration at config/citewatch.toml"),
        "{err}"
    );
}

#[test]
fn a_data_folder_that_is_a_file_is_a_configuration_error() {
    // It was exit 3, "cannot create the data folder: File exists (os error 17)",
    // and the read commands said to run `sync` first.
    let g = Ground::new();
    g.brief("a.txt", SEED);
    std::fs::write(g.data(), "not a folder").unwrap();
    for args in [
        vec!["sync"],
        vec!["check", "--limit", "0"],
        vec!["citations"],
    ] {
        let out = g.cmd(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("citewatch.toml:4: key `store.dir`: ")
                && err.contains("data is a file, not a folder"),
            "{args:?}: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
    assert_eq!(std::fs::read(g.data()).unwrap(), b"not a folder");
}

#[test]
fn bad_config_leaves_an_existing_store_untouched() {
    let g = Ground::new();
    g.brief("a.txt", SEED);
    g.sync();
    let before = snapshot(&g.data());
    g.write_config(
        "[briefings]\npaths = [\"../briefings\"]\n[store]\ndir = \"../data\"\nbogus = true\n",
    );
    g.cmd(&["sync"]).assert().code(2);
    assert_eq!(snapshot(&g.data()), before);
}

#[test]
fn stat_shortcut_skips_unread_files_and_rehash_looks_inside() {
    let g = Ground::new();
    let path = g.path("briefings/a.txt");
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let set_old = || {
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(old)
            .unwrap()
    };
    g.brief(
        "a.txt",
        "T\n\nBody text here.\n\nSource: A, May 1, 2021\nhttps://a.example/1\n",
    );
    set_old();
    g.sync();
    // Same size, same mtime, different bytes: only --rehash can tell.
    g.brief(
        "a.txt",
        "T\n\nBody text here.\n\nSource: A, May 1, 2021\nhttps://a.example/2\n",
    );
    set_old();
    assert_eq!(g.sync()["unchanged"], 1);
    let r = g.json(&["sync", "--format", "json", "--rehash"]);
    assert_eq!(r["changed"], 1);
    assert_eq!(g.citations()[0]["url"], "https://a.example/2");
}

#[test]
fn every_read_command_before_the_first_sync_says_sync_first_exit_2() {
    let g = Ground::new();
    let url = "http://news.test/a";
    let warc = g.path("all.warc.gz");
    for args in [
        vec!["citations"],
        vec!["sources"],
        vec!["status", url],
        vec!["history", url],
        vec!["get", url],
        vec!["report"],
        vec!["verify"],
        vec!["export-warc", "-o", warc.to_str().unwrap()],
    ] {
        let out = g.cmd(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("no store here yet; run `citewatch sync` first"),
            "{args:?}: {err}"
        );
        assert!(!g.data().join("citewatch.db").exists(), "{args:?}");
    }
}

#[test]
fn one_stray_byte_does_not_turn_a_utf8_document_into_mojibake() {
    let g = Ground::new();
    let doc = "Briefings\n\n新华社: 疫苗接种工作\n\n上海已陆续启动新冠病毒疫苗接种工作，使用的是灭活疫苗。\n\n\
               Source: 新华社, December 26, 2020\nhttp://news.test/新闻/p1.html\n";
    g.brief("a.txt", doc);
    g.sync();
    let before = g.citations();
    // One Windows-1252 apostrophe pasted at the end.
    let mut bytes = doc.as_bytes().to_vec();
    bytes.extend_from_slice(b"Beijing\x92s plan.\n");
    g.brief("a.txt", &bytes);
    let out = g.cmd(&["sync"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let offset = doc.len() + "Beijing".len();
    assert!(
        text.contains(&format!(
            "../briefings/a.txt: UTF-8 but for 1 byte, at byte offset {offset}, read as U+FFFD"
        )),
        "{text}"
    );
    let after = g.citations();
    assert_eq!(after.len(), 1);
    for key in ["outlet", "source_url", "source_id"] {
        assert_eq!(after[0][key], before[0][key], "{key}");
    }
    assert_eq!(after[0]["outlet"], "新华社");
    let sources = g.json(&["sources", "--format", "json"]);
    assert_eq!(sources.as_array().map(Vec::len), Some(1), "{sources}");
    let json = g.json(&["sync", "--rehash", "--format", "json"]);
    assert_eq!(
        json["not_utf8"],
        serde_json::json!([]),
        "unchanged: not read"
    );
}

/// A short UTF-8 briefing (one Chinese outlet among English) with one
/// stray byte was guessed a legacy encoding whole, the outlet mojibake and
/// nothing said: it is read as UTF-8, and the byte named where it is.
#[test]
fn a_stray_byte_in_a_short_document_is_named_where_it_is() {
    let g = Ground::new();
    let doc = "Title\n\nShanghai began vaccinating people at risk.\n\n\
               Source: 新华社, December 26, 2020\nhttp://news.test/p1.html\n";
    let mut bytes = b"Beijing".to_vec();
    bytes.push(0x92);
    bytes.extend_from_slice(b"s plan.\n\n");
    bytes.extend_from_slice(doc.as_bytes());
    g.brief("a.txt", &bytes);
    let out = g.cmd(&["sync"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(
            "../briefings/a.txt: UTF-8 but for 1 byte, at byte offset 7, read as U+FFFD \
             (fix the document's encoding)"
        ),
        "{text}"
    );
    let citations = g.citations();
    assert_eq!(citations.len(), 1, "{citations:?}");
    assert_eq!(citations[0]["outlet"], "新华社");
    // As JSON, the same warning; the exit is 0 (the document was read).
    g.brief("a.txt", [&bytes[..], b"\n"].concat());
    let json = g.sync();
    assert_eq!(
        json["not_utf8"],
        serde_json::json!([{"document": "../briefings/a.txt", "bytes": 1, "offset": 7}]),
        "{json}"
    );
}

/// A picture or a PDF saved under a `.txt` name synced silently as a
/// document of no items, its citations withdrawn: it is named as not text,
/// and the store keeps what it had of it.
#[test]
fn a_document_that_is_no_text_is_named_and_its_citations_kept() {
    let g = Ground::new();
    g.brief("good.txt", SEED);
    let link = "T\n\nBody text here.\n\nSource: A, May 1, 2021\nhttps://a.example/1\n";
    g.brief("later.txt", link);
    g.sync();
    assert_eq!(g.citations().len(), 9);
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0\x08\x02\0\0\0\x90wS\xde";
    g.brief("later.txt", png);
    let out = g.cmd(&["sync"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("citewatch: cannot read ../briefings/later.txt: not text: byte 8 is NUL"),
        "{err}"
    );
    let out = g.cmd(&["sync", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["withdrawn"], 0, "{report}");
    assert_eq!(
        report["unreadable"][0]["document"], "../briefings/later.txt",
        "{report}"
    );
    assert_eq!(g.citations().len(), 9, "kept as the store had them");
}

/// UTF-16 without a byte-order mark that is mostly Chinese was guessed a
/// legacy encoding: no Source line found in the mojibake.
#[test]
fn a_mostly_chinese_utf16_document_without_a_bom_syncs() {
    let g = Ground::new();
    let doc = "上海启动重点人群新冠疫苗接种\n\n\
               新华社电，记者从上海市疾病预防控制中心获悉，上海已陆续启动新冠病毒疫苗接种工作，\
               使用的是国药集团中国生物北京生物制品研究所生产的灭活疫苗。首批接种对象为海关、边检、\
               冷链物流、交通运输等感染风险较高的重点人群。国务院联防联控机制新闻发布会介绍，\
               重点人群接种工作正在有序开展，接种者须签署知情同意书，接种后须留观三十分钟。\
               上海市卫生健康委员会表示，将根据疫苗供应情况，逐步扩大接种人群范围。\n\n\
               Source: 新华社, December 26, 2020\nhttp://news.test/p1.html\n";
    let le: Vec<u8> = doc.encode_utf16().flat_map(u16::to_le_bytes).collect();
    g.brief("a.txt", le);
    let report = g.sync();
    assert_eq!(report["unreadable"], serde_json::json!([]), "{report}");
    let citations = g.citations();
    assert_eq!(citations.len(), 1, "{citations:?}");
    assert_eq!(citations[0]["outlet"], "新华社");
}

#[test]
fn a_folder_the_walk_cannot_list_is_named_and_its_documents_kept() {
    let g = Ground::new();
    g.brief("good.txt", SEED);
    // `2021` is a link to a share that is mounted today…
    let share = g.path("share");
    std::fs::create_dir_all(&share).unwrap();
    std::fs::write(
        share.join("a.txt"),
        "T\n\nBody text here.\n\nSource: A, May 1, 2021\nhttps://a.example/1\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&share, g.path("briefings/2021")).unwrap();
    // Neither a link back up the tree nor a dangling link to a picture is a
    // briefing's concern: no error.
    std::os::unix::fs::symlink("..", share.join("up")).unwrap();
    std::os::unix::fs::symlink(g.path("nowhere.png"), g.path("briefings/pic.png")).unwrap();
    let first = g.sync();
    assert_eq!(first["unreadable"], serde_json::json!([]), "{first}");
    assert_eq!(first["documents"], 2, "{first}");
    assert_eq!(g.citations().len(), 9);
    // …and gone tomorrow: its documents are not withdrawn, and sync says why.
    std::fs::remove_dir_all(&share).unwrap();
    let out = g.cmd(&["sync", "--format", "json"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["withdrawn"], 0, "{report}");
    assert_eq!(report["unreadable"][0]["document"], "../briefings/2021");
    assert_eq!(g.citations().len(), 9);
    // Back, it is read again and nothing was lost.
    std::fs::create_dir_all(&share).unwrap();
    std::fs::write(
        share.join("a.txt"),
        "T\n\nBody text here.\n\nSource: A, May 1, 2021\nhttps://a.example/1\n",
    )
    .unwrap();
    let again = g.sync();
    assert_eq!(again["unreadable"], serde_json::json!([]));
    assert_eq!(g.citations().len(), 9);
}

/// A new folder the walk cannot reach (a link to a share not mounted yet,
/// a month's folder no one let us list) was dropped without a word: its
/// briefings were never read and nothing said so.
#[test]
fn a_new_folder_the_walk_cannot_reach_is_named() {
    let g = Ground::new();
    g.brief("good.txt", SEED);
    std::os::unix::fs::symlink(g.path("share2022"), g.path("briefings/2022")).unwrap();
    // Not folders: a dangling link to a picture, and `lost+found`.
    std::os::unix::fs::symlink(g.path("nowhere.png"), g.path("briefings/pic.png")).unwrap();
    std::os::unix::fs::symlink(g.path("nowhere"), g.path("briefings/lost+found")).unwrap();
    let out = g.cmd(&["sync", "--format", "json"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let named: Vec<&str> = report["unreadable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["document"].as_str().unwrap())
        .collect();
    assert_eq!(named, ["../briefings/2022"], "{report}");
    assert_eq!(g.citations().len(), 8, "the rest is read");
}

/// A link to a folder we may not read ended the whole sync, and the check
/// after it, naming the `[briefings]` entry (exit 2): walkdir's check for a
/// link loop opens the folder and its error gives no path. It is named as
/// an unreadable folder is, its documents kept, and the rest synced.
#[test]
fn a_link_to_a_folder_we_may_not_read_is_named_and_the_rest_synced() {
    use std::os::unix::fs::PermissionsExt;
    let g = Ground::new();
    g.brief("good.txt", SEED);
    let link = "T\n\nBody text here.\n\nSource: A, May 1, 2021\nhttps://a.example/1\n";
    let share = g.path("share");
    std::fs::create_dir_all(&share).unwrap();
    std::fs::write(share.join("a.txt"), link).unwrap();
    std::os::unix::fs::symlink(&share, g.path("briefings/2021")).unwrap();
    g.sync();
    assert_eq!(g.citations().len(), 9);
    // The share's permissions changed, and a new briefing came meanwhile,
    // with two more links to the share: one named as a folder with a dot
    // in it is named too, a hidden one is not walked and not named.
    g.brief("new.txt", link.replace("/1", "/2"));
    std::os::unix::fs::symlink(&share, g.path("briefings/archive.2020")).unwrap();
    std::os::unix::fs::symlink(&share, g.path("briefings/.old")).unwrap();
    std::fs::set_permissions(&share, std::fs::Permissions::from_mode(0o000)).unwrap();
    let sync = g.output_bound_by_permissions(&["sync", "--format", "json"]);
    let check = g.output_bound_by_permissions(&["check", "--limit", "0"]);
    std::fs::set_permissions(&share, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = String::from_utf8_lossy(&sync.stderr);
    assert_eq!(sync.status.code(), Some(3), "{err}");
    let report: Value = serde_json::from_slice(&sync.stdout).unwrap();
    assert_eq!(report["withdrawn"], 0, "{report}");
    assert_eq!(report["new"], 1, "{report}");
    let unreadable = report["unreadable"].as_array().unwrap();
    let named: Vec<&str> = unreadable
        .iter()
        .map(|u| u["document"].as_str().unwrap())
        .collect();
    assert_eq!(
        named,
        ["../briefings/2021", "../briefings/archive.2020"],
        "{report}"
    );
    for u in unreadable {
        assert!(
            u["error"].as_str().unwrap().contains("Permission denied"),
            "{report}"
        );
    }
    // `check`, which syncs first, says the same and goes on.
    let err = String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(3), "{err}");
    assert!(
        err.contains("citewatch: cannot read ../briefings/2021: Permission denied"),
        "{err}"
    );
    assert_eq!(g.citations().len(), 10, "kept, and the new one read");
}

/// A bug in reading one document (a parser panic) ended the whole sync,
/// and the check after it: now it costs that document, named and kept.
#[test]
#[cfg_attr(
    not(debug_assertions),
    ignore = "the binary takes CITEWATCH_TEST_PANIC in debug builds only"
)]
fn a_panic_reading_one_document_costs_only_that_document() {
    let g = Ground::new();
    g.brief("good.txt", SEED);
    let link = "T\n\nBody text here.\n\nSource: A, May 1, 2021\nhttps://a.example/1\n";
    g.brief("bad.txt", link);
    let out = g
        .cmd(&["sync", "--format", "json"])
        .env("CITEWATCH_TEST_PANIC", "reading-document:bad")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["unreadable"][0]["document"], "../briefings/bad.txt",
        "{report}"
    );
    assert!(
        report["unreadable"][0]["error"]
            .as_str()
            .unwrap()
            .contains("a bug in citewatch"),
        "{report}"
    );
    assert_eq!(g.citations().len(), 8, "the rest is read");
    // Mended, it is read.
    g.sync();
    assert_eq!(g.citations().len(), 9);
}

/// A share linked below the entry (`2021 -> /mnt/share`) and not mounted
/// today leaves its mountpoint, an empty folder: every document under it
/// was withdrawn without a word. Removing the link withdraws them on
/// purpose; a plain folder emptied is taken at its word.
#[test]
fn a_linked_folder_found_empty_keeps_its_documents_until_the_link_goes() {
    let g = Ground::new();
    g.brief("good.txt", SEED);
    let link = "T\n\nBody text here.\n\nSource: A, May 1, 2021\nhttps://a.example/1\n";
    let share = g.path("share");
    std::fs::create_dir_all(share.join("12")).unwrap();
    std::fs::write(share.join("12/a.txt"), link).unwrap();
    std::fs::write(share.join("12/b.txt"), link.replace("/1", "/2")).unwrap();
    std::os::unix::fs::symlink(&share, g.path("briefings/2021")).unwrap();
    g.brief("plain/c.txt", link.replace("/1", "/3"));
    g.sync();
    assert_eq!(g.citations().len(), 11);
    // Unmounted: the mountpoint is there, empty.
    std::fs::remove_dir_all(share.join("12")).unwrap();
    let out = g.cmd(&["sync", "--format", "json"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["withdrawn"], 0, "{report}");
    assert_eq!(
        report["unreadable"][0]["document"], "../briefings/2021",
        "{report}"
    );
    assert!(
        report["unreadable"][0]["error"]
            .as_str()
            .unwrap()
            .contains("2 were synced from here before"),
        "{report}"
    );
    assert_eq!(g.citations().len(), 11);
    // A plain folder's last document deleted: withdrawn, as asked.
    std::fs::remove_file(g.path("briefings/plain/c.txt")).unwrap();
    let out = g.cmd(&["sync", "--format", "json"]).output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["withdrawn"], 1, "{report}");
    assert_eq!(g.citations().len(), 10);
    // The link removed: its documents are withdrawn on purpose.
    std::fs::remove_file(g.path("briefings/2021")).unwrap();
    let report = g.sync();
    assert_eq!(report["withdrawn"], 2, "{report}");
    assert_eq!(report["unreadable"], serde_json::json!([]), "{report}");
    assert_eq!(g.citations().len(), 8);
}

/// A share mounted on a plain folder below the entry (an fstab line for
/// `briefings/2021`), not mounted today, leaves that folder empty: its
/// documents were withdrawn as if deleted. Listed in fstab and not mounted,
/// the folder is named and its documents kept; the same folder emptied
/// while fstab does not list it is taken at its word.
#[test]
fn a_plain_mountpoint_found_empty_and_not_mounted_keeps_its_documents() {
    let g = Ground::new();
    g.brief("good.txt", SEED);
    let doc = "T\n\nBody text here.\n\nSource: A, May 1, 2021\nhttps://a.example/1\n";
    g.brief("2021/12/a.txt", doc);
    g.brief("2021/12/b.txt", doc.replace("/1", "/2"));
    g.sync();
    assert_eq!(g.citations().len(), 10);
    let mountpoint = std::fs::canonicalize(g.path("briefings/2021")).unwrap();
    let fstab = g.path("fstab");
    std::fs::write(
        &fstab,
        format!(
            "# test\n//nas/briefings {} cifs _netdev 0 0\n",
            mountpoint.to_str().unwrap().replace(' ', "\\040")
        ),
    )
    .unwrap();
    // Unmounted: the mountpoint is there, empty.
    std::fs::remove_dir_all(g.path("briefings/2021/12")).unwrap();
    let out = g
        .cmd(&["sync", "--format", "json"])
        .env("CITEWATCH_TEST_FSTAB", &fstab)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["withdrawn"], 0, "{report}");
    assert_eq!(
        report["unreadable"][0]["document"], "../briefings/2021",
        "{report}"
    );
    let said = report["unreadable"][0]["error"].as_str().unwrap();
    assert!(
        said.contains("/etc/fstab mounts a share here, not mounted now")
            && said.contains("2 were synced from here before")
            && said.ends_with("remove the folder"),
        "{said}"
    );
    assert_eq!(g.citations().len(), 10);
    // Not listed in fstab, the folder emptied is taken at its word.
    std::fs::write(&fstab, "# nothing mounted below the briefings\n").unwrap();
    let out = g
        .cmd(&["sync", "--format", "json"])
        .env("CITEWATCH_TEST_FSTAB", &fstab)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["withdrawn"], 2, "{report}");
    assert_eq!(g.citations().len(), 8);
}

/// A convenience link (`latest.txt`, a `current` folder) to a document had
/// every citation in it recorded and reported twice.
#[test]
fn a_document_linked_under_other_names_is_read_once_under_its_own() {
    let g = Ground::new();
    let link = "T\n\nBody text here.\n\nSource: A, May 1, 2021\nhttps://a.example/1\n";
    g.brief("2021/a.txt", link);
    std::os::unix::fs::symlink(
        g.path("briefings/2021/a.txt"),
        g.path("briefings/0-latest.txt"),
    )
    .unwrap();
    std::os::unix::fs::symlink(g.path("briefings/2021"), g.path("briefings/current")).unwrap();
    std::fs::hard_link(g.path("briefings/2021/a.txt"), g.path("briefings/copy.txt")).unwrap();
    let report = g.sync();
    assert_eq!(report["documents"], 1, "{report}");
    let citations = g.citations();
    assert_eq!(citations.len(), 1, "{citations:?}");
    // The file's own name, though a link's comes first in the walk.
    assert!(
        citations[0].to_string().contains("2021/a.txt"),
        "{citations:?}"
    );
}

/// Hidden folders are not walked: a file manager's trash kept a deleted
/// briefing's citations active under another name, and an editor's local
/// history every old save of one.
#[test]
fn hidden_folders_are_not_walked() {
    let g = Ground::new();
    let link = "T\n\nBody text here.\n\nSource: A, May 1, 2021\nhttps://a.example/1\n";
    g.brief("a.txt", link);
    g.brief(".history/a_1.txt", link.replace("/1", "/old"));
    g.brief(".Trash-1000/files/b.txt", link);
    let report = g.sync();
    assert_eq!(report["documents"], 1, "{report}");
    assert_eq!(g.citations().len(), 1);
}

/// An unmounted share leaves its mountpoint, an empty folder: every
/// citation under it was withdrawn, silently, and the report went empty.
#[test]
fn a_briefings_folder_found_empty_keeps_its_documents_until_its_entry_goes() {
    let g = Ground::new();
    std::fs::create_dir_all(g.path("other")).unwrap();
    g.write_config(
        "[briefings]\npaths = [\"../briefings\", \"../other\"]\n[store]\ndir = \"../data\"\n",
    );
    g.brief("briefings-244.txt", SEED);
    g.brief(
        "more.txt",
        "T\n\nBody text here.\n\nSource: A, May 1, 2021\nhttps://a.example/1\n",
    );
    std::fs::write(
        g.path("other/b.txt"),
        "T\n\nBody text here.\n\nSource: B, May 2, 2021\nhttps://b.example/2\n",
    )
    .unwrap();
    assert_eq!(g.sync()["documents"], 3);
    assert_eq!(g.citations().len(), 10);
    for name in ["briefings-244.txt", "more.txt"] {
        std::fs::remove_file(g.path("briefings").join(name)).unwrap();
    }
    let out = g.cmd(&["sync", "--format", "json"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["withdrawn"], 0, "{report}");
    assert_eq!(
        report["unreadable"][0]["document"], "../briefings",
        "{report}"
    );
    let why = report["unreadable"][0]["error"].as_str().unwrap();
    assert!(
        why.contains("though 2 were synced from here before"),
        "{why}"
    );
    let text = g.cmd(&["sync"]).output().unwrap();
    let said =
        String::from_utf8_lossy(&text.stdout).to_string() + &String::from_utf8_lossy(&text.stderr);
    assert!(
        said.contains("../briefings") && said.contains("a share not mounted?"),
        "{said}"
    );
    assert_eq!(g.citations().len(), 10);
    // Taken out of the configuration, its documents are withdrawn on purpose.
    g.write_config("[briefings]\npaths = [\"../other\"]\n[store]\ndir = \"../data\"\n");
    let r = g.sync();
    assert_eq!(r["withdrawn"], 2, "{r}");
    assert_eq!(r["unreadable"], serde_json::json!([]), "{r}");
    assert_eq!(g.citations().len(), 1);
}

#[test]
fn a_sync_while_another_run_holds_the_lock_is_exit_4() {
    let g = Ground::new();
    g.brief("good.txt", SEED);
    let held = citewatch::check::lock::RunLock::acquire(&g.data(), "a nightly check").unwrap();
    let out = g.cmd(&["sync"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains(
            "another run (a check, a sync, a `verify --repair` or a `fetch --save`) holds"
        ) && err.contains("a nightly check"),
        "{err}"
    );
    drop(held);
    assert_eq!(g.sync()["new"], 1);
}

#[test]
fn file_names_that_are_not_utf8_are_documents_of_their_own() {
    use std::os::unix::ffi::OsStrExt;
    let g = Ground::new();
    let doc =
        |n: u32| format!("T\n\nBody text here.\n\nSource: A, May 1, 2021\nhttps://a.example/{n}\n");
    let dir = g.path("briefings");
    for (i, name) in [b"x\xff.txt".as_slice(), b"x\xfe.txt"].iter().enumerate() {
        std::fs::write(dir.join(std::ffi::OsStr::from_bytes(name)), doc(i as u32)).unwrap();
    }
    let report = g.sync();
    assert_eq!(report["new"], 2, "{report}");
    let names: std::collections::BTreeSet<String> = g
        .citations()
        .iter()
        .map(|c| c["document"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        ["x\\xfe.txt", "x\\xff.txt"].map(String::from).into(),
        "{names:?}"
    );
    // A name spelt like the escape is the one collision left: named, not fatal.
    std::fs::write(dir.join("x\\xff.txt"), doc(9)).unwrap();
    let out = g.cmd(&["sync", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["unreadable"].as_array().map(Vec::len),
        Some(1),
        "{report}"
    );
    assert!(
        report["unreadable"][0]["error"]
            .as_str()
            .unwrap()
            .contains("same name"),
        "{report}"
    );
    assert_eq!(g.citations().len(), 2);
}

/// A `.pdf` named in `paths` was read as a text document with no items: its
/// citations would never be checked, and nothing said so.
#[test]
fn a_file_entry_that_is_no_briefing_document_is_refused_before_any_store() {
    let g = Ground::new();
    g.brief(
        "report.pdf",
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
    );
    g.brief("notes", SEED);
    g.write_config(
        "[briefings]\npaths = [\"../briefings/report.pdf\"]\n[store]\ndir = \"../data\"\n",
    );
    for args in [vec!["sync"], vec!["check", "--limit", "0"]] {
        let out = g.cmd(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("briefings path `../briefings/report.pdf`")
                && err.contains("a `.pdf` file is not a briefing document"),
            "{args:?}: {err}"
        );
        assert!(!g.data().exists(), "{args:?} made the data folder");
    }
    // A file with no extension is read as text, as it always was.
    g.write_config("[briefings]\npaths = [\"../briefings/notes\"]\n[store]\ndir = \"../data\"\n");
    assert_eq!(g.sync()["documents"], 1);
    assert_eq!(g.citations().len(), 8);
}

/// sync's exit-3 line said "document(s)".
#[test]
fn the_unreadable_count_agrees_with_its_noun() {
    let g = Ground::new();
    g.brief("good.txt", SEED);
    let dangling = |name: &str| {
        std::os::unix::fs::symlink(g.path("nowhere.txt"), g.path("briefings").join(name)).unwrap();
    };
    dangling("a.txt");
    let out = g.cmd(&["sync"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("citewatch: 1 document could not be read; it was left as the store had it"),
        "{err}"
    );
    dangling("b.txt");
    let out = g.cmd(&["sync"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains(
            "citewatch: 2 documents could not be read; they were left as the store had them"
        ),
        "{err}"
    );
}

/// A store synced by an older citewatch, whose reading of documents has
/// been mended since, kept that reading of every unchanged document for
/// good: neither the stat nor the sha256 (`--rehash`) showed a change, so
/// the mended reader never saw them. Simulated here as a reading that lost
/// the document's citations, recorded by reader version 0.
#[test]
fn a_document_read_by_an_older_reader_is_read_again() {
    let g = Ground::new();
    g.brief("briefings-244.txt", SEED);
    g.sync();
    let before = g.citations();
    assert_eq!(before.len(), 8);
    {
        let db = rusqlite::Connection::open(g.path("data/citewatch.db")).unwrap();
        db.execute_batch("DELETE FROM citations; UPDATE documents SET reader = 0;")
            .unwrap();
    }
    assert_eq!(g.citations().len(), 0);
    let r = g.sync();
    assert_eq!(
        (r["changed"].as_u64(), r["unchanged"].as_u64()),
        (Some(1), Some(0))
    );
    let after = g.citations();
    assert_eq!(after.len(), 8);
    let urls = |rows: &[Value]| rows.iter().map(|r| r["url"].clone()).collect::<Vec<_>>();
    assert_eq!(urls(&after), urls(&before));
    // Read by this reader now: unchanged from here on.
    assert_eq!(g.sync()["unchanged"], 1);
}

/// A document the reader before this one (version 3) read is read again
/// though its bytes are unchanged: that reader left a date followed by a
/// weekday in brackets and a time in the outlet, undated, and without a
/// new version the mended reading never reached the store.
#[test]
fn a_document_the_last_reader_read_is_read_again() {
    let g = Ground::new();
    g.brief(
        "a.txt",
        "Title A\n\nBody of item A here.\n\nSource: Xinhua, December 26, 2020 (Saturday) 08:15\nhttp://127.0.0.1/1\n",
    );
    g.sync();
    {
        // As reader 3 stored it.
        let db = rusqlite::Connection::open(g.path("data/citewatch.db")).unwrap();
        db.execute_batch(
            "UPDATE documents SET reader = 3;
             UPDATE citations SET outlet = 'Xinhua, December 26, 2020 (Saturday) 08:15',
                                  cited_date = NULL;",
        )
        .unwrap();
    }
    g.sync();
    let rows = g.citations();
    assert_eq!(
        (&rows[0]["outlet"], &rows[0]["cited_date"]),
        (&json!("Xinhua"), &json!("2020-12-26")),
        "{rows:?}"
    );
}

/// A briefing named with its date (`briefings-2021-01-03.txt`) that cites
/// by month and day alone has those citations dated: in its year, or the
/// year before for a day after its own. Only the file's name gives the
/// date: a dated folder over an undated file gives none.
#[test]
fn a_cited_date_without_a_year_is_read_in_the_year_of_the_documents_name() {
    let g = Ground::new();
    let doc = "Title A\n\nBody of item A here.\n\nSource: Xinhua, December 30\nhttp://127.0.0.1/1\n\n\
               Title B\n\nBody of item B here.\n\nSource: Global Times, January 2\nhttp://127.0.0.1/2\n";
    g.brief("2021/briefings-2021-01-03.txt", doc);
    g.brief(
        "2021-01-03/briefing.txt",
        doc.replace("127.0.0.1/", "127.0.0.1/b"),
    );
    g.sync();
    let rows = g.citations();
    let got: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r["document"].as_str().unwrap(),
                r["outlet"].clone(),
                r["cited_date"].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "2021-01-03/briefing.txt",
                json!("Xinhua, December 30"),
                Value::Null
            ),
            (
                "2021-01-03/briefing.txt",
                json!("Global Times, January 2"),
                Value::Null
            ),
            (
                "2021/briefings-2021-01-03.txt",
                json!("Xinhua"),
                json!("2020-12-30")
            ),
            (
                "2021/briefings-2021-01-03.txt",
                json!("Global Times"),
                json!("2021-01-02")
            ),
        ],
        "{rows:?}"
    );
}

/// `citations` printed a document by its path alone: two `[briefings]
/// paths` entries each holding `2020/x.txt` gave two blocks headed alike,
/// and nothing said which file either was. It names them as the report
/// does, entry and path. With one entry, headings stay bare.
#[test]
fn citations_name_the_entry_of_documents_two_entries_hold_alike() {
    let g = Ground::new();
    std::fs::create_dir_all(g.path("other/2020")).unwrap();
    g.write_config(
        "[briefings]\npaths = [\"../briefings\", \"../other\"]\n[store]\ndir = \"../data\"\n",
    );
    g.brief(
        "2020/x.txt",
        "Here\n\nBody text here.\n\nSource: A, May 1, 2021\nhttps://a.example/1\n",
    );
    std::fs::write(
        g.path("other/2020/x.txt"),
        "There\n\nBody text here.\n\nSource: B, May 2, 2021\nhttps://b.example/2\n",
    )
    .unwrap();
    assert_eq!(g.sync()["documents"], 2);
    let out = g.cmd(&["citations"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text,
        "../briefings/2020/x.txt\n  Here\n    A, 2021-05-01  https://a.example/1\n\
         ../other/2020/x.txt\n  There\n    B, 2021-05-02  https://b.example/2\n",
    );
    // The JSON keeps its own keys for the entry and the path.
    let rows = g.citations();
    assert_eq!(
        (&rows[1]["root"], &rows[1]["document"]),
        (&json!("../other"), &json!("2020/x.txt"))
    );
    // One entry left: the other's document is withdrawn, and headings are
    // bare again, but for a listing that shows the withdrawn one too.
    g.write_config("[briefings]\npaths = [\"../briefings\"]\n[store]\ndir = \"../data\"\n");
    assert_eq!(g.sync()["withdrawn"], 1);
    let out = g.cmd(&["citations"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("2020/x.txt\n  Here\n"), "{text}");
    let out = g
        .cmd(&["citations", "--include-withdrawn"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("../briefings/2020/x.txt\n")
            && text.contains("../other/2020/x.txt  (withdrawn)\n"),
        "{text}"
    );
}

/// `citations` grouped citations under a title by its text: two items in a
/// row with the same headline (a story followed up the next day) printed
/// as one, their citations under a single title. Items are told apart by
/// themselves, not their titles.
#[test]
fn citations_keep_two_items_with_one_headline_apart() {
    let g = Ground::new();
    g.brief(
        "a.txt",
        "Talks resume\n\nFirst day of talks, a body long enough.\n\nSource: A, May 1, 2021\nhttps://a.example/1\n\n\
         Talks resume\n\nSecond day of talks, a body long enough.\n\nSource: B, May 2, 2021\nhttps://b.example/2\n",
    );
    g.sync();
    let rows = g.citations();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["title"], rows[1]["title"]);
    let out = g.cmd(&["citations"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text,
        "a.txt\n  Talks resume\n    A, 2021-05-01  https://a.example/1\n\
         \x20 Talks resume\n    B, 2021-05-02  https://b.example/2\n",
    );
    // The item's identity stays out of the JSON, whose keys are documented
    // (`citations --help`).
    let mut keys: Vec<&str> = rows[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let mut documented = [
        "id",
        "root",
        "document",
        "title",
        "outlet",
        "cited_date",
        "url",
        "source_url",
        "source_id",
        "invalid_reason",
        "origin",
        "context",
        "withdrawn",
        "status",
        "status_since",
    ];
    documented.sort_unstable();
    assert_eq!(keys, documented);
}
