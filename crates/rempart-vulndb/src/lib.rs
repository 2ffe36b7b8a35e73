//! rempart's vulnerability database.
//!
//! - [`import_paths`] builds one `SQLite` file from advisory feeds: osv.dev exports (every OSV
//!   ecosystem), Alpine secdb YAML, the Debian security-tracker JSON and Red Hat's CSAF VEX
//!   documents.
//! - [`Database::open`] opens it read-only; [`Database::status`] says what it holds and how old
//!   it is.
//! - [`VulnMatcher`] matches a package catalog against it (an [`rempart_core::ImageAnalyzer`]).
//! - [`VersionScheme`] orders versions the way each ecosystem's own tool does.
//!
//! OSV `GIT` ranges are stored but never matched: installed packages carry versions, not
//! commits. Such advisories still match through their `versions` lists and other ranges.

mod ecosystem;
mod end_of_life;
mod eol;
mod error;
mod import;
mod matcher;
mod model;
mod rating;
mod store;
mod version;

pub use ecosystem::normalize_package_name;
pub use end_of_life::{OS_EOL, VULN_RULES, VulnRule, end_of_life_finding};
pub use eol::{EolRelease, EolTable};
pub use error::VulnDbError;
pub use import::{ImportGuard, ImportStats, import_paths, import_paths_guarded};
pub use matcher::VulnMatcher;
pub use store::{Database, DbStatus, SCHEMA_VERSION, SourceStatus, default_db_path};
pub use version::{ParsedVersion, VersionError, VersionScheme, compare};
