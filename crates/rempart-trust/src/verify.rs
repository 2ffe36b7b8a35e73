//! Checking what [`discover`](crate::discover) found, offline, and judging the image against
//! its trust rule.
//!
//! Each signature or attestation becomes one [`Evidence`]: verified, or the precise reason it
//! is not (digest mismatch, no trusted key verifies it, identity not allowed, certificate or
//! log proof rejected). The rule's requirements are then met, or not, by verified evidence
//! only.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use sigstore_verify::types::{Bundle, DsseEnvelope, SignatureBytes, SignatureContent};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, Verifier};

use crate::TrustError;
use crate::discover::{Found, Item, LegacyKeyless, discover};
use crate::policy::{
    AttestationKind, AttestationRequirement, DefaultAction, Signers, TlogRequirement, TrustPolicy,
    TrustRule,
};
use crate::statement::{SimpleSigning, Statement, provenance_images};
use crate::store::ArtifactStore;

/// Cosign's predicate type for an image signature made as a DSSE bundle.
const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";

/// The image being judged.
#[derive(Debug, Clone, Serialize)]
pub struct ImageSubject {
    /// The reference as given.
    pub reference: String,
    /// `registry/repository`, which rules match.
    pub repository: String,
    /// The digest of the manifest or index the reference names.
    pub digest: String,
    /// Whether the reference itself holds the digest (pinned).
    pub by_digest: bool,
    /// The base image as the image's annotations name it
    /// (`org.opencontainers.image.base.name` / `.base.digest`).
    pub base_name: Option<String>,
    pub base_digest: Option<String>,
}

/// What a piece of evidence claims to be.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EvidenceKind {
    Signature,
    Attestation { predicate_type: String },
    Unknown,
}

/// One signature or attestation and what its check found.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    #[serde(flatten)]
    pub kind: EvidenceKind,
    /// The storage format (`cosign simple signing`, `Sigstore bundle v0.3`, `DSSE envelope`).
    pub format: String,
    /// Where it was found.
    pub location: String,
    /// Who signed it, when verified: a key file, or `issuer subject` for keyless.
    pub signer: Option<String>,
    /// Whether a transparency-log entry was verified with it.
    pub transparency_log: bool,
    pub verified: bool,
    /// Why it is not verified.
    pub reason: Option<String>,
    #[serde(skip)]
    pub statement: Option<Statement>,
}

/// One requirement of the rule and whether the evidence meets it.
#[derive(Debug, Clone, Serialize)]
pub struct Requirement {
    /// The finding code reported when it is not met (see [`crate::findings`]).
    pub code: &'static str,
    pub name: String,
    pub met: bool,
    pub detail: String,
}

/// The overall answer.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TrustVerdict {
    /// Every requirement of the image's rule is met.
    Trusted,
    /// A requirement is not met, or no rule matches and the policy's default is deny.
    Untrusted,
}

/// The result of verifying one image.
#[derive(Debug, Clone, Serialize)]
pub struct TrustReport {
    pub image: ImageSubject,
    /// The rule that applied, if any.
    pub rule: Option<String>,
    pub verdict: TrustVerdict,
    pub requirements: Vec<Requirement>,
    pub evidence: Vec<Evidence>,
    /// How referrers were listed, and what was skipped.
    pub notes: Vec<String>,
}

impl TrustReport {
    pub fn trusted(&self) -> bool {
        self.verdict == TrustVerdict::Trusted
    }

    /// The unmet requirements, one line each: what a denial says.
    pub fn failures(&self) -> Vec<String> {
        self.requirements
            .iter()
            .filter(|r| !r.met)
            .map(|r| format!("{}: {}", r.name, r.detail))
            .collect()
    }
}

/// The verifier and the trusted root a policy needs, prepared once.
pub struct PreparedPolicy<'a> {
    pub policy: &'a TrustPolicy,
    verifier: Verifier,
}

