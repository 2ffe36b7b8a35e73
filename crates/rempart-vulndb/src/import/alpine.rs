//! Alpine secdb (`secdb.alpinelinux.org/v3.19/main.yaml`): for each origin package, the CVEs fixed
//! in each package version.

use std::collections::BTreeMap;
use std::path::Path;

use rempart_core::Severity;
use serde::Deserialize;

use crate::error::VulnDbError;
use crate::model::{Advisory, AffectedPackage, Event, RangeKind, UnfixedState, VersionRange};

#[derive(Debug, Deserialize)]
struct SecDb {
    #[serde(default)]
    distroversion: Option<String>,
    #[serde(default)]
    packages: Vec<SecDbEntry>,
}

#[derive(Debug, Deserialize)]
struct SecDbEntry {
    pkg: SecDbPackage,
}

#[derive(Debug, Deserialize)]
struct SecDbPackage {
    name: String,
    #[serde(default)]
    secfixes: BTreeMap<String, Option<Vec<Option<String>>>>,
}

/// True when the YAML text looks like a secdb file.
pub(crate) fn looks_like_secdb(text: &str) -> bool {
    text.contains("packages:") && text.contains("secfixes")
}

/// The release (`3.11`) of a secdb file: from `distroversion`, else from a `v3.11` directory.
fn release_of(declared: Option<&str>, path: &Path, given: Option<&str>) -> Option<String> {
    let from_dir = || {
        path.parent()
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .filter(|n| n.starts_with('v') && n[1..].contains('.'))
            .map(str::to_owned)
    };
    let release = given
        .map(str::to_owned)
        .or_else(|| declared.map(str::to_owned))
        .or_else(from_dir)?;
    Some(release.strip_prefix('v').unwrap_or(&release).to_owned())
}

/// Reads one secdb document. `release` overrides what the file and its directory say.
pub(crate) fn parse(
    text: &str,
    path: &Path,
    release: Option<&str>,
) -> Result<(String, Vec<Advisory>), VulnDbError> {
    let db: SecDb = serde_saphyr::from_str(text).map_err(|e| VulnDbError::Parse {
        input: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let release = release_of(db.distroversion.as_deref(), path, release).ok_or_else(|| {
        VulnDbError::Parse {
            input: path.display().to_string(),
            reason: "cannot tell the Alpine release: no `distroversion` and no vX.Y directory"
                .to_owned(),
        }
    })?;
    let mut by_id: BTreeMap<String, Advisory> = BTreeMap::new();
    for entry in db.packages {
        for (version, ids) in entry.pkg.secfixes {
            // Alpine documents `0` as "this package was never affected" (the CVE is listed only
            // to record that it was looked at).
            if version.trim() == "0" {
                continue;
            }
            let lines = ids.into_iter().flatten().flatten();
            for id in lines.flat_map(|line| {
                line.split_whitespace()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            }) {
                let advisory = by_id.entry(id.clone()).or_insert_with(|| Advisory {
                    title: id.clone(),
                    id,
                    aliases: Vec::new(),
                    severity: Severity::Unknown,
                    cvss: Vec::new(),
                    cvss_vector: None,
                    cvss_score: None,
                    rated_severity: None,
                    references: Vec::new(),
                    modified: None,
                    affected: Vec::new(),
                });
                advisory.affected.push(AffectedPackage {
                    ecosystem: "Alpine".to_owned(),
                    release: release.clone(),
                    name: entry.pkg.name.clone(),
                    ranges: vec![VersionRange {
                        kind: RangeKind::Ecosystem,
                        events: vec![
                            Event::Introduced("0".to_owned()),
                            Event::Fixed(version.clone()),
                        ],
                        sorted: false,
                    }],
                    versions: Vec::new(),
                    severity: None,
                    state: UnfixedState::Affected,
                    imports: Vec::new(),
                });
            }
        }
    }
    Ok((release, by_id.into_values().collect()))
}
