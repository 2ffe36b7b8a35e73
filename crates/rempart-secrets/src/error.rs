use std::path::PathBuf;

/// Why a secret scanner could not be built from a configuration.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read secret configuration {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("secret configuration {origin} is {size} bytes, more than the {limit}-byte limit")]
    ConfigTooLarge {
        origin: String,
        size: u64,
        limit: u64,
    },
    #[error("invalid secret configuration {origin}: {source}")]
    Yaml {
        origin: String,
        #[source]
        source: Box<serde_saphyr::Error>,
    },
    #[error("secret rule {rule}: invalid regex: {source}")]
    InvalidRegex {
        rule: String,
        #[source]
        source: Box<regex::Error>,
    },
    #[error("secret rule {rule}: {reason}")]
    InvalidRule { rule: String, reason: String },
    #[error("secret rule id {rule} is defined twice (custom rules may not reuse a built-in code)")]
    DuplicateRule { rule: String },
    #[error("cannot disable secret rule {rule}: no rule has that id")]
    UnknownRule { rule: String },
    #[error("invalid allowed path {glob}: {reason}")]
    InvalidPathGlob { glob: String, reason: String },
    #[error("invalid allowed value pattern {pattern}: {source}")]
    InvalidAllowValue {
        pattern: String,
        #[source]
        source: Box<regex::Error>,
    },
    #[error("max_file_size must be between 1 byte and 1 GiB, got {0}")]
    InvalidMaxFileSize(u64),
}
