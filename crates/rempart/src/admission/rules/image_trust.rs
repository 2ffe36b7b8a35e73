use super::rule_doc;

rule_doc! {
    UNTRUSTED,
    code: "ADM-IMAGE-UNTRUSTED",
    title: "Image does not meet the trust policy",
    severity: Critical,
    exemptable: true,
    doc: "The image's signatures and attestations were verified against the trust policy \
(`images.trust`; the policy file is the server's `--trust-policy` or `rempart admit \
--trust-policy`) and a requirement of its rule is not met: no signature by a trusted key or \
identity, a required attestation missing or failing (SLSA provenance from another builder, no \
rempart verdict that passed), a base image not on the allow-list, or no rule for the \
repository under `default: deny`. The message lists each unmet requirement with the reason its \
evidence failed (wrong key, digest mismatch, expired certificate, identity mismatch, no log \
proof).\n\n\
Why: an image that nobody trusted signed may have been built or changed by anyone who could \
push to the registry.\n\n\
Fix: sign the image (and attach the attestations the rule requires) in the release pipeline, \
after its scan; `rempart verify IMAGE --policy TRUST_POLICY` shows the same requirements.\n\n\
Example: `registry.example.com/app@sha256:…`: `signature: no signature by a trusted signer \
verified (1 found: wrong key)`.",
}

rule_doc! {
    UNVERIFIED,
    code: "ADM-IMAGE-TRUST-UNKNOWN",
    title: "Image signatures could not be verified",
    severity: High,
    exemptable: true,
    doc: "The rule `images.trust` applies but the image's signatures could not be verified: \
the registry did not answer within the time budget, the tag could not be resolved, the image \
comes from a repository the policy does not allow (its signatures are then not fetched, so a pod \
cannot make the server contact any registry it names), or no trust policy was given. Trust is \
never assumed: the image is denied (or warned about, in `audit` mode).\n\n\
Why: a check that passes when the evidence cannot be read is a check an attacker turns off by \
making the registry slow.\n\n\
Fix: make the registry reachable from the server (or from `rempart admit`), give the trust \
policy, and deploy from an allowed repository; a retry decides again once the registry \
answers.\n\n\
Example: `the registry did not answer within the time budget`.",
}
