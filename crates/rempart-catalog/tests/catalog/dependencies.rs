//! The dependency edges each cataloger reads from the metadata it already parses.

use rempart_catalog::{
    ApkCataloger, CargoLockCataloger, CatalogOptions, DpkgCataloger, GoBinaryCataloger,
    NpmCataloger, PythonCataloger,
};
use rempart_core::{Dependency, Package};

use crate::support::{find, fixture, run, run_chunked};

fn names(package: &Package) -> Vec<&str> {
    package
        .depends_on
        .iter()
        .map(|dependency| {
            assert_eq!(dependency.version, None, "{dependency:?}");
            dependency.name.as_str()
        })
        .collect()
}

fn exact(package: &Package) -> Vec<(&str, &str)> {
    package
        .depends_on
        .iter()
        .map(|dependency| {
            (
                dependency.name.as_str(),
                dependency.version.as_deref().expect("an exact version"),
            )
        })
        .collect()
}

/// Trimmed from a Debian 12 status file: a virtual package (`debconf-2.0`), alternatives whose
/// first choice is not installed, `:any` and `:amd64` qualifiers, a package removed but for its
/// configuration files, and a dependency on something never installed.
const DPKG_STATUS: &str = "\
Package: libc6
Status: install ok installed
Architecture: amd64
Multi-Arch: same
Version: 2.36-9+deb12u4
Depends: libgcc-s1
Description: GNU C Library: Shared libraries

Package: libgcc-s1
Status: install ok installed
Architecture: amd64
Source: gcc-12
Version: 12.2.0-14
Depends: gcc-12-base (= 12.2.0-14), libc6 (>= 2.35)

Package: gcc-12-base
Status: install ok installed
Architecture: amd64
Source: gcc-12
Version: 12.2.0-14

Package: cdebconf
Status: install ok installed
Architecture: amd64
Version: 0.270
Provides: debconf-2.0
Depends: libc6 (>= 2.34)

Package: debconf
Status: deinstall ok config-files
Architecture: all
Version: 1.5.82

Package: tzdata
Status: install ok installed
Architecture: all
Version: 2024a-0+deb12u1
Provides: tzdata-bookworm
Depends: debconf (>= 0.5) | debconf-2.0

Package: login
Status: install ok installed
Architecture: amd64
Source: shadow
Version: 1:4.13+dfsg1-1+b1
Pre-Depends: libc6:amd64 (>= 2.34), libpam-runtime (>= 0.76-14)
Depends: mawk | awk, gcc-12-base:any
";

#[test]
fn dpkg_status_resolves_alternatives_and_virtual_packages() {
    let out = run(
        &DpkgCataloger::new(),
        "var/lib/dpkg/status",
        DPKG_STATUS.as_bytes(),
    );
    assert_eq!(names(find(&out.packages, "libc6")), ["libgcc-s1"]);
    assert_eq!(
        names(find(&out.packages, "libgcc-s1")),
        ["gcc-12-base", "libc6"]
    );
    assert!(find(&out.packages, "gcc-12-base").depends_on.is_empty());
    // `debconf` left only its configuration files: `debconf-2.0`, provided by cdebconf, is what
    // satisfies tzdata.
    assert_eq!(names(find(&out.packages, "tzdata")), ["cdebconf"]);
    // `Pre-Depends` counts, `:amd64` and `:any` are dropped, and neither libpam-runtime nor an
    // awk is installed here.
    assert_eq!(
        names(find(&out.packages, "login")),
        ["gcc-12-base", "libc6"]
    );
}

#[test]
fn dpkg_status_fixture_edges() {
    let out = run(
        &DpkgCataloger::new(),
        "var/lib/dpkg/status",
        &fixture("dpkg/status"),
    );
    for package in &out.packages {
        for dependency in &package.depends_on {
            assert!(
                out.packages.iter().any(|p| p.name == dependency.name),
                "{} depends on {}, which is not installed",
                package.name,
                dependency.name
            );
        }
    }
}

#[test]
fn distroless_status_d_keeps_the_first_alternative_by_name() {
    let stanza = "\
Package: libssl3
Version: 3.0.11-1~deb12u2
Architecture: amd64
Source: openssl
Depends: libc6 (>= 2.34), zlib1g | libz1
";
    let out = run(
        &DpkgCataloger::new(),
        "var/lib/dpkg/status.d/libssl3",
        stanza.as_bytes(),
    );
    assert_eq!(names(&out.packages[0]), ["libc6", "zlib1g"]);
}

