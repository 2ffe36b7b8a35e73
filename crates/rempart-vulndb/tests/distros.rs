//! Images of each distribution matched against that distribution's own OSV records
//! (`tests/fixtures/osv-distros`, real records, trimmed; its README names their sources), with the
//! OS as the image's os-release describes it.

mod common;

use std::cmp::Ordering;

use common::{fixture, package, with_source};
use rempart_core::{Ecosystem, Finding, FindingDetails, FixState, OsInfo, Package, Severity};
use rempart_vulndb::{VulnMatcher, compare, import_paths};

/// One database with every distribution's records, and Alpine's secdb beside them: each image
/// must find its own distribution's advisories only.
fn matcher() -> (tempfile::TempDir, VulnMatcher) {
    let directory = tempfile::tempdir().unwrap();
    let db_path = directory.path().join("vuln.sqlite");
    let inputs = [
        fixture("osv-distros"),
        fixture("snapshot/alpine-secdb/v3.11/main.yaml"),
    ];
    import_paths(&db_path, &inputs).unwrap();
    (directory, VulnMatcher::open(&db_path).unwrap())
}

/// An os-release as the distribution's container image ships it.
fn os_release(id: &str, version_id: &str, pretty_name: &str) -> OsInfo {
    OsInfo {
        id: id.to_owned(),
        version_id: version_id.to_owned(),
        codename: None,
        pretty_name: Some(pretty_name.to_owned()),
    }
}

fn jammy() -> OsInfo {
    OsInfo {
        codename: Some("jammy".to_owned()),
        ..os_release("ubuntu", "22.04", "Ubuntu 22.04.4 LTS")
    }
}

fn noble() -> OsInfo {
    OsInfo {
        codename: Some("noble".to_owned()),
        ..os_release("ubuntu", "24.04", "Ubuntu 24.04.1 LTS")
    }
}

fn wolfi() -> OsInfo {
    os_release("wolfi", "20230201", "Wolfi")
}

fn chainguard() -> OsInfo {
    os_release("chainguard", "20230214", "Chainguard")
}

fn alma9() -> OsInfo {
    os_release("almalinux", "9.4", "AlmaLinux 9.4 (Seafoam Ocelot)")
}

fn alma8() -> OsInfo {
    os_release("almalinux", "8.10", "AlmaLinux 8.10 (Cerulean Leopard)")
}

fn rocky9() -> OsInfo {
    os_release("rocky", "9.3", "Rocky Linux 9.3 (Blue Onyx)")
}

fn rocky8() -> OsInfo {
    os_release("rocky", "8.7", "Rocky Linux 8.7 (Green Obsidian)")
}

fn bookworm() -> OsInfo {
    OsInfo {
        codename: Some("bookworm".to_owned()),
        ..os_release("debian", "12", "Debian GNU/Linux 12 (bookworm)")
    }
}

fn trixie() -> OsInfo {
    OsInfo {
        codename: Some("trixie".to_owned()),
        ..os_release("debian", "13", "Debian GNU/Linux 13 (trixie)")
    }
}

/// Debian 6 has no os-release: the catalog reads `etc/debian_version` (`6.0.10`).
fn squeeze() -> OsInfo {
    os_release("debian", "6", "Debian GNU/Linux 6.0.10")
}

fn alpine311() -> OsInfo {
    os_release("alpine", "3.11.13", "Alpine Linux v3.11")
}

/// A binary package built from `source` at the same version, as the dpkg, apk and rpm catalogs
/// report it.
fn built_from(ecosystem: Ecosystem, binary: &str, source: &str, version: &str) -> Package {
    with_source(package(ecosystem, binary, version), source, version)
}

fn deb(binary: &str, source: &str, version: &str) -> Package {
    built_from(Ecosystem::Debian, binary, source, version)
}

fn ubuntu(binary: &str, source: &str, version: &str) -> Package {
    built_from(Ecosystem::Ubuntu, binary, source, version)
}

fn apk(name: &str, origin: &str, version: &str) -> Package {
    built_from(Ecosystem::Alpine, name, origin, version)
}

fn rpm(binary: &str, source: &str, version: &str) -> Package {
    built_from(Ecosystem::Rpm, binary, source, version)
}

