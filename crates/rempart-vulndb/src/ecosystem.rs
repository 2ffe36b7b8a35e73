//! Ecosystem names, distribution releases and package-name normalization.

use rempart_core::{Ecosystem, OsInfo, Package};

/// Splits an OSV ecosystem (`Debian:12`, `Alpine:v3.19`, `Ubuntu:22.04:LTS`, `PyPI`) into the
/// base ecosystem and the release as rempart keys it (`12`, `3.19`, `22.04`). [`os_key`] must
/// produce the same release for the image that the release's records are meant for.
pub(crate) fn split_osv_ecosystem(ecosystem: &str) -> (String, String) {
    let Some((base, release)) = ecosystem.split_once(':') else {
        return (ecosystem.to_owned(), String::new());
    };
    let release = release.strip_suffix(":LTS").unwrap_or(release);
    let release = match base {
        "Alpine" => release.strip_prefix('v').unwrap_or(release).to_owned(),
        // Debian 4 to 6 were published as `4.0`, `5.0`, `6.0`; their `debian_version` reads
        // `6.0.10`, which the image side keys as `6`.
        "Debian" => release
            .strip_suffix(".0")
            .filter(|major| !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()))
            .unwrap_or(release)
            .to_owned(),
        "SUSE" => suse_release(release),
        "openSUSE" => opensuse_release(release),
        _ => release.to_owned(),
    };
    (base.to_owned(), release)
}

/// The code stream a SUSE product ecosystem belongs to.
///
/// SUSE files each fix under every product that ships the package: the base system of an SLE 15
/// SP5 image (an SLE BCI container says `ID=sles`, `VERSION_ID=15.5`) is in `Linux Enterprise
/// Module for Basesystem 15 SP5`, other packages in `Server Applications`, `Development Tools`,
/// `Python 3` and further modules, and the same fixes again under `Linux Enterprise Server 15
/// SP5`, `... 15 SP5-LTSS`, `High Performance Computing 15 SP5-ESPOS` or `Server for SAP
/// Applications 15 SP5`. Which module an installed package came from is nowhere in the image,
/// but every product of one service pack ships the same builds, so all of them are keyed on the
/// service pack: `Linux Enterprise 15 SP5`. SLE Micro and SL Micro are separate code streams
/// with their own versions and keep their names; products rempart does not map stay as
/// published and are never looked up.
fn suse_release(product: &str) -> String {
    let micro = ["Linux Enterprise Micro ", "Linux Micro "];
    if micro.iter().any(|prefix| product.starts_with(prefix)) {
        return product.to_owned();
    }
    let Some(rest) = product.strip_prefix("Linux Enterprise ") else {
        return product.to_owned();
    };
    // `15 SP5`, `15 SP5-LTSS`, `12 SP5`, `11 SP4 LTSS`, `15`, `16.0`: the last `SPn` token with
    // the major before it, else the last version-like token.
    let tokens: Vec<&str> = rest
        .split_whitespace()
        .map(|token| token.split_once('-').map_or(token, |(head, _)| head))
        .collect();
    let is_number = |token: &str| !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    for (index, token) in tokens.iter().enumerate().rev() {
        if let Some(pack) = token.strip_prefix("SP").filter(|n| is_number(n))
            && index > 0
            && is_number(tokens[index - 1])
        {
            return format!("Linux Enterprise {} SP{pack}", tokens[index - 1]);
        }
    }
    let version = tokens.iter().rev().find(|token| {
        token.split('.').all(is_number) && token.bytes().next().is_some_and(|b| b.is_ascii_digit())
    });
    match version {
        Some(version) => format!("Linux Enterprise {version}"),
        None => product.to_owned(),
    }
}

/// `Leap 15.5` and its `Leap 15.5 NonFree` repository are one release; `Tumbleweed` is rolling.
fn opensuse_release(product: &str) -> String {
    product
        .strip_suffix(" NonFree")
        .unwrap_or(product)
        .to_owned()
}

