use rempart_core::Finding;

use super::{Context, parse::Stage};
use crate::check::check_doc;
use crate::common::ImageRef;

check_doc! {
    code: "DF-BASE-NOT-PINNED",
    title: "Base image is not pinned by digest",
    severity: Low,
    target: Dockerfile,
    doc: "A `FROM` names its image by tag only (`debian:12`), not by digest \
(`debian:12@sha256:...`).\n\n\
Why: tags move. The same Dockerfile builds different images on different days, a compromised or \
mistaken push to the tag flows straight into your build, and a scan of one build says little \
about the next.\n\n\
Fix: pin the digest and let a bot (Renovate, Dependabot) propose updates: \
`FROM debian:12@sha256:<digest>`.\n\n\
Example: `FROM python:3.12-slim` is reported; `FROM python:3.12-slim@sha256:2c4f...` is not. \
Stages built on an earlier stage and `scratch` are not images and are skipped.",
}

/// The stages whose base is a pulled image, with its parsed reference.
pub(super) fn image_bases<'a>(context: &'a Context<'_>) -> Vec<(&'a Stage, ImageRef)> {
    context
        .file
        .stages
        .iter()
        .filter(|stage| {
            !stage.base.is_empty()
                && !stage.base.eq_ignore_ascii_case("scratch")
                && context.file.stage_named(&stage.base, stage.index).is_none()
        })
        .map(|stage| (stage, ImageRef::parse(&stage.base)))
        .collect()
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for (stage, image) in image_bases(context) {
        if image.digest.is_none() {
            out.push(CHECK.finding(
                context.at(stage.from_line),
                format!("Dockerfile {} FROM {}", stage.label(), stage.base),
                format!(
                    "pin the base image by digest: FROM {}@sha256:<digest>",
                    stage.base
                ),
            ));
        }
    }
}
