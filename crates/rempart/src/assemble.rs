//! Turns per-layer walks (the walker's records plus one output per analyzer) into one result: which files survive in the final image, which layer
//! introduced each package, which findings sit in deleted files.

use std::collections::{BTreeSet, HashMap};

use rempart_core::{
    Ecosystem, Finding, GoSymbols, InventoryEntry, LayerRef, OsInfo, Package, SkipReason,
    SkippedEntry,
};
use rempart_image::{LayerWalk, MergedFs};

/// The merged view of an image, before image-level analyzers run.
pub(crate) struct Assembled {
    pub(crate) inventory: Vec<InventoryEntry>,
    pub(crate) os: Option<OsInfo>,
    pub(crate) packages: Vec<Package>,
    pub(crate) findings: Vec<Finding>,
    pub(crate) skipped: Vec<SkippedEntry>,
    /// Function tables of the Go binaries in the final image, sorted by path.
    pub(crate) go_symbols: Vec<GoSymbols>,
}

/// Files that identify the OS, most authoritative first.
const OS_FILES: [&str; 6] = [
    "etc/os-release",
    "usr/lib/os-release",
    "etc/alpine-release",
    "etc/debian_version",
    "etc/redhat-release",
    "etc/centos-release",
];

pub(crate) fn assemble(walks: &mut [LayerWalk], diff_ids: &[String]) -> Assembled {
    // The walks' entries move into the merged view; only their outputs are read below.
    drop_resolved_dangling_links(walks);
    let merged = MergedFs::take_from_layers(walks);
    // The binaries' function tables move out of the walks rather than being copied: they are
    // the largest part of an output, and the layer cache has already stored them.
    let mut go_symbols: std::collections::BTreeMap<String, GoSymbols> =
        std::collections::BTreeMap::new();
    for (index, walk) in walks.iter_mut().enumerate() {
        for output in std::iter::once(&mut walk.output).chain(&mut walk.analyzer_outputs) {
            // The binary at each path in the final image: the layer that wrote it last.
            for table in std::mem::take(&mut output.go_symbols) {
                if merged.is_visible(&table.path, index) {
                    go_symbols.insert(table.path.clone(), table);
                }
            }
        }
    }
    let walks = &*walks;
    let layer_ref = |index: usize| LayerRef {
        index,
        diff_id: diff_ids[index].clone(),
    };

    let mut findings = Vec::new();
    let mut skipped = Vec::new();
    let mut os_candidates: Vec<(usize, OsInfo)> = Vec::new();
    let mut owners: HashMap<&str, &str> = HashMap::new();
    let mut extra_licenses: HashMap<(Ecosystem, &str), &[String]> = HashMap::new();
    // (ecosystem, name, version, path) -> first layer it was seen in.
    let mut first_seen: HashMap<(Ecosystem, &str, &str, &str), usize> = HashMap::new();
    let mut packages = Vec::new();

    for (index, walk) in walks.iter().enumerate() {
        // The walker's records first, then each analyzer's output in the analyzers' order, so
        // that the result does not depend on which outputs came from the cache.
        for output in std::iter::once(&walk.output).chain(&walk.analyzer_outputs) {
            for finding in &output.findings {
                let mut finding = finding.clone();
                if finding.location.layer.is_none() {
                    finding.location.layer = Some(layer_ref(index));
                    finding.location.deleted = !merged.is_visible(&finding.location.path, index);
                }
                findings.push(finding);
            }
            for entry in &output.skipped {
                let mut entry = entry.clone();
                entry.layer = Some(index);
                skipped.push(entry);
            }
            for (path, info) in &output.os {
                if merged.is_visible(path, index)
                    && let Some(rank) = OS_FILES.iter().position(|candidate| candidate == path)
                {
                    os_candidates.push((rank, info.clone()));
                }
            }
            for record in &output.package_licenses {
                if merged.is_visible(&record.source_path, index) {
                    extra_licenses.insert(
                        (record.ecosystem.clone(), record.package.as_str()),
                        &record.licenses,
                    );
                }
            }
            for owned in &output.owned_files {
                if merged.is_visible(&owned.source_path, index) {
                    for path in &owned.paths {
                        owners.insert(path.as_str(), owned.package.as_str());
                    }
                }
            }
            for package in &output.packages {
                let path = package.locations.first().map_or("", |l| l.path.as_str());
                first_seen
                    .entry((
                        package.ecosystem.clone(),
                        &package.name,
                        &package.version,
                        path,
                    ))
                    .or_insert(index);
                if merged.is_visible(path, index) {
                    packages.push((index, package));
                }
            }
        }
    }

    let os = os_candidates
        .into_iter()
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, info)| info);

    let mut final_packages: Vec<Package> = packages
        .into_iter()
        .map(|(index, package)| {
            let mut package = package.clone();
            let path = package
                .locations
                .first()
                .map_or(String::new(), |l| l.path.clone());
            let introduced = first_seen
                .get(&(
                    package.ecosystem.clone(),
                    &package.name as &str,
                    &package.version as &str,
                    &path as &str,
                ))
                .copied()
                .unwrap_or(index);
            for location in &mut package.locations {
                location.layer = Some(layer_ref(introduced));
            }
            if !package.ecosystem.is_os()
                && let Some(owner) = owners.get(path.as_str())
            {
                package.owned_by = Some((*owner).to_owned());
            }
            if package.licenses.is_empty()
                && let Some(licenses) =
                    extra_licenses.get(&(package.ecosystem.clone(), package.name.as_str()))
            {
                package.licenses = licenses.to_vec();
            }
            adapt_to_os(&mut package, os.as_ref());
            package
        })
        .collect();
    dedupe_packages(&mut final_packages);
    let go_symbols = go_symbols.into_values().collect();

    Assembled {
        inventory: merged.into_entries(),
        os,
        packages: final_packages,
        findings,
        skipped,
        go_symbols,
    }
}

