//! What every command needs: where the cache is, how to open the database, where output goes.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rempart_core::ScannerKind;

use crate::cli::CommonArgs;

/// The cache root: `--cache-dir`, `$REMPART_CACHE_DIR`, else `$XDG_CACHE_HOME/rempart` or
/// `~/.cache/rempart`.
pub(crate) fn cache_root(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = explicit {
        return Ok(path.to_owned());
    }
    let dirs = directories::BaseDirs::new()
        .context("cannot find a cache directory: set --cache-dir or REMPART_CACHE_DIR")?;
    Ok(dirs.cache_dir().join("rempart"))
}

pub(crate) fn db_path(common_db: Option<&Path>, cache: &Path) -> PathBuf {
    common_db.map_or_else(|| cache.join("db").join("vuln.sqlite"), Path::to_owned)
}

pub(crate) fn parse_scanners(names: &[String]) -> Result<Vec<ScannerKind>> {
    Ok(rempart::parse_scanners(names)?)
}

pub(crate) fn parse_severities(names: &[String]) -> Result<rempart::SeverityLists> {
    Ok(rempart::parse_severities(names)?)
}

pub(crate) fn scan_options(common: &CommonArgs, cache: &Path) -> rempart::ScanOptions {
    let mut options = rempart::ScanOptions::default();
    if let Some(parallel) = common.parallel {
        options.parallel = usize::from(parallel);
    }
    options.progress = crate::progress::reporter();
    if !common.no_cache {
        options.cache = layer_cache(cache);
    }
    options
}

/// The layer cache under `cache`. One that cannot be opened (a read-only directory, a full
/// disk) makes this scan and the next slower; it must not make them fail.
pub(crate) fn layer_cache(cache: &Path) -> Option<std::sync::Arc<rempart::LayerCache>> {
    match rempart::LayerCache::open(&cache.join("layers.sqlite")) {
        Ok(cache) => Some(std::sync::Arc::new(cache)),
        Err(error) => {
            tracing::warn!(
                "scanning without the layer cache: {error} (check that the cache directory is writable, or pass --no-cache)"
            );
            None
        }
    }
}

static COLOR: std::sync::OnceLock<crate::cli::ColorChoice> = std::sync::OnceLock::new();

/// Records the `--color` choice, once, at start.
pub(crate) fn set_color_choice(choice: crate::cli::ColorChoice) {
    let _ = COLOR.set(choice);
}

pub(crate) fn color_choice() -> crate::cli::ColorChoice {
    COLOR
        .get()
        .copied()
        .unwrap_or(crate::cli::ColorChoice::Auto)
}

/// Where the report goes: standard output (no path, or `-`), or a file.
///
/// A regular file (or a missing one) is written whole into a temporary file beside it, then
/// renamed into place, so a failed scan never leaves half a report; a new report gets the usual
/// permissions (0666 less the umask), a replaced one keeps its own. A symbolic link is followed
/// and its target replaced, never the link itself. Character devices and FIFOs (`/dev/null`,
/// `/dev/stdout`, a named pipe) are written through: renaming over them would turn a device node
/// into a regular file.
pub(crate) struct Output {
    target: Option<PathBuf>,
}

impl Output {
    pub(crate) fn new(target: Option<&Path>) -> Output {
        Output {
            target: target
                .filter(|path| *path != Path::new("-"))
                .map(Path::to_owned),
        }
    }

    /// Colours only on standard output, and as `--color` says (by default only on a terminal,
    /// and never when `NO_COLOR` is set).
    pub(crate) fn wants_color(&self) -> bool {
        self.target.is_none() && color_choice().for_stream(io::stdout().is_terminal())
    }

    /// The columns a table report must fit: on standard output, `COLUMNS` when set, else the
    /// terminal's width; a file has no width (each column keeps its own cap).
    pub(crate) fn table_width(&self) -> Option<usize> {
        if self.target.is_some() {
            return None;
        }
        if let Some(columns) = std::env::var("COLUMNS")
            .ok()
            .and_then(|text| text.trim().parse::<usize>().ok())
            .filter(|&columns| (20..=1000).contains(&columns))
        {
            return Some(columns);
        }
        let stdout = io::stdout();
        if !stdout.is_terminal() {
            return None;
        }
        terminal_size::terminal_size_of(&stdout).map(|(width, _)| usize::from(width.0))
    }

    pub(crate) fn write(&self, bytes: &[u8]) -> Result<()> {
        self.write_with(&mut |out| Ok(out.write_all(bytes)?))
    }

