//! Builds the analyzers a scan needs from what the user asked for.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rempart_catalog::CatalogOptions;
use rempart_core::{
    AnalysisOutput, FileAnalyzer, FileMeta, FileSink, Finding, ImageAnalyzer, ImageContext,
    Interest, ScannerKind, SkipReason, SkippedEntry,
};
use rempart_malware::{MalwareConfig, MalwareScanner};
use rempart_misconfig::{ImageConfigChecks, RegoLimits, RegoPolicies, detect_kind};
use rempart_secrets::{SecretConfig, SecretScanner};
use rempart_vulndb::{Database, VulnMatcher};
use sha2::{Digest, Sha256};

/// What a scan looks for.
#[derive(Debug, Clone, Default)]
pub struct AnalyzerConfig {
    pub scanners: Vec<ScannerKind>,
    /// Catalog packages even when no vulnerability scan needs them (for an SBOM).
    pub catalog: bool,
    /// Source-tree mode: read lock files, and check configuration files found in the tree.
    pub source_tree: bool,
    /// Secret rules and allowlists on top of the built-in ones.
    pub secret_config: Option<PathBuf>,
    /// Overrides the secret configuration's size cap.
    pub secret_max_size: Option<u64>,
    /// Settings of the Dockerfile, Kubernetes and compose checks (the Pod Security Standards
    /// version, allowed registries).
    pub config_files: rempart_misconfig::ConfigOptions,
    /// The vulnerability database to open (needed with [`ScannerKind::Vuln`]).
    pub database: Option<PathBuf>,
    /// User Rego policies: `.rego` files or directories of them.
    pub policies: Vec<PathBuf>,
    /// Users' YARA rules and hash lists, and where compiled rules are cached.
    pub malware: MalwareConfig,
    /// For a source tree, where it sits on this machine: path allowlists match the path as it
    /// sits there too, whatever directory the scan started from.
    pub tree_root: Option<PathBuf>,
}

