//! Dart and Flutter packages, read from `pubspec.lock` when scanning source trees.

use std::collections::BTreeMap;

use rempart_core::{AnalysisOutput, Ecosystem, FileAnalyzer, FileMeta, Interest};
use serde::Deserialize;

use crate::CatalogOptions;
use crate::common::{CatalogError, MIB, fingerprint, package, purl, text, whole};

const MAX_FILE: u64 = 8 * MIB;

/// The repositories pub.dev has answered at; a package hosted anywhere else carries its
/// repository in the purl.
const PUB_DEV: [&str; 2] = ["https://pub.dev", "https://pub.dartlang.org"];

/// Reads `pubspec.lock` with [`CatalogOptions::lockfiles`].
///
/// Only `source: hosted` packages are Pub packages. `git` and `path` packages are copies of
/// someone's source, whatever version their pubspec claims, and `sdk` packages (`flutter`,
/// `flutter_test`) come with the SDK and say `0.0.0`: matching any of them against pub.dev's
/// advisories under their name would be a guess, so they are left out.
#[derive(Debug, Default, Clone, Copy)]
pub struct PubCataloger {
    options: CatalogOptions,
}

impl PubCataloger {
    pub fn new(options: CatalogOptions) -> Self {
        PubCataloger { options }
    }
}

impl FileAnalyzer for PubCataloger {
    fn reads_by_name(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "pub"
    }

    fn fingerprint(&self) -> String {
        fingerprint(self.name())
    }

    fn interest(&self, file: &FileMeta<'_>) -> Interest {
        if self.options.lockfiles && file.file_name() == "pubspec.lock" {
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

#[derive(Deserialize)]
struct PubspecLock {
    #[serde(default)]
    packages: BTreeMap<String, LockedPackage>,
}

#[derive(Deserialize)]
struct LockedPackage {
    #[serde(default)]
    source: String,
    #[serde(default)]
    version: String,
    /// For hosted packages `{name, url, sha256}`; a string for SDK packages; `{url, ref,
    /// resolved-ref, path}` for git; `{path, relative}` for path packages.
    #[serde(default)]
    description: Option<Description>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Description {
    Hosted {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        url: Option<String>,
    },
    Other(serde::de::IgnoredAny),
}

fn parse_lock(path: &str, content: &str, out: &mut AnalysisOutput) -> Result<(), CatalogError> {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = 1_000_000;
    budget.max_events = 4_000_000;
    budget.max_documents = 1;
    budget.max_depth = 16;
    // pub never writes anchors or aliases: any is a sign of a crafted file.
    budget.max_aliases = 0;
    budget.max_anchors = 0;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    let lock: PubspecLock = serde_saphyr::from_str_with_options(content, options)
        .map_err(|error| CatalogError::syntax(path, "YAML", &error))?;
    for (key, entry) in &lock.packages {
        if entry.source != "hosted" || entry.version.is_empty() {
            continue;
        }
        let (name, url) = match &entry.description {
            Some(Description::Hosted { name, url }) => (
                name.as_deref().unwrap_or(key.as_str()),
                url.as_deref().map(|u| u.trim_end_matches('/')),
            ),
            _ => (key.as_str(), None),
        };
        let repository = url.filter(|url| !PUB_DEV.contains(url)).unwrap_or_default();
        let purl = purl(
            Ecosystem::Pub.purl_type(),
            None,
            name,
            Some(&entry.version),
            &[("repository_url", repository)],
        );
        out.packages
            .push(package(Ecosystem::Pub, name, &entry.version, purl, path));
    }
    Ok(())
}
