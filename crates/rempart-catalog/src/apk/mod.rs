//! Alpine packages: the apk database `lib/apk/db/installed`.

use std::collections::{BTreeMap, BTreeSet};

use rempart_core::{
    AnalysisOutput, Dependency, Ecosystem, FileAnalyzer, FileMeta, Interest, OwnedFiles, Package,
    SourcePackage,
};

use crate::common::{MIB, fingerprint, package, purl, text, whole};

/// apk-tools 3 may keep its database under `usr/lib` on merged-usr systems.
const DATABASES: [&str; 2] = ["lib/apk/db/installed", "usr/lib/apk/db/installed"];
const MAX_DATABASE: u64 = 128 * MIB;

/// Reads the apk installed database: one stanza of `X:value` lines per package, with `F:` (a
/// directory) and `R:` (a file in it) lines giving the files the package owns.
#[derive(Debug, Default, Clone, Copy)]
pub struct ApkCataloger;

impl ApkCataloger {
    pub fn new() -> Self {
        ApkCataloger
    }
}

impl FileAnalyzer for ApkCataloger {
    fn reads_by_name(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "apk"
    }

    fn fingerprint(&self) -> String {
        fingerprint(self.name())
    }

    fn interest(&self, file: &FileMeta<'_>) -> Interest {
        if DATABASES.contains(&file.path) {
            whole(MAX_DATABASE)
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], out: &mut AnalysisOutput) {
        let content = text(content);
        let first = out.packages.len();
        let mut requirements = Vec::new();
        let mut current = Stanza::default();
        for line in content.lines() {
            if line.trim().is_empty() {
                current.flush(file.path, out, &mut requirements);
                continue;
            }
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            match key {
                "P" => value.clone_into(&mut current.name),
                "V" => value.clone_into(&mut current.version),
                "A" => value.clone_into(&mut current.arch),
                "o" => value.clone_into(&mut current.origin),
                "L" => value.clone_into(&mut current.license),
                "D" => current
                    .depends
                    .extend(value.split_whitespace().map(str::to_owned)),
                "p" => current
                    .provides
                    .extend(value.split_whitespace().map(str::to_owned)),
                "F" => value.clone_into(&mut current.directory),
                "R" => {
                    let path = if current.directory.is_empty() {
                        value.to_owned()
                    } else {
                        format!("{}/{value}", current.directory)
                    };
                    current.files.push(path);
                }
                _ => {}
            }
        }
        current.flush(file.path, out, &mut requirements);
        resolve(&mut out.packages[first..], &requirements);
    }
}

/// What one installed package asks for and offers, kept until the whole database is read.
struct Requirements {
    depends: Vec<String>,
    provides: Vec<String>,
}

/// Turns each package's `D:` entries into the installed packages satisfying them: a package of
/// that name, or the one whose `p:` provides it (`so:libc.musl-x86_64.so.1`, `cmd:sh`,
/// `pc:zlib`). Conflicts (`!name`) and entries nothing installed satisfies are dropped.
fn resolve(packages: &mut [Package], requirements: &[Requirements]) {
    let names: BTreeSet<String> = packages.iter().map(|p| p.name.clone()).collect();
    let mut providers: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (package, wants) in packages.iter().zip(requirements) {
        for provided in &wants.provides {
            providers
                .entry(requirement_name(provided))
                .or_default()
                .insert(package.name.as_str());
        }
    }
    let resolved: Vec<Vec<Dependency>> = packages
        .iter()
        .zip(requirements)
        .map(|(package, wants)| {
            let targets: BTreeSet<&str> = wants
                .depends
                .iter()
                .filter(|entry| !entry.starts_with('!'))
                .filter_map(|entry| {
                    let name = requirement_name(entry);
                    if names.contains(name) {
                        Some(name)
                    } else {
                        providers.get(name).and_then(|p| p.first().copied())
                    }
                })
                .filter(|name| *name != package.name)
                .collect();
            targets.into_iter().map(Dependency::named).collect()
        })
        .collect();
    for (package, depends_on) in packages.iter_mut().zip(resolved) {
        package.depends_on = depends_on;
    }
}

/// `so:libc.musl-x86_64.so.1=1`, `musl>=1.2`, `busybox~1.36`: the name before any constraint.
fn requirement_name(entry: &str) -> &str {
    let end = entry.find(['=', '<', '>', '~']).unwrap_or(entry.len());
    &entry[..end]
}

#[derive(Default)]
struct Stanza {
    name: String,
    version: String,
    arch: String,
    origin: String,
    license: String,
    directory: String,
    files: Vec<String>,
    depends: Vec<String>,
    provides: Vec<String>,
}

impl Stanza {
    fn flush(
        &mut self,
        path: &str,
        out: &mut AnalysisOutput,
        requirements: &mut Vec<Requirements>,
    ) {
        let stanza = std::mem::take(self);
        if stanza.name.is_empty() || stanza.version.is_empty() {
            return;
        }
        out.packages.push(stanza.package(path));
        requirements.push(Requirements {
            depends: stanza.depends,
            provides: stanza.provides,
        });
        if !stanza.files.is_empty() {
            out.owned_files.push(OwnedFiles {
                package: stanza.name,
                source_path: path.to_owned(),
                paths: stanza.files,
            });
        }
    }

    fn package(&self, path: &str) -> Package {
        let mut qualifiers = vec![("arch", self.arch.as_str())];
        if !self.origin.is_empty() && self.origin != self.name {
            qualifiers.push(("upstream", self.origin.as_str()));
        }
        let purl = purl(
            "apk",
            Some("alpine"),
            &self.name,
            Some(&self.version),
            &qualifiers,
        );
        let mut pkg = package(Ecosystem::Alpine, &self.name, &self.version, purl, path);
        pkg.arch = (!self.arch.is_empty()).then(|| self.arch.clone());
        // Alpine's security database is keyed on the origin (the aport), which shares the
        // binary package's version.
        pkg.source = Some(SourcePackage {
            name: if self.origin.is_empty() {
                self.name.clone()
            } else {
                self.origin.clone()
            },
            version: self.version.clone(),
        });
        if !self.license.is_empty() {
            pkg.licenses.push(self.license.clone());
        }
        pkg
    }
}
