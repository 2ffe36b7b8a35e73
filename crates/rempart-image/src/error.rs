use std::io;
use std::path::PathBuf;

/// Why an image could not be read. Every variant names the input it is about.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{input}: {message}")]
    Invalid { input: String, message: String },
    #[error("{input}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        input: String,
        expected: String,
        actual: String,
    },
    #[error("{input}: no image for platform {platform} (available: {available})")]
    NoMatchingPlatform {
        input: String,
        platform: String,
        available: String,
    },
    #[error("layer {layer}: {source}")]
    Layer {
        layer: String,
        #[source]
        source: WalkError,
    },
    #[error("registry {registry}: {message}")]
    Registry { registry: String, message: String },
    /// The registry could not be reached or answered that it cannot serve now (a timeout, a
    /// refused or reset connection, HTTP 408, 429, 502, 503 or 504): another try may work.
    #[error("registry {registry}: {message}")]
    Unavailable { registry: String, message: String },
    #[error("{path}: {source}")]
    Json {
        path: String,
        #[source]
        source: serde_json::Error,
    },
}

impl ImageError {
    /// A failure worth another try later (the registry was unreachable or busy); the others
    /// (refused credentials, a missing or malformed image) would fail the same way again.
    pub fn is_transient(&self) -> bool {
        matches!(self, ImageError::Unavailable { .. })
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> ImageError {
        ImageError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn invalid(input: impl Into<String>, message: impl Into<String>) -> ImageError {
        ImageError::Invalid {
            input: input.into(),
            message: message.into(),
        }
    }
}

/// Why walking one layer (or one directory tree) failed. Wrapped in [`ImageError::Layer`] with the
/// layer's name by the caller.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    /// `entry` says where: `in entry `a/b``, `after entry `a/b`` (reading the next header),
    /// `before the first entry`, `at the end of the layer`.
    #[error("reading the tar stream failed {entry}: {source}")]
    Tar {
        entry: String,
        #[source]
        source: io::Error,
    },
    #[error(
        "decompression bomb: {uncompressed} bytes out of {compressed} compressed (ratio over {max_ratio}:1 past {threshold} bytes)"
    )]
    Bomb {
        compressed: u64,
        uncompressed: u64,
        max_ratio: u64,
        threshold: u64,
    },
    #[error("layer expands past the cap of {max} bytes")]
    TooLarge { max: u64 },
    #[error("layer has more than {max} entries")]
    TooManyEntries { max: u64 },
    #[error("content digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch { expected: String, actual: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}
