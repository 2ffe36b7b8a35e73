//! The committed fuzz corpora of the catalogers (`fuzz/corpus/<target>/`), fed to every cataloger
//! under the paths the fuzz target uses, so the inputs that once crashed stay fixed and the seeds
//! stay readable without a nightly toolchain. Files named `regression-*` are inputs that crashed
//! a cataloger; the others are seeds, each of which must still yield something.

use std::path::PathBuf;

use rempart_catalog::{CatalogOptions, catalogers};
use rempart_core::{FileMeta, Interest};

use crate::support::run_chunked;

/// `(fuzz target, paths and modes it feeds its input under)`, as in `fuzz/fuzz_targets/`.
const TARGETS: &[(&str, &[(&str, u32)])] = &[
    (
        "rpm_db",
        &[
            ("var/lib/rpm/rpmdb.sqlite", 0o644),
            ("var/lib/rpm/Packages", 0o644),
            ("usr/lib/sysimage/rpm/Packages.db", 0o644),
        ],
    ),
    (
        "dpkg_status",
        &[
            ("var/lib/dpkg/status", 0o644),
            ("var/lib/dpkg/status.d/base", 0o644),
            ("var/lib/dpkg/info/base.list", 0o644),
        ],
    ),
    ("apk_installed", &[("lib/apk/db/installed", 0o644)]),
    (
        "npm_lock",
        &[
            ("app/package-lock.json", 0o644),
            ("app/node_modules/dep/package.json", 0o644),
            ("app/yarn.lock", 0o644),
            ("app/pnpm-lock.yaml", 0o644),
        ],
    ),
    (
        "mix_pub_swift_lock",
        &[
            ("app/mix.lock", 0o644),
            ("app/pubspec.lock", 0o644),
            ("app/Package.resolved", 0o644),
        ],
    ),
    (
        "python_metadata",
        &[
            (
                "usr/lib/python3/site-packages/x-1.0.dist-info/METADATA",
                0o644,
            ),
            (
                "usr/lib/python3/site-packages/x-1.0.egg-info/PKG-INFO",
                0o644,
            ),
        ],
    ),
    ("java_archive", &[("opt/app/app.jar", 0o644)]),
    ("executable", &[("usr/local/bin/app", 0o755)]),
];

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let directory = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&directory)
        .unwrap_or_else(|error| panic!("{}: {error}", directory.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn fuzz_corpora_never_panic_and_seeds_still_read() {
    let all = catalogers(&CatalogOptions::filesystem());
    let started = std::time::Instant::now();
    for (target, paths) in TARGETS {
        let files = corpus(target);
        assert!(
            files
                .iter()
                .any(|(name, _)| !name.starts_with("regression-")),
            "{target}: no seed"
        );
        for (name, content) in &files {
            let mut read_something = false;
            for (path, mode) in *paths {
                let meta = FileMeta {
                    path,
                    size: content.len() as u64,
                    mode: *mode,
                };
                for cataloger in all.iter().filter(|c| c.interest(&meta) != Interest::Skip) {
                    let out = run_chunked(cataloger.as_ref(), path, *mode, content, 4093);
                    read_something |= !out.packages.is_empty() || !out.owned_files.is_empty();
                }
            }
            assert!(
                read_something || name.starts_with("regression-"),
                "{target}/{name}: a seed no cataloger reads"
            );
        }
    }
    assert!(started.elapsed().as_secs() < 60);
}