#[test]
fn debian_epoch_stays_in_the_purl_version() {
    let out = run(
        &DpkgCataloger::new(),
        "var/lib/dpkg/status",
        DPKG_STATUS.as_bytes(),
    );
    let login = find(&out.packages, "login");
    // The purl `deb` type: the version is the package version, epoch included
    // (`pkg:deb/debian/attr@1:2.4.47-2`); `+` is percent-encoded.
    assert_eq!(login.version, "1:4.13+dfsg1-1+b1");
    assert_eq!(
        login.purl,
        "pkg:deb/debian/login@1:4.13%2Bdfsg1-1%2Bb1?arch=amd64&upstream=shadow"
    );
    let parsed: packageurl::PackageUrl = login.purl.parse().unwrap();
    assert_eq!(parsed.version(), Some("1:4.13+dfsg1-1+b1"));
}

/// From an Alpine 3.19 `installed` database: `so:` and `cmd:` names, a versioned name, a
/// conflict and a requirement nothing provides.
const APK_INSTALLED: &str = "\
C:Q1Ycp8OaHxbYQMHS0gqbX4OtTi2gY=
P:musl
V:1.2.4_git20230717-r4
A:x86_64
o:musl
p:so:libc.musl-x86_64.so.1=1

P:busybox
V:1.36.1-r15
A:x86_64
o:busybox
D:so:libc.musl-x86_64.so.1
p:/bin/sh cmd:busybox=1.36.1-r15 cmd:sh=1.36.1-r15

P:libcrypto3
V:3.1.4-r5
A:x86_64
o:openssl
D:so:libc.musl-x86_64.so.1
p:so:libcrypto.so.3=3

P:ssl_client
V:1.36.1-r15
A:x86_64
o:busybox
D:so:libc.musl-x86_64.so.1 so:libcrypto.so.3 busybox=1.36.1-r15 !busybox-extras cmd:sh so:libmissing.so.1
";

#[test]
fn apk_depends_resolve_through_provides() {
    let out = run(
        &ApkCataloger::new(),
        "lib/apk/db/installed",
        APK_INSTALLED.as_bytes(),
    );
    assert!(find(&out.packages, "musl").depends_on.is_empty());
    assert_eq!(names(find(&out.packages, "busybox")), ["musl"]);
    assert_eq!(
        names(find(&out.packages, "ssl_client")),
        ["busybox", "libcrypto3", "musl"]
    );
}

const PACKAGE_LOCK: &str = r#"{
  "name": "shop",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {"name": "shop", "version": "1.0.0", "dependencies": {"debug": "^4.3.4", "express-lite": "^1.0.0"}},
    "node_modules/debug": {"version": "4.3.4", "dependencies": {"ms": "2.1.2"}},
    "node_modules/ms": {"version": "2.1.2"},
    "node_modules/express-lite": {"version": "1.0.0", "dependencies": {"debug": "2.6.9", "ms": "^2.1.0"}, "optionalDependencies": {"fsevents": "^2.3.2"}},
    "node_modules/express-lite/node_modules/debug": {"version": "2.6.9", "dependencies": {"ms": "2.0.0"}},
    "node_modules/express-lite/node_modules/debug/node_modules/ms": {"version": "2.0.0"},
    "node_modules/local-lib": {"resolved": "packages/local-lib", "link": true}
  }
}"#;

#[test]
fn package_lock_resolves_nested_node_modules() {
    let out = run(
        &NpmCataloger::new(CatalogOptions::filesystem()),
        "package-lock.json",
        PACKAGE_LOCK.as_bytes(),
    );
    let by = |name: &str, version: &str| {
        out.packages
            .iter()
            .find(|p| p.name == name && p.version == version)
            .unwrap_or_else(|| panic!("{name}@{version}"))
    };
    assert_eq!(exact(by("debug", "4.3.4")), [("ms", "2.1.2")]);
    // Its own nested `debug`, and the top-level `ms`; `fsevents` is not installed here.
    assert_eq!(
        exact(by("express-lite", "1.0.0")),
        [("debug", "2.6.9"), ("ms", "2.1.2")]
    );
    assert_eq!(exact(by("debug", "2.6.9")), [("ms", "2.0.0")]);
    assert!(by("ms", "2.0.0").depends_on.is_empty());
}

