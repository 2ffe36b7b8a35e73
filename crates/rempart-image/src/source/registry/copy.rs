//! Copies an image by digest from one repository of a registry to another: the promotion step of
//! a registry gate, which scans what is pushed to a staging repository and copies only what
//! passes into a release repository. Also resolves a tag to the digest it points at, since a
//! gate decides on digests, never on tags that can move.
//!
//! The order of a copy is what makes it safe to interrupt: every blob first, then each manifest
//! by digest (the children of an index before the index), and the tag last. A tag therefore
//! never points at something incomplete, and a copy that fails leaves the tag as it was. Blobs
//! are mounted across repositories when the registry allows it (nothing is transferred);
//! otherwise they are streamed from a pull of the source into an upload, checked against their
//! digest on the way, with the same size caps and time limits as pulls.

use std::collections::HashSet;

use bytes::Bytes;
use oci_spec::distribution::Reference;
use serde::Deserialize;

use super::client::{DistributionClient, Mount};
use super::{
    INDEX_TYPES, MANIFEST_TYPES, MAX_INDEX_DEPTH, RegistryOptions, install_crypto_provider,
    io_runtime, resolve_auth, trusted_roots,
};
use crate::digest::{sha256_digest, validate_digest};
use crate::error::ImageError;
use crate::source::MAX_JSON_BYTES;

/// Manifests (indexes included) one copy pushes at most: a multi-platform index with its
/// attestation manifests holds a few dozen.
const MAX_COPY_MANIFESTS: usize = 256;
/// Distinct blobs one copy handles at most: a few platforms of images at the 1,000-layer cap.
const MAX_COPY_BLOBS: usize = 10_000;

/// Every media type a copy pushes: a manifest or index whose type is not one of these (Docker's
/// signed schema 1, an artifact manifest) is refused rather than pushed under a guessed type.
const ACCEPTED: [&str; 4] = [
    MANIFEST_TYPES[0],
    MANIFEST_TYPES[1],
    INDEX_TYPES[0],
    INDEX_TYPES[1],
];

/// Layers that registries are not given (Windows base layers, downloaded from the URLs their
/// descriptors list): a manifest may name them without the registry holding them.
const FOREIGN_LAYER_TYPES: [&str; 4] = [
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
];

/// An image to copy between two repositories of one registry.
#[derive(Debug, Clone, Copy)]
pub struct CopyRequest<'a> {
    /// The registry, as `host[:port]`.
    pub registry: &'a str,
    pub source_repository: &'a str,
    /// The digest of the manifest or index to copy, `sha256:…`.
    pub digest: &'a str,
    pub destination_repository: &'a str,
    /// A tag to point at the copy once it is complete.
    pub tag: Option<&'a str>,
}

/// What a copy did. Every blob is counted once, however many manifests name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// The digest copied (the request's).
    pub digest: String,
    /// Manifests and indexes pushed to the destination.
    pub manifests: usize,
    /// Blobs the registry linked from the source repository, with nothing transferred.
    pub blobs_mounted: usize,
    /// Blobs the destination repository held already.
    pub blobs_present: usize,
    /// Blobs streamed from the source into an upload, the registry having refused to mount
    /// them.
    pub blobs_copied: usize,
}

/// Copies the manifest or index `request.digest` from the source repository to the
/// destination, every blob and child manifest first, then tags it. Authentication and limits
/// come from `options` (its blob directory is not used: nothing is stored locally).
pub fn copy_image(
    request: &CopyRequest<'_>,
    options: &RegistryOptions,
) -> Result<CopyReport, ImageError> {
    install_crypto_provider();
    check_request(request)?;
    let credentials = resolve_auth(request.registry, options);
    let roots = trusted_roots(options)?;
    let source = DistributionClient::new(
        request.registry,
        request.source_repository,
        credentials.clone(),
        options.insecure,
        &roots,
        options.timeouts,
    )?;
    let destination = DistributionClient::new(
        request.registry,
        request.destination_repository,
        credentials,
        options.insecure,
        &roots,
        options.timeouts,
    )?
    .for_push(request.source_repository);
    let runtime = io_runtime(request.registry)?;
    let copy = Copy {
        request,
        source: &source,
        destination: &destination,
        max_blob_bytes: options.max_blob_bytes,
        blobs_seen: HashSet::new(),
        manifests_done: HashSet::new(),
        report: CopyReport {
            digest: request.digest.to_owned(),
            manifests: 0,
            blobs_mounted: 0,
            blobs_present: 0,
            blobs_copied: 0,
        },
    };
    runtime.block_on(copy.run())
}

