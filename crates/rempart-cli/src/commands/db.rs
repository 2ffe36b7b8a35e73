//! `rempart db status|import`, and the first-run database.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use rempart_core::VulnerabilityData;
use rempart_vulndb::{Database, DbStatus, ImportGuard, import_paths_guarded};

use crate::Outcome;
use crate::cli::{DbCommand, DbLocation};
use crate::context::{cache_root, db_path};

/// Advisory data older than this gets a warning: new advisories are published daily.
const STALE_AFTER: Duration = Duration::from_hours(7 * 24);

pub(crate) fn run(command: DbCommand, quiet: bool) -> Result<Outcome> {
    match command {
        DbCommand::Status { location } => {
            let path = resolve(&location)?;
            anyhow::ensure!(
                path.exists(),
                "no vulnerability database at {} (a scan installs the built-in sample; `rempart db import` builds a full one)",
                path.display()
            );
            let status = Database::open(&path)?.status()?;
            say(&describe(&status))?;
        }
        DbCommand::Update {
            osv_base,
            ecosystems,
            debian_tracker,
            location,
        } => {
            let path = resolve(&location)?;
            let mut feeds = rempart::FeedConfig::default();
            if let Some(base) = osv_base {
                feeds.osv_base = base;
            }
            if !ecosystems.is_empty() {
                feeds.osv_ecosystems = ecosystems;
            }
            match debian_tracker.as_deref() {
                Some("none") => feeds.debian_tracker = None,
                Some(url) => feeds.debian_tracker = Some(url.to_owned()),
                None => {}
            }
            let started = std::time::Instant::now();
            let stats = rempart::update_database(&path, &feeds).with_context(|| {
                format!(
                    "updating {} (the old database is unchanged)",
                    path.display()
                )
            })?;
            say(&format!(
                "updated {}: {} advisories ({} affected packages) in {:.1}s, {} bytes",
                path.display(),
                stats.advisories,
                stats.affected_packages,
                started.elapsed().as_secs_f64(),
                stats.db_size_bytes
            ))?;
        }
        DbCommand::Import {
            paths,
            force,
            location,
        } => {
            let path = resolve(&location)?;
            let started = std::time::Instant::now();
            let guard = if force {
                ImportGuard {
                    allow_empty: true,
                    min_share_of_previous: None,
                }
            } else {
                ImportGuard {
                    allow_empty: false,
                    min_share_of_previous: Some(0.5),
                }
            };
            let stats = import_paths_guarded(&path, &paths, guard)
                .with_context(|| format!("building {}", path.display()))?;
            if !quiet {
                for problem in &stats.problems {
                    tracing::warn!("{problem}");
                }
            }
            say(&format!(
                "imported {} advisories ({} affected packages, {} withdrawn skipped, {} rejected) into {} in {:.1}s, {} bytes",
                stats.advisories,
                stats.affected_packages,
                stats.withdrawn,
                stats.rejected,
                path.display(),
                started.elapsed().as_secs_f64(),
                stats.db_size_bytes
            ))?;
        }
    }
    Ok(Outcome::Clean)
}

fn resolve(location: &DbLocation) -> Result<PathBuf> {
    Ok(db_path(
        location.db.as_deref(),
        &cache_root(location.cache_dir.as_deref())?,
    ))
}

fn say(text: &str) -> Result<()> {
    crate::context::write_stdout(format!("{text}\n").as_bytes())
}

/// Makes sure a database exists before a vulnerability scan: an empty cache gets the built-in
/// sample set, with a warning saying so; an old database gets a staleness warning. A database
/// the user named (`--db`, `REMPART_DB`) must exist: a mistyped path must not turn into a scan
/// with the small sample set.
pub(crate) fn ensure_database(path: &Path, named_by_user: bool) -> Result<VulnerabilityData> {
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_dir() => anyhow::bail!(
            "{} is a directory, not a vulnerability database file (--db names the file)",
            path.display()
        ),
        Ok(metadata) if !metadata.is_file() => anyhow::bail!(
            "{} is not a regular file: not a vulnerability database",
            path.display()
        ),
        Err(error) if named_by_user => anyhow::bail!(
            "no vulnerability database at {} ({error}), the path given by --db or REMPART_DB; build one there with `rempart db update --db {0}` (or `db import` from local files), or leave --db out to use the one in the cache directory",
            path.display()
        ),
        Err(_) => {
            tracing::warn!(
                "no vulnerability database at {}: installing the built-in sample advisories (a small offline set); run `rempart db import` with full feeds for real coverage",
                path.display()
            );
            rempart::install_default_database(path)
                .with_context(|| format!("installing the sample database at {}", path.display()))?;
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
            rempart::install_default_database(path)
                .with_context(|| format!("installing the sample database at {}", path.display()))?;
            Database::read_status(path)?
        }
        Err(rempart_vulndb::VulnDbError::SchemaMismatch {
            found, expected, ..
        }) => anyhow::bail!(
            "the vulnerability database at {} has schema version {found}; this rempart reads version {expected}: rebuild it with `rempart db update --db {0}` (or `rempart db import`)",
            path.display()
        ),
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
    Database::source_inputs_any_schema(path).is_ok_and(|inputs| {
        !inputs.is_empty()
            && inputs
                .iter()
                .all(|input| input.ends_with(rempart::DEFAULT_ADVISORIES_NAME))
    })
}

/// What a report says of the database it was matched against.
fn vulnerability_data(status: &DbStatus) -> VulnerabilityData {
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
            .any(|s| s.input.ends_with(rempart::DEFAULT_ADVISORIES_NAME)),
    }
}

fn newest_snapshot(status: &DbStatus) -> Option<SystemTime> {
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

fn format_date(at: SystemTime) -> String {
    let at = time::OffsetDateTime::from(at);
    format!(
        "{:04}-{:02}-{:02}",
        at.year(),
        u8::from(at.month()),
        at.day()
    )
}

fn describe(status: &DbStatus) -> String {
    let mut text = format!(
        "database: {}\nschema version: {}\nbuilt: {}\nadvisories: {} ({} affected packages)\nsize: {} bytes\nsources:\n",
        status.path.display(),
        status.schema_version,
        status.built_at_rfc3339,
        status.advisories,
        status.affected_packages,
        status.size_bytes
    );
    for source in &status.sources {
        let sample = if source.input.ends_with(rempart::DEFAULT_ADVISORIES_NAME) {
            " (built-in sample set)"
        } else {
            ""
        };
        let _ = writeln!(
            text,
            "  {}: {} advisories, data up to {}{sample}",
            source.name,
            source.advisories,
            source
                .snapshot
                .as_deref()
                .unwrap_or("unknown (the records carry no dates)"),
        );
    }
    if let Some(newest) = newest_snapshot(status)
        && SystemTime::now()
            .duration_since(newest)
            .is_ok_and(|age| age > STALE_AFTER)
    {
        let _ = writeln!(
            text,
            "warning: the newest advisory data is from {}; the database is stale",
            format_date(newest)
        );
    }
    text
}
