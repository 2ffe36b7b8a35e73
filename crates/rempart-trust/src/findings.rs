//! Unmet trust requirements as findings, so that the scan gate, ignores and every report
//! format treat them like any other finding; and the documentation of each code.

use rempart_core::{Finding, FindingDetails, Location, ScannerKind, Severity};

use crate::verify::TrustReport;

pub const NO_RULE: &str = "TRUST-NO-RULE";
pub const NOT_PINNED: &str = "TRUST-NOT-PINNED";
pub const UNSIGNED: &str = "TRUST-UNSIGNED";
pub const ATTESTATION: &str = "TRUST-ATTESTATION";
pub const BASE_IMAGE: &str = "TRUST-BASE-IMAGE";

/// A trust rule's code, severity, title and documentation.
pub struct TrustRuleDoc {
    pub code: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    pub doc: &'static str,
}

pub const TRUST_RULES: [TrustRuleDoc; 5] = [
    TrustRuleDoc {
        code: NO_RULE,
        severity: Severity::High,
        title: "No rule of the trust policy covers the image",
        doc: "The trust policy's rules list which repositories they cover (`images` patterns); \
              none matches this image's repository and the policy's `default` is `deny`, so \
              nothing says who may publish it.\n\n\
              Fix: add a rule for the repository, naming the keys or keyless identities that \
              sign its images; or, if images there need no signature, a rule without signers.",
    },
    TrustRuleDoc {
        code: NOT_PINNED,
        severity: Severity::Medium,
        title: "Image referenced by tag, not by digest",
        doc: "The rule sets `require_digest: true` and the image was named by a tag. A tag can \
              be moved to other content at any time; what was verified today is not what a \
              node pulls tomorrow.\n\n\
              Fix: reference the image as `repository@sha256:…` (the report gives the digest \
              the tag names now); `rempart server` with `--admission-mutate` pins tags of \
              images that pass.",
    },
    TrustRuleDoc {
        code: UNSIGNED,
        severity: Severity::High,
        title: "No trusted signature on the image",
        doc: "The rule requires a signature from one of its signers (keys or keyless \
              identities) and none verified. The reason lists every signature found and why it \
              did not count: a digest mismatch (it signs another image), a wrong key, an \
              identity the rule does not allow, an expired certificate, or a transparency-log \
              entry or proof that does not verify. Signatures are looked for under cosign's \
              `sha256-<digest>.sig` tag and among the image's OCI referrers (the referrers API, \
              or the `sha256-<digest>` tag on registries without it).\n\n\
              Fix: sign the image digest with a trusted key or identity (cosign sign, or a \
              Sigstore signer), or add the signer to the rule if it is trusted.",
    },
    TrustRuleDoc {
        code: ATTESTATION,
        severity: Severity::High,
        title: "A required attestation is missing or not trusted",
        doc: "The rule requires an attestation (SLSA provenance, a CycloneDX or SPDX SBOM, a \
              vulnerability scan, or rempart's own verdict) signed by one of its signers, about \
              this image's digest, saying what the rule asks: an allowed builder, source \
              repository and ref for provenance; a passed verdict, recent enough, for \
              rempart's verdict (only the newest verdict counts). The reason names each \
              candidate and why it did not count.\n\n\
              Fix: attach the attestation from the build (`cosign attest`, GitHub's \
              attest-build-provenance, `rempart attest` for the verdict), signed by a trusted \
              signer, for the digest that is deployed.",
    },
    TrustRuleDoc {
        code: BASE_IMAGE,
        severity: Severity::High,
        title: "Base image not on the allow-list",
        doc: "The rule lists allowed base images (`base_images`, globs over \
              `registry/repository:tag@digest`) and an image the build used is not on it, or the \
              image names none. What names them: the OCI annotations \
              `org.opencontainers.image.base.name` and `.base.digest` (BuildKit writes them; \
              they are part of the manifest, so of what its signature covers), and the container \
              images among the materials (`pkg:docker/…`) of a verified SLSA provenance, every \
              build stage's image included: a compiler image is code that ran in the build.\n\n\
              Fix: build from allowed images, and let the builder record them (BuildKit's \
              annotations, its provenance attestation signed by a trusted key).",
    },
];

fn rule(code: &str) -> &'static TrustRuleDoc {
    TRUST_RULES
        .iter()
        .find(|rule| rule.code == code)
        .unwrap_or(&TRUST_RULES[0])
}

impl TrustReport {
    /// One finding per unmet requirement, located at the image reference.
    pub fn findings(&self) -> Vec<Finding> {
        self.requirements
            .iter()
            .filter(|requirement| !requirement.met)
            .map(|requirement| {
                let doc = rule(requirement.code);
                Finding {
                    scanner: ScannerKind::Trust,
                    id: requirement.code.to_owned(),
                    title: if requirement.code == ATTESTATION {
                        format!("{} ({})", doc.title, requirement.name)
                    } else {
                        doc.title.to_owned()
                    },
                    severity: doc.severity,
                    location: Location {
                        path: self.image.reference.clone(),
                        ..Location::default()
                    },
                    details: FindingDetails::Trust {
                        rule: self.rule.clone(),
                        reason: requirement.detail.clone(),
                    },
                    primary_url: None,
                }
            })
            .collect()
    }
}
