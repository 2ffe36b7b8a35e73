//! Java archives: jar, war, ear (and Jenkins plugins), with nested archives read recursively.

use std::io::{Cursor, Read};

use rempart_core::{AnalysisOutput, Ecosystem, FileAnalyzer, FileMeta, Interest, Package};

use crate::common::{CatalogError, MIB, fingerprint, package, purl, rfc822_fields, text, whole};

/// Fat application archives (Spring Boot, big wars) reach a few hundred MiB.
const MAX_ARCHIVE: u64 = 512 * MIB;
/// Nesting beyond `app.ear!lib/x.war!WEB-INF/lib/y.jar` is not seen in practice.
const MAX_DEPTH: usize = 3;
/// Bytes decompressed for nested archives, in total per top-level file: bounds zip bombs.
const MAX_EXPANSION: u64 = 1024 * MIB;
const MAX_ENTRIES: usize = 200_000;
/// `pom.properties` and manifests are a few KiB.
const MAX_METADATA_ENTRY: u64 = MIB;

const EXTENSIONS: [&str; 6] = [".jar", ".war", ".ear", ".par", ".jpi", ".hpi"];

/// Reads `META-INF/maven/**/pom.properties` from Java archives, falling back to
/// `META-INF/MANIFEST.MF` and the file name when an archive has none, and descends into archives
/// nested in them (`WEB-INF/lib`, `BOOT-INF/lib`, `lib/`).
///
/// Packages found in nested archives are located at the outer archive, the file in the image.
#[derive(Debug, Default, Clone, Copy)]
pub struct JavaCataloger;

impl JavaCataloger {
    pub fn new() -> Self {
        JavaCataloger
    }
}

fn is_archive_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    EXTENSIONS.iter().any(|ext| lower.ends_with(ext))
}

impl FileAnalyzer for JavaCataloger {
    fn reads_by_name(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "java"
    }

    fn fingerprint(&self) -> String {
        fingerprint(self.name())
    }

    fn interest(&self, file: &FileMeta<'_>) -> Interest {
        if is_archive_name(file.file_name()) {
            whole(MAX_ARCHIVE)
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], out: &mut AnalysisOutput) {
        let mut budget = Budget {
            expansion: MAX_EXPANSION,
            entries: MAX_ENTRIES,
        };
        let archive = Archive {
            path: file.path,
            label: file.path.to_owned(),
            file_name: file.file_name(),
        };
        if let Err(error) = scan_archive(&archive, content, 0, &mut budget, out) {
            error.report(out);
        }
    }
}

struct Budget {
    expansion: u64,
    entries: usize,
}

/// An archive being read: `path` is the file in the image (where packages are located),
/// `label` names nested archives in messages (`app.war!WEB-INF/lib/x.jar`).
struct Archive<'a> {
    path: &'a str,
    label: String,
    file_name: &'a str,
}

fn scan_archive(
    archive_ref: &Archive<'_>,
    content: &[u8],
    depth: usize,
    budget: &mut Budget,
    out: &mut AnalysisOutput,
) -> Result<(), CatalogError> {
    let (path, label) = (archive_ref.path, archive_ref.label.as_str());
    let mut archive = zip::ZipArchive::new(Cursor::new(content))
        .map_err(|error| CatalogError::syntax(label, "zip archive", &error))?;
    if archive.len() > budget.entries {
        return Err(limit(
            label,
            "number of archive entries",
            MAX_ENTRIES as u64,
        ));
    }
    budget.entries -= archive.len();
    let mut found = Vec::new();
    let mut manifest = None;
    let mut nested = Vec::new();
    for index in 0..archive.len() {
        let Ok(mut entry) = archive.by_index(index) else {
            continue;
        };
        if entry.is_dir() {
            continue;
        }
        let Ok(name) = entry.name().map(std::borrow::Cow::into_owned) else {
            continue;
        };
        if name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties") {
            let bytes = read_bounded(&mut entry, MAX_METADATA_ENTRY, label)?;
            if let Some(pkg) = parse_pom_properties(path, &text(&bytes)) {
                found.push(pkg);
            }
        } else if name.eq_ignore_ascii_case("META-INF/MANIFEST.MF") {
            let bytes = read_bounded(&mut entry, MAX_METADATA_ENTRY, label)?;
            manifest = Some(text(&bytes).into_owned());
        } else if is_archive_name(&name) {
            if depth + 1 > MAX_DEPTH {
                out.skipped.push(rempart_core::SkippedEntry {
                    path: format!("{label}!{name}"),
                    layer: None,
                    reason: rempart_core::SkipReason::ArchiveLimit,
                    detail: Some(format!("nested deeper than {MAX_DEPTH} archives")),
                });
                continue;
            }
            if entry.size() > budget.expansion {
                return Err(limit(
                    path,
                    "bytes expanded from nested archives",
                    MAX_EXPANSION,
                ));
            }
            let bytes = read_bounded(&mut entry, budget.expansion, label)?;
            budget.expansion -= bytes.len() as u64;
            nested.push((name, bytes));
        }
    }
    if found.is_empty()
        && let Some(pkg) = manifest_package(path, archive_ref.file_name, manifest.as_deref())
    {
        found.push(pkg);
    }
    out.packages.extend(found);
    for (name, bytes) in nested {
        let inner = Archive {
            path,
            label: format!("{label}!{name}"),
            file_name: name.rsplit('/').next().unwrap_or(&name),
        };
        match scan_archive(&inner, &bytes, depth + 1, budget, out) {
            Err(error @ CatalogError::Limit { .. }) => return Err(error),
            Err(error) => error.report(out),
            Ok(()) => {}
        }
    }
    Ok(())
}

