//! Images pulled from a registry with the OCI distribution API.
//!
//! Manifests are fetched raw so that we check their digests and choose the platform ourselves
//! (the same way as for OCI layouts); every response is bounded in size and time (see
//! [`client`]). Layer blobs land in the cache directory under their digest, only when a layer is
//! actually needed: a layer whose results are cached is never downloaded. [`copy`] pushes, to copy
//! an image between repositories of one registry.

mod artifacts;
mod client;
mod copy;

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::Duration;

use oci_spec::distribution::Reference;
use rempart_core::ImageMetadata;
use serde::Deserialize;

use crate::digest::{sha256_digest, validate_digest};
use crate::error::ImageError;
use crate::limits::Limits;
use crate::source::platform::{self, Platform};
use crate::source::{ImageSource, LayerInfo, MAX_JSON_BYTES, parse_config};

pub use artifacts::{
    FetchedManifest, MAX_ARTIFACT_BYTES, OCI_INDEX, OCI_MANIFEST, Referrer, ReferrersSource,
    RegistryRepository, referrers_tag,
};
pub use client::RegistryTimeouts;
use client::{Credentials, DistributionClient};
pub use copy::{CopyReport, CopyRequest, copy_image, resolve_digest};

/// Image indexes followed from the reference to a manifest (an index may list indexes).
const MAX_INDEX_DEPTH: usize = 4;

const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];
const MANIFEST_TYPES: [&str; 2] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// How to reach and authenticate to a registry.
#[derive(Clone, Default)]
pub struct RegistryOptions {
    /// Explicit credentials; when absent, `$DOCKER_CONFIG/config.json` or
    /// `~/.docker/config.json` (and the credential helpers it names) are asked.
    pub username: Option<String>,
    pub password: Option<String>,
    /// A bearer token already issued for this registry, sent as is when the registry asks for
    /// a bearer token (instead of asking its token service); takes precedence over the rest.
    pub registry_token: Option<String>,
    /// Plain HTTP and unverified TLS for this registry. Off by default.
    pub insecure: bool,
    /// Extra PEM certificate authorities to trust (a private registry's CA).
    pub ca_certificates: Vec<PathBuf>,
    /// Where verified blobs are stored; must be inside the cache directory.
    pub blob_dir: PathBuf,
    pub timeouts: RegistryTimeouts,
    /// The largest layer blob downloaded; larger declared sizes are refused before downloading.
    pub max_blob_bytes: u64,
}

impl RegistryOptions {
    /// Options with the default time limits and the walker's per-layer size cap for blobs.
    pub fn new(blob_dir: PathBuf) -> RegistryOptions {
        RegistryOptions {
            username: None,
            password: None,
            registry_token: None,
            insecure: false,
            ca_certificates: Vec::new(),
            blob_dir,
            timeouts: RegistryTimeouts::default(),
            max_blob_bytes: Limits::default().max_layer_bytes,
        }
    }
}

/// What a user sets about reaching registries (command-line flags, the server's settings), made
/// into [`RegistryOptions`] in one place for every caller.
#[derive(Clone, Default)]
pub struct RegistrySettings {
    pub username: Option<String>,
    pub password: Option<String>,
    /// Plain HTTP and unverified TLS (test set-ups only).
    pub insecure: bool,
    /// Extra PEM certificate authorities to trust.
    pub ca_certificates: Vec<PathBuf>,
    /// The time limit for one whole pull.
    pub pull_timeout: Option<Duration>,
    /// The time limit for connecting, for the first byte of an answer and between two bytes.
    pub request_timeout: Option<Duration>,
}

impl RegistrySettings {
    /// The options for pulls that store verified blobs under `blob_dir`.
    pub fn options(&self, blob_dir: PathBuf) -> RegistryOptions {
        let mut options = RegistryOptions::new(blob_dir);
        options.username.clone_from(&self.username);
        options.password.clone_from(&self.password);
        options.insecure = self.insecure;
        options.ca_certificates.clone_from(&self.ca_certificates);
        if let Some(total) = self.pull_timeout {
            options.timeouts.total = total;
        }
        if let Some(each) = self.request_timeout {
            options.timeouts.connect = each;
            options.timeouts.first_byte = each;
            options.timeouts.idle = each;
            options.timeouts.document = options.timeouts.document.max(each);
        }
        options
    }
}