/// The digest of the manifest or index `reference` names (`host[:port]/repository:tag`, the tag
/// `latest` when absent). A reference that holds a digest is answered without asking the
/// registry.
pub fn resolve_digest(reference: &str, options: &RegistryOptions) -> Result<String, ImageError> {
    install_crypto_provider();
    let parsed: Reference = crate::parse_reference(reference)
        .map_err(|e| ImageError::invalid(reference, format!("not an image reference: {e}")))?;
    if let Some(digest) = parsed.digest() {
        validate_digest(digest).map_err(|m| ImageError::invalid(reference, m))?;
        return Ok(digest.to_owned());
    }
    let registry = parsed.resolve_registry().to_owned();
    let client = DistributionClient::new(
        &registry,
        parsed.repository(),
        resolve_auth(&registry, options),
        options.insecure,
        &trusted_roots(options)?,
        options.timeouts,
    )?;
    let runtime = io_runtime(&registry)?;
    let tag = parsed.tag().unwrap_or("latest");
    runtime.block_on(client.manifest_digest(tag, &ACCEPTED, MAX_JSON_BYTES))
}

/// Refuses a request whose names could not be a registry, repository, digest or tag before
/// anything is sent: they are put into URLs.
fn check_request(request: &CopyRequest<'_>) -> Result<(), ImageError> {
    let invalid = |message: String| ImageError::Registry {
        registry: request.registry.to_owned(),
        message: format!("copy refused: {message}"),
    };
    let registry_ok = !request.registry.is_empty()
        && request.registry.len() <= 255
        && request
            .registry
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    if !registry_ok {
        return Err(invalid(format!(
            "`{}` is not a registry host[:port]",
            request.registry
        )));
    }
    for repository in [request.source_repository, request.destination_repository] {
        if !is_repository_name(repository) {
            return Err(invalid(format!("`{repository}` is not a repository name")));
        }
    }
    validate_digest(request.digest).map_err(invalid)?;
    if let Some(tag) = request.tag
        && !is_tag(tag)
    {
        return Err(invalid(format!("`{tag}` is not a tag")));
    }
    Ok(())
}

/// Whether `name` is a repository name as the distribution specification defines it: path
/// components of lower-case letters and digits, joined inside a component by `.`, `_`, `__`
/// or runs of `-`.
fn is_repository_name(name: &str) -> bool {
    let alphanumeric = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !name.is_empty()
        && name.len() <= 255
        && name.split('/').all(|component| {
            let bytes = component.as_bytes();
            let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
                return false;
            };
            if !alphanumeric(first) || !alphanumeric(last) {
                return false;
            }
            component
                .split(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                .all(|separator| {
                    matches!(separator, "" | "." | "_" | "__")
                        || separator.bytes().all(|b| b == b'-')
                })
        })
}

/// Whether `tag` is a tag: a word character, then up to 127 word characters, dots and dashes.
fn is_tag(tag: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    tag.len() <= 128
        && tag.bytes().next().is_some_and(word)
        && tag.bytes().all(|b| word(b) || b == b'.' || b == b'-')
}

/// The fields of a manifest or index a copy follows, for OCI and Docker media types alike.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fields {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    #[serde(default)]
    media_type: Option<String>,
    digest: String,
    size: i64,
}

/// A manifest or index fetched from the source, waiting for what it names to be copied.
struct Pending {
    digest: String,
    media_type: &'static str,
    bytes: Bytes,
    /// Child manifests (of an index), copied before it.
    children: Vec<Descriptor>,
    /// The next child to copy.
    next: usize,
    /// Config and layers (of an image manifest).
    blobs: Vec<Descriptor>,
}

struct Copy<'a> {
    request: &'a CopyRequest<'a>,
    source: &'a DistributionClient,
    destination: &'a DistributionClient,
    max_blob_bytes: u64,
    blobs_seen: HashSet<String>,
    manifests_done: HashSet<String>,
    report: CopyReport,
}

