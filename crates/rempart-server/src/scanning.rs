//! The scans the server runs: the engine's `Scanner`, built once at start with every scanner on,
//! and the image sources the queue names. The result is stored before any policy: verdicts are
//! decided from it under whichever policy is asked, now or after the policy changes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rempart::{
    AnalyzerConfig, LayerCache, MalwareConfig, ScanOptions, ScanOutcome, Scanner,
    SharedLayerResults,
};
use rempart_core::{ScannerKind, VulnerabilityData};
use rempart_image::{DockerArchive, ImageSource, Platform, RegistryImage, RegistryOptions};

use crate::config::{RegistrySettings, ServerConfig};
use crate::store::ScanSource;
use crate::vault::PullCredentials;

/// The layer cache's tier shared by the replicas.
pub(crate) type SharedTier = Arc<dyn SharedLayerResults>;

/// Why a scan could not be run, and whether trying again may help (a registry that timed out)
/// or not (an archive that is not an image).
#[derive(Debug)]
pub(crate) struct ScanFailure {
    pub(crate) message: String,
    pub(crate) retry: bool,
}

pub(crate) struct ScanEngine {
    scanner: Scanner,
    database: PathBuf,
    vulnerability_data: Option<VulnerabilityData>,
    cache_dir: PathBuf,
    uploads_dir: PathBuf,
    registry: RegistrySettings,
    trust: Option<rempart_trust::TrustPolicy>,
}

/// Where uploads wait for their scan.
pub(crate) fn uploads_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("uploads")
}

/// The vulnerability database a server matches against: `--db`, else one in its data
/// directory.
pub(crate) fn database_path(config: &ServerConfig) -> PathBuf {
    config
        .database
        .clone()
        .unwrap_or_else(|| config.data_dir.join("vuln.sqlite"))
}

impl ScanEngine {
    /// `shared_layers`: the layer cache's tier shared with the other replicas, if any.
    pub(crate) fn new(
        config: &ServerConfig,
        shared_layers: Option<SharedTier>,
    ) -> Result<ScanEngine, String> {
        let cache_dir = config.data_dir.join("cache");
        let database = database_path(config);
        let vulnerability_data = rempart::ensure_database(&database, config.database.is_some())
            .map_err(|e| e.to_string())?;
        let scanners = vec![
            ScannerKind::Vuln,
            ScannerKind::Secret,
            ScannerKind::Malware,
            ScannerKind::Misconfig,
        ];
        let analyzers = rempart::build_analyzers(&AnalyzerConfig {
            scanners: scanners.clone(),
            catalog: true,
            source_tree: false,
            tree_root: None,
            secret_config: None,
            secret_max_size: None,
            config_files: rempart_misconfig::ConfigOptions::default(),
            database: Some(database.clone()),
            policies: Vec::new(),
            malware: MalwareConfig {
                cache_dir: Some(cache_dir.clone()),
                ..MalwareConfig::default()
            },
        })
        .map_err(|e| e.to_string())?;
        let mut options = ScanOptions {
            // Each scan gets a share of the cores: several run at once.
            parallel: (std::thread::available_parallelism().map_or(2, usize::from)
                / config.concurrent_scans.max(1))
            .max(1),
            ..ScanOptions::default()
        };
        match LayerCache::open(&cache_dir.join("layers.sqlite")) {
            // The local file stays the first tier: always there, and no round trip.
            Ok(cache) => {
                options.cache = Some(Arc::new(match shared_layers {
                    Some(shared) => cache.with_shared(shared),
                    None => cache,
                }));
            }
            Err(error) => tracing::warn!("scanning without the layer cache: {error}"),
        }
        let trust = match &config.trust_policy {
            Some(path) => Some(rempart_trust::TrustPolicy::load(path).map_err(|e| e.to_string())?),
            None => None,
        };
        Ok(ScanEngine {
            trust,
            database,
            scanner: Scanner::new(analyzers.files, analyzers.images, scanners, options),
            vulnerability_data: Some(vulnerability_data),
            cache_dir,
            uploads_dir: uploads_dir(&config.data_dir),
            registry: config.registry.clone(),
        })
    }

    pub(crate) fn database_path(&self) -> &Path {
        &self.database
    }

    /// Matches a stored result against this engine's vulnerability data again.
    pub(crate) fn rematch(
        &self,
        result: &mut rempart_core::ScanResult,
        inventory: &[rempart_core::InventoryEntry],
        go_symbols: &[rempart_core::GoSymbols],
    ) -> Result<(), rempart::ScanError> {
        self.scanner.rematch(result, inventory, go_symbols)?;
        result
            .vulnerability_data
            .clone_from(&self.vulnerability_data);
        Ok(())
    }

    pub(crate) fn vulnerability_data(&self) -> Option<&VulnerabilityData> {
        self.vulnerability_data.as_ref()
    }