/// An rpm installed from a module stream, as the rpm cataloger reports it: the header's
/// `MODULARITYLABEL` in the purl's `rpmmod` qualifier.
fn modular(binary: &str, source: &str, version: &str, label: &str) -> Package {
    let mut package = rpm(binary, source, version);
    package.purl = format!("pkg:rpm/{binary}@{version}?arch=x86_64&rpmmod={label}");
    package
}

fn scan(matcher: &VulnMatcher, package: Package, os: &OsInfo) -> Vec<Finding> {
    matcher.match_packages(&[package], Some(os)).unwrap()
}

fn ids(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.id.as_str()).collect()
}

fn fix_of(finding: &Finding) -> &FixState {
    match &finding.details {
        FindingDetails::Vulnerability { fix, .. } => fix,
        other => panic!("not a vulnerability: {other:?}"),
    }
}

fn aliases_of(finding: &Finding) -> &[String] {
    match &finding.details {
        FindingDetails::Vulnerability { aliases, .. } => aliases,
        other => panic!("not a vulnerability: {other:?}"),
    }
}

fn ecosystem_of(finding: &Finding) -> &str {
    match &finding.details {
        FindingDetails::Vulnerability { ecosystem, .. } => ecosystem,
        other => panic!("not a vulnerability: {other:?}"),
    }
}

fn fixed(versions: &[&str]) -> FixState {
    FixState::Fixed {
        versions: versions.iter().map(|v| (*v).to_owned()).collect(),
    }
}

/// The one finding an image has for a package, with its id, fix and severity.
fn only(findings: &[Finding]) -> (&str, &FixState, Severity) {
    assert_eq!(findings.len(), 1, "{:?}", ids(findings));
    let finding = &findings[0];
    (finding.id.as_str(), fix_of(finding), finding.severity)
}

#[test]
fn ubuntu_cve_records_carry_the_ubuntu_priority() {
    let (_dir, matcher) = matcher();
    let libssl = |version: &str| ubuntu("libssl3", "openssl", version);

    let found = scan(&matcher, libssl("3.0.2-0ubuntu1.10"), &jammy());
    // CVSS 3.1 rates the flaw 5.5 (medium); Ubuntu rates it low, and its rating is the one for
    // Ubuntu's builds.
    assert_eq!(
        only(&found),
        (
            "CVE-2024-0727",
            &fixed(&["3.0.2-0ubuntu1.14"]),
            Severity::Low
        )
    );
    assert_eq!(aliases_of(&found[0]), ["UBUNTU-CVE-2024-0727"]);
    assert_eq!(ecosystem_of(&found[0]), "Ubuntu:22.04");
    assert_eq!(
        found[0].primary_url.as_deref(),
        Some("https://ubuntu.com/security/CVE-2024-0727")
    );
    // A version the record does not list is matched through the range.
    assert_eq!(
        ids(&scan(&matcher, libssl("3.0.2-0ubuntu1.11"), &jammy())),
        ["CVE-2024-0727"]
    );
    for patched in ["3.0.2-0ubuntu1.14", "3.0.2-0ubuntu1.15"] {
        assert!(
            scan(&matcher, libssl(patched), &jammy()).is_empty(),
            "{patched}"
        );
    }
    // The same record, another release: its own fixed version.
    assert_eq!(
        *fix_of(&only_finding(&scan(
            &matcher,
            libssl("3.0.10-1ubuntu2.1"),
            &noble()
        ))),
        fixed(&["3.0.10-1ubuntu4"])
    );
    // nodejs is affected only in the Pro stream of 22.04, which a plain image does not use.
    let node = ubuntu("nodejs", "nodejs", "12.22.9~dfsg-1ubuntu3.6");
    assert!(scan(&matcher, node, &jammy()).is_empty());
}

fn only_finding(findings: &[Finding]) -> Finding {
    assert_eq!(findings.len(), 1, "{:?}", ids(findings));
    findings[0].clone()
}

