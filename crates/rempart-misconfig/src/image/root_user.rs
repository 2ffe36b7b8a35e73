use rempart_core::{Finding, ImageContext};

use super::{config_location, has_config};
use crate::check::check_doc;

check_doc! {
    code: "IMG-ROOT-USER",
    title: "Image runs as root",
    severity: High,
    target: Image,
    doc: "The image config sets no `User`, or sets `root`, `0`, `0:0` or `root:<group>`, so \
containers run as root unless the orchestrator overrides it.\n\n\
Why: root in the container owns the whole filesystem of the container, keeps the default \
capabilities, and is root on the host after any container escape (without user namespaces).\n\n\
Fix: add a non-root user to the image and set it last: `USER 10001` (numeric, so Kubernetes \
`runAsNonRoot` can verify it). Images with no config at all (a root filesystem directory) are \
not checked.\n\n\
Example: an image built from a Dockerfile without `USER`.",
}

pub(crate) fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or("").trim();
    name.is_empty() || name == "root" || name == "0"
}

pub(super) fn run(image: &ImageContext<'_>, out: &mut Vec<Finding>) {
    if !has_config(image.metadata) {
        return;
    }
    let user = image.metadata.user.as_deref().unwrap_or("");
    if is_root(user) {
        let shown = if user.is_empty() { "no USER set" } else { user };
        out.push(CHECK.finding(
            config_location("user", None),
            format!("image config (user: {shown})"),
            "set a non-root USER (numeric UID) as the last user of the image",
        ));
    }
}
