use rempart_core::Finding;

use super::Context;
use crate::check::check_doc;

check_doc! {
    code: "DF-ADD-LOCAL",
    title: "ADD used where COPY would do",
    severity: Low,
    target: Dockerfile,
    doc: "An `ADD` copies local files that are not archives.\n\n\
Why: `ADD` also fetches URLs, clones git repositories and unpacks local tar archives; using it \
for a plain copy hides which of those behaviours was meant and invites surprises when a source \
later turns into an archive or URL.\n\n\
Fix: use `COPY` for plain files; keep `ADD` for the cases that need it (unpacking a local \
`.tar.gz`).\n\n\
Example: `ADD app.py /app/` is reported; `ADD rootfs.tar.gz /` and `ADD` of URLs (see \
DF-ADD-REMOTE-URL) are not.",
}

const ARCHIVE_SUFFIXES: &[&str] = &[
    ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".gz", ".bz2",
    ".xz", ".zst",
];

pub(crate) fn is_remote(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("git@")
        || lower.starts_with("git://")
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for stage in &context.file.stages {
        for add in stage.instructions.iter().filter(|i| i.keyword == "ADD") {
            if !add.heredocs.is_empty() {
                continue;
            }
            let words = add.args.words();
            let Some((_, sources)) = words.split_last() else {
                continue;
            };
            let plain = !sources.is_empty()
                && sources.iter().all(|source| {
                    let lower = source.to_ascii_lowercase();
                    !is_remote(source) && !ARCHIVE_SUFFIXES.iter().any(|s| lower.ends_with(s))
                });
            if plain {
                out.push(CHECK.finding(
                    context.at(add.line),
                    format!("Dockerfile {} ADD", stage.label()),
                    "use COPY instead of ADD for local files",
                ));
            }
        }
    }
}