    /// Runs one scan to its end (blocking: call it off the async threads). `credentials` are
    /// those Harbor sent for this scan, if any.
    pub(crate) fn scan(
        &self,
        source: &ScanSource,
        credentials: Option<&PullCredentials>,
    ) -> Result<ScanOutcome, ScanFailure> {
        // Registry images are verified against the trust policy with the options they were
        // pulled with.
        let mut verify_with: Option<(String, RegistryOptions)> = None;
        let image: Box<dyn ImageSource> = match source {
            ScanSource::Registry { reference } => {
                let options = self.registry_options();
                let image = pull(reference, &options)?;
                verify_with = Some((reference.clone(), options));
                Box::new(image)
            }
            ScanSource::Harbor {
                reference,
                plain_http,
                ..
            } => {
                if *plain_http && !self.registry.insecure {
                    return Err(ScanFailure {
                        message: format!(
                            "cannot pull {reference}: Harbor names a plain HTTP registry, and \
                             this server runs without --insecure-registry"
                        ),
                        retry: false,
                    });
                }
                let options = self.harbor_options(*plain_http, credentials);
                verify_with = Some((reference.clone(), options.clone()));
                Box::new(pull(reference, &options)?)
            }
            ScanSource::Upload { file, name } => {
                let path = self.uploads_dir.join(file);
                let archive = DockerArchive::open(&path, None).map_err(|e| ScanFailure {
                    message: format!("the uploaded archive `{name}` is not a readable image: {e}"),
                    retry: false,
                })?;
                Box::new(archive)
            }
        };
        let mut outcome = self
            .scanner
            .scan_image(image.as_ref())
            .map_err(|e| ScanFailure {
                message: e.to_string(),
                retry: e.is_transient(),
            })?;
        outcome
            .result
            .vulnerability_data
            .clone_from(&self.vulnerability_data);
        if let (Some(policy), Some((reference, options))) = (&self.trust, &verify_with) {
            // Verdicts are about a digest: the digest this scan pulled is verified, whatever
            // tag named it (pinning the workload's reference is admission's rule).
            let pinned =
                pinned_reference(reference, outcome.result.target.manifest_digest.as_deref());
            outcome
                .result
                .findings
                .extend(verify_trust(policy, &pinned, options)?);
            outcome.result.scanners.push(ScannerKind::Trust);
        }
        if let ScanSource::Upload { name, .. } = source {
            // The archive's temporary file name means nothing to a reader of the report.
            outcome.result.target.name.clone_from(name);
        }
        Ok(outcome)
    }

    /// Options for a registry Harbor names: its credentials for this scan only (never the
    /// server's own, which are for the registries it is configured with), plain HTTP only when
    /// Harbor's URL says so.
    fn harbor_options(
        &self,
        plain_http: bool,
        credentials: Option<&PullCredentials>,
    ) -> RegistryOptions {
        // The server's CAs and time limits; Harbor's credentials and scheme.
        let mut options = RegistrySettings {
            username: None,
            password: None,
            insecure: plain_http,
            ..self.registry.clone()
        }
        .options(rempart_image::blob_dir(&self.cache_dir));
        match credentials {
            Some(PullCredentials::Basic { username, password }) => {
                options.username = Some(username.clone());
                options.password = Some(password.clone());
            }
            Some(PullCredentials::Bearer(token)) => options.registry_token = Some(token.clone()),
            None => {}
        }
        options
    }

    /// The trust policy of `--trust-policy`, if any: what registry scans and the admission rule
    /// `images.trust` verify images against.
    pub(crate) fn trust_policy(&self) -> Option<&rempart_trust::TrustPolicy> {
        self.trust.as_ref()
    }

    pub(crate) fn registry_options(&self) -> RegistryOptions {
        self.registry
            .options(rempart_image::blob_dir(&self.cache_dir))
    }
}

/// `registry/repository@digest` for a reference and the digest its scan pulled.
fn pinned_reference(reference: &str, digest: Option<&str>) -> String {
    let Some(digest) = digest else {
        return reference.to_owned();
    };
    let without_digest = reference.split('@').next().unwrap_or(reference);
    // A tag is the part after the last `:` that follows the last `/` (a port comes before it).
    let name = match without_digest.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => name,
        _ => without_digest,
    };
    format!("{name}@{digest}")
}

/// The trust findings of a registry image.
fn verify_trust(
    policy: &rempart_trust::TrustPolicy,
    reference: &str,
    options: &RegistryOptions,
) -> Result<Vec<rempart_core::Finding>, ScanFailure> {
    let failure = |error: rempart_trust::TrustError| ScanFailure {
        retry: matches!(&error, rempart_trust::TrustError::Image(e) if e.is_transient()),
        message: format!("cannot verify the signatures of {reference}: {error}"),
    };
    let prepared = rempart_trust::PreparedPolicy::new(policy).map_err(failure)?;
    let report =
        rempart_trust::verify_registry_image(reference, options, &prepared).map_err(failure)?;
    Ok(report.findings())
}

fn pull(reference: &str, options: &RegistryOptions) -> Result<RegistryImage, ScanFailure> {
    RegistryImage::open(reference, &Platform::host_linux(), options).map_err(|e| ScanFailure {
        message: format!("cannot pull {reference}: {e}"),
        // The registry client says which failures another try may not meet.
        retry: e.is_transient(),
    })
}

#[cfg(test)]
mod tests {
    use super::pinned_reference;

    #[test]
    fn references_are_pinned_to_the_scanned_digest() {
        let digest = "sha256:0123";
        assert_eq!(
            pinned_reference("r.example:5000/a/b:1", Some(digest)),
            "r.example:5000/a/b@sha256:0123"
        );
        assert_eq!(
            pinned_reference("r.example:5000/a/b", Some(digest)),
            "r.example:5000/a/b@sha256:0123"
        );
        assert_eq!(
            pinned_reference("a/b@sha256:9", Some(digest)),
            "a/b@sha256:0123"
        );
        assert_eq!(
            pinned_reference("a/b:1@sha256:9", Some(digest)),
            "a/b@sha256:0123"
        );
        assert_eq!(pinned_reference("a/b:1", None), "a/b:1");
    }
}
