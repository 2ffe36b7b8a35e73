//! The trust policy: for each image repository pattern, who may sign (keys or keyless
//! identities), which attestations must be present and what they must say.
//!
//! ```yaml
//! trusted_root: sigstore-trusted-root.json   # optional: Sigstore's public-good root is built in
//! rules:
//!   - name: release
//!     images: ["registry.example.com/apps/**"]
//!     require_digest: true
//!     require_signature: true           # the default when signers are named
//!     signers:
//!       keys: [keys/release.pub]
//!       keyless:
//!         - issuer: https://token.actions.githubusercontent.com
//!           subject: "https://github.com/acme/*/.github/workflows/release.yml@refs/tags/*"
//!       transparency_log: required      # or optional (the default for keys)
//!     attestations:
//!       - type: slsa-provenance
//!         builders: ["https://github.com/actions/runner/*"]
//!         sources: ["git+https://github.com/acme/**"]
//!         refs: ["refs/heads/main", "refs/tags/*"]
//!       - type: rempart-verdict
//!         passed: true
//!         max_age_days: 7
//!     base_images: ["docker.io/library/debian:*"]
//! ```
//!
//! The first rule whose `images` pattern matches the image's repository decides; an image no
//! rule matches is untrusted (`default: deny`) unless the document says `default: allow`.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};
use serde::Deserialize;
use sigstore_verify::types::DerPublicKey;

use crate::TrustError;

/// The largest policy document read.
const MAX_POLICY_BYTES: u64 = 1024 * 1024;
/// The largest key or trusted-root file read.
const MAX_KEY_BYTES: u64 = 1024 * 1024;

/// The predicate types each attestation kind accepts.
pub const SLSA_PROVENANCE_TYPES: [&str; 2] = [
    "https://slsa.dev/provenance/v1",
    "https://slsa.dev/provenance/v0.2",
];
pub const CYCLONEDX_TYPES: [&str; 1] = ["https://cyclonedx.org/bom"];
pub const SPDX_TYPES: [&str; 1] = ["https://spdx.dev/Document"];
pub const VULN_TYPES: [&str; 2] = [
    "https://cosign.sigstore.dev/attestation/vuln/v1",
    "https://in-toto.io/attestation/vulns",
];
/// rempart's own verdict predicate (see [`crate::attest`]).
pub const VERDICT_PREDICATE: &str = "https://rempart.dev/attestation/verdict/v1";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    #[serde(default)]
    trusted_root: Option<PathBuf>,
    #[serde(default)]
    default: DefaultAction,
    #[serde(default)]
    rules: Vec<RawRule>,
}

/// What happens to an image no rule matches.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DefaultAction {
    #[default]
    Deny,
    Allow,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    images: Vec<String>,
    #[serde(default)]
    require_digest: bool,
    #[serde(default)]
    require_signature: Option<bool>,
    #[serde(default)]
    signers: Option<RawSigners>,
    #[serde(default)]
    attestations: Vec<RawAttestation>,
    #[serde(default)]
    base_images: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSigners {
    #[serde(default)]
    keys: Vec<PathBuf>,
    #[serde(default)]
    keyless: Vec<RawIdentity>,
    #[serde(default)]
    transparency_log: Option<TlogRequirement>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdentity {
    issuer: String,
    subject: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttestation {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    builders: Vec<String>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    refs: Vec<String>,
    #[serde(default)]
    passed: Option<bool>,
    #[serde(default)]
    max_age_days: Option<u32>,
}

/// Whether a signature must come with a verified transparency-log entry.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TlogRequirement {
    /// A log entry must be present and verify (offline, from the bundle's proof or promise).
    Required,
    /// An entry is verified when present; a signature without one is accepted. Suits keys used
    /// inside a company without a public log.
    Optional,
}

/// A loaded, checked trust policy.
#[derive(Debug)]
pub struct TrustPolicy {
    pub origin: PathBuf,
    /// The Sigstore trusted root for keyless signatures and log entries, as JSON.
    pub trusted_root_json: String,
    /// Whether the trusted root is the built-in public-good one.
    pub trusted_root_builtin: bool,
    pub default: DefaultAction,
    pub rules: Vec<TrustRule>,
}

/// One rule of the policy.
#[derive(Debug)]
pub struct TrustRule {
    pub name: String,
    pub images: Vec<(String, GlobMatcher)>,
    pub require_digest: bool,
    /// A verified signature of the image itself is required (the default when the rule names
    /// signers); `false` when the rule only asks for attestations.
    pub require_signature: bool,
    pub signers: Signers,
    pub attestations: Vec<AttestationRequirement>,
    pub base_images: Vec<(String, GlobMatcher)>,
}

/// Who may sign images a rule covers, and their attestations.
#[derive(Debug, Default)]
pub struct Signers {
    pub keys: Vec<TrustedKey>,
    pub keyless: Vec<KeylessIdentity>,
    pub tlog: Option<TlogRequirement>,
}

impl Signers {
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.keyless.is_empty()
    }

    /// The log requirement for key-based signatures: optional unless the rule says otherwise.
    pub fn key_tlog(&self) -> TlogRequirement {
        self.tlog.unwrap_or(TlogRequirement::Optional)
    }

    /// The log requirement for keyless signatures: a short-lived certificate means nothing
    /// without the log's proof of when it was used, so required unless the rule says otherwise.
    pub fn keyless_tlog(&self) -> TlogRequirement {
        self.tlog.unwrap_or(TlogRequirement::Required)
    }
}

