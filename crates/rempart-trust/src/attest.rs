//! Signing what rempart vetted: an in-toto statement about the image (rempart's verdict, or an
//! SBOM) in a DSSE envelope, attached to the image as an OCI 1.1 referrer, with the referrers
//! tag for registries without the API. Admission and `rempart verify` then trust "vetted by
//! rempart, passed" offline.
//!
//! The envelope is stored as is (the layer format of cosign's attestations), not in a Sigstore
//! bundle: a bundle must carry a transparency-log entry or a timestamp, and a signature made
//! with a company key offline has neither.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use sigstore_verify::crypto::KeyPair;
use sigstore_verify::types::SignatureBytes;

use crate::TrustError;
use crate::statement::{IN_TOTO_PAYLOAD_TYPE, Statement, Subject};

/// The media type of the envelopes rempart attaches.
pub const DSSE_ENVELOPE: &str = crate::discover::DSSE_ENVELOPE;
/// The artifact type of the referrer manifests rempart attaches.
pub const IN_TOTO_ARTIFACT: &str = "application/vnd.in-toto+json";
/// OCI's empty config, for artifacts whose manifest needs a config but has none.
const EMPTY_CONFIG_TYPE: &str = "application/vnd.oci.empty.v1+json";

/// A private key rempart signs with. The key material never leaves this type: it has no
/// `Debug` output of its contents and is never logged.
pub struct SigningKey {
    pair: KeyPair,
    /// The public key, to name it (a hint in the bundle) and to verify with.
    public_pem: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(***)")
    }
}

impl SigningKey {
    /// Reads a PKCS#8 PEM private key (`openssl genpkey -algorithm EC -pkeyopt
    /// ec_paramgen_curve:P-256`), from a file.
    pub fn from_file(path: &Path) -> Result<SigningKey, TrustError> {
        let bytes = rempart_core::read_regular_file(path, 64 * 1024)
            .map_err(|e| TrustError::io(path, &e))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| TrustError::key(path, "not PEM text".to_owned()))?;
        SigningKey::from_pem(&text, &path.display().to_string())
    }

    /// Parses a PKCS#8 PEM private key; `origin` names it in errors (a file or a variable).
    pub fn from_pem(pem: &str, origin: &str) -> Result<SigningKey, TrustError> {
        let origin_path = Path::new(origin);
        if pem.contains("ENCRYPTED") {
            return Err(TrustError::key(
                origin_path,
                "an encrypted private key; give an unencrypted PKCS#8 key (`openssl pkcs8 \
                 -topk8 -nocrypt`) through a file only rempart can read, or an environment \
                 variable"
                    .to_owned(),
            ));
        }
        let der = pem_block(pem, "PRIVATE KEY").ok_or_else(|| {
            TrustError::key(
                origin_path,
                "no `-----BEGIN PRIVATE KEY-----` block (a PKCS#8 key)".to_owned(),
            )
        })?;
        let pair = KeyPair::from_pkcs8_der(&der).map_err(|e| {
            TrustError::key(
                origin_path,
                format!("not an ECDSA P-256 PKCS#8 private key: {e}"),
            )
        })?;
        let public_pem = pair
            .public_key_der()
            .map_err(|e| {
                TrustError::key(origin_path, format!("cannot derive the public key: {e}"))
            })?
            .to_pem();
        Ok(SigningKey { pair, public_pem })
    }

    /// The public key, PEM: what verifiers put in their trust policy.
    pub fn public_key_pem(&self) -> &str {
        &self.public_pem
    }

    /// Signs `data` (ECDSA P-256 over its SHA-256, as cosign does).
    pub(crate) fn sign(&self, data: &[u8]) -> Result<SignatureBytes, TrustError> {
        self.pair
            .sign(data)
            .map_err(|e| TrustError::invalid("signing key", format!("signing failed: {e}")))
    }

    /// Whether `signature_b64` is this key's signature of `data`.
    pub(crate) fn verifies(&self, data: &[u8], signature_b64: &str) -> bool {
        let (Ok(public), Ok(signature)) = (
            self.pair.public_key_der(),
            SignatureBytes::from_base64(signature_b64.trim()),
        ) else {
            return false;
        };
        crate::verify::verify_with_key(&public, data, &signature)
    }

    /// A hint naming the key: the SHA-256 of its public key, hex.
    pub fn hint(&self) -> String {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(self.public_pem.as_bytes()))
    }
}

fn pem_block(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    let body: String = text[start..stop].split_whitespace().collect();
    STANDARD.decode(body).ok()
}

