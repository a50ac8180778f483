//! The validated configuration: file + defaults, with every error naming the key and
//! the file it came from.
//!
//! Parsed command-line arguments never reach the library; `main.rs` picks the file
//! (`--config`, then `CITEWATCH_CONFIG`, then `config/citewatch.toml`) and calls
//! [`Config::load`].

use std::path::{Path, PathBuf};

use serde::Deserialize;

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
    #[error("{file}: key `{key}`: {message}")]
    Invalid {
        /// The configuration file.
        file: PathBuf,
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
#[expect(
    dead_code,
    reason = "fetch, check and serve are filled by later issues; read now so unknown keys fail"
)]
struct RawConfig {
    #[serde(default)]
    briefings: RawBriefings,
    #[serde(default)]
    store: RawStore,
    #[serde(default)]
    fetch: RawEmpty,
    #[serde(default)]
    check: RawEmpty,
    #[serde(default)]
    serve: RawEmpty,
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

/// A section later issues fill; until then any key in it is unknown.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawEmpty {}

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
            file: file.to_path_buf(),
            source,
        })?;
        Config::from_toml(&text, file)
    }

    /// Validates configuration text as if it had been read from `file`; relative
    /// paths resolve against `file`'s folder.
    pub fn from_toml(text: &str, file: &Path) -> Result<Config, ConfigError> {
        let parse_error = |e: toml::de::Error, key: String| ConfigError::Parse {
            file: file.to_path_buf(),
            line: e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(0),
            key,
            message: e.message().trim().to_string(),
        };
        let de = toml::Deserializer::parse(text).map_err(|e| parse_error(e, String::new()))?;
        let raw: RawConfig = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let key = if path == "." || path.is_empty() {
                String::new()
            } else {
                format!("key `{path}`: ")
            };
            parse_error(e.into_inner(), key)
        })?;
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            file: file.to_path_buf(),
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
        Ok(Config {
            file: file.to_path_buf(),
            briefings: BriefingsConfig { paths },
            store: StoreConfig {
                dir: base.join(&raw.store.dir),
            },
        })
    }
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
    fn broken_toml_names_the_line() {
        let e = load("[store]\ndir = \n").unwrap_err().to_string();
        assert!(e.starts_with("/etc/cw/citewatch.toml:2:"), "{e}");
    }
}
