//! Whether a folder is a mount point the system expects and has not mounted
//! now: a share listed in `/etc/fstab` and not in `/proc/self/mountinfo`.
//!
//! Unmounted, a share mounted directly below a `[briefings]` entry leaves an
//! empty folder, which a sync took for a folder emptied on purpose: every
//! document under it was withdrawn until the share came back. A linked
//! folder found empty is kept on suspicion alone (see `sync`); a plain one
//! only on this evidence, since deleting a folder's last briefing is also
//! how an editor withdraws it.

use std::collections::HashSet;
use std::path::PathBuf;

/// The mount points a `fstab(5)` text lists, but swap and the root.
fn fstab_mount_points(fstab: &str) -> HashSet<PathBuf> {
    fstab
        .lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|p| p.starts_with('/') && *p != "/")
        .map(|p| PathBuf::from(unescaped(p)))
        .collect()
}

/// The mount points a `/proc/self/mountinfo` text lists (its fifth field).
fn mounted_points(mountinfo: &str) -> HashSet<PathBuf> {
    mountinfo
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| PathBuf::from(unescaped(p)))
        .collect()
}

/// A path as fstab and mountinfo write it, with `\040` for a space and the
/// like: octal escapes of three digits.
fn unescaped(field: &str) -> String {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match (b[i], octal) {
            (b'\\', Some(d)) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The mount points `fstab` lists that are not among those `mountinfo` lists
/// as mounted. Pure, for the tests; see [`unmounted_points`].
fn listed_not_mounted(fstab: &str, mountinfo: &str) -> HashSet<PathBuf> {
    let mounted = mounted_points(mountinfo);
    let mut listed = fstab_mount_points(fstab);
    listed.retain(|p| !mounted.contains(p));
    listed
}

/// The mount points `/etc/fstab` lists that are not mounted now, as written
/// there (canonical paths, as fstab wants them). None wherever either file
/// cannot be read: the question is then left to the rule for folders found
/// empty. Debug builds read the table from `CITEWATCH_TEST_FSTAB` instead,
/// so a test can list a folder without mounting anything.
pub fn unmounted_points() -> HashSet<PathBuf> {
    let fstab_path = if cfg!(debug_assertions) {
        std::env::var_os("CITEWATCH_TEST_FSTAB").map_or_else(|| "/etc/fstab".into(), PathBuf::from)
    } else {
        PathBuf::from("/etc/fstab")
    };
    match (
        std::fs::read_to_string(fstab_path),
        std::fs::read_to_string("/proc/self/mountinfo"),
    ) {
        (Ok(fstab), Ok(mountinfo)) => listed_not_mounted(&fstab, &mountinfo),
        _ => HashSet::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const FSTAB: &str = "# /etc/fstab: static file system information.\n\
        UUID=1234 / ext4 errors=remount-ro 0 1\n\
        UUID=5678 none swap sw 0 0\n\
        \t//nas/briefings /srv/briefings/2021 cifs credentials=/etc/nas,_netdev 0 0\n\
        nas:/export/old\\040files /srv/briefings/old\\040files nfs defaults 0 0\n\
        #//nas/gone /srv/briefings/gone cifs defaults 0 0\n";

    const MOUNTINFO: &str = "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n\
        95 22 0:48 / /srv/briefings/old\\040files rw,relatime shared:50 - nfs nas:/export/old\\040files rw\n";

    #[test]
    fn a_share_listed_and_not_mounted_is_told_apart() {
        let unmounted = listed_not_mounted(FSTAB, MOUNTINFO);
        let listed = |p: &str| unmounted.contains(Path::new(p));
        assert!(listed("/srv/briefings/2021"));
        // Mounted now, its emptiness is what the share says.
        assert!(!listed("/srv/briefings/old files"));
        // Commented out, the root, swap, and a folder of no mount.
        assert!(!listed("/srv/briefings/gone"));
        assert!(!listed("/"));
        assert!(!listed("none"));
        assert!(!listed("/srv/briefings/2022"));
    }

    #[test]
    fn octal_escapes_are_read_and_other_backslashes_kept() {
        assert_eq!(unescaped("/a\\040b\\011c"), "/a b\tc");
        assert_eq!(unescaped("/a\\b\\04"), "/a\\b\\04");
        assert_eq!(unescaped("/\\134x"), "/\\x");
    }
}