impl<'a> PreparedPolicy<'a> {
    pub fn new(policy: &'a TrustPolicy) -> Result<PreparedPolicy<'a>, TrustError> {
        let root = sigstore_verify::trust_root::TrustedRoot::from_json(&policy.trusted_root_json)
            .map_err(|e| TrustError::policy(&policy.origin, format!("trusted root: {e}")))?;
        let verifier = Verifier::new(&root)
            .map_err(|e| TrustError::policy(&policy.origin, format!("trusted root: {e}")))?;
        Ok(PreparedPolicy { policy, verifier })
    }
}

/// Verifies the signatures and attestations of `image` (stored in `store`) against its rule.
pub fn verify_image(
    store: &dyn ArtifactStore,
    image: ImageSubject,
    prepared: &PreparedPolicy<'_>,
) -> Result<TrustReport, TrustError> {
    let Some(rule) = prepared.policy.rule_for(&image.repository) else {
        let allowed = prepared.policy.default == DefaultAction::Allow;
        return Ok(TrustReport {
            requirements: vec![Requirement {
                code: crate::findings::NO_RULE,
                name: "rule".to_owned(),
                met: allowed,
                detail: format!(
                    "no rule of the trust policy matches {}; the default is {}",
                    image.repository,
                    if allowed { "allow" } else { "deny" }
                ),
            }],
            image,
            rule: None,
            verdict: if allowed {
                TrustVerdict::Trusted
            } else {
                TrustVerdict::Untrusted
            },
            evidence: Vec::new(),
            notes: Vec::new(),
        });
    };
    let discovery = discover(store, &image.digest)?;
    let mut notes = discovery.notes;
    notes.insert(
        0,
        format!("referrers read from the {}", discovery.referrers_source),
    );
    let evidence: Vec<Evidence> = discovery
        .found
        .iter()
        .map(|found| check(found, &rule.signers, &image.digest, &prepared.verifier))
        .collect();
    let requirements = requirements(rule, &image, &evidence);
    let verdict = if requirements.iter().all(|r| r.met) {
        TrustVerdict::Trusted
    } else {
        TrustVerdict::Untrusted
    };
    Ok(TrustReport {
        image,
        rule: Some(rule.name.clone()),
        verdict,
        requirements,
        evidence,
        notes,
    })
}

fn requirements(rule: &TrustRule, image: &ImageSubject, evidence: &[Evidence]) -> Vec<Requirement> {
    let mut requirements = Vec::new();
    if rule.require_digest {
        requirements.push(Requirement {
            code: crate::findings::NOT_PINNED,
            name: "pinned digest".to_owned(),
            met: image.by_digest,
            detail: if image.by_digest {
                format!("referenced by digest {}", image.digest)
            } else {
                format!(
                    "`{}` is a tag; reference the image by digest ({}@{})",
                    image.reference, image.repository, image.digest
                )
            },
        });
    }
    if rule.require_signature {
        let signed: Vec<&Evidence> = evidence
            .iter()
            .filter(|e| e.verified && e.kind == EvidenceKind::Signature)
            .collect();
        // Unreadable items count here too: they may have been signatures.
        let failed: Vec<String> = evidence
            .iter()
            .filter(|e| !e.verified && !matches!(e.kind, EvidenceKind::Attestation { .. }))
            .map(|e| {
                format!(
                    "{}: {}",
                    e.location,
                    e.reason.as_deref().unwrap_or("not verified")
                )
            })
            .collect();
        requirements.push(Requirement {
            code: crate::findings::UNSIGNED,
            name: "signature".to_owned(),
            met: !signed.is_empty(),
            detail: match (signed.first(), failed.len()) {
                (Some(first), _) => format!(
                    "signed by {}",
                    first.signer.as_deref().unwrap_or("a trusted signer")
                ),
                (None, 0) => "no signature found".to_owned(),
                (None, n) => format!(
                    "no trusted signature: {n} found, none verified ({})",
                    failed.join("; ")
                ),
            },
        });
    }
    for requirement in &rule.attestations {
        requirements.push(attestation_requirement(requirement, evidence));
    }
    if !rule.base_images.is_empty() {
        requirements.push(base_image_requirement(rule, image, evidence));
    }
    requirements
}

/// Every image the image was built from must be on the allow-list: the base the manifest's
/// annotations name (covered by the image digest, so by its signature) and every container
/// image a verified SLSA provenance lists among its materials (other stages' images included:
/// what went into the build is what the list vets).
fn base_image_requirement(
    rule: &TrustRule,
    image: &ImageSubject,
    evidence: &[Evidence],
) -> Requirement {
    let mut named: Vec<(String, &str)> = Vec::new();
    match (&image.base_name, &image.base_digest) {
        (Some(name), Some(digest)) => named.push((format!("{name}@{digest}"), "annotation")),
        (Some(name), None) => named.push((name.clone(), "annotation")),
        _ => {}
    }
    for statement in evidence
        .iter()
        .filter(|e| e.verified)
        .filter_map(|e| match &e.kind {
            EvidenceKind::Attestation { predicate_type }
                if AttestationKind::SlsaProvenance.accepts(predicate_type) =>
            {
                e.statement.as_ref()
            }
            _ => None,
        })
    {
        for base in provenance_images(&statement.predicate_type, &statement.predicate) {
            if !named.iter().any(|(known, _)| *known == base) {
                named.push((base, "SLSA provenance"));
            }
        }
    }
    let (met, detail) = if named.is_empty() {
        (
            false,
            "the image names no base image (no org.opencontainers.image.base.name annotation, no \
             image among the materials of a verified SLSA provenance)"
                .to_owned(),
        )
    } else {
        let refused: Vec<String> = named
            .iter()
            .filter(|(base, _)| !rule.base_images.iter().any(|(_, glob)| glob.is_match(base)))
            .map(|(base, from)| format!("{base} (from the {from})"))
            .collect();
        if refused.is_empty() {
            let allowed: Vec<String> = named
                .iter()
                .map(|(base, from)| format!("{base} (from the {from})"))
                .collect();
            (true, format!("allowed: {}", allowed.join(", ")))
        } else {
            (
                false,
                format!("not on the allow-list: {}", refused.join(", ")),
            )
        }
    };
    Requirement {
        code: crate::findings::BASE_IMAGE,
        name: "base image".to_owned(),
        met,
        detail,
    }
}

fn attestation_requirement(
    requirement: &AttestationRequirement,
    evidence: &[Evidence],
) -> Requirement {
    let name = format!("attestation {}", requirement.kind.name());
    let mut candidates: Vec<&Evidence> = evidence
        .iter()
        .filter(|e| match &e.kind {
            EvidenceKind::Attestation { predicate_type } => {
                requirement.kind.accepts(predicate_type)
            }
            _ => false,
        })
        .collect();
    if requirement.kind == AttestationKind::RempartVerdict {
        // Only the newest verified verdict counts: an older "passed" must not outvote a newer
        // "failed" (a rescan with new advisories), so the others are set aside.
        let newest = candidates
            .iter()
            .filter(|e| e.verified)
            .filter_map(|e| Some((verdict_date(e.statement.as_ref()?)?, e.location.clone())))
            .max();
        if let Some((_, location)) = newest {
            candidates.retain(|e| !e.verified || e.location == location);
        }
    }
    let mut reasons = Vec::new();
    for candidate in &candidates {
        if !candidate.verified {
            reasons.push(format!(
                "{}: {}",
                candidate.location,
                candidate.reason.as_deref().unwrap_or("not verified")
            ));
            continue;
        }
        let Some(statement) = &candidate.statement else {
            continue;
        };
        match predicate_meets(requirement, statement) {
            Ok(detail) => {
                return Requirement {
                    code: crate::findings::ATTESTATION,
                    name,
                    met: true,
                    detail: format!(
                        "{detail}; signed by {}",
                        candidate.signer.as_deref().unwrap_or("a trusted signer")
                    ),
                };
            }
            Err(reason) => reasons.push(format!("{}: {reason}", candidate.location)),
        }
    }
    Requirement {
        code: crate::findings::ATTESTATION,
        name,
        met: false,
        detail: if candidates.is_empty() {
            "none found".to_owned()
        } else {
            reasons.join("; ")
        },
    }
}

/// When a verdict statement says its scan ran.
fn verdict_date(statement: &Statement) -> Option<time::OffsetDateTime> {
    let text = statement.predicate.get("scanned_at")?.as_str()?;
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// Whether a verified statement says what the requirement asks.
fn predicate_meets(
    requirement: &AttestationRequirement,
    statement: &Statement,
) -> Result<String, String> {
    let predicate = &statement.predicate;
    match requirement.kind {
        AttestationKind::SlsaProvenance => {
            let slsa =
                crate::statement::SlsaFacts::from_predicate(&statement.predicate_type, predicate);
            let check =
                |what: &str, value: Option<&str>, allowed: &[(String, globset::GlobMatcher)]| {
                    if allowed.is_empty() {
                        return Ok(());
                    }
                    let Some(value) = value else {
                        return Err(format!("the provenance names no {what}"));
                    };
                    if allowed.iter().any(|(_, glob)| glob.is_match(value)) {
                        Ok(())
                    } else {
                        Err(format!("{what} `{value}` is not allowed"))
                    }
                };
            check("builder", slsa.builder.as_deref(), &requirement.builders)?;
            check("source", slsa.source.as_deref(), &requirement.sources)?;
            check("source ref", slsa.source_ref.as_deref(), &requirement.refs)?;
            Ok(format!(
                "SLSA provenance: builder {}, source {}{}",
                slsa.builder.as_deref().unwrap_or("-"),
                slsa.source.as_deref().unwrap_or("-"),
                slsa.source_ref
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ))
        }
        AttestationKind::RempartVerdict => {
            let verdict: crate::attest::VerdictPredicate =
                serde_json::from_value(predicate.clone())
                    .map_err(|e| format!("the verdict predicate does not parse: {e}"))?;
            if requirement.passed && !verdict.passed {
                return Err(format!(
                    "the verdict under policy `{}` failed ({})",
                    verdict.policy,
                    verdict.counts_text()
                ));
            }
            if let Some(days) = requirement.max_age_days {
                let made = time::OffsetDateTime::parse(
                    &verdict.scanned_at,
                    &time::format_description::well_known::Rfc3339,
                )
                .map_err(|_| {
                    format!("the verdict's date `{}` does not parse", verdict.scanned_at)
                })?;
                let age = time::OffsetDateTime::now_utc() - made;
                if age > time::Duration::days(i64::from(days)) {
                    return Err(format!(
                        "the verdict is {} days old, over {days}",
                        age.whole_days()
                    ));
                }
            }
            Ok(format!(
                "rempart verdict {} under policy `{}` on {}",
                if verdict.passed { "passed" } else { "failed" },
                verdict.policy,
                verdict.scanned_at
            ))
        }
        AttestationKind::CycloneDx | AttestationKind::Spdx | AttestationKind::Vulnerabilities => {
            Ok(format!("{} attestation", statement.predicate_type))
        }
    }
}

/// Checks one found item against the signers.
fn check(found: &Found, signers: &Signers, digest: &str, verifier: &Verifier) -> Evidence {
    let mut evidence = Evidence {
        kind: EvidenceKind::Unknown,
        format: String::new(),
        location: found.location.clone(),
        signer: None,
        transparency_log: false,
        verified: false,
        reason: None,
        statement: None,
    };
    let outcome = match &found.item {
        Item::Unreadable { reason } => {
            "unreadable".clone_into(&mut evidence.format);
            Err(reason.clone())
        }
        Item::SimpleSigning {
            payload,
            signature,
            keyless,
        } => {
            evidence.kind = EvidenceKind::Signature;
            "cosign simple signing".clone_into(&mut evidence.format);
            SimpleSigning::check(payload, digest).and_then(|_| {
                check_legacy(
                    payload,
                    signature,
                    None,
                    keyless.as_ref(),
                    signers,
                    verifier,
                )
            })
        }
        Item::Envelope { json, keyless } => {
            "DSSE envelope".clone_into(&mut evidence.format);
            check_envelope(
                json,
                keyless.as_ref(),
                signers,
                digest,
                verifier,
                &mut evidence,
            )
        }
        Item::Bundle { json } => check_bundle(json, signers, digest, verifier, &mut evidence),
    };
    match outcome {
        Ok((signer, tlog)) => {
            evidence.verified = true;
            evidence.signer = Some(signer);
            evidence.transparency_log = tlog;
        }
        Err(reason) => evidence.reason = Some(reason),
    }
    evidence
}

type Outcome = Result<(String, bool), String>;

fn check_envelope(
    json: &[u8],
    keyless: Option<&LegacyKeyless>,
    signers: &Signers,
    digest: &str,
    verifier: &Verifier,
    evidence: &mut Evidence,
) -> Outcome {
    let envelope: DsseEnvelope = serde_json::from_slice(json)
        .map_err(|e| format!("the DSSE envelope does not parse: {e}"))?;
    record_statement(&envelope, digest, evidence)?;
    let signature = envelope.signature.sig.to_base64();
    check_legacy(
        &envelope.pae(),
        &signature,
        Some(&envelope),
        keyless,
        signers,
        verifier,
    )
}

/// Parses an envelope's statement into `evidence`, refusing one about another image: a valid
/// signature over a statement about another digest says nothing about this one.
fn record_statement(
    envelope: &DsseEnvelope,
    digest: &str,
    evidence: &mut Evidence,
) -> Result<(), String> {
    let statement = Statement::parse(&envelope.payload_type, envelope.payload.as_bytes())?;
    evidence.kind = kind_of(&statement);
    if !statement.names_digest(digest) {
        return Err(format!(
            "subject mismatch: the statement is about {}, not this image",
            statement.subject_digests()
        ));
    }
    evidence.statement = Some(statement);
    Ok(())
}

fn kind_of(statement: &Statement) -> EvidenceKind {
    if statement.predicate_type == COSIGN_SIGN_PREDICATE {
        EvidenceKind::Signature
    } else {
        EvidenceKind::Attestation {
            predicate_type: statement.predicate_type.clone(),
        }
    }
}

/// A signature stored the way cosign stores it in tags: over `signed` (the simple-signing
/// payload, or the envelope's pre-authentication encoding), the certificate and log promise in
/// annotations. With a log promise or a certificate it is turned into the equivalent Sigstore
/// bundle (v0.1, which carries exactly those parts) so that Sigstore's verifier checks the
/// chain, the promise and the body's consistency; otherwise the signature is checked with each
/// trusted key.
fn check_legacy(
    signed: &[u8],
    signature_b64: &str,
    envelope: Option<&DsseEnvelope>,
    keyless: Option<&LegacyKeyless>,
    signers: &Signers,
    verifier: &Verifier,
) -> Outcome {
    let signature = SignatureBytes::from_base64(signature_b64.trim())
        .map_err(|e| format!("the signature is not base64: {e}"))?;
    if let Some(keyless) = keyless {
        let bundle = legacy_bundle(signed, signature_b64, envelope, keyless)?;
        let payload = match envelope {
            Some(envelope) => envelope.payload.as_bytes(),
            None => signed,
        };
        return verify_keyless(&bundle, payload, signers, verifier);
    }
    // Key-based. A log entry cosign may have stored beside it (its bundle annotation without a
    // certificate) is not read: the signature counts as one without a log entry.
    if signers.keys.is_empty() {
        return Err("signed with a key, and the rule trusts no key".to_owned());
    }
    if signers.key_tlog() == TlogRequirement::Required {
        return Err("no transparency-log entry, and the rule requires one".to_owned());
    }
    for key in &signers.keys {
        if verify_with_key(&key.der, signed, &signature) {
            return Ok((format!("key {}", key.name), false));
        }
    }
    Err(format!(
        "wrong key: the signature does not verify with any trusted key ({})",
        key_names(signers)
    ))
}

pub(crate) fn verify_with_key(
    der: &sigstore_verify::types::DerPublicKey,
    data: &[u8],
    signature: &SignatureBytes,
) -> bool {
    use sigstore_verify::crypto::{KeyAlgorithm, SigningScheme, VerificationKey};
    let Ok(key) = VerificationKey::from_spki(der) else {
        return false;
    };
    if key.verify(data, signature).is_ok() {
        return true;
    }
    // RSA keys sign with PKCS#1 v1.5 by default in cosign; some signers use PSS.
    if KeyAlgorithm::from_spki(der).is_ok_and(|a| a == KeyAlgorithm::Rsa) {
        for scheme in [SigningScheme::RsaPssSha256, SigningScheme::RsaPkcs1Sha512] {
            if VerificationKey::from_spki_with_scheme(der, scheme)
                .is_ok_and(|k| k.verify(data, signature).is_ok())
            {
                return true;
            }
        }
    }
    false
}

fn key_names(signers: &Signers) -> String {
    let names: Vec<&str> = signers.keys.iter().map(|k| k.name.as_str()).collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// Builds the Sigstore bundle equivalent to a cosign tag signature with a certificate.
fn legacy_bundle(
    signed: &[u8],
    signature_b64: &str,
    envelope: Option<&DsseEnvelope>,
    keyless: &LegacyKeyless,
) -> Result<Bundle, String> {
    let mut certificates = Vec::new();
    for pem in std::iter::once(keyless.certificate_pem.as_str()).chain(keyless.chain_pem.as_deref())
    {
        for block in split_pem(pem) {
            let der = sigstore_verify::types::DerCertificate::from_pem(&block)
                .map_err(|e| format!("the certificate annotation is not PEM: {e}"))?;
            certificates.push(serde_json::json!({ "rawBytes": der.to_base64() }));
        }
    }
    let mut tlog_entries = Vec::new();
    if let Some(rekor) = keyless.rekor_bundle.as_deref() {
        let parsed: serde_json::Value = serde_json::from_str(rekor)
            .map_err(|e| format!("the transparency-log annotation does not parse: {e}"))?;
        let payload = &parsed["Payload"];
        let body_b64 = payload["body"]
            .as_str()
            .ok_or("the log entry has no body")?;
        let body: serde_json::Value = STANDARD
            .decode(body_b64)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or("the log entry's body is not base64 JSON")?;
        let log_id = payload["logID"]
            .as_str()
            .ok_or("the log entry has no logID")?;
        let log_id = hex::decode(log_id).map_err(|_| "the log entry's logID is not hex")?;
        tlog_entries.push(serde_json::json!({
            "logIndex": payload["logIndex"].as_i64().unwrap_or_default().to_string(),
            "logId": { "keyId": STANDARD.encode(log_id) },
            "kindVersion": { "kind": body["kind"], "version": body["apiVersion"] },
            "integratedTime": payload["integratedTime"].as_i64().unwrap_or_default().to_string(),
            "inclusionPromise": { "signedEntryTimestamp": parsed["SignedEntryTimestamp"] },
            "canonicalizedBody": body_b64,
        }));
    }
    let mut bundle = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
        "verificationMaterial": {
            "x509CertificateChain": { "certificates": certificates },
            "tlogEntries": tlog_entries,
        },
    });
    if let Some(envelope) = envelope {
        bundle["dsseEnvelope"] = serde_json::to_value(envelope).map_err(|e| e.to_string())?;
    } else {
        use sha2::Digest as _;
        bundle["messageSignature"] = serde_json::json!({
            "messageDigest": {
                "algorithm": "SHA2_256",
                "digest": STANDARD.encode(sha2::Sha256::digest(signed)),
            },
            "signature": signature_b64.trim(),
        });
    }
    Bundle::from_json(&bundle.to_string()).map_err(|e| format!("cannot form a bundle: {e}"))
}

fn split_pem(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        current.push_str(line);
        current.push('\n');
        if line.starts_with("-----END ") {
            blocks.push(std::mem::take(&mut current));
        }
    }
    blocks
}

