use rempart_core::Finding;
use serde_json::Value;

use super::Context;
use crate::check::check_doc;
use crate::common::is_commit_sha;

check_doc! {
    code: "CI-GHA-UNPINNED",
    title: "Action or container image not pinned to an immutable version",
    severity: Medium,
    target: Workflow,
    doc: "A step `uses:` an action by tag or branch (`owner/action@v4`) instead of a full commit \
SHA, or a job or step runs a container image without a `@sha256:` digest.\n\n\
Why: tags and branches move. Whoever controls the action's repository (its owner, or someone \
who stole their credentials, as in the tj-actions/changed-files compromise of 2025) changes \
what your workflow runs, with its token and secrets, without any change on your side.\n\n\
Fix: pin to the commit (`owner/action@<40-hex sha> # v4.1.1`) and let Dependabot or Renovate \
update the pin; pin images by digest.\n\n\
Example: `uses: some-org/deploy-action@main`.",
}

/// Why `uses` is not pinned, or `None` when it is (or is local).
fn unpinned(uses: &str) -> Option<String> {
    if uses.starts_with("./") {
        return None;
    }
    if let Some(image) = uses.strip_prefix("docker://") {
        return (!image.contains("@sha256:")).then(|| format!("image {image} has no digest"));
    }
    let (_, reference) = uses.rsplit_once('@')?;
    (!is_commit_sha(reference)).then(|| format!("{uses} follows a movable reference"))
}

fn image_of(value: &Value) -> Option<&str> {
    match value.get("container")? {
        Value::String(image) => Some(image),
        container => container.get("image").and_then(Value::as_str),
    }
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for job in &context.jobs {
        let mut report = |needle: &str, why: String| {
            out.push(context.finding(
                &CHECK,
                context.line_of(&format!("{}:", job.id), needle),
                format!("job {}", job.id),
                why,
            ));
        };
        // A reusable workflow called by the job.
        if let Some(uses) = job.value.get("uses").and_then(Value::as_str)
            && let Some(why) = unpinned(uses)
        {
            report(uses, why);
        }
        let mut images: Vec<&str> = image_of(job.value).into_iter().collect();
        if let Some(services) = job.value.get("services").and_then(Value::as_object) {
            images.extend(services.values().filter_map(|service| match service {
                Value::String(image) => Some(image.as_str()),
                service => service.get("image").and_then(Value::as_str),
            }));
        }
        for image in images {
            if !image.contains("@sha256:") && !image.contains("${{") {
                report(image, format!("image {image} has no digest"));
            }
        }
        for step in job.steps() {
            if let Some(uses) = step.get("uses").and_then(Value::as_str)
                && let Some(why) = unpinned(uses)
            {
                report(uses, why);
            }
        }
    }
}
