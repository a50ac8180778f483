//! The validated configuration: file + defaults, with every error naming the key and
//! the file it came from.
//!
//! Parsed command-line arguments never reach the library; `main.rs` picks the file
//! (`--config`, then a non-empty `CITEWATCH_CONFIG`, then `config/citewatch.toml`) and calls
//! [`Config::load`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::time::Duration;

/// Where the configuration is looked for when neither `--config` nor
/// `CITEWATCH_CONFIG` names a file.
pub const DEFAULT_CONFIG_PATH: &str = "config/citewatch.toml";

/// The environment variable naming the configuration file.
pub const CONFIG_ENV: &str = "CITEWATCH_CONFIG";

/// A configuration problem. Every message names the file, and the key when one is at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: cannot read the configuration: {source}")]
    Read {
        /// The configuration file.
        file: PathBuf,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or a key is unknown or has the wrong type.
    #[error("{file}:{line}: {key}{message}")]
    Parse {
        /// The configuration file.
        file: PathBuf,
        /// 1-based line of the offending text (0 when unknown).
        line: usize,
        /// `key `fetch.timeout`: ` or empty when the error is not about one key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A value has the right type but cannot be used.
    #[error("{file}{at}: key `{key}`: {message}")]
    Invalid {
        /// The configuration file.
        file: PathBuf,
        /// `:LINE` of the value in the file, or empty when the key is not
        /// written there (a default that another value makes impossible).
        at: String,
        /// Dotted key path.
        key: String,
        /// What is wrong and what would be right.
        message: String,
    },
}

/// The whole configuration, defaults applied and relative paths resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file this came from (for messages).
    pub file: PathBuf,
    /// `[briefings]`
    pub briefings: BriefingsConfig,
    /// `[store]`
    pub store: StoreConfig,
    /// `[fetch]`
    pub fetch: FetchConfig,
    /// `[check]`
    pub check: CheckConfig,
    /// `[serve]`
    pub serve: ServeConfig,
}

/// `[serve]`: the HTTP service and the links reports print to it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServeConfig {
    /// Address `citewatch serve` listens on; loopback unless told otherwise.
    pub listen: std::net::SocketAddr,
    /// The service's public base URL (`https://citewatch.example.org/`), used by reports
    /// to link archived copies; empty: reports print only the `citewatch get` command.
    pub public_url: String,
    /// Optional separate origin for archived bodies (`https://archive.example.org/`), so
    /// archived pages never share the service's origin (a copy asked for under
    /// another `Host` is redirected there); empty: same origin, sandboxed.
    pub archive_origin: String,
    /// Bearer token for write endpoints (`POST /api/check`); empty: writes are disabled.
    pub admin_token: String,
    /// Connections served at once, at most ([`crate::server::MAX_CONNECTIONS`]
    /// says why 512): an operator who raises the service's descriptor limit
    /// (systemd's `LimitNOFILE=`) may raise it along, keeping it at about half.
    /// The service's time bounds stay fixed: each is set against the others
    /// and against the shipped unit's stop timeout.
    pub max_connections: usize,
    /// Host names the service answers to besides IP addresses, `localhost`
    /// and the hosts of `public_url` and `archive_origin` (a guard against
    /// DNS rebinding, see `server::host`); `"*"` answers any.
    pub allowed_hosts: Vec<String>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: String::new(),
            archive_origin: String::new(),
            admin_token: String::new(),
            max_connections: crate::server::MAX_CONNECTIONS,
            allowed_hosts: Vec::new(),
        }
    }
}

impl ServeConfig {
    /// `public_url` parsed, or `None` when unset.
    pub fn public_url(&self) -> Option<url::Url> {
        parse_base(&self.public_url)
    }

    /// `archive_origin` parsed, or `None` when unset.
    pub fn archive_origin(&self) -> Option<url::Url> {
        parse_base(&self.archive_origin)
    }

    fn validate(&self) -> Result<(), (String, String)> {
        // None would serve no one, where the server's own bound would quietly
        // serve one.
        if self.max_connections == 0 {
            return Err(("serve.max_connections".into(), "must be at least 1".into()));
        }
        // A name as a Host header carries it, without scheme, port or path:
        // anything else would never match, and the service stay refused.
        if let Some(bad) = self.allowed_hosts.iter().find(|h| {
            h.as_str() != "*"
                && (h.is_empty()
                    || !h
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'))
        }) {
            return Err((
                "serve.allowed_hosts".into(),
                format!("`{bad}` is not a host name (write it without scheme, port or path)"),
            ));
        }
        for (key, value) in [
            ("serve.public_url", &self.public_url),
            ("serve.archive_origin", &self.archive_origin),
        ] {
            if value.is_empty() {
                continue;
            }
            match url::Url::parse(value) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
                Ok(_) => {
                    return Err((
                        key.into(),
                        format!("`{value}` must be an http(s) URL with a host"),
                    ));
                }
                Err(e) => return Err((key.into(), format!("`{value}` is not a URL: {e}"))),
            }
        }
        Ok(())
    }
}

