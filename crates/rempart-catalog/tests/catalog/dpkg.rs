use rempart_catalog::DpkgCataloger;
use rempart_core::Ecosystem;

use crate::support::{assert_well_formed, find, fixture, fixture_text, run, wants};

/// `dpkg-query -W` over the same status file (see the fixtures README).
fn dpkg_query() -> Vec<Vec<String>> {
    fixture_text("dpkg/expected-dpkg-query.txt")
        .lines()
        .map(|line| line.split('|').map(str::to_owned).collect())
        .collect()
}

#[test]
fn status_file_agrees_with_dpkg_query() {
    let out = run(
        &DpkgCataloger::new(),
        "var/lib/dpkg/status",
        &fixture("dpkg/status"),
    );
    assert_well_formed(&out.packages, "var/lib/dpkg/status", "deb");
    // The second letter of the abbreviation is the state: `i`nstalled (whether selected for
    // `i`nstall or `h`old), `c`onfig-files and `n`ot-installed have no files.
    let on_disk = |row: &Vec<String>| row[0].as_bytes()[1] == b'i';
    let installed: Vec<_> = dpkg_query().into_iter().filter(on_disk).collect();
    assert!(
        installed.iter().any(|row| row[0].starts_with('h')),
        "a held package"
    );
    assert_eq!(out.packages.len(), installed.len());
    for row in &installed {
        let package = find(&out.packages, &row[1]);
        assert_eq!(package.ecosystem, Ecosystem::Debian);
        assert_eq!(package.version, row[2]);
        assert_eq!(package.arch.as_deref(), Some(row[3].as_str()));
        let source = package.source.as_ref().expect("source");
        assert_eq!(source.name, row[4]);
        assert_eq!(source.version, row[5]);
    }
    // Removed packages whose configuration files remain (`rc`) are not installed.
    for row in dpkg_query().iter().filter(|row| !on_disk(row)) {
        assert!(
            out.packages.iter().all(|p| p.name != row[1]),
            "{} reported",
            row[1]
        );
    }
    let bsdutils = find(&out.packages, "bsdutils");
    assert_eq!(
        bsdutils.purl,
        "pkg:deb/debian/bsdutils@1:2.38.1-5%2Bdeb12u3?arch=amd64&upstream=util-linux"
    );
}

#[test]
fn distroless_status_d_has_no_status_field() {
    let path = "var/lib/dpkg/status.d/gosu";
    let out = run(&DpkgCataloger::new(), path, &fixture("dpkg/status.d-gosu"));
    assert_well_formed(&out.packages, path, "deb");
    assert_eq!(out.packages.len(), 1);
    let gosu = &out.packages[0];
    assert_eq!(
        (gosu.name.as_str(), gosu.version.as_str()),
        ("gosu", "1.14-1+b10")
    );
    let source = gosu.source.as_ref().unwrap();
    assert_eq!(
        (source.name.as_str(), source.version.as_str()),
        ("gosu", "1.14-1")
    );
}

#[test]
fn list_files_give_owned_files() {
    for (fixture_name, package) in [
        ("dpkg/bsdutils.list", "bsdutils"),
        ("dpkg/binutils-common:amd64.list", "binutils-common"),
    ] {
        let file_name = fixture_name.trim_start_matches("dpkg/");
        let path = format!("var/lib/dpkg/info/{file_name}");
        let content = fixture(fixture_name);
        let out = run(&DpkgCataloger::new(), &path, &content);
        assert_eq!(out.owned_files.len(), 1);
        let owned = &out.owned_files[0];
        assert_eq!(owned.package, package);
        assert_eq!(owned.source_path, path);
        let listed: Vec<String> = String::from_utf8(content)
            .unwrap()
            .lines()
            .filter(|line| *line != "/.")
            .map(|line| line.trim_start_matches('/').to_owned())
            .collect();
        assert_eq!(owned.paths, listed);
    }
}

#[test]
fn interest_by_path() {
    let analyzer = DpkgCataloger::new();
    assert!(wants(&analyzer, "var/lib/dpkg/status", 0o644, 1000));
    assert!(wants(&analyzer, "var/lib/dpkg/status.d/libc6", 0o644, 1000));
    assert!(!wants(
        &analyzer,
        "var/lib/dpkg/status.d/libc6.md5sums",
        0o644,
        1000
    ));
    assert!(!wants(&analyzer, "var/lib/dpkg/status-old", 0o644, 1000));
    assert!(!wants(
        &analyzer,
        "var/lib/dpkg/info/libc6.md5sums",
        0o644,
        1000
    ));
    assert!(wants(
        &analyzer,
        "var/lib/dpkg/info/libc6:amd64.list",
        0o644,
        1000
    ));
}

#[test]
fn malformed_status_does_not_panic() {
    let out = run(
        &DpkgCataloger::new(),
        "var/lib/dpkg/status",
        b"Package: x\nVersion\n\n\n:::\nPackage:\nVersion: 1\nStatus: install ok installed\n\xff\xff",
    );
    assert!(out.packages.is_empty());
}

/// Real bookworm copyright files; the expected lists are `grep '^License:'` over each file,
/// first occurrences in order.
#[test]
fn debian_copyright_files_give_the_package_licenses() {
    use rempart_catalog::DebianCopyrightCataloger;
    let analyzer = DebianCopyrightCataloger::new();
    let cases: [(&str, &[&str]); 4] = [
        ("zlib1g", &["Zlib"]),
        (
            "coreutils",
            &[
                "GPL-3+",
                "GPL-3+ and BSD-4-clause-UC",
                "BSD-4-clause-UC",
                "GPL-3+ and ISC",
                "ISC",
                "FSFULLR",
                "GFDL-NIV-1.3",
            ],
        ),
        (
            "bash",
            &[
                "GPL-3+",
                "GPL-3+ with Bison exception",
                "GPL-2+",
                "GFDL-NIV-1.3",
                "Latex2e",
                "BSD-4-clause-UC and MIT-like",
                "BSD-4-clause-UC",
                "MIT-like",
                "permissive",
            ],
        ),
        // Older free-form files: the references to Debian's common-licenses directory.
        ("legacy-free-form", &["LGPL-2.1", "GPL-2"]),
    ];
    for (package, expected) in cases {
        let path = format!("usr/share/doc/{package}/copyright");
        assert!(wants(&analyzer, &path, 0o644, 4096), "{path}");
        let out = run(
            &analyzer,
            &path,
            &fixture(&format!("dpkg/copyright/{package}")),
        );
        assert_eq!(out.package_licenses.len(), 1, "{package}");
        let record = &out.package_licenses[0];
        assert_eq!(record.package, package);
        assert_eq!(record.ecosystem, Ecosystem::Debian);
        assert_eq!(record.licenses, expected, "{package}");
    }
    assert!(!wants(
        &analyzer,
        "usr/share/doc/bash/copyright.old",
        0o644,
        4096
    ));
    assert!(!wants(
        &analyzer,
        "usr/share/doc/bash/examples/copyright",
        0o644,
        4096
    ));
    assert!(!wants(&analyzer, "usr/share/doc/copyright", 0o644, 4096));
}
