//! Version ordering, one module per versioning scheme.
//!
//! Every comparator answers the same question the ecosystem's own tool would: `dpkg
//! --compare-versions`, `rpm.vercmp`, `apk version -t`, Python's `packaging`, npm's `semver`,
//! Maven's `ComparableVersion`, `Gem::Version`, NuGet and Composer. A version string the scheme
//! cannot read is an error, never a guess: a wrong guess would hide or invent a vulnerability.

mod apk;
mod cargo;
mod dpkg;
mod go;
mod maven;
mod npm;
mod nuget;
mod packagist;
mod pep440;
mod rpm;
mod rubygems;

use std::cmp::Ordering;
use std::fmt;

/// A set of rules for ordering version strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VersionScheme {
    /// Debian and Ubuntu (`dpkg --compare-versions`).
    Dpkg,
    /// RPM-based distributions (`rpmvercmp`, with epoch and release).
    Rpm,
    /// Alpine (`apk version -t`).
    Apk,
    /// Python (PEP 440).
    Pep440,
    /// npm (node-semver).
    Npm,
    /// Go modules: semantic versions with a `v` prefix, pseudo-versions, `+incompatible`.
    Go,
    /// crates.io (Cargo's semver: build metadata does not order).
    Cargo,
    /// Maven (`ComparableVersion`).
    Maven,
    /// RubyGems (`Gem::Version`).
    RubyGems,
    /// NuGet (`NuGetVersion`: four numeric parts, case-insensitive pre-release labels).
    NuGet,
    /// Packagist (Composer: normalized, then PHP's `version_compare`).
    Packagist,
    /// Plain Semantic Versioning 2.0, as OSV `SEMVER` ranges require.
    SemVer,
}

impl VersionScheme {
    /// The scheme for an OSV ecosystem name (the part before any `:`), or `None` when rempart has
    /// no comparator for it.
    pub fn for_osv_ecosystem(ecosystem: &str) -> Option<VersionScheme> {
        let base = ecosystem.split(':').next().unwrap_or(ecosystem);
        Some(match base {
            "Debian" | "Ubuntu" => VersionScheme::Dpkg,
            "Alpine" => VersionScheme::Apk,
            "Red Hat" | "Rocky Linux" | "AlmaLinux" | "SUSE" | "openSUSE" | "Mageia"
            | "openEuler" | "RPM" => VersionScheme::Rpm,
            "PyPI" => VersionScheme::Pep440,
            "npm" => VersionScheme::Npm,
            "Go" => VersionScheme::Go,
            "crates.io" => VersionScheme::Cargo,
            "Maven" => VersionScheme::Maven,
            "RubyGems" => VersionScheme::RubyGems,
            "NuGet" => VersionScheme::NuGet,
            "Packagist" => VersionScheme::Packagist,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            VersionScheme::Dpkg => "dpkg",
            VersionScheme::Rpm => "rpm",
            VersionScheme::Apk => "apk",
            VersionScheme::Pep440 => "pep440",
            VersionScheme::Npm => "npm",
            VersionScheme::Go => "go",
            VersionScheme::Cargo => "cargo",
            VersionScheme::Maven => "maven",
            VersionScheme::RubyGems => "rubygems",
            VersionScheme::NuGet => "nuget",
            VersionScheme::Packagist => "packagist",
            VersionScheme::SemVer => "semver",
        }
    }

    /// Checks that `version` is valid in this scheme.
    pub fn validate(self, version: &str) -> Result<(), VersionError> {
        self.compare(version, version).map(|_| ())
    }

    /// Orders two versions under this scheme's rules.
    pub fn compare(self, a: &str, b: &str) -> Result<Ordering, VersionError> {
        let err = |version: &str, reason: String| VersionError {
            scheme: self,
            version: version.to_owned(),
            reason,
        };
        match self {
            VersionScheme::Dpkg => dpkg::compare(a, b),
            VersionScheme::Rpm => rpm::compare(a, b),
            VersionScheme::Apk => apk::compare(a, b),
            VersionScheme::Pep440 => pep440::compare(a, b),
            VersionScheme::Npm => npm::compare(a, b),
            VersionScheme::Go => go::compare(a, b),
            VersionScheme::Cargo | VersionScheme::SemVer => cargo::compare(a, b),
            VersionScheme::Maven => maven::compare(a, b),
            VersionScheme::RubyGems => rubygems::compare(a, b),
            VersionScheme::NuGet => nuget::compare(a, b),
            VersionScheme::Packagist => packagist::compare(a, b),
        }
        .map_err(|invalid| err(invalid.version, invalid.reason))
    }
}

impl fmt::Display for VersionScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Orders two versions of a package of the given OSV ecosystem (`PyPI`, `Debian:12`...).
pub fn compare(ecosystem: &str, a: &str, b: &str) -> Result<Ordering, VersionError> {
    let scheme = VersionScheme::for_osv_ecosystem(ecosystem).ok_or_else(|| VersionError {
        scheme: VersionScheme::SemVer,
        version: a.to_owned(),
        reason: format!("no version comparator for ecosystem `{ecosystem}`"),
    })?;
    scheme.compare(a, b)
}

/// A version string the scheme cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {scheme} version `{version}`: {reason}")]
pub struct VersionError {
    pub scheme: VersionScheme,
    pub version: String,
    pub reason: String,
}

/// What a comparator module reports: which of the two inputs it could not read, and why.
struct Invalid<'a> {
    version: &'a str,
    reason: String,
}

impl<'a> Invalid<'a> {
    fn new(version: &'a str, reason: impl Into<String>) -> Invalid<'a> {
        Invalid {
            version,
            reason: reason.into(),
        }
    }
}

type CompareResult<'a> = Result<Ordering, Invalid<'a>>;

/// Longest version string any comparator accepts: bounds the cost of hostile input.
const MAX_VERSION_LEN: usize = 256;

fn check_length(version: &str) -> Result<(), Invalid<'_>> {
    if version.len() > MAX_VERSION_LEN {
        return Err(Invalid::new(
            version,
            format!("longer than {MAX_VERSION_LEN} bytes"),
        ));
    }
    if version.is_empty() {
        return Err(Invalid::new(version, "empty"));
    }
    Ok(())
}
