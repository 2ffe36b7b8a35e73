use std::path::PathBuf;

/// Why a file could not be checked. Findings are not errors: a file full of problems is checked
/// successfully; an `Err` means the checks could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum MisconfigError {
    #[error("{path}: {size} bytes is over the {limit}-byte limit for configuration files")]
    TooLarge {
        path: String,
        size: usize,
        limit: usize,
    },
    #[error("{path}: not valid UTF-8 text")]
    NotUtf8 { path: String },
    #[error("{path}: invalid YAML: {message}")]
    Yaml { path: String, message: String },
    #[error("{path}: more than {limit} YAML documents")]
    TooManyDocuments { path: String, limit: usize },
    #[error("{path}, document at line {line}: nesting deeper than {limit} levels")]
    TooDeep {
        path: String,
        line: u32,
        limit: usize,
    },
    #[error("{path}, line {line}: {message}")]
    Dockerfile {
        path: String,
        line: u32,
        message: String,
    },
    #[error("policy {path}: {message}")]
    Policy { path: String, message: String },
    #[error("{path}: not a Dockerfile, docker-compose file or Kubernetes manifest")]
    UnknownKind { path: PathBuf },
}
