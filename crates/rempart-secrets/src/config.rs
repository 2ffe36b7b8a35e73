//! The user's secret configuration (YAML).

use std::path::Path;

use serde::Deserialize;

use crate::error::SecretError;

/// A configuration file larger than this is refused before parsing.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Default cap on the size of a file the scanner reads. Files over 10 MiB are read in
/// overlapping windows (memory stays bounded); a bigger cap costs only time.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 256 * 1024 * 1024;

/// Custom rules and allowlists for the secret scanner.
///
/// ```yaml
/// rules:
///   - id: ACME-API-KEY
///     title: Acme API key
///     severity: high
///     keywords: [acme_]
///     regex: 'acme_(?P<secret>[a-z0-9]{32})'
///     entropy: 3.5
/// allow:
///   paths: ["srv/fixtures/**"]
///   values: ["^dev-"]
/// disable: [SEC-JWT]
/// max_file_size: 5242880
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretConfig {
    #[serde(default)]
    pub rules: Vec<CustomRule>,
    #[serde(default)]
    pub allow: AllowConfig,
    /// Codes of rules (built-in or custom) to switch off.
    #[serde(default)]
    pub disable: Vec<String>,
    /// Files larger than this many bytes are not scanned (default 256 MiB, at most 1 GiB).
    #[serde(default)]
    pub max_file_size: Option<u64>,
}

/// A rule defined by the user.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomRule {
    /// Stable code reported as the finding id; must not collide with a built-in code.
    pub id: String,
    pub title: String,
    /// `critical`, `high`, `medium`, `low` or `info` (any case).
    pub severity: String,
    /// At least one; the regex runs only on files containing one of them (case-insensitive).
    pub keywords: Vec<String>,
    /// Rust regex syntax applied to bytes; the secret is the group named `secret`, or the
    /// whole match.
    pub regex: String,
    /// Minimum Shannon entropy (bits per byte, 0-8) of the secret.
    #[serde(default)]
    pub entropy: Option<f64>,
    #[serde(default)]
    pub doc: String,
}

/// What never becomes a finding.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowConfig {
    /// Globs over the image path (no leading slash): `**` spans directories, `*` stays inside
    /// one component; a glob without `/` matches the file name anywhere.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Regexes; a secret matching any of them (unanchored) is dropped.
    #[serde(default)]
    pub values: Vec<String>,
}

impl SecretConfig {
    /// Parses YAML text; `origin` names the input in errors.
    pub fn from_yaml(text: &str, origin: &str) -> Result<SecretConfig, SecretError> {
        if text.len() as u64 > MAX_CONFIG_BYTES {
            return Err(SecretError::ConfigTooLarge {
                origin: origin.to_owned(),
                size: text.len() as u64,
                limit: MAX_CONFIG_BYTES,
            });
        }
        if text.trim().is_empty() {
            return Ok(SecretConfig::default());
        }
        serde_saphyr::from_str(text).map_err(|source| SecretError::Yaml {
            origin: origin.to_owned(),
            source: Box::new(source),
        })
    }

    /// Reads and parses a YAML file.
    pub fn load(path: &Path) -> Result<SecretConfig, SecretError> {
        let read_error = |source| SecretError::Read {
            path: path.to_owned(),
            source,
        };
        let text = rempart_core::read_regular_text(path, MAX_CONFIG_BYTES).map_err(read_error)?;
        SecretConfig::from_yaml(&text, &path.display().to_string())
    }
}
