//! `citewatch sync`: bring the store's citations in line with the briefing store.
//!
//! Incremental and idempotent: a document whose sha256 is unchanged is not parsed
//! again; a changed one has its items replaced; one that left the store is marked
//! withdrawn (its sources and their history stay). Writes go in batches, each one
//! transaction, so a sync killed at any moment leaves a consistent store and the
//! next one picks up where it stopped.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::briefing::{self, DocumentFile, WalkError};
use crate::config::{BriefingRoot, Config};
use crate::source_url;
use crate::store::{KnownDocument, NewCitation, NewDocument, NewItem, Store, StoreError};
use crate::time::now_millis;

/// Documents written per transaction: large enough to amortise commits, small
/// enough that an interrupted sync loses little work.
const BATCH: usize = 500;

/// Why a sync could not run.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// A configured path is missing or cannot be walked.
    #[error(transparent)]
    Walk(#[from] WalkError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A document that could not be read; it is left as the store had it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Unreadable {
    /// The document: its `[briefings] paths` entry as written, then its name
    /// under it as `citations` shows it (`../briefings/2021/a.txt`).
    pub document: String,
    /// Why.
    pub error: String,
}

/// A citation's date that could not be read, and where.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UnreadDate {
    /// The document, named as in [`Unreadable`].
    pub document: String,
    /// The date as written.
    pub written: String,
    /// Whether it is a numeric date that reads two ways (`03/04/2020`:
    /// March 4 or 3 April), rather than none.
    pub ambiguous: bool,
}

/// A UTF-8 document with bytes that are not UTF-8: read, those bytes as
/// U+FFFD, so the editor can find and fix them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NotUtf8 {
    /// The document, named as in [`Unreadable`].
    pub document: String,
    /// How many bytes were replaced.
    pub bytes: usize,
    /// The offset in the file of the first (from 0): where to look.
    pub offset: usize,
}

/// Unreadable dates listed in a sync report (all are counted).
pub const MAX_UNREAD_DATES: usize = 20;

/// What a sync did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SyncReport {
    /// Documents found in the briefing store.
    pub documents: usize,
    /// First seen now.
    pub new: usize,
    /// Content changed (or read by an older reader): items replaced.
    pub changed: usize,
    /// Unchanged (by sha256): skipped.
    pub unchanged: usize,
    /// Withdrawn earlier and back now, edited or not (an edited one has
    /// its items replaced, as a changed one does).
    pub restored: usize,
    /// Gone from the briefing store now: citations marked withdrawn.
    pub withdrawn: usize,
    /// Briefing items written (new and changed documents).
    pub items_written: usize,
    /// Citations written (new and changed documents).
    pub citations_written: usize,
    /// Of those, citations whose URL cannot be fetched as written.
    pub invalid_written: usize,
    /// Sources first seen in this sync.
    pub new_sources: usize,
    /// Citations in withdrawn-now documents.
    pub citations_withdrawn: usize,
    /// Documents that could not be read.
    pub unreadable: Vec<Unreadable>,
    /// Citations (in documents read now) whose date could not be read: they
    /// are kept undated. The first [`MAX_UNREAD_DATES`] are listed.
    pub unread_dates: Vec<UnreadDate>,
    /// How many citations had such a date, listed or not.
    pub unread_dates_total: usize,
    /// Documents read now that are UTF-8 but for a few bytes.
    pub not_utf8: Vec<NotUtf8>,
    /// Sources and active citations in the store after the sync.
    pub total_sources: i64,
    /// Active citations in the store after the sync.
    pub total_citations: i64,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
}

/// Lists the briefing store's documents. Run this before opening the store, so a
/// wrong path fails without touching it.
pub fn find(config: &Config) -> Result<Vec<DocumentFile>, WalkError> {
    briefing::find_documents(&config.briefings.paths)
}

/// What reading one document found, before anything is written.
enum Found {
    /// It could not be read; the store keeps what it had.
    Unreadable(String),
    /// Its bytes are the ones the store has (same stat, or same sha256).
    Same { mtime_ns: Option<i64> },
    /// New or changed content, parsed and normalised.
    Parsed {
        sha256: String,
        size: u64,
        encoding: &'static str,
        mtime_ns: Option<i64>,
        items: Vec<NewItem>,
        /// Citation dates that could not be read, as written, and whether
        /// each reads two ways.
        unread_dates: Vec<(String, bool)>,
        /// Bytes that were not UTF-8 in an otherwise UTF-8 document, and
        /// the offset of the first.
        replaced: usize,
        first_replaced: Option<usize>,
    },
}

