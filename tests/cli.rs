//! The command-line surface through the real binary: arguments a demanding
//! user gives, and what each command does with a wrong one before it touches
//! the store or the network.

mod common;

use common::Ground;
use serde_json::Value;

/// A briefing citing a loopback page nothing listens on.
const BRIEF: &str = "Title one\n\nBody text here.\n\nSource: Xinhua, December 26, 2020\n\
                     http://127.0.0.1:1/a.html\n";

fn code_and_stderr(out: &std::process::Output) -> (Option<i32>, String) {
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An ETag no header can carry (a line break) was dropped without a word and
/// the fetch went out unconditional, so a 200 looked like "changed since";
/// an empty one (`--if-none-match "$ETAG"` with the variable unset) was sent
/// as `""`. Both are usage errors now, before anything is requested.
#[test]
fn an_etag_that_cannot_be_sent_is_refused() {
    let g = Ground::new();
    for bad in ["a\nb", "", "  ", "abc\u{7f}"] {
        let out = g
            .cmd(&["fetch", "http://127.0.0.1:1/x", "--if-none-match", bad])
            .output()
            .unwrap();
        let (code, err) = code_and_stderr(&out);
        assert_eq!(code, Some(2), "{bad:?}: {err}");
        assert!(err.contains("--if-none-match"), "{bad:?}: {err}");
        assert!(out.stdout.is_empty(), "{bad:?}: nothing fetched");
    }
    // What can be sent still is.
    let out = g
        .cmd(&["fetch", "http://127.0.0.1:1/x", "--if-none-match", "abc"])
        .output()
        .unwrap();
    let (code, err) = code_and_stderr(&out);
    assert_eq!(code, Some(3), "the address guard refuses port 1: {err}");
}

/// `fetch --save` with a wrong `--if-modified-since` (or ETag) made the data
/// folder and its database before saying the value was wrong: a usage error
/// leaves nothing behind, as `sync`'s do.
#[test]
fn a_wrong_conditional_value_leaves_no_store_behind() {
    let g = Ground::new();
    for args in [
        ["--if-modified-since", "yesterday"],
        ["--if-none-match", "a\nb"],
    ] {
        let out = g
            .cmd(&["fetch", "http://127.0.0.1:1/x", "--save"])
            .args(args)
            .output()
            .unwrap();
        let (code, err) = code_and_stderr(&out);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(args[0]), "{args:?}: {err}");
        assert!(!g.data().exists(), "{args:?} made {}", g.data().display());
    }
}

/// `verify --repair` where no store was ever made took the run lock first,
/// and so made the data folder and its lock file, then said there was no
/// store; as plain `verify` does, it leaves nothing behind.
#[test]
fn verify_repair_without_a_store_makes_no_data_folder() {
    let g = Ground::new();
    for args in [&["verify", "--repair"][..], &["verify"]] {
        let out = g.cmd(args).output().unwrap();
        let (code, err) = code_and_stderr(&out);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains("no store here yet"), "{args:?}: {err}");
        assert!(!g.data().exists(), "{args:?} made {}", g.data().display());
    }
}

/// `report --document` takes the file's path on disk; one whose name is not
/// UTF-8 (the store names it with `\xff`) was refused by the argument parser
/// ("invalid UTF-8 was detected in one or more arguments"), naming nothing.
#[cfg(unix)]
#[test]
fn report_document_takes_a_path_on_disk_that_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let g = Ground::new();
    g.brief("plain.txt", BRIEF);
    let name = std::ffi::OsStr::from_bytes(b"bad\xffname.txt");
    let on_disk = g.path("briefings").join(name);
    std::fs::write(&on_disk, BRIEF.replace("a.html", "b.html")).unwrap();
    g.sync();
    let out = g
        .cmd(&["report", "--status", "all", "--format", "json"])
        .arg("--document")
        .arg(&on_disk)
        .output()
        .unwrap();
    let (code, err) = code_and_stderr(&out);
    assert_eq!(code, Some(0), "{err}");
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["document"], "bad\\xffname.txt", "{j}");
    assert_eq!(j["summary"]["citations"], 1, "{j}");

    // Not under a briefings entry: named in the error, lossily, exit 2.
    let elsewhere = g.path("config").join(name);
    std::fs::write(&elsewhere, BRIEF).unwrap();
    let out = g
        .cmd(&["report"])
        .arg("--document")
        .arg(&elsewhere)
        .output()
        .unwrap();
    let (code, err) = code_and_stderr(&out);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--document") && err.contains("name.txt"),
        "{err}"
    );
}

