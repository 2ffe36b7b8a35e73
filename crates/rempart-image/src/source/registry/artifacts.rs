//! Reading and attaching the artifacts that describe an image: signatures, attestations and
//! SBOMs stored next to it in its repository, found by the OCI 1.1 referrers API (or its tag
//! fallback) and by the tag conventions older signers use (`sha256-<hex>.sig`).
//!
//! Every read is bounded like the image pull's (see [`client`](super::client)); an artifact
//! document larger than [`MAX_ARTIFACT_BYTES`] is refused.

use bytes::Bytes;
use oci_spec::distribution::Reference;
use serde::Deserialize;

use super::client::{DistributionClient, Document};
use super::{INDEX_TYPES, MANIFEST_TYPES, RegistryOptions, install_crypto_provider, io_runtime};
use super::{resolve_auth, trusted_roots};
use crate::digest::{sha256_digest, validate_digest};
use crate::error::ImageError;

/// The largest signature, attestation or referrers document read: a signed SBOM of a large
/// image runs to a few megabytes.
pub const MAX_ARTIFACT_BYTES: u64 = 16 * 1024 * 1024;

/// The media type of an OCI image index, which the referrers API and its tag fallback answer.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// The media type of an OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// One repository of one registry, to read and attach artifacts.
pub struct RegistryRepository {
    runtime: tokio::runtime::Runtime,
    client: DistributionClient,
    registry: String,
    repository: String,
}

/// A manifest or index read from the repository, checked against its digest.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    pub digest: String,
    pub media_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// A descriptor as the referrers index lists it.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Referrer {
    pub media_type: String,
    pub digest: String,
    pub size: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub annotations: std::collections::BTreeMap<String, String>,
}

/// Where the referrers of a manifest were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferrersSource {
    /// The registry's `/v2/<name>/referrers/<digest>` API.
    Api,
    /// The `sha256-<hex>` tag of the referrers tag schema, for registries without the API.
    TagSchema,
}

#[derive(Deserialize)]
struct ReferrersIndex {
    #[serde(default)]
    manifests: Vec<Referrer>,
}

impl RegistryRepository {
    /// A client for `registry`'s `repository`; `push` asks the token service for push rights.
    pub fn open(
        registry: &str,
        repository: &str,
        options: &RegistryOptions,
        push: bool,
    ) -> Result<RegistryRepository, ImageError> {
        install_crypto_provider();
        let mut client = DistributionClient::new(
            registry,
            repository,
            resolve_auth(registry, options),
            options.insecure,
            &trusted_roots(options)?,
            options.timeouts,
        )?;
        if push {
            client = client.for_push(repository);
        }
        Ok(RegistryRepository {
            runtime: io_runtime(registry)?,
            client,
            registry: registry.to_owned(),
            repository: repository.to_owned(),
        })
    }

    /// The repository a reference (`host[:port]/repository[:tag|@digest]`) names, with the tag
    /// or digest it holds.
    pub fn for_reference(
        reference: &str,
        options: &RegistryOptions,
        push: bool,
    ) -> Result<(RegistryRepository, String), ImageError> {
        let parsed: Reference = crate::parse_reference(reference)
            .map_err(|e| ImageError::invalid(reference, format!("not an image reference: {e}")))?;
        let target = parsed
            .digest()
            .or(parsed.tag())
            .unwrap_or("latest")
            .to_owned();
        let repository = RegistryRepository::open(
            parsed.resolve_registry(),
            parsed.repository(),
            options,
            push,
        )?;
        Ok((repository, target))
    }

    pub fn registry(&self) -> &str {
        &self.registry
    }

    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The manifest or index `reference` (a tag or digest) names, or `None` when there is
    /// none. A digest reference is checked against the bytes.
    pub fn manifest(&self, reference: &str) -> Result<Option<FetchedManifest>, ImageError> {
        let accepted: Vec<&str> = MANIFEST_TYPES
            .iter()
            .chain(INDEX_TYPES.iter())
            .copied()
            .collect();
        let Some(document) = self.runtime.block_on(self.client.optional_manifest(
            reference,
            &accepted,
            MAX_ARTIFACT_BYTES,
        ))?
        else {
            return Ok(None);
        };
        let digest = sha256_digest(&document.bytes);
        if reference.starts_with("sha256:") && digest != reference {
            return Err(ImageError::DigestMismatch {
                input: format!(
                    "{}/{}: manifest {reference}",
                    self.registry, self.repository
                ),
                expected: reference.to_owned(),
                actual: digest,
            });
        }
        Ok(Some(FetchedManifest {
            digest,
            media_type: media_type_of(&document),
            bytes: document.bytes,
        }))
    }

    /// A blob of at most `max_bytes` whose declared size is `size`, checked against `digest`.
    pub fn blob(&self, digest: &str, size: i64, max_bytes: u64) -> Result<Vec<u8>, ImageError> {
        validate_digest(digest).map_err(|m| self.invalid(m))?;
        self.runtime
            .block_on(self.client.small_blob(digest, size, max_bytes))
    }

