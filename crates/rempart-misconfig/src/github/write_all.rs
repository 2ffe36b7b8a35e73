use rempart_core::Finding;
use serde_json::Value;

use super::Context;
use crate::check::check_doc;

check_doc! {
    code: "CI-GHA-WRITE-ALL",
    title: "Workflow token granted write on every scope",
    severity: High,
    target: Workflow,
    doc: "The workflow or a job sets `permissions: write-all`.\n\n\
Why: every step gets a token that can push code, rewrite releases and packages and reach the \
repository's settings through the API: the most valuable credential a compromised step could \
steal.\n\n\
Fix: list the scopes the job needs (`contents: read`, `packages: write`, `id-token: write`).\n\n\
Example: `permissions: write-all`.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    let write_all = |value: Option<&Value>| value.and_then(Value::as_str) == Some("write-all");
    if write_all(context.workflow.get("permissions")) {
        out.push(context.finding(
            &CHECK,
            context.line_of("permissions:", "write-all"),
            "workflow".to_owned(),
            "permissions: write-all; list the scopes the jobs use instead",
        ));
    }
    for job in &context.jobs {
        if write_all(job.value.get("permissions")) {
            out.push(context.finding(
                &CHECK,
                context.line_of(&format!("{}:", job.id), "write-all"),
                format!("job {}", job.id),
                "permissions: write-all; list the scopes the job uses instead",
            ));
        }
    }
}