/// A modification time is trusted for the stat shortcut only when it lies this far
/// in the past: an edit within the same clock tick as our read could otherwise
/// keep both size and mtime (git's "racy clean" problem).
const MTIME_SETTLE: Duration = Duration::from_secs(2);

/// The largest briefing document read: a year of daily briefings is a few
/// megabytes; anything near this is not a briefing document.
const MAX_DOCUMENT_BYTES: u64 = 64 << 20;

/// The file's bytes, or an error when it holds more than [`MAX_DOCUMENT_BYTES`].
fn read_bounded(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_DOCUMENT_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {} MiB, more than a briefing document holds",
            MAX_DOCUMENT_BYTES >> 20
        )));
    }
    Ok(bytes)
}

/// Debug builds only: a test makes reading the document whose name holds
/// `CITEWATCH_TEST_PANIC=reading-document:PART` panic, to show what a
/// parser bug costs a sync.
#[cfg(debug_assertions)]
fn inject_panic(name: &str) {
    let Some(wanted) = std::env::var_os("CITEWATCH_TEST_PANIC") else {
        return;
    };
    if let Some(("reading-document", marker)) = wanted.to_string_lossy().split_once(':')
        && name.contains(marker)
    {
        panic!("injected for a test: reading {name}");
    }
}

/// Reads and parses one document unless its stat or hash shows it is unchanged.
fn read_one(
    doc: &DocumentFile,
    known: Option<&KnownDocument>,
    rehash: bool,
    now: SystemTime,
) -> Found {
    if let Some(why) = &doc.unreachable {
        return Found::Unreadable(why.clone());
    }
    let meta = match std::fs::metadata(&doc.path) {
        Ok(m) => m,
        Err(e) => return Found::Unreadable(e.to_string()),
    };
    // A link to /dev/zero would be read until memory ran out, a pipe for ever.
    if !meta.is_file() {
        return Found::Unreadable("not a regular file (a device, a pipe or a socket)".into());
    }
    let mtime_ns = meta.modified().ok().and_then(|m| {
        let settled = now.duration_since(m).is_ok_and(|age| age >= MTIME_SETTLE);
        let ns = m.duration_since(UNIX_EPOCH).ok()?.as_nanos();
        settled.then(|| i64::try_from(ns).ok()).flatten()
    });
    // A document an older reader read is read again, whatever its bytes.
    let known = known.filter(|k| k.reader == briefing::READER_VERSION);
    if let Some(k) = known
        && !rehash
        && mtime_ns.is_some()
        && k.mtime_ns == mtime_ns
        && k.size == meta.len()
    {
        return Found::Same { mtime_ns };
    }
    let bytes = match read_bounded(&doc.path) {
        Ok(b) => b,
        Err(e) => return Found::Unreadable(e.to_string()),
    };
    let sha256 = hex::encode(Sha256::digest(&bytes));
    if known.is_some_and(|k| k.sha256 == sha256) {
        return Found::Same { mtime_ns };
    }
    // Bytes that are no text (a picture under a `.txt` name) are named as
    // an unreadable document is, and the store keeps what it had.
    let decoded = match briefing::read_document(&bytes, doc.format == briefing::Format::Html) {
        Ok(d) => d,
        Err(e) => return Found::Unreadable(e.to_string()),
    };
    // The file's name, not its folders': `2020/12-28.txt` names no day.
    let file_name = doc.name.rsplit('/').next().unwrap_or(&doc.name);
    let parsed = briefing::parse_dated(
        doc.format,
        &decoded.text,
        briefing::document_date(file_name),
    );
    let unread_dates = parsed
        .iter()
        .flat_map(|item| &item.citations)
        .filter_map(|c| Some((c.unread_date.clone()?, c.ambiguous_date)))
        .collect();
    Found::Parsed {
        sha256,
        size: bytes.len() as u64,
        encoding: decoded.encoding,
        mtime_ns,
        items: prepare(parsed),
        unread_dates,
        replaced: decoded.replaced,
        first_replaced: decoded.first_replaced,
    }
}

/// How a sync compares documents with what the store has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncOptions {
    /// Hash every document even when its size and modification time are the ones
    /// recorded (which otherwise means unchanged, as for git and rsync).
    pub rehash: bool,
}

