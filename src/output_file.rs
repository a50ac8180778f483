//! Files citewatch writes for people and other tools (`report -o`,
//! `export-warc -o`, `get -o`): written as a file with no name yet beside
//! their final path, and renamed into place whole, so that whoever reads the
//! path (a web server, a WARC replayer) never sees half a file, and a
//! command killed halfway leaves nothing behind.
//!
//! The path is written as a user means it: through a symbolic link to the file
//! it names (the link stays), straight into a device or pipe (`/dev/stdout`),
//! and with the mode of the file it replaces, or the umask's for a new one.
//! A path that is this process's standard output is written through it, as
//! the shell opened it: a file it truncated or appends to stays that file.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// An output file being written; [`OutputFile::commit`] puts it in place.
#[derive(Debug)]
pub struct OutputFile {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// A file with no name yet in `dest`'s folder (`O_TMPFILE`): a run
    /// killed before the commit leaves nothing behind, where a named
    /// temporary file would stay (a signal does not run destructors). On
    /// commit it is given a temporary name and renamed over `dest`.
    Unnamed {
        file: File,
        dest: PathBuf,
        prefix: String,
    },
    /// A temporary file renamed over `dest` on commit, where the file system
    /// cannot make a file with no name.
    Beside { temp: NamedTempFile, dest: PathBuf },
    /// A device or pipe, written in place: there is nothing to rename over.
    Direct(File),
}

impl OutputFile {
    /// Starts writing `path`: a temporary file (named `prefix…`) beside the file
    /// `path` resolves to, or `path` itself when it is a device or a pipe.
    pub fn create(path: &Path, prefix: &str) -> io::Result<OutputFile> {
        if let Some(out) = stdout_if(path) {
            return Ok(OutputFile {
                kind: Kind::Direct(out),
            });
        }
        let (dest, mode) = match std::fs::metadata(path) {
            // Refused before any work: the rename at the end would fail on
            // it, after the whole report or copy was written for nothing.
            Ok(m) if m.is_dir() => return Err(a_folder()),
            _ if path.as_os_str().as_encoded_bytes().ends_with(b"/") => return Err(a_folder()),
            Ok(m) if !m.is_file() => {
                let file = OpenOptions::new().write(true).open(path)?;
                return Ok(OutputFile {
                    kind: Kind::Direct(file),
                });
            }
            // Through a link to the file it names, keeping that file's mode.
            Ok(m) if m.is_file() => (std::fs::canonicalize(path)?, Some(m.permissions())),
            _ => (path.to_path_buf(), None),
        };
        let dir = folder_of(&dest)?;
        if let Some(file) = unnamed(dir, mode.clone()) {
            return Ok(OutputFile {
                kind: Kind::Unnamed {
                    file,
                    dest,
                    prefix: prefix.to_string(),
                },
            });
        }
        let temp = beside(dir, prefix, mode)?;
        Ok(OutputFile {
            kind: Kind::Beside { temp, dest },
        })
    }

    /// The open file (for `sync_all`).
    pub fn file(&self) -> &File {
        match &self.kind {
            Kind::Unnamed { file, .. } => file,
            Kind::Beside { temp, .. } => temp.as_file(),
            Kind::Direct(f) => f,
        }
    }

    /// The file the rename will replace (a link resolved); `None` for a
    /// device or pipe, written in place.
    pub fn destination(&self) -> Option<&Path> {
        match &self.kind {
            Kind::Unnamed { dest, .. } | Kind::Beside { dest, .. } => Some(dest),
            Kind::Direct(_) => None,
        }
    }

