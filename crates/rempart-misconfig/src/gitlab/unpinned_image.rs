use rempart_core::Finding;

use super::{Pipeline, images};
use crate::check::check_doc;

check_doc! {
    code: "CI-GL-UNPINNED-IMAGE",
    title: "Pipeline image not pinned by digest",
    severity: Medium,
    target: Workflow,
    doc: "An `image:` or `services:` entry of the pipeline, of `default:` or of a job names an \
image by tag (`node:20`, `python:3.12-slim`) or by nothing (`alpine`, which is `latest`) \
instead of a `@sha256:` digest.\n\n\
Why: the job runs that image with the job's token and CI/CD variables; a tag is a pointer its \
publisher (or whoever took over their account or registry) moves, so the next pipeline may run \
other code than the one you reviewed.\n\n\
Fix: pin `image: node:20@sha256:…` and let Renovate or Dependabot update the digest. Images \
named through variables (`$CI_REGISTRY_IMAGE/builder:$CI_COMMIT_SHA`) are not judged.\n\n\
Example: `image: node:20`.",
}

pub(super) fn run(pipeline: &Pipeline, out: &mut Vec<Finding>) {
    for (source, anchor, image, owner, service) in images(pipeline) {
        if image.contains('$') || image.contains("@sha256:") {
            continue;
        }
        let what = if service { "service" } else { "image" };
        out.push(pipeline.finding(
            &CHECK,
            source,
            pipeline.line_of(source, &anchor, &image),
            owner,
            format!("{what} {image} is not pinned by digest: pin it as {image}@sha256:…"),
        ));
    }
}