impl std::fmt::Debug for RegistrySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret, even in a debug log.
        f.debug_struct("RegistrySettings")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("insecure", &self.insecure)
            .field("ca_certificates", &self.ca_certificates)
            .field("pull_timeout", &self.pull_timeout)
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

impl std::fmt::Debug for RegistryOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret, even in a debug log.
        let hidden = |secret: &Option<String>| secret.as_ref().map(|_| "***");
        f.debug_struct("RegistryOptions")
            .field("username", &self.username)
            .field("password", &hidden(&self.password))
            .field("registry_token", &hidden(&self.registry_token))
            .field("insecure", &self.insecure)
            .field("ca_certificates", &self.ca_certificates)
            .field("blob_dir", &self.blob_dir)
            .field("timeouts", &self.timeouts)
            .field("max_blob_bytes", &self.max_blob_bytes)
            .finish()
    }
}

/// Manifest fields we need, for both OCI and Docker media types (oci-spec's `ImageManifest`
/// refuses Docker's `mediaType` values in some versions, so we read just these fields).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    config: Option<Blob>,
    #[serde(default)]
    layers: Vec<Blob>,
    #[serde(default)]
    manifests: Vec<IndexEntry>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Blob {
    media_type: String,
    digest: String,
    size: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexEntry {
    digest: String,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    platform: Option<IndexPlatform>,
}

#[derive(Deserialize)]
struct IndexPlatform {
    os: String,
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

/// An image in a registry. The client keeps the authorization its first challenge led to, so
/// blob pulls reuse it.
pub struct RegistryImage {
    runtime: tokio::runtime::Runtime,
    client: DistributionClient,
    reference: Reference,
    blob_dir: PathBuf,
    max_blob_bytes: u64,
    metadata: ImageMetadata,
    layers: Vec<LayerInfo>,
    descriptors: Vec<Blob>,
}

fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Another part of the process may have installed one already; either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl RegistryImage {
    pub fn open(
        reference: &str,
        platform: &Platform,
        options: &RegistryOptions,
    ) -> Result<RegistryImage, ImageError> {
        install_crypto_provider();
        let parsed: Reference = crate::parse_reference(reference)
            .map_err(|e| ImageError::invalid(reference, format!("not an image reference: {e}")))?;
        let registry = parsed.resolve_registry().to_owned();
        let registry_error = |message: String| ImageError::Registry {
            registry: registry.clone(),
            message,
        };
        let client = DistributionClient::new(
            &registry,
            parsed.repository(),
            resolve_auth(&registry, options),
            options.insecure,
            &trusted_roots(options)?,
            options.timeouts,
        )?;
        let runtime = io_runtime(&registry)?;

        let accepted: Vec<&str> = MANIFEST_TYPES
            .iter()
            .chain(INDEX_TYPES.iter())
            .copied()
            .collect();
        let fetch = |target: &str| -> Result<(Manifest, String), ImageError> {
            let document = runtime.block_on(client.manifest(target, &accepted, MAX_JSON_BYTES))?;
            let actual = sha256_digest(&document.bytes);
            if target.starts_with("sha256:") && actual != target {
                return Err(ImageError::DigestMismatch {
                    input: format!("{parsed}: manifest {target}"),
                    expected: target.to_owned(),
                    actual,
                });
            }
            let mut manifest: Manifest =
                serde_json::from_slice(&document.bytes).map_err(|source| ImageError::Json {
                    path: format!("{parsed}: manifest {target}"),
                    source,
                })?;
            // Docker's schema 2 leaves the media type to the Content-Type header.
            if manifest.media_type.is_none() {
                manifest.media_type = document.content_type;
            }
            Ok((manifest, actual))
        };

        let first = parsed
            .digest()
            .or(parsed.tag())
            .unwrap_or("latest")
            .to_owned();
        let (mut manifest, mut manifest_digest) = fetch(&first)?;
        let mut depth = 0;
        while !manifest.manifests.is_empty()
            || manifest
                .media_type
                .as_deref()
                .is_some_and(|t| INDEX_TYPES.contains(&t))
        {
            depth += 1;
            if depth > MAX_INDEX_DEPTH {
                return Err(registry_error(format!(
                    "{parsed}: image indexes nested deeper than {MAX_INDEX_DEPTH} levels"
                )));
            }
            // An index may list other indexes (with or without a platform): with no platform
            // entry matching, a single nested index is followed.
            let with_platform: Vec<(&str, &str, &str, Option<&str>)> = manifest
                .manifests
                .iter()
                .filter_map(|m| {
                    m.platform.as_ref().map(|p| {
                        (
                            m.digest.as_str(),
                            p.os.as_str(),
                            p.architecture.as_str(),
                            p.variant.as_deref(),
                        )
                    })
                })
                .collect();
            let nested: Vec<&IndexEntry> = manifest
                .manifests
                .iter()
                .filter(|m| {
                    m.media_type
                        .as_deref()
                        .is_some_and(|t| INDEX_TYPES.contains(&t))
                })
                .collect();
            let picked = match platform::select(with_platform.iter().copied(), platform) {
                Ok(digest) => digest.to_owned(),
                Err(_) if nested.len() == 1 => nested[0].digest.clone(),
                Err(available) => {
                    return Err(ImageError::NoMatchingPlatform {
                        input: parsed.to_string(),
                        platform: platform.to_string(),
                        available: if available.is_empty() && !manifest.manifests.is_empty() {
                            format!("{} entries without a platform", manifest.manifests.len())
                        } else {
                            available
                        },
                    });
                }
            };
            validate_digest(&picked).map_err(|m| registry_error(format!("{parsed}: {m}")))?;
            (manifest, manifest_digest) = fetch(&picked)?;
        }
        let config_blob = manifest
            .config
            .clone()
            .ok_or_else(|| registry_error(format!("{parsed}: manifest has no config")))?;
        validate_digest(&config_blob.digest)
            .map_err(|m| registry_error(format!("{parsed}: config: {m}")))?;
        let config_bytes = runtime.block_on(client.small_blob(
            &config_blob.digest,
            config_blob.size,
            MAX_JSON_BYTES,
        ))?;
        let parsed_config = parse_config(&config_bytes, &format!("{parsed} config"))?;
        if parsed_config.diff_ids.len() != manifest.layers.len() {
            return Err(registry_error(format!(
                "{parsed}: manifest lists {} layers but the config has {} diff ids",
                manifest.layers.len(),
                parsed_config.diff_ids.len()
            )));
        }
        let layers = manifest
            .layers
            .iter()
            .zip(parsed_config.diff_ids)
            .zip(parsed_config.layer_history)
            .map(|((blob, diff_id), created_by)| LayerInfo {
                diff_id,
                digest: Some(blob.digest.clone()),
                media_type: Some(blob.media_type.clone()),
                size: u64::try_from(blob.size).ok(),
                created_by,
            })
            .collect();
        let metadata = ImageMetadata {
            name: reference.to_owned(),
            repo_tags: parsed
                .tag()
                .map(|t| vec![format!("{}:{t}", parsed.repository())])
                .unwrap_or_default(),
            manifest_digest: Some(manifest_digest),
            config_digest: Some(config_blob.digest.clone()),
            requested_tag: parsed.tag().map(str::to_owned),
            pinned_by_digest: parsed.digest().is_some(),
            ..parsed_config.metadata
        };
        std::fs::create_dir_all(&options.blob_dir)
            .map_err(|e| ImageError::io(&options.blob_dir, e))?;
        Ok(RegistryImage {
            runtime,
            client,
            reference: parsed,
            blob_dir: options.blob_dir.clone(),
            max_blob_bytes: options.max_blob_bytes,
            metadata,
            layers,
            descriptors: manifest.layers,
        })
    }

    /// Downloads a layer blob into the blob directory unless it is already there. Blobs are
    /// written to a temporary file and renamed only once their digest has been checked, so the
    /// directory only ever holds verified blobs, even across interrupted or concurrent scans.
    fn fetch_blob(&self, blob: &Blob) -> Result<PathBuf, ImageError> {
        let hex = validate_digest(&blob.digest)
            .map_err(|m| ImageError::invalid(self.reference.to_string(), m))?;
        let target = self.blob_dir.join(hex);
        if target.is_file() {
            return Ok(target);
        }
        // A partial or refused download is deleted with the temporary file.
        let temp = tempfile::NamedTempFile::new_in(&self.blob_dir)
            .map_err(|e| ImageError::io(&self.blob_dir, e))?;
        let file = temp.reopen().map_err(|e| ImageError::io(temp.path(), e))?;
        let mut out = tokio::fs::File::from_std(file);
        self.runtime.block_on(self.client.blob_to_file(
            &blob.digest,
            blob.size,
            self.max_blob_bytes,
            &mut out,
        ))?;
        drop(out);
        temp.persist(&target)
            .map_err(|e| ImageError::io(&target, e.error))?;
        Ok(target)
    }
}

/// The certificate authorities the options add to the system's.
fn trusted_roots(options: &RegistryOptions) -> Result<Vec<reqwest::Certificate>, ImageError> {
    let mut extra_roots = Vec::new();
    for path in &options.ca_certificates {
        let pem = rempart_core::read_regular_file(path, MAX_JSON_BYTES)
            .map_err(|e| ImageError::io(path, e))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            ImageError::invalid(
                path.display().to_string(),
                format!("not PEM certificates: {e}"),
            )
        })?;
        extra_roots.extend(certificates);
    }
    Ok(extra_roots)
}

