//! Version ordering, one module per versioning scheme.
//!
//! Every comparator answers the same question the ecosystem's own tool would: `dpkg
//! --compare-versions`, `rpm.vercmp`, `apk version -t`, Python's `packaging`, npm's `semver`,
//! Maven's `ComparableVersion`, `Gem::Version`, `NuGet`, Composer and Dart's `pub_semver`. A version string the scheme
//! cannot read is an error, never a guess: a wrong guess would hide or invent a vulnerability.

mod apk;
mod cargo;
mod dart_pub;
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
    /// `RubyGems` (`Gem::Version`).
    RubyGems,
    /// `NuGet` (`NuGetVersion`: four numeric parts, case-insensitive pre-release labels).
    NuGet,
    /// Packagist (Composer: normalized, then PHP's `version_compare`).
    Packagist,
    /// Plain Semantic Versioning 2.0, as OSV `SEMVER` ranges require; also Hex and `SwiftURL`,
    /// whose tools order versions exactly so.
    SemVer,
    /// Pub (Dart's `pub_semver`: `SemVer` in which build metadata orders, `1.0.0 < 1.0.0+1`).
    Pub,
}

impl VersionScheme {
    /// The scheme for an OSV ecosystem name (the part before any `:`), or `None` when rempart has
    /// no comparator for it.
    pub fn for_osv_ecosystem(ecosystem: &str) -> Option<VersionScheme> {
        let base = ecosystem.split(':').next().unwrap_or(ecosystem);
        Some(match base {
            "Debian" | "Ubuntu" => VersionScheme::Dpkg,
            // Wolfi and Chainguard build apk packages and spell versions as Alpine does.
            "Alpine" | "Wolfi" | "Chainguard" => VersionScheme::Apk,
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
            // Elixir's `Version` (which Hex uses) and `SwiftPM`'s `Version` both implement
            // `SemVer` 2.0 precedence: a full `MAJOR.MINOR.PATCH`, pre-releases before their
            // release, build metadata ignored. That is the `SemVer` scheme exactly, so neither
            // needs a comparator of its own.
            "Hex" | "SwiftURL" => VersionScheme::SemVer,
            "Pub" => VersionScheme::Pub,
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
            VersionScheme::Pub => "pub",
        }
    }

    /// Checks that `version` is valid in this scheme.
    pub fn validate(self, version: &str) -> Result<(), VersionError> {
        self.parse(version).map(|_| ())
    }

    /// Orders two versions under this scheme's rules.
    pub fn compare(self, a: &str, b: &str) -> Result<Ordering, VersionError> {
        Ok(self.parse(a)?.cmp(&self.parse(b)?))
    }

    /// Reads a version once, for comparing it many times.
    pub fn parse(self, version: &str) -> Result<ParsedVersion, VersionError> {
        let parsed = match self {
            VersionScheme::Dpkg => dpkg::parse(version).map(Parsed::Dpkg),
            VersionScheme::Rpm => rpm::parse(version).map(Parsed::Rpm),
            VersionScheme::Apk => apk::parse(version).map(Parsed::Apk),
            VersionScheme::Pep440 => pep440::parse(version).map(Parsed::Pep440),
            VersionScheme::Npm => npm::parse(version).map(Parsed::Npm),
            VersionScheme::Go => go::parse(version).map(Parsed::SemVer),
            VersionScheme::Cargo | VersionScheme::SemVer => {
                cargo::parse(version).map(Parsed::SemVer)
            }
            VersionScheme::Maven => maven::parse(version).map(Parsed::Maven),
            VersionScheme::RubyGems => rubygems::parse(version).map(Parsed::RubyGems),
            VersionScheme::NuGet => nuget::parse(version).map(Parsed::NuGet),
            VersionScheme::Packagist => packagist::parse(version).map(Parsed::Packagist),
            VersionScheme::Pub => dart_pub::parse(version).map(Parsed::Pub),
        };
        parsed.map(ParsedVersion).map_err(|invalid| VersionError {
            scheme: self,
            version: invalid.version.to_owned(),
            reason: invalid.reason,
        })
    }
}

/// A version read under one [`VersionScheme`]. Versions of the same scheme are totally ordered;
/// comparing versions of different schemes is meaningless and orders them as equal.
#[derive(Debug, Clone)]
pub struct ParsedVersion(Parsed);

#[derive(Debug, Clone)]
enum Parsed {
    Dpkg(debversion::Version),
    Rpm(String),
    Apk(String),
    Pep440(pep440_rs::Version),
    Npm(nodejs_semver::Version),
    SemVer(semver::Version),
    Maven(maven::Item),
    RubyGems(Vec<rubygems::Segment>),
    NuGet(nuget::NuGetVersion),
    Packagist(String),
    Pub(dart_pub::PubVersion),
}

impl Ord for ParsedVersion {
    fn cmp(&self, other: &ParsedVersion) -> Ordering {
        match (&self.0, &other.0) {
            (Parsed::Dpkg(a), Parsed::Dpkg(b)) => a.cmp(b),
            (Parsed::Rpm(a), Parsed::Rpm(b)) => rpm::order(a, b),
            (Parsed::Apk(a), Parsed::Apk(b)) => apk::order(a, b),
            (Parsed::Pep440(a), Parsed::Pep440(b)) => a.cmp(b),
            (Parsed::Npm(a), Parsed::Npm(b)) => a.cmp(b),
            (Parsed::SemVer(a), Parsed::SemVer(b)) => a.cmp(b),
            (Parsed::Maven(a), Parsed::Maven(b)) => maven::order(a, b),
            (Parsed::RubyGems(a), Parsed::RubyGems(b)) => rubygems::order(a, b),
            (Parsed::NuGet(a), Parsed::NuGet(b)) => nuget::order(a, b),
            (Parsed::Packagist(a), Parsed::Packagist(b)) => packagist::order(a, b),
            (Parsed::Pub(a), Parsed::Pub(b)) => dart_pub::order(a, b),
            _ => Ordering::Equal,
        }
    }
}

impl PartialOrd for ParsedVersion {
    fn partial_cmp(&self, other: &ParsedVersion) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ParsedVersion {
    fn eq(&self, other: &ParsedVersion) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ParsedVersion {}

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
