//! Finding the signatures and attestations of an image, every way signers store them:
//!
//! - cosign's tags: `sha256-<hex>.sig` (simple-signing payloads, the signature in a layer
//!   annotation) and `sha256-<hex>.att` (DSSE envelopes);
//! - OCI 1.1 referrers, from the referrers API or the referrers tag (`sha256-<hex>`): Sigstore
//!   bundles (`application/vnd.dev.sigstore.bundle…`), DSSE envelopes and simple-signing
//!   layers.
//!
//! What cannot be read (a referrer whose manifest or blob is missing, a layer over the size
//! cap) is kept with its reason: a verifier must say what it saw and could not check.

use serde::Deserialize;

use crate::TrustError;
use crate::store::ArtifactStore;

/// Media type of cosign's simple-signing layers.
pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Media type of a DSSE envelope layer.
pub const DSSE_ENVELOPE: &str = "application/vnd.dsse.envelope.v1+json";
/// Prefix of Sigstore bundle media types (`…bundle+json;version=0.1`, `…bundle.v0.3+json`).
pub const BUNDLE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";

const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
const REKOR_BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";

/// Referrers looked at for one image: more is a registry flooding the verifier.
const MAX_REFERRERS: usize = 64;
/// Layers looked at in one signature or attestation manifest.
const MAX_LAYERS: usize = 32;

/// Something found next to the image that may be a signature or an attestation.
#[derive(Debug, Clone)]
pub struct Found {
    /// Where it was found (`sha256-….sig layer 0`, `referrer sha256:…`).
    pub location: String,
    pub item: Item,
}

#[derive(Debug, Clone)]
pub enum Item {
    /// A cosign simple-signing payload with its detached signature.
    SimpleSigning {
        payload: Vec<u8>,
        signature: String,
        keyless: Option<LegacyKeyless>,
    },
    /// A DSSE envelope (cosign's `.att` layers, or a referrer).
    Envelope {
        json: Vec<u8>,
        keyless: Option<LegacyKeyless>,
    },
    /// A Sigstore bundle.
    Bundle { json: Vec<u8> },
    /// Something that should have been readable and was not.
    Unreadable { reason: String },
}

/// The certificate and transparency-log promise cosign attaches to a keyless signature as
/// layer annotations.
#[derive(Debug, Clone)]
pub struct LegacyKeyless {
    pub certificate_pem: String,
    pub chain_pem: Option<String>,
    pub rekor_bundle: Option<String>,
}

/// What was found for one image.
#[derive(Debug, Default)]
pub struct Discovery {
    pub found: Vec<Found>,
    /// How referrers were listed (`referrers API`, `referrers tag`, `layout index`).
    pub referrers_source: &'static str,
    /// Notes on what was skipped (caps reached).
    pub notes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactManifest {
    #[serde(default)]
    layers: Vec<Layer>,
    #[serde(default)]
    blobs: Vec<Layer>,
    #[serde(default)]
    artifact_type: Option<String>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Layer {
    media_type: String,
    digest: String,
    size: i64,
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
}

/// Lists the signatures and attestations of the manifest `digest` in `store`.
pub fn discover(store: &dyn ArtifactStore, digest: &str) -> Result<Discovery, TrustError> {
    let mut discovery = Discovery::default();
    let tag_prefix = rempart_image::referrers_tag(digest);
    for suffix in ["sig", "att"] {
        let tag = format!("{tag_prefix}.{suffix}");
        if let Some(manifest) = store.manifest(&tag)? {
            read_layers(store, &tag, &manifest.bytes, &mut discovery);
        }
    }
    let (referrers, source) = store.referrers(digest)?;
    discovery.referrers_source = source;
    if referrers.len() > MAX_REFERRERS {
        discovery.notes.push(format!(
            "{} referrers listed; only the first {MAX_REFERRERS} were read",
            referrers.len()
        ));
    }
    for referrer in referrers.into_iter().take(MAX_REFERRERS) {
        let location = format!("referrer {}", referrer.digest);
        match store.manifest(&referrer.digest) {
            Ok(Some(manifest)) => read_layers(store, &location, &manifest.bytes, &mut discovery),
            Ok(None) => discovery.found.push(Found {
                location,
                item: Item::Unreadable {
                    reason: "the referrers index lists a manifest the repository does not have"
                        .to_owned(),
                },
            }),
            Err(error) => discovery.found.push(Found {
                location,
                item: Item::Unreadable {
                    reason: error.to_string(),
                },
            }),
        }
    }
    Ok(discovery)
}

fn read_layers(store: &dyn ArtifactStore, location: &str, bytes: &[u8], discovery: &mut Discovery) {
    let manifest: ArtifactManifest = match serde_json::from_slice(bytes) {
        Ok(manifest) => manifest,
        Err(error) => {
            discovery.found.push(Found {
                location: location.to_owned(),
                item: Item::Unreadable {
                    reason: format!("the manifest does not parse: {error}"),
                },
            });
            return;
        }
    };
    let artifact_type = manifest.artifact_type.unwrap_or_default();
    let layers: Vec<Layer> = manifest.layers.into_iter().chain(manifest.blobs).collect();
    if layers.len() > MAX_LAYERS {
        discovery.notes.push(format!(
            "{location}: {} layers; only the first {MAX_LAYERS} were read",
            layers.len()
        ));
    }
    for (index, layer) in layers.into_iter().take(MAX_LAYERS).enumerate() {
        let layer_location = format!("{location} layer {index}");
        let media_type = layer.media_type.as_str();
        let is_bundle = media_type.starts_with(BUNDLE_PREFIX)
            || (artifact_type.starts_with(BUNDLE_PREFIX) && media_type == "application/json");
        if !(is_bundle || media_type == SIMPLE_SIGNING || media_type == DSSE_ENVELOPE) {
            continue;
        }
        let content = match store.blob(&layer.digest, layer.size) {
            Ok(content) => content,
            Err(error) => {
                discovery.found.push(Found {
                    location: layer_location,
                    item: Item::Unreadable {
                        reason: format!("blob {}: {error}", layer.digest),
                    },
                });
                continue;
            }
        };
        let keyless = layer
            .annotations
            .get(CERTIFICATE_ANNOTATION)
            .filter(|pem| !pem.is_empty())
            .map(|pem| LegacyKeyless {
                certificate_pem: pem.clone(),
                chain_pem: layer.annotations.get(CHAIN_ANNOTATION).cloned(),
                rekor_bundle: layer.annotations.get(REKOR_BUNDLE_ANNOTATION).cloned(),
            });
        let item = if is_bundle {
            Item::Bundle { json: content }
        } else if media_type == DSSE_ENVELOPE {
            Item::Envelope {
                json: content,
                keyless,
            }
        } else {
            match layer.annotations.get(SIGNATURE_ANNOTATION) {
                Some(signature) => Item::SimpleSigning {
                    payload: content,
                    signature: signature.clone(),
                    keyless,
                },
                None => Item::Unreadable {
                    reason: format!("no `{SIGNATURE_ANNOTATION}` annotation on the layer"),
                },
            }
        };
        discovery.found.push(Found {
            location: layer_location,
            item,
        });
    }
}