/// Why the analyzers could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzerError {
    #[error(transparent)]
    Secrets(#[from] rempart_secrets::SecretError),
    #[error(transparent)]
    VulnDb(#[from] rempart_vulndb::VulnDbError),
    #[error("the vulnerability scanner needs a database path")]
    NoDatabase,
    #[error(transparent)]
    Policy(#[from] rempart_misconfig::MisconfigError),
    #[error(transparent)]
    Malware(#[from] rempart_malware::MalwareError),
    #[error("{path}: {source}")]
    PolicyDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The analyzers of one scan.
pub struct Analyzers {
    pub files: Vec<Box<dyn FileAnalyzer>>,
    pub images: Vec<Box<dyn ImageAnalyzer>>,
}

pub fn build_analyzers(config: &AnalyzerConfig) -> Result<Analyzers, AnalyzerError> {
    let wants = |kind| config.scanners.contains(&kind);
    let mut files: Vec<Box<dyn FileAnalyzer>> = Vec::new();
    let mut images: Vec<Box<dyn ImageAnalyzer>> = Vec::new();
    if config.catalog || wants(ScannerKind::Vuln) {
        let options = if config.source_tree {
            CatalogOptions::filesystem()
        } else {
            CatalogOptions::image()
        };
        files.extend(rempart_catalog::catalogers(&options));
    }
    if wants(ScannerKind::Secret) {
        let mut secret_config = match &config.secret_config {
            Some(path) => SecretConfig::load(path)?,
            None => SecretConfig::default(),
        };
        if let Some(size) = config.secret_max_size {
            secret_config.max_file_size = Some(size);
        }
        let mut scanner = SecretScanner::new(secret_config)?;
        if let Some(root) = &config.tree_root {
            let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.clone());
            scanner = scanner.with_path_prefix(&root.to_string_lossy());
        }
        let shared = Arc::new(scanner);
        files.push(Box::new(SharedFile(Arc::clone(&shared))));
        images.push(Box::new(SharedImage(shared)));
    } else {
        // Not looking for secrets does not mean printing them: the report's copy of the image
        // config is still masked with the built-in rules.
        images.push(Box::new(MaskOnly(SecretScanner::builtin())));
    }
    if wants(ScannerKind::Misconfig) {
        let policies = load_policies(&config.policies)?;
        images.push(Box::new(ImageConfigChecks::new()));
        if let Some((policies, _)) = &policies {
            images.push(Box::new(UserPolicies(Arc::clone(policies))));
        }
        // The Dockerfiles, manifests and compose files an image carries are checked in the same
        // pass over its layers, as those of a source tree are.
        let mut options = config.config_files.clone();
        if config.source_tree && options.pipeline_root.is_none() {
            options.pipeline_root.clone_from(&config.tree_root);
        }
        files.push(Box::new(ConfigFiles {
            policies,
            options,
            workflows: config.source_tree,
        }));
    }
    if wants(ScannerKind::Malware) {
        files.push(Box::new(MalwareScanner::new(&config.malware)?));
    }
    if wants(ScannerKind::Vuln) {
        let path = config
            .database
            .as_deref()
            .ok_or(AnalyzerError::NoDatabase)?;
        images.push(Box::new(VulnMatcher::new(Database::open(path)?)));
    }
    Ok(Analyzers { files, images })
}

/// The secret rules used only to mask the report's copy of the image config.
struct MaskOnly(SecretScanner);

impl ImageAnalyzer for MaskOnly {
    fn name(&self) -> &'static str {
        "secret-mask"
    }
    fn analyze_image(
        &self,
        _image: &ImageContext<'_>,
        _findings: &mut Vec<Finding>,
    ) -> Result<(), rempart_core::ImageAnalysisError> {
        Ok(())
    }
    fn mask_secrets(&self, text: &str) -> Option<String> {
        self.0.mask(text)
    }
}

/// One secret scanner serves both the files and the image config, compiled once.
struct SharedFile(Arc<SecretScanner>);
struct SharedImage(Arc<SecretScanner>);

impl FileAnalyzer for SharedFile {
    fn name(&self) -> &'static str {
        FileAnalyzer::name(self.0.as_ref())
    }
    fn fingerprint(&self) -> String {
        self.0.fingerprint()
    }
    fn interest(&self, file: &FileMeta<'_>) -> Interest {
        self.0.interest(file)
    }
    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], out: &mut AnalysisOutput) {
        self.0.analyze(file, content, out);
    }
    fn open_stream(&self, file: &FileMeta<'_>) -> Option<Box<dyn FileSink + '_>> {
        self.0.open_stream(file)
    }
}

impl ImageAnalyzer for SharedImage {
    fn name(&self) -> &'static str {
        ImageAnalyzer::name(self.0.as_ref())
    }
    fn analyze_image(
        &self,
        image: &ImageContext<'_>,
        findings: &mut Vec<Finding>,
    ) -> Result<(), rempart_core::ImageAnalysisError> {
        self.0.analyze_image(image, findings)
    }
    fn mask_secrets(&self, text: &str) -> Option<String> {
        self.0.mask(text)
    }
}

/// Collects `.rego` files from files and directories (recursively, sorted for a stable order),
/// compiles them, and returns them with a hash of their text.
pub fn load_policies(
    paths: &[PathBuf],
) -> Result<Option<(Arc<RegoPolicies>, String)>, AnalyzerError> {
    if paths.is_empty() {
        return Ok(None);
    }
    let mut files = Vec::new();
    let mut pending: Vec<PathBuf> = paths.to_vec();
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            let entries = std::fs::read_dir(&path).map_err(|source| AnalyzerError::PolicyDir {
                path: path.clone(),
                source,
            })?;
            for entry in entries {
                let entry = entry.map_err(|source| AnalyzerError::PolicyDir {
                    path: path.clone(),
                    source,
                })?;
                pending.push(entry.path());
            }
        } else if path.extension().is_some_and(|e| e == "rego") || paths.contains(&path) {
            files.push(path);
        }
    }
    files.sort();
    let policies = RegoPolicies::from_files(&files, RegoLimits::default())?;
    // The layer cache key must change whenever a policy's text does.
    let mut hasher = Sha256::new();
    for file in &files {
        let text = rempart_core::read_regular_file(file, rempart_misconfig::MAX_POLICY_FILE_BYTES)
            .map_err(|source| AnalyzerError::PolicyDir {
                path: file.clone(),
                source,
            })?;
        hasher.update(file.to_string_lossy().as_bytes());
        hasher.update(&text);
    }
    Ok(Some((Arc::new(policies), hex::encode(hasher.finalize()))))
}

