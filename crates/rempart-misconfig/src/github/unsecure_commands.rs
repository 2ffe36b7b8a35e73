use rempart_core::Finding;
use serde_json::Value;

use super::Context;
use crate::check::check_doc;

check_doc! {
    code: "CI-GHA-UNSECURE-COMMANDS",
    title: "Deprecated set-env and add-path workflow commands re-enabled",
    severity: High,
    target: Workflow,
    doc: "`ACTIONS_ALLOW_UNSECURE_COMMANDS` is set to true in the workflow, a job or a step.\n\n\
Why: it brings back the `::set-env::` and `::add-path::` commands GitHub disabled in 2020: any \
text a step prints (a log line, a test's output, a fetched file) can then set environment \
variables such as `LD_PRELOAD` or `NODE_OPTIONS` for the following steps, and run code with \
their secrets.\n\n\
Fix: remove the variable; write to `$GITHUB_ENV` and `$GITHUB_PATH` instead.\n\n\
Example: `env: {ACTIONS_ALLOW_UNSECURE_COMMANDS: true}`.",
}

fn enables(value: &Value) -> bool {
    match value
        .get("env")
        .and_then(|env| env.get("ACTIONS_ALLOW_UNSECURE_COMMANDS"))
    {
        Some(Value::Bool(true)) => true,
        Some(Value::String(text)) => text.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    let mut places: Vec<String> = Vec::new();
    if enables(context.workflow) {
        places.push("workflow".to_owned());
    }
    for job in &context.jobs {
        if enables(job.value) || job.steps().iter().any(enables) {
            places.push(format!("job {}", job.id));
        }
    }
    for place in places {
        out.push(context.finding(
            &CHECK,
            context.line_of("", "ACTIONS_ALLOW_UNSECURE_COMMANDS"),
            place,
            "ACTIONS_ALLOW_UNSECURE_COMMANDS re-enables set-env and add-path; use $GITHUB_ENV and $GITHUB_PATH",
        ));
    }
}
