//! Where signatures and attestations are read from and written to: a registry repository, or
//! an OCI layout directory (`skopeo copy --all`, `oras copy --recursive` and signers that write
//! layouts keep referrers in the layout's index).

use std::path::{Path, PathBuf};

use rempart_image::{FetchedManifest, MAX_ARTIFACT_BYTES, Referrer, RegistryRepository};
use serde::Deserialize;

use crate::TrustError;

/// Read access to the artifacts stored next to an image.
pub trait ArtifactStore {
    /// The store, for messages (`registry/repository` or the layout's path).
    fn describe(&self) -> String;
    /// A manifest by tag or digest; `None` when there is none.
    fn manifest(&self, reference: &str) -> Result<Option<FetchedManifest>, TrustError>;
    /// A blob checked against its digest, at most [`MAX_ARTIFACT_BYTES`].
    fn blob(&self, digest: &str, size: i64) -> Result<Vec<u8>, TrustError>;
    /// The manifests whose subject is `digest`, and how they were found.
    fn referrers(&self, digest: &str) -> Result<(Vec<Referrer>, &'static str), TrustError>;
}

impl ArtifactStore for RegistryRepository {
    fn describe(&self) -> String {
        format!("{}/{}", self.registry(), self.repository())
    }

    fn manifest(&self, reference: &str) -> Result<Option<FetchedManifest>, TrustError> {
        Ok(RegistryRepository::manifest(self, reference)?)
    }

    fn blob(&self, digest: &str, size: i64) -> Result<Vec<u8>, TrustError> {
        Ok(RegistryRepository::blob(
            self,
            digest,
            size,
            MAX_ARTIFACT_BYTES,
        )?)
    }

