//! Reading the user's policy documents (ignore files, VEX): one error type, one size cap.

use std::path::{Path, PathBuf};

/// Why an ignore file or VEX document could not be used. Names the file.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl DocumentError {
    pub(crate) fn invalid(path: &Path, message: impl Into<String>) -> DocumentError {
        DocumentError::Invalid {
            path: path.to_owned(),
            message: message.into(),
        }
    }
}

/// Reads a whole document, refusing one larger than `max_bytes` before reading it (a log or a
/// binary passed by mistake must not cost much).
pub(crate) fn read_capped(path: &Path, max_bytes: u64) -> Result<Vec<u8>, DocumentError> {
    let io = |source| DocumentError::Io {
        path: path.to_owned(),
        source,
    };
    // Regular files only, opened without blocking, and the cap holds on what is read.
    rempart_core::read_regular_file(path, max_bytes).map_err(io)
}
