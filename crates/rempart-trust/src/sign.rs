//! Signing a manifest the way `cosign sign --key` does, so that cosign, rempart and any other
//! verifier of cosign's format accept it: a simple-signing payload naming the repository and the
//! manifest digest, signed with the company key, stored as a layer of the manifest tagged
//! `sha256-<hex>.sig` with the signature in the layer's `dev.cosignproject.cosign/signature`
//! annotation.
//!
//! The tag format (rather than a referrer) is used because it is the one every cosign release
//! and every registry reads; verifiers here read both. Signing again adds a layer to the tag's
//! manifest and keeps the signatures already there, as cosign does, so a second signer never
//! erases the first.

use std::collections::BTreeMap;

use rempart_image::RegistryRepository;
use serde::Deserialize;

use crate::TrustError;
use crate::attest::SigningKey;
use crate::discover::SIMPLE_SIGNING;

const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
const EMPTY_CONFIG_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// Signatures kept on one `.sig` tag: verifiers read at most this many layers, so more would
/// hide the newest one.
const MAX_SIGNATURE_LAYERS: usize = 32;

/// What was signed and where the signature went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The tag that holds the signatures (`sha256-<hex>.sig`).
    pub tag: String,
    /// The digest of the signature manifest now under that tag.
    pub signature_manifest: String,
    /// Whether this key's signature of this digest was already there (nothing was pushed).
    pub already_signed: bool,
}

#[derive(Deserialize)]
struct SignatureManifest {
    #[serde(default)]
    layers: Vec<serde_json::Value>,
}

/// The simple-signing payload cosign signs for `digest` in `repository_name`
/// (`registry/repository`).
pub fn simple_signing_payload(repository_name: &str, digest: &str) -> Vec<u8> {
    let payload = serde_json::json!({
        "critical": {
            "identity": {"docker-reference": repository_name},
            "image": {"docker-manifest-digest": digest},
            "type": "cosign container image signature",
        },
        "optional": null,
    });
    serde_json::to_vec(&payload).unwrap_or_default()
}

/// Signs the manifest `digest` of `repository` with `key` and stores the signature under
/// cosign's `.sig` tag, keeping the signatures already there.
pub fn sign_manifest(
    repository: &RegistryRepository,
    digest: &str,
    key: &SigningKey,
) -> Result<Signed, TrustError> {
    let Some(hex) = digest.strip_prefix("sha256:") else {
        return Err(TrustError::invalid(
            digest,
            "only sha256 manifest digests are signed".to_owned(),
        ));
    };
    let tag = format!("sha256-{hex}.sig");
    let name = format!("{}/{}", repository.registry(), repository.repository());
    let payload = simple_signing_payload(&name, digest);
    let signature = key.sign(&payload)?.to_base64();
    let payload_digest = rempart_image::sha256_digest(&payload);

    let mut layers = match repository.manifest(&tag)? {
        Some(existing) => {
            serde_json::from_slice::<SignatureManifest>(&existing.bytes)
                .map_err(|e| {
                    TrustError::invalid(
                        &format!("{name}:{tag}"),
                        format!("the signature tag holds something that is not a manifest: {e}"),
                    )
                })?
                .layers
        }
        None => Vec::new(),
    };
    // ECDSA signatures differ on every signing, so "already signed by this key" is a layer
    // over the same payload whose signature verifies with this key.
    let already = layers.iter().any(|layer| {
        layer["digest"] == payload_digest.as_str()
            && layer["annotations"][SIGNATURE_ANNOTATION]
                .as_str()
                .is_some_and(|existing| key.verifies(&payload, existing))
    });
    if already {
        let current = repository
            .manifest(&tag)?
            .map(|m| m.digest)
            .unwrap_or_default();
        return Ok(Signed {
            tag,
            signature_manifest: current,
            already_signed: true,
        });
    }
    if layers.len() >= MAX_SIGNATURE_LAYERS {
        return Err(TrustError::invalid(
            &format!("{name}:{tag}"),
            format!(
                "already holds {} signatures, the most a verifier reads; remove old ones first",
                layers.len()
            ),
        ));
    }
    let payload_size = payload.len();
    repository.push_blob(payload)?;
    layers.push(serde_json::json!({
        "mediaType": SIMPLE_SIGNING,
        "digest": payload_digest,
        "size": payload_size,
        "annotations": BTreeMap::from([(SIGNATURE_ANNOTATION, signature)]),
    }));
    let config_digest = repository.push_blob(b"{}".to_vec())?;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": rempart_image::OCI_MANIFEST,
        "config": {"mediaType": EMPTY_CONFIG_TYPE, "digest": config_digest, "size": 2},
        "layers": layers,
    });
    let bytes = serde_json::to_vec(&manifest)
        .map_err(|e| TrustError::invalid("signature manifest", e.to_string()))?;
    let signature_manifest = repository.push_manifest(&tag, rempart_image::OCI_MANIFEST, bytes)?;
    Ok(Signed {
        tag,
        signature_manifest,
        already_signed: false,
    })
}