/// Parses a base URL, making sure its path ends with `/` so joining keeps it.
fn parse_base(value: &str) -> Option<url::Url> {
    if value.is_empty() {
        return None;
    }
    let mut u = url::Url::parse(value).ok()?;
    if !u.path().ends_with('/') {
        let path = format!("{}/", u.path());
        u.set_path(&path);
    }
    Some(u)
}

/// `[check]`: when sources are due and how much evidence confirms a failure.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CheckConfig {
    /// Failing checks needed to confirm a failure.
    pub dead_after_checks: u32,
    /// Time the failing checks must span.
    pub dead_after: Duration,
    /// Time a host must stay unresolvable to be dead.
    pub gone_after: Duration,
    /// Re-check interval for ok, changed, moved and blocked sources.
    pub recheck_ok: Duration,
    /// Re-check interval for failing and unreachable sources.
    pub recheck_failing: Duration,
    /// Re-check interval for dead and soft-404 sources (to notice a recovery).
    pub recheck_dead: Duration,
    /// Time budget of one run; "0s" means none. The rest waits for the next run.
    pub max_duration: Duration,
    /// Main text less similar than this to the baseline (0..1) is `changed`.
    pub changed_below: f64,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            dead_after_checks: 3,
            dead_after: Duration::from_secs(72 * 3600),
            gone_after: Duration::from_secs(14 * 86400),
            recheck_ok: Duration::from_secs(7 * 86400),
            recheck_failing: Duration::from_secs(86400),
            recheck_dead: Duration::from_secs(30 * 86400),
            max_duration: Duration::from_secs(0),
            changed_below: crate::check::fingerprint::CHANGED_BELOW,
        }
    }
}

/// The default `User-Agent`: names citewatch, its version and where to read about it.
pub fn default_user_agent() -> String {
    format!(
        "citewatch/{} (+https://github.com/citewatch/citewatch)",
        env!("CARGO_PKG_VERSION")
    )
}

/// `[fetch]`: how politely and how safely citewatch talks to the web.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FetchConfig {
    /// `User-Agent` sent with every request; robots.txt rules are matched against
    /// its first word.
    pub user_agent: String,
    /// `From` sent with every request: the address of the person who runs
    /// this check, so a site's operator troubled by it can write to someone
    /// rather than block it (RFC 9110, section 10.1.2). None by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Requests per second to one host; 0 means no pacing.
    pub requests_per_second: f64,
    /// Requests one host may receive back to back before pacing applies.
    pub burst: u32,
    /// Requests in flight to one host at most.
    pub per_host_concurrency: usize,
    /// Requests in flight overall at most.
    pub concurrency: usize,
    /// Bound on one request, from connecting to the last body byte.
    pub timeout: Duration,
    /// Bound on establishing a connection.
    pub connect_timeout: Duration,
    /// Largest body kept, counted on decoded bytes (so compression bombs stop here).
    pub max_body_bytes: u64,
    /// Redirects followed at most.
    pub max_redirects: usize,
    /// Retries of transient failures (connect errors, timeouts, 408, 429, 5xx).
    pub retries: u32,
    /// Longest `Retry-After` waited for; beyond it the URL is recorded as
    /// rate-limited, and the host's other pages are not asked for in that run.
    pub max_retry_after: Duration,
    /// Obey robots.txt.
    pub respect_robots: bool,
    /// Networks (CIDR) that may be fetched although the address guard refuses
    /// loopback, private, link-local and similar addresses.
    pub allow_networks: Vec<IpNet>,
    /// Per-host overrides, keyed by host name.
    pub hosts: BTreeMap<String, HostOverride>,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            user_agent: default_user_agent(),
            from: None,
            requests_per_second: 1.0,
            burst: 1,
            per_host_concurrency: 2,
            concurrency: 64,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_body_bytes: 20 * 1024 * 1024,
            max_redirects: 10,
            retries: 2,
            max_retry_after: Duration::from_secs(600),
            respect_robots: true,
            allow_networks: Vec::new(),
            hosts: BTreeMap::new(),
        }
    }
}

