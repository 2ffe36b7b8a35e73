use std::fmt;

use serde::{Deserialize, Serialize};

use crate::finding::Location;

/// Where a package comes from. The names are the OSV ecosystem names, so an advisory's
/// `affected[].package.ecosystem` maps onto this without a table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Ecosystem {
    Debian,
    Ubuntu,
    Alpine,
    /// RPM-based distributions; the distribution itself is in [`crate::OsInfo`].
    Rpm,
    PyPI,
    #[serde(rename = "npm")]
    Npm,
    #[serde(rename = "crates.io")]
    CratesIo,
    Go,
    Maven,
    RubyGems,
    Packagist,
    NuGet,
    /// Elixir and Erlang packages from hex.pm (`mix.lock`).
    Hex,
    /// Dart and Flutter packages from pub.dev (`pubspec.lock`).
    Pub,
    /// Swift packages, named by their repository URL (`Package.resolved`), as OSV names them:
    /// `github.com/apple/swift-nio`.
    #[serde(rename = "SwiftURL")]
    SwiftUrl,
}

impl Ecosystem {
    /// The OSV spelling of the ecosystem.
    pub fn osv_name(&self) -> &'static str {
        match self {
            Ecosystem::Debian => "Debian",
            Ecosystem::Ubuntu => "Ubuntu",
            Ecosystem::Alpine => "Alpine",
            Ecosystem::Rpm => "RPM",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Npm => "npm",
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::Go => "Go",
            Ecosystem::Maven => "Maven",
            Ecosystem::RubyGems => "RubyGems",
            Ecosystem::Packagist => "Packagist",
            Ecosystem::NuGet => "NuGet",
            Ecosystem::Hex => "Hex",
            Ecosystem::Pub => "Pub",
            Ecosystem::SwiftUrl => "SwiftURL",
        }
    }

    /// The package URL type of the ecosystem's packages, as the purl specification names it.
    /// Swift packages are `swift`, with the repository's host and owner as the namespace
    /// (`pkg:swift/github.com/apple/swift-nio@2.40.0`).
    pub fn purl_type(&self) -> &'static str {
        match self {
            Ecosystem::Debian | Ecosystem::Ubuntu => "deb",
            Ecosystem::Alpine => "apk",
            Ecosystem::Rpm => "rpm",
            Ecosystem::PyPI => "pypi",
            Ecosystem::Npm => "npm",
            Ecosystem::CratesIo => "cargo",
            Ecosystem::Go => "golang",
            Ecosystem::Maven => "maven",
            Ecosystem::RubyGems => "gem",
            Ecosystem::Packagist => "composer",
            Ecosystem::NuGet => "nuget",
            Ecosystem::Hex => "hex",
            Ecosystem::Pub => "pub",
            Ecosystem::SwiftUrl => "swift",
        }
    }

    /// True for packages managed by the operating system's package manager.
    pub fn is_os(&self) -> bool {
        matches!(
            self,
            Ecosystem::Debian | Ecosystem::Ubuntu | Ecosystem::Alpine | Ecosystem::Rpm
        )
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.osv_name())
    }
}

/// The source package an OS binary package was built from. Distro feeds (Debian, Ubuntu) publish
/// advisories per source package, so matching needs it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SourcePackage {
    pub name: String,
    pub version: String,
}

/// A package another package depends on, named as its own ecosystem names it (the Debian package,
/// the normalized Python distribution, the npm name with its scope, the Go module path).
///
/// Only what the package metadata states is recorded; the edge is resolved against the packages
/// actually found when a report is written, and dropped there when nothing installed matches, so
/// a requirement that was never installed never becomes an edge.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Dependency {
    pub name: String,
    /// The exact version, when the source pins it (a lock file, a Go binary's module list): two
    /// versions of one name can sit side by side there. Absent when the metadata names only the
    /// package (dpkg, apk, installed npm and Python packages), which resolve by name and place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl Dependency {
    /// A dependency on whatever version of `name` is installed beside the package.
    pub fn named(name: impl Into<String>) -> Self {
        Dependency {
            name: name.into(),
            version: None,
        }
    }

    /// A dependency on exactly `name` at `version`.
    pub fn exact(name: impl Into<String>, version: impl Into<String>) -> Self {
        Dependency {
            name: name.into(),
            version: Some(version.into()),
        }
    }
}

/// One installed (or locked) package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    /// Package URL (<https://github.com/package-url/purl-spec>).
    pub purl: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourcePackage>,
    /// The architecture the package was built for (`amd64`, `x86_64`, `noarch`); for the Go
    /// modules of a binary, its build target as `GOOS/GOARCH` (`linux/amd64`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// License expressions or names exactly as the package metadata states them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// The files the package was read from (a dpkg status file, a `METADATA`, a binary...). The
    /// first location is the primary one; its layer is the layer that introduced the package.
    pub locations: Vec<Location>,
    /// Name of the OS package that owns the file this package was found in, when the file is a
    /// language artifact shipped by the distribution (a Go binary or a jar in a `.deb`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
    /// The packages of the same ecosystem this one needs, as its metadata states them, sorted and
    /// without duplicates. Empty when the metadata says nothing (a jar, a requirements file).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<Dependency>,
}

impl Package {
    /// Identity used to deduplicate: the same ecosystem, name and version found at the same path.
    pub fn identity(&self) -> (Ecosystem, &str, &str) {
        (
            self.ecosystem.clone(),
            self.name.as_str(),
            self.version.as_str(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Ecosystem;

    #[test]
    fn serialized_names_are_the_osv_names() {
        for ecosystem in [
            Ecosystem::Debian,
            Ecosystem::Rpm,
            Ecosystem::PyPI,
            Ecosystem::Npm,
            Ecosystem::CratesIo,
            Ecosystem::NuGet,
            Ecosystem::Hex,
            Ecosystem::Pub,
            Ecosystem::SwiftUrl,
        ] {
            let json = serde_json::to_string(&ecosystem).unwrap();
            // RPM is the one whose serialized name is not its OSV name.
            if ecosystem != Ecosystem::Rpm {
                assert_eq!(json, format!("\"{}\"", ecosystem.osv_name()));
            }
            let back: Ecosystem = serde_json::from_str(&json).unwrap();
            assert_eq!(back, ecosystem);
        }
        assert_eq!(Ecosystem::SwiftUrl.purl_type(), "swift");
        assert_eq!(Ecosystem::Hex.purl_type(), "hex");
        assert_eq!(Ecosystem::Pub.purl_type(), "pub");
    }
}
