//! Images pulled from a registry with the OCI distribution API.
//!
//! Manifests are fetched raw so that we check their digests and choose the platform ourselves
//! (the same way as for OCI layouts); blobs go through `oci_client`, which checks each blob's
//! digest while downloading. Layer blobs land in the cache directory under their digest, only
//! when a layer is actually needed: a layer whose results are cached is never downloaded.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Once;

use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use rempart_core::ImageMetadata;
use serde::Deserialize;

use crate::digest::{sha256_digest, validate_digest};
use crate::error::ImageError;
use crate::source::platform::{self, Platform};
use crate::source::{ImageSource, LayerInfo, MAX_JSON_BYTES, parse_config};

const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];
const MANIFEST_TYPES: [&str; 2] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// How to reach and authenticate to a registry.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Explicit credentials; when absent, `$DOCKER_CONFIG/config.json` or
    /// `~/.docker/config.json` (and the credential helpers it names) are asked.
    pub username: Option<String>,
    pub password: Option<String>,
    /// Plain HTTP and unverified TLS for this registry. Off by default.
    pub insecure: bool,
    /// Extra PEM certificate authorities to trust (a private registry's CA).
    pub ca_certificates: Vec<PathBuf>,
    /// Where verified blobs are stored; must be inside the cache directory.
    pub blob_dir: PathBuf,
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
    platform: Option<IndexPlatform>,
}

#[derive(Deserialize)]
struct IndexPlatform {
    os: String,
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

/// An image in a registry. The client keeps the credentials it was first given for the
/// registry, so blob pulls reuse them.
pub struct RegistryImage {
    runtime: tokio::runtime::Runtime,
    client: Client,
    reference: Reference,
    blob_dir: PathBuf,
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
        let parsed: Reference = reference
            .parse()
            .map_err(|e| ImageError::invalid(reference, format!("not an image reference: {e}")))?;
        let registry = parsed.resolve_registry().to_owned();
        let registry_error = |message: String| ImageError::Registry {
            registry: registry.clone(),
            message,
        };
        let mut extra_root_certificates = Vec::new();
        for path in &options.ca_certificates {
            let data = std::fs::read(path).map_err(|e| ImageError::io(path, e))?;
            extra_root_certificates.push(Certificate {
                encoding: CertificateEncoding::Pem,
                data,
            });
        }
        let config = ClientConfig {
            protocol: if options.insecure {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            accept_invalid_certificates: options.insecure,
            extra_root_certificates,
            platform_resolver: None,
            connect_timeout: Some(std::time::Duration::from_secs(30)),
            read_timeout: Some(std::time::Duration::from_mins(2)),
            ..ClientConfig::default()
        };
        let client = Client::new(config);
        let auth = resolve_auth(&registry, options);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| registry_error(format!("cannot start the I/O runtime: {e}")))?;

        let accepted: Vec<&str> = MANIFEST_TYPES
            .iter()
            .chain(INDEX_TYPES.iter())
            .copied()
            .collect();
        let fetch = |target: &Reference| -> Result<(Manifest, String), ImageError> {
            let (bytes, digest) = runtime
                .block_on(client.pull_manifest_raw(target, &auth, &accepted))
                .map_err(|e| registry_error(format!("{target}: {e}")))?;
            if bytes.len() as u64 > MAX_JSON_BYTES {
                return Err(registry_error(format!(
                    "{target}: manifest over {MAX_JSON_BYTES} bytes"
                )));
            }
            let actual = sha256_digest(&bytes);
            let expected = target.digest().map_or(digest, str::to_owned);
            if actual != expected {
                return Err(ImageError::DigestMismatch {
                    input: target.to_string(),
                    expected,
                    actual,
                });
            }
            let manifest = serde_json::from_slice(&bytes).map_err(|source| ImageError::Json {
                path: target.to_string(),
                source,
            })?;
            Ok((manifest, actual))
        };

        let (mut manifest, mut manifest_digest) = fetch(&parsed)?;
        let mut hops = 0;
        while !manifest.manifests.is_empty()
            || manifest
                .media_type
                .as_deref()
                .is_some_and(|t| INDEX_TYPES.contains(&t))
        {
            hops += 1;
            if hops > 4 {
                return Err(registry_error(format!(
                    "{parsed}: image indexes nested too deep"
                )));
            }
            let picked = platform::select(
                manifest.manifests.iter().filter_map(|m| {
                    m.platform.as_ref().map(|p| {
                        (
                            m.digest.as_str(),
                            p.os.as_str(),
                            p.architecture.as_str(),
                            p.variant.as_deref(),
                        )
                    })
                }),
                platform,
            )
            .map_err(|available| ImageError::NoMatchingPlatform {
                input: parsed.to_string(),
                platform: platform.to_string(),
                available,
            })?
            .to_owned();
            (manifest, manifest_digest) = fetch(&parsed.clone_with_digest(picked))?;
        }
        let config_blob = manifest
            .config
            .clone()
            .ok_or_else(|| registry_error(format!("{parsed}: manifest has no config")))?;
        if u64::try_from(config_blob.size).unwrap_or(u64::MAX) > MAX_JSON_BYTES {
            return Err(registry_error(format!(
                "{parsed}: config over {MAX_JSON_BYTES} bytes"
            )));
        }
        let mut config_bytes = Vec::new();
        runtime
            .block_on(client.pull_blob(&parsed, &descriptor(&config_blob), &mut config_bytes))
            .map_err(|e| registry_error(format!("{parsed}: config {}: {e}", config_blob.digest)))?;
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
        let temp = tempfile::NamedTempFile::new_in(&self.blob_dir)
            .map_err(|e| ImageError::io(&self.blob_dir, e))?;
        let file = temp.reopen().map_err(|e| ImageError::io(temp.path(), e))?;
        let mut out = tokio::fs::File::from_std(file);
        self.runtime
            .block_on(async {
                self.client
                    .pull_blob(&self.reference, &descriptor(blob), &mut out)
                    .await?;
                tokio::io::AsyncWriteExt::flush(&mut out).await?;
                Ok::<(), oci_client::errors::OciDistributionError>(())
            })
            .map_err(|e| ImageError::Registry {
                registry: self.reference.resolve_registry().to_owned(),
                message: format!("{}: blob {}: {e}", self.reference, blob.digest),
            })?;
        temp.persist(&target)
            .map_err(|e| ImageError::io(&target, e.error))?;
        Ok(target)
    }
}

fn descriptor(blob: &Blob) -> OciDescriptor {
    OciDescriptor {
        media_type: blob.media_type.clone(),
        digest: blob.digest.clone(),
        size: blob.size,
        ..OciDescriptor::default()
    }
}

/// Explicit credentials first, then the Docker config and its credential helpers.
fn resolve_auth(registry: &str, options: &RegistryOptions) -> RegistryAuth {
    if let (Some(user), Some(password)) = (&options.username, &options.password) {
        return RegistryAuth::Basic(user.clone(), password.clone());
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
        Ok(docker_credential::DockerCredential::UsernamePassword(user, password)) => {
            RegistryAuth::Basic(user, password)
        }
        Ok(docker_credential::DockerCredential::IdentityToken(token)) => {
            RegistryAuth::Bearer(token)
        }
        Err(error) => {
            tracing::debug!(registry, %error, "no stored credentials, pulling anonymously");
            RegistryAuth::Anonymous
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

/// The default blob directory under a cache root.
pub fn blob_dir(cache_root: &Path) -> PathBuf {
    cache_root.join("blobs").join("sha256")
}