    /// Streams the blob `digest` (declared `size`, at most `max_bytes`) into the file `out`,
    /// checking it against its digest as it goes: a large artifact never sits in memory. On an
    /// error the file holds a partial blob, which the caller discards.
    pub fn blob_to_file(
        &self,
        digest: &str,
        size: i64,
        max_bytes: u64,
        out: std::fs::File,
    ) -> Result<(), ImageError> {
        validate_digest(digest).map_err(|m| self.invalid(m))?;
        let mut out = tokio::fs::File::from_std(out);
        self.runtime
            .block_on(self.client.blob_to_file(digest, size, max_bytes, &mut out))
    }

    /// The manifests that name `digest` as their subject: from the referrers API when the
    /// registry has it, otherwise from the referrers tag (`sha256-<hex>`). No referrers at all
    /// is an empty list.
    pub fn referrers(&self, digest: &str) -> Result<(Vec<Referrer>, ReferrersSource), ImageError> {
        validate_digest(digest).map_err(|m| self.invalid(m))?;
        if let Some(document) = self
            .runtime
            .block_on(self.client.referrers(digest, MAX_ARTIFACT_BYTES))?
        {
            return Ok((
                self.parse_referrers(&document.bytes, digest)?,
                ReferrersSource::Api,
            ));
        }
        let tag = referrers_tag(digest);
        let referrers = match self.manifest(&tag)? {
            Some(index) => self.parse_referrers(&index.bytes, digest)?,
            None => Vec::new(),
        };
        Ok((referrers, ReferrersSource::TagSchema))
    }

    fn parse_referrers(&self, bytes: &[u8], digest: &str) -> Result<Vec<Referrer>, ImageError> {
        let index: ReferrersIndex =
            serde_json::from_slice(bytes).map_err(|source| ImageError::Json {
                path: format!(
                    "{}/{}: referrers of {digest}",
                    self.registry, self.repository
                ),
                source,
            })?;
        Ok(index
            .manifests
            .into_iter()
            .filter(|referrer| validate_digest(&referrer.digest).is_ok())
            .collect())
    }

    /// Uploads a small blob (a signature, an attestation, an empty config) unless the
    /// repository has it; returns its digest.
    pub fn push_blob(&self, bytes: Vec<u8>) -> Result<String, ImageError> {
        let digest = sha256_digest(&bytes);
        self.runtime
            .block_on(self.client.push_small_blob(&Bytes::from(bytes), &digest))?;
        Ok(digest)
    }

    /// Pushes a manifest (or index) under `reference`, a tag or its own digest; returns its
    /// digest.
    pub fn push_manifest(
        &self,
        reference: &str,
        media_type: &str,
        bytes: Vec<u8>,
    ) -> Result<String, ImageError> {
        let digest = sha256_digest(&bytes);
        if reference.starts_with("sha256:") && reference != digest {
            return Err(self.invalid(format!(
                "a manifest pushed by digest must be pushed under its own ({digest}), not \
                 {reference}"
            )));
        }
        self.runtime.block_on(self.client.put_manifest(
            reference,
            media_type,
            &Bytes::from(bytes),
            &digest,
        ))?;
        Ok(digest)
    }

    /// Attaches the manifest `bytes` (which names `subject` as its subject) as a referrer of
    /// `subject`: pushed by digest, which a registry with the referrers API indexes by itself,
    /// and added to the referrers tag when the registry has no such API. Returns the
    /// manifest's digest.
    pub fn attach_referrer(
        &self,
        subject: &str,
        media_type: &str,
        artifact_type: Option<&str>,
        annotations: std::collections::BTreeMap<String, String>,
        bytes: Vec<u8>,
    ) -> Result<String, ImageError> {
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        let digest = sha256_digest(&bytes);
        self.push_manifest(&digest, media_type, bytes)?;
        let (mut referrers, source) = self.referrers(subject)?;
        if source == ReferrersSource::Api {
            return Ok(digest);
        }
        if referrers.iter().any(|referrer| referrer.digest == digest) {
            return Ok(digest);
        }
        referrers.push(Referrer {
            media_type: media_type.to_owned(),
            digest: digest.clone(),
            size,
            artifact_type: artifact_type.map(str::to_owned),
            annotations,
        });
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": referrers,
        });
        let index = serde_json::to_vec(&index)
            .map_err(|e| self.invalid(format!("cannot encode the referrers index: {e}")))?;
        self.push_manifest(&referrers_tag(subject), OCI_INDEX, index)?;
        Ok(digest)
    }

    fn invalid(&self, message: impl std::fmt::Display) -> ImageError {
        ImageError::Registry {
            registry: self.registry.clone(),
            message: format!("{}: {message}", self.repository),
        }
    }
}

fn media_type_of(document: &Document) -> Option<String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct MediaType {
        media_type: Option<String>,
    }
    serde_json::from_slice::<MediaType>(&document.bytes)
        .ok()
        .and_then(|m| m.media_type)
        .or_else(|| document.content_type.clone())
}

/// The referrers tag schema's tag for `digest` (`sha256:abc…` → `sha256-abc…`), which is also
/// the prefix of cosign's `.sig` and `.att` tags.
pub fn referrers_tag(digest: &str) -> String {
    digest.replacen(':', "-", 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referrers_tag_replaces_the_first_colon_only() {
        assert_eq!(
            referrers_tag("sha256:0123abcd"),
            "sha256-0123abcd".to_owned()
        );
    }
}
