use rempart_core::Finding;

use super::{Context, base_not_pinned::image_bases};
use crate::check::check_doc;

check_doc! {
    code: "DF-BASE-LATEST",
    title: "Base image uses the latest tag or no tag",
    severity: Medium,
    target: Dockerfile,
    doc: "A `FROM` names an image with the `latest` tag, or with no tag at all (which means \
`latest`), and no digest.\n\n\
Why: `latest` follows every major release of the base image, so a rebuild can silently move to \
a new distribution or runtime version and break or weaken the image.\n\n\
Fix: name an explicit version (`FROM nginx:1.27-alpine`), ideally with its digest.\n\n\
Example: `FROM ubuntu` and `FROM ubuntu:latest` are reported; `FROM ubuntu:24.04` is not.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for (stage, image) in image_bases(context) {
        if image.is_latest() {
            out.push(CHECK.finding(
                context.at(stage.from_line),
                format!("Dockerfile {} FROM {}", stage.label(), stage.base),
                "name an explicit version tag for the base image",
            ));
        }
    }
}
