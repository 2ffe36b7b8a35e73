//! Elixir and Erlang packages from hex.pm, read from `mix.lock` when scanning source trees.

mod term;

use std::collections::{BTreeMap, BTreeSet};

use rempart_core::{AnalysisOutput, Dependency, Ecosystem, FileAnalyzer, FileMeta, Interest};

use crate::CatalogOptions;
use crate::common::{CatalogError, MIB, fingerprint, package, purl, text, whole};
use term::{Term, TermError};

/// Real locks are tens of kilobytes.
const MAX_FILE: u64 = 8 * MIB;

/// The public repository's name in a lock; private organizations are `hexpm:<organization>`.
const PUBLIC_REPOSITORY: &str = "hexpm";

/// Reads `mix.lock` with [`CatalogOptions::lockfiles`].
///
/// A lock is an Elixir map literal (`%{"plug": {:hex, :plug, "1.14.0", ...}}`); it is read by a
/// small term reader that evaluates nothing. Only `:hex` entries are packages of hex.pm: `:git`
/// and other sources are left out, since a repository or a local copy named like a published
/// package would match that package's advisories. A package of a private organization
/// (`hexpm:acme`) is named `acme/<name>`, as its purl namespace is: it is not the public
/// package of the same name. Entries from repositories other than hex.pm are left out too.
#[derive(Debug, Default, Clone, Copy)]
pub struct HexCataloger {
    options: CatalogOptions,
}

impl HexCataloger {
    pub fn new(options: CatalogOptions) -> Self {
        HexCataloger { options }
    }
}

impl FileAnalyzer for HexCataloger {
    fn reads_by_name(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "hex"
    }

    fn fingerprint(&self) -> String {
        fingerprint(self.name())
    }

    fn interest(&self, file: &FileMeta<'_>) -> Interest {
        if self.options.lockfiles && file.file_name() == "mix.lock" {
            whole(MAX_FILE)
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], out: &mut AnalysisOutput) {
        if let Err(error) = parse_lock(file.path, &text(content), out) {
            error.report(out);
        }
    }
}

/// One `:hex` entry: `{:hex, :name, "version", "checksum", [:mix], [deps], "hexpm", "checksum"}`
/// (locks written before Hex 0.18 stop after the dependencies and mean `hexpm`).
struct HexEntry<'a> {
    /// The package name as the report and the advisories name it.
    name: String,
    /// The hex.pm organization of a private package.
    organization: Option<&'a str>,
    package: &'a str,
    version: &'a str,
    dependencies: &'a [Term],
}

fn hex_entry(value: &Term) -> Option<HexEntry<'_>> {
    let Term::Tuple(elements) = value else {
        return None;
    };
    if !matches!(elements.first(), Some(Term::Atom(kind)) if kind == "hex") {
        return None;
    }
    let package = elements.get(1)?.text()?;
    let Some(Term::String(version)) = elements.get(2) else {
        return None;
    };
    let dependencies = match elements.get(5) {
        Some(Term::List(list)) => list.as_slice(),
        _ => &[],
    };
    let repository = match elements.get(6) {
        Some(Term::String(repository)) => repository.as_str(),
        _ => PUBLIC_REPOSITORY,
    };
    let organization = match repository.strip_prefix(PUBLIC_REPOSITORY) {
        Some("") => None,
        Some(rest) => Some(rest.strip_prefix(':').filter(|o| !o.is_empty())?),
        None => return None,
    };
    let name = match organization {
        Some(organization) => format!("{organization}/{package}"),
        None => package.to_owned(),
    };
    Some(HexEntry {
        name,
        organization,
        package,
        version,
        dependencies,
    })
}

fn parse_lock(path: &str, content: &str, out: &mut AnalysisOutput) -> Result<(), CatalogError> {
    let document = term::parse_document(content).map_err(|error| match error {
        TermError::Syntax { line, message } => CatalogError::Line {
            path: path.to_owned(),
            line,
            message: format!("invalid mix.lock: {message}"),
        },
        TermError::Limit { what, limit } => CatalogError::Limit {
            path: path.to_owned(),
            what,
            limit,
        },
    })?;
    let Term::Map(entries) = document else {
        return Err(CatalogError::syntax(
            path,
            "mix.lock",
            &"the lock is not a map",
        ));
    };
    // Dependencies name the lock's keys (the application names), which may differ from the
    // package names (`{:my_app_name, hex: :package_name}`).
    let by_key: BTreeMap<&str, HexEntry<'_>> = entries
        .iter()
        .filter_map(|(key, value)| Some((key.text()?, hex_entry(value)?)))
        .collect();
    for entry in by_key.values() {
        let purl = purl(
            Ecosystem::Hex.purl_type(),
            entry.organization,
            &entry.package.to_ascii_lowercase(),
            Some(entry.version),
            &[],
        );
        let mut package = package(Ecosystem::Hex, &entry.name, entry.version, purl, path);
        let targets: BTreeSet<Dependency> = entry
            .dependencies
            .iter()
            .filter_map(|dependency| match dependency {
                Term::Tuple(parts) => by_key.get(parts.first()?.text()?),
                _ => None,
            })
            .map(|target| Dependency::exact(&target.name, target.version))
            .collect();
        package.depends_on = targets.into_iter().collect();
        out.packages.push(package);
    }
    Ok(())
}
