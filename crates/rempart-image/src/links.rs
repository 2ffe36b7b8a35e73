//! What analyzers found in a file, followed through the hard links and overwrites of one layer.
//!
//! A tar hard link `b → a` gives `b` the content `a` has at that point of the stream; a later
//! entry for `a` replaces `a` alone, and a later layer's whiteout of `a` leaves `b` in place. The
//! walker reads each content once, under the name it first has, so what the analyzers found
//! there must follow it: copied to every hard link made to it (findings and packages, under the
//! link's name), and dropped from a name whose content the layer replaces. Without this a
//! malware finding named a file that ended up clean while the file holding the malware was
//! never named, and a file kept through a link was reported `deleted`.

use std::collections::HashMap;
use std::ops::Range;

use rempart_core::{
    AnalysisOutput, EntryKind, FileAnalyzer, FileMeta, Interest, InventoryEntry, SkipReason,
    SkippedEntry,
};

/// The results one analyzer produced for the content now at a path.
#[derive(Debug, Clone)]
struct Produced {
    analyzer: usize,
    findings: Range<usize>,
    packages: Range<usize>,
}

/// Per-layer record of which results belong to the content at each path.
#[derive(Default)]
pub(crate) struct LinkTracker {
    produced: HashMap<String, Vec<Produced>>,
    /// Results of contents the layer replaced, removed at the end.
    dropped: Vec<Produced>,
    /// Output lengths before the file being dispatched (kept to spare an allocation per file).
    before: Vec<(usize, usize)>,
}

impl LinkTracker {
    /// Notes the output lengths before a file is dispatched, to tell what the dispatch added.
    pub(crate) fn before_dispatch(&mut self, outputs: &[AnalysisOutput]) {
        self.before.clear();
        self.before
            .extend(outputs.iter().map(|o| (o.findings.len(), o.packages.len())));
    }

    /// A new entry at `path`: whatever the content before it there produced is dropped (the
    /// layer replaces that content), unless a hard link made before keeps it, which has its own
    /// copy.
    pub(crate) fn replaced(&mut self, path: &str) {
        if let Some(old) = self.produced.remove(path) {
            self.dropped.extend(old);
        }
    }

    /// Records what dispatching the regular file at `path` added to `outputs`.
    pub(crate) fn after_dispatch(&mut self, path: &str, outputs: &[AnalysisOutput]) {
        let produced: Vec<Produced> = outputs
            .iter()
            .zip(&self.before)
            .enumerate()
            .filter(|(_, (output, (findings, packages)))| {
                output.findings.len() > *findings || output.packages.len() > *packages
            })
            .map(|(analyzer, (output, (findings, packages)))| Produced {
                analyzer,
                findings: *findings..output.findings.len(),
                packages: *packages..output.packages.len(),
            })
            .collect();
        if !produced.is_empty() {
            self.produced.insert(path.to_owned(), produced);
        }
    }

    /// A hard link `link → target`: the target's current results are copied under the link's
    /// name.
    pub(crate) fn hard_link(&mut self, link: &str, target: &str, outputs: &mut [AnalysisOutput]) {
        let Some(sources) = self.produced.get(target).cloned() else {
            return;
        };
        let mut copies = Vec::with_capacity(sources.len());
        for source in sources {
            let output = &mut outputs[source.analyzer];
            let findings_start = output.findings.len();
            for index in source.findings.clone() {
                let mut finding = output.findings[index].clone();
                if finding.location.path == target {
                    link.clone_into(&mut finding.location.path);
                    output.findings.push(finding);
                }
            }
            let packages_start = output.packages.len();
            for index in source.packages.clone() {
                let mut package = output.packages[index].clone();
                if package.locations.iter().any(|l| l.path == target) {
                    for location in &mut package.locations {
                        if location.path == target {
                            link.clone_into(&mut location.path);
                        }
                    }
                    output.packages.push(package);
                }
            }
            copies.push(Produced {
                analyzer: source.analyzer,
                findings: findings_start..output.findings.len(),
                packages: packages_start..output.packages.len(),
            });
        }
        self.produced.insert(link.to_owned(), copies);
    }

    /// Removes the results of replaced contents from the outputs.
    pub(crate) fn finish(self, outputs: &mut [AnalysisOutput]) {
        for (analyzer, output) in outputs.iter_mut().enumerate() {
            let mut dead_findings = vec![false; output.findings.len()];
            let mut dead_packages = vec![false; output.packages.len()];
            for dropped in self.dropped.iter().filter(|d| d.analyzer == analyzer) {
                for index in dropped.findings.clone() {
                    dead_findings[index] = true;
                }
                for index in dropped.packages.clone() {
                    dead_packages[index] = true;
                }
            }
            let mut index = 0;
            output.findings.retain(|_| {
                index += 1;
                !dead_findings[index - 1]
            });
            let mut index = 0;
            output.packages.retain(|_| {
                index += 1;
                !dead_packages[index - 1]
            });
        }
    }
}

