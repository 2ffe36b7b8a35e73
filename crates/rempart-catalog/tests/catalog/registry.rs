//! The set of catalogers, their stable names and fingerprints.

use rempart_catalog::{CatalogOptions, catalogers};

#[test]
fn every_cataloger_is_listed_with_a_stable_name() {
    let names: Vec<&str> = catalogers(&CatalogOptions::image())
        .iter()
        .map(|c| c.name())
        .collect();
    assert_eq!(
        names,
        [
            "os-release",
            "dpkg",
            "dpkg-copyright",
            "apk",
            "rpm",
            "python",
            "npm",
            "cargo-lock",
            "cargo-auditable",
            "go-binary",
            "go-mod",
            "java",
            "ruby",
            "php",
            "dotnet",
            "hex",
            "pub",
            "swift",
        ]
    );
    for cataloger in catalogers(&CatalogOptions::filesystem()) {
        let fingerprint = cataloger.fingerprint();
        assert!(fingerprint.starts_with(cataloger.name()), "{fingerprint}");
        assert!(
            fingerprint.contains(env!("CARGO_PKG_VERSION")),
            "{fingerprint}"
        );
    }
}

#[test]
fn image_mode_reads_no_lock_files() {
    let lock_files = [
        "src/requirements.txt",
        "src/poetry.lock",
        "src/package-lock.json",
        "src/yarn.lock",
        "src/pnpm-lock.yaml",
        "src/go.mod",
        "src/Gemfile.lock",
        "src/composer.lock",
        "src/packages.lock.json",
        "src/mix.lock",
        "src/pubspec.lock",
        "src/Package.resolved",
    ];
    for path in lock_files {
        let meta = rempart_core::FileMeta {
            path,
            size: 100,
            mode: 0o644,
        };
        let image = catalogers(&CatalogOptions::image());
        assert!(
            image
                .iter()
                .all(|c| c.interest(&meta) == rempart_core::Interest::Skip),
            "{path} read in image mode"
        );
        let fs = catalogers(&CatalogOptions::filesystem());
        assert!(
            fs.iter()
                .any(|c| c.interest(&meta) != rempart_core::Interest::Skip),
            "{path}"
        );
    }
}
