use super::rule_doc;

rule_doc! {
    RULE,
    code: "ADM-IMAGE-REGISTRY",
    title: "Image from a registry or repository the policy does not allow",
    severity: High,
    exemptable: true,
    doc: "A container's image is outside every pattern of `images.allowed.patterns`. Patterns \
are globs over `registry/repository` (`registry.example.com/**`, `ghcr.io/acme/*`; `*` stays \
within one path segment, `**` crosses them); an image without a registry is matched as the \
runtime pulls it, `nginx` as `docker.io/library/nginx`. Init, ephemeral and regular containers \
are all checked.\n\n\
Why: images from elsewhere skip the mirroring, scanning and signing the allowed registries \
guarantee.\n\n\
Fix: push the image to an allowed registry (copy it by digest), or widen the patterns.\n\n\
Example: with `patterns: [\"registry.example.com/**\"]`, `image: nginx:1.27` is denied.",
}
