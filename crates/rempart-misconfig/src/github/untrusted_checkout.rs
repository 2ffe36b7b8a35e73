use rempart_core::Finding;
use serde_json::Value;

use super::Context;
use super::expressions::{expressions, properties};
use crate::check::check_doc;

check_doc! {
    code: "CI-GHA-UNTRUSTED-CHECKOUT",
    title: "Pull request code checked out in a privileged workflow",
    severity: Critical,
    target: Workflow,
    doc: "A workflow triggered by `pull_request_target` or `workflow_run` checks out the pull \
request's head (`ref: ${{ github.event.pull_request.head.sha }}`, `github.head_ref`, \
`refs/pull/N/merge`, the `workflow_run` head).\n\n\
Why: those triggers run with the base repository's secrets and a write token, even for pull \
requests from forks; checking out the fork's code and then building or testing it runs the \
attacker's code with them (the \"pwn request\").\n\n\
Fix: use `pull_request` for anything that runs the contributor's code; keep \
`pull_request_target` for labelling and commenting, without checking out the head, or split \
the work: an unprivileged `pull_request` workflow uploads an artifact that the privileged one \
only reads as data.\n\n\
Example: `on: pull_request_target` with `actions/checkout` and `ref: ${{ github.event.pull_request.head.sha }}`.",
}

const PRIVILEGED_TRIGGERS: [&str; 2] = ["pull_request_target", "workflow_run"];

/// Properties that name the contributor's code.
const HEAD: &[&str] = &[
    "github.event.pull_request.head.sha",
    "github.event.pull_request.head.ref",
    "github.event.pull_request.merge_commit_sha",
    "github.event.pull_request.number",
    "github.event.number",
    "github.head_ref",
    "github.event.workflow_run.head_sha",
    "github.event.workflow_run.head_branch",
];

fn names_head(reference: &str) -> bool {
    reference.contains("refs/pull/")
        || expressions(reference)
            .into_iter()
            .flat_map(properties)
            .any(|property| HEAD.contains(&property.as_str()))
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    let triggers = context.triggers();
    let Some(trigger) = triggers
        .iter()
        .find(|trigger| PRIVILEGED_TRIGGERS.contains(trigger))
    else {
        return;
    };
    for job in &context.jobs {
        for step in job.steps() {
            let Some(uses) = step.get("uses").and_then(Value::as_str) else {
                continue;
            };
            if !uses.starts_with("actions/checkout@") {
                continue;
            }
            let reference = step
                .get("with")
                .and_then(|with| with.get("ref"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            if names_head(reference) {
                out.push(context.finding(
                    &CHECK,
                    context.line_of(&format!("{}:", job.id), reference),
                    format!("job {}", job.id),
                    format!(
                        "on: {trigger} checks out the pull request's code (ref: {reference}) with the base repository's secrets and token"
                    ),
                ));
            }
        }
    }
}
