//! Finding the documents of the briefing store under the configured paths.

use std::path::{Path, PathBuf};

use super::Format;
use crate::config::BriefingRoot;

/// One document found in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentFile {
    /// Index of the `[briefings] paths` entry it was found under.
    pub root: usize,
    /// Its path relative to that entry, `/`-separated (the file name when the
    /// entry is a file).
    pub name: String,
    /// Where to read it.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// Why the walk could not reach it, when it could not: a dangling link, a
    /// folder that cannot be listed (an unmounted share, its permissions).
    /// An entry named like a document is reported unreadable; any other is
    /// the caller's to judge: one the store knows documents under (a share
    /// that went away) is reported and its documents kept rather than taken
    /// for withdrawn, one it knows nothing under (a dangling `pic.png`,
    /// `lost+found`) is no concern of a briefing store's.
    pub unreachable: Option<String>,
}

impl DocumentFile {
    /// An entry the walk could not reach whose name is not a document's: it
    /// may have been a folder.
    pub fn unreachable_folder(&self) -> bool {
        self.unreachable.is_some() && Format::from_path(&self.path).is_none()
    }

    /// An entry the walk could not reach that reads as a folder: one on
    /// disk (listing it failed) or a link to one (a folder we may not
    /// read), or a link named as a folder is (no extension) whose target
    /// is gone. Not `lost+found`, which no one can list but root and which
    /// holds no briefings.
    pub fn unreachable_as_folder(&self) -> bool {
        self.unreachable_folder()
            && self.path.file_name().is_none_or(|n| n != "lost+found")
            && (self.path.extension().is_none()
                || std::fs::metadata(&self.path).is_ok_and(|m| m.is_dir()))
    }
}

/// A configured path that cannot be walked.
#[derive(Debug, thiserror::Error)]
#[error("briefings path `{written}` ({}): {source}", path.display())]
pub struct WalkError {
    /// The entry as written in the configuration.
    pub written: String,
    /// The resolved path.
    pub path: PathBuf,
    /// What went wrong.
    pub source: std::io::Error,
}

