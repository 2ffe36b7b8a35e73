use rempart_core::Finding;
use serde_json::Value;

use super::Context;
use super::expressions::{expressions, properties};
use crate::check::check_doc;
use crate::common::is_commit_sha;

check_doc! {
    code: "CI-GHA-SECRET-TO-UNPINNED",
    title: "Secret handed to an action that is not pinned",
    severity: High,
    target: Workflow,
    doc: "A step passes a secret (`${{ secrets.… }}`, in `with:` or `env:`) to an action it uses \
by tag or branch rather than by commit SHA.\n\n\
Why: whoever controls that action's tags decides what code receives the secret, on the next \
run, without any change on your side: the tj-actions/changed-files compromise of 2025 \
collected secrets exactly this way.\n\n\
Fix: pin the action to a full commit SHA (and review its updates), or do the step with a \
command you control. Local actions (`./…`) are not reported.\n\n\
Example: `uses: some-org/deploy-action@v2` with `token: ${{ secrets.DEPLOY_TOKEN }}`.",
}

/// The secrets the step's `with:` and `env:` values read.
fn secrets_given(step: &Value) -> Vec<String> {
    let mut found = Vec::new();
    for key in ["with", "env"] {
        let Some(map) = step.get(key).and_then(Value::as_object) else {
            continue;
        };
        for value in map.values() {
            let Some(text) = value.as_str() else { continue };
            for expression in expressions(text) {
                for property in properties(expression) {
                    if property.starts_with("secrets.") && !found.contains(&property) {
                        found.push(property);
                    }
                }
            }
        }
    }
    found
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for job in &context.jobs {
        for step in job.steps() {
            let Some(uses) = step.get("uses").and_then(Value::as_str) else {
                continue;
            };
            if uses.starts_with("./") || uses.starts_with("docker://") {
                continue;
            }
            let pinned = uses
                .split_once('@')
                .is_some_and(|(_, reference)| is_commit_sha(reference));
            if pinned {
                continue;
            }
            let secrets = secrets_given(step);
            if secrets.is_empty() {
                continue;
            }
            out.push(context.finding(
                &CHECK,
                context.line_of(&format!("{}:", job.id), uses),
                format!("job {}", job.id),
                format!(
                    "{} given to {uses}, which follows a movable reference: pin it to a commit SHA",
                    secrets.join(", ")
                ),
            ));
        }
    }
}
