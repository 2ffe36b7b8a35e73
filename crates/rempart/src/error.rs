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

impl ScanError {
    /// A failure another try may not meet: the registry was unreachable or busy (see
    /// [`ImageError::is_transient`]); a bad image, cache or rule would fail the same way.
    pub fn is_transient(&self) -> bool {
        matches!(self, ScanError::Image(error) if error.is_transient())
    }
}
