//! Damaged copies of every real fixture, fed to every cataloger that wants the file: no panic,
//! bounded time.

use rempart_catalog::{CatalogOptions, catalogers};

use crate::support::{fixture, run_chunked};

/// `(path in the image, fixture, mode)` covering every cataloger.
const CASES: &[(&str, &str, u32)] = &[
    ("usr/lib/os-release", "os/os-release-debian12", 0o644),
    ("var/lib/dpkg/status", "dpkg/status", 0o644),
    (
        "var/lib/dpkg/info/bsdutils.list",
        "dpkg/bsdutils.list",
        0o644,
    ),
    ("lib/apk/db/installed", "apk/installed", 0o644),
    ("var/lib/rpm/rpmdb.sqlite", "rpm/rpmdb.sqlite", 0o644),
    ("var/lib/rpm/Packages", "rpm/Packages-bdb-512", 0o644),
    (
        "x/attrs-26.1.0.dist-info/METADATA",
        "python/site-packages/attrs-26.1.0.dist-info/METADATA",
        0o644,
    ),
    ("x/uv.lock", "python/uv.lock", 0o644),
    ("x/Pipfile.lock", "python/Pipfile.lock", 0o644),
    (
        "x/node_modules/@isaacs/cliui/package.json",
        "npm/app/node_modules/@isaacs/cliui/package.json",
        0o644,
    ),
    ("x/package-lock.json", "npm/app/package-lock.json", 0o644),
    ("x/yarn.lock", "npm/yarn-berry.lock", 0o644),
    ("x/pnpm-lock.yaml", "npm/pnpm-lock-v9.yaml", 0o644),
    ("x/Cargo.lock", "cargo/Cargo.lock", 0o644),
    ("usr/bin/audit-demo", "cargo/audit-demo", 0o755),
    (
        "usr/bin/terraform",
        "go/terraform-buildinfo-window.bin",
        0o755,
    ),
    ("x/go.mod", "go/go.mod", 0o644),
    ("x/shop.war", "java/shop.war", 0o644),
    (
        "x/specifications/rake-13.0.6.gemspec",
        "ruby/rake-13.0.6.gemspec",
        0o644,
    ),
    (
        "x/vendor/composer/installed.json",
        "php/installed.json",
        0o644,
    ),
    ("x/app.deps.json", "dotnet/WebApp.deps.json", 0o644),
    ("x/mix.lock", "hex/mix.lock", 0o644),
    ("x/pubspec.lock", "pub/pubspec.lock", 0o644),
    ("x/Package.resolved", "swift/Package.resolved.v2", 0o644),
];

/// A deterministic generator, so a failure reproduces.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

#[test]
fn damaged_inputs_never_panic() {
    let all = catalogers(&CatalogOptions::filesystem());
    let mut random = Lcg(0x5eed);
    let started = std::time::Instant::now();
    for (path, fixture_name, mode) in CASES {
        let original = fixture(fixture_name);
        let meta = rempart_core::FileMeta {
            path,
            size: original.len() as u64,
            mode: *mode,
        };
        let wanted: Vec<_> = all
            .iter()
            .filter(|c| c.interest(&meta) != rempart_core::Interest::Skip)
            .collect();
        assert!(!wanted.is_empty(), "nobody wants {path}");
        let mut variants = vec![Vec::new()];
        for fraction in [1, 3, 7] {
            variants.push(original[..original.len() * fraction / 8].to_vec());
        }
        for _ in 0..12 {
            let mut damaged = original.clone();
            for _ in 0..=(random.next() % 16) {
                let at = (random.next() as usize) % damaged.len();
                damaged[at] = random.next() as u8;
            }
            variants.push(damaged);
        }
        for variant in &variants {
            let meta = rempart_core::FileMeta {
                path,
                size: variant.len() as u64,
                mode: *mode,
            };
            for cataloger in &wanted {
                // Size-based interest (tiny binaries) may decline a truncated copy.
                if cataloger.interest(&meta) == rempart_core::Interest::Skip {
                    continue;
                }
                let _ = run_chunked(cataloger.as_ref(), path, *mode, variant, 4093);
            }
        }
    }
    assert!(started.elapsed().as_secs() < 60);
}

/// Deep nesting must not exhaust the stack in any of the text parsers.
#[test]
fn deeply_nested_documents() {
    let depth = 200_000;
    let toml = format!("x = {}{}", "[".repeat(depth), "]".repeat(depth));
    let json = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let yaml = format!("packages: {}{}", "[".repeat(depth), "]".repeat(depth));
    let all = catalogers(&CatalogOptions::filesystem());
    for (path, content) in [
        ("a/Cargo.lock", &toml),
        ("a/poetry.lock", &toml),
        ("a/uv.lock", &toml),
        ("a/package-lock.json", &json),
        ("a/node_modules/x/package.json", &json),
        ("a/Pipfile.lock", &json),
        ("a/composer.lock", &json),
        ("a/x.deps.json", &json),
        ("a/pnpm-lock.yaml", &yaml),
    ] {
        let meta = rempart_core::FileMeta {
            path,
            size: content.len() as u64,
            mode: 0o644,
        };
        for cataloger in all
            .iter()
            .filter(|c| c.interest(&meta) != rempart_core::Interest::Skip)
        {
            let out = run_chunked(cataloger.as_ref(), path, 0o644, content.as_bytes(), 65536);
            assert!(out.packages.is_empty(), "{path}");
            assert_eq!(out.skipped.len(), 1, "{path}");
        }
    }
}

/// Each real file yields packages from exactly one cataloger, so nothing is reported twice.
#[test]
fn one_cataloger_per_file() {
    let all = catalogers(&CatalogOptions::filesystem());
    for (path, fixture_name, mode) in CASES {
        let content = fixture(fixture_name);
        let meta = rempart_core::FileMeta {
            path,
            size: content.len() as u64,
            mode: *mode,
        };
        let producers: Vec<&str> = all
            .iter()
            .filter(|c| c.interest(&meta) != rempart_core::Interest::Skip)
            .filter(|c| {
                let out = run_chunked(c.as_ref(), path, *mode, &content, 65536);
                !out.packages.is_empty() || !out.os.is_empty() || !out.owned_files.is_empty()
            })
            .map(|c| c.name())
            .collect();
        assert_eq!(producers.len(), 1, "{path}: {producers:?}");
    }
}
