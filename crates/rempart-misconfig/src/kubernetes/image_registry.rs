use rempart_core::Finding;

use super::Context;
use super::model::get_str;
use crate::check::check_doc;
use crate::common::ImageRef;

check_doc! {
    code: "K8S-IMAGE-REGISTRY",
    title: "Container image from a registry outside the allow list",
    severity: Medium,
    target: Kubernetes,
    doc: "A container's image comes from a registry (or registry path) that is not in the \
configured allow list. Off when the list is empty. Entries match a registry host \
(`registry.example.com`) or a host and path prefix (`ghcr.io/acme`); images without a registry \
are `docker.io` images.\n\n\
Why: images from arbitrary registries skip your mirroring, scanning and signing pipeline.\n\n\
Fix: mirror the image into an approved registry, or add the registry to the allow list.\n\n\
Example: with the list `[registry.example.com]`, `image: nginx:1.27` is reported.",
}

pub(crate) fn allowed(image: &str, allow: &[String]) -> bool {
    let parsed = ImageRef::parse(image);
    let full = format!("{}/{}", parsed.registry, parsed.repository);
    allow.iter().any(|entry| {
        let entry = entry.trim_end_matches('/');
        full == entry || full.starts_with(&format!("{entry}/"))
    })
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    let allow = &context.options.allowed_registries;
    if allow.is_empty() {
        return;
    }
    for object in &context.objects {
        let Some(pod) = object.pod() else { continue };
        for c in pod.containers() {
            let Some(image) = get_str(c.value, &["image"]) else {
                continue;
            };
            if !allowed(image, allow) {
                out.push(context.finding(
                    &CHECK,
                    object,
                    Some(&c.label()),
                    format!(
                        "{image} is not from an allowed registry ({})",
                        allow.join(", ")
                    ),
                ));
            }
        }
    }
}
