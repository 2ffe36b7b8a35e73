use rempart_core::{EntryKind, Finding, ImageContext, Location};

use crate::check::check_doc;

check_doc! {
    code: "IMG-PKG-CACHE",
    title: "Package manager cache left in the image",
    severity: Info,
    target: Image,
    doc: "The final filesystem still holds package manager caches: downloaded `.deb` files in \
`var/cache/apt/archives`, apt lists in `var/lib/apt/lists` (other than `lock` and `partial/`), \
`var/cache/apk`, `root/.cache/pip`, `root/.npm`, `var/cache/yum`, `var/cache/dnf`. One finding \
per cache, with the file count and size.\n\n\
Why: caches only make the image bigger (slower pulls, more storage), and stale package lists \
invite installs from outdated indexes.\n\n\
Fix: clean up in the same `RUN` that installs (`rm -rf /var/lib/apt/lists/*`, \
`apk add --no-cache`, `pip install --no-cache-dir`, `npm cache clean --force`, \
`dnf clean all`), or use BuildKit cache mounts.\n\n\
Example: 40 MB of `var/lib/apt/lists` after `apt-get update`.",
}

/// Decides from the path below the cache directory whether a file is cache content.
type Counts = fn(&str) -> bool;

/// Cache directories, and a filter for the files in them that count.
const CACHES: &[(&str, Counts)] = &[
    ("var/cache/apt/archives/", |rest| {
        std::path::Path::new(rest)
            .extension()
            .is_some_and(|e| e == "deb")
    }),
    ("var/lib/apt/lists/", |rest| {
        rest != "lock" && !rest.starts_with("partial/") && !rest.starts_with("auxfiles/")
    }),
    ("var/cache/apk/", |_| true),
    ("root/.cache/pip/", |_| true),
    ("root/.npm/", |rest| rest.starts_with("_cacache/")),
    ("var/cache/yum/", |_| true),
    ("var/cache/dnf/", |_| true),
];

pub(super) fn run(image: &ImageContext<'_>, out: &mut Vec<Finding>) {
    for (dir, counts) in CACHES {
        // The inventory is sorted by path, so a directory's content is one run of it.
        let start = image.inventory.partition_point(|e| e.path.as_str() < *dir);
        let (files, bytes) = image.inventory[start..]
            .iter()
            .map_while(|e| e.path.strip_prefix(dir).map(|rest| (e, rest)))
            .filter(|(e, rest)| e.kind == EntryKind::File && counts(rest))
            .map(|(e, _)| e.size)
            .fold((0_u64, 0_u64), |(n, total), size| (n + 1, total + size));
        if files > 0 {
            out.push(CHECK.finding(
                Location::file(dir.trim_end_matches('/')),
                format!(
                    "{} ({files} files, {bytes} bytes)",
                    dir.trim_end_matches('/')
                ),
                "clean the cache in the RUN that fills it, or use a BuildKit cache mount",
            ));
        }
    }
}