/// `[fetch.hosts."NAME"]`: the per-request keys of `[fetch]`, for one host.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HostOverride {
    /// See [`FetchConfig::user_agent`].
    pub user_agent: Option<String>,
    /// See [`FetchConfig::requests_per_second`].
    pub requests_per_second: Option<f64>,
    /// See [`FetchConfig::burst`].
    pub burst: Option<u32>,
    /// See [`FetchConfig::per_host_concurrency`].
    pub per_host_concurrency: Option<usize>,
    /// See [`FetchConfig::timeout`].
    pub timeout: Option<Duration>,
    /// See [`FetchConfig::max_body_bytes`].
    pub max_body_bytes: Option<u64>,
    /// See [`FetchConfig::max_redirects`].
    pub max_redirects: Option<usize>,
    /// See [`FetchConfig::retries`].
    pub retries: Option<u32>,
    /// See [`FetchConfig::max_retry_after`].
    pub max_retry_after: Option<Duration>,
    /// See [`FetchConfig::respect_robots`].
    pub respect_robots: Option<bool>,
}

/// The effective per-request policy for one host: `[fetch]` with that host's
/// overrides applied.
#[derive(Debug, Clone, PartialEq)]
pub struct HostPolicy {
    /// `User-Agent`.
    pub user_agent: String,
    /// Requests per second; 0 means no pacing.
    pub requests_per_second: f64,
    /// Burst.
    pub burst: u32,
    /// In flight at most.
    pub per_host_concurrency: usize,
    /// Total bound on one request.
    pub timeout: Duration,
    /// Body cap.
    pub max_body_bytes: u64,
    /// Redirect cap.
    pub max_redirects: usize,
    /// Retries.
    pub retries: u32,
    /// Retry-After cap.
    pub max_retry_after: Duration,
    /// Obey robots.txt.
    pub respect_robots: bool,
}

impl FetchConfig {
    /// The policy for `host` (punycode, as in a normalised URL), in any case
    /// and absolute or not: `A.example.` is `a.example`'s (see
    /// [`crate::source_url::host_key`]). The check's per-host share asks
    /// with the host a source recorded, trailing dot and all.
    pub fn policy(&self, host: &str) -> HostPolicy {
        let o = self
            .hosts
            .get(crate::source_url::host_key(host).as_ref())
            .cloned()
            .unwrap_or_default();
        HostPolicy {
            user_agent: o.user_agent.unwrap_or_else(|| self.user_agent.clone()),
            requests_per_second: o.requests_per_second.unwrap_or(self.requests_per_second),
            burst: o.burst.unwrap_or(self.burst),
            per_host_concurrency: o.per_host_concurrency.unwrap_or(self.per_host_concurrency),
            timeout: o.timeout.unwrap_or(self.timeout),
            max_body_bytes: o.max_body_bytes.unwrap_or(self.max_body_bytes),
            max_redirects: o.max_redirects.unwrap_or(self.max_redirects),
            retries: o.retries.unwrap_or(self.retries),
            max_retry_after: o.max_retry_after.unwrap_or(self.max_retry_after),
            respect_robots: o.respect_robots.unwrap_or(self.respect_robots),
        }
    }

    /// Checks values serde cannot: returns the dotted key and what is wrong.
    fn validate(&mut self) -> Result<(), (String, String)> {
        let bad = |k: &str, m: &str| Err((format!("fetch.{k}"), m.to_string()));
        if self.user_agent.trim().is_empty() {
            return bad("user_agent", "is empty; leave the key out for the default");
        }
        if let Some(from) = &self.from {
            let from = from.trim();
            // A mailbox, as the header's definition asks: `ops@example.org`,
            // or with a name, `Web team <ops@example.org>`. Anything else
            // would only puzzle the operator it is meant for.
            let address = match from.strip_suffix('>').and_then(|f| f.rsplit_once('<')) {
                Some((name, address)) if !name.trim().is_empty() => address,
                _ => from,
            };
            let (local, domain) = address.split_once('@').unwrap_or_default();
            if local.is_empty()
                || domain.is_empty()
                || domain.contains('@')
                || address.contains(|c: char| c.is_whitespace() || matches!(c, '<' | '>'))
                || reqwest::header::HeaderValue::from_str(from).is_err()
            {
                return bad(
                    "from",
                    &format!("{from:?} is not an email address such as \"ops@example.org\""),
                );
            }
            self.from = Some(from.to_string());
        }
        if !(1..=MAX_CONCURRENCY).contains(&self.concurrency) {
            return bad("concurrency", &format!("must be 1 to {MAX_CONCURRENCY}"));
        }
        if self.connect_timeout.is_zero() {
            return bad("connect_timeout", "must be longer than 0s");
        }
        check_policy(&self.policy(""), "fetch.")?;
        let hosts = std::mem::take(&mut self.hosts);
        for (name, o) in hosts {
            let lower = name.trim().trim_end_matches('.').to_ascii_lowercase();
            let prefix = format!("fetch.hosts.\"{name}\".");
            if lower.is_empty() || lower.contains(['/', ':', ' ']) {
                return Err((
                    format!("fetch.hosts.\"{name}\""),
                    "is not a host name".into(),
                ));
            }
            // As URLs carry it (punycode), or a name written as people read
            // it (`新华网.中国`) would match no request and go unnoticed.
            let lower = url::Host::parse(&lower).map_or(lower, |h| h.to_string());
            if self.hosts.insert(lower.clone(), o).is_some() {
                return Err((
                    format!("fetch.hosts.\"{name}\""),
                    "names a host twice".into(),
                ));
            }
            check_policy(&self.policy(&lower), &prefix)?;
        }
        Ok(())
    }
}