/// Lists every document under the roots, sorted by root then name. A root that
/// does not exist is an error (a typo must not withdraw a whole store); a file
/// inside it that cannot be read is the caller's to report.
pub fn find_documents(roots: &[BriefingRoot]) -> Result<Vec<DocumentFile>, WalkError> {
    let mut out = Vec::new();
    // Each file found, by device and inode, and whether it was found
    // through a link (see `one_name_each`).
    let mut files: Vec<Option<(u64, u64, bool)>> = Vec::new();
    let mut real: Vec<PathBuf> = Vec::with_capacity(roots.len());
    for (idx, root) in roots.iter().enumerate() {
        let meta = std::fs::metadata(&root.path).map_err(|source| WalkError {
            written: root.written.clone(),
            path: root.path.clone(),
            source,
        })?;
        // An entry inside another (or the same one twice, spelt otherwise)
        // would have its documents synced twice, each under its own entry,
        // and every citation in them counted and reported twice.
        let here = std::fs::canonicalize(&root.path).unwrap_or_else(|_| root.path.clone());
        if let Some(other) = real
            .iter()
            .position(|r| here.starts_with(r) || r.starts_with(&here))
        {
            return Err(WalkError {
                written: root.written.clone(),
                path: root.path.clone(),
                source: std::io::Error::other(format!(
                    "overlaps `{}`, another [briefings] paths entry: the documents under both \
                     would be synced and reported twice; keep the one that holds the other",
                    roots[other].written
                )),
            });
        }
        real.push(here);
        if meta.is_file() {
            let name = root
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| root.written.clone());
            let format = root_file_format(root)?;
            out.push(DocumentFile {
                root: idx,
                name,
                path: root.path.clone(),
                format,
                unreachable: None,
            });
            files.push({
                use std::os::unix::fs::MetadataExt;
                Some((meta.dev(), meta.ino(), false))
            });
            continue;
        }
        let mut found = Vec::new();
        // Hidden folders are not entered, as hidden files are not read: a
        // file manager's `.Trash-1000/` kept a deleted briefing's citations
        // active under another name, and an editor's `.history/` every old
        // save of one. The root itself may be hidden.
        let walk = walkdir::WalkDir::new(&root.path)
            .follow_links(true)
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
        // The folders being listed, by depth: the last folder the walk gave
        // at each depth holds what it gives next one deeper.
        let mut listing: Vec<PathBuf> = Vec::new();
        // Links named by `unopened_link` already.
        let mut unopened: Vec<PathBuf> = Vec::new();
        for entry in walk {
            // A link back up the tree (`up -> ..`): what it leads to is walked
            // by its own path already.
            if entry.as_ref().is_err_and(|e| e.loop_ancestor().is_some()) {
                continue;
            }
            if let Ok(e) = &entry
                && e.file_type().is_dir()
            {
                listing.truncate(e.depth());
                listing.push(e.path().to_path_buf());
            }
            let entry = entry.map_err(|e| {
                // walkdir opens a linked folder to see that it is no link
                // back up the tree, and when it may not (a link to a folder
                // we may not read), its error names no path: taken for the
                // entry's, it ended the whole sync naming the entry.
                let path = e.path().map(Path::to_path_buf).or_else(|| {
                    let folder = listing.get(e.depth().checked_sub(1)?)?;
                    let link = unopened_link(folder, &unopened)?;
                    unopened.push(link.clone());
                    Some(link)
                });
                WalkError {
                    written: root.written.clone(),
                    path: path.unwrap_or_else(|| root.path.clone()),
                    source: e
                        .into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("filesystem loop")),
                }
            });
            let entry = match entry {
                Ok(e) => e,
                // A dangling link or unreadable entry below the root: listed so the
                // caller reports it by name rather than silently dropping it, or
                // withdrawing the documents of a folder it could not list.
                Err(e) if e.path != root.path => {
                    let hidden = e
                        .path
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'));
                    if !hidden {
                        let doc = DocumentFile {
                            root: idx,
                            name: relative_name(&root.path, &e.path),
                            format: Format::from_path(&e.path).unwrap_or(Format::Text),
                            path: e.path,
                            unreachable: Some(e.source.to_string()),
                        };
                        found.push((doc, None));
                    }
                    continue;
                }
                Err(e) => return Err(e),
            };
            if entry.file_type().is_dir() {
                continue;
            }
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if let (false, Some(format)) = (hidden, Format::from_path(entry.path())) {
                let file = {
                    use std::os::unix::fs::MetadataExt;
                    let linked = entry.path_is_symlink();
                    entry.metadata().ok().map(|m| (m.dev(), m.ino(), linked))
                };
                found.push((
                    DocumentFile {
                        root: idx,
                        name: relative_name(&root.path, entry.path()),
                        path: entry.into_path(),
                        format,
                        unreachable: None,
                    },
                    file,
                ));
            }
        }
        found.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        for (doc, file) in found {
            out.push(doc);
            files.push(file);
        }
    }
    Ok(one_name_each(out, &files))
}

/// The link in `folder` to a folder that cannot be opened (a link to a
/// folder we may not read), other than those in `named`: what a walkdir
/// error without a path, met while listing `folder`, was about. walkdir
/// opens each linked folder to check it for a loop, and gives the error of
/// that open without the link's path; each such link gives one error, so
/// the links are taken one per error, in name order. `None` when there is
/// none (the error was about something else: the caller names the entry).
fn unopened_link(folder: &Path, named: &[PathBuf]) -> Option<PathBuf> {
    let mut links: Vec<PathBuf> = std::fs::read_dir(folder)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_symlink()))
        .map(|e| e.path())
        .filter(|p| !named.contains(p))
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.is_dir()))
        .filter(|p| std::fs::File::open(p).is_err())
        .collect();
    links.sort();
    links.into_iter().next()
}

/// `docs` with each file under one name only: a convenience link
/// (`latest.txt -> 2021/12/28.txt`, a `current` folder linked to a month),
/// or a hard link, had every citation in the file recorded and reported
/// twice, and the link's copy replaced whenever it was pointed elsewhere.
/// The name kept is one not reached through a link, else the first in
/// walk order; `files` holds each document's device, inode and whether a
/// link led to it (`None` when that could not be read: kept).
fn one_name_each(docs: Vec<DocumentFile>, files: &[Option<(u64, u64, bool)>]) -> Vec<DocumentFile> {
    let mut keep: std::collections::HashMap<(u64, u64), usize> = std::collections::HashMap::new();
    for (i, file) in files.iter().enumerate() {
        let Some((dev, ino, linked)) = *file else {
            continue;
        };
        keep.entry((dev, ino))
            .and_modify(|k| {
                if files[*k].is_some_and(|(_, _, l)| l) && !linked {
                    *k = i;
                }
            })
            .or_insert(i);
    }
    docs.into_iter()
        .zip(files)
        .enumerate()
        .filter(|(i, (_, file))| file.is_none_or(|(dev, ino, _)| keep[&(dev, ino)] == *i))
        .map(|(_, (doc, _))| doc)
        .collect()
}

