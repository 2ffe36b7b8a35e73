//! Debian packages: the dpkg status database, distroless `status.d` files and the `.list` file
//! lists that say which package installed which file.

mod copyright;
mod depends;

pub use copyright::DebianCopyrightCataloger;

use rempart_core::{
    AnalysisOutput, Ecosystem, FileAnalyzer, FileMeta, Interest, OwnedFiles, SourcePackage,
};

use crate::common::{MIB, fingerprint, package, purl, relative_path, text, whole};

const STATUS_DIR: &str = "var/lib/dpkg/status.d/";
const INFO_DIR: &str = "var/lib/dpkg/info/";
/// The status file of a large desktop install is about 10 MiB.
const MAX_STATUS: u64 = 64 * MIB;
const MAX_LIST: u64 = 16 * MIB;

/// Reads `var/lib/dpkg/status`, `var/lib/dpkg/status.d/*` and `var/lib/dpkg/info/*.list`.
///
/// Packages are reported as `Ecosystem::Debian`: a status file does not say whether it belongs to
/// Debian or Ubuntu, so the engine remaps from the identified OS and may add a `distro` qualifier
/// to the purl.
#[derive(Debug, Default, Clone, Copy)]
pub struct DpkgCataloger;

impl DpkgCataloger {
    pub fn new() -> Self {
        DpkgCataloger
    }
}

impl FileAnalyzer for DpkgCataloger {
    fn reads_by_name(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "dpkg"
    }

    fn fingerprint(&self) -> String {
        fingerprint(self.name())
    }

    fn interest(&self, file: &FileMeta<'_>) -> Interest {
        let path = file.path;
        if path == "var/lib/dpkg/status" {
            return whole(MAX_STATUS);
        }
        if let Some(name) = path.strip_prefix(STATUS_DIR) {
            // Distroless writes `<package>` and `<package>.md5sums` side by side.
            if !name.contains('/') && !name.ends_with(".md5sums") {
                return whole(MAX_STATUS);
            }
        } else if let Some(name) = path.strip_prefix(INFO_DIR)
            && !name.contains('/')
            && std::path::Path::new(name)
                .extension()
                .is_some_and(|ext| ext == "list")
        {
            return whole(MAX_LIST);
        }
        Interest::Skip
    }

    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], out: &mut AnalysisOutput) {
        let content = text(content);
        if file.path.starts_with(INFO_DIR) {
            out.owned_files.push(parse_list(file.path, &content));
        } else {
            // The status file holds the whole database, so dependencies resolve within it; a
            // `status.d` file holds one package and cannot tell what else is installed.
            let whole_database = !file.path.starts_with(STATUS_DIR);
            let stanzas: Vec<_> = content
                .split("\n\n")
                .filter_map(|stanza| parse_stanza(file.path, stanza, whole_database))
                .collect();
            let installed = whole_database.then(|| {
                depends::Installed::new(
                    stanzas
                        .iter()
                        .map(|(pkg, relations)| (pkg.name.as_str(), relations)),
                )
            });
            for (mut pkg, relations) in stanzas {
                pkg.depends_on = match &installed {
                    Some(installed) => installed.resolve(&pkg.name, &relations),
                    None => depends::unresolved(&pkg.name, &relations),
                };
                out.packages.push(pkg);
            }
        }
    }
}

fn parse_stanza(
    path: &str,
    stanza: &str,
    require_status: bool,
) -> Option<(rempart_core::Package, depends::Relations)> {
    let mut name = None;
    let mut relations = depends::Relations::default();
    let mut version = None;
    let mut arch = None;
    let mut source = None;
    let mut status = None;
    for line in stanza.lines() {
        // Continuation lines (descriptions, conffiles) never hold the fields read here.
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key {
            "Package" => name = Some(value),
            "Version" => version = Some(value),
            "Architecture" => arch = Some(value),
            "Source" => source = Some(value),
            "Status" => status = Some(value),
            _ => relations.field(key, value),
        }
    }
    let (name, version) = (name?, version?);
    if name.is_empty() || version.is_empty() {
        return None;
    }
    if require_status && !status.is_some_and(files_present) {
        return None;
    }
    let source = match source {
        Some(field) => {
            let (source_name, source_version) = match field.split_once(' ') {
                Some((source_name, rest)) => (
                    source_name,
                    rest.trim()
                        .strip_prefix('(')
                        .and_then(|r| r.strip_suffix(')'))
                        .unwrap_or(version),
                ),
                None => (field, version),
            };
            SourcePackage {
                name: source_name.to_owned(),
                version: source_version.to_owned(),
            }
        }
        None => SourcePackage {
            name: name.to_owned(),
            version: version.to_owned(),
        },
    };
    let arch = arch.filter(|a| !a.is_empty());
    let mut qualifiers = Vec::new();
    if let Some(arch) = arch {
        qualifiers.push(("arch", arch));
    }
    if source.name != name {
        qualifiers.push(("upstream", source.name.as_str()));
    }
    let purl = purl("deb", Some("debian"), name, Some(version), &qualifiers);
    let mut pkg = package(Ecosystem::Debian, name, version, purl, path);
    pkg.arch = arch.map(str::to_owned);
    pkg.source = Some(source);
    Some((pkg, relations))
}

/// `Status: WANT FLAG STATE`: the files are on disk in these states, whatever the selection
/// (`hold ok installed` is a held package, `deinstall ok installed` one marked for removal but
/// still there). `config-files`, `not-installed` and `half-installed` leave no usable package.
fn files_present(status: &str) -> bool {
    matches!(
        status.split_whitespace().nth(2),
        Some(
            "installed" | "triggers-pending" | "triggers-awaited" | "half-configured" | "unpacked"
        )
    )
}

/// `var/lib/dpkg/info/libc6:amd64.list`: one absolute path per line, directories included.
fn parse_list(path: &str, content: &str) -> OwnedFiles {
    let file_name = path.rsplit('/').next().unwrap_or(path);
    let stem = file_name.strip_suffix(".list").unwrap_or(file_name);
    let package = stem.split(':').next().unwrap_or(stem);
    let paths = content
        .lines()
        .filter(|line| *line != "/.")
        .filter_map(relative_path)
        .collect();
    OwnedFiles {
        package: package.to_owned(),
        source_path: path.to_owned(),
        paths,
    }
}
