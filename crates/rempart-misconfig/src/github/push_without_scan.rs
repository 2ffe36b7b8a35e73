use std::collections::BTreeSet;

use rempart_core::Finding;
use serde_json::Value;

use super::steps::{image_push, vets_image};
use super::{Context, Job};
use crate::check::check_doc;

check_doc! {
    code: "CI-GHA-PUSH-WITHOUT-SCAN",
    title: "Image pushed before any scan or signature",
    severity: Medium,
    target: Workflow,
    doc: "A step pushes an image to a registry (`docker push`, `docker/build-push-action` with \
`push`, `buildx build --push`, `podman`, `buildah`, `skopeo copy`, `crane`…) and nothing before \
it, in its job or in the jobs it `needs`, scans the image (rempart, Trivy, Grype, Docker \
Scout, Snyk) or signs or attests it (cosign, GitHub's attestations).\n\n\
Why: once in the registry, the image is available to every cluster and person that pulls it, \
vetted or not; a scan that runs after the push (or in another workflow nobody waits for) \
vets nothing before it spreads.\n\n\
Fix: build, scan the built image (`rempart image --input image.tar`, or the local daemon's \
image), then push, and sign what passed; or push to a staging repository the registry gate \
holds until its verdict. When the workflow only pushes to a registry that scans before serving \
(rempart's registry gate, Harbor with its scanner), ignore this finding with that reason.\n\n\
Example: `docker/build-push-action` with `push: true` as the first step after checkout.",
}

/// Whether any step of `job`, or of a job it needs (transitively), scans or signs an image.
fn needs_vet(context: &Context<'_>, job: &Job<'_>, seen: &mut BTreeSet<String>) -> bool {
    let needs: Vec<&str> = match job.value.get("needs") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    needs.into_iter().any(|name| {
        if !seen.insert(name.to_owned()) {
            return false;
        }
        context
            .jobs
            .iter()
            .find(|other| other.id == name)
            .is_some_and(|other| {
                other.steps().iter().any(vets_image) || needs_vet(context, other, seen)
            })
    })
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for job in &context.jobs {
        let mut vetted = needs_vet(context, job, &mut BTreeSet::new());
        for (index, step) in job.steps().iter().enumerate() {
            if vets_image(step) {
                vetted = true;
                continue;
            }
            let Some(push) = image_push(step) else {
                continue;
            };
            if vetted {
                continue;
            }
            let label = step
                .get("name")
                .and_then(Value::as_str)
                .map_or_else(|| format!("step {}", index + 1), str::to_owned);
            let needle = step
                .get("uses")
                .and_then(Value::as_str)
                .map_or_else(|| push.clone(), str::to_owned);
            out.push(context.finding(
                &CHECK,
                context.line_of(&format!("{}:", job.id), &needle),
                format!("job {} ({label})", job.id),
                format!(
                    "`{push}` pushes an image that no earlier step of the job or of the jobs it needs scans or signs"
                ),
            ));
            // One finding per job: the first push is where the unvetted image leaves.
            break;
        }
    }
}