/// Runs citewatch with `args`, its standard output `stdout`.
fn with_stdout(
    g: &Ground,
    args: &[&str],
    stdout: impl Into<std::process::Stdio>,
) -> std::process::Output {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("citewatch"))
        .arg("--config")
        .arg(g.config())
        .args(args)
        .env_remove("CITEWATCH_CONFIG")
        .stdout(stdout)
        .output()
        .unwrap()
}

/// Output that cannot be written (a full disk) is named as standard output:
/// a bare "No space left on device" after `sync` or `check` reads as the
/// store's disk being full. And `export-warc`'s summary line was printed
/// with `println!`, which panicked: "internal error (a bug in citewatch …)"
/// and a backtrace.
#[cfg(target_os = "linux")]
#[test]
fn a_full_standard_output_is_named_not_a_bug() {
    let g = Ground::new();
    g.brief("a.txt", BRIEF);
    g.sync();
    let warc = g.path("all.warc.gz");
    let warc = warc.to_str().unwrap();
    let url = "http://127.0.0.1:1/a.html";
    for args in [
        &["sync"][..],
        &["sync", "--format", "json"],
        &["citations"],
        &["citations", "--format", "json"],
        &["sources"],
        &["sources", "--format", "json"],
        &["status", url],
        &["status", url, "--format", "json"],
        &["history", url],
        &["verify"],
        &["verify", "--format", "json"],
        &["export-warc", "-o", warc],
        &["export-warc", "-o", warc, "--format", "json"],
    ] {
        let full = std::fs::File::options()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = with_stdout(&g, args, full);
        let (code, err) = code_and_stderr(&out);
        assert_eq!(code, Some(3), "{args:?}: {err}");
        assert!(
            err.starts_with("citewatch: standard output: No space left on device"),
            "{args:?}: {err}"
        );
    }
}

/// `export-warc`'s summary into a pipe its reader closed: as every other
/// command, done (exit 0), not a panic.
#[test]
fn export_warc_into_a_closed_pipe_is_no_bug() {
    let g = Ground::new();
    g.brief("a.txt", BRIEF);
    g.sync();
    let warc = g.path("all.warc.gz");
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = with_stdout(&g, &["export-warc", "-o", warc.to_str().unwrap()], writer);
    let (code, err) = code_and_stderr(&out);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.is_empty(), "{err}");
    assert!(warc.exists());
}

/// `citations` and `sources` stream their rows into a buffer of their own:
/// a reader gone early (`| head`) is still done (exit 0), whether it went
/// during the rows or before the buffer's last flush, never a bug or an
/// error about standard output.
#[test]
fn listings_into_a_closed_pipe_are_done() {
    let g = Ground::new();
    g.brief("a.txt", BRIEF);
    g.sync();
    for args in [
        &["citations"][..],
        &["citations", "--format", "json"],
        &["sources"],
        &["sources", "--format", "json"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = with_stdout(&g, args, writer);
        let (code, err) = code_and_stderr(&out);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
}

/// `serve` printed its address with `println!`: with standard output a pipe
/// whose reader had gone (`citewatch serve | head -1` once the line is read,
/// a supervisor that closed it) the server panicked as a bug before serving.
/// The line is information; the service goes on without it.
#[test]
fn serve_goes_on_when_standard_output_is_gone() {
    let g = Ground::new();
    g.brief("a.txt", BRIEF);
    g.sync();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("citewatch"))
        .arg("--config")
        .arg(g.config())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("CITEWATCH_CONFIG")
        .env("CITEWATCH_LOG", "warn")
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(2));
    let running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(running, "serve ended: {err}");
    assert!(!err.contains("internal error"), "{err}");
}

