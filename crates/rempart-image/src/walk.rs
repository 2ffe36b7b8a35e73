//! One pass over a layer tarball: every entry is read once, recorded in the layer's inventory,
//! and, for regular files, offered to the analyzers.

use std::collections::HashSet;
use std::io::{self, Read};

use rempart_core::{
    AnalysisOutput, EntryKind, FileAnalyzer, FileMeta, InventoryEntry, SkipReason, SkippedEntry,
    normalize_entry_path, resolve_symlink,
};
use serde::{Deserialize, Serialize};

use crate::decompress::{LayerReader, LimitExceeded};
use crate::dispatch::Dispatcher;
use crate::error::WalkError;
use crate::limits::Limits;

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";

/// What one layer holds and what the analyzers made of it. Independent of the other layers and of
/// the layer's position, so it can be cached by diff id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerWalk {
    /// Every entry of the layer except whiteout markers. `layer` fields are 0 until merged.
    pub entries: Vec<InventoryEntry>,
    /// Paths this layer deletes from the layers below (`.wh.name`).
    pub whiteouts: Vec<String>,
    /// Directories whose lower-layer content this layer hides (`.wh..wh..opq`).
    pub opaque_dirs: Vec<String>,
    /// The walker's own records: entries skipped for what they are (unsafe paths, links out of
    /// the root, devices), whichever analyzers ran.
    pub output: AnalysisOutput,
    /// One output per analyzer, in the order the analyzers were given: what each found, and the
    /// files skipped because they were over its size cap. Kept apart so that the engine can cache
    /// each analyzer's results on their own and re-run only the analyzers that changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub analyzer_outputs: Vec<AnalysisOutput>,
    /// Regular files and their total size.
    pub files: u64,
    pub bytes: u64,
}

impl LayerWalk {
    pub(crate) fn for_analyzers(count: usize) -> LayerWalk {
        LayerWalk {
            analyzer_outputs: vec![AnalysisOutput::default(); count],
            ..LayerWalk::default()
        }
    }

    fn skip(&mut self, path: impl Into<String>, reason: SkipReason, detail: Option<String>) {
        self.output.skipped.push(SkippedEntry {
            path: path.into(),
            layer: None,
            reason,
            detail,
        });
    }
}

/// Walks one layer stream (compressed or not) once. With `expected_diff_id`, the uncompressed
/// content is checked against it (for sources that store no digest of the raw blob).
pub fn walk_layer(
    raw: &mut dyn Read,
    analyzers: &[Box<dyn FileAnalyzer + '_>],
    limits: Limits,
    expected_diff_id: Option<&str>,
) -> Result<LayerWalk, WalkError> {
    let reader = open_layer_stream(Box::new(raw), limits, expected_diff_id).map_err(|source| {
        WalkError::Tar {
            entry: "before the first entry".to_owned(),
            source,
        }
    })?;
    walk_tar(reader, analyzers, limits)
}

/// Like [`walk_layer`], with decompression on a second thread so that it overlaps with the
/// analysis: the same result, in less wall time on a big layer.
pub fn walk_layer_read_ahead(
    raw: &mut (dyn Read + Send),
    analyzers: &[Box<dyn FileAnalyzer + '_>],
    limits: Limits,
    expected_diff_id: Option<&str>,
) -> Result<LayerWalk, WalkError> {
    crate::pipeline::with_read_ahead(
        raw,
        |raw| open_layer_stream(Box::new(raw), limits, expected_diff_id),
        |reader| walk_tar(reader, analyzers, limits),
    )
}

/// The decompressed (and, with a diff id, verified) stream of a raw layer.
fn open_layer_stream<'a>(
    raw: Box<dyn Read + 'a>,
    limits: Limits,
    expected_diff_id: Option<&str>,
) -> std::io::Result<Box<dyn Read + 'a>> {
    let decompressed = LayerReader::new(raw, limits)?;
    Ok(match expected_diff_id {
        Some(diff_id) => Box::new(crate::digest::VerifyingReader::new(decompressed, diff_id)?),
        None => Box::new(decompressed),
    })
}

/// How a dangling hard link's record starts; the target follows, then a backquote.
const DANGLING_PREFIX: &str = "a hard link to `";