    /// Puts the file in place durably: its bytes synced, the rename, then
    /// its folder synced; nothing for a device or pipe but a flush.
    ///
    /// The rename is an entry in the folder, which a power cut could undo
    /// until the folder itself is synced: the old file back, or none, after
    /// the command said it was written. Bytes not synced before the rename
    /// could come back as an empty or short file under the new name.
    pub fn commit(self) -> io::Result<()> {
        let dest = match self.kind {
            Kind::Unnamed { file, dest, prefix } => {
                sync_file(&file)?;
                name_and_rename(&file, &dest, &prefix)?;
                dest
            }
            Kind::Beside { temp, dest } => {
                sync_file(temp.as_file())?;
                temp.persist(&dest).map_err(|e| e.error)?;
                dest
            }
            Kind::Direct(mut f) => return f.flush(),
        };
        let dir = folder_of(&dest)?;
        sync_folder(dir).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "{} is in place, but its folder could not be synced to disk: {e}",
                    dest.display()
                ),
            )
        })
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.kind {
            Kind::Unnamed { file, .. } => file.write(buf),
            Kind::Beside { temp, .. } => temp.write(buf),
            Kind::Direct(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.kind {
            Kind::Unnamed { file, .. } => file.flush(),
            Kind::Beside { temp, .. } => temp.flush(),
            Kind::Direct(f) => f.flush(),
        }
    }
}

/// Whether `path` is this process's standard output (`/dev/stdout`, or the
/// file or pipe the shell connected to it), so that a command writing its
/// output there keeps its own messages off it.
pub fn is_stdout(path: &Path) -> bool {
    stdout_if(path).is_some()
}

/// Standard output, shared with the shell's opening of it (offset, append
/// mode), when `path` is that same file.
fn stdout_if(path: &Path) -> Option<File> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let out = File::from(io::stdout().as_fd().try_clone_to_owned().ok()?);
    let (a, b) = (out.metadata().ok()?, std::fs::metadata(path).ok()?);
    (a.dev() == b.dev() && a.ino() == b.ino()).then_some(out)
}

/// What `-o` naming a folder is told.
fn a_folder() -> io::Error {
    io::Error::new(
        io::ErrorKind::IsADirectory,
        "a folder, not a file: name a file in it",
    )
}

/// The folder `path` goes in (where its temporary file must be, so that the
/// final rename stays on one file system), named when it does not exist.
fn folder_of(path: &Path) -> io::Result<&Path> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("there is no folder {}", dir.display()),
        ));
    }
    Ok(dir)
}

/// A file with no name in `dir` (Linux's `O_TMPFILE`), with `mode` or else a
/// new file's usual mode (0666 less the umask); `None` where the file system
/// or the kernel cannot make one, or `/proc` (through which it is named on
/// commit) is missing: the caller falls back to a named temporary file.
fn unnamed(dir: &Path, mode: Option<Permissions>) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    if !Path::new("/proc/self/fd").is_dir() {
        return None;
    }
    let file = OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_TMPFILE)
        .mode(0o666)
        .open(dir)
        .ok()?;
    if let Some(mode) = mode {
        file.set_permissions(mode).ok()?;
    }
    Some(file)
}

/// Whether a sync failed because this file system or kind of file cannot
/// be synced at all (a folder on some file systems, a pipe), rather than
/// because writing failed: nothing more can be done then, and the file is
/// as durable as that file system makes it.
fn refused(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL | libc::EBADF | libc::ENOTSUP | libc::ENOSYS)
    )
}

/// Syncs a file's bytes, where they can be.
fn sync_file(file: &File) -> io::Result<()> {
    match file.sync_all() {
        Err(e) if refused(&e) => Ok(()),
        other => other,
    }
}

/// A test's stand-in for syncing a folder ([`sync_folder`]).
#[cfg(test)]
type FolderSync = Box<dyn FnMut(&Path) -> io::Result<()>>;

#[cfg(test)]
thread_local! {
    /// Takes the place of the folder's sync in a test, which sees which
    /// folder is synced, when, and what becomes of a failure. What the sync
    /// itself buys shows only across a power cut.
    static SYNC_FOLDER: std::cell::RefCell<Option<FolderSync>> =
        const { std::cell::RefCell::new(None) };
}

/// Syncs a folder, so that a rename in it lasts; a file system that cannot
/// sync a folder is left as it is.
fn sync_folder(dir: &Path) -> io::Result<()> {
    #[cfg(test)]
    if let Some(result) = SYNC_FOLDER.with(|s| s.borrow_mut().as_mut().map(|s| s(dir))) {
        return result.or_else(|e| if refused(&e) { Ok(()) } else { Err(e) });
    }
    match File::open(dir).and_then(|d| d.sync_all()) {
        Err(e) if refused(&e) => Ok(()),
        other => other,
    }
}

