use rempart_core::Finding;
use serde_json::Value;

use super::Context;
use super::steps::action;
use crate::check::check_doc;

check_doc! {
    code: "CI-GHA-CACHE-POISONING",
    title: "Cache written where untrusted input drives the run",
    severity: Medium,
    target: Workflow,
    doc: "A workflow started by `pull_request_target`, `issue_comment` or `workflow_run` saves a \
cache (`actions/cache`, or a `setup-*` action with its `cache` input).\n\n\
Why: these triggers run in the default branch's context, so the caches they save are the \
default branch's, which every later run restores, release builds included. Code an outsider \
gets to run there (an injected title, a checked-out pull request) can write a poisoned cache \
entry that the next release restores and builds from.\n\n\
Fix: do not cache in workflows outsiders can start (`actions/cache/restore` only, never \
save), and do not restore caches in release workflows.\n\n\
Example: `on: issue_comment` with `actions/setup-node` and `cache: npm`.",
}

const DEFAULT_BRANCH_TRIGGERS: [&str; 3] = ["pull_request_target", "issue_comment", "workflow_run"];

/// Whether the step saves a cache.
fn saves_cache(step: &Value) -> bool {
    let Some(name) = action(step) else {
        return false;
    };
    let lower = name.to_ascii_lowercase();
    if lower == "actions/cache" || lower == "actions/cache/save" {
        return true;
    }
    lower.starts_with("actions/setup-")
        && step
            .get("with")
            .and_then(|with| with.get("cache"))
            .is_some_and(|cache| match cache {
                Value::Bool(on) => *on,
                Value::String(text) => !text.is_empty() && text != "false",
                _ => false,
            })
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    let triggers = context.triggers();
    let Some(trigger) = triggers
        .iter()
        .find(|t| DEFAULT_BRANCH_TRIGGERS.contains(t))
    else {
        return;
    };
    for job in &context.jobs {
        for step in job.steps().iter().filter(|step| saves_cache(step)) {
            let uses = step.get("uses").and_then(Value::as_str).unwrap_or_default();
            out.push(context.finding(
                &CHECK,
                context.line_of(&format!("{}:", job.id), uses),
                format!("job {}", job.id),
                format!(
                    "{uses} saves a cache in the default branch's scope from a run `{trigger}` started, which later runs (releases too) restore"
                ),
            ));
        }
    }
}