/// rempart's verdict on an image, as an attestation predicate
/// ([`VERDICT_PREDICATE`](crate::policy::VERDICT_PREDICATE)).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct VerdictPredicate {
    pub scanner: ScannerInfo,
    /// The scan policy's name, and its version when it came from the server.
    pub policy: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<String>,
    /// The vulnerability database's snapshot date, when one was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_snapshot: Option<String>,
    /// Whether the image passed the policy's gate.
    pub passed: bool,
    /// Findings over the gate, by severity.
    pub counts: BTreeMap<String, u64>,
    /// The digest of the full JSON report the verdict summarises.
    pub report_digest: String,
    /// When the scan ran (RFC 3339).
    pub scanned_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ScannerInfo {
    pub name: String,
    pub version: String,
}

impl VerdictPredicate {
    /// `2 critical, 1 high` (or `no findings`).
    pub fn counts_text(&self) -> String {
        let parts: Vec<String> = self
            .counts
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(severity, n)| format!("{n} {severity}"))
            .collect();
        if parts.is_empty() {
            "no findings".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

/// What to attach.
pub struct AttestOptions<'a> {
    /// `registry/repository`, the statement's subject name.
    pub subject_name: &'a str,
    /// The image manifest's digest.
    pub subject_digest: &'a str,
    /// The subject manifest's media type and size, for the referrer's `subject` descriptor.
    pub subject_media_type: &'a str,
    pub subject_size: i64,
    pub predicate_type: &'a str,
    pub predicate: serde_json::Value,
}

/// Builds the in-toto statement for `options`.
pub fn statement(options: &AttestOptions<'_>) -> Statement {
    let hex = options
        .subject_digest
        .strip_prefix("sha256:")
        .unwrap_or(options.subject_digest);
    Statement {
        statement_type: "https://in-toto.io/Statement/v1".to_owned(),
        subject: vec![Subject {
            name: options.subject_name.to_owned(),
            digest: BTreeMap::from([("sha256".to_owned(), hex.to_owned())]),
        }],
        predicate_type: options.predicate_type.to_owned(),
        predicate: options.predicate.clone(),
    }
}

/// Signs `statement` and returns the DSSE envelope (JSON) holding it.
pub fn sign_statement(statement: &Statement, key: &SigningKey) -> Result<Vec<u8>, TrustError> {
    let payload = serde_json::to_vec(statement)
        .map_err(|e| TrustError::invalid("statement", e.to_string()))?;
    let pae = sigstore_verify::types::pae(IN_TOTO_PAYLOAD_TYPE, &payload);
    let signature = key.sign(&pae)?;
    let envelope = serde_json::json!({
        "payload": STANDARD.encode(&payload),
        "payloadType": IN_TOTO_PAYLOAD_TYPE,
        "signatures": [{ "sig": signature.to_base64(), "keyid": key.hint() }],
    });
    serde_json::to_vec(&envelope).map_err(|e| TrustError::invalid("envelope", e.to_string()))
}

/// Signs a statement about the image and attaches it to the image in `repository` as a
/// referrer. Returns the referrer manifest's digest.
pub fn attach_statement(
    repository: &rempart_image::RegistryRepository,
    options: &AttestOptions<'_>,
    key: &SigningKey,
) -> Result<String, TrustError> {
    let envelope = sign_statement(&statement(options), key)?;
    let envelope_size = envelope.len();
    let envelope_digest = repository.push_blob(envelope)?;
    let config_digest = repository.push_blob(b"{}".to_vec())?;
    let created = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let annotations = BTreeMap::from([
        (
            "in-toto.io/predicate-type".to_owned(),
            options.predicate_type.to_owned(),
        ),
        ("org.opencontainers.image.created".to_owned(), created),
    ]);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": rempart_image::OCI_MANIFEST,
        "artifactType": IN_TOTO_ARTIFACT,
        "config": { "mediaType": EMPTY_CONFIG_TYPE, "digest": config_digest, "size": 2 },
        "layers": [{ "mediaType": DSSE_ENVELOPE, "digest": envelope_digest, "size": envelope_size }],
        "subject": {
            "mediaType": options.subject_media_type,
            "digest": options.subject_digest,
            "size": options.subject_size,
        },
        "annotations": annotations,
    });
    let bytes = serde_json::to_vec(&manifest)
        .map_err(|e| TrustError::invalid("referrer manifest", e.to_string()))?;
    Ok(repository.attach_referrer(
        options.subject_digest,
        rempart_image::OCI_MANIFEST,
        Some(IN_TOTO_ARTIFACT),
        annotations,
        bytes,
    )?)
}
