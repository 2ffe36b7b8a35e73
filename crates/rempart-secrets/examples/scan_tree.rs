//! Scans a directory tree with the secret analyzer, the way the layer walker feeds it, on one
//! thread, and prints the findings and the throughput.
//!
//! ```text
//! cargo run -p rempart-secrets --example scan_tree -- [--config secrets.yaml] [--root /] [--quiet] DIR...
//! ```
//! Paths are reported relative to `--root` (default: each DIR), as the walker reports image paths,
//! so `--root / /usr` scans `/usr` with paths like `usr/lib/...` that the path allowlist expects.
//! Symlinks are not followed. Throughput counts only the bytes handed to the analyzer and the
//! time spent in it; the wall time includes reading the files.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rempart_core::{AnalysisOutput, FileAnalyzer, FileMeta, Interest};
use rempart_secrets::{SecretConfig, SecretScanner};

#[derive(Default)]
struct Stats {
    files_seen: u64,
    files_analyzed: u64,
    bytes_analyzed: u64,
    text_bytes: u64,
    text_time: Duration,
    path_allowlisted: u64,
    too_large: u64,
    unreadable: u64,
    analyze_time: Duration,
}

fn walk(
    root: &Path,
    dir: &Path,
    scanner: &SecretScanner,
    stats: &mut Stats,
    out: &mut AnalysisOutput,
) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        stats.unreadable += 1;
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            stats.unreadable += 1;
            continue;
        };
        if meta.is_dir() {
            walk(root, &path, scanner, stats, out);
            continue;
        }
        if !meta.is_file() {
            continue;
        }
        stats.files_seen += 1;
        let relative = path.strip_prefix(root).unwrap_or(&path);
        let Some(relative) = relative.to_str() else {
            continue;
        };
        let file = FileMeta {
            path: relative,
            size: meta.len(),
            mode: meta.permissions().mode(),
        };
        match scanner.interest(&file) {
            Interest::Skip | Interest::Stream => {
                if file.size > 0 {
                    stats.path_allowlisted += 1;
                }
            }
            Interest::Whole { max_bytes } => {
                if file.size > max_bytes {
                    stats.too_large += 1;
                    continue;
                }
                let Ok(content) = std::fs::read(&path) else {
                    stats.unreadable += 1;
                    continue;
                };
                let skipped_before = out.skipped.len();
                let started = Instant::now();
                scanner.analyze(&file, &content, out);
                let elapsed = started.elapsed();
                stats.analyze_time += elapsed;
                if out.skipped.len() == skipped_before {
                    stats.text_bytes += content.len() as u64;
                    stats.text_time += elapsed;
                }
                stats.files_analyzed += 1;
                stats.bytes_analyzed += content.len() as u64;
            }
        }
    }
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut config = SecretConfig::default();
    let mut quiet = false;
    let mut roots = Vec::new();
    let mut base: Option<PathBuf> = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" => {
                let path = args.next().expect("--config needs a file");
                config = SecretConfig::load(Path::new(&path)).map_err(std::io::Error::other)?;
            }
            "--quiet" => quiet = true,
            "--root" => {
                base = Some(PathBuf::from(
                    args.next().expect("--root needs a directory"),
                ));
            }
            _ => roots.push(PathBuf::from(arg)),
        }
    }
    let built = Instant::now();
    let scanner = SecretScanner::new(config).map_err(std::io::Error::other)?;
    let build_time = built.elapsed();

    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    let wall = Instant::now();
    let mut stats = Stats::default();
    let mut out = AnalysisOutput::default();
    for root in &roots {
        walk(
            base.as_deref().unwrap_or(root),
            root,
            &scanner,
            &mut stats,
            &mut out,
        );
    }
    let wall = wall.elapsed();

    if !quiet {
        for f in &out.findings {
            let redacted = match &f.details {
                rempart_core::FindingDetails::Secret { redacted, .. } => redacted.as_str(),
                _ => "",
            };
            writeln!(
                w,
                "{:<8} {:<36} {}:{} {}",
                f.severity,
                f.id,
                f.location.path,
                f.location.line.unwrap_or(0),
                redacted
            )?;
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let (mb, secs) = (
        stats.bytes_analyzed as f64 / 1_000_000.0,
        stats.analyze_time.as_secs_f64().max(1e-9),
    );
    #[allow(clippy::cast_precision_loss)]
    let text_mb = stats.text_bytes as f64 / 1_000_000.0;
    let text_secs = stats.text_time.as_secs_f64().max(1e-9);
    #[allow(clippy::cast_precision_loss)]
    let files_per_sec = stats.files_analyzed as f64 / secs;
    writeln!(
        w,
        "rules: {} (compiled in {:.1} ms)\nfiles: {} seen, {} analyzed, {} binary, {} path-allowlisted, {} over the size cap, {} unreadable\nfindings: {}\nanalyzed {:.1} MB in {:.2} s: {:.1} MB/s, {:.0} files/s (single thread, analyzer time only); text files alone {:.1} MB at {:.1} MB/s; wall time with reads {:.2} s",
        scanner.rules().len(),
        build_time.as_secs_f64() * 1000.0,
        stats.files_seen,
        stats.files_analyzed,
        out.skipped.len(),
        stats.path_allowlisted,
        stats.too_large,
        stats.unreadable,
        out.findings.len(),
        mb,
        secs,
        mb / secs,
        files_per_sec,
        text_mb,
        text_mb / text_secs,
        wall.as_secs_f64(),
    )?;
    Ok(())
}