/// A public key allowed to sign.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    /// The file it came from, to name it in reports.
    pub name: String,
    pub der: DerPublicKey,
}

/// A keyless identity allowed to sign: the OIDC issuer, and a glob on the certificate's
/// subject alternative name (an e-mail address or a workflow URI).
#[derive(Debug, Clone)]
pub struct KeylessIdentity {
    pub issuer: String,
    pub subject: String,
    pub subject_matcher: GlobMatcher,
}

impl KeylessIdentity {
    pub fn matches(&self, issuer: &str, subject: &str) -> bool {
        issuer == self.issuer && self.subject_matcher.is_match(subject)
    }
}

/// The kinds of attestation a rule can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttestationKind {
    SlsaProvenance,
    CycloneDx,
    Spdx,
    Vulnerabilities,
    RempartVerdict,
}

impl AttestationKind {
    pub fn name(self) -> &'static str {
        match self {
            AttestationKind::SlsaProvenance => "slsa-provenance",
            AttestationKind::CycloneDx => "cyclonedx",
            AttestationKind::Spdx => "spdx",
            AttestationKind::Vulnerabilities => "vuln",
            AttestationKind::RempartVerdict => "rempart-verdict",
        }
    }

    fn parse(text: &str) -> Option<AttestationKind> {
        Some(match text {
            "slsa-provenance" | "slsaprovenance" | "provenance" => AttestationKind::SlsaProvenance,
            "cyclonedx" => AttestationKind::CycloneDx,
            "spdx" | "spdxjson" => AttestationKind::Spdx,
            "vuln" | "vulnerabilities" => AttestationKind::Vulnerabilities,
            "rempart-verdict" => AttestationKind::RempartVerdict,
            _ => return None,
        })
    }

    /// Whether an in-toto predicate type is of this kind (versioned URIs included:
    /// `https://cyclonedx.org/bom/v1.6`).
    pub fn accepts(self, predicate_type: &str) -> bool {
        let prefixes: &[&str] = match self {
            AttestationKind::SlsaProvenance => &SLSA_PROVENANCE_TYPES,
            AttestationKind::CycloneDx => &CYCLONEDX_TYPES,
            AttestationKind::Spdx => &SPDX_TYPES,
            AttestationKind::Vulnerabilities => &VULN_TYPES,
            AttestationKind::RempartVerdict => &[VERDICT_PREDICATE],
        };
        prefixes.iter().any(|prefix| {
            predicate_type == *prefix
                || predicate_type
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    }
}

/// One attestation a rule requires, with what its predicate must say.
#[derive(Debug)]
pub struct AttestationRequirement {
    pub kind: AttestationKind,
    /// SLSA: allowed builder ids.
    pub builders: Vec<(String, GlobMatcher)>,
    /// SLSA: allowed source repositories (the resolved dependency's or the workflow's URI).
    pub sources: Vec<(String, GlobMatcher)>,
    /// SLSA: allowed source refs.
    pub refs: Vec<(String, GlobMatcher)>,
    /// rempart verdict: the verdict must have passed.
    pub passed: bool,
    /// rempart verdict: made at most this many days ago.
    pub max_age_days: Option<u32>,
}

impl TrustPolicy {
    /// Reads a policy file; keys and the trusted root are read relative to its directory.
    pub fn load(path: &Path) -> Result<TrustPolicy, TrustError> {
        let bytes = rempart_core::read_regular_file(path, MAX_POLICY_BYTES)
            .map_err(|e| TrustError::io(path, &e))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| TrustError::policy(path, "not UTF-8 text".to_owned()))?;
        TrustPolicy::parse(&text, path)
    }

    /// Parses a policy; `origin` names it in errors and anchors relative paths.
    pub fn parse(text: &str, origin: &Path) -> Result<TrustPolicy, TrustError> {
        let document: Document =
            serde_saphyr::from_str(text).map_err(|e| TrustError::policy(origin, e.to_string()))?;
        let base = origin.parent().unwrap_or(Path::new("."));
        let (trusted_root_json, trusted_root_builtin) = match &document.trusted_root {
            Some(file) => {
                let path = base.join(file);
                let bytes = rempart_core::read_regular_file(&path, 16 * MAX_KEY_BYTES)
                    .map_err(|e| TrustError::io(&path, &e))?;
                let json = String::from_utf8(bytes)
                    .map_err(|_| TrustError::policy(&path, "not UTF-8 text".to_owned()))?;
                (json, false)
            }
            None => (
                sigstore_verify::trust_root::SIGSTORE_PRODUCTION_TRUSTED_ROOT.to_owned(),
                true,
            ),
        };
        let mut rules = Vec::new();
        let mut names = std::collections::BTreeSet::new();
        for (index, raw) in document.rules.into_iter().enumerate() {
            let at = format!("rules[{index}] ({})", raw.name);
            if !names.insert(raw.name.clone()) {
                return Err(TrustError::policy(
                    origin,
                    format!("{at}: duplicate rule name"),
                ));
            }
            rules.push(compile_rule(raw, &at, base, origin)?);
        }
        Ok(TrustPolicy {
            origin: origin.to_owned(),
            trusted_root_json,
            trusted_root_builtin,
            default: document.default,
            rules,
        })
    }

    /// The rule for an image repository (`registry/repository`), the first that matches.
    pub fn rule_for(&self, repository: &str) -> Option<&TrustRule> {
        self.rules.iter().find(|rule| {
            rule.images
                .iter()
                .any(|(_, glob)| glob.is_match(repository))
        })
    }
}