/// The SLE code stream of an SLE image's `VERSION_ID`: `15.5` is `15 SP5`, `15` the GA release;
/// from SLE 16 on, releases are numbered `16.0`, `16.1` and no longer have service packs.
fn sle_stream(version_id: &str) -> Option<String> {
    let (major, minor) = version_id
        .split_once('.')
        .map_or((version_id, ""), |(major, minor)| (major, minor));
    let major_number: u32 = major.parse().ok()?;
    if major_number >= 16 {
        return Some(format!("Linux Enterprise {version_id}"));
    }
    match minor {
        "" | "0" => Some(format!("Linux Enterprise {major}")),
        pack if pack.bytes().all(|b| b.is_ascii_digit()) => {
            Some(format!("Linux Enterprise {major} SP{pack}"))
        }
        _ => None,
    }
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
        // NuGet ids and Composer names are case-insensitive. hex.pm and pub.dev accept
        // lowercase names only (`[a-z][a-z0-9_]*`), and their advisories are filed so: a cased
        // name in a lock file can only mean the same package.
        "NuGet" | "Packagist" | "Hex" | "Pub" => name.trim().to_ascii_lowercase(),
        "SwiftURL" => swift_url_name(name),
        // npm, Go module paths, Maven coordinates, gems and distro packages are case-sensitive.
        _ => name.trim().to_owned(),
    }
}

/// The `SwiftURL` name of a package: its repository URL without scheme, user, `.git` suffix or
/// trailing slash (`https://github.com/apple/swift-nio.git` is `github.com/apple/swift-nio`),
/// which is how OSV and GitHub's database name Swift packages; an scp-like
/// `git@github.com:apple/swift-nio.git` is the same repository.
///
/// The result is lowercased. Host names are case-insensitive, and GitHub, where nearly every
/// `SwiftURL` advisory points, resolves owners and repositories whatever their case, so
/// `github.com/Alamofire/Alamofire` in a record and `github.com/alamofire/alamofire` in a
/// `Package.resolved` are the same repository. Records spell the case either way, as the
/// repository's page does or as someone typed it; comparing case-sensitively would miss real
/// matches for the rare host that tells two repositories apart by case alone.
fn swift_url_name(url: &str) -> String {
    let url = url.trim();
    let without_scheme = match url.split_once("://") {
        Some((_, rest)) => rest,
        // `user@host:path`, git's scp-like syntax, has no scheme; a `:` before the first `/`
        // separates the host from the path.
        None => match url.split_once(':') {
            Some((host, path)) if !host.contains('/') && !host.is_empty() => {
                return swift_url_name(&format!("ssh://{host}/{path}"));
            }
            _ => url,
        },
    };
    let (authority, path) = without_scheme
        .split_once('/')
        .unwrap_or((without_scheme, ""));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    // A port (`ssh://git@host:7999/...`) is not part of the name.
    let host = host.split_once(':').map_or(host, |(host, _)| host);
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let name = if path.is_empty() {
        host.to_owned()
    } else {
        format!("{host}/{path}")
    };
    name.to_lowercase()
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

/// Maps an Ubuntu codename to its release number, as os-release's `VERSION_ID` and the OSV
/// ecosystems (`Ubuntu:22.04:LTS`) spell it.
pub(crate) fn ubuntu_release_for_codename(codename: &str) -> Option<&'static str> {
    Some(match codename {
        "precise" => "12.04",
        "trusty" => "14.04",
        "utopic" => "14.10",
        "vivid" => "15.04",
        "wily" => "15.10",
        "xenial" => "16.04",
        "yakkety" => "16.10",
        "zesty" => "17.04",
        "artful" => "17.10",
        "bionic" => "18.04",
        "cosmic" => "18.10",
        "disco" => "19.04",
        "eoan" => "19.10",
        "focal" => "20.04",
        "groovy" => "20.10",
        "hirsute" => "21.04",
        "impish" => "21.10",
        "jammy" => "22.04",
        "kinetic" => "22.10",
        "lunar" => "23.04",
        "mantic" => "23.10",
        "noble" => "24.04",
        "oracular" => "24.10",
        "plucky" => "25.04",
        "questing" => "25.10",
        "resolute" => "26.04",
        _ => return None,
    })
}

