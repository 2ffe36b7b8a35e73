//! What every command needs: where the cache is, how to open the database, where output goes.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rempart_core::{ScannerKind, Severity};

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
    let mut scanners = Vec::new();
    for name in names {
        let kind = match name.trim().to_ascii_lowercase().as_str() {
            "vuln" | "vulnerability" | "vulnerabilities" => ScannerKind::Vuln,
            "secret" | "secrets" => ScannerKind::Secret,
            "malware" => ScannerKind::Malware,
            "misconfig" | "config" => ScannerKind::Misconfig,
            "none" | "" => continue,
            other => anyhow::bail!(
                "unknown scanner `{other}` (expected vuln, secret, malware, misconfig or none)"
            ),
        };
        if !scanners.contains(&kind) {
            scanners.push(kind);
        }
    }
    Ok(scanners)
}

/// Severities kept for every scanner, and the scanners that have their own list.
pub(crate) type SeverityLists = (Vec<Severity>, Vec<(ScannerKind, Vec<Severity>)>);

/// `CRITICAL,HIGH` applies to every scanner; `vuln=CRITICAL` items build a scanner's own list.
pub(crate) fn parse_severities(names: &[String]) -> Result<SeverityLists> {
    let mut global = Vec::new();
    let mut by_scanner: Vec<(ScannerKind, Vec<Severity>)> = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        match name.split_once('=') {
            Some((scanner, severity)) => {
                let scanner = parse_scanners(&[scanner.to_owned()])?
                    .pop()
                    .ok_or_else(|| anyhow::anyhow!("`{name}`: name a scanner before `=`"))?;
                let severity: Severity = severity.parse()?;
                match by_scanner.iter_mut().find(|(kind, _)| *kind == scanner) {
                    Some((_, list)) => list.push(severity),
                    None => by_scanner.push((scanner, vec![severity])),
                }
            }
            None => global.push(name.parse()?),
        }
    }
    Ok((global, by_scanner))
}

pub(crate) fn scan_options(common: &CommonArgs, cache: &Path) -> Result<rempart::ScanOptions> {
    let mut options = rempart::ScanOptions::default();
    if let Some(parallel) = common.parallel {
        anyhow::ensure!(parallel > 0, "--parallel must be at least 1");
        options.parallel = parallel;
    }
    options.progress = crate::progress::reporter();
    if !common.no_cache {
        let path = cache.join("layers.sqlite");
        options.cache = Some(std::sync::Arc::new(rempart::LayerCache::open(&path)?));
    }
    Ok(options)
}

/// Where the report goes: a file (written whole, then renamed into place so a failed scan never
/// leaves half a report) or standard output.
pub(crate) struct Output {
    target: Option<PathBuf>,
}

impl Output {
    pub(crate) fn new(target: Option<&Path>) -> Output {
        Output {
            target: target.map(Path::to_owned),
        }
    }

    /// Colours only for a terminal, and never when `NO_COLOR` is set.
    pub(crate) fn wants_color(&self) -> bool {
        self.target.is_none()
            && io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none()
    }

    pub(crate) fn write(&self, bytes: &[u8]) -> Result<()> {
        match &self.target {
            None => {
                let mut stdout = io::stdout().lock();
                stdout.write_all(bytes)?;
                stdout.flush()?;
            }
            Some(path) => {
                let dir = path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                let temp = tempfile::NamedTempFile::new_in(dir)
                    .with_context(|| format!("cannot write into {}", dir.display()))?;
                let mut file: &File = temp.as_file();
                file.write_all(bytes)
                    .with_context(|| format!("writing {}", path.display()))?;
                temp.persist(path)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        }
        Ok(())
    }
}