/// User Rego policies over the image (config, OS, packages).
struct UserPolicies(Arc<RegoPolicies>);

impl ImageAnalyzer for UserPolicies {
    fn name(&self) -> &'static str {
        "user-policies"
    }
    fn analyze_image(
        &self,
        image: &ImageContext<'_>,
        findings: &mut Vec<Finding>,
    ) -> Result<(), rempart_core::ImageAnalysisError> {
        match self.0.evaluate_image(image) {
            Ok(found) => findings.extend(found),
            // A broken or runaway user policy must be visible, but it is the policy's failure,
            // not the image's: the other checks' findings still stand.
            Err(error) => tracing::error!(%error, "user policy failed on the image"),
        }
        Ok(())
    }
}

/// Dockerfiles, Kubernetes manifests and compose files found in a source tree.
struct ConfigFiles {
    /// User policies and the hash of their text.
    policies: Option<(Arc<RegoPolicies>, String)>,
    options: rempart_misconfig::ConfigOptions,
    /// CI workflows are checked in source trees, where they run; in an image they are files
    /// some package shipped and nothing executes.
    workflows: bool,
}

/// Configuration files are small; anything larger is not a hand-written manifest.
const MAX_CONFIG_FILE_BYTES: u64 = 4 * 1024 * 1024;

impl FileAnalyzer for ConfigFiles {
    /// Dockerfiles, manifests and compose files are found by name.
    fn reads_by_name(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "config-files"
    }
    fn fingerprint(&self) -> String {
        // User policies change what this analyzer reports, so they are part of the cache key.
        let policies = self.policies.as_ref().map_or("", |(_, hash)| hash.as_str());
        format!(
            "rempart-misconfig {} r5 options={:?} workflows={} policies={policies}",
            env!("CARGO_PKG_VERSION"),
            self.options,
            self.workflows
        )
    }
    fn interest(&self, file: &FileMeta<'_>) -> Interest {
        let name = file.file_name();
        let candidate = rempart_misconfig::is_dockerfile_name(name)
            || std::path::Path::new(name).extension().is_some_and(|ext| {
                ext.eq_ignore_ascii_case("yaml") || ext.eq_ignore_ascii_case("yml")
            });
        if candidate {
            Interest::Whole {
                max_bytes: MAX_CONFIG_FILE_BYTES,
            }
        } else {
            Interest::Skip
        }
    }
    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], out: &mut AnalysisOutput) {
        let path = Path::new(file.path);
        match detect_kind(path, content) {
            None => return,
            Some(
                rempart_misconfig::ConfigKind::GithubWorkflow
                | rempart_misconfig::ConfigKind::GitlabCi,
            ) if !self.workflows => return,
            Some(_) => {}
        }
        let mut results = vec![rempart_misconfig::scan_config_file_with(
            path,
            content,
            &self.options,
        )];
        if let Some((policies, _)) = &self.policies {
            results.push(policies.evaluate_config_file(path, content));
        }
        for result in results {
            match result {
                Ok(findings) => out.findings.extend(findings),
                Err(error) => out.skipped.push(SkippedEntry {
                    path: file.path.to_owned(),
                    layer: None,
                    reason: SkipReason::Unreadable,
                    detail: Some(error.to_string()),
                }),
            }
        }
    }
}