impl Copy<'_> {
    async fn run(mut self) -> Result<CopyReport, ImageError> {
        let request = self.request;
        let root = self
            .fetch(request.digest, None)
            .await
            .map_err(|e| self.failed(&format!("fetching manifest {}", request.digest), e))?;
        let mut fetched = 1;
        // Depth first, so that only the indexes above the manifest being copied are held.
        let mut stack = vec![root];
        let mut finished = None;
        while let Some(top) = stack.last_mut() {
            if let Some(child) = top.children.get(top.next).cloned() {
                top.next += 1;
                if self.manifests_done.contains(&child.digest) {
                    continue;
                }
                let step = format!("fetching manifest {}", child.digest);
                if stack.len() > MAX_INDEX_DEPTH {
                    return Err(self.failed(
                        &step,
                        self.error(format!(
                            "image indexes nested deeper than {MAX_INDEX_DEPTH} levels"
                        )),
                    ));
                }
                fetched += 1;
                if fetched > MAX_COPY_MANIFESTS {
                    return Err(self.failed(
                        &step,
                        self.error(format!(
                            "more than {MAX_COPY_MANIFESTS} manifests in one copy"
                        )),
                    ));
                }
                let pending = self
                    .fetch(&child.digest, Some(child.size))
                    .await
                    .map_err(|e| self.failed(&step, e))?;
                stack.push(pending);
                continue;
            }
            let done = stack.pop().expect("the loop holds a manifest");
            for blob in &done.blobs {
                self.copy_blob(blob).await.map_err(|e| {
                    self.failed(
                        &format!("copying blob {} of manifest {}", blob.digest, done.digest),
                        e,
                    )
                })?;
            }
            self.destination
                .put_manifest(&done.digest, done.media_type, &done.bytes, &done.digest)
                .await
                .map_err(|e| self.failed(&format!("pushing manifest {}", done.digest), e))?;
            self.report.manifests += 1;
            self.manifests_done.insert(done.digest.clone());
            finished = Some(done);
        }
        let root = finished.expect("the root manifest is pushed last");
        if let Some(tag) = request.tag {
            self.destination
                .put_manifest(tag, root.media_type, &root.bytes, &root.digest)
                .await
                .map_err(|e| self.failed(&format!("tagging it {tag}"), e))?;
        }
        Ok(self.report)
    }

    /// A manifest or index of the source repository, its bytes checked against `digest` (and
    /// `declared_size`, the size its index gives).
    async fn fetch(&self, digest: &str, declared_size: Option<i64>) -> Result<Pending, ImageError> {
        validate_digest(digest).map_err(|m| self.error(m))?;
        let document = self
            .source
            .manifest(digest, &ACCEPTED, MAX_JSON_BYTES)
            .await?;
        let actual = sha256_digest(&document.bytes);
        if actual != digest {
            return Err(ImageError::DigestMismatch {
                input: format!(
                    "{}/{}@{digest}",
                    self.request.registry, self.request.source_repository
                ),
                expected: digest.to_owned(),
                actual,
            });
        }
        if let Some(size) = declared_size
            && u64::try_from(size).ok() != Some(document.bytes.len() as u64)
        {
            return Err(self.error(format!(
                "the manifest is {} bytes, its index declares {size}",
                document.bytes.len()
            )));
        }
        let fields: Fields =
            serde_json::from_slice(&document.bytes).map_err(|source| ImageError::Json {
                path: format!("{}@{digest}", self.request.source_repository),
                source,
            })?;
        // Docker's schema 2 may leave the media type to the Content-Type header.
        let announced = fields.media_type.or(document.content_type);
        let media_type = ACCEPTED
            .into_iter()
            .find(|known| announced.as_deref() == Some(*known))
            .ok_or_else(|| {
                self.error(format!(
                    "media type `{}` is not one a copy handles (OCI or Docker schema 2 \
                     manifests and indexes)",
                    announced.as_deref().unwrap_or("none")
                ))
            })?;
        let is_index = INDEX_TYPES.contains(&media_type);
        let (children, blobs) = if is_index {
            (fields.manifests, Vec::new())
        } else {
            let config = fields
                .config
                .ok_or_else(|| self.error("the manifest has no config".to_owned()))?;
            let layers = fields.layers.into_iter().filter(|layer| {
                !layer
                    .media_type
                    .as_deref()
                    .is_some_and(|t| FOREIGN_LAYER_TYPES.contains(&t))
            });
            (Vec::new(), std::iter::once(config).chain(layers).collect())
        };
        for descriptor in children.iter().chain(&blobs) {
            validate_digest(&descriptor.digest).map_err(|m| self.error(m))?;
        }
        Ok(Pending {
            digest: digest.to_owned(),
            media_type,
            bytes: Bytes::from(document.bytes),
            children,
            next: 0,
            blobs,
        })
    }

    /// Makes blob `blob` present in the destination: already there, mounted, or uploaded.
    async fn copy_blob(&mut self, blob: &Descriptor) -> Result<(), ImageError> {
        if !self.blobs_seen.insert(blob.digest.clone()) {
            return Ok(());
        }
        if self.blobs_seen.len() > MAX_COPY_BLOBS {
            return Err(self.error(format!("more than {MAX_COPY_BLOBS} blobs in one copy")));
        }
        // Refused before anything is asked, as a pull refuses before downloading.
        if u64::try_from(blob.size).map_or(true, |size| size > self.max_blob_bytes) {
            return Err(self.error(format!(
                "the descriptor declares {} bytes (the limit is {} bytes)",
                blob.size, self.max_blob_bytes
            )));
        }
        if self.destination.blob_exists(&blob.digest).await? {
            self.report.blobs_present += 1;
            return Ok(());
        }
        match self
            .destination
            .mount_blob(&blob.digest, self.request.source_repository)
            .await?
        {
            Mount::Mounted => self.report.blobs_mounted += 1,
            Mount::Upload(location) => {
                let uploaded = self
                    .destination
                    .upload_blob(
                        self.source,
                        &location,
                        &blob.digest,
                        blob.size,
                        self.max_blob_bytes,
                    )
                    .await;
                if let Err(error) = uploaded {
                    self.destination.cancel_upload(&location).await;
                    return Err(error);
                }
                self.report.blobs_copied += 1;
            }
        }
        Ok(())
    }

    fn error(&self, message: String) -> ImageError {
        ImageError::Registry {
            registry: self.request.registry.to_owned(),
            message,
        }
    }

    /// `error` with what the copy was doing: the source, digest and destination, the step, and
    /// that the tag was left alone.
    fn failed(&self, step: &str, error: ImageError) -> ImageError {
        let request = self.request;
        let tag = request
            .tag
            .map(|tag| format!(" ({}:{tag} left as it was)", request.destination_repository))
            .unwrap_or_default();
        let context = format!(
            "copy of {}@{} to {} failed{tag}, {step}",
            request.source_repository, request.digest, request.destination_repository
        );
        match error {
            ImageError::Registry { registry, message } => ImageError::Registry {
                registry,
                message: format!("{context}: {message}"),
            },
            ImageError::Unavailable { registry, message } => ImageError::Unavailable {
                registry,
                message: format!("{context}: {message}"),
            },
            other => self.error(format!("{context}: {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names_and_tags_follow_the_distribution_grammar() {
        for good in ["app", "staging/app", "a.b_c__d---e/f1", "0"] {
            assert!(is_repository_name(good), "{good}");
        }
        for bad in [
            "", "App", "/app", "app/", "a//b", "a..b", "a___b", "-a", "a-", "a b", "a/../b", "é",
            "a?b", "a%2fb",
        ] {
            assert!(!is_repository_name(bad), "{bad}");
        }
        for good in ["1.0", "latest", "_x", "v1.2.3-rc.1", &"a".repeat(128)] {
            assert!(is_tag(good), "{good}");
        }
        for bad in ["", ".x", "-x", "a/b", "a:b", "a b", &"a".repeat(129)] {
            assert!(!is_tag(bad), "{bad}");
        }
    }

    #[test]
    fn a_request_with_a_bad_name_is_refused_before_anything_is_sent() {
        let request = CopyRequest {
            registry: "127.0.0.1:1",
            source_repository: "staging/app",
            digest: "sha256:00",
            destination_repository: "release/app",
            tag: None,
        };
        let error = check_request(&request).unwrap_err().to_string();
        assert!(error.contains("malformed digest"), "{error}");
        let error = check_request(&CopyRequest {
            digest: &sha256_digest(b""),
            tag: Some("../x"),
            ..request
        })
        .unwrap_err()
        .to_string();
        assert!(error.contains("`../x` is not a tag"), "{error}");
    }
}
