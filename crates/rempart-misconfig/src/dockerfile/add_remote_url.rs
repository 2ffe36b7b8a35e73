use rempart_core::Finding;

use super::{Context, add_local::is_remote};
use crate::check::check_doc;

check_doc! {
    code: "DF-ADD-REMOTE-URL",
    title: "ADD fetches a remote URL without a checksum",
    severity: Medium,
    target: Dockerfile,
    doc: "An `ADD` downloads from an `http(s)://` or git URL without `--checksum`.\n\n\
Why: the content is whatever the server returns at build time, unverified; the build is not \
reproducible and a compromised server ends up in the image.\n\n\
Fix: add `--checksum=sha256:<digest>` (BuildKit), or download with `curl` in a `RUN` and verify \
the checksum before use. Git sources should pin a commit.\n\n\
Example: `ADD https://example.com/tool.tar.gz /opt/` is reported; \
`ADD --checksum=sha256:24454f... https://example.com/tool.tar.gz /opt/` is not.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for stage in &context.file.stages {
        for add in stage.instructions.iter().filter(|i| i.keyword == "ADD") {
            let words = add.args.words();
            let Some((_, sources)) = words.split_last() else {
                continue;
            };
            if add.flag("checksum").is_none() && sources.iter().any(|s| is_remote(s)) {
                out.push(CHECK.finding(
                    context.at(add.line),
                    format!("Dockerfile {} ADD", stage.label()),
                    "verify downloads with ADD --checksum=sha256:<digest> or download and check in RUN",
                ));
            }
        }
    }
}
