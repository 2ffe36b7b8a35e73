use rempart_core::Finding;

use super::{Context, has_cache_mount};
use crate::check::check_doc;

check_doc! {
    code: "DF-APK-NO-CACHE",
    title: "apk add without --no-cache",
    severity: Low,
    target: Dockerfile,
    doc: "An `apk add` runs without `--no-cache` and the same `RUN` does not remove \
`/var/cache/apk`.\n\n\
Why: the index and downloaded packages stay in the layer, making the image bigger for nothing.\n\n\
Fix: `apk add --no-cache <packages>`, or a BuildKit cache mount on `/var/cache/apk`.\n\n\
Example: `RUN apk update && apk add curl` is reported; `RUN apk add --no-cache curl` is not.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for (stage, run, commands) in context.runs() {
        if has_cache_mount(run, "/var/cache/apk") {
            continue;
        }
        let cleaned = commands.iter().any(|c| {
            c.program() == Some("rm") && c.words.iter().any(|w| w.contains("/var/cache/apk"))
        });
        let missing = commands.iter().any(|command| {
            let words = command.program_words();
            command.program() == Some("apk")
                && words.iter().skip(1).any(|w| w == "add")
                && !command.has_word("--no-cache")
        });
        if missing && !cleaned {
            out.push(CHECK.finding(
                context.at(run.line),
                format!("Dockerfile {} RUN", stage.label()),
                "use apk add --no-cache",
            ));
        }
    }
}
