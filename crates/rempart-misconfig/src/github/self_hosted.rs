use rempart_core::Finding;
use serde_json::Value;

use super::Context;
use crate::check::check_doc;

check_doc! {
    code: "CI-GHA-SELF-HOSTED-PR",
    title: "Self-hosted runner in a workflow pull requests trigger",
    severity: High,
    target: Workflow,
    doc: "A job `runs-on` a self-hosted runner (the `self-hosted` label) in a workflow started by \
`pull_request` or `pull_request_target`.\n\n\
Why: on a public repository anyone can open a pull request; its code (or, under \
`pull_request_target`, code it influences) then runs on your machine, and a self-hosted \
runner is not wiped between jobs: what the contributor leaves behind (a modified toolchain, a \
process that waits for the next job's secrets) persists, inside your network.\n\n\
Fix: run pull request jobs on GitHub-hosted or ephemeral, isolated runners (one VM per job), \
and keep self-hosted runners for branches only trusted people push to; require approval for \
workflows from outside contributors.\n\n\
Example: `on: pull_request` with `runs-on: [self-hosted, linux]`.",
}

const PR_TRIGGERS: [&str; 2] = ["pull_request", "pull_request_target"];

/// Whether `runs-on` names the `self-hosted` label (a string, a list, or `{labels: …}`).
fn self_hosted(runs_on: &Value) -> bool {
    let is_label = |value: &Value| {
        value
            .as_str()
            .is_some_and(|label| label.eq_ignore_ascii_case("self-hosted"))
    };
    match runs_on {
        Value::Array(labels) => labels.iter().any(is_label),
        Value::Object(map) => map.get("labels").is_some_and(|labels| match labels {
            Value::Array(labels) => labels.iter().any(is_label),
            other => is_label(other),
        }),
        other => is_label(other),
    }
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    let triggers = context.triggers();
    let Some(trigger) = triggers.iter().find(|t| PR_TRIGGERS.contains(t)) else {
        return;
    };
    for job in &context.jobs {
        if job.value.get("runs-on").is_some_and(self_hosted) {
            out.push(context.finding(
                &CHECK,
                context.line_of(&format!("{}:", job.id), "self-hosted"),
                format!("job {}", job.id),
                format!(
                    "runs on a self-hosted runner in a workflow `{trigger}` starts: pull request code runs on a machine that keeps what it leaves"
                ),
            ));
        }
    }
}