#[test]
fn older_ubuntu_records_name_the_cve_and_priority_elsewhere() {
    let (_dir, matcher) = matcher();
    let apparmor = |version: &str| ubuntu("libapparmor1", "apparmor", version);
    let found = scan(&matcher, apparmor("3.0.4-2ubuntu2.3build2"), &jammy());
    // The CVE is under `related`, the priority (medium) in `ecosystem_specific`; the record's
    // CVSS vector scores 9.8.
    assert_eq!(
        only(&found),
        (
            "CVE-2016-1585",
            &fixed(&["3.0.4-2ubuntu2.4"]),
            Severity::Medium
        )
    );
    assert_eq!(aliases_of(&found[0]), ["UBUNTU-CVE-2016-1585"]);
    assert!(scan(&matcher, apparmor("3.0.4-2ubuntu2.4"), &jammy()).is_empty());
    // `~` sorts before everything: an alpha of 4.0.0 is older than the fix, the release noble
    // shipped is not.
    assert_eq!(
        ids(&scan(&matcher, apparmor("4.0.0~alpha2-0ubuntu4"), &noble())),
        ["CVE-2016-1585"]
    );
    assert!(
        scan(
            &matcher,
            apparmor("4.0.1really4.0.0-beta3-0ubuntu0.1"),
            &noble()
        )
        .is_empty()
    );
}

#[test]
fn wolfi_images_use_wolfi_records() {
    let (_dir, matcher) = matcher();
    // haproxy-3.1's advisory lists Wolfi and Chainguard packages; the apk origin is the name.
    let haproxy = |name: &str, origin: &str, version: &str| apk(name, origin, version);
    let found = scan(
        &matcher,
        haproxy("haproxy-3.1", "haproxy-3.1", "3.1.6-r1"),
        &wolfi(),
    );
    assert_eq!(
        only(&found),
        ("CVE-2025-32464", &fixed(&["3.1.7-r0"]), Severity::Unknown)
    );
    assert_eq!(
        aliases_of(&found[0]),
        ["CGA-224q-ccj5-2p53", "GHSA-frg5-h47x-75j9"]
    );
    assert_eq!(ecosystem_of(&found[0]), "Wolfi");
    // A subpackage is looked up under its origin.
    assert_eq!(
        ids(&scan(
            &matcher,
            haproxy("haproxy-3.1-doc", "haproxy-3.1", "3.1.6-r1"),
            &wolfi()
        )),
        ["CVE-2025-32464"]
    );
    for patched in ["3.1.7-r0", "3.1.7-r1", "3.1.10-r0"] {
        assert!(
            scan(
                &matcher,
                haproxy("haproxy-3.1", "haproxy-3.1", patched),
                &wolfi()
            )
            .is_empty(),
            "{patched}"
        );
    }
    // haproxy-2.8 is fixed in Chainguard's repository, which a Wolfi image does not use.
    assert!(
        scan(
            &matcher,
            haproxy("haproxy-2.8", "haproxy-2.8", "2.8.9-r0"),
            &wolfi()
        )
        .is_empty()
    );
    // A record naming its CVE under `related` only is still reported as the CVE.
    let worker = |version: &str| apk("langfuse-3-worker", "langfuse-3-worker", version);
    let found = scan(&matcher, worker("3.152.0-r0"), &wolfi());
    assert_eq!(
        only(&found),
        ("CVE-2026-24398", &fixed(&["3.153.0-r0"]), Severity::Unknown)
    );
    assert!(scan(&matcher, worker("3.153.0-r0"), &wolfi()).is_empty());
}

#[test]
fn apk_images_never_mix_alpine_wolfi_and_chainguard_data() {
    let (_dir, matcher) = matcher();
    // curl 7.65.3-r0 has two advisories in Alpine 3.11's secdb, and none in Wolfi's records.
    let curl = apk("curl", "curl", "7.65.3-r0");
    let on_alpine = scan(&matcher, curl.clone(), &alpine311());
    assert_eq!(ids(&on_alpine), ["CVE-2019-5481", "CVE-2019-5482"]);
    assert!(scan(&matcher, curl.clone(), &wolfi()).is_empty());
    assert!(scan(&matcher, curl, &chainguard()).is_empty());
    // And the other way round: Wolfi's haproxy advisory is not an Alpine one.
    let haproxy = apk("haproxy-3.1", "haproxy-3.1", "3.1.6-r1");
    assert!(scan(&matcher, haproxy, &alpine311()).is_empty());
    // A dpkg package in a Wolfi image is looked up nowhere.
    assert!(scan(&matcher, deb("curl", "curl", "7.65.3-1"), &wolfi()).is_empty());
}

