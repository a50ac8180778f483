//! One run at a time, a check, a sync, a `verify --repair` or a `fetch
//! --save`: an exclusive lock on the data folder and on a file in it,
//! released by the operating system when the process ends, however it ends.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Another run holds the lock.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Held by someone else.
    #[error(
        "another run (a check, a sync, a `verify --repair` or a `fetch --save`) holds {}: {holder}",
        path.display()
    )]
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

/// How long a run waits for a lock that was taken only to be looked at
/// ([`holder`], a `verify`), which holds it for microseconds: without the
/// wait, a run starting in that instant was refused and named a finished
/// run, whose words were still in the file. Short, since a run truly held
/// is refused only after it.
const LOOK_GRACE: Duration = Duration::from_millis(100);

/// Held for the duration of a run: the data folder locked, and `check.lock`
/// in it, which says who holds it.
///
/// The folder is what excludes a second run: a lock on `check.lock` alone
/// was lost with the file (a clean-up deleting it, an operator's `rm`), and
/// the next run locked a new file beside a run still going. A folder
/// holding the store cannot be deleted from under a run. `check.lock` is
/// locked too, so that older versions of citewatch, which lock only it,
/// are still kept out.
pub struct RunLock {
    _folder: File,
    _file: File,
}

/// A test's hook ([`AFTER_OPEN`]).
#[cfg(test)]
type Hook = Box<dyn FnMut(&Path)>;

#[cfg(test)]
thread_local! {
    /// Run between opening `check.lock` and locking it: a test's stand-in
    /// for another process replacing the file in that instant, a window
    /// too narrow to hit from outside.
    static AFTER_OPEN: std::cell::RefCell<Option<Hook>> =
        const { std::cell::RefCell::new(None) };
}

/// One attempt at the lock.
enum Attempt {
    Taken(RunLock),
    /// Held: what `check.lock` says of its holder.
    Held(String),
}

