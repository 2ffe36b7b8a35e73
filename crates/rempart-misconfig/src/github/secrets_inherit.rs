use rempart_core::Finding;
use serde_json::Value;

use super::Context;
use crate::check::check_doc;

check_doc! {
    code: "CI-GHA-SECRETS-INHERIT",
    title: "Every secret handed to a reusable workflow of another repository",
    severity: High,
    target: Workflow,
    doc: "A job calls a reusable workflow from another repository (`uses: owner/repo/.github/\
workflows/x.yml@ref`) with `secrets: inherit`.\n\n\
Why: the called workflow receives every secret this repository and its organization hold, not \
the one it needs; whoever controls that repository (or moves the reference) can use them all.\n\n\
Fix: pass the secrets it needs by name (`secrets: {REGISTRY_TOKEN: ${{ secrets.REGISTRY_TOKEN }}}`) \
and pin the workflow to a commit.\n\n\
Example: `uses: other-org/ci/.github/workflows/build.yml@main` with `secrets: inherit`.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for job in &context.jobs {
        let Some(uses) = job.value.get("uses").and_then(Value::as_str) else {
            continue;
        };
        let external = !uses.starts_with("./");
        if external && job.value.get("secrets").and_then(Value::as_str) == Some("inherit") {
            out.push(context.finding(
                &CHECK,
                context.line_of(&format!("{}:", job.id), "inherit"),
                format!("job {}", job.id),
                format!(
                    "secrets: inherit hands every secret to {uses}; pass the ones it needs by name"
                ),
            ));
        }
    }
}