/// Most files looked at under one directory link: a link to a big tree (`lib -> usr/lib`) is
/// checked this far, which covers any package database.
const MAX_FILES_PER_DIRECTORY_LINK: usize = 200_000;

/// True when `analyzer` reads files by name, would read `name`, and does not read `real` (the
/// name the content is stored under): such content is never shown to it. Scanners of content
/// (secrets, malware) read the content under its own name, so nothing is lost for them. A link
/// to itself (`name == real`, a loop) holds no content under any name.
fn hidden_from(analyzer: &dyn FileAnalyzer, name: &str, real: &str) -> bool {
    fn as_file(path: &str) -> FileMeta<'_> {
        FileMeta {
            path,
            size: 1,
            mode: 0o100_644,
        }
    }
    analyzer.reads_by_name()
        && analyzer.interest(&as_file(name)) != Interest::Skip
        && (name == real || analyzer.interest(&as_file(real)) == Interest::Skip)
}

/// A link whose name an analyzer reads (`var/lib/dpkg/status`, a `METADATA`) while the name
/// holding the content is one it does not: the analyzer never sees that content under a name it
/// reads, so what it would list is missing. Until links are followed across names and layers,
/// such a link is reported, never passed over in silence.
pub(crate) fn report_unread_link(
    analyzers: &[Box<dyn FileAnalyzer + '_>],
    link: &str,
    target: &str,
    outputs: &mut [AnalysisOutput],
) {
    for (analyzer, output) in analyzers.iter().zip(outputs) {
        if hidden_from(analyzer.as_ref(), link, target) {
            output.skipped.push(SkippedEntry {
                path: link.to_owned(),
                layer: None,
                reason: SkipReason::LinkNotFollowed,
                detail: Some(format!(
                    "a link to `{target}`: {} reads this name, not the target's, so what the file lists is not reported",
                    analyzer.name()
                )),
            });
        }
    }
}

/// Directory links in the final file system through which a package database is reached under
/// a name its cataloger reads, while the files' own names are not read (`var/lib/dpkg ->
/// /opt/state`): what such a database lists is not reported, so each such link is. `inventory`
/// is the final file system, sorted by path.
pub fn unread_through_directory_links(
    inventory: &[InventoryEntry],
    analyzers: &[Box<dyn FileAnalyzer + '_>],
) -> Vec<SkippedEntry> {
    let mut skipped = Vec::new();
    if !analyzers.iter().any(|a| a.reads_by_name()) {
        return skipped;
    }
    let find = |path: &str| {
        inventory
            .binary_search_by(|entry| entry.path.as_str().cmp(path))
            .ok()
            .map(|index| &inventory[index])
    };
    for link in inventory {
        let EntryKind::Symlink { target } = &link.kind else {
            continue;
        };
        let Ok(resolved) = rempart_core::resolve_symlink(&link.path, target) else {
            continue;
        };
        if find(&resolved).is_none_or(|entry| entry.kind != EntryKind::Dir) {
            continue;
        }
        let prefix = format!("{resolved}/");
        let start = inventory.partition_point(|entry| entry.path.as_str() < prefix.as_str());
        let mut reported: Vec<&'static str> = Vec::new();
        for entry in inventory[start..]
            .iter()
            .take_while(|entry| entry.path.starts_with(&prefix))
            .filter(|entry| entry.kind == EntryKind::File)
            .take(MAX_FILES_PER_DIRECTORY_LINK)
        {
            let virtual_path = format!("{}/{}", link.path, &entry.path[prefix.len()..]);
            for analyzer in analyzers {
                if !reported.contains(&analyzer.name())
                    && hidden_from(analyzer.as_ref(), &virtual_path, &entry.path)
                {
                    reported.push(analyzer.name());
                    skipped.push(SkippedEntry {
                        path: link.path.clone(),
                        layer: Some(link.layer),
                        reason: SkipReason::LinkNotFollowed,
                        detail: Some(format!(
                            "a link to the directory `{resolved}`: {} reads `{virtual_path}`, not `{}`, so what that file lists is not reported",
                            analyzer.name(),
                            entry.path
                        )),
                    });
                }
            }
        }
    }
    skipped
}
