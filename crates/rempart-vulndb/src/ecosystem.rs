//! Ecosystem names, distribution releases and package-name normalization.

use rempart_core::{Ecosystem, OsInfo, Package};

/// Splits an OSV ecosystem (`Debian:12`, `Alpine:v3.19`, `Ubuntu:22.04:LTS`, `PyPI`) into the
/// base ecosystem and the release as rempart keys it (`12`, `3.19`, `22.04`).
pub(crate) fn split_osv_ecosystem(ecosystem: &str) -> (String, String) {
    let Some((base, release)) = ecosystem.split_once(':') else {
        return (ecosystem.to_owned(), String::new());
    };
    let release = release.strip_suffix(":LTS").unwrap_or(release);
    let release = match base {
        "Alpine" => release.strip_prefix('v').unwrap_or(release),
        _ => release,
    };
    (base.to_owned(), release.to_owned())
}

/// The name as the index keys it. Registries that treat names case- or separator-insensitively
/// get a canonical form so an installed `PyYAML` finds advisories filed under `pyyaml`.
pub fn normalize_package_name(ecosystem: &str, name: &str) -> String {
    match ecosystem {
        // PEP 503: lowercase, runs of `-`, `_`, `.` become one `-`.
        "PyPI" => {
            let mut out = String::with_capacity(name.len());
            let mut in_separator = false;
            for c in name.trim().chars() {
                if matches!(c, '-' | '_' | '.') {
                    if !in_separator {
                        out.push('-');
                    }
                    in_separator = true;
                } else {
                    out.extend(c.to_lowercase());
                    in_separator = false;
                }
            }
            out
        }
        // crates.io refuses names differing only in case or `-`/`_`.
        "crates.io" => name.trim().to_ascii_lowercase().replace('_', "-"),
        // NuGet ids and Composer names are case-insensitive.
        "NuGet" | "Packagist" => name.trim().to_ascii_lowercase(),
        // npm, Go module paths, Maven coordinates, gems and distro packages are case-sensitive.
        _ => name.trim().to_owned(),
    }
}

/// Maps a Debian codename to its release number, as OSV and os-release spell it.
pub(crate) fn debian_release_for_codename(codename: &str) -> Option<&'static str> {
    Some(match codename {
        "wheezy" => "7",
        "jessie" => "8",
        "stretch" => "9",
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        "duke" => "15",
        _ => return None,
    })
}

/// The advisory key (base ecosystem, release) for a distribution, or `None` when rempart has no
/// feed layout for it.
pub(crate) fn os_key(os: &OsInfo) -> Option<(&'static str, String)> {
    match os.id.as_str() {
        "debian" => {
            let major = os.version_id.split('.').next().unwrap_or("");
            if major.is_empty() {
                let release = os
                    .codename
                    .as_deref()
                    .and_then(debian_release_for_codename)?;
                Some(("Debian", release.to_owned()))
            } else {
                Some(("Debian", major.to_owned()))
            }
        }
        "ubuntu" => Some(("Ubuntu", os.version_id.clone())),
        "alpine" => {
            // `3.19.1` and `3.20.0_alpha20240329` are release 3.19 and 3.20.
            let mut parts = os.version_id.split(['.', '_']);
            let major = parts.next().unwrap_or("");
            let minor = parts.next().unwrap_or("");
            if major.is_empty() || minor.is_empty() {
                return None;
            }
            Some(("Alpine", format!("{major}.{minor}")))
        }
        // Red Hat Enterprise Linux, and the Universal Base Images built from it: UBI images say
        // `ID=rhel` too, and Red Hat's data covers them as RHEL.
        "rhel" => {
            let major = major_of(&os.version_id);
            (!major.is_empty()).then_some(("Red Hat", major))
        }
        "almalinux" => Some(("AlmaLinux", major_of(&os.version_id))),
        "rocky" => Some(("Rocky Linux", major_of(&os.version_id))),
        _ => None,
    }
}

/// `module:stream` of a modularity label (`nodejs:16:8060020220922040605:ad008a3a`, or a bare
/// `nodejs:16`), or `None` when the label names no stream.
pub(crate) fn module_stream(label: &str) -> Option<String> {
    let mut fields = label.trim().split(':');
    let module = fields.next().filter(|f| !f.is_empty())?;
    let stream = fields.next().filter(|f| !f.is_empty())?;
    Some(format!("{module}:{stream}"))
}

/// The modularity label an rpm package's purl carries in its `rpmmod` qualifier (the rpm
/// cataloger puts the header's `MODULARITYLABEL` there, as Red Hat's own purls do).
fn modularity_label(purl: &str) -> Option<String> {
    let query = purl.split('#').next()?.split_once('?')?.1;
    let value = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("rpmmod="))?;
    let label =
        String::from_utf8_lossy(&rempart_core::percent_decode(value.as_bytes())).into_owned();
    (!label.is_empty()).then_some(label)
}

fn major_of(version: &str) -> String {
    version.split('.').next().unwrap_or("").to_owned()
}

/// The (ecosystem, release, name, version) under which a package's advisories are filed.
pub(crate) fn lookup_key<'a>(
    package: &'a Package,
    os: Option<&OsInfo>,
) -> Option<(&'static str, String, String, &'a str)> {
    if package.ecosystem.is_os() {
        let (base, release) = os.and_then(os_key)?;
        let expected = match package.ecosystem {
            Ecosystem::Debian => "Debian",
            Ecosystem::Ubuntu => "Ubuntu",
            Ecosystem::Alpine => "Alpine",
            _ => base,
        };
        if expected != base {
            return None;
        }
        // Debian, Ubuntu and Red Hat file advisories per source package; Alpine's secdb per origin.
        let (name, version) = match &package.source {
            Some(source) if !source.name.is_empty() => {
                let version = if source.version.is_empty() {
                    package.version.as_str()
                } else {
                    source.version.as_str()
                };
                (source.name.as_str(), version)
            }
            _ => (package.name.as_str(), package.version.as_str()),
        };
        // Red Hat fixes an AppStream module's packages per stream, and files them under
        // `<module>:<stream>/<source rpm>`: a package installed from a stream is looked up
        // there only, never under the plain name of the non-modular package.
        let name = match modularity_label(&package.purl).and_then(|l| module_stream(&l)) {
            Some(stream) if base == "Red Hat" => format!("{stream}/{name}"),
            _ => name.to_owned(),
        };
        return Some((base, release, name, version));
    }
    let base = package.ecosystem.osv_name();
    let name = if package.ecosystem == Ecosystem::Maven {
        maven_coordinates(package)
    } else {
        package.name.clone()
    };
    Some((
        base,
        String::new(),
        normalize_package_name(base, &name),
        package.version.as_str(),
    ))
}

/// `group:artifact`, from the name when it already has that form, else from the purl.
fn maven_coordinates(package: &Package) -> String {
    if package.name.contains(':') {
        return package.name.clone();
    }
    let path = package
        .purl
        .strip_prefix("pkg:maven/")
        .map(|rest| rest.split(['@', '?', '#']).next().unwrap_or(rest));
    match path.and_then(|p| p.rsplit_once('/')) {
        Some((group, artifact)) => format!("{group}:{artifact}"),
        None => package.name.clone(),
    }
}