/// The runtime that drives a registry client's requests from synchronous code.
fn io_runtime(registry: &str) -> Result<tokio::runtime::Runtime, ImageError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| ImageError::Registry {
            registry: registry.to_owned(),
            message: format!("cannot start the I/O runtime: {e}"),
        })
}

/// Explicit credentials first, then the Docker config and its credential helpers.
fn resolve_auth(registry: &str, options: &RegistryOptions) -> Credentials {
    if let Some(token) = &options.registry_token {
        return Credentials::RegistryToken(token.clone());
    }
    if let (Some(user), Some(password)) = (&options.username, &options.password) {
        return Credentials::Basic {
            username: user.clone(),
            password: password.clone(),
        };
    }
    // Docker keys Docker Hub's credentials under its v1 URL.
    let server = if registry == "docker.io"
        || registry == "index.docker.io"
        || registry == "registry-1.docker.io"
    {
        "https://index.docker.io/v1/"
    } else {
        registry
    };
    match docker_credential::get_credential(server) {
        Ok(docker_credential::DockerCredential::UsernamePassword(username, password)) => {
            Credentials::Basic { username, password }
        }
        Ok(docker_credential::DockerCredential::IdentityToken(token)) => {
            Credentials::IdentityToken(token)
        }
        Err(error) => {
            tracing::debug!(registry, %error, "no stored credentials, pulling anonymously");
            Credentials::Anonymous
        }
    }
}

impl ImageSource for RegistryImage {
    fn metadata(&self) -> &ImageMetadata {
        &self.metadata
    }

    fn layers(&self) -> &[LayerInfo] {
        &self.layers
    }

    fn open_layer(&self, index: usize) -> Result<Box<dyn Read + Send>, ImageError> {
        let path = self.fetch_blob(&self.descriptors[index])?;
        let file = File::open(&path).map_err(|e| ImageError::io(&path, e))?;
        Ok(Box::new(BufReader::with_capacity(256 * 1024, file)))
    }
}

/// A challenge's scheme and parameters (see [`client`]).
pub(crate) fn www_authenticate(header: &str) -> (String, Vec<(String, String)>) {
    client::challenge_parts(header)
}

/// The default blob directory under a cache root.
pub fn blob_dir(cache_root: &Path) -> PathBuf {
    cache_root.join("blobs").join("sha256")
}