/// The target named in a [`SkipReason::DanglingLink`] record made by the walker.
pub fn dangling_link_target(entry: &SkippedEntry) -> Option<&str> {
    let detail = entry.detail.as_deref()?.strip_prefix(DANGLING_PREFIX)?;
    detail.split_once('`').map(|(target, _)| target)
}

fn walk_tar(
    reader: impl Read,
    analyzers: &[Box<dyn FileAnalyzer + '_>],
    limits: Limits,
) -> Result<LayerWalk, WalkError> {
    let mut archive = tar::Archive::new(reader);
    let mut walk = LayerWalk::for_analyzers(analyzers.len());
    let mut dispatcher = Dispatcher::new(analyzers);
    let mut links = crate::links::LinkTracker::default();
    // Hashes of the names this layer has given content so far: a hard link to none of them
    // points at a lower layer, or at nothing (checked when the layers are merged).
    let mut holders: HashSet<u64> = HashSet::new();
    let hash = |path: &str| {
        use std::hash::{BuildHasher as _, Hasher as _};
        let mut hasher = foldhash::fast::FixedState::with_seed(0x5eed).build_hasher();
        hasher.write(path.as_bytes());
        hasher.finish()
    };
    // The name of the last entry read: a failure to read the next header happened after it.
    // Kept in one buffer (this runs once per entry); the message is made only on failure.
    let mut last_entry = String::new();
    let after_last = |last: &str| {
        if last.is_empty() {
            "before the first entry".to_owned()
        } else {
            format!("after entry `{last}`")
        }
    };
    let mut count: u64 = 0;

    let entries = archive
        .entries()
        .map_err(|source| tar_error(&after_last(&last_entry), source))?;
    for entry in entries {
        let mut entry = entry.map_err(|source| tar_error(&after_last(&last_entry), source))?;
        count += 1;
        if count > limits.max_entries {
            return Err(WalkError::TooManyEntries {
                max: limits.max_entries,
            });
        }
        // A name that is not UTF-8 is scanned under its escaped form: a file name must not
        // hide content from the scanners.
        let raw_str = rempart_core::escape_non_utf8(&entry.path_bytes());
        if raw_str.len() > limits.max_path_bytes {
            let start: String = raw_str.chars().take(200).collect();
            walk.skip(
                format!("{start}…"),
                SkipReason::PathTooLong,
                Some(format!(
                    "{} bytes, over the {}-byte cap",
                    raw_str.len(),
                    limits.max_path_bytes
                )),
            );
            last_entry.clear();
            last_entry.push_str(&start);
            last_entry.push('…');
            continue;
        }
        last_entry.clone_from(&raw_str);
        let path = match normalize_entry_path(&raw_str) {
            Ok(path) => path,
            // `./` itself: the layer root, nothing to record.
            Err(rempart_core::PathError::Empty) => continue,
            Err(error) => {
                walk.skip(raw_str, SkipReason::UnsafePath, Some(error.to_string()));
                continue;
            }
        };
        if path.split('/').count() > limits.max_path_depth {
            walk.skip(
                path,
                SkipReason::TooDeep,
                Some(format!("over {} components", limits.max_path_depth)),
            );
            continue;
        }
        let (parent, name) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
        if name == OPAQUE_MARKER {
            walk.opaque_dirs.push(parent.to_owned());
            continue;
        }
        if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
            walk.whiteouts.push(if parent.is_empty() {
                hidden.to_owned()
            } else {
                format!("{parent}/{hidden}")
            });
            continue;
        }

        let header = entry.header();
        let mode = header.mode().unwrap_or(0);
        let uid = header.uid().unwrap_or(0);
        let gid = header.gid().unwrap_or(0);
        let size = entry.size();
        let entry_type = header.entry_type();
        let kind = match entry_type {
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                EntryKind::File
            }
            tar::EntryType::Directory => EntryKind::Dir,
            tar::EntryType::Symlink => {
                let target = link_target(&entry);
                if let Err(error) = resolve_symlink(&path, &target) {
                    walk.skip(
                        path.clone(),
                        SkipReason::LinkEscapesRoot,
                        Some(error.to_string()),
                    );
                }
                EntryKind::Symlink { target }
            }
            tar::EntryType::Link => {
                let target = link_target(&entry);
                match normalize_entry_path(&target) {
                    Ok(target) => EntryKind::HardLink { target },
                    Err(error) => {
                        walk.skip(path, SkipReason::LinkEscapesRoot, Some(error.to_string()));
                        continue;
                    }
                }
            }
            tar::EntryType::Char | tar::EntryType::Block => {
                walk.skip(
                    path.clone(),
                    SkipReason::SpecialFile,
                    Some("device node".into()),
                );
                EntryKind::Device
            }
            tar::EntryType::Fifo => EntryKind::Fifo,
            // PAX global headers carry metadata for the archive, no file.
            tar::EntryType::XGlobalHeader => continue,
            // Extension headers (long names, PAX) are consumed by the tar crate. Anything else
            // (a GNU volume label, a multi-volume continuation, an unknown type) is reported:
            // its content, if any, is passed over.
            other => {
                walk.skip(
                    path,
                    SkipReason::SpecialFile,
                    Some(format!(
                        "tar entry of type `{}` ({size} bytes): not a file, directory or link",
                        char::from(other.as_byte()).escape_default()
                    )),
                );
                continue;
            }
        };

        // Whatever this layer had at the path before is replaced (hard links keep their copy).
        links.replaced(&path);
        if matches!(kind, EntryKind::File | EntryKind::HardLink { .. }) {
            holders.insert(hash(&path));
        }
        if kind == EntryKind::File {
            walk.files += 1;
            walk.bytes += size;
            let meta = FileMeta {
                path: &path,
                size,
                mode,
            };
            links.before_dispatch(&walk.analyzer_outputs);
            dispatcher
                .dispatch(&meta, &mut entry, &mut walk.analyzer_outputs)
                .map_err(|source| tar_error(&format!("in entry `{path}`"), source))?;
            links.after_dispatch(&path, &walk.analyzer_outputs);
        } else if let EntryKind::HardLink { target } = &kind {
            if !holders.contains(&hash(target)) {
                walk.skip(
                    path.clone(),
                    SkipReason::DanglingLink,
                    Some(format!(
                        "{DANGLING_PREFIX}{target}`, which no entry before it holds"
                    )),
                );
            }
            links.hard_link(&path, target, &mut walk.analyzer_outputs);
            crate::links::report_unread_link(analyzers, &path, target, &mut walk.analyzer_outputs);
        } else if let EntryKind::Symlink { target } = &kind
            && let Ok(resolved) = resolve_symlink(&path, target)
        {
            crate::links::report_unread_link(
                analyzers,
                &path,
                &resolved,
                &mut walk.analyzer_outputs,
            );
        }
        walk.entries.push(InventoryEntry {
            path,
            kind,
            size,
            mode,
            uid,
            gid,
            layer: 0,
        });
    }
    links.finish(&mut walk.analyzer_outputs);
    // Read to the end so the bomb guard and the digest check (in the caller's reader) see every
    // byte, including the tar padding after the last entry.
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink())
        .map_err(|source| tar_error("at the end of the layer", source))?;
    Ok(walk)
}

fn link_target<R: Read>(entry: &tar::Entry<'_, R>) -> String {
    entry
        .link_name_bytes()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

fn tar_error(entry: &str, source: io::Error) -> WalkError {
    if let Some(limit) = source
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<LimitExceeded>())
    {
        return if limit.ratio {
            WalkError::Bomb {
                compressed: limit.compressed,
                uncompressed: limit.uncompressed,
                max_ratio: limit.limits.max_compression_ratio,
                threshold: limit.limits.ratio_threshold_bytes,
            }
        } else {
            WalkError::TooLarge {
                max: limit.limits.max_layer_bytes,
            }
        };
    }
    if let Some(mismatch) = source
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<crate::digest::DigestMismatch>())
    {
        return WalkError::DigestMismatch {
            expected: mismatch.expected.clone(),
            actual: mismatch.actual.clone(),
        };
    }
    WalkError::Tar {
        entry: entry.to_owned(),
        source,
    }
}
