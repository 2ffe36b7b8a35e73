use rempart_core::Finding;

use super::{Context, has_cache_mount, parse::key_values};
use crate::check::check_doc;

check_doc! {
    code: "DF-PIP-NO-CACHE-DIR",
    title: "pip install without --no-cache-dir",
    severity: Low,
    target: Dockerfile,
    doc: "A `pip install` runs without `--no-cache-dir`, and neither `PIP_NO_CACHE_DIR` is set in \
the stage nor a cache mount is used.\n\n\
Why: pip keeps every downloaded wheel in `/root/.cache/pip`, which then ships in the layer.\n\n\
Fix: `pip install --no-cache-dir ...`, `ENV PIP_NO_CACHE_DIR=1`, or \
`RUN --mount=type=cache,target=/root/.cache/pip pip install ...`.\n\n\
Example: `RUN pip install -r requirements.txt` is reported.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for (stage, run, commands) in context.runs() {
        let env_disables = stage.instructions.iter().any(|i| {
            i.keyword == "ENV"
                && i.line < run.line
                && key_values(&i.args).iter().any(|(name, value)| {
                    name == "PIP_NO_CACHE_DIR"
                        && value
                            .as_deref()
                            .is_some_and(|v| !matches!(v, "" | "0" | "false"))
                })
        });
        if env_disables || has_cache_mount(run, ".cache/pip") {
            continue;
        }
        let missing = commands.iter().any(|command| {
            let words = command.program_words();
            let program = command.program().unwrap_or("");
            // pip, pip3, pip3.12; not pipenv or pipx, which manage their own caches.
            let is_pip = program
                .strip_prefix("pip")
                .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
                || (program.starts_with("python")
                    && words.windows(2).any(|w| w[0] == "-m" && w[1] == "pip"));
            is_pip && words.iter().any(|w| w == "install") && !command.has_word("--no-cache-dir")
        });
        if missing {
            out.push(CHECK.finding(
                context.at(run.line),
                format!("Dockerfile {} RUN", stage.label()),
                "add --no-cache-dir to pip install",
            ));
        }
    }
}
