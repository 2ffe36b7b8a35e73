//! `rempart db push` / `rempart db pull`: the vulnerability database as one OCI artifact, so an
//! air-gapped site or a fleet of servers takes it from its own registry.
//!
//! The artifact is an OCI image manifest with `artifactType`
//! [`DB_ARTIFACT_TYPE`], the empty config, and one layer: the `SQLite` file compressed with zstd.
//! Its annotations carry what a puller checks before downloading the layer: the schema version,
//! the build time and each source's snapshot date. Being a plain manifest, it is signed and
//! verified as any image: `db push --key` signs it in cosign's signature format (the `.sig`
//! tag that cosign and rempart's verifier read), and `db pull --trust-policy` refuses it unless
//! the trust policy's rule for its repository is met, checked on the very digest whose layer is
//! then downloaded.
//!
//! A pull never replaces a working database with a broken, older or wrong-schema one: the
//! manifest's schema version must be the one this rempart reads, its build time must not be
//! older than the database in place (unless forced), the layer must match its digest, and the
//! decompressed file must open and pass the database's own checks before it is renamed over the
//! old one.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use rempart_image::{RegistryOptions, RegistryRepository};
use rempart_trust::{PreparedPolicy, Signed, SigningKey, TrustPolicy};
use rempart_vulndb::{Database, SCHEMA_VERSION};
use serde::Deserialize;

/// The artifact type of a rempart vulnerability database.
pub const DB_ARTIFACT_TYPE: &str = "application/vnd.rempart.vulndb.v1";
/// The media type of its one layer.
pub const DB_LAYER_TYPE: &str = "application/vnd.rempart.vulndb.layer.v1.sqlite+zstd";
const EMPTY_CONFIG_TYPE: &str = "application/vnd.oci.empty.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const SCHEMA_ANNOTATION: &str = "dev.rempart.vulndb.schema-version";
const BUILT_AT_ANNOTATION: &str = "dev.rempart.vulndb.built-at";
const SOURCES_ANNOTATION: &str = "dev.rempart.vulndb.sources";
const ADVISORIES_ANNOTATION: &str = "dev.rempart.vulndb.advisories";
/// The largest compressed layer pulled (a full database compresses to about a fifth).
const MAX_LAYER_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// The largest database written from a pull.
const MAX_DATABASE_BYTES: u64 = 16 * 1024 * 1024 * 1024;