/// The longest re-check interval: a century, so that every next check falls
/// in a year RFC 3339 can write.
const MAX_RECHECK: Duration = Duration::from_secs(36_500 * 86_400);

/// Requests in flight, overall or to one host: far more than any machine's
/// sockets, far less than where the semaphores behind them give out.
const MAX_CONCURRENCY: usize = 100_000;

/// The slowest pacing: one request a day. Slower is no politeness anyone asks
/// for, and periods of centuries overflow the rate limiter's clock.
const MIN_REQUESTS_PER_SECOND: f64 = 1.0 / 86_400.0;

/// Requests sent back to back before pacing applies, at most.
const MAX_BURST: u32 = 1000;

fn check_policy(p: &HostPolicy, prefix: &str) -> Result<(), (String, String)> {
    let bad = |k: &str, m: &str| Err((format!("{prefix}{k}"), m.to_string()));
    let rps = p.requests_per_second;
    if !rps.is_finite() || rps < 0.0 || (rps > 0.0 && rps < MIN_REQUESTS_PER_SECOND) {
        return bad(
            "requests_per_second",
            "must be 0 (no pacing) or at least 0.0000116 (one request a day)",
        );
    }
    if !(1..=MAX_BURST).contains(&p.burst) {
        return bad("burst", &format!("must be 1 to {MAX_BURST}"));
    }
    if !(1..=MAX_CONCURRENCY).contains(&p.per_host_concurrency) {
        return bad(
            "per_host_concurrency",
            &format!("must be 1 to {MAX_CONCURRENCY}"),
        );
    }
    if p.timeout.is_zero() {
        return bad("timeout", "must be longer than 0s");
    }
    if p.max_body_bytes == 0 {
        return bad("max_body_bytes", "must be at least 1");
    }
    if p.max_redirects > 100 {
        return bad("max_redirects", "must be at most 100");
    }
    if p.user_agent.trim().is_empty() {
        return bad("user_agent", "is empty");
    }
    // A value no header can carry (a line break, NUL) used to pass here, and
    // every request then went out with no User-Agent at all.
    if reqwest::header::HeaderValue::from_str(&p.user_agent).is_err() {
        return bad(
            "user_agent",
            &format!(
                "{:?} cannot be sent as an HTTP header: line breaks, NUL and \
                 other control characters are not allowed",
                p.user_agent
            ),
        );
    }
    Ok(())
}

/// `[briefings]`: where the briefing store is.
#[derive(Debug, Clone, PartialEq)]
pub struct BriefingsConfig {
    /// Files or folders of briefing documents, each with the text written in the
    /// file (documents are named relative to it) and its resolved path.
    pub paths: Vec<BriefingRoot>,
}

/// One `[briefings] paths` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BriefingRoot {
    /// The entry as written in the configuration; documents are keyed by it, so a
    /// tree moved together with its configuration keeps its history.
    pub written: String,
    /// The entry resolved against the configuration file's folder.
    pub path: PathBuf,
}

/// `[store]`: the data folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// Data folder: the database and the archive live here.
    pub dir: PathBuf,
}