/// dpkg databases look the same on Debian and Ubuntu, apk databases on Alpine, Wolfi and
/// Chainguard, and rpm databases on every rpm distribution; only the OS tells them apart, and
/// the advisories differ, so the ecosystem and the purl namespace (the vendor, as the
/// distributions' own SBOMs spell it) follow the detected OS.
fn adapt_to_os(package: &mut Package, os: Option<&OsInfo>) {
    let Some(os) = os else { return };
    if package.ecosystem == Ecosystem::Debian && os.id == "ubuntu" {
        package.ecosystem = Ecosystem::Ubuntu;
        package.purl = package
            .purl
            .replacen("pkg:deb/debian/", "pkg:deb/ubuntu/", 1);
    }
    if package.ecosystem == Ecosystem::Alpine && matches!(os.id.as_str(), "wolfi" | "chainguard") {
        package.purl = package
            .purl
            .replacen("pkg:apk/alpine/", &format!("pkg:apk/{}/", os.id), 1);
    }
    if package.ecosystem == Ecosystem::Rpm
        && let Some(name) = package.purl.strip_prefix("pkg:rpm/")
        && !name.split(['@', '?']).next().unwrap_or(name).contains('/')
    {
        package.purl = format!("pkg:rpm/{}/{name}", rpm_vendor(&os.id));
    }
    if package.ecosystem.is_os() && !package.purl.contains("distro=") && !os.version_id.is_empty() {
        let separator = if package.purl.contains('?') { '&' } else { '?' };
        package.purl = format!(
            "{}{separator}distro={}-{}",
            package.purl, os.id, os.version_id
        );
    }
}

/// The purl namespace of an rpm distribution's packages: its vendor as its own SBOMs and
/// advisories spell it (`pkg:rpm/redhat/openssl` in Red Hat's VEX), else the `os-release` ID.
fn rpm_vendor(os_id: &str) -> &str {
    match os_id {
        "rhel" => "redhat",
        "amzn" => "amazon",
        "ol" => "oracle",
        "sles" | "sles_sap" | "sled" | "sle_hpc" | "sle-micro" | "sl-micro" => "suse",
        id if id.starts_with("opensuse") => "opensuse",
        id => id,
    }
}

/// The same package read twice from the same file (a cataloger quirk, or two catalogers on one
/// file) is listed once; the same package at two paths is two installs and stays.
fn dedupe_packages(packages: &mut Vec<Package>) {
    let mut seen: BTreeSet<(Ecosystem, String, String, String)> = BTreeSet::new();
    packages.retain(|package| {
        let path = package
            .locations
            .first()
            .map_or(String::new(), |l| l.path.clone());
        seen.insert((
            package.ecosystem.clone(),
            package.name.clone(),
            package.version.clone(),
            path,
        ))
    });
}

