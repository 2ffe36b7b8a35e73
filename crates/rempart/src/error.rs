use std::path::PathBuf;

use rempart_image::{ImageError, WalkError};

/// Why a scan could not be completed. Findings are never errors.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error("{path}: {source}")]
    Walk {
        path: PathBuf,
        #[source]
        source: WalkError,
    },
    #[error("layer cache {path}: {message}")]
    Cache { path: PathBuf, message: String },
    #[error("cannot start {threads} scan threads: {message}")]
    ThreadPool { threads: usize, message: String },
    #[error("{analyzer}: {message}")]
    ImageAnalyzer {
        analyzer: &'static str,
        message: String,
    },
}
