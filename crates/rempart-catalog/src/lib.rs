//! Package catalogers: one [`FileAnalyzer`] per package database or manifest format.
//!
//! Each cataloger decides from a file's path, size and mode whether it wants the file, and reads
//! only that file: no cataloger depends on another file or another layer. The engine merges the
//! per-layer outputs afterwards (keeps packages whose source file survives, attributes layers,
//! resolves `owned_files` into `Package::owned_by`, maps the OS ecosystem).
//!
//! Conventions shared by all catalogers:
//! - every package has one location, the file it was read from (for packages found inside an
//!   archive, the outer archive path);
//! - OS packages (dpkg, apk, rpm) do not carry a distribution in their purl, because a single file
//!   cannot tell which distribution it belongs to; dpkg packages are `Ecosystem::Debian` and the
//!   engine remaps them to Ubuntu from the identified OS;
//! - malformed or oversized input is reported in `AnalysisOutput::skipped`, never as a panic.
//!
//! Adding a cataloger: a module folder with a type implementing [`FileAnalyzer`] (a stable
//! `name()`, `fingerprint()` from `common::fingerprint`, an `interest()` that looks at the path
//! only, a size cap for `Whole` or a [`rempart_core::FileSink`] for big binaries); a `pub use`
//! here and an entry in [`catalogers`]; its name in the `registry` test; a real fixture with the
//! real tool's view of it under `tests/fixtures/` (origin in the README there); a case in the
//! damaged-input test.

mod apk;
mod cargo;
mod common;
mod dart;
mod dotnet;
mod dpkg;
mod elixir;
mod gobin;
mod java;
mod npm;
mod os_release;
mod php;
mod python;
mod rpm;
mod ruby;
mod swift;

use rempart_core::FileAnalyzer;

pub use apk::ApkCataloger;
pub use cargo::{CargoAuditableCataloger, CargoLockCataloger};
pub use common::CatalogError;
pub use dart::PubCataloger;
pub use dotnet::DotnetCataloger;
pub use dpkg::{DebianCopyrightCataloger, DpkgCataloger};
pub use elixir::HexCataloger;
pub use gobin::{GoBinaryCataloger, GoModCataloger};
pub use java::JavaCataloger;
pub use npm::NpmCataloger;
pub use os_release::OsReleaseCataloger;
pub use php::PhpCataloger;
pub use python::PythonCataloger;
pub use rpm::RpmCataloger;
pub use ruby::RubyCataloger;
pub use swift::SwiftCataloger;

/// What to catalog besides installed packages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatalogOptions {
    /// Also read lock files and manifests (`requirements.txt`, `package-lock.json`, `go.mod`,
    /// `composer.lock`, `mix.lock`, `pubspec.lock`, `Package.resolved`...). Off for images, where the installed metadata is the truth and lock
    /// files of build stages left behind would report packages that are not installed; on for
    /// source-tree scans.
    pub lockfiles: bool,
}

impl CatalogOptions {
    /// Options for scanning a container image: installed packages only.
    pub const fn image() -> Self {
        CatalogOptions { lockfiles: false }
    }

    /// Options for scanning a source tree: installed packages and lock files.
    pub const fn filesystem() -> Self {
        CatalogOptions { lockfiles: true }
    }
}

/// Every cataloger, configured by `options`.
pub fn catalogers(options: &CatalogOptions) -> Vec<Box<dyn FileAnalyzer>> {
    vec![
        Box::new(OsReleaseCataloger::new()),
        Box::new(DpkgCataloger::new()),
        Box::new(DebianCopyrightCataloger::new()),
        Box::new(ApkCataloger::new()),
        Box::new(RpmCataloger::new()),
        Box::new(PythonCataloger::new(*options)),
        Box::new(NpmCataloger::new(*options)),
        Box::new(CargoLockCataloger::new()),
        Box::new(CargoAuditableCataloger::new()),
        Box::new(GoBinaryCataloger::new()),
        Box::new(GoModCataloger::new(*options)),
        Box::new(JavaCataloger::new()),
        Box::new(RubyCataloger::new(*options)),
        Box::new(PhpCataloger::new(*options)),
        Box::new(DotnetCataloger::new(*options)),
        Box::new(HexCataloger::new(*options)),
        Box::new(PubCataloger::new(*options)),
        Box::new(SwiftCataloger::new(*options)),
    ]
}
