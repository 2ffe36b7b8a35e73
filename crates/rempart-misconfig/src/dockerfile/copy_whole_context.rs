use rempart_core::{Finding, Severity};

use super::Context;
use crate::check::check_doc;

check_doc! {
    code: "DF-COPY-WHOLE-CONTEXT",
    title: "COPY or ADD of the whole build context",
    severity: Medium,
    target: Dockerfile,
    doc: "A `COPY` or `ADD` takes the whole build context (`COPY . .`, `ADD . /app`).\n\n\
Why: everything in the directory is copied into the image: `.git`, `.env` files, local \
credentials, build output. Secrets copied this way stay in the layer even if deleted later.\n\n\
Severity: MEDIUM when the caller knows there is no `.dockerignore`, LOW when it cannot tell \
(a `.dockerignore` may exclude the sensitive files), INFO when a `.dockerignore` is present. \
`COPY --from=<stage> . .` copies from a build stage, not the context, and is not reported.\n\n\
Fix: copy only what the image needs (`COPY src/ ./src/`), and keep a `.dockerignore` that \
excludes `.git`, `.env*`, keys and build output.\n\n\
Example: `COPY . .`.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    let severity = match context.options.dockerignore_present {
        Some(false) => Severity::Medium,
        None => Severity::Low,
        Some(true) => Severity::Info,
    };
    for stage in &context.file.stages {
        for copy in &stage.instructions {
            if !matches!(copy.keyword.as_str(), "COPY" | "ADD") || copy.flag("from").is_some() {
                continue;
            }
            let words = copy.args.words();
            let Some((_, sources)) = words.split_last() else {
                continue;
            };
            if sources
                .iter()
                .any(|s| matches!(s.as_str(), "." | "./" | "./." | "*" | "./*"))
            {
                out.push(CHECK.finding_with_severity(
                    severity,
                    context.at(copy.line),
                    format!("Dockerfile {} {}", stage.label(), copy.keyword),
                    "copy only the files the image needs and keep a .dockerignore",
                ));
            }
        }
    }
}
