//! One run at a time, a check or a sync: an exclusive lock on a file in the
//! data folder, released by the operating system when the process ends,
//! however it ends.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Another run holds the lock.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Held by someone else.
    #[error("another run (a check or a sync) holds {}: {holder}", path.display())]
    Held {
        /// The lock file.
        path: PathBuf,
        /// What the holder wrote: pid and start time.
        holder: String,
    },
    /// The data folder could not be created.
    #[error("{}: cannot create the data folder: {source}", dir.display())]
    Folder {
        /// The data folder.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The lock file could not be opened.
    #[error("{}: cannot take the run lock: {source}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Held for the duration of a run.
pub struct RunLock {
    _file: File,
}

impl RunLock {
    /// Takes the lock in `dir`, or says who holds it.
    pub fn acquire(dir: &Path, started: &str) -> Result<RunLock, LockError> {
        let path = dir.join("check.lock");
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(|source| LockError::Folder {
            dir: dir.to_path_buf(),
            source,
        })?;
        let mut file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(LockError::Held {
                    path,
                    holder: holder.trim().to_string(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(file, "pid {} started {started}", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(RunLock { _file: file })
    }
}

/// Who holds the lock in `dir`, if anyone, without taking it for longer than
/// a look: for commands that only read, yet must not mistake a running
/// check's work in progress for leftovers.
pub fn holder(dir: &Path) -> Option<String> {
    let mut file = File::open(dir.join("check.lock")).ok()?;
    match file.try_lock() {
        Ok(()) => None,
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            Some(holder.trim().to_string())
        }
        Err(std::fs::TryLockError::Error(_)) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_and_told_who_runs() {
        let dir = tempfile::tempdir().unwrap();
        let first = RunLock::acquire(dir.path(), "2026-11-29T03:00:00Z").unwrap();
        match RunLock::acquire(dir.path(), "later") {
            Err(LockError::Held { holder, .. }) => {
                assert!(holder.contains(&std::process::id().to_string()), "{holder}");
                assert!(holder.contains("2026-11-29T03:00:00Z"));
            }
            _ => panic!("second lock granted"),
        }
        assert!(holder(dir.path()).is_some_and(|h| h.contains("2026-11-29T03:00:00Z")));
        drop(first);
        assert_eq!(holder(dir.path()), None);
        assert!(RunLock::acquire(dir.path(), "again").is_ok());
    }

    #[test]
    fn a_folder_that_cannot_be_made_is_not_taken_for_a_held_lock() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a-file"), "").unwrap();
        let result = RunLock::acquire(&dir.path().join("a-file/data"), "now");
        assert!(matches!(result, Err(LockError::Folder { .. })));
    }
}
