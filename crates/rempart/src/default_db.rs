//! The built-in sample advisory set (see `data/README.md`), imported into an empty database so
//! that a first scan works offline.

use std::path::Path;

use rempart_vulndb::{ImportStats, VulnDbError, import_paths};

const DEFAULT_ADVISORIES: &[u8] = include_bytes!("../data/default-advisories.zip");

/// Name under which the sample set is imported; `db status` shows it as a source.
pub const DEFAULT_ADVISORIES_NAME: &str = "rempart-sample-advisories.zip";

/// Builds the database at `path` from the built-in sample advisories.
pub fn install_default_database(path: &Path) -> Result<ImportStats, VulnDbError> {
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|source| VulnDbError::Io {
        path: parent.to_owned(),
        source,
    })?;
    // The importer reads files; the zip goes next to the database, inside the cache directory.
    let staging = tempfile::tempdir_in(parent).map_err(|source| VulnDbError::Io {
        path: parent.to_owned(),
        source,
    })?;
    let zip = staging.path().join(DEFAULT_ADVISORIES_NAME);
    std::fs::write(&zip, DEFAULT_ADVISORIES).map_err(|source| VulnDbError::Io {
        path: zip.clone(),
        source,
    })?;
    import_paths(path, &[zip])
}