fn compile_rule(
    raw: RawRule,
    at: &str,
    base: &Path,
    origin: &Path,
) -> Result<TrustRule, TrustError> {
    let invalid = |message: String| TrustError::policy(origin, format!("{at}: {message}"));
    if raw.images.is_empty() {
        return Err(invalid(
            "`images` is empty: the rule would match nothing".to_owned(),
        ));
    }
    let images = globs(&raw.images, "images", &invalid)?;
    let base_images = globs(&raw.base_images, "base_images", &invalid)?;
    let mut signers = Signers::default();
    if let Some(raw_signers) = raw.signers {
        for file in &raw_signers.keys {
            signers.keys.push(load_key(&base.join(file))?);
        }
        for identity in raw_signers.keyless {
            if identity.issuer.is_empty() || identity.subject.is_empty() {
                return Err(invalid(
                    "a keyless identity needs both `issuer` and `subject`".to_owned(),
                ));
            }
            let subject_matcher = glob(&identity.subject, "keyless.subject", &invalid)?;
            signers.keyless.push(KeylessIdentity {
                issuer: identity.issuer,
                subject: identity.subject,
                subject_matcher,
            });
        }
        signers.tlog = raw_signers.transparency_log;
    }
    let mut attestations = Vec::new();
    for raw_attestation in raw.attestations {
        let kind = AttestationKind::parse(&raw_attestation.kind).ok_or_else(|| {
            invalid(format!(
                "attestation type `{}` is not one of slsa-provenance, cyclonedx, spdx, vuln, \
                 rempart-verdict",
                raw_attestation.kind
            ))
        })?;
        let slsa_only = !raw_attestation.builders.is_empty()
            || !raw_attestation.sources.is_empty()
            || !raw_attestation.refs.is_empty();
        if slsa_only && kind != AttestationKind::SlsaProvenance {
            return Err(invalid(format!(
                "`builders`, `sources` and `refs` apply to slsa-provenance, not {}",
                kind.name()
            )));
        }
        if (raw_attestation.passed.is_some() || raw_attestation.max_age_days.is_some())
            && kind != AttestationKind::RempartVerdict
        {
            return Err(invalid(format!(
                "`passed` and `max_age_days` apply to rempart-verdict, not {}",
                kind.name()
            )));
        }
        attestations.push(AttestationRequirement {
            kind,
            builders: globs(&raw_attestation.builders, "builders", &invalid)?,
            sources: globs(&raw_attestation.sources, "sources", &invalid)?,
            refs: globs(&raw_attestation.refs, "refs", &invalid)?,
            passed: raw_attestation.passed.unwrap_or(true),
            max_age_days: raw_attestation.max_age_days,
        });
    }
    if signers.is_empty() && !attestations.is_empty() {
        return Err(invalid(
            "attestations are required but no signer is trusted to make them (add `signers`)"
                .to_owned(),
        ));
    }
    let require_signature = raw.require_signature.unwrap_or(!signers.is_empty());
    if require_signature && signers.is_empty() {
        return Err(invalid(
            "`require_signature` is true but no signer is trusted (add `signers`)".to_owned(),
        ));
    }
    Ok(TrustRule {
        name: raw.name,
        images,
        require_digest: raw.require_digest,
        require_signature,
        signers,
        attestations,
        base_images,
    })
}

