//! `rempart db status|import`, and the first-run database.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result};
use rempart_core::VulnerabilityData;
use rempart_vulndb::{Database, DbStatus, ImportGuard, import_paths_guarded};

use crate::Outcome;
use crate::cli::{DbCommand, DbLocation};
use crate::context::{cache_root, db_path};

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
        DbCommand::Push {
            reference,
            key,
            key_env,
            location,
            source,
        } => {
            // The key is read first: a bad key fails before anything is uploaded.
            let key = if key.is_some() || key_env.is_some() {
                Some(super::trust::signing_key(
                    key.as_deref(),
                    key_env.as_deref(),
                )?)
            } else {
                None
            };
            let (path, options) = registry_target(&location, &source)?;
            let pushed = rempart::push_database(&path, &reference, &options, key.as_ref())
                .with_context(|| format!("pushing {} to {reference}", path.display()))?;
            say(&format!(
                "pushed {} to {reference}@{} (schema {}, built {}, {} bytes compressed)",
                path.display(),
                pushed.digest,
                pushed.schema_version,
                Database::read_status(&path)?.built_at_rfc3339,
                pushed.layer_bytes
            ))?;
            if let Some(signed) = &pushed.signature {
                say(&if signed.already_signed {
                    format!("already signed by this key under {}", signed.tag)
                } else {
                    format!("signed: {} ({})", signed.tag, signed.signature_manifest)
                })?;
            }
        }
        DbCommand::Pull {
            reference,
            force,
            trust_policy,
            location,
            source,
        } => {
            let policy = trust_policy
                .as_deref()
                .map(rempart_trust::TrustPolicy::load)
                .transpose()?;
            let (path, options) = registry_target(&location, &source)?;
            let checks = rempart::PullChecks {
                allow_older: force,
                trust_policy: policy.as_ref(),
            };
            let pulled =
                rempart::pull_database(&reference, &path, &options, checks).with_context(|| {
                    format!(
                        "pulling {reference} into {} (the database in place is unchanged)",
                        path.display()
                    )
                })?;
            if let Some(trusted) = &pulled.trusted_by {
                say(&format!("trusted: {trusted}"))?;
            }
            if !pulled.replaced {
                say(&format!(
                    "{} already holds {reference}@{}: nothing to do",
                    path.display(),
                    pulled.digest
                ))?;
                return Ok(Outcome::Clean);
            }
            say(&format!(
                "pulled {reference}@{} into {} (schema {}, built {})",
                pulled.digest,
                path.display(),
                pulled.schema_version,
                Database::read_status(&path)?.built_at_rfc3339
            ))?;
        }
        DbCommand::Update {
            osv_base,
            ecosystems,
            debian_tracker,
            redhat_csaf,
            ubuntu_vex,
            kev,
            epss,
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
            for (given, feed) in [
                (debian_tracker, &mut feeds.debian_tracker),
                (redhat_csaf, &mut feeds.redhat_csaf),
                (ubuntu_vex, &mut feeds.ubuntu_vex),
                (kev, &mut feeds.kev),
                (epss, &mut feeds.epss),
            ] {
                match given.as_deref() {
                    Some("none") => *feed = None,
                    Some(url) => *feed = Some(url.to_owned()),
                    None => {}
                }
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
            let exploitation = if stats.known_exploited + stats.epss_scores > 0 {
                format!(
                    ", {} known exploited, {} EPSS scores",
                    stats.known_exploited, stats.epss_scores
                )
            } else {
                String::new()
            };
            say(&format!(
                "imported {} advisories ({} affected packages, {} withdrawn skipped, {} rejected{exploitation}) into {} in {:.1}s, {} bytes",
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

/// The database a push or pull is about, and how to reach the registry.
fn registry_target(
    location: &DbLocation,
    source: &crate::cli::SourceArgs,
) -> Result<(PathBuf, rempart_image::RegistryOptions)> {
    let cache = cache_root(location.cache_dir.as_deref())?;
    Ok((
        resolve(location)?,
        super::source::registry_options(source, &cache),
    ))
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

pub(crate) fn ensure_database(path: &Path, named_by_user: bool) -> Result<VulnerabilityData> {
    Ok(rempart::ensure_database(path, named_by_user)?)
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
    if let Some(newest) = rempart::newest_snapshot(status)
        && SystemTime::now()
            .duration_since(newest)
            .is_ok_and(|age| age > rempart::STALE_AFTER)
    {
        let _ = writeln!(
            text,
            "warning: the newest advisory data is from {}; the database is stale",
            rempart::format_date(newest)
        );
    }
    text
}
