//! Judging one file: its content (malware rules and hashes) and, for an execution, whether it
//! belongs to the container's image.

use std::fs::File;
use std::os::unix::fs::FileExt as _;

use rempart_core::{AnalysisOutput, FileAnalyzer as _, FileMeta, SkipReason};
use rempart_malware::MalwareScanner;

use crate::mounts::Target;
use crate::verdict::ContentVerdict;

/// Reads the file through the descriptor the kernel opened for the watcher (reads through it
/// raise no event of their own) and scans it as an image scan scans a layer's file. `size` is
/// the size the watcher checked against its cap: no more is read, if the file grew since.
pub(crate) fn judge_content(
    scanner: &MalwareScanner,
    file: &File,
    path: &str,
    size: u64,
    mode: u32,
) -> ContentVerdict {
    let mut content = vec![0u8; usize::try_from(size).unwrap_or(usize::MAX)];
    let mut read = 0;
    while read < content.len() {
        match file.read_at(&mut content[read..], read as u64) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return ContentVerdict::Unscanned(format!("unreadable: {error}")),
        }
    }
    content.truncate(read);
    let meta = FileMeta {
        path: path.trim_start_matches('/'),
        size: read as u64,
        mode,
    };
    let mut out = AnalysisOutput::default();
    scanner.analyze(&meta, &content, &mut out);
    if let Some(finding) = out.findings.first() {
        return ContentVerdict::Malware {
            rule: finding.id.clone(),
            title: finding.title.clone(),
        };
    }
    let timed_out = out.skipped.iter().find(|skip| {
        matches!(
            skip.reason,
            SkipReason::ScanTimeout | SkipReason::Unreadable
        )
    });
    match timed_out {
        Some(skip) => ContentVerdict::Unscanned(
            skip.detail
                .clone()
                .unwrap_or_else(|| "the rules' scan did not finish".to_owned()),
        ),
        None => ContentVerdict::Clean,
    }
}

/// True when an executed file is not part of the container's image.
///
/// On an overlay, the file is in the upper directory: an overlay keeps every file written (or
/// changed) since it was mounted there, and the image's own files in the layers below (a
/// whiteout, a deleted file, is a character device there, never a regular file). Elsewhere,
/// when the image's files are known, the file is not among them or has another size (a file
/// rewritten to the same size is not seen this way: the overlay's test has no such gap).
pub(crate) fn is_drift(target: &Target, path: &str, size: u64) -> bool {
    let relative = path.trim_start_matches('/');
    if relative.is_empty() || relative.split('/').any(|part| part == "..") {
        return false;
    }
    if let Some(upper) = &target.upper {
        return std::fs::symlink_metadata(upper.join(relative))
            .is_ok_and(|meta| meta.file_type().is_file());
    }
    target
        .image_files
        .as_ref()
        .is_some_and(|files| files.get(relative) != Some(&size))
}