/// Gives an unnamed file a temporary name beside `dest` (linking it through
/// `/proc/self/fd`, which needs no privilege where `AT_EMPTY_PATH` would),
/// then renames that over `dest`: whoever reads `dest` sees the old file or
/// the whole new one.
fn name_and_rename(file: &File, dest: &Path, prefix: &str) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    let dir = folder_of(dest)?;
    let from =
        CString::new(format!("/proc/self/fd/{}", file.as_raw_fd())).map_err(io::Error::other)?;
    for _ in 0..16 {
        let name = dir.join(format!("{prefix}{:016x}.tmp", rand::random::<u64>()));
        let to = CString::new(name.as_os_str().as_bytes()).map_err(io::Error::other)?;
        // SAFETY: both paths are NUL-terminated strings that outlive the call.
        let linked = unsafe {
            libc::linkat(
                libc::AT_FDCWD,
                from.as_ptr(),
                libc::AT_FDCWD,
                to.as_ptr(),
                libc::AT_SYMLINK_FOLLOW,
            )
        };
        if linked != 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::AlreadyExists {
                continue;
            }
            return Err(e);
        }
        return std::fs::rename(&name, dest).inspect_err(|_| {
            let _ = std::fs::remove_file(&name);
        });
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("no free temporary name in {}", dir.display()),
    ))
}

