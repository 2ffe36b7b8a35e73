use rempart_core::Finding;
use serde_json::Value;

use super::{Job, Pipeline, include_entries};
use crate::check::check_doc;
use crate::ci_commands::{image_push_command, vetting_command};

check_doc! {
    code: "CI-GL-PUSH-WITHOUT-SCAN",
    title: "Image pushed before any scan or signature",
    severity: Medium,
    target: Workflow,
    doc: "A job pushes an image (`docker push`, `buildx build --push`, Kaniko's `executor \
--destination`, `podman`/`buildah push`, `skopeo copy`, `crane`) and nothing before it scans \
the image (rempart, Trivy, Grype, Docker Scout, Snyk, GitLab's Container-Scanning template) \
or signs it (cosign): not earlier in its script, not in a job of an earlier stage, not in a job \
it `needs`.\n\n\
Why: once in the registry, the image is available to every cluster and person that pulls it; \
a scan in a later stage vets nothing before it spreads, and a failed scan does not take it \
back.\n\n\
Fix: build, scan the built image, then push (or push to a staging repository the registry \
gate holds until its verdict), and sign what passed. When the registry itself scans before \
serving (rempart's registry gate, Harbor with its scanner), ignore this finding with that \
reason.\n\n\
Example: a `build` stage job running `docker build` and `docker push`, and Container-Scanning \
in `test`.",
}

/// Whether the pipeline includes GitLab's Container-Scanning template (its job runs in `test`).
fn includes_container_scanning(pipeline: &Pipeline) -> bool {
    pipeline.sources.iter().any(|source| {
        include_entries(&source.value).iter().any(|entry| {
            entry
                .get("template")
                .and_then(Value::as_str)
                .is_some_and(|template| template.contains("Container-Scanning"))
        })
    })
}

fn vets(job: &Job) -> bool {
    vetting_command(&job.script()).is_some()
}

fn needs(job: &Job) -> Vec<&str> {
    match job.value.get("needs") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| item.as_str().or_else(|| item.get("job")?.as_str()))
            .collect(),
        _ => Vec::new(),
    }
}

pub(super) fn run(pipeline: &Pipeline, out: &mut Vec<Finding>) {
    let stages = pipeline.stages();
    let position = |stage: &str| stages.iter().position(|s| s == stage);
    let scanning_template = includes_container_scanning(pipeline);
    for job in pipeline.jobs.iter().filter(|job| !job.hidden()) {
        let script = job.script();
        let Some((push_at, push)) = image_push_command(&script) else {
            continue;
        };
        if vetting_command(&script).is_some_and(|vet_at| vet_at < push_at) {
            continue;
        }
        let stage = position(job.stage());
        let earlier_vets = pipeline
            .jobs
            .iter()
            .filter(|other| !other.hidden())
            .any(|other| {
                let before = match (position(other.stage()), stage) {
                    (Some(theirs), Some(ours)) => theirs < ours,
                    _ => false,
                };
                (before || needs(job).contains(&other.name.as_str())) && vets(other)
            });
        let template_first = scanning_template
            && matches!((position("test"), stage), (Some(test), Some(ours)) if test < ours);
        if earlier_vets || template_first {
            continue;
        }
        out.push(pipeline.finding(
            &CHECK,
            job.source,
            pipeline.line_of(job.source, &format!("{}:", job.name), &push),
            format!("job {}", job.name),
            format!(
                "`{push}` pushes an image that nothing before it (in the job, an earlier stage or the jobs it needs) scans or signs"
            ),
        ));
    }
}