/// Reads, parses and records `docs` (from [`find`]) into `store`.
///
/// Reading and parsing run on worker threads; this thread only writes, in
/// document order, so ids come out the same however the work was spread.
pub fn apply(
    store: &mut Store,
    roots: &[BriefingRoot],
    docs: &[DocumentFile],
    options: SyncOptions,
) -> Result<SyncReport, StoreError> {
    let started = std::time::Instant::now();
    let now = now_millis();
    let now_sys = SystemTime::now();
    let known = store.known_documents()?;
    let key_of = |doc: &DocumentFile| (roots[doc.root].written.clone(), doc.name.clone());
    // An entry the walk could not reach that may have been a folder matters
    // when the store knows documents under it (a share gone away), or when
    // it reads as a folder (a new month's folder no one let us list, a link
    // to a share not mounted): dropped, its briefings went unread without a
    // word. A dangling `pic.png` link or an unlistable `lost+found` does not.
    let known_under = |doc: &DocumentFile| {
        let (root, name) = key_of(doc);
        let folder = format!("{name}/");
        known
            .keys()
            .any(|(r, path)| *r == root && path.starts_with(&folder))
    };
    let docs: Vec<DocumentFile> = docs
        .iter()
        .filter(|d| !d.unreachable_folder() || d.unreachable_as_folder() || known_under(d))
        .cloned()
        .collect();
    let docs = &docs[..];
    let mut report = SyncReport {
        documents: docs.iter().filter(|d| d.unreachable.is_none()).count(),
        ..SyncReport::default()
    };
    // One core is the writer's; parsing is the cheaper half, so the rest suffice.
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get().saturating_sub(1))
        .clamp(1, 8);
    std::thread::scope(|scope| -> Result<(), StoreError> {
        let mut inboxes = Vec::with_capacity(workers);
        for w in 0..workers {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Found>(16);
            inboxes.push(rx);
            let known = &known;
            scope.spawn(move || {
                for doc in docs.iter().skip(w).step_by(workers) {
                    // A bug in reading one document (the decoder, the
                    // parser) costs that document, named and kept as the
                    // store had it, not the whole sync and the check after.
                    let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        #[cfg(debug_assertions)]
                        inject_panic(&doc.name);
                        read_one(doc, known.get(&key_of(doc)), options.rehash, now_sys)
                    }))
                    .unwrap_or_else(|_| {
                        Found::Unreadable(
                            "reading it hit a bug in citewatch (a panic, reported above); \
                             kept as the store had it"
                                .into(),
                        )
                    });
                    if tx.send(found).is_err() {
                        return; // the writer stopped on an error
                    }
                }
            });
        }
        let mut batch = store.sync_batch()?;
        let mut named = HashSet::with_capacity(docs.len());
        for (i, doc) in docs.iter().enumerate() {
            let Ok(found) = inboxes[i % workers].recv() else {
                break;
            };
            let key = key_of(doc);
            // Two files under one name (only by contrivance, since names keep
            // their non-UTF-8 bytes as `\xNN`): the first is read, the other named.
            if !named.insert(key.clone()) {
                report.unreadable.push(Unreadable {
                    document: display_name(roots, doc),
                    error: "another file of the briefing store has the same name".into(),
                });
                continue;
            }
            let previous = known.get(&key);
            match (found, previous) {
                (Found::Unreadable(error), _) => report.unreadable.push(Unreadable {
                    document: display_name(roots, doc),
                    error,
                }),
                (Found::Same { mtime_ns }, Some(k)) => {
                    if k.withdrawn {
                        report.restored += 1;
                    } else {
                        report.unchanged += 1;
                    }
                    if k.withdrawn || k.mtime_ns != mtime_ns {
                        batch.keep_document(k.id, mtime_ns)?;
                    }
                }
                // Only a known document can be the same; nothing to write either way.
                (Found::Same { .. }, None) => report.unchanged += 1,
                (
                    Found::Parsed {
                        sha256,
                        size,
                        encoding,
                        mtime_ns,
                        items,
                        unread_dates,
                        replaced,
                        first_replaced,
                    },
                    previous,
                ) => {
                    if replaced > 0 {
                        report.not_utf8.push(NotUtf8 {
                            document: display_name(roots, doc),
                            bytes: replaced,
                            offset: first_replaced.unwrap_or(0),
                        });
                    }
                    report.unread_dates_total += unread_dates.len();
                    for (written, ambiguous) in unread_dates {
                        if report.unread_dates.len() < MAX_UNREAD_DATES {
                            report.unread_dates.push(UnreadDate {
                                document: display_name(roots, doc),
                                written,
                                ambiguous,
                            });
                        }
                    }
                    // A withdrawn document is back, whether or not it was
                    // edited while away (or read by an older reader): it
                    // was counted as changed, as if it had never gone.
                    match previous {
                        Some(k) if k.withdrawn => report.restored += 1,
                        Some(_) => report.changed += 1,
                        None => report.new += 1,
                    }
                    let written = batch.put_document(
                        &NewDocument {
                            root: &key.0,
                            path: &key.1,
                            format: doc.format.name(),
                            sha256: &sha256,
                            size,
                            encoding,
                            mtime_ns,
                            id: previous.map(|k| k.id),
                            reader: briefing::READER_VERSION,
                        },
                        &items,
                        now,
                    )?;
                    report.items_written += written.items;
                    report.citations_written += written.citations;
                    report.invalid_written += written.invalid;
                    report.new_sources += written.new_sources;
                }
            }
            if (i + 1) % BATCH == 0 {
                batch.commit()?;
                batch = store.sync_batch()?;
            }
        }
        batch.commit()
    })?;
    // Documents not found this time are withdrawn, unless they could not be read.
    let seen: HashSet<(String, String)> = docs.iter().map(key_of).collect();
    // Nor the documents under a folder the walk could not list.
    let unlisted: Vec<(String, String)> = docs
        .iter()
        .filter(|d| d.unreachable.is_some())
        .map(|d| {
            let (root, name) = key_of(d);
            (root, format!("{name}/"))
        })
        .collect();
    // A `paths` entry under which no document is found at all, though the
    // store knows documents from it, is far likelier an unmounted share's
    // empty mountpoint than a briefing store emptied on purpose: its
    // documents are kept and the entry named, as for a folder that cannot be
    // listed. Taking the entry out of `[briefings] paths` withdraws them.
    let emptied: Vec<&str> = roots
        .iter()
        .enumerate()
        .filter(|(i, _)| !docs.iter().any(|d| d.root == *i))
        .map(|(_, r)| r.written.as_str())
        .filter(|w| known.iter().any(|((root, _), k)| root == w && !k.withdrawn))
        .collect();
    for root in &emptied {
        let kept = known
            .iter()
            .filter(|((r, _), k)| r == root && !k.withdrawn)
            .count();
        report.unreadable.push(Unreadable {
            document: root.to_string(),
            error: format!(
                "no document is here now, though {} synced from here before \
                 (a share not mounted?): kept as they were; to withdraw them, take the \
                 entry out of [briefings] paths",
                if kept == 1 {
                    "1 was".to_string()
                } else {
                    format!("{kept} were")
                }
            ),
        });
    }
    // The same for a linked folder under an entry (`2021 -> /mnt/share`):
    // one that is there but holds no document now, though documents under
    // it were synced before, is likelier a share not mounted today than a
    // folder emptied on purpose. Its documents were withdrawn, every one,
    // without a word. Removing the link withdraws them. A plain folder
    // emptied is taken at its word (its last document was deleted) unless
    // /etc/fstab mounts a share on it that is not mounted now; removing
    // the folder then withdraws them. Hidden folders, never walked, are
    // not asked.
    let emptied_folders = emptied_folders(roots, docs, &known, &seen, &emptied, &unlisted);
    for ((root, folder), (kept, linked)) in &emptied_folders {
        report.unreadable.push(Unreadable {
            document: format!(
                "{}/{}",
                root.trim_end_matches('/'),
                folder.trim_end_matches('/')
            ),
            error: format!(
                "no document is here now, though {} synced from here before \
                 ({}): kept as they were; to withdraw them, remove the {}",
                if *kept == 1 {
                    "1 was".to_string()
                } else {
                    format!("{kept} were")
                },
                if *linked {
                    "a share not mounted?"
                } else {
                    "/etc/fstab mounts a share here, not mounted now"
                },
                if *linked { "link" } else { "folder" }
            ),
        });
    }
    let gone: Vec<i64> = known
        .iter()
        .filter(|(key, k)| {
            !k.withdrawn
                && !seen.contains(*key)
                && !emptied.contains(&key.0.as_str())
                && !unlisted
                    .iter()
                    .chain(emptied_folders.keys())
                    .any(|(root, folder)| *root == key.0 && key.1.starts_with(folder.as_str()))
        })
        .map(|(_, k)| k.id)
        .collect();
    if !gone.is_empty() {
        let batch = store.sync_batch()?;
        for id in gone {
            report.citations_withdrawn += batch.withdraw_document(id, now)?;
            report.withdrawn += 1;
        }
        batch.commit()?;
    }
    let (sources, citations) = store.counts()?;
    report.total_sources = sources;
    report.total_citations = citations;
    report.duration_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// The linked folders, and the plain ones `/etc/fstab` mounts a share on