impl RunLock {
    /// Takes the lock in `dir`, or says who holds it.
    pub fn acquire(dir: &Path, started: &str) -> Result<RunLock, LockError> {
        let path = dir.join("check.lock");
        std::fs::create_dir_all(dir).map_err(|source| LockError::Folder {
            dir: dir.to_path_buf(),
            source,
        })?;
        let deadline = Instant::now() + LOOK_GRACE;
        loop {
            match Self::attempt(dir, &path, started)? {
                Attempt::Taken(lock) => return Ok(lock),
                Attempt::Held(holder) if Instant::now() >= deadline => {
                    return Err(LockError::Held { path, holder });
                }
                Attempt::Held(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }

    fn attempt(dir: &Path, path: &Path, started: &str) -> Result<Attempt, LockError> {
        let io = |source| LockError::Io {
            path: path.to_path_buf(),
            source,
        };
        let folder = File::open(dir).map_err(io)?;
        match folder.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(Attempt::Held(said(path))),
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        // Only this process can now replace the file, but one that ran before
        // may have, between this open and the lock: the file locked must be
        // the one at the path, where others read who holds the lock.
        for _ in 0..3 {
            let mut file = File::options()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
                .map_err(io)?;
            #[cfg(test)]
            AFTER_OPEN.with(|hook| {
                if let Some(hook) = hook.borrow_mut().as_mut() {
                    hook(path);
                }
            });
            match file.try_lock() {
                Ok(()) => {}
                // An older citewatch holds it, or looks at it.
                Err(std::fs::TryLockError::WouldBlock) => return Ok(Attempt::Held(said(path))),
                Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
            }
            if !same_file(&file, path) {
                continue;
            }
            file.set_len(0).map_err(io)?;
            file.seek(SeekFrom::Start(0)).map_err(io)?;
            writeln!(file, "pid {} started {started}", std::process::id()).map_err(io)?;
            file.flush().map_err(io)?;
            return Ok(Attempt::Taken(RunLock {
                _folder: folder,
                _file: file,
            }));
        }
        Err(io(std::io::Error::other(
            "the file kept being replaced while it was being locked",
        )))
    }
}

/// Whether `file` is the file at `path` now (not one deleted or replaced
/// since it was opened).
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// What `check.lock` says of the run holding the lock.
fn said(path: &Path) -> String {
    let mut holder = String::new();
    if let Ok(mut f) = File::open(path) {
        let _ = f.read_to_string(&mut holder);
    }
    let holder = holder.trim();
    if holder.is_empty() {
        // The file was deleted (or emptied) while the run held the folder.
        "a run whose check.lock was deleted while it ran (pid unknown)".to_string()
    } else {
        holder.to_string()
    }
}

/// Who holds the lock in `dir`, if anyone, without taking it for longer than
/// a look: for commands that only read, yet must not mistake a running
/// check's work in progress for leftovers. A run starting during the look
/// waits it out (for up to 100 ms).
pub fn holder(dir: &Path) -> Option<String> {
    let path = dir.join("check.lock");
    let folder = File::open(dir).ok()?;
    match folder.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Some(said(&path)),
        Err(std::fs::TryLockError::Error(_)) => return None,
    }
    // An older citewatch locks only the file.
    let file = File::open(&path).ok()?;
    match file.try_lock() {
        Err(std::fs::TryLockError::WouldBlock) => Some(said(&path)),
        Ok(()) | Err(std::fs::TryLockError::Error(_)) => None,
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
    fn deleting_the_lock_file_under_a_run_does_not_let_a_second_one_in() {
        let dir = tempfile::tempdir().unwrap();
        let first = RunLock::acquire(dir.path(), "2026-11-29T03:00:00Z").unwrap();
        // A clean-up of stale files, or an operator, removes it mid-run.
        std::fs::remove_file(dir.path().join("check.lock")).unwrap();
        match RunLock::acquire(dir.path(), "later") {
            Err(LockError::Held { holder, .. }) => {
                assert!(holder.contains("deleted while it ran"), "{holder}");
            }
            Ok(_) => panic!("a second run took the lock while the first ran"),
            Err(e) => panic!("{e}"),
        }
        assert!(holder(dir.path()).is_some());
        drop(first);
        assert_eq!(holder(dir.path()), None);
        drop(RunLock::acquire(dir.path(), "again").unwrap());
        let said = std::fs::read_to_string(dir.path().join("check.lock")).unwrap();
        assert!(said.contains("started again"), "{said}");
    }

    /// Puts a new file, saying `words`, in place of the one at `path`, as
    /// an older citewatch or a clean-up would.
    fn replace(path: &Path, words: &str) {
        let new = path.with_extension("new");
        std::fs::write(&new, words).unwrap();
        std::fs::rename(&new, path).unwrap();
    }

    #[test]
    fn a_lock_file_replaced_between_its_open_and_its_lock_is_opened_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("check.lock");
        let mut replaced = false;
        AFTER_OPEN.with(|hook| {
            *hook.borrow_mut() = Some(Box::new(move |path: &Path| {
                if !std::mem::replace(&mut replaced, true) {
                    replace(path, "pid 1 started long ago");
                }
            }));
        });
        let lock = RunLock::acquire(dir.path(), "2026-11-29T03:00:00Z");
        AFTER_OPEN.with(|hook| hook.borrow_mut().take());
        let lock = lock.unwrap();
        // Locked, the replaced file would keep out nobody who locks the
        // file at the path (an older citewatch), and say nothing where
        // others read who holds the lock.
        let at_path = File::open(&path).unwrap();
        assert!(
            matches!(at_path.try_lock(), Err(std::fs::TryLockError::WouldBlock)),
            "the file at the path is not the one locked"
        );
        let said = std::fs::read_to_string(&path).unwrap();
        assert!(said.contains("started 2026-11-29T03:00:00Z"), "{said}");
        drop(lock);

        // Replaced at every attempt: an error, not a lock on a lost file.
        AFTER_OPEN.with(|hook| {
            *hook.borrow_mut() = Some(Box::new(|path: &Path| replace(path, "again")));
        });
        let lock = RunLock::acquire(dir.path(), "later");
        AFTER_OPEN.with(|hook| hook.borrow_mut().take());
        match lock {
            Err(LockError::Io { source, .. }) => {
                assert!(
                    source.to_string().contains("kept being replaced"),
                    "{source}"
                );
            }
            Ok(_) => panic!("locked a file no longer at the path"),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_run_starting_while_the_lock_is_only_looked_at_waits_the_look_out() {
        let dir = tempfile::tempdir().unwrap();
        drop(RunLock::acquire(dir.path(), "the finished run").unwrap());
        // What a look at the lock does, slowed down: this version's
        // `holder` takes the folder's lock, an older one the file's.
        for target in [dir.path().to_path_buf(), dir.path().join("check.lock")] {
            let look = File::open(&target).unwrap();
            look.try_lock().unwrap();
            let looking = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(30));
                drop(look);
            });
            let taken = RunLock::acquire(dir.path(), "the new run");
            looking.join().unwrap();
            match taken {
                Ok(lock) => drop(lock),
                Err(e) => panic!("{}: refused for a look: {e}", target.display()),
            }
        }
    }

    #[test]
    fn a_folder_that_cannot_be_made_is_not_taken_for_a_held_lock() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a-file"), "").unwrap();
        let result = RunLock::acquire(&dir.path().join("a-file/data"), "now");
        assert!(matches!(result, Err(LockError::Folder { .. })));
    }
}
