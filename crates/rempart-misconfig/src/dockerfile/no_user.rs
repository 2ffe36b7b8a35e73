use rempart_core::Finding;

use super::Context;
use crate::check::check_doc;

check_doc! {
    code: "DF-NO-USER",
    title: "The final stage never sets a user",
    severity: Medium,
    target: Dockerfile,
    doc: "Neither the final build stage nor the stages it is built on has a `USER` instruction, so \
the image runs as whatever user its base image declares: root for almost every base image.\n\n\
Why: see DF-ROOT-USER; the risk is the same, only less visible.\n\n\
Fix: add `USER <non-root user>` near the end of the final stage. Base images known to set a \
non-root user (distroless `:nonroot`) are still reported at this level, because the Dockerfile \
alone does not show it.\n\n\
`FROM scratch` final stages are reported too: without USER their process runs as UID 0.\n\n\
Example: `FROM node:22` + `CMD [\"node\", \"app.js\"]` runs node as root; add `USER node`.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(stage) = context.final_stage() else {
        return;
    };
    let has_user = context
        .lineage(stage)
        .iter()
        .any(|s| s.instructions.iter().any(|i| i.keyword == "USER"));
    if !has_user {
        out.push(CHECK.finding(
            context.at(stage.from_line),
            format!("Dockerfile {}", stage.label()),
            "add a USER instruction with a non-root user to the final stage",
        ));
    }
}