/// The advisory key (base ecosystem, release) for a distribution, or `None` when rempart has no
/// feed layout for it. The release is spelled as [`split_osv_ecosystem`] keys the feed's records.
pub(crate) fn os_key(os: &OsInfo) -> Option<(&'static str, String)> {
    let version = os.version_id.as_str();
    match os.id.as_str() {
        "debian" => {
            let major = version.split('.').next().unwrap_or("");
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
        // A plain image is the public release (`Ubuntu:22.04:LTS`); the `Ubuntu:Pro:…` streams
        // (ESM, FIPS) apply only to machines attached to a Pro subscription, which an image
        // cannot show, so they stay under their own key.
        "ubuntu" => Some(("Ubuntu", version.to_owned())),
        "alpine" => {
            // `3.19.1` and `3.20.0_alpha20240329` are release 3.19 and 3.20.
            let mut parts = version.split(['.', '_']);
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
            let major = major_of(version);
            (!major.is_empty()).then_some(("Red Hat", major))
        }
        // Rolling distributions: `VERSION_ID` is a build date, the feeds have no release.
        "wolfi" => Some(("Wolfi", String::new())),
        "chainguard" => Some(("Chainguard", String::new())),
        "almalinux" => Some(("AlmaLinux", major_of(version))),
        "rocky" => Some(("Rocky Linux", major_of(version))),
        // SLES (and the SLE BCI containers), SLES for SAP, SLED and SLE HPC share the code
        // stream of their service pack.
        "sles" | "sles_sap" | "sled" | "sle_hpc" => Some(("SUSE", sle_stream(version)?)),
        "sle-micro" if !version.is_empty() => {
            Some(("SUSE", format!("Linux Enterprise Micro {version}")))
        }
        "sl-micro" if !version.is_empty() => Some(("SUSE", format!("Linux Micro {version}"))),
        "opensuse-leap" if !version.is_empty() => Some(("openSUSE", format!("Leap {version}"))),
        "opensuse-leap-micro" if !version.is_empty() => {
            Some(("openSUSE", format!("Leap Micro {version}")))
        }
        "opensuse-tumbleweed" => Some(("openSUSE", "Tumbleweed".to_owned())),
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

/// Whether an rpm `epoch:version-release` is a module build: the module build service gives
/// every package it builds a release ending in a module tag, `.module+el8.9.0+1234+5a6b7c8d`
/// (Red Hat, Rocky Linux) or `.module_el8.9.0+3614+204d6f43` (`AlmaLinux`). The tag names the
/// platform, a build number and a context hash, never the stream.
pub(crate) fn is_module_build(version: &str) -> bool {
    let release = version
        .rsplit_once('-')
        .map_or(version, |(_, release)| release);
    release.contains(".module+el") || release.contains(".module_el")
}

/// Whether a rebuild of RHEL files its module packages per stream, as rempart keys them from
/// the summaries of its errata (`import/osv.rs`).
pub(crate) fn is_rhel_rebuild(base: &str) -> bool {
    matches!(base, "AlmaLinux" | "Rocky Linux")
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

/// Which name and version of an OS package a distribution files its advisories under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FiledUnder {
    /// The source package and its version: Debian, Ubuntu, Alpine and its descendants (the apk
    /// origin, which shares the binary's version), Rocky Linux (its errata name the SRPM).
    Source,
    /// The binary package and its full `epoch:version-release`: `AlmaLinux` errata and SUSE's
    /// records list every binary RPM (`vim-minimal`, `libopenssl3`), and no record names a
    /// source package.
    Binary,
}

/// The packaging an OS package of `ecosystem` comes from must be the distribution's own: an apk
/// package is looked up in Alpine, Wolfi or Chainguard data, never in Debian's, and a dpkg
/// package never in an RPM distribution's.
fn filed_under(ecosystem: &Ecosystem, base: &str) -> Option<FiledUnder> {
    match (ecosystem, base) {
        (Ecosystem::Debian, "Debian")
        | (Ecosystem::Ubuntu, "Ubuntu")
        | (Ecosystem::Alpine, "Alpine" | "Wolfi" | "Chainguard") => Some(FiledUnder::Source),
        (Ecosystem::Rpm, "AlmaLinux" | "SUSE" | "openSUSE") => Some(FiledUnder::Binary),
        (Ecosystem::Rpm, base)
            if !matches!(
                base,
                "Debian" | "Ubuntu" | "Alpine" | "Wolfi" | "Chainguard"
            ) =>
        {
            Some(FiledUnder::Source)
        }
        _ => None,
    }
}

/// The (ecosystem, release, name, version) under which a package's advisories are filed.
pub(crate) fn lookup_key<'a>(
    package: &'a Package,
    os: Option<&OsInfo>,
) -> Option<(&'static str, String, String, &'a str)> {
    if package.ecosystem.is_os() {
        let (base, release) = os.and_then(os_key)?;
        let filed = filed_under(&package.ecosystem, base)?;
        let (name, version) = match (&package.source, filed) {
            (Some(source), FiledUnder::Source) if !source.name.is_empty() => {
                let version = if source.version.is_empty() {
                    package.version.as_str()
                } else {
                    source.version.as_str()
                };
                (source.name.as_str(), version)
            }
            _ => (package.name.as_str(), package.version.as_str()),
        };
        // Red Hat and its rebuilds fix an AppStream module's packages per stream, and their
        // records are filed under `<module>:<stream>/<name>`: a package installed from a
        // stream is looked up there only, never under the plain name of the non-modular
        // package nor under another stream.
        let label = modularity_label(&package.purl);
        let name = match label.as_deref().and_then(module_stream) {
            Some(stream) if base == "Red Hat" || is_rhel_rebuild(base) => {
                format!("{stream}/{name}")
            }
            // A module build whose stream the image does not tell cannot be matched right on a
            // rebuild: the plain name holds the non-modular package's fixes, each stream key
            // another stream's. `AlmaLinux` 8 built module packages without a
            // `MODULARITYLABEL` before 8.6, and a label may name no stream.
            None if is_rhel_rebuild(base) && (label.is_some() || is_module_build(version)) => {
                return None;
            }
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

#[cfg(test)]
mod tests {
    use rempart_core::OsInfo;

    use super::{os_key, split_osv_ecosystem, swift_url_name};

    /// Every spelling of one repository a `Package.resolved` or a record can carry gives the
    /// name OSV files `SwiftURL` advisories under.
    #[test]
    fn swift_repository_urls_become_osv_names() {
        for url in [
            "github.com/apple/swift-nio",
            "https://github.com/apple/swift-nio.git",
            "https://github.com/apple/swift-nio",
            "https://github.com/apple/swift-nio/",
            "http://github.com/Apple/Swift-NIO.git",
            "git@github.com:apple/swift-nio.git",
            "ssh://git@github.com/apple/swift-nio.git",
            "ssh://git@github.com:22/apple/swift-nio",
            " https://user@github.com/apple/swift-nio.git ",
        ] {
            assert_eq!(swift_url_name(url), "github.com/apple/swift-nio", "{url}");
        }
        assert_eq!(
            swift_url_name("https://gitlab.example.com/group/sub/pkg.git"),
            "gitlab.example.com/group/sub/pkg"
        );
    }

    fn os(id: &str, version_id: &str) -> OsInfo {
        OsInfo {
            id: id.to_owned(),
            version_id: version_id.to_owned(),
            ..OsInfo::default()
        }
    }

    fn split(ecosystem: &str) -> (String, String) {
        split_osv_ecosystem(ecosystem)
    }

    fn key(id: &str, version_id: &str) -> Option<(String, String)> {
        os_key(&os(id, version_id)).map(|(base, release)| (base.to_owned(), release))
    }

    /// Each image's key equals the key of the feed ecosystems published for it, spelled as the
    /// feeds spell them.
    #[test]
    fn image_and_feed_agree() {
        let cases: &[(&str, &str, &[&str])] = &[
            ("ubuntu", "22.04", &["Ubuntu:22.04:LTS"]),
            ("ubuntu", "23.10", &["Ubuntu:23.10"]),
            ("debian", "12", &["Debian:12"]),
            ("debian", "6", &["Debian:6.0"]),
            ("alpine", "3.19.1", &["Alpine:v3.19"]),
            ("wolfi", "20230201", &["Wolfi"]),
            ("chainguard", "20230214", &["Chainguard"]),
            ("rocky", "9.3", &["Rocky Linux:9"]),
            ("almalinux", "9.4", &["AlmaLinux:9"]),
            (
                "sles",
                "15.5",
                &[
                    "SUSE:Linux Enterprise Module for Basesystem 15 SP5",
                    "SUSE:Linux Enterprise Server 15 SP5",
                    "SUSE:Linux Enterprise Server 15 SP5-LTSS",
                    "SUSE:Linux Enterprise High Performance Computing 15 SP5-ESPOS",
                    "SUSE:Linux Enterprise Server for SAP Applications 15 SP5",
                    "SUSE:Linux Enterprise Module for Public Cloud 15 SP5",
                ],
            ),
            (
                "sles",
                "12.5",
                &[
                    "SUSE:Linux Enterprise Server 12 SP5",
                    "SUSE:Linux Enterprise Server LTSS Extended Security 12 SP5",
                ],
            ),
            ("sles", "15", &["SUSE:Linux Enterprise Server 15"]),
            ("sles", "16.0", &["SUSE:Linux Enterprise Server 16.0"]),
            ("sle-micro", "5.5", &["SUSE:Linux Enterprise Micro 5.5"]),
            ("sl-micro", "6.0", &["SUSE:Linux Micro 6.0"]),
            (
                "opensuse-leap",
                "15.5",
                &["openSUSE:Leap 15.5", "openSUSE:Leap 15.5 NonFree"],
            ),
            ("opensuse-tumbleweed", "20240801", &["openSUSE:Tumbleweed"]),
        ];
        for (id, version_id, ecosystems) in cases {
            let image = key(id, version_id).unwrap_or_else(|| panic!("{id} {version_id}"));
            for ecosystem in *ecosystems {
                assert_eq!(image, split(ecosystem), "{id} {version_id} and {ecosystem}");
            }
        }
    }

    /// Ubuntu's VEX documents name a release by its codename; it must key like the image.
    #[test]
    fn ubuntu_codenames_key_like_images() {
        for (codename, version_id) in [
            ("focal", "20.04"),
            ("jammy", "22.04"),
            ("noble", "24.04"),
            ("questing", "25.10"),
        ] {
            let release = super::ubuntu_release_for_codename(codename).unwrap();
            assert_eq!(
                key("ubuntu", version_id),
                Some(("Ubuntu".to_owned(), release.to_owned())),
                "{codename}"
            );
            assert_eq!(split(&format!("Ubuntu:{release}:LTS")).1, release);
        }
    }

    /// Streams an image is not: Ubuntu Pro, another SLE service pack, SLE 16, SLE Micro.
    #[test]
    fn other_streams_keep_other_keys() {
        let jammy = key("ubuntu", "22.04").unwrap();
        for ecosystem in ["Ubuntu:Pro:22.04:LTS", "Ubuntu:Pro:FIPS-updates:22.04:LTS"] {
            assert_ne!(jammy, split(ecosystem), "{ecosystem}");
        }
        let sp5 = key("sles", "15.5").unwrap();
        for ecosystem in [
            "SUSE:Linux Enterprise Server 15 SP4-LTSS",
            "SUSE:Linux Enterprise Server 16.0",
            "SUSE:Linux Enterprise Micro 5.5",
            "SUSE:Linux Micro 6.2",
            "SUSE:Linux Enterprise Server 5 SP5",
            "openSUSE:Leap 15.5",
        ] {
            assert_ne!(sp5, split(ecosystem), "{ecosystem}");
        }
        assert_ne!(key("opensuse-leap", "15.5"), key("sles", "15.5"));
        assert_eq!(key("sles", ""), None);
        assert_eq!(key("opensuse-leap", ""), None);
    }
}
