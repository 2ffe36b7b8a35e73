use rempart_core::Finding;

use super::Context;
use super::shell::Command;
use crate::check::check_doc;

check_doc! {
    code: "DF-APT-NO-RECOMMENDS",
    title: "apt-get install without --no-install-recommends",
    severity: Low,
    target: Dockerfile,
    doc: "An `apt-get install` (or `apt install`) runs without `--no-install-recommends`, so apt \
also installs every package the requested ones merely recommend.\n\n\
Why: recommended packages are often large and never used, and each one is more code to patch \
and more vulnerabilities to report.\n\n\
Fix: `apt-get install -y --no-install-recommends <packages>` (or \
`-o APT::Install-Recommends=false`).\n\n\
Example: `RUN apt-get update && apt-get install -y curl` is reported.",
}

pub(super) fn is_apt_install(command: &Command) -> bool {
    let words = command.program_words();
    matches!(
        words.first().map(|w| super::shell::basename(w)),
        Some("apt-get" | "apt")
    ) && words.iter().skip(1).any(|w| w == "install")
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for (stage, run, commands) in context.runs() {
        let missing = commands.iter().any(|command| {
            is_apt_install(command)
                && !command.has_word("--no-install-recommends")
                && !command.words.iter().any(|w| {
                    w.contains("APT::Install-Recommends=false")
                        || w.contains("Install-Recommends=0")
                })
        });
        if missing {
            out.push(CHECK.finding(
                context.at(run.line),
                format!("Dockerfile {} RUN", stage.label()),
                "add --no-install-recommends to apt-get install",
            ));
        }
    }
}