    fn referrers(&self, digest: &str) -> Result<(Vec<Referrer>, &'static str), TrustError> {
        let (referrers, source) = RegistryRepository::referrers(self, digest)?;
        Ok((
            referrers,
            match source {
                rempart_image::ReferrersSource::Api => "referrers API",
                rempart_image::ReferrersSource::TagSchema => "referrers tag",
            },
        ))
    }
}

/// An OCI image layout directory.
pub struct LayoutStore {
    dir: PathBuf,
    index: Vec<IndexEntry>,
}

#[derive(Deserialize)]
struct LayoutIndex {
    #[serde(default)]
    manifests: Vec<IndexEntry>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct IndexEntry {
    media_type: String,
    digest: String,
    size: i64,
    #[serde(default)]
    artifact_type: Option<String>,
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WithSubject {
    #[serde(default)]
    subject: Option<SubjectDescriptor>,
    #[serde(default)]
    artifact_type: Option<String>,
    #[serde(default)]
    config: Option<SubjectDescriptor>,
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubjectDescriptor {
    digest: String,
    #[serde(default)]
    media_type: Option<String>,
}

/// How many manifests of a layout's index are looked at for referrers.
const MAX_LAYOUT_MANIFESTS: usize = 4096;

impl LayoutStore {
    pub fn open(dir: &Path) -> Result<LayoutStore, TrustError> {
        let path = dir.join("index.json");
        let bytes = rempart_core::read_regular_file(&path, MAX_ARTIFACT_BYTES)
            .map_err(|e| TrustError::io(&path, &e))?;
        let index: LayoutIndex = serde_json::from_slice(&bytes)
            .map_err(|e| TrustError::invalid(&path.display().to_string(), e.to_string()))?;
        Ok(LayoutStore {
            dir: dir.to_owned(),
            index: index.manifests,
        })
    }

    /// The image the layout holds: the manifest tagged `tag`, or, without a tag, the one
    /// image of the index (signature and referrer manifests aside).
    pub fn image(&self, tag: Option<&str>) -> Result<FetchedManifest, TrustError> {
        if let Some(tag) = tag {
            return self.manifest(tag)?.ok_or_else(|| {
                TrustError::invalid(&self.describe(), format!("no image tagged `{tag}`"))
            });
        }
        let mut images = Vec::new();
        for entry in self.index.iter().take(MAX_LAYOUT_MANIFESTS) {
            let tag = entry.annotations.get("org.opencontainers.image.ref.name");
            if tag.is_some_and(|t| t.starts_with("sha256-")) {
                continue;
            }
            let bytes = self.read_blob(&entry.digest)?;
            let has_subject =
                serde_json::from_slice::<WithSubject>(&bytes).is_ok_and(|m| m.subject.is_some());
            if !has_subject {
                images.push(FetchedManifest {
                    digest: entry.digest.clone(),
                    media_type: Some(entry.media_type.clone()),
                    bytes,
                });
            }
        }
        match images.len() {
            1 => Ok(images.remove(0)),
            0 => Err(TrustError::invalid(
                &self.describe(),
                "the layout holds no image".to_owned(),
            )),
            n => Err(TrustError::invalid(
                &self.describe(),
                format!("the layout holds {n} images; name one as DIR:TAG"),
            )),
        }
    }

    fn read_blob(&self, digest: &str) -> Result<Vec<u8>, TrustError> {
        let hex = digest
            .strip_prefix("sha256:")
            .filter(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| TrustError::invalid(&self.describe(), format!("bad digest {digest}")))?;
        let path = self.dir.join("blobs").join("sha256").join(hex);
        let bytes = rempart_core::read_regular_file(&path, MAX_ARTIFACT_BYTES)
            .map_err(|e| TrustError::io(&path, &e))?;
        let actual = rempart_image::sha256_digest(&bytes);
        if actual != digest {
            return Err(TrustError::invalid(
                &path.display().to_string(),
                format!("the blob's content is {actual}, not {digest}"),
            ));
        }
        Ok(bytes)
    }
}

impl ArtifactStore for LayoutStore {
    fn describe(&self) -> String {
        self.dir.display().to_string()
    }

    fn manifest(&self, reference: &str) -> Result<Option<FetchedManifest>, TrustError> {
        let entry = self.index.iter().find(|entry| {
            entry.digest == reference
                || entry
                    .annotations
                    .get("org.opencontainers.image.ref.name")
                    .map(String::as_str)
                    == Some(reference)
        });
        let digest = match entry {
            Some(entry) => entry.digest.clone(),
            // A digest the index does not list may still be a blob (an index's child).
            None if reference.starts_with("sha256:") => reference.to_owned(),
            None => return Ok(None),
        };
        let bytes = match self.read_blob(&digest) {
            Ok(bytes) => bytes,
            Err(TrustError::Io { .. }) if entry.is_none() => return Ok(None),
            Err(error) => return Err(error),
        };
        Ok(Some(FetchedManifest {
            media_type: entry.map(|e| e.media_type.clone()),
            digest,
            bytes,
        }))
    }

    fn blob(&self, digest: &str, _size: i64) -> Result<Vec<u8>, TrustError> {
        self.read_blob(digest)
    }

    fn referrers(&self, digest: &str) -> Result<(Vec<Referrer>, &'static str), TrustError> {
        let mut referrers = Vec::new();
        for entry in self.index.iter().take(MAX_LAYOUT_MANIFESTS) {
            if entry.digest == digest {
                continue;
            }
            let Ok(bytes) = self.read_blob(&entry.digest) else {
                continue;
            };
            let Ok(manifest) = serde_json::from_slice::<WithSubject>(&bytes) else {
                continue;
            };
            if manifest.subject.as_ref().map(|s| s.digest.as_str()) != Some(digest) {
                continue;
            }
            let artifact_type = manifest
                .artifact_type
                .or_else(|| entry.artifact_type.clone())
                .or_else(|| manifest.config.and_then(|c| c.media_type));
            referrers.push(Referrer {
                media_type: entry.media_type.clone(),
                digest: entry.digest.clone(),
                size: entry.size,
                artifact_type,
                annotations: manifest.annotations,
            });
        }
        Ok((referrers, "layout index"))
    }
}