fn check_bundle(
    json: &[u8],
    signers: &Signers,
    digest: &str,
    verifier: &Verifier,
    evidence: &mut Evidence,
) -> Outcome {
    let text = std::str::from_utf8(json).map_err(|_| "the bundle is not UTF-8".to_owned())?;
    let bundle = Bundle::from_json(text).map_err(|e| format!("the bundle does not parse: {e}"))?;
    evidence.format = format!("Sigstore bundle ({})", bundle.media_type().as_str());
    match &bundle.content {
        SignatureContent::DsseEnvelope(envelope) => record_statement(envelope, digest, evidence)?,
        SignatureContent::MessageSignature(_) => evidence.kind = EvidenceKind::Signature,
        #[allow(unreachable_patterns)]
        _ => return Err("unsupported bundle content".to_owned()),
    }
    let artifact = sigstore_verify::types::Sha256Hash::from_hex(
        digest.strip_prefix("sha256:").unwrap_or(digest),
    )
    .map_err(|e| format!("bad image digest: {e}"))?;
    if bundle.signing_certificate().is_some() {
        return verify_keyless(&bundle, artifact, signers, verifier);
    }
    if signers.keys.is_empty() {
        return Err("signed with a key, and the rule trusts no key".to_owned());
    }
    let has_log = !bundle.verification_material.tlog_entries.is_empty();
    if !has_log && signers.key_tlog() == TlogRequirement::Required {
        return Err("no transparency-log entry, and the rule requires one".to_owned());
    }
    let mut errors = Vec::new();
    for key in &signers.keys {
        let mut policy = PublicKeyVerificationPolicy::new(key.der.clone());
        if !has_log {
            policy = policy.skip_tlog_unsafe();
        }
        match verifier.verify(artifact, &bundle, &policy) {
            Ok(_) => return Ok((format!("key {}", key.name), has_log)),
            Err(error) => errors.push(error),
        }
    }
    // One key: its own reason. Several: a signature error from each is "wrong key"; anything
    // else (a log proof that fails) is the same for every key, so say it once.
    let first = errors.remove(0);
    match first {
        sigstore_verify::Error::SignatureInvalid(_) => Err(format!(
            "wrong key: the signature does not verify with any trusted key ({})",
            key_names(signers)
        )),
        other => Err(other.to_string()),
    }
}

