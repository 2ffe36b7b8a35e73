use rempart_core::Finding;
use serde_json::Value;

use super::Context;
use super::steps::{action, pushes_to_repository};
use crate::check::check_doc;

check_doc! {
    code: "CI-GHA-PERSIST-CREDENTIALS",
    title: "Checkout leaves the token on disk in a job that pushes nothing",
    severity: Medium,
    target: Workflow,
    doc: "`actions/checkout` runs without `persist-credentials: false` in a job that pushes no \
commit or tag (no `git push`, no release or pull-request action).\n\n\
Why: by default checkout writes the job's token into `.git/config`, where every later step \
(a build script, a test, a third-party action) can read it, and where an artifact upload of \
the working directory publishes it.\n\n\
Fix: `with: {persist-credentials: false}` on the checkout; a job that must push keeps it, and \
is not reported.\n\n\
Example: `- uses: actions/checkout@<sha>` followed by `npm test`.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for job in &context.jobs {
        if job.steps().iter().any(pushes_to_repository) {
            continue;
        }
        for step in job.steps() {
            if !action(step).is_some_and(|name| name.eq_ignore_ascii_case("actions/checkout")) {
                continue;
            }
            let persisted = match step
                .get("with")
                .and_then(|with| with.get("persist-credentials"))
            {
                Some(Value::Bool(on)) => *on,
                Some(Value::String(text)) => text != "false",
                _ => true,
            };
            if persisted {
                let uses = step.get("uses").and_then(Value::as_str).unwrap_or_default();
                out.push(context.finding(
                    &CHECK,
                    context.line_of(&format!("{}:", job.id), uses),
                    format!("job {}", job.id),
                    "actions/checkout keeps the token in .git/config for every later step; the job pushes nothing: set persist-credentials: false",
                ));
            }
        }
    }
}