/// The walker records every hard link whose target its own layer does not hold before it; such a
/// link may point into a layer below. Those whose target a lower layer holds are dropped here;
/// the rest are dangling.
fn drop_resolved_dangling_links(walks: &mut [LayerWalk]) {
    for index in 1..walks.len() {
        let (lower, rest) = walks.split_at_mut(index);
        let walk = &mut rest[0];
        if !walk
            .output
            .skipped
            .iter()
            .any(|s| s.reason == SkipReason::DanglingLink)
        {
            continue;
        }
        let held: std::collections::HashSet<&str> = lower
            .iter()
            .flat_map(|w| w.entries.iter().map(|e| e.path.as_str()))
            .collect();
        walk.output.skipped.retain(|entry| {
            entry.reason != SkipReason::DanglingLink
                || !rempart_image::dangling_link_target(entry).is_some_and(|t| held.contains(t))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(ecosystem: Ecosystem, purl: &str) -> Package {
        Package {
            ecosystem,
            name: "openssl".to_owned(),
            version: "1".to_owned(),
            purl: purl.to_owned(),
            source: None,
            arch: None,
            licenses: Vec::new(),
            locations: Vec::new(),
            owned_by: None,
            depends_on: Vec::new(),
        }
    }

    fn adapted(ecosystem: Ecosystem, purl: &str, id: &str, version: &str) -> (Ecosystem, String) {
        let mut package = package(ecosystem, purl);
        let os = OsInfo {
            id: id.to_owned(),
            version_id: version.to_owned(),
            codename: None,
            pretty_name: None,
        };
        adapt_to_os(&mut package, Some(&os));
        (package.ecosystem, package.purl)
    }

    #[test]
    fn os_packages_take_the_vendor_and_release_of_the_detected_os() {
        let apk = "pkg:apk/alpine/openssl@3.3.2-r0?arch=x86_64";
        for (id, version, expected) in [
            (
                "alpine",
                "3.20.3",
                "pkg:apk/alpine/openssl@3.3.2-r0?arch=x86_64&distro=alpine-3.20.3",
            ),
            (
                "wolfi",
                "20230201",
                "pkg:apk/wolfi/openssl@3.3.2-r0?arch=x86_64&distro=wolfi-20230201",
            ),
            (
                "chainguard",
                "",
                "pkg:apk/chainguard/openssl@3.3.2-r0?arch=x86_64",
            ),
        ] {
            assert_eq!(
                adapted(Ecosystem::Alpine, apk, id, version),
                (Ecosystem::Alpine, expected.to_owned()),
                "{id}"
            );
        }
        let rpm = "pkg:rpm/openssl@3.0.7-27.el9?arch=x86_64&epoch=1";
        for (id, version, expected) in [
            (
                "rhel",
                "9.4",
                "pkg:rpm/redhat/openssl@3.0.7-27.el9?arch=x86_64&epoch=1&distro=rhel-9.4",
            ),
            (
                "rocky",
                "9.3",
                "pkg:rpm/rocky/openssl@3.0.7-27.el9?arch=x86_64&epoch=1&distro=rocky-9.3",
            ),
            (
                "sles",
                "15.5",
                "pkg:rpm/suse/openssl@3.0.7-27.el9?arch=x86_64&epoch=1&distro=sles-15.5",
            ),
            (
                "opensuse-leap",
                "15.6",
                "pkg:rpm/opensuse/openssl@3.0.7-27.el9?arch=x86_64&epoch=1&distro=opensuse-leap-15.6",
            ),
        ] {
            assert_eq!(
                adapted(Ecosystem::Rpm, rpm, id, version),
                (Ecosystem::Rpm, expected.to_owned()),
                "{id}"
            );
        }
        // A namespace the cataloger already set is kept.
        assert_eq!(
            adapted(
                Ecosystem::Rpm,
                "pkg:rpm/fedora/curl@8.6.0-1",
                "fedora",
                "40"
            )
            .1,
            "pkg:rpm/fedora/curl@8.6.0-1?distro=fedora-40"
        );
        assert_eq!(
            adapted(
                Ecosystem::Debian,
                "pkg:deb/debian/openssl@3.0.2-0ubuntu1.15?arch=amd64",
                "ubuntu",
                "22.04"
            ),
            (
                Ecosystem::Ubuntu,
                "pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1.15?arch=amd64&distro=ubuntu-22.04"
                    .to_owned()
            )
        );
    }
}