/// A temporary file in `dir`, removed unless persisted, with `mode` or else
/// a new file's usual mode (0666 less the umask; tempfile's own is the
/// owner's only). Its errors name the folder, not the temporary name, which
/// the user never chose.
fn beside(dir: &Path, prefix: &str, mode: Option<Permissions>) -> io::Result<NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(Permissions::from_mode(0o666));
    }
    let temp = builder.tempfile_in(dir).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot create a file in {}: {}", dir.display(), e.kind()),
        )
    })?;
    if let Some(mode) = mode {
        temp.as_file().set_permissions(mode)?;
    }
    Ok(temp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};

    fn write(path: &Path, text: &str) -> io::Result<()> {
        let mut out = OutputFile::create(path, ".x-")?;
        out.write_all(text.as_bytes())?;
        out.commit()
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_missing_folder_is_named_and_a_file_lands_beside_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nowhere/report.html");
        let e = OutputFile::create(&missing, ".x-").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "there is no folder {}",
                dir.path().join("nowhere").display()
            )
        );
        let fine = beside(dir.path(), ".x-", None).unwrap();
        assert_eq!(fine.path().parent(), Some(dir.path()));
        let name = fine
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(name.starts_with(".x-") && name.ends_with(".tmp"), "{name}");
    }

    /// `report -o /tmp` wrote the whole report, then failed to rename it
    /// over the folder (exit 3, "Is a directory"); `-o out/` named no file.
    #[test]
    fn a_folder_is_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        for path in [dir.path().to_path_buf(), dir.path().join("new/")] {
            let e = OutputFile::create(&path, ".x-").unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::IsADirectory, "{}", path.display());
            assert_eq!(e.to_string(), "a folder, not a file: name a file in it");
        }
        assert!(names_in(dir.path()).is_empty());
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_file_being_written_has_no_name_until_it_is_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("all.warc.gz");
        std::fs::write(&path, "old").unwrap();
        let mut out = OutputFile::create(&path, ".x-").unwrap();
        out.write_all(&[7u8; 100_000]).unwrap();
        // Killed now, nothing would be left beside the file (a signal runs
        // no destructor to remove a named temporary file).
        assert_eq!(names_in(dir.path()), ["all.warc.gz"]);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        out.commit().unwrap();
        assert_eq!(names_in(dir.path()), ["all.warc.gz"]);
        assert_eq!(std::fs::read(&path).unwrap(), [7u8; 100_000]);
        // Given up: nothing at all.
        let given_up = dir.path().join("other.warc.gz");
        drop(OutputFile::create(&given_up, ".x-").unwrap());
        assert_eq!(names_in(dir.path()), ["all.warc.gz"]);
    }

    /// Commits `text` to `path` as `kind` of output, with `sync` in place of
    /// the folder's sync; returns what commit said and the folders synced,
    /// each with what `path` held then.
    fn commit_watched(
        kind: fn(&Path) -> OutputFile,
        path: &Path,
        text: &str,
        mut sync: impl FnMut() -> io::Result<()> + 'static,
    ) -> (io::Result<()>, Vec<(PathBuf, String)>) {
        let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let log = seen.clone();
        let watched = path.to_path_buf();
        SYNC_FOLDER.with(|s| {
            *s.borrow_mut() = Some(Box::new(move |dir: &Path| {
                let held = std::fs::read_to_string(&watched).unwrap_or_default();
                log.borrow_mut().push((dir.to_path_buf(), held));
                sync()
            }));
        });
        let mut out = kind(path);
        out.write_all(text.as_bytes()).unwrap();
        let result = out.commit();
        SYNC_FOLDER.with(|s| s.borrow_mut().take());
        let seen = seen.borrow().clone();
        (result, seen)
    }

    #[test]
    fn the_folder_is_synced_after_the_rename_and_only_a_refusal_is_let_pass() {
        let unnamed = |path: &Path| OutputFile::create(path, ".x-").unwrap();
        let named = |path: &Path| OutputFile {
            kind: Kind::Beside {
                temp: beside(path.parent().unwrap(), ".x-", None).unwrap(),
                dest: path.to_path_buf(),
            },
        };
        for (how, kind) in [
            ("unnamed", unnamed as fn(&Path) -> OutputFile),
            ("named", named),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("report.html");
            std::fs::write(&path, "old").unwrap();
            let (result, synced) = commit_watched(kind, &path, "new", || Ok(()));
            result.unwrap();
            // Once, the folder the file is in, with the new file there.
            assert_eq!(synced, [(dir.path().to_path_buf(), "new".into())], "{how}");
            assert_eq!(names_in(dir.path()), ["report.html"], "{how}");

            // A file system that cannot sync a folder: the file stands.
            let refusal = || Err(io::Error::from_raw_os_error(libc::EINVAL));
            let (result, _) = commit_watched(kind, &path, "newer", refusal);
            result.unwrap_or_else(|e| panic!("{how}: {e}"));
            assert_eq!(std::fs::read_to_string(&path).unwrap(), "newer");

            // A disk that fails: said, naming the file, which is in place.
            let failure = || Err(io::Error::from_raw_os_error(libc::EIO));
            let (result, _) = commit_watched(kind, &path, "newest", failure);
            let e = result.unwrap_err();
            assert!(
                e.to_string()
                    .contains("report.html is in place, but its folder could not"),
                "{how}: {e}"
            );
            assert_eq!(names_in(dir.path()), ["report.html"], "{how}");
        }
        // A device is written in place: no folder to sync.
        let (result, synced) = commit_watched(
            |p: &Path| OutputFile::create(p, ".x-").unwrap(),
            Path::new("/dev/null"),
            "nothing",
            || Ok(()),
        );
        result.unwrap();
        assert_eq!(synced, []);
    }

    #[test]
    fn a_new_file_is_readable_by_others_and_a_replaced_one_keeps_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("report.html");
        write(&new, "one").unwrap();
        // 0666 less the umask: others may read it unless the umask says no.
        let umask_lets_others_read = {
            let probe = dir.path().join("probe");
            std::fs::write(&probe, "").unwrap();
            mode(&probe) & 0o004 != 0
        };
        assert_eq!(mode(&new) & 0o004 != 0, umask_lets_others_read);
        assert_ne!(mode(&new), 0o600, "tempfile's mode leaked");
        std::fs::set_permissions(&new, Permissions::from_mode(0o640)).unwrap();
        write(&new, "two").unwrap();
        assert_eq!(mode(&new), 0o640);
        assert_eq!(std::fs::read_to_string(&new).unwrap(), "two");
    }

    #[test]
    fn a_link_is_written_through_and_a_device_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("published.html");
        std::fs::write(&target, "old").unwrap();
        let link = dir.path().join("latest.html");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write(&link, "new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink(),
            "the link was replaced"
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        // A device is written, not replaced by a file of that name.
        write(Path::new("/dev/null"), "nothing").unwrap();
        assert!(
            std::fs::metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device()
        );
    }
}
