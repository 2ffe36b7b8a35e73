use super::rule_doc;

rule_doc! {
    RULE,
    code: "ADM-IMAGE-LATEST",
    title: "Image with the latest tag or no tag",
    severity: Medium,
    exemptable: true,
    doc: "A container's image has the `latest` tag, or no tag (which pulls `latest`), and no \
digest (`images.forbid_latest`).\n\n\
Why: `latest` changes under you: replicas started on different days run different code, and a \
rollback cannot return to the previous release.\n\n\
Fix: deploy an explicit version, ideally with its digest.\n\n\
Example: `image: redis` or `image: redis:latest`.",
}
