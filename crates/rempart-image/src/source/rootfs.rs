//! A directory on disk: an unpacked image root filesystem (`rempart rootfs`) or a source tree
//! (`rempart fs`). Walked once, like one layer, never following symlinks.

use std::fs;
use std::io::BufReader;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use rempart_core::{
    EntryKind, FileAnalyzer, FileMeta, InventoryEntry, SkipReason, SkippedEntry, resolve_symlink,
};

use crate::dispatch::Dispatcher;
use crate::error::WalkError;
use crate::limits::Limits;
use crate::walk::LayerWalk;

/// Options of a directory walk.
#[derive(Debug, Clone, Default)]
pub struct DirOptions {
    /// Top-level or nested directory paths (relative, no leading slash) not to enter, such as
    /// `proc` and `sys` when scanning a live root.
    pub skip_dirs: Vec<String>,
    /// A source tree on this machine, not an unpacked image: an absolute symbolic link points
    /// into the host's file system, out of the tree (in an image root it points inside it).
    pub source_tree: bool,
}

/// Walks `root` as if it were a single layer.
pub fn walk_dir(
    root: &Path,
    analyzers: &[Box<dyn FileAnalyzer + '_>],
    limits: Limits,
    options: &DirOptions,
) -> Result<LayerWalk, WalkError> {
    let top = fs::symlink_metadata(root).map_err(|source| WalkError::Io {
        path: root.to_owned(),
        source,
    })?;
    if !top.is_dir() {
        return Err(WalkError::Io {
            path: root.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory"),
        });
    }
    let mut walk = LayerWalk::for_analyzers(analyzers.len());
    let mut dispatcher = Dispatcher::new(analyzers);
    // Depth-first with an explicit stack: a very deep tree cannot overflow the call stack.
    let mut stack: Vec<String> = vec![String::new()];
    let mut count: u64 = 0;
    while let Some(dir) = stack.pop() {
        let absolute = if dir.is_empty() {
            root.to_owned()
        } else {
            root.join(&dir)
        };
        let reader = match fs::read_dir(&absolute) {
            Ok(reader) => reader,
            Err(error) => {
                push_skip(&mut walk, &dir, SkipReason::Unreadable, error.to_string());
                continue;
            }
        };
        let mut names: Vec<_> = reader.filter_map(Result::ok).collect();
        // Sorted, so that the inventory and the order of findings do not depend on the disk.
        names.sort_by_key(fs::DirEntry::file_name);
        for dir_entry in names {
            let Some(name) = dir_entry.file_name().to_str().map(str::to_owned) else {
                push_skip(
                    &mut walk,
                    &format!("{dir}/{}", dir_entry.file_name().to_string_lossy()),
                    SkipReason::NonUtf8Path,
                    String::new(),
                );
                continue;
            };
            let path = if dir.is_empty() {
                name
            } else {
                format!("{dir}/{name}")
            };
            count += 1;
            if count > limits.max_entries {
                return Err(WalkError::TooManyEntries {
                    max: limits.max_entries,
                });
            }
            if path.split('/').count() > limits.max_path_depth {
                push_skip(
                    &mut walk,
                    &path,
                    SkipReason::TooDeep,
                    format!("over {} components", limits.max_path_depth),
                );
                continue;
            }
            let Ok(meta) = fs::symlink_metadata(dir_entry.path()) else {
                push_skip(
                    &mut walk,
                    &path,
                    SkipReason::Unreadable,
                    "cannot stat".into(),
                );
                continue;
            };
            let file_type = meta.file_type();
            let mode = meta.mode() & 0o7777;
            let kind = if file_type.is_dir() {
                if !options.skip_dirs.iter().any(|skip| skip == &path) {
                    stack.push(path.clone());
                }
                EntryKind::Dir
            } else if file_type.is_symlink() {
                let target = fs::read_link(dir_entry.path())
                    .map(|t| t.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let resolved = if options.source_tree && target.starts_with('/') {
                    Err(rempart_core::PathError::EscapesRoot(format!(
                        "{target} (an absolute link leaves the source tree)"
                    )))
                } else {
                    resolve_symlink(&path, &target)
                };
                match resolved {
                    Ok(resolved) => crate::links::report_unread_link(
                        analyzers,
                        &path,
                        &resolved,
                        &mut walk.analyzer_outputs,
                    ),
                    Err(error) => push_skip(
                        &mut walk,
                        &path,
                        SkipReason::LinkEscapesRoot,
                        error.to_string(),
                    ),
                }
                EntryKind::Symlink { target }
            } else if file_type.is_file() {
                walk.files += 1;
                walk.bytes += meta.len();
                let file_meta = FileMeta {
                    path: &path,
                    size: meta.len(),
                    mode,
                };
                // Opened as a regular file without blocking: it may have been replaced by a FIFO
                // since it was listed.
                match rempart_core::open_regular_file(&dir_entry.path()) {
                    Ok(file) => {
                        // The file may change under us; the walker reads what is there now and
                        // the dispatcher never trusts the size for more than a reservation.
                        let mut reader = BufReader::with_capacity(64 * 1024, file);
                        if let Err(error) =
                            dispatcher.dispatch(&file_meta, &mut reader, &mut walk.analyzer_outputs)
                        {
                            push_skip(&mut walk, &path, SkipReason::Unreadable, error.to_string());
                        }
                    }
                    Err(error) => {
                        push_skip(&mut walk, &path, SkipReason::Unreadable, error.to_string());
                    }
                }
                EntryKind::File
            } else if file_type.is_fifo() {
                push_skip(
                    &mut walk,
                    &path,
                    SkipReason::SpecialFile,
                    "FIFO: no content to read".into(),
                );
                EntryKind::Fifo
            } else {
                let what = if file_type.is_socket() {
                    "socket"
                } else {
                    "device node"
                };
                push_skip(&mut walk, &path, SkipReason::SpecialFile, what.into());
                EntryKind::Device
            };
            walk.entries.push(InventoryEntry {
                path,
                size: if kind == EntryKind::File {
                    meta.len()
                } else {
                    0
                },
                kind,
                mode,
                uid: u64::from(meta.uid()),
                gid: u64::from(meta.gid()),
                layer: 0,
            });
        }
    }
    Ok(walk)
}

fn push_skip(walk: &mut LayerWalk, path: &str, reason: SkipReason, detail: String) {
    walk.output.skipped.push(SkippedEntry {
        path: path.to_owned(),
        layer: None,
        reason,
        detail: (!detail.is_empty()).then_some(detail),
    });
}