fn globs(
    patterns: &[String],
    field: &str,
    invalid: &dyn Fn(String) -> TrustError,
) -> Result<Vec<(String, GlobMatcher)>, TrustError> {
    patterns
        .iter()
        .map(|pattern| Ok((pattern.clone(), glob(pattern, field, invalid)?)))
        .collect()
}

fn glob(
    pattern: &str,
    field: &str,
    invalid: &dyn Fn(String) -> TrustError,
) -> Result<GlobMatcher, TrustError> {
    // As in the admission policy: `*` stays within one path component, `**` crosses them.
    globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map(|glob: Glob| glob.compile_matcher())
        .map_err(|e| invalid(format!("{field}: `{pattern}`: {e}")))
}

/// Reads a PEM public key (SPKI, as `cosign generate-key-pair` and `openssl pkey -pubout`
/// write them) and checks that its algorithm is one signatures are verified with.
pub fn load_key(path: &Path) -> Result<TrustedKey, TrustError> {
    let bytes = rempart_core::read_regular_file(path, MAX_KEY_BYTES)
        .map_err(|e| TrustError::io(path, &e))?;
    let text =
        String::from_utf8(bytes).map_err(|_| TrustError::key(path, "not a PEM file".to_owned()))?;
    parse_key(&text, &path.display().to_string())
}

/// Parses a PEM public key named `name` in reports.
pub fn parse_key(pem: &str, name: &str) -> Result<TrustedKey, TrustError> {
    let der = DerPublicKey::from_pem(pem).map_err(|e| {
        TrustError::key(
            Path::new(name),
            format!("not a PEM public key (`-----BEGIN PUBLIC KEY-----`): {e}"),
        )
    })?;
    sigstore_verify::crypto::VerificationKey::from_spki(&der).map_err(|e| {
        TrustError::key(
            Path::new(name),
            format!("unsupported key (ECDSA P-256/P-384, Ed25519 or RSA): {e}"),
        )
    })?;
    Ok(TrustedKey {
        name: name.to_owned(),
        der,
    })
}
