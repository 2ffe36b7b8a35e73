use rempart_core::Finding;

use super::Context;
use super::model::get_str;
use crate::check::check_doc;
use crate::common::ImageRef;

check_doc! {
    code: "K8S-IMAGE-NOT-PINNED",
    title: "Container image not pinned by digest",
    severity: Low,
    target: Kubernetes,
    doc: "A container's `image` has no `@sha256:` digest.\n\n\
Why: a tag can be re-pointed; nodes pulling at different times then run different code, and \
what was scanned and approved is not necessarily what runs.\n\n\
Fix: `image: registry.example.com/app:1.4.2@sha256:<digest>`, updated by your release tooling.\n\n\
Example: `image: nginx:1.27`.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for object in &context.objects {
        let Some(pod) = object.pod() else { continue };
        for c in pod.containers() {
            let Some(image) = get_str(c.value, &["image"]) else {
                continue;
            };
            if ImageRef::parse(image).digest.is_none() {
                out.push(context.finding(
                    &CHECK,
                    object,
                    Some(&c.label()),
                    format!("pin {image} by digest"),
                ));
            }
        }
    }
}