impl StoreConfig {
    /// The SQLite database inside the data folder.
    pub fn database(&self) -> PathBuf {
        self.dir.join("citewatch.db")
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    briefings: RawBriefings,
    #[serde(default)]
    store: RawStore,
    #[serde(default)]
    fetch: FetchConfig,
    #[serde(default)]
    check: CheckConfig,
    #[serde(default)]
    serve: ServeConfig,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawBriefings {
    paths: Vec<String>,
}

impl Default for RawBriefings {
    fn default() -> Self {
        RawBriefings {
            paths: vec!["../briefings".into()],
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawStore {
    dir: String,
}

impl Default for RawStore {
    fn default() -> Self {
        RawStore {
            dir: "../data".into(),
        }
    }
}

impl Config {
    /// Reads and validates a configuration file, and looks at where its data
    /// folder would be: a file there is this file's mistake (exit 2), not a
    /// failure of whichever run first tries to make the folder.
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let read = |source| ConfigError::Read {
            file: file.to_path_buf(),
            source,
        };
        // A pipe or a device would be read until it ends, which may be never.
        if let Ok(meta) = std::fs::metadata(file)
            && !meta.is_file()
        {
            return Err(read(std::io::Error::other(if meta.is_dir() {
                "a folder, not a configuration file"
            } else {
                "not a regular file (a pipe or a device); name the configuration file itself"
            })));
        }
        let text = std::fs::read_to_string(file).map_err(read)?;
        let config = Config::from_toml(&text, file)?;
        if let Some(in_the_way) = file_in_the_way(&config.store.dir) {
            let dir = config.store.dir.display();
            let message = if in_the_way == config.store.dir {
                format!("{dir} is a file, not a folder; name a folder (made if missing)")
            } else {
                format!(
                    "{dir} cannot be made: {} is a file, not a folder",
                    in_the_way.display()
                )
            };
            return Err(ConfigError::Invalid {
                file: file.to_path_buf(),
                at: line_of(&text, "store.dir")
                    .map(|l| format!(":{l}"))
                    .unwrap_or_default(),
                key: "store.dir".into(),
                message,
            });
        }
        Ok(config)
    }

    /// Validates configuration text as if it had been read from `file`; relative
    /// paths resolve against `file`'s folder.
    pub fn from_toml(text: &str, file: &Path) -> Result<Config, ConfigError> {
        let parse_error = |e: toml::de::Error, key: String| ConfigError::Parse {
            file: file.to_path_buf(),
            line: e
                .span()
                .and_then(|s| text.get(..s.start.min(text.len())))
                .map_or(0, |before| before.matches('\n').count() + 1),
            key,
            message: e.message().trim().to_string(),
        };
        let de = toml::Deserializer::parse(text).map_err(|e| parse_error(e, String::new()))?;
        let mut raw: RawConfig = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let key = if path == "." || path.is_empty() {
                String::new()
            } else {
                format!("key `{path}`: ")
            };
            let mut error = parse_error(e.into_inner(), key);
            if let ConfigError::Parse { message, .. } = &mut error {
                message.push_str(form_of(&path));
            }
            error
        })?;
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            file: file.to_path_buf(),
            at: line_of(text, key)
                .map(|l| format!(":{l}"))
                .unwrap_or_default(),
            key: key.to_string(),
            message,
        };
        let base = file.parent().unwrap_or(Path::new("."));
        if raw.briefings.paths.is_empty() {
            return Err(invalid(
                "briefings.paths",
                "is empty: name at least one file or folder of briefings".into(),
            ));
        }
        let mut paths = Vec::new();
        for (i, written) in raw.briefings.paths.iter().enumerate() {
            if written.trim().is_empty() {
                return Err(invalid(
                    &format!("briefings.paths[{i}]"),
                    "is an empty path".into(),
                ));
            }
            paths.push(BriefingRoot {
                written: written.clone(),
                path: base.join(written),
            });
        }
        if raw.store.dir.trim().is_empty() {
            return Err(invalid("store.dir", "is an empty path".into()));
        }
        raw.fetch
            .validate()
            .map_err(|(key, message)| invalid(&key, message))?;
        raw.serve
            .validate()
            .map_err(|(key, message)| invalid(&key, message))?;
        if raw.check.dead_after_checks == 0 {
            return Err(invalid(
                "check.dead_after_checks",
                "must be at least 1".into(),
            ));
        }
        if !(0.0..=1.0).contains(&raw.check.changed_below) {
            return Err(invalid(
                "check.changed_below",
                "must be between 0 and 1".into(),
            ));
        }
        for (key, d) in [
            ("check.recheck_ok", raw.check.recheck_ok),
            ("check.recheck_failing", raw.check.recheck_failing),
            ("check.recheck_dead", raw.check.recheck_dead),
        ] {
            if d.is_zero() {
                return Err(invalid(key, "must be longer than 0s".into()));
            }
            // The next check is now + the interval: past year 9999 it is no
            // time RFC 3339 can print (`next due: @9223372036854775807ms`).
            if d > MAX_RECHECK {
                return Err(invalid(
                    key,
                    format!("must be at most {MAX_RECHECK} (a century)"),
                ));
            }
        }
        Ok(Config {
            file: file.to_path_buf(),
            check: raw.check,
            fetch: raw.fetch,
            serve: raw.serve,
            briefings: BriefingsConfig { paths },
            store: StoreConfig {
                dir: base.join(&raw.store.dir),
            },
        })
    }
}

/// The nearest of `dir` and the folders above it that exists, when that is
/// not a folder (links followed): what stops the data folder being made.
fn file_in_the_way(dir: &Path) -> Option<PathBuf> {
    for p in dir.ancestors() {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => return None,
            Ok(_) => return Some(p.to_path_buf()),
            Err(_) => continue,
        }
    }
    None
}

