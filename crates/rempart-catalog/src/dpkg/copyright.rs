//! Licenses of Debian packages, from `usr/share/doc/<package>/copyright`.
//!
//! The dpkg database states no license; Debian records them in each package's copyright file,
//! machine-readable (DEP-5: `License:` fields) in most of bookworm, free-form in older packages
//! (where a reference to `/usr/share/common-licenses/<name>` is the reliable signal).

use rempart_core::{AnalysisOutput, Ecosystem, FileAnalyzer, FileMeta, Interest, PackageLicenses};

use crate::common::{MIB, fingerprint, text, whole};

/// Reads Debian copyright files.
#[derive(Debug, Default, Clone, Copy)]
pub struct DebianCopyrightCataloger;

impl DebianCopyrightCataloger {
    pub fn new() -> Self {
        DebianCopyrightCataloger
    }
}

/// The package a copyright file belongs to: `usr/share/doc/<package>/copyright`.
fn package_of(path: &str) -> Option<&str> {
    let package = path
        .strip_prefix("usr/share/doc/")?
        .strip_suffix("/copyright")?;
    (!package.is_empty() && !package.contains('/')).then_some(package)
}

/// `License:` fields of a DEP-5 file: the first line of each field is the license expression.
fn dep5_licenses(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("License:"))
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
        .collect()
}

/// References to the licenses Debian ships in `/usr/share/common-licenses/`.
fn common_license_references(text: &str) -> Vec<String> {
    let marker = "/usr/share/common-licenses/";
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        rest = &rest[at + marker.len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'))
            .collect();
        let name = name.trim_end_matches('.');
        if !name.is_empty() {
            found.push(name.to_owned());
        }
    }
    found
}

impl FileAnalyzer for DebianCopyrightCataloger {
    fn reads_by_name(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "dpkg-copyright"
    }

    fn fingerprint(&self) -> String {
        fingerprint(self.name())
    }

    fn interest(&self, file: &FileMeta<'_>) -> Interest {
        if package_of(file.path).is_some() {
            whole(MIB)
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], out: &mut AnalysisOutput) {
        let Some(package) = package_of(file.path) else {
            return;
        };
        let text = text(content);
        let is_dep5 = text
            .lines()
            .next()
            .is_some_and(|first| first.starts_with("Format:"));
        let mut licenses = if is_dep5 {
            dep5_licenses(&text)
        } else {
            Vec::new()
        };
        if licenses.is_empty() {
            licenses = common_license_references(&text);
        }
        let mut seen = std::collections::HashSet::new();
        licenses.retain(|license| seen.insert(license.clone()));
        if !licenses.is_empty() {
            out.package_licenses.push(PackageLicenses {
                ecosystem: Ecosystem::Debian,
                package: package.to_owned(),
                source_path: file.path.to_owned(),
                licenses,
            });
        }
    }
}