/// that is not mounted now (by entry as written and name under it, ending
/// in `/`), that are on disk but hold no document found now, each the
/// nearest folder still there above a known document not found, with how
/// many of the known documents under them were active and whether the
/// folder is a link. None under an entry found
/// empty as a whole (`emptied`, said of the entry), nor under a hidden
/// folder, nor under one the walk could not reach (`unlisted`, named
/// already: a link to a folder we may not read is on disk, and was named
/// twice).
fn emptied_folders(
    roots: &[BriefingRoot],
    docs: &[DocumentFile],
    known: &HashMap<(String, String), KnownDocument>,
    seen: &HashSet<(String, String)>,
    emptied: &[&str],
    unlisted: &[(String, String)],
) -> std::collections::BTreeMap<(String, String), (usize, bool)> {
    // Every folder holding a document found now, at any depth.
    let mut holding: HashSet<(&str, &str)> = HashSet::new();
    for d in docs.iter().filter(|d| d.unreachable.is_none()) {
        let root = roots[d.root].written.as_str();
        for (at, _) in d.name.match_indices('/') {
            holding.insert((root, &d.name[..=at]));
        }
    }
    let found_under = |root: &str, folder: &str| holding.contains(&(root, folder));
    // Read once a sync, and only when a plain folder is found empty.
    let unmounted = std::cell::OnceCell::new();
    let mut out = std::collections::BTreeMap::new();
    for ((root, name), k) in known {
        if k.withdrawn
            || seen.contains(&(root.clone(), name.clone()))
            || emptied.contains(&root.as_str())
        {
            continue;
        }
        let Some(entry) = roots.iter().find(|r| r.written == *root) else {
            continue;
        };
        if name.split('/').any(|part| part.starts_with('.'))
            || unlisted
                .iter()
                .any(|(r, folder)| r == root && name.starts_with(folder.as_str()))
        {
            continue;
        }
        let mut folder = std::path::Path::new(name).parent();
        while let Some(f) = folder.filter(|f| !f.as_os_str().is_empty()) {
            let on_disk = entry.path.join(f);
            if on_disk.is_dir() {
                let f = format!("{}/", f.to_string_lossy());
                let linked = || std::fs::symlink_metadata(&on_disk).is_ok_and(|m| m.is_symlink());
                // A share mounted on the folder itself, not mounted now.
                let unmounted = || {
                    std::fs::canonicalize(&on_disk).is_ok_and(|c| {
                        unmounted
                            .get_or_init(crate::briefing::unmounted_points)
                            .contains(&c)
                    })
                };
                if !found_under(root, &f) && (linked() || unmounted()) {
                    let (kept, _) = out.entry((root.clone(), f)).or_insert((0, linked()));
                    *kept += 1;
                }
                break;
            }
            folder = f.parent();
        }
    }
    out
}