fn verify_keyless<'a>(
    bundle: &Bundle,
    artifact: impl Into<sigstore_verify::types::Artifact<'a>>,
    signers: &Signers,
    verifier: &Verifier,
) -> Outcome {
    if signers.keyless.is_empty() {
        return Err(
            "signed with a certificate (keyless), and the rule trusts no keyless identity"
                .to_owned(),
        );
    }
    let has_log = !bundle.verification_material.tlog_entries.is_empty();
    if !has_log && signers.keyless_tlog() == TlogRequirement::Required {
        return Err("no log proof: the keyless signature has no transparency-log entry".to_owned());
    }
    let mut policy = VerificationPolicy::any_identity();
    if !has_log {
        policy = policy.skip_tlog_unsafe();
    }
    let result = verifier
        .verify(artifact, bundle, &policy)
        .map_err(|e| e.to_string())?;
    let subject = result
        .identity()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    let issuer = result.issuer().unwrap_or_default().to_owned();
    if signers
        .keyless
        .iter()
        .any(|id| id.matches(&issuer, &subject))
    {
        Ok((format!("{issuer} {subject}"), has_log))
    } else {
        let allowed: Vec<String> = signers
            .keyless
            .iter()
            .map(|id| format!("{} {}", id.issuer, id.subject))
            .collect();
        Err(format!(
            "identity mismatch: signed by {issuer} {subject}, the rule allows {}",
            allowed.join(" or ")
        ))
    }
}
