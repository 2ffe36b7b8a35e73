use rempart_core::Finding;

use super::Context;
use super::model::get_str;
use crate::check::check_doc;
use crate::common::ImageRef;

check_doc! {
    code: "K8S-IMAGE-LATEST",
    title: "Container image uses the latest tag or no tag",
    severity: Medium,
    target: Kubernetes,
    doc: "A container's `image` has the `latest` tag or no tag, and no digest.\n\n\
Why: `latest` changes under you; rollbacks cannot return to the previous version and different \
replicas may run different releases.\n\n\
Fix: deploy an explicit version tag, ideally with its digest.\n\n\
Example: `image: redis` or `image: redis:latest`.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for object in &context.objects {
        let Some(pod) = object.pod() else { continue };
        for c in pod.containers() {
            let Some(image) = get_str(c.value, &["image"]) else {
                continue;
            };
            if ImageRef::parse(image).is_latest() {
                out.push(context.finding(
                    &CHECK,
                    object,
                    Some(&c.label()),
                    format!("deploy an explicit version of {image}"),
                ));
            }
        }
    }
}