#[test]
fn chainguard_images_use_chainguard_records() {
    let (_dir, matcher) = matcher();
    let found = scan(
        &matcher,
        apk("haproxy-2.8", "haproxy-2.8", "2.8.9-r0"),
        &chainguard(),
    );
    // 2.8.9 < 2.8.18: numbers, not text.
    assert_eq!(
        only(&found),
        ("CVE-2025-32464", &fixed(&["2.8.18-r0"]), Severity::Unknown)
    );
    assert_eq!(ecosystem_of(&found[0]), "Chainguard");
    // Wolfi's entry of the same record is not Chainguard's.
    assert!(
        scan(
            &matcher,
            apk("haproxy-3.1", "haproxy-3.1", "3.1.6-r1"),
            &chainguard()
        )
        .is_empty()
    );
    let syncthing = |version: &str| apk("syncthing", "syncthing", version);
    assert_eq!(
        *fix_of(&only_finding(&scan(
            &matcher,
            syncthing("2.0.14-r0"),
            &chainguard()
        ))),
        fixed(&["2.0.14-r1"])
    );
    // The next package revision carries the fix.
    assert!(scan(&matcher, syncthing("2.0.14-r1"), &chainguard()).is_empty());
    // `introduced: 0, fixed: 0`: Chainguard declares syncthing-compat not affected.
    for version in ["1.0.0-r0", "2.0.13-r0"] {
        let compat = apk("syncthing-compat", "syncthing-compat", version);
        assert!(
            scan(&matcher, compat, &chainguard()).is_empty(),
            "{version}"
        );
    }
}

#[test]
fn wolfi_versions_are_apk_versions() {
    for (a, b, order) in [
        ("3.1.6-r1", "3.1.7-r0", Ordering::Less),
        ("2.8.9-r0", "2.8.18-r0", Ordering::Less),
        ("2.0.14-r0", "2.0.14-r1", Ordering::Less),
        ("1.2.3-r4", "1.2.3-r10", Ordering::Less),
        // `_p` is a patch level above the release it follows; `_rc` a candidate before it.
        ("9.9_p1-r2", "9.9-r5", Ordering::Greater),
        ("9.9_p1-r2", "9.9_p2-r0", Ordering::Less),
        ("9.9_rc1-r0", "9.9-r0", Ordering::Less),
        ("3.153.0-r0", "3.153.0-r0", Ordering::Equal),
    ] {
        for ecosystem in ["Wolfi", "Chainguard"] {
            assert_eq!(
                compare(ecosystem, a, b).unwrap(),
                order,
                "{ecosystem} {a} {b}"
            );
        }
    }
}

#[test]
fn almalinux_errata_name_binary_packages() {
    let (_dir, matcher) = matcher();
    // vim-minimal is built from the vim source package, which the erratum does not name.
    let vim = |version: &str| rpm("vim-minimal", "vim", version);
    let found = scan(&matcher, vim("2:8.2.2637-15.el9"), &alma9());
    // Six CVEs: the erratum keeps its id. `Moderate:` is the Red Hat rating it carries.
    assert_eq!(
        only(&found),
        (
            "ALSA-2022:5242",
            &fixed(&["2:8.2.2637-16.el9_0.2"]),
            Severity::Medium
        )
    );
    assert_eq!(ecosystem_of(&found[0]), "AlmaLinux:9");
    assert!(aliases_of(&found[0]).contains(&"CVE-2022-1154".to_owned()));
    // Release comparison is numeric per segment: el9_0.1 < el9_0.2 < el9_0.10.
    assert_eq!(
        ids(&scan(&matcher, vim("2:8.2.2637-16.el9_0.1"), &alma9())),
        ["ALSA-2022:5242"]
    );
    for patched in ["2:8.2.2637-16.el9_0.2", "2:8.2.2637-16.el9_0.10"] {
        assert!(
            scan(&matcher, vim(patched), &alma9()).is_empty(),
            "{patched}"
        );
    }
    // The epoch decides before the version does.
    assert!(scan(&matcher, vim("3:8.0-1.el9"), &alma9()).is_empty());

    // A record naming its CVEs under `related`.
    let curl = rpm("curl-minimal", "curl", "7.76.1-14.el9");
    let found = scan(&matcher, curl, &alma9());
    assert_eq!(
        only(&found),
        (
            "ALSA-2022:6157",
            &fixed(&["7.76.1-14.el9_0.5"]),
            Severity::Medium
        )
    );
    assert_eq!(
        aliases_of(&found[0]),
        ["CVE-2022-32206", "CVE-2022-32207", "CVE-2022-32208"]
    );
    // A bug fix erratum is no vulnerability.
    assert!(scan(&matcher, rpm("pcp", "pcp", "5.3.5-7.el9"), &alma9()).is_empty());
    // AlmaLinux 9 records do not apply to AlmaLinux 8.
    assert!(scan(&matcher, vim("2:8.0.1763-16.el8"), &alma8()).is_empty());
}

