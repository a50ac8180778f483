//! Files citewatch writes for people and other tools (`report -o`,
//! `export-warc -o`): written under a temporary name beside their final
//! path, and renamed into place whole, so that whoever reads the path (a web
//! server, a WARC replayer) never sees half a file.

use std::io;
use std::path::Path;

use tempfile::NamedTempFile;

/// A temporary file in `path`'s folder (so the final rename stays on one
/// file system), removed unless persisted. Its errors name the folder, not
/// the temporary name, which the user never chose.
pub fn beside(path: &Path, prefix: &str) -> io::Result<NamedTempFile> {
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
    tempfile::Builder::new()
        .prefix(prefix)
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot create a file in {}: {}", dir.display(), e.kind()),
            )
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_missing_folder_is_named_and_a_file_lands_beside_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nowhere/report.html");
        let e = super::beside(&missing, ".x-").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "there is no folder {}",
                dir.path().join("nowhere").display()
            )
        );
        let fine = super::beside(&dir.path().join("report.html"), ".x-").unwrap();
        assert_eq!(fine.path().parent(), Some(dir.path()));
        let name = fine
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(name.starts_with(".x-") && name.ends_with(".tmp"), "{name}");
    }
}
