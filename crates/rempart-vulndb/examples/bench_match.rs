//! Builds the database from the shared advisory exports and matches 10,000 packages against it.
//!
//! `cargo run -p rempart-vulndb --example bench_match [ADVISORY_DIR]`
//! (default: a full snapshot in `../shared/advisories` beside the repository when there is one,
//! else the trimmed snapshot the tests use).

use std::path::{Path, PathBuf};
use std::time::Instant;

use rempart_core::{Ecosystem, Location, Package};
use rempart_vulndb::{Database, VulnMatcher, import_paths};

#[allow(clippy::print_stdout)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let advisories = std::env::args().nth(1).map_or_else(
        || {
            let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
            let full = crate_dir.join("../../../shared/advisories");
            if full.join("PyPI-all.zip").is_file() {
                full
            } else {
                crate_dir.join("tests/fixtures/snapshot")
            }
        },
        PathBuf::from,
    );
    let inputs: Vec<PathBuf> = [
        "PyPI-all.zip",
        "Go-all.zip",
        "crates.io-all.zip",
        "alpine-secdb",
    ]
    .iter()
    .map(|name| advisories.join(name))
    .collect();
    let directory = tempfile::tempdir()?;
    let db_path = directory.path().join("vuln.sqlite");

    let started = Instant::now();
    let stats = import_paths(&db_path, &inputs)?;
    let build = started.elapsed();
    println!(
        "build: {:.2?} for {} advisories, {} affected packages, {} withdrawn, {} rejected; {} KiB",
        build,
        stats.advisories,
        stats.affected_packages,
        stats.withdrawn,
        stats.rejected,
        stats.db_size_bytes / 1024,
    );

    let database = Database::open(&db_path)?;
    let names = database.package_names(4_000)?;
    let versions = [
        "0.1.0", "1.0.0", "1.2.3", "2.0.1", "0.9.5", "3.1.4", "1.19.2", "4.0.0rc1",
    ];
    let packages: Vec<Package> = (0..10_000)
        .map(|i| {
            let (ecosystem, name) = &names[i % names.len()];
            let ecosystem = match ecosystem.as_str() {
                "PyPI" => Ecosystem::PyPI,
                "Go" => Ecosystem::Go,
                _ => Ecosystem::CratesIo,
            };
            let mut version = versions[i % versions.len()].to_owned();
            if ecosystem == Ecosystem::Go {
                version.insert(0, 'v');
                version = version.replace("rc1", "-rc.1");
            } else if ecosystem == Ecosystem::CratesIo {
                version = version.replace("rc1", "-rc.1");
            }
            Package {
                ecosystem,
                name: name.clone(),
                version,
                purl: String::new(),
                source: None,
                arch: None,
                licenses: Vec::new(),
                locations: vec![Location::file("app/requirements.txt")],
                owned_by: None,
                depends_on: Vec::new(),
            }
        })
        .collect();
    let matcher = VulnMatcher::new(database);
    let started = Instant::now();
    let first = matcher
        .match_packages(&packages[..names.len()], None)
        .unwrap();
    println!(
        "match (one package per name): {:.2?} for {} packages, {} findings",
        started.elapsed(),
        names.len(),
        first.len()
    );
    let started = Instant::now();
    let findings = matcher.match_packages(&packages, None).unwrap();
    println!(
        "match: {:.2?} for {} packages ({} distinct names), {} findings",
        started.elapsed(),
        packages.len(),
        names.len(),
        findings.len()
    );
    Ok(())
}