/// How a file named as a whole `[briefings] paths` entry is read: as its
/// extension says, or as text when it has none (`notes`). One whose
/// extension names another kind of file (`report.pdf`, `brief.docx`) is a
/// configuration error, as a missing path is: read as text it would yield no
/// items, and its citations would go unchecked without a word. A folder's
/// walk passes such files over; an entry names its file on purpose.
fn root_file_format(root: &BriefingRoot) -> Result<Format, WalkError> {
    let Some(ext) = root.path.extension() else {
        return Ok(Format::Text);
    };
    Format::from_path(&root.path).ok_or_else(|| WalkError {
        written: root.written.clone(),
        path: root.path.clone(),
        source: std::io::Error::other(format!(
            "a `.{}` file is not a briefing document: citewatch reads .txt, .md and .html \
             (.htm, .markdown) documents; convert it to one of those, or rename it if it is \
             one, or name its folder instead",
            ext.to_string_lossy()
        )),
    })
}

/// The store's name for a document or folder written as `sync` names it,
/// its `[briefings] paths` entry as written and then its name under it
/// (`../briefings/2021/a.txt`): the entry as written and the name under it.
/// The entry is part of the answer: two entries may hold the same path, and
/// a name without its entry would stand for both.
pub fn name_after_root(roots: &[BriefingRoot], given: &str) -> Option<(String, String)> {
    roots.iter().find_map(|root| {
        let name = given.strip_prefix(root.written.trim_end_matches('/'))?;
        let name = name.strip_prefix('/')?.trim_end_matches('/');
        (!name.is_empty()).then(|| (root.written.clone(), name.to_string()))
    })
}

/// The `[briefings] paths` entry `asked` names as a whole, as written: as
/// written in the configuration (a trailing `/` or not), or its folder on
/// disk. A report on it covers every document under it.
pub fn entry_named(roots: &[BriefingRoot], asked: &str) -> Option<String> {
    let trimmed = |s: &str| s.trim_end_matches('/').to_string();
    let on_disk = within_roots(roots, Path::new(asked)).and_then(|p| std::fs::canonicalize(p).ok());
    roots
        .iter()
        .find(|r| {
            trimmed(&r.written) == trimmed(asked)
                || on_disk
                    .as_ref()
                    .is_some_and(|p| std::fs::canonicalize(&r.path).is_ok_and(|q| &q == p))
        })
        .map(|r| r.written.clone())
}

/// The store's name for a document or folder given as a path on disk
/// (absolute, or relative to the working folder), when it lies under one of
/// the roots: an editor gating a new briefing has its file path at hand, not
/// the name `citations` shows. It comes with its entry as written, since
/// another entry may hold the same name. `None` when it is not on disk or
/// not under a root (or is a root folder itself, which names no one
/// document or folder).
pub fn name_on_disk(roots: &[BriefingRoot], given: &Path) -> Option<(String, String)> {
    // As written first (made absolute, `..` resolved without following
    // links): the walk names what lies under a linked folder by the link's
    // path, and a root that is a link to a file by the link's name.
    let as_written = within_roots(roots, given)?;
    let resolved = std::fs::canonicalize(&as_written).ok()?;
    roots.iter().find_map(|root| {
        let root_written = lexical(&std::path::absolute(&root.path).ok()?);
        let root_resolved = std::fs::canonicalize(&root.path).ok()?;
        if root_resolved.is_file() {
            let same = root_resolved == resolved || root_written == as_written;
            return same
                .then(|| {
                    root.path
                        .file_name()
                        .map(|n| (root.written.clone(), n.to_string_lossy().into_owned()))
                })
                .flatten();
        }
        [(&root_written, &as_written), (&root_resolved, &resolved)]
            .into_iter()
            .find_map(|(dir, given)| {
                given.strip_prefix(dir).ok()?;
                let name = relative_name(dir, given);
                (!name.is_empty()).then(|| (root.written.clone(), name))
            })
    })
}

