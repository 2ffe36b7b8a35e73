use std::path::PathBuf;

/// Why the database could not be built, opened or read.
#[derive(Debug, thiserror::Error)]
pub enum VulnDbError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{input}: {reason}")]
    Parse { input: String, reason: String },
    #[error(
        "{path}: not a format rempart can import (expected an OSV zip, a directory of OSV JSON, an OSV JSON file, an Alpine secdb YAML or the Debian security-tracker JSON)"
    )]
    UnknownFormat { path: PathBuf },
    #[error("{input}: {what} exceeds the limit of {limit} bytes")]
    TooLarge {
        input: String,
        what: String,
        limit: u64,
    },
    #[error("vulnerability database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "vulnerability database {path} has schema version {found}, this rempart reads version {expected}: rebuild it"
    )]
    SchemaMismatch {
        path: PathBuf,
        found: String,
        expected: u32,
    },
    #[error("cannot replace {path}: {source}")]
    Persist {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no cache directory: set XDG_CACHE_HOME or HOME")]
    NoCacheDir,
    #[error(
        "vulnerability database {path} is damaged ({detail}): rebuild it with `rempart db update` or `db import`"
    )]
    Damaged { path: PathBuf, detail: String },
    #[error(
        "not replacing {path}: {reason}; check the inputs, or pass --force to replace it anyway"
    )]
    ImportRefused { path: PathBuf, reason: String },
}
