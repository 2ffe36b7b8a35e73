use rempart_core::{Finding, Severity};

use super::{Context, parse::key_values};
use crate::check::check_doc;
use crate::common::{is_placeholder_value, is_secret_name};

check_doc! {
    code: "DF-SECRET-ARG-ENV",
    title: "Secret passed through ARG or ENV",
    severity: High,
    target: Dockerfile,
    doc: "An `ENV` or `ARG` whose name looks like a secret (`PASSWORD`, `SECRET`, `TOKEN`, \
`API_KEY`, ...) has a literal value, or an `ARG` with such a name is declared at all.\n\n\
Why: `ENV` values are stored in the image config and readable by anyone who can pull the image; \
`ARG` values used by a `RUN` are recorded in the image history. Reported HIGH for a literal \
value in the Dockerfile, MEDIUM for a secret-named `ARG` without a default (the value still ends \
up in the history when passed with `--build-arg`). The value is never printed.\n\n\
Fix: use BuildKit secrets: `RUN --mount=type=secret,id=npm_token ...` and \
`docker build --secret id=npm_token,env=NPM_TOKEN`; at run time, inject secrets from the \
orchestrator. Names ending in `_FILE`, `_PATH`, `_URL` are not reported: pointing at a mounted \
secret is the recommended practice.\n\n\
Example: `ENV DB_PASSWORD=hunter2` (HIGH), `ARG NPM_TOKEN` (MEDIUM).",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    let stages = context
        .file
        .stages
        .iter()
        .flat_map(|s| s.instructions.iter().map(move |i| (Some(s), i)));
    let globals = context.file.global_args.iter().map(|i| (None, i));
    for (stage, instruction) in globals.chain(stages) {
        if instruction.keyword != "ENV" && instruction.keyword != "ARG" {
            continue;
        }
        for (name, value) in key_values(&instruction.args) {
            if !is_secret_name(&name) {
                continue;
            }
            let literal = value.as_deref().is_some_and(|v| !is_placeholder_value(v));
            let severity = if literal {
                Severity::High
            } else if instruction.keyword == "ARG" && value.is_none() {
                Severity::Medium
            } else {
                continue;
            };
            let place = stage.map_or_else(|| "global".to_owned(), super::parse::Stage::label);
            out.push(CHECK.finding_with_severity(
                severity,
                context.at(instruction.line),
                format!("Dockerfile {place} {} {name}", instruction.keyword),
                "pass the secret with RUN --mount=type=secret instead of ARG/ENV",
            ));
        }
    }
}