#[test]
fn rocky_errata_name_source_packages() {
    let (_dir, matcher) = matcher();
    // java-11-openjdk-headless comes from the java-11-openjdk source, epoch 1 (which the
    // catalog carries from the binary onto the source version).
    let java = |version: &str| rpm("java-11-openjdk-headless", "java-11-openjdk", version);
    let found = scan(&matcher, java("1:11.0.12.0.7-0.el8_4"), &rocky8());
    // Ten CVEs: the erratum keeps its id. `Important:` is Red Hat's rating.
    assert_eq!(
        only(&found),
        (
            "RLSA-2021:3891",
            &fixed(&["1:11.0.13.0.8-1.el8_4"]),
            Severity::High
        )
    );
    assert_eq!(ecosystem_of(&found[0]), "Rocky Linux:8");
    assert!(aliases_of(&found[0]).contains(&"CVE-2021-35603".to_owned()));
    assert!(scan(&matcher, java("1:11.0.13.0.8-1.el8_4"), &rocky8()).is_empty());
    // Without its epoch the same build would read as older than every fix of epoch 1.
    assert_eq!(
        ids(&scan(&matcher, java("11.0.14.0.9-1.el8_5"), &rocky8())),
        ["RLSA-2021:3891"]
    );

    // The record carries no CVSS vector: its summary is its only rating.
    let firefox = rpm("firefox", "firefox", "102.10.0-1.el8_7");
    let found = scan(&matcher, firefox.clone(), &rocky8());
    assert_eq!(
        only(&found),
        (
            "RLSA-2023:3220",
            &fixed(&["0:102.11.0-2.el8_7"]),
            Severity::High
        )
    );
    // An AlmaLinux 8 image is never matched against Rocky Linux's errata.
    assert!(scan(&matcher, firefox, &alma8()).is_empty());
}

#[test]
fn debian_records_by_release() {
    let (_dir, matcher) = matcher();
    // Debian 6 was published as `Debian:6.0`; its image says `6.0.10`.
    let lua = |version: &str| deb("liblua5.1-0", "lua5.1", version);
    let found = scan(&matcher, lua("5.1.4-5"), &squeeze());
    assert_eq!(
        only(&found),
        (
            "CVE-2014-5461",
            &fixed(&["5.1.4-5+deb6u1"]),
            Severity::Unknown
        )
    );
    assert_eq!(aliases_of(&found[0]), ["DLA-47-1"]);
    assert_eq!(ecosystem_of(&found[0]), "Debian:6");
    assert!(scan(&matcher, lua("5.1.4-5+deb6u1"), &squeeze()).is_empty());

    // Unfixed in bookworm, rated unimportant; fixed in trixie.
    let apparmor = |version: &str| deb("libapparmor1", "apparmor", version);
    assert_eq!(
        only(&scan(&matcher, apparmor("3.0.8-3"), &bookworm())),
        ("CVE-2016-1585", &FixState::NotFixed, Severity::Low)
    );
    assert_eq!(
        *fix_of(&only_finding(&scan(
            &matcher,
            apparmor("3.0.8-3"),
            &trixie()
        ))),
        fixed(&["3.0.12-1"])
    );
    assert!(scan(&matcher, apparmor("4.1.0-1"), &trixie()).is_empty());
    // Ubuntu's apparmor is matched against Ubuntu's record only.
    let on_ubuntu = scan(
        &matcher,
        ubuntu("libapparmor1", "apparmor", "3.0.4-2ubuntu2.3build2"),
        &jammy(),
    );
    assert_eq!(ids(&on_ubuntu), ["CVE-2016-1585"]);
    assert_eq!(ecosystem_of(&on_ubuntu[0]), "Ubuntu:22.04");
}