fn limit(path: &str, what: &'static str, limit: u64) -> CatalogError {
    CatalogError::Limit {
        path: path.to_owned(),
        what,
        limit,
    }
}

/// Reads an entry, refusing more than `max` bytes whatever its header claims.
fn read_bounded(entry: &mut impl Read, max: u64, path: &str) -> Result<Vec<u8>, CatalogError> {
    let mut bytes = Vec::new();
    entry
        .take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| CatalogError::syntax(path, "zip entry", &error))?;
    if bytes.len() as u64 > max {
        return Err(limit(path, "decompressed archive entry", max));
    }
    Ok(bytes)
}

pub(crate) fn maven_package(
    group: Option<&str>,
    artifact: &str,
    version: &str,
    path: &str,
) -> Package {
    // A maven purl requires the group as its namespace: an archive that states none (the JDK's
    // `jrt-fs.jar`, an application's own jar) has no Maven coordinates, and a group-less purl
    // would name a package that cannot exist. It is listed without a purl.
    let (name, purl) = match group.filter(|group| !group.is_empty()) {
        Some(group) => (
            format!("{group}:{artifact}"),
            purl("maven", Some(group), artifact, Some(version), &[]),
        ),
        None => (artifact.to_owned(), String::new()),
    };
    package(Ecosystem::Maven, name, version, purl, path)
}

/// A Java properties file: `key=value` or `key: value`, `#` and `!` comments.
fn parse_pom_properties(path: &str, content: &str) -> Option<Package> {
    let mut group = None;
    let mut artifact = None;
    let mut version = None;
    for line in content.lines() {
        let line = line.trim();
        if line.starts_with(['#', '!']) {
            continue;
        }
        let Some((key, value)) = line.split_once(['=', ':']) else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "groupId" => group = Some(value),
            "artifactId" => artifact = Some(value),
            "version" => version = Some(value),
            _ => {}
        }
    }
    let (artifact, version) = (
        artifact.filter(|a| !a.is_empty())?,
        version.filter(|v| !v.is_empty())?,
    );
    Some(maven_package(group, artifact, version, path))
}

/// Without `pom.properties`, the archive's own name (`commons-io-2.11.0.jar`) gives the artifact;
/// the manifest gives the version when the name lacks it, and a group when it states one.
fn manifest_package(path: &str, file_name: &str, manifest: Option<&str>) -> Option<Package> {
    let mut fields = std::collections::BTreeMap::new();
    if let Some(manifest) = manifest {
        rfc822_fields(
            manifest,
            |key, value| {
                fields.entry(key).or_insert(value);
            },
            "",
        );
    }
    let stem = file_name
        .rfind('.')
        .map_or(file_name, |dot| &file_name[..dot]);
    let (artifact, file_version) = split_name_version(stem);
    let version = file_version
        .map(str::to_owned)
        .or_else(|| fields.get("Implementation-Version").cloned())
        .or_else(|| fields.get("Bundle-Version").cloned())
        .filter(|v| !v.is_empty())?;
    let group = fields.get("Implementation-Vendor-Id").cloned();
    Some(maven_package(group.as_deref(), artifact, &version, path))
}

/// `spring-core-5.3.20` is `spring-core` and `5.3.20`: the version starts at the first
/// `-<digit>`.
fn split_name_version(stem: &str) -> (&str, Option<&str>) {
    let bytes = stem.as_bytes();
    for index in 0..bytes.len().saturating_sub(1) {
        if bytes[index] == b'-' && bytes[index + 1].is_ascii_digit() {
            return (&stem[..index], Some(&stem[index + 1..]));
        }
    }
    (stem, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_split_at_the_version() {
        assert_eq!(
            split_name_version("spring-core-5.3.20"),
            ("spring-core", Some("5.3.20"))
        );
        assert_eq!(split_name_version("app"), ("app", None));
    }
}
