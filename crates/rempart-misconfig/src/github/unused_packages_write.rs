use rempart_core::Finding;
use serde_json::Value;

use super::Context;
use super::steps::publishes_package;
use crate::check::check_doc;

check_doc! {
    code: "CI-GHA-UNUSED-WRITE",
    title: "Write scope a job does not use",
    severity: Medium,
    target: Workflow,
    doc: "A job's token may write packages (`packages: write`, set on the job or inherited from \
the workflow) but no step of the job publishes anything: no image push, no `npm publish`, \
`mvn deploy`, Gradle `publish`, `nuget push` or `gem push`, no login to `ghcr.io`.\n\n\
Why: a token that can overwrite the organisation's images and packages is what an attacker \
who compromises any step of the job (a dependency, an action) wants most: with it, the next \
deployment pulls their image.\n\n\
Fix: grant `packages: write` only to the job that publishes, after the build and the scan, \
and `packages: read` (or nothing) elsewhere. Reusable workflow calls are not judged: what \
they run is in another file.\n\n\
Example: `permissions: {contents: read, packages: write}` on a test job.",
}

fn grants_packages_write(permissions: Option<&Value>) -> bool {
    permissions
        .and_then(|p| p.get("packages"))
        .and_then(Value::as_str)
        == Some("write")
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    let workflow_grants = grants_packages_write(context.workflow.get("permissions"));
    for job in &context.jobs {
        // A call to a reusable workflow: its steps are elsewhere.
        if job.value.get("uses").is_some() {
            continue;
        }
        let (granted, line) = match job.value.get("permissions") {
            Some(own) => (
                grants_packages_write(Some(own)),
                context.line_of(&format!("{}:", job.id), "packages"),
            ),
            None => (workflow_grants, context.line_of("permissions:", "packages")),
        };
        if granted && !job.steps().iter().any(publishes_package) {
            out.push(context.finding(
                &CHECK,
                line,
                format!("job {}", job.id),
                "the token may write packages but no step of the job publishes one: grant packages: write only where something is pushed",
            ));
        }
    }
}