/// `AlmaLinux` 8 ships nodejs in the streams 16 and 18, fixed by two errata of the same day
/// for the same CVEs (ALSA-2023:5360 and ALSA-2023:5362). The records name the stream in their
/// summary only; each stream's packages must meet their own erratum only.
#[test]
fn almalinux_module_streams_are_kept_apart() {
    let (_dir, matcher) = matcher();
    let node16 = |name: &str, version: &str| {
        modular(
            name,
            "nodejs",
            version,
            "nodejs:16:8080020230802093022:d9f72c26",
        )
    };
    let node18 = |name: &str, version: &str| {
        modular(
            name,
            "nodejs",
            version,
            "nodejs:18:8080020230802093022:63b34585",
        )
    };
    let found = scan(
        &matcher,
        node16("nodejs", "1:16.20.1-1.module_el8.8.0+3553+ad1c6a6b"),
        &alma8(),
    );
    assert_eq!(
        only(&found),
        (
            "ALSA-2023:5360",
            &fixed(&["1:16.20.2-2.module_el8.8.0+3614+204d6f43"]),
            Severity::High
        )
    );
    assert_eq!(ecosystem_of(&found[0]), "AlmaLinux:8");
    // npm is versioned on its own, its release naming the node it came with.
    assert_eq!(
        only(&scan(
            &matcher,
            node16("npm", "1:8.19.4-1.16.20.1.1.module_el8.8.0+3553+ad1c6a6b"),
            &alma8()
        )),
        (
            "ALSA-2023:5360",
            &fixed(&["1:8.19.4-1.16.20.2.2.module_el8.8.0+3614+204d6f43"]),
            Severity::High
        )
    );
    // Patched in its stream: 16.20.2 is older than the 18.17.1 of the other stream's erratum,
    // which is not this package's fix.
    assert!(
        scan(
            &matcher,
            node16("nodejs", "1:16.20.2-2.module_el8.8.0+3614+204d6f43"),
            &alma8()
        )
        .is_empty()
    );
    // nodejs-packaging is in the nodejs:18 erratum only.
    assert!(
        scan(
            &matcher,
            node16("nodejs-packaging", "25-1.module_el8.5.0+2605+45d748af"),
            &alma8()
        )
        .is_empty()
    );

    let found = scan(
        &matcher,
        node18("nodejs", "1:18.16.1-1.module_el8.8.0+3551+03c54c5a"),
        &alma8(),
    );
    assert_eq!(
        only(&found),
        (
            "ALSA-2023:5362",
            &fixed(&["1:18.17.1-1.module_el8.8.0+3613+1ed8c91d"]),
            Severity::High
        )
    );
    assert!(
        scan(
            &matcher,
            node18("nodejs", "1:18.17.1-1.module_el8.8.0+3613+1ed8c91d"),
            &alma8()
        )
        .is_empty()
    );

    // A nodejs of no module, and a module build whose stream the rpm does not name (AlmaLinux
    // 8 before 8.6 set no `MODULARITYLABEL`), meet neither erratum.
    for package in [
        rpm("nodejs", "nodejs", "1:16.14.0-1.el8"),
        rpm(
            "nodejs",
            "nodejs",
            "1:16.20.1-1.module_el8.8.0+3553+ad1c6a6b",
        ),
        modular(
            "nodejs",
            "nodejs",
            "1:16.20.1-1.module_el8.8.0+3553+ad1c6a6b",
            "nodejs",
        ),
    ] {
        let found = scan(&matcher, package.clone(), &alma8());
        assert!(found.is_empty(), "{}: {:?}", package.version, ids(&found));
    }
}