/// What a value of the key at `path` looks like, for keys whose parser's own
/// words ("invalid socket address syntax") do not say.
fn form_of(path: &str) -> &'static str {
    let last = path.rsplit('.').next().unwrap_or(path);
    if last.starts_with("allow_networks") {
        " (a network is an address and a prefix length: 127.0.0.0/8, 10.0.0.0/8, \
         ::1/128; at most /32 for IPv4, /128 for IPv6)"
    } else if last == "listen" {
        " (an IP address and a port, as 127.0.0.1:8080; a host name such as \
         localhost is not looked up)"
    } else {
        ""
    }
}

/// The 1-based line where the value of dotted `key` (`fetch.timeout`,
/// `fetch.hosts."a.example".burst`, `briefings.paths[1]`) is written, if it is.
fn line_of(text: &str, key: &str) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    let doc = DeTable::parse(text).ok()?;
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in key.chars() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => segments.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    segments.push(current);
    let mut table = doc.get_ref();
    let mut span = None;
    for (i, segment) in segments.iter().enumerate() {
        let (name, index) = match segment.strip_suffix(']').and_then(|s| s.split_once('[')) {
            Some((name, n)) => (name, n.parse::<usize>().ok()),
            None => (segment.as_str(), None),
        };
        let (_, value) = table.iter().find(|(k, _)| k.get_ref().as_ref() == name)?;
        let value = match (index, value.get_ref()) {
            (Some(n), DeValue::Array(items)) => items.get(n)?,
            _ => value,
        };
        span = Some(value.span());
        match value.get_ref() {
            DeValue::Table(t) => table = t,
            _ if i + 1 < segments.len() => return None,
            _ => {}
        }
    }
    let start = span?.start.min(text.len());
    Some(text.get(..start)?.matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml(text, Path::new("/etc/cw/citewatch.toml"))
    }

    #[test]
    fn an_empty_file_means_every_default() {
        let c = load("").unwrap();
        assert_eq!(c.briefings.paths[0].path, Path::new("/etc/cw/../briefings"));
        assert_eq!(c.briefings.paths[0].written, "../briefings");
        assert_eq!(c.store.dir, Path::new("/etc/cw/../data"));
    }

    #[test]
    fn absolute_paths_stay_absolute() {
        let c =
            load("[store]\ndir = \"/var/lib/cw\"\n[briefings]\npaths = [\"/srv/b\", \"x.txt\"]")
                .unwrap();
        assert_eq!(c.store.dir, Path::new("/var/lib/cw"));
        assert_eq!(c.briefings.paths[1].path, Path::new("/etc/cw/x.txt"));
    }

    #[test]
    fn unknown_keys_are_named_with_file_and_line() {
        let e = load("[store]\ndir = \"d\"\ndri = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("/etc/cw/citewatch.toml:3:"), "{e}");
        assert!(e.contains("dri"), "{e}");
        let e = load("[stroe]\n").unwrap_err().to_string();
        assert!(e.contains("stroe"), "{e}");
    }

    #[test]
    fn wrong_types_name_the_key() {
        let e = load("[briefings]\npaths = \"b\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("/etc/cw/citewatch.toml:2:"), "{e}");
        assert!(e.contains("`briefings.paths`"), "{e}");
    }

    #[test]
    fn impossible_values_name_the_key() {
        let e = load("[briefings]\npaths = []\n").unwrap_err().to_string();
        assert!(e.contains("`briefings.paths`"), "{e}");
        let e = load("[store]\ndir = \"\"\n").unwrap_err().to_string();
        assert!(e.contains("`store.dir`"), "{e}");
    }

    #[test]
    fn the_shipped_file_is_every_default() {
        let shipped = include_str!("../config/citewatch.toml");
        let c = load(shipped).unwrap();
        let d = load("").unwrap();
        assert_eq!(c.fetch, FetchConfig::default());
        assert_eq!(c.check, CheckConfig::default());
        assert_eq!(c.serve, ServeConfig::default());
        assert_eq!((c.briefings, c.store), (d.briefings, d.store));
        for key in [
            "user_agent",
            "requests_per_second",
            "burst",
            "per_host_concurrency",
            "concurrency",
            "timeout",
            "connect_timeout",
            "max_body_bytes",
            "max_redirects",
            "retries",
            "max_retry_after",
            "respect_robots",
            "allow_networks",
            "listen",
            "public_url",
            "archive_origin",
            "admin_token",
            "max_connections",
            "allowed_hosts",
        ] {
            assert!(
                shipped.contains(&format!("\n{key} = ")),
                "{key} missing from the shipped file"
            );
        }
    }

    #[test]
    fn fetch_values_are_checked_and_named() {
        for (text, key) in [
            (
                "[fetch]\nrequests_per_second = -1.0",
                "fetch.requests_per_second",
            ),
            ("[fetch]\nburst = 0", "fetch.burst"),
            // Values the rate limiter and semaphores cannot hold, which once
            // passed here and panicked at the first request.
            (
                "[fetch]\nrequests_per_second = 1e-12",
                "fetch.requests_per_second",
            ),
            (
                "[fetch.hosts.\"a.example\"]\nrequests_per_second = 5e-324",
                "fetch.hosts.\"a.example\".requests_per_second",
            ),
            ("[fetch]\nburst = 4000000000", "fetch.burst"),
            (
                "[fetch]\nconcurrency = 3000000000000000000",
                "fetch.concurrency",
            ),
            (
                "[fetch]\nper_host_concurrency = 3000000000000000000",
                "fetch.per_host_concurrency",
            ),
            ("[fetch]\ntimeout = \"30\"", "fetch.timeout"),
            ("[fetch]\ntimeout = \"0s\"", "fetch.timeout"),
            (
                "[fetch]\nallow_networks = [\"10.0.0.0/33\"]",
                "fetch.allow_networks",
            ),
            (
                "[fetch.hosts.\"a.example\"]\nburst = 0",
                "fetch.hosts.\"a.example\".burst",
            ),
            (
                "[fetch.hosts.\"a.example\"]\nconcurrency = 3",
                "concurrency",
            ),
        ] {
            let e = load(text).unwrap_err().to_string();
            assert!(e.contains(key), "{text}: {e}");
        }
    }

    #[test]
    fn the_slowest_and_largest_accepted_values_make_a_working_pacer() {
        let c = load(
            "[fetch]\nrequests_per_second = 0.0000116\nburst = 1000\n\
             per_host_concurrency = 100000\nconcurrency = 100000",
        )
        .unwrap();
        let pacer = crate::fetch::pace::Pacer::new(c.fetch.concurrency);
        let policy = c.fetch.policy("a.example");
        let permit = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(pacer.acquire("a.example", &policy));
        assert!(permit.is_ok());
    }

    #[test]
    fn from_is_an_email_address_or_refused_with_its_line() {
        let c = load("[fetch]\nfrom = \" ops@example.org \"\n").unwrap();
        assert_eq!(c.fetch.from.as_deref(), Some("ops@example.org"));
        assert_eq!(load("").unwrap().fetch.from, None);
        let c = load("[fetch]\nfrom = \"Web team <ops@example.org>\"\n").unwrap();
        assert_eq!(c.fetch.from.as_deref(), Some("Web team <ops@example.org>"));
        for bad in [
            "ops",
            "@example.org",
            "ops@",
            "o ps@example.org",
            "ops@exa\\u0000mple.org",
            "<ops@example.org>",
            "Team <ops@example.org",
            "Team <o ps@example.org>",
            "a@b@c",
        ] {
            let e = load(&format!("[fetch]\nfrom = \"{bad}\"\n"))
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("/etc/cw/citewatch.toml:2: key `fetch.from`: ")
                    && e.ends_with("is not an email address such as \"ops@example.org\""),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn a_user_agent_no_header_can_carry_is_named_with_its_line() {
        let e = load("[fetch]\nuser_agent = \"cw/1\\nX-Evil: 1\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "/etc/cw/citewatch.toml:2: key `fetch.user_agent`: \"cw/1\\nX-Evil: 1\" cannot be \
             sent as an HTTP header: line breaks, NUL and other control characters are not allowed"
        );
        let e = load("[fetch.hosts.\"a.example\"]\n\nuser_agent = \"cw\\u0000\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("/etc/cw/citewatch.toml:3: key `fetch.hosts.\"a.example\".user_agent`: "),
            "{e}"
        );
        for fine in ["cw/1 (+https://cw.example; a\\tb)", "cw/1 (Zürich)"] {
            let c = load(&format!("[fetch]\nuser_agent = \"{fine}\"\n")).unwrap();
            assert!(c.fetch.user_agent.starts_with("cw/1"));
        }
    }

    /// A re-check interval of millennia was taken, and the next check it
    /// scheduled lay past year 9999: `status` and `sources` then printed
    /// `next due: @9223372036854775807ms`, no time at all.
    #[test]
    fn a_recheck_interval_beyond_a_century_is_refused() {
        for key in ["recheck_ok", "recheck_failing", "recheck_dead"] {
            let e = load(&format!("[check]\n{key} = \"213503982334d\"\n"))
                .unwrap_err()
                .to_string();
            assert_eq!(
                e,
                format!(
                    "/etc/cw/citewatch.toml:2: key `check.{key}`: must be at most 36500d (a century)"
                )
            );
            let c = load(&format!("[check]\n{key} = \"36500d\"\n")).unwrap();
            assert_eq!(
                c.check
                    .recheck_ok
                    .max(c.check.recheck_failing)
                    .max(c.check.recheck_dead)
                    .as_millis(),
                36_500 * 86_400_000
            );
        }
    }

    #[test]
    fn a_value_found_impossible_after_parsing_is_named_with_its_line() {
        let e = load("[store]\ndir = \"d\"\n\n[fetch]\nretries = 1\ntimeout = \"0s\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "/etc/cw/citewatch.toml:6: key `fetch.timeout`: must be longer than 0s"
        );
        let e = load("[fetch.hosts.\"a.example\"]\n\nburst = 0\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("/etc/cw/citewatch.toml:3: key `fetch.hosts.\"a.example\".burst`"),
            "{e}"
        );
        let e = load("[briefings]\npaths = [\n  \"a\",\n  \" \",\n]\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("/etc/cw/citewatch.toml:4: key `briefings.paths[1]`"),
            "{e}"
        );
        let e = load("[store]\ndir = \"\"\n").unwrap_err().to_string();
        assert!(
            e.starts_with("/etc/cw/citewatch.toml:2: key `store.dir`"),
            "{e}"
        );
    }

    #[test]
    fn host_overrides_apply_to_their_host_only() {
        let c = load("[fetch]\nrequests_per_second = 2.0\n[fetch.hosts.\"Slow.Example\"]\nrequests_per_second = 0.2\ntimeout = \"90s\"").unwrap();
        let slow = c.fetch.policy("slow.example");
        assert_eq!(
            (slow.requests_per_second, slow.timeout),
            (0.2, Duration::from_secs(90))
        );
        assert_eq!(slow.burst, 1);
        assert_eq!(c.fetch.policy("other.example").requests_per_second, 2.0);
        // Asked under another spelling of the host, as a source may record
        // it (the check's per-host share asks with the source's host).
        for host in ["slow.example.", "SLOW.example", "Slow.Example."] {
            let p = c.fetch.policy(host);
            assert_eq!(p.requests_per_second, 0.2, "{host}");
        }
    }

    #[test]
    fn a_host_override_written_as_people_read_the_name_applies_to_it() {
        // URLs carry the name in punycode, as the fetcher paces it.
        let c = load("[fetch.hosts.\"新华网.中国\"]\nrequests_per_second = 0.2").unwrap();
        let p = c.fetch.policy("xn--xkrr14bows.xn--fiqs8s");
        assert_eq!(p.requests_per_second, 0.2);
        let twice = load(
            "[fetch.hosts.\"新华网.中国\"]\nburst = 2\n[fetch.hosts.\"xn--xkrr14bows.xn--fiqs8s\"]\nburst = 3",
        )
        .unwrap_err()
        .to_string();
        assert!(twice.contains("names a host twice"), "{twice}");
    }

    #[test]
    fn serve_urls_are_checked_and_end_with_a_slash() {
        let e = load("[serve]\npublic_url = \"ftp://x\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("serve.public_url"), "{e}");
        let e = load("[serve]\nlisten = \"localhost\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("serve.listen"), "{e}");
        assert!(
            e.contains("an IP address and a port, as 127.0.0.1:8080"),
            "{e}"
        );
        let e = load("[fetch]\nallow_networks = [\"127.0.0.0/33\"]")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("key `fetch.allow_networks[0]`") && e.contains("at most /32 for IPv4"),
            "{e}"
        );
        let c = load("[serve]\npublic_url = \"https://cw.example/base\"").unwrap();
        assert_eq!(
            c.serve.public_url().unwrap().as_str(),
            "https://cw.example/base/"
        );
        assert_eq!(load("").unwrap().serve.public_url(), None);
        let e = load("[serve]\nmax_connections = 0")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("serve.max_connections") && e.contains("must be at least 1"),
            "{e}"
        );
        let c = load("[serve]\nmax_connections = 2000").unwrap();
        assert_eq!(c.serve.max_connections, 2000);
        assert_eq!(
            load("").unwrap().serve.max_connections,
            crate::server::MAX_CONNECTIONS
        );
    }

    #[test]
    fn a_data_folder_that_is_a_file_is_named_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("citewatch.toml");
        std::fs::write(dir.path().join("data"), "").unwrap();
        for (written, says) in [
            (
                "data",
                format!("{}/data is a file, not a folder", dir.path().display()),
            ),
            (
                "data/sub",
                format!("{}/data is a file, not a folder", dir.path().display()),
            ),
        ] {
            std::fs::write(&config, format!("[store]\ndir = \"{written}\"\n")).unwrap();
            let e = Config::load(&config).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("{}:2: key `store.dir`: ", config.display())),
                "{e}"
            );
            assert!(e.contains(&says), "{e}");
        }
        std::fs::write(&config, "[store]\ndir = \"fresh/data\"\n").unwrap();
        assert!(Config::load(&config).is_ok());
    }

    #[test]
    fn broken_toml_names_the_line() {
        let e = load("[store]\ndir = \n").unwrap_err().to_string();
        assert!(e.starts_with("/etc/cw/citewatch.toml:2:"), "{e}");
    }
}