/// `given` made absolute, `.` and `..` resolved by name, when that lies at or
/// under a root (the entry's path or its folder on disk); else `None`. Only
/// then may it be resolved on disk: `report --document` and the service's
/// `document=` take any string, and resolving whatever a client sends would
/// let anyone make the service stat paths of their choosing (`/net/host/…`
/// mounts a share) or reach into the store through a link placed outside it.
fn within_roots(roots: &[BriefingRoot], given: &Path) -> Option<PathBuf> {
    let as_written = lexical(&std::path::absolute(given).ok()?);
    roots
        .iter()
        .any(|root| {
            std::path::absolute(&root.path)
                .ok()
                .map(|p| lexical(&p))
                .into_iter()
                .chain(std::fs::canonicalize(&root.path).ok())
                .any(|r| as_written.starts_with(r))
        })
        .then_some(as_written)
}

/// `path` with `.` and `..` resolved by their names alone.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn relative_name(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| escaped(c.as_os_str()))
        .collect::<Vec<_>>()
        .join("/")
}

/// A file name as text, each byte that is not UTF-8 written `\xNN`: two
/// names differing only in such bytes stay two documents (read lossily,
/// both were `x\u{FFFD}.txt`, and their sync failed on a UNIQUE constraint).
fn escaped(name: &std::ffi::OsStr) -> String {
    let mut out = String::new();
    for chunk in name.as_encoded_bytes().utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `name_on_disk`'s name alone (its entry is checked where it matters).
    fn disk_name(roots: &[BriefingRoot], given: &Path) -> Option<String> {
        name_on_disk(roots, given).map(|(_, name)| name)
    }

    /// `name_after_root`'s name alone.
    fn after_root(roots: &[BriefingRoot], given: &str) -> Option<String> {
        name_after_root(roots, given).map(|(_, name)| name)
    }

    fn root(path: &Path) -> BriefingRoot {
        BriefingRoot {
            written: path.display().to_string(),
            path: path.to_path_buf(),
        }
    }

    #[test]
    fn a_path_on_disk_gets_the_name_the_store_knows_it_by() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("briefings");
        std::fs::create_dir_all(tree.join("2020/12")).unwrap();
        std::fs::write(tree.join("2020/12/a.txt"), "x").unwrap();
        let single = dir.path().join("one.md");
        std::fs::write(&single, "x").unwrap();
        std::fs::write(dir.path().join("elsewhere.txt"), "x").unwrap();
        let roots = [root(&tree), root(&single)];
        // Absolute, through `..`, a folder, and a root that is one file.
        assert_eq!(
            disk_name(&roots, &tree.join("2020/12/a.txt")).as_deref(),
            Some("2020/12/a.txt")
        );
        assert_eq!(
            disk_name(&roots, &tree.join("2020/../2020/12/a.txt")).as_deref(),
            Some("2020/12/a.txt")
        );
        assert_eq!(
            disk_name(&roots, &tree.join("2020")).as_deref(),
            Some("2020")
        );
        assert_eq!(disk_name(&roots, &single).as_deref(), Some("one.md"));
        // Each with the entry it lies under: another may hold the same name.
        assert_eq!(
            name_on_disk(&roots, &tree.join("2020")),
            Some((roots[0].written.clone(), "2020".to_string()))
        );
        assert_eq!(
            name_on_disk(&roots, &single),
            Some((roots[1].written.clone(), "one.md".to_string()))
        );
        // Not under a root, not on disk, or a whole root: no name.
        assert_eq!(disk_name(&roots, &dir.path().join("elsewhere.txt")), None);
        assert_eq!(disk_name(&roots, &tree.join("2020/12/gone.txt")), None);
        assert_eq!(disk_name(&roots, &tree), None);
        // Through links: a linked folder inside the tree, and a root that is a
        // link to a file elsewhere, keep the names the walk gives them.
        let share = dir.path().join("share");
        std::fs::create_dir_all(&share).unwrap();
        std::fs::write(share.join("b.txt"), "x").unwrap();
        std::os::unix::fs::symlink(&share, tree.join("2021")).unwrap();
        let target = dir.path().join("target.md");
        std::fs::write(&target, "x").unwrap();
        let link = dir.path().join("linked.md");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let roots = [root(&tree), root(&link)];
        assert_eq!(
            disk_name(&roots, &tree.join("2021/b.txt")).as_deref(),
            Some("2021/b.txt")
        );
        assert_eq!(disk_name(&roots, &link).as_deref(), Some("linked.md"));
        assert_eq!(disk_name(&roots, &target).as_deref(), Some("linked.md"));
    }

    #[test]
    fn a_path_outside_every_root_is_never_resolved_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("briefings");
        std::fs::create_dir_all(tree.join("2020")).unwrap();
        std::fs::write(tree.join("2020/a.txt"), "x").unwrap();
        std::fs::write(tree.join("b.txt"), "x").unwrap();
        let roots = [root(&tree)];
        // Links placed outside the store, into it: resolving them would find
        // documents, so a name here proves the path was resolved on disk.
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(tree.join("2020"), outside.join("deep")).unwrap();
        std::os::unix::fs::symlink(&tree, outside.join("whole")).unwrap();
        let named: Vec<(&str, Option<String>)> = vec![
            (
                "through a link outside",
                disk_name(&roots, &outside.join("deep/a.txt")),
            ),
            // On disk, deep/.. is briefings/; by name, it is outside/.
            (
                "out of a link by `..`",
                disk_name(&roots, &outside.join("deep/../b.txt")),
            ),
            (
                "from the tree, out by `..`",
                disk_name(&roots, &tree.join("../outside/deep/a.txt")),
            ),
            (
                "a link outside to the whole entry",
                entry_named(&roots, outside.join("whole").to_str().unwrap()),
            ),
            ("nowhere", entry_named(&roots, "/outside/x")),
            ("nowhere", disk_name(&roots, Path::new("/outside/x"))),
        ];
        let resolved: Vec<_> = named.iter().filter(|(_, n)| n.is_some()).collect();
        assert!(resolved.is_empty(), "resolved on disk: {resolved:?}");
        // Under the root, by name, it is resolved as before.
        assert_eq!(
            disk_name(&roots, &outside.join("../briefings/2020/a.txt")).as_deref(),
            Some("2020/a.txt")
        );
        let spelt = format!("{}/", tree.join("2020/..").display());
        assert_eq!(entry_named(&roots, &spelt), Some(roots[0].written.clone()));
    }

    #[test]
    fn entries_that_overlap_are_refused_and_neighbours_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("briefings");
        std::fs::create_dir_all(tree.join("2021")).unwrap();
        std::fs::write(tree.join("2021/a.txt"), "x").unwrap();
        std::fs::create_dir_all(dir.path().join("briefings-old")).unwrap();
        let link = dir.path().join("again");
        std::os::unix::fs::symlink(&tree, &link).unwrap();
        // A file or folder inside another entry, or one folder twice.
        for (a, b) in [
            (tree.clone(), tree.join("2021/a.txt")),
            (tree.join("2021"), tree.clone()),
            (tree.clone(), link.clone()),
            (tree.clone(), tree.join("2021/..")),
        ] {
            let e = find_documents(&[root(&a), root(&b)]).unwrap_err();
            assert!(
                e.to_string()
                    .contains(&format!("overlaps `{}`", a.display())),
                "{e}"
            );
        }
        // A neighbour whose name begins the same is no overlap.
        let fine = [root(&tree), root(&dir.path().join("briefings-old"))];
        assert_eq!(find_documents(&fine).unwrap().len(), 1);
    }

    #[test]
    fn names_that_are_not_utf8_stay_apart() {
        use std::os::unix::ffi::OsStrExt;
        let names = [b"x\xff.txt".as_slice(), b"x\xfe.txt", "新闻.txt".as_bytes()];
        let escaped: Vec<String> = names
            .iter()
            .map(|n| escaped(std::ffi::OsStr::from_bytes(n)))
            .collect();
        assert_eq!(escaped, ["x\\xff.txt", "x\\xfe.txt", "新闻.txt"]);
    }

    #[test]
    fn a_name_as_sync_shows_it_loses_its_entry() {
        let roots = [
            BriefingRoot {
                written: "../briefings/".into(),
                path: "/x/briefings".into(),
            },
            BriefingRoot {
                written: "/srv/other".into(),
                path: "/srv/other".into(),
            },
        ];
        assert_eq!(
            after_root(&roots, "../briefings/2021/a.txt").as_deref(),
            Some("2021/a.txt")
        );
        assert_eq!(
            after_root(&roots, "/srv/other/b.md").as_deref(),
            Some("b.md")
        );
        assert_eq!(
            name_after_root(&roots, "../briefings/2021/"),
            Some(("../briefings/".to_string(), "2021".to_string()))
        );
        for not_one in [
            "../briefings",
            "../briefings/",
            "../briefingsX/a.txt",
            "a.txt",
        ] {
            assert_eq!(after_root(&roots, not_one), None, "{not_one}");
        }
    }
}