#[test]
fn installed_package_json_names_its_dependencies() {
    let manifest = r#"{
  "name": "@babel/core",
  "version": "7.24.0",
  "license": "MIT",
  "dependencies": {"@babel/types": "^7.24.0", "debug": "^4.1.0"},
  "optionalDependencies": {"fsevents": "*"},
  "devDependencies": {"jest": "^29.0.0"}
}"#;
    let out = run(
        &NpmCataloger::new(CatalogOptions::image()),
        "app/node_modules/@babel/core/package.json",
        manifest.as_bytes(),
    );
    assert_eq!(
        names(&out.packages[0]),
        ["@babel/types", "debug", "fsevents"]
    );
}

#[test]
fn python_requires_dist_without_extras() {
    let metadata = "\
Metadata-Version: 2.1
Name: requests
Version: 2.31.0
License: Apache 2.0
Requires-Python: >=3.7
Requires-Dist: charset-normalizer (<4,>=2)
Requires-Dist: idna<4,>=2.5
Requires-Dist: urllib3<3,>=1.21.1
Requires-Dist: certifi>=2017.4.17
Requires-Dist: PySocks!=1.5.7,>=1.5.6; extra == 'socks'
Requires-Dist: chardet<6,>=3.0.2 ; extra == \"use_chardet_on_py3\"
Requires-Dist: Typing_Extensions; python_version < \"3.8\"

Requests is an elegant and simple HTTP library.
";
    let out = run(
        &PythonCataloger::new(CatalogOptions::image()),
        "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA",
        metadata.as_bytes(),
    );
    assert_eq!(
        names(&out.packages[0]),
        [
            "certifi",
            "charset-normalizer",
            "idna",
            "typing-extensions",
            "urllib3"
        ]
    );
}

#[test]
fn cargo_lock_dependencies_with_versions() {
    let lock = r#"version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["regex", "syn 2.0.48", "helper"]

[[package]]
name = "helper"
version = "0.1.0"

[[package]]
name = "regex"
version = "1.10.3"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = ["aho-corasick", "memchr", "regex-syntax"]

[[package]]
name = "aho-corasick"
version = "1.1.2"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = ["memchr"]

[[package]]
name = "memchr"
version = "2.7.1"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "regex-syntax"
version = "0.8.2"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "syn"
version = "1.0.109"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "syn"
version = "2.0.48"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = ["helper"]
"#;
    let out = run(&CargoLockCataloger::new(), "Cargo.lock", lock.as_bytes());
    assert_eq!(
        exact(find(&out.packages, "regex")),
        [
            ("aho-corasick", "1.1.2"),
            ("memchr", "2.7.1"),
            ("regex-syntax", "0.8.2")
        ]
    );
    assert_eq!(
        exact(find(&out.packages, "aho-corasick")),
        [("memchr", "2.7.1")]
    );
    // `helper` is a path crate, not reported, so the edge to it goes too.
    let syn2 = out
        .packages
        .iter()
        .find(|p| p.name == "syn" && p.version == "2.0.48")
        .unwrap();
    assert!(syn2.depends_on.is_empty());
}

#[test]
fn go_main_module_depends_on_every_linked_module() {
    let out = run_chunked(
        &GoBinaryCataloger::new(),
        "usr/local/bin/terraform",
        0o755,
        &fixture("go/terraform-buildinfo-window.bin"),
        65536,
    );
    let main = find(&out.packages, "github.com/hashicorp/terraform");
    let others: Vec<(&str, &str)> = out
        .packages
        .iter()
        .filter(|p| p.name != main.name)
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    assert!(!others.is_empty());
    let mut expected = others.clone();
    expected.sort_unstable();
    assert_eq!(exact(main), expected);
    assert!(
        exact(main).iter().any(|(name, _)| *name == "stdlib"),
        "the standard library is linked in too"
    );
    for package in out.packages.iter().filter(|p| p.name != main.name) {
        assert!(package.depends_on.is_empty(), "{}", package.name);
    }
}

#[test]
fn dependency_serializes_only_what_it_has() {
    assert_eq!(
        serde_json::to_string(&Dependency::named("libc6")).unwrap(),
        r#"{"name":"libc6"}"#
    );
    assert_eq!(
        serde_json::to_string(&Dependency::exact("ms", "2.1.2")).unwrap(),
        r#"{"name":"ms","version":"2.1.2"}"#
    );
}