/// `export-warc -o` a file whose name is not UTF-8, `--format json`: serde
/// refuses such a path, so standard output got `{ "file": ` and no more, and
/// the command exited 3 after the export was written whole. The path is
/// given as the text line gives it (a stray byte as U+FFFD).
#[cfg(unix)]
#[test]
fn export_warc_json_names_a_file_that_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let g = Ground::new();
    g.brief("a.txt", BRIEF);
    g.sync();
    let warc = g
        .path(".")
        .join(std::ffi::OsStr::from_bytes(b"\xff.warc.gz"));
    let out = g
        .cmd(&["export-warc", "--format", "json", "--cdxj", "-o"])
        .arg(&warc)
        .output()
        .unwrap();
    let (code, err) = code_and_stderr(&out);
    assert_eq!(code, Some(0), "{err}");
    let j: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert!(
        j["file"].as_str().unwrap().ends_with("\u{FFFD}.warc.gz"),
        "{j}"
    );
    assert!(
        j["cdxj_file"].as_str().unwrap().ends_with("\u{FFFD}.cdxj"),
        "{j}"
    );
    assert!(warc.exists());
}

/// `report -o FILE` on a full disk said "writing the report: No space left
/// on device", naming neither FILE nor standard output, where `get -o` and
/// `export-warc -o` name FILE.
#[cfg(target_os = "linux")]
#[test]
fn a_report_that_cannot_be_written_names_where_it_went() {
    let g = Ground::new();
    g.brief("a.txt", BRIEF);
    g.sync();
    for format in ["text", "csv", "json", "html", "markdown"] {
        let out = g
            .cmd(&[
                "report",
                "--status",
                "all",
                "--format",
                format,
                "-o",
                "/dev/full",
            ])
            .output()
            .unwrap();
        let (code, err) = code_and_stderr(&out);
        assert_eq!(code, Some(3), "{format}: {err}");
        assert!(
            err.starts_with("citewatch: -o /dev/full: ") && err.contains("No space left"),
            "{format}: {err}"
        );
        let full = std::fs::File::options()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = with_stdout(&g, &["report", "--status", "all", "--format", format], full);
        let (code, err) = code_and_stderr(&out);
        assert_eq!(code, Some(3), "{format}: {err}");
        assert!(
            err.starts_with("citewatch: standard output: ") && err.contains("No space left"),
            "{format}: {err}"
        );
    }
}

/// When the system refuses a thread (a process or memory limit: `ulimit -u`,
/// systemd's `TasksMax`), `sync`, `check` and `serve` said "internal error (a
/// bug in citewatch …)", sending the operator to report a bug instead of
/// raising a limit. The refusal is named as the system's, exit code 3.
#[test]
fn a_thread_the_system_refuses_is_named_as_a_limit_not_a_bug() {
    let g = Ground::new();
    g.brief("a.txt", BRIEF);
    g.sync();
    for args in [
        &["sync"][..],
        &["check", "--no-sync", "--all"],
        &["serve", "--listen", "127.0.0.1:0"],
    ] {
        let out = g
            .cmd(args)
            // Every thread spawned without a size of its own asks for a stack
            // of this size: a petabyte, more than a process can address.
            .env("RUST_MIN_STACK", "1000000000000000")
            .env_remove("RUST_BACKTRACE")
            .output()
            .unwrap();
        let (code, err) = code_and_stderr(&out);
        assert_eq!(code, Some(3), "{args:?}: {err}");
        assert!(
            !err.contains("internal error") && !err.contains("bug"),
            "{args:?}: {err}"
        );
        assert!(
            err.starts_with("citewatch: the system refused to start a thread"),
            "{args:?}: {err}"
        );
        assert!(err.contains("TasksMax"), "{args:?}: {err}");
    }
}