/// Why a push or pull failed; the database in place is untouched in every case.
#[derive(Debug, thiserror::Error)]
pub enum DbArtifactError {
    #[error(transparent)]
    Registry(#[from] rempart_image::ImageError),
    #[error(transparent)]
    Database(#[from] rempart_vulndb::VulnDbError),
    #[error(transparent)]
    Trust(#[from] rempart_trust::TrustError),
    #[error("{reference}: {reason}")]
    Refused { reference: String, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What was pushed or pulled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbArtifact {
    /// The manifest's digest.
    pub digest: String,
    pub schema_version: u32,
    /// Seconds since the epoch the database was built.
    pub built_at: u64,
    /// Compressed layer size.
    pub layer_bytes: u64,
    /// Whether the database in place was replaced (a pull of the build already in place
    /// downloads nothing and replaces nothing).
    pub replaced: bool,
    /// The signature a push made (`--key`).
    pub signature: Option<Signed>,
    /// What the trust policy found on a pull (`--trust-policy`): the rule and who signed.
    pub trusted_by: Option<String>,
}

impl DbArtifact {
    /// `sha256:… (trusted: rule …)`: what a log line says of a pull.
    pub fn describe(&self) -> String {
        match &self.trusted_by {
            Some(trusted) => format!("{} (trusted: {trusted})", self.digest),
            None => self.digest.clone(),
        }
    }
}

/// What a pull checks beyond the artifact's own consistency.
#[derive(Debug, Default, Clone, Copy)]
pub struct PullChecks<'a> {
    /// Take a database older than the one in place.
    pub allow_older: bool,
    /// Refuse the artifact unless this policy's rule for its repository is met.
    pub trust_policy: Option<&'a TrustPolicy>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    #[serde(default)]
    artifact_type: Option<String>,
    #[serde(default)]
    layers: Vec<Descriptor>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    media_type: String,
    digest: String,
    size: i64,
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> DbArtifactError + '_ {
    move |source| DbArtifactError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Pushes the database at `db_path` to `reference` (`registry/repository:tag`).
/// With `key`, the pushed manifest is signed in cosign's format.
pub fn push_database(
    db_path: &Path,
    reference: &str,
    options: &RegistryOptions,
    key: Option<&SigningKey>,
) -> Result<DbArtifact, DbArtifactError> {
    // Opening checks the file's structure and schema: a damaged database is never published.
    let status = Database::open(db_path)?.status()?;
    let file = rempart_core::open_regular_file(db_path).map_err(io_error(db_path))?;
    let layer = zstd::encode_all(std::io::BufReader::new(file), 9).map_err(io_error(db_path))?;
    let layer_bytes = layer.len() as u64;
    let (repository, tag) = RegistryRepository::for_reference(reference, options, true)?;
    let config_digest = repository.push_blob(b"{}".to_vec())?;
    let layer_digest = repository.push_blob(layer)?;
    let sources: BTreeMap<&str, Option<&str>> = status
        .sources
        .iter()
        .map(|s| (s.name.as_str(), s.snapshot.as_deref()))
        .collect();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": DB_ARTIFACT_TYPE,
        "config": {"mediaType": EMPTY_CONFIG_TYPE, "digest": config_digest, "size": 2},
        "layers": [{
            "mediaType": DB_LAYER_TYPE,
            "digest": layer_digest,
            "size": layer_bytes,
            "annotations": {"org.opencontainers.image.title": "vuln.sqlite"},
        }],
        "annotations": {
            "org.opencontainers.image.created": status.built_at_rfc3339,
            SCHEMA_ANNOTATION: status.schema_version.to_string(),
            BUILT_AT_ANNOTATION: status.built_at.to_string(),
            ADVISORIES_ANNOTATION: status.advisories.to_string(),
            SOURCES_ANNOTATION: serde_json::to_string(&sources).unwrap_or_default(),
        },
    });
    let bytes = serde_json::to_vec(&manifest).unwrap_or_default();
    let digest = repository.push_manifest(&tag, OCI_MANIFEST, bytes)?;
    let signature = key
        .map(|key| rempart_trust::sign_manifest(&repository, &digest, key))
        .transpose()?;
    Ok(DbArtifact {
        digest,
        schema_version: status.schema_version,
        built_at: status.built_at,
        layer_bytes,
        replaced: false,
        signature,
        trusted_by: None,
    })
}

/// Pulls the database `reference` names into `db_path`, replacing the database there only
/// when the new one is whole, of this rempart's schema, not older (unless
/// [`PullChecks::allow_older`]) and, with a trust policy, signed as the policy requires.
pub fn pull_database(
    reference: &str,
    db_path: &Path,
    options: &RegistryOptions,
    checks: PullChecks<'_>,
) -> Result<DbArtifact, DbArtifactError> {
    let allow_older = checks.allow_older;
    let refused = |reason: String| DbArtifactError::Refused {
        reference: reference.to_owned(),
        reason,
    };
    let (repository, target) = RegistryRepository::for_reference(reference, options, false)?;
    let fetched = repository
        .manifest(&target)?
        .ok_or_else(|| refused("no such manifest in the registry".to_owned()))?;
    let manifest: Manifest = serde_json::from_slice(&fetched.bytes)
        .map_err(|e| refused(format!("not an image manifest: {e}")))?;
    if manifest.artifact_type.as_deref() != Some(DB_ARTIFACT_TYPE) {
        return Err(refused(format!(
            "not a rempart vulnerability database (artifact type {})",
            manifest.artifact_type.as_deref().unwrap_or("none")
        )));
    }
    let trusted_by = match checks.trust_policy {
        Some(policy) => Some(verify_trust(&repository, &fetched.digest, options, policy)?),
        None => None,
    };
    let schema: u32 = manifest
        .annotations
        .get(SCHEMA_ANNOTATION)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| refused(format!("no {SCHEMA_ANNOTATION} annotation")))?;
    if schema != SCHEMA_VERSION {
        return Err(refused(format!(
            "its database schema is version {schema}; this rempart reads version \
             {SCHEMA_VERSION} (push one built by the same release)"
        )));
    }
    let built_at: u64 = manifest
        .annotations
        .get(BUILT_AT_ANNOTATION)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| refused(format!("no {BUILT_AT_ANNOTATION} annotation")))?;
    // The built-in sample a fresh machine installs is dated when it is installed, so it looks
    // newer than any pushed database; it is never a reason to keep one out.
    let in_place = Database::read_status(db_path).ok().filter(|status| {
        !crate::database::only_sample_inputs(status.sources.iter().map(|s| s.input.as_str()))
    });
    if !allow_older
        && let Some(current) = &in_place
        && current.built_at == built_at
        && current.schema_version == schema
    {
        return Ok(DbArtifact {
            digest: fetched.digest,
            schema_version: schema,
            built_at,
            layer_bytes: 0,
            replaced: false,
            signature: None,
            trusted_by,
        });
    }
    if !allow_older
        && let Some(current) = &in_place
        && current.built_at > built_at
    {
        return Err(refused(format!(
            "it was built at {} ({built_at}), before the database in place at {} ({}); \
             `--force` takes it anyway",
            manifest
                .annotations
                .get("org.opencontainers.image.created")
                .map_or("?", String::as_str),
            db_path.display(),
            current.built_at_rfc3339
        )));
    }
    let [layer] = manifest.layers.as_slice() else {
        return Err(refused(format!(
            "{} layers where a database artifact has one",
            manifest.layers.len()
        )));
    };
    if layer.media_type != DB_LAYER_TYPE {
        return Err(refused(format!(
            "its layer is {}, not {DB_LAYER_TYPE}",
            layer.media_type
        )));
    }
    let parent = match db_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io_error(&parent))?;
    // The compressed layer goes to a file beside the database, checked against its digest as
    // it streams in, and is decompressed from there: memory stays small whatever its size.
    let compressed = tempfile::Builder::new()
        .prefix(".vuln-db-pull-")
        .suffix(".zst")
        .tempfile_in(&parent)
        .map_err(io_error(&parent))?;
    let compressed_file = compressed.reopen().map_err(io_error(compressed.path()))?;
    repository.blob_to_file(&layer.digest, layer.size, MAX_LAYER_BYTES, compressed_file)?;
    let layer_bytes = compressed
        .as_file()
        .metadata()
        .map_err(io_error(compressed.path()))?
        .len();
    let mut temp = tempfile::Builder::new()
        .prefix(".vuln-db-pull-")
        .suffix(".sqlite")
        .tempfile_in(&parent)
        .map_err(io_error(&parent))?;
    let reader = compressed.reopen().map_err(io_error(compressed.path()))?;
    let decoder = zstd::Decoder::new(reader).map_err(io_error(db_path))?;
    let written = std::io::copy(
        &mut decoder.take(MAX_DATABASE_BYTES + 1),
        temp.as_file_mut(),
    )
    .map_err(|e| refused(format!("its layer does not decompress: {e}")))?;
    if written > MAX_DATABASE_BYTES {
        return Err(refused(format!(
            "its database is over {MAX_DATABASE_BYTES} bytes"
        )));
    }
    let pulled = Database::open(temp.path())
        .and_then(|db| db.status())
        .map_err(|e| refused(format!("the database it holds does not open: {e}")))?;
    if pulled.built_at != built_at {
        return Err(refused(format!(
            "its annotation says built at {built_at}, the database inside says {}",
            pulled.built_at
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o644));
    }
    temp.persist(db_path).map_err(|e| DbArtifactError::Io {
        path: db_path.to_owned(),
        source: e.error,
    })?;
    Ok(DbArtifact {
        digest: fetched.digest,
        schema_version: schema,
        built_at,
        layer_bytes,
        replaced: true,
        signature: None,
        trusted_by,
    })
}

/// Judges the manifest `digest` (the one whose layer a pull downloads next, so a tag moved in
/// between changes nothing) against the trust policy; refuses it unless the policy's rule for
/// the repository is met. Returns what was found: the rule and the met requirements.
fn verify_trust(
    repository: &RegistryRepository,
    digest: &str,
    options: &RegistryOptions,
    policy: &TrustPolicy,
) -> Result<String, DbArtifactError> {
    let pinned = format!(
        "{}/{}@{digest}",
        repository.registry(),
        repository.repository()
    );
    let prepared = PreparedPolicy::new(policy)?;
    let report = rempart_trust::verify_registry_image(&pinned, options, &prepared)?;
    if !report.trusted() {
        return Err(DbArtifactError::Refused {
            reference: pinned,
            reason: format!(
                "not trusted by the trust policy {}: {}",
                policy.origin.display(),
                report.failures().join("; ")
            ),
        });
    }
    let met: Vec<String> = report
        .requirements
        .iter()
        .map(|r| format!("{}: {}", r.name, r.detail))
        .collect();
    Ok(format!(
        "rule {} ({})",
        report.rule.as_deref().unwrap_or("default"),
        met.join("; ")
    ))
}
