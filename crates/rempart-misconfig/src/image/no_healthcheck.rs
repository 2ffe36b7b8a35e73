use rempart_core::{Finding, ImageContext};

use super::{config_location, has_config};
use crate::check::check_doc;

check_doc! {
    code: "IMG-NO-HEALTHCHECK",
    title: "Image has no HEALTHCHECK",
    severity: Low,
    target: Image,
    doc: "The image config has no `Healthcheck`. An explicit `HEALTHCHECK NONE` is a choice and is \
not reported; images without a config are not checked.\n\n\
Why: Docker and Swarm cannot tell a hung process from a working one. Kubernetes ignores image \
health checks (it uses probes), hence LOW.\n\n\
Fix: `HEALTHCHECK CMD <probe> || exit 1` in the Dockerfile, or probes in the pod spec.\n\n\
Example: most images built without a HEALTHCHECK instruction.",
}

pub(super) fn run(image: &ImageContext<'_>, out: &mut Vec<Finding>) {
    if has_config(image.metadata) && image.metadata.healthcheck.is_none() {
        out.push(CHECK.finding(
            config_location("healthcheck", None),
            "image config",
            "add a HEALTHCHECK (or define probes where the image runs on Kubernetes)",
        ));
    }
}
