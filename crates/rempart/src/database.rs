//! Opening the vulnerability database for a scan: the first run installs the sample set, a
//! sample set from another release is replaced, a stale one is warned about.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rempart_core::VulnerabilityData;
use rempart_vulndb::{Database, DbStatus, VulnDbError};

use crate::default_db::{DEFAULT_ADVISORIES_NAME, install_default_database};

/// Advisory data older than this gets a warning: new advisories are published daily.
pub const STALE_AFTER: Duration = Duration::from_hours(7 * 24);

/// Why the database cannot be used for a scan.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("{0}")]
    Unusable(String),
    #[error("installing the sample database at {}: {source}", path.display())]
    Install {
        path: PathBuf,
        #[source]
        source: VulnDbError,
    },
    #[error(transparent)]
    Database(#[from] VulnDbError),
}

impl DatabaseError {
    fn unusable(message: String) -> DatabaseError {
        DatabaseError::Unusable(message)
    }
}

/// Makes sure a database exists before a vulnerability scan: an empty cache gets the built-in
/// sample set, with a warning saying so; an old database gets a staleness warning. A database
/// the user named (`--db`, `REMPART_DB`) must exist: a mistyped path must not turn into a scan
/// with the small sample set.
pub fn ensure_database(
    path: &Path,
    named_by_user: bool,
) -> Result<VulnerabilityData, DatabaseError> {
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_dir() => {
            return Err(DatabaseError::unusable(format!(
                "{} is a directory, not a vulnerability database file (--db names the file)",
                path.display()
            )));
        }
        Ok(metadata) if !metadata.is_file() => {
            return Err(DatabaseError::unusable(format!(
                "{} is not a regular file: not a vulnerability database",
                path.display()
            )));
        }
        Err(error) if named_by_user => {
            return Err(DatabaseError::unusable(format!(
                "no vulnerability database at {} ({error}), the path given by --db or REMPART_DB; build one there with `rempart db update --db {0}` (or `db import` from local files), or leave --db out to use the one in the cache directory",
                path.display()
            )));
        }
        Err(_) => {
            tracing::warn!(
                "no vulnerability database at {}: installing the built-in sample advisories (a small offline set); run `rempart db import` with full feeds for real coverage",
                path.display()
            );
            install_default_database(path).map_err(|source| DatabaseError::Install {
                path: path.to_owned(),
                source,
            })?;
        }
        Ok(_) => {}
    }
    // The matcher opens the database next, with its structural check: one check per scan.
    let status = match Database::read_status(path) {
        // The sample set an earlier release installed in the cache: install this release's.
        Err(rempart_vulndb::VulnDbError::SchemaMismatch { found, .. })
            if !named_by_user && is_sample_database(path) =>
        {
            tracing::warn!(
                "the built-in sample advisories at {} were installed by another release (schema version {found}): installing this release's",
                path.display()
            );
            install_default_database(path).map_err(|source| DatabaseError::Install {
                path: path.to_owned(),
                source,
            })?;
            Database::read_status(path)?
        }
        Err(rempart_vulndb::VulnDbError::SchemaMismatch {
            found, expected, ..
        }) => {
            return Err(DatabaseError::unusable(format!(
                "the vulnerability database at {} has schema version {found}; this rempart reads version {expected}: rebuild it with `rempart db update --db {0}` (or `rempart db import`)",
                path.display()
            )));
        }
        other => other?,
    };
    let data = vulnerability_data(&status);
    if data.sample {
        tracing::warn!(
            "matching against the built-in sample advisories ({} advisories{}): a small offline set for a first run, not real coverage; `rempart db update` installs the full data (`rempart db import` builds it from offline mirrors)",
            data.advisories,
            data.data_up_to
                .as_deref()
                .map(|date| format!(", data up to {}", &date[..date.len().min(10)]))
                .unwrap_or_default()
        );
        return Ok(data);
    }
    if let Some(newest) = newest_snapshot(&status)
        && SystemTime::now()
            .duration_since(newest)
            .is_ok_and(|age| age > STALE_AFTER)
    {
        tracing::warn!(
            "the vulnerability data in {} is from {}: advisories published since then are missing",
            path.display(),
            format_date(newest)
        );
    }
    Ok(data)
}

fn is_sample_database(path: &Path) -> bool {
    Database::source_inputs_any_schema(path)
        .is_ok_and(|inputs| only_sample_inputs(inputs.iter().map(String::as_str)))
}

/// Whether a database was built from the built-in sample set alone (its import inputs).
pub(crate) fn only_sample_inputs<'a>(inputs: impl IntoIterator<Item = &'a str>) -> bool {
    let mut any = false;
    for input in inputs {
        if !input.ends_with(DEFAULT_ADVISORIES_NAME) {
            return false;
        }
        any = true;
    }
    any
}

/// What a report says of the database it was matched against.
pub fn vulnerability_data(status: &DbStatus) -> VulnerabilityData {
    VulnerabilityData {
        path: status.path.display().to_string(),
        built_at: status.built_at_rfc3339.clone(),
        data_up_to: newest_snapshot(status).map(|at| {
            time::OffsetDateTime::from(at)
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        }),
        advisories: status.advisories,
        sample: status
            .sources
            .iter()
            .any(|s| s.input.ends_with(DEFAULT_ADVISORIES_NAME)),
    }
}

/// The newest advisory date over the database's feeds.
pub fn newest_snapshot(status: &DbStatus) -> Option<SystemTime> {
    status
        .sources
        .iter()
        .filter_map(|s| s.snapshot.as_deref())
        .filter_map(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
        })
        .max()
        .map(SystemTime::from)
}

/// `YYYY-MM-DD` in UTC: the form of ignore expiry dates.
pub fn format_date(at: SystemTime) -> String {
    let at = time::OffsetDateTime::from(at);
    format!(
        "{:04}-{:02}-{:02}",
        at.year(),
        u8::from(at.month()),
        at.day()
    )
}

/// Today in UTC as `YYYY-MM-DD`, the day ignore entries are judged on (`Policy::today`).
pub fn utc_today() -> String {
    format_date(SystemTime::now())
}
