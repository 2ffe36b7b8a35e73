use super::rule_doc;

rule_doc! {
    RULE,
    code: "ADM-IMAGE-NOT-PINNED",
    title: "Image not pinned by digest",
    severity: Medium,
    exemptable: true,
    doc: "A container's image names no `@sha256:` digest (`images.require_digest`). A tag is \
a pointer the registry may move: the image that runs may not be the one that was scanned and \
judged.\n\n\
Why: verdicts are about digests; only a pinned reference ties what runs to what was vetted.\n\n\
Fix: deploy `registry.example.com/app:1.2@sha256:…` (`rempart image` and `crane digest` print \
the digest).\n\n\
Example: `image: registry.example.com/app:1.2`.",
}
