use rempart_core::Finding;

use super::Context;
use crate::check::check_doc;

check_doc! {
    code: "CI-GHA-DEFAULT-PERMISSIONS",
    title: "Workflow token keeps the repository's default permissions",
    severity: Medium,
    target: Workflow,
    doc: "The workflow sets no top-level `permissions:` and a job sets none either, so its \
`GITHUB_TOKEN` gets the repository's default, which is read and write on every scope for \
repositories created before 2023 and in many organizations.\n\n\
Why: any step of the job (a third-party action, a compromised dependency, injected input) can \
then push code, publish packages and releases, or approve pull requests with that token.\n\n\
Fix: add `permissions: {contents: read}` at the top of the workflow and grant each job only the \
scopes it uses (`packages: write` in the job that pushes the image).\n\n\
Example: a workflow with `on: push` and a `build` job, and no `permissions:` anywhere.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    if context.workflow.get("permissions").is_some() {
        return;
    }
    for job in &context.jobs {
        // A job that calls a reusable workflow gets its permissions from this workflow's.
        if job.value.get("permissions").is_none() && job.value.get("uses").is_none() {
            out.push(context.finding(
                &CHECK,
                context.line_of("jobs:", &format!("{}:", job.id)),
                format!("job {}", job.id),
                "no permissions: set at the top of the workflow or on the job; add `permissions: {contents: read}` and grant each job what it uses",
            ));
        }
    }
}