/// Finds and applies in one go (used by `check`, which already holds the store).
pub fn sync(config: &Config, store: &mut Store) -> Result<SyncReport, SyncError> {
    let docs = find(config)?;
    Ok(apply(
        store,
        &config.briefings.paths,
        &docs,
        SyncOptions::default(),
    )?)
}

fn display_name(roots: &[BriefingRoot], doc: &DocumentFile) -> String {
    let root = &roots[doc.root];
    if doc.path == root.path {
        // The entry is this one file.
        return root.written.clone();
    }
    format!("{}/{}", root.written, doc.name)
}

/// Normalises each citation's URL, keeping the reason when it cannot be.
fn prepare(items: Vec<briefing::Item>) -> Vec<NewItem> {
    // Normalising is pure, and one URL is often cited many times in a document.
    let mut memo: HashMap<String, Result<(String, String), String>> = HashMap::new();
    items
        .into_iter()
        .map(|item| NewItem {
            title: item.title,
            citations: item
                .citations
                .into_iter()
                .map(|c| {
                    let source = match &c.url {
                        None => Err(source_url::InvalidUrl::Empty.to_string()),
                        Some(u) => memo
                            .entry(u.clone())
                            .or_insert_with(|| {
                                source_url::normalize(u)
                                    .map(|s| (s.as_str().to_string(), s.host().to_string()))
                                    .map_err(|e| e.to_string())
                            })
                            .clone(),
                    };
                    NewCitation {
                        origin: c.origin.name(),
                        outlet: c.outlet,
                        cited_date: c.cited_date,
                        url: c.url,
                        source,
                        context: c.context,
                    }
                })
                .collect(),
        })
        .map(|item| NewItem {
            citations: once_each(item.citations),
            ..item
        })
        .collect()
}

