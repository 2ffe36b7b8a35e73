use rempart_core::{EntryKind, Finding, ImageContext, Location};

use super::MAX_FILE_FINDINGS;
use crate::check::check_doc;

check_doc! {
    code: "IMG-WORLD-WRITABLE",
    title: "World-writable file or directory",
    severity: Medium,
    target: Image,
    doc: "A regular file, or a directory without the sticky bit, is writable by every user, outside \
`tmp`, `var/tmp`, `dev/shm` and `run/lock` (and below them). Symlinks (always 0777) and device \
nodes are ignored.\n\n\
Why: any process in the container, whatever its user, can replace such a file (a script run by \
root, a config, a library) or, in a directory without the sticky bit, delete and replace the \
files of others.\n\n\
Fix: `chmod o-w` the path, or add the sticky bit to shared directories (`chmod 1777`).\n\n\
Example: `drwxrwxrwx app/uploads` or `-rwxrwxrwx usr/local/bin/entrypoint.sh`.",
}

const SHARED: &[&str] = &["tmp", "var/tmp", "dev/shm", "run/lock", "var/lock"];

fn in_shared(path: &str) -> bool {
    SHARED.iter().any(|dir| {
        path == *dir
            || path
                .strip_prefix(dir)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

pub(super) fn run(image: &ImageContext<'_>, out: &mut Vec<Finding>) {
    let writable: Vec<_> = image
        .inventory
        .iter()
        .filter(|e| {
            let world = e.mode & 0o002 != 0;
            let sticky = e.mode & 0o1000 != 0;
            match e.kind {
                EntryKind::File => world,
                EntryKind::Dir => world && !sticky,
                _ => false,
            }
        })
        .filter(|e| !in_shared(&e.path))
        .collect();
    for entry in writable.iter().take(MAX_FILE_FINDINGS) {
        let what = if entry.kind == EntryKind::Dir {
            "directory"
        } else {
            "file"
        };
        out.push(CHECK.finding(
            Location::file(entry.path.clone()),
            format!(
                "{} (mode {:o}, layer {})",
                entry.path, entry.mode, entry.layer
            ),
            format!("world-writable {what}: chmod o-w (or 1777 for a shared directory)"),
        ));
    }
    if writable.len() > MAX_FILE_FINDINGS {
        out.push(CHECK.finding(
            Location::file(String::new()),
            format!(
                "{} more world-writable paths",
                writable.len() - MAX_FILE_FINDINGS
            ),
            "review the remaining world-writable paths",
        ));
    }
}