    /// Writes what `render` writes, as it writes it: a report of a hundred thousand findings is
    /// never held whole in memory. A file is only replaced once `render` has succeeded.
    pub(crate) fn write_with(
        &self,
        render: &mut dyn FnMut(&mut dyn Write) -> Result<()>,
    ) -> Result<()> {
        match &self.target {
            None => {
                let mut stdout = io::stdout().lock();
                passing_broken_pipe(render(&mut stdout).and_then(|()| Ok(stdout.flush()?)))
            }
            Some(path) => write_file(path, render),
        }
    }
}

/// A reader that went away (`rempart … | head`, a FIFO's reader) is not an error, and does not
/// change the outcome: the exit status still says whether there were findings.
fn passing_broken_pipe(result: Result<()>) -> Result<()> {
    match result {
        Err(error) if is_broken_pipe(&error) => Ok(()),
        other => other,
    }
}

/// Whether the error, or any error it wraps (a report writer's I/O or JSON error), is a write
/// to a pipe nobody reads any more.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == Some(io::ErrorKind::BrokenPipe)
    })
}

/// A report of `result` in `format`, laid out for where it goes (colour and width for a
/// terminal); `timestamp` fixes the report's time for reproducible output.
pub(crate) fn render_report(
    result: &rempart_core::ScanResult,
    format: rempart_report::Format,
    output: &Output,
    timestamp: Option<String>,
) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    rempart_report::write_report(
        result,
        format,
        &report_options(output, timestamp),
        &mut bytes,
    )?;
    Ok(bytes)
}

/// Writes the report of `result` in `format` to `output` as it is rendered (see
/// [`render_report`]).
pub(crate) fn write_report(
    result: &rempart_core::ScanResult,
    format: rempart_report::Format,
    output: &Output,
    timestamp: Option<String>,
) -> Result<()> {
    let options = report_options(output, timestamp);
    output.write_with(&mut |out| Ok(rempart_report::write_report(result, format, &options, out)?))
}

fn report_options(output: &Output, timestamp: Option<String>) -> rempart_report::ReportOptions {
    rempart_report::ReportOptions {
        timestamp,
        serial: None,
        color: output.wants_color(),
        width: output.table_width(),
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

pub(crate) fn write_stdout(bytes: &[u8]) -> Result<()> {
    Output::new(None).write(bytes)
}

fn write_file(path: &Path, render: &mut dyn FnMut(&mut dyn Write) -> Result<()>) -> Result<()> {
    let existing = match std::fs::symlink_metadata(path) {
        Ok(metadata) => Some(metadata),
        Err(error) if error.kind() == io::ErrorKind::NotFound => None,
        Err(error) => return Err(error).with_context(|| format!("writing {}", path.display())),
    };
    // The path the report lands at: a link's final target, never the link.
    let destination = if existing
        .as_ref()
        .is_some_and(|m| m.file_type().is_symlink())
    {
        std::fs::canonicalize(path).with_context(|| {
            format!(
                "{} is a symbolic link whose target does not exist: not replacing the link",
                path.display()
            )
        })?
    } else {
        path.to_owned()
    };
    let target_metadata = match std::fs::metadata(&destination) {
        Ok(metadata) => Some(metadata),
        Err(error) if error.kind() == io::ErrorKind::NotFound => None,
        Err(error) => return Err(error).with_context(|| format!("writing {}", path.display())),
    };
    match &target_metadata {
        Some(metadata) if metadata.is_dir() => {
            anyhow::bail!(
                "{} is a directory: name a file for the report",
                path.display()
            )
        }
        Some(metadata) if !metadata.is_file() => {
            // A device or a FIFO: write through, as a shell redirection would.
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .open(&destination)
                .with_context(|| format!("opening {}", path.display()))?;
            passing_broken_pipe(render(&mut file).and_then(|()| Ok(file.flush()?)))
                .with_context(|| format!("writing {}", path.display()))
        }
        _ => replace_regular(&destination, target_metadata.as_ref(), render)
            .with_context(|| format!("writing {}", path.display())),
    }
}

fn replace_regular(
    path: &Path,
    old: Option<&std::fs::Metadata>,
    render: &mut dyn FnMut(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".rempart-report-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        // Created with 0666, the umask applied by the kernel: what any other tool's new file gets.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let temp = builder
        .tempfile_in(dir)
        .with_context(|| format!("cannot write into {}", dir.display()))?;
    let mut file: &File = temp.as_file();
    // On an error the temporary file is dropped, and removed: no half report.
    render(&mut file)?;
    file.flush()?;
    if let Some(old) = old {
        file.set_permissions(old.permissions())?;
    }
    temp.persist(path)?;
    Ok(())
}