/// An item's citations less those that repeat a source it cites already:
/// one URL pasted twice under a Source line, or written once with a
/// fragment and once without, was two citations of one source in one item,
/// listed and counted twice in every report. A body link to a source the
/// item cites is that citation (the reader drops it only when written the
/// same); two outlets or dates citing one source stay two citations.
fn once_each(citations: Vec<NewCitation>) -> Vec<NewCitation> {
    let body = briefing::Origin::Body.name();
    let source = |c: &NewCitation| c.source.as_ref().ok().map(|(url, _)| url.clone());
    let cited: HashSet<String> = citations
        .iter()
        .filter(|c| c.origin != body)
        .filter_map(source)
        .collect();
    let mut seen = HashSet::new();
    citations
        .into_iter()
        .filter(|c| match source(c) {
            // A URL that cannot be fetched is kept as written, each time.
            None => true,
            Some(url) if c.origin == body && cited.contains(&url) => false,
            Some(url) => seen.insert((url, c.outlet.clone(), c.cited_date.clone())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::briefing::Format;

    const BODY: &str = "Xinhua reported that the provincial committee passed a new regulation on Tuesday, which requires all institutions to report their foreign cooperation projects.";

    /// (source URL, outlet) of each citation of each item.
    fn cited(text: &str) -> Vec<Vec<(String, Option<String>)>> {
        prepare(briefing::parse(Format::Text, text))
            .into_iter()
            .map(|item| {
                item.citations
                    .into_iter()
                    .map(|c| (c.source.map_or_else(|e| e, |s| s.0), c.outlet))
                    .collect()
            })
            .collect()
    }

    /// One URL pasted twice under a Source line, or written once with a
    /// fragment and once without (or in another case), was two citations
    /// of one source in one item: the item's broken link listed and
    /// counted twice in every report.
    #[test]
    fn one_source_cited_twice_in_one_item_is_one_citation() {
        let url = "http://127.0.0.1/local/2020-12/26/c_1126910999.htm";
        let xinhua = Some("Xinhua".to_string());
        for urls in [
            format!("{url}\n{url}"),
            format!("{url}#main\n{url}"),
            format!("{url} {}", url.replace("http://", "HTTP://")),
        ] {
            let text = format!("Title A\n\n{BODY}\n\nSource: Xinhua, December 26, 2020\n{urls}\n");
            assert_eq!(
                cited(&text),
                vec![vec![(url.to_string(), xinhua.clone())]],
                "{urls}"
            );
        }
        // A body link to the cited source, spelled otherwise, is that citation.
        let text = format!(
            "Title A\n\n{BODY} See {url}#top.\n\nSource: Xinhua, December 26, 2020\n{url}\n"
        );
        assert_eq!(cited(&text), vec![vec![(url.to_string(), xinhua.clone())]]);
        // Two outlets citing one URL are two citations; so is one URL in two items.
        let text = format!(
            "Title A\n\n{BODY}\n\nSources: Xinhua, December 26, 2020; People's Daily, December 26, 2020\n{url}\n{url}\n\n\
             Title B\n\n{BODY}\n\nSource: Xinhua, December 26, 2020\n{url}\n"
        );
        assert_eq!(
            cited(&text),
            vec![
                vec![
                    (url.to_string(), xinhua.clone()),
                    (url.to_string(), Some("People's Daily".to_string()))
                ],
                vec![(url.to_string(), xinhua.clone())]
            ]
        );
    }
}
