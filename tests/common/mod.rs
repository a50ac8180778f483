//! The shared test ground: a temporary briefing store with its configuration, and
//! the real `citewatch` binary pointed at it.
#![allow(dead_code)]

pub mod served;
pub mod web;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// A temporary project: `config/citewatch.toml`, `briefings/`, `data/`.
pub struct Ground {
    pub dir: tempfile::TempDir,
}

pub const SEED: &str = include_str!("../../briefings/briefings-244.txt");

impl Ground {
    /// An empty briefing store with the shipped default layout.
    pub fn new() -> Ground {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("config")).unwrap();
        std::fs::create_dir_all(dir.path().join("briefings")).unwrap();
        let g = Ground { dir };
        g.write_config("[briefings]\npaths = [\"../briefings\"]\n[store]\ndir = \"../data\"\n");
        g
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn config(&self) -> PathBuf {
        self.path("config/citewatch.toml")
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(self.config(), text).unwrap();
    }

    /// Writes a briefing document under `briefings/`.
    pub fn brief(&self, name: &str, bytes: impl AsRef<[u8]>) {
        let p = self.path("briefings").join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    pub fn data(&self) -> PathBuf {
        self.path("data")
    }

    /// `citewatch --config <ours> ARGS…`
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::cargo_bin("citewatch").unwrap();
        c.arg("--config")
            .arg(self.config())
            .args(args)
            .env_remove("CITEWATCH_CONFIG");
        c
    }

    /// `citewatch serve` on a free loopback port, access log on: the running
    /// child (its stderr piped) and the base URL it printed (`http://…/`).
    pub fn serve(&self) -> (std::process::Child, String) {
        use std::io::{BufRead, BufReader};
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("citewatch"))
            .arg("--config")
            .arg(self.config())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env_remove("CITEWATCH_CONFIG")
            .env("CITEWATCH_LOG", "info")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("citewatch: serving ")
            .unwrap_or_else(|| panic!("{line}"))
            .to_string();
        (child, base)
    }

    /// `citewatch --config <ours> ARGS…` run so that permission bits bind
    /// it: as root (as the tests run in containers), without the
    /// capabilities that let root read and write past them (`setpriv`, of
    /// util-linux), so a folder made unreadable by `chmod 000` is one to
    /// it; as any other user, as is.
    pub fn output_bound_by_permissions(&self, args: &[&str]) -> std::process::Output {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let bin = assert_cmd::cargo::cargo_bin("citewatch");
        let mut cmd = if root {
            let mut c = std::process::Command::new("setpriv");
            c.arg("--bounding-set=-dac_override,-dac_read_search")
                .arg("--inh-caps=-dac_override,-dac_read_search")
                .arg(&bin);
            c
        } else {
            std::process::Command::new(&bin)
        };
        cmd.arg("--config")
            .arg(self.config())
            .args(args)
            .env_remove("CITEWATCH_CONFIG")
            .output()
            .expect("setpriv (util-linux) is needed to test unreadable folders as root")
    }

    /// Runs and parses stdout as JSON, asserting success.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.cmd(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    pub fn sync(&self) -> Value {
        self.json(&["sync", "--format", "json"])
    }

    pub fn citations(&self) -> Vec<Value> {
        self.json(&["citations", "--format", "json"])
            .as_array()
            .unwrap()
            .clone()
    }
}

/// Overwrites the root page of `table` in the SQLite file `db` with 0xff,
/// as a disk fault would, after a checkpoint so that the page lives in the
/// database file itself.
pub fn damage_root_page(db: &Path, table: &str) {
    use std::os::unix::fs::FileExt;
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let page = conn
        .query_row("PRAGMA page_size", [], |r| r.get::<_, i64>(0))
        .unwrap() as u64;
    let root = conn
        .query_row(
            "SELECT rootpage FROM sqlite_master WHERE name = ?1",
            [table],
            |r| r.get::<_, i64>(0),
        )
        .unwrap() as u64;
    drop(conn);
    let file = std::fs::OpenOptions::new().write(true).open(db).unwrap();
    file.write_all_at(&vec![0xff; page as usize], (root - 1) * page)
        .unwrap();
}

/// Every file under `dir` with its bytes, to prove a store was left untouched.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<_> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().to_path_buf(), std::fs::read(e.path()).unwrap()))
        .collect();
    out.sort();
    out
}