/// `AlmaLinux` 9's postgresql is not modular (13), with the streams 15 and 16 beside it; the
/// fix of CVE-2024-7348 came as ALSA-2024:5999 for the first and ALSA-2024:5929 for
/// postgresql:16.
#[test]
fn almalinux_non_modular_and_modular_packages_of_one_name() {
    let (_dir, matcher) = matcher();
    let plain = |version: &str| rpm("postgresql-server", "postgresql", version);
    let stream =
        |label: &str, version: &str| modular("postgresql-server", "postgresql", version, label);
    // Without the stream keys, the 16.4 of the module erratum would be a second fix for 13.x.
    // An erratum about one CVE is reported as the CVE.
    let found = scan(&matcher, plain("13.14-1.el9_4"), &alma9());
    assert_eq!(
        only(&found),
        ("CVE-2024-7348", &fixed(&["13.16-1.el9_4"]), Severity::High)
    );
    assert_eq!(aliases_of(&found[0]), ["ALSA-2024:5999"]);
    assert!(scan(&matcher, plain("13.16-1.el9_4"), &alma9()).is_empty());

    let pg16 = "postgresql:16:9040020240717132017:rhel9";
    assert_eq!(
        only(&scan(
            &matcher,
            stream(pg16, "16.1-1.module_el9.3.0+45+46e7e2c8"),
            &alma9()
        )),
        (
            "ALSA-2024:5929",
            &fixed(&["16.4-1.module_el9.4.0+109+624ac33a"]),
            Severity::High
        )
    );
    assert!(
        scan(
            &matcher,
            stream(pg16, "16.4-1.module_el9.4.0+109+624ac33a"),
            &alma9()
        )
        .is_empty()
    );
    // The version comparison is rpm's: the build number after the platform decides between two
    // builds of one version-release.
    assert_eq!(
        compare(
            "AlmaLinux:9",
            "16.4-1.module_el9.4.0+66+eb9878bc",
            "16.4-1.module_el9.4.0+109+624ac33a"
        )
        .unwrap(),
        Ordering::Less
    );
    // postgresql:15 has no erratum here, and a postgresql:16 build of 13.x never meets the
    // non-modular fix.
    let pg15 = "postgresql:15:9040020240717132017:rhel9";
    assert!(
        scan(
            &matcher,
            stream(pg15, "15.6-1.module_el9.4.0+77+be0e4b59"),
            &alma9()
        )
        .is_empty()
    );
}

/// Rocky Linux files errata under source packages; its module erratum RLSA-2024:3671 fixes
/// the ruby:3.3 stream of Rocky Linux 9, beside the non-modular ruby 3.0.
#[test]
fn rocky_module_streams_are_kept_apart() {
    let (_dir, matcher) = matcher();
    let ruby = |label: &str, version: &str| modular("ruby-libs", "ruby", version, label);
    let ruby33 = "ruby:3.3:9040020240517050311:9";
    let found = scan(
        &matcher,
        ruby(ruby33, "3.3.0-1.module+el9.4.0+17916+3a0cfa8c"),
        &rocky9(),
    );
    // `0:` in the fixed version equals no epoch at all.
    assert_eq!(
        only(&found),
        (
            "RLSA-2024:3671",
            &fixed(&["0:3.3.1-2.module+el9.4.0+20787+4c237fd3"]),
            Severity::Medium
        )
    );
    assert_eq!(ecosystem_of(&found[0]), "Rocky Linux:9");
    assert!(
        scan(
            &matcher,
            ruby(ruby33, "3.3.1-2.module+el9.4.0+20787+4c237fd3"),
            &rocky9()
        )
        .is_empty()
    );
    for package in [
        // Another stream, an older ruby than the fix.
        ruby(
            "ruby:3.1:9020020230510101404:rhel9",
            "3.1.2-141.module+el9.2.0+13935+e38bea72",
        ),
        // The non-modular ruby of Rocky Linux 9.
        rpm("ruby-libs", "ruby", "3.0.4-160.el9_0"),
        // A module build without its label.
        rpm("ruby-libs", "ruby", "3.3.0-1.module+el9.4.0+17916+3a0cfa8c"),
    ] {
        let found = scan(&matcher, package.clone(), &rocky9());
        assert!(found.is_empty(), "{}: {:?}", package.purl, ids(&found));
    }
}
