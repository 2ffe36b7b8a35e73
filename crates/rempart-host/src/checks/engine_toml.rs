//! The TOML configuration of containerd, CRI-O and Podman as the checks read it: the main file
//! and its drop-ins (`*.conf` in a `.d` directory, in name order, each table merged key by key
//! into what came before, as the engines merge them).

use toml::{Table, Value};

use super::Outcome;
use super::container_capabilities::DANGEROUS;
use crate::Host;

/// Drop-in files read at most per directory.
const MAX_DROP_INS: usize = 64;

/// An engine's configuration, or why it cannot be judged.
enum EngineConfig {
    /// The settings (empty when no file exists: the engine's defaults apply), and the files
    /// they came from.
    Config { settings: Table, files: Vec<String> },
    /// A file does not parse: every setting is unknown.
    Unreadable { file: String, why: String },
}

/// The files read, for messages: the engine's defaults when there were none.
pub(crate) fn source(files: &[String]) -> String {
    if files.is_empty() {
        "the engine's defaults (no configuration file)".to_owned()
    } else {
        files.join(", ")
    }
}

/// Reads `files` in order, then the drop-ins of `drop_in_dir`, merged.
fn read(host: &Host, files: &[&str], drop_in_dir: Option<&str>) -> EngineConfig {
    let mut paths: Vec<String> = files.iter().map(|f| (*f).to_owned()).collect();
    if let Some(dir) = drop_in_dir
        && let Ok(entries) = std::fs::read_dir(host.path(dir))
    {
        let mut names: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            // The engines take `*.conf` exactly, as a shell glob would.
            .filter(|name| {
                std::path::Path::new(name)
                    .extension()
                    .is_some_and(|ext| ext == "conf")
            })
            .collect();
        names.sort();
        paths.extend(
            names
                .into_iter()
                .take(MAX_DROP_INS)
                .map(|name| format!("{dir}/{name}")),
        );
    }
    let mut settings = Table::new();
    let mut read = Vec::new();
    for path in paths {
        if !host.exists(&path) {
            continue;
        }
        let Some(text) = host.read(&path) else {
            return EngineConfig::Unreadable {
                file: path,
                why: "it is not a readable regular file".to_owned(),
            };
        };
        match text.parse::<Table>() {
            Ok(table) => merge(&mut settings, table),
            Err(error) => {
                return EngineConfig::Unreadable {
                    file: path,
                    why: format!("it does not parse: {}", error.message()),
                };
            }
        }
        read.push(path);
    }
    EngineConfig::Config {
        settings,
        files: read,
    }
}

/// Runs `judge` on the merged settings and the files they came from; a file that does not
/// parse fails the check, citing `cited`, as every TOML check says it.
pub(crate) fn judge(
    host: &Host,
    files: &[&str],
    drop_in_dir: Option<&str>,
    cited: &str,
    judge: impl FnOnce(&Table, &[String]) -> Outcome,
) -> Outcome {
    match read(host, files, drop_in_dir) {
        EngineConfig::Config { settings, files } => judge(&settings, &files),
        EngineConfig::Unreadable { file, why } => {
            Outcome::failed(format!("{file} cannot be judged: {why}"), Some(cited))
        }
    }
}

fn merge(into: &mut Table, from: Table) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Table(existing)), Value::Table(table)) => merge(existing, table),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// The value at a path of keys (`["crio", "runtime", "apparmor_profile"]`).
pub(crate) fn get<'a>(settings: &'a Table, path: &[&str]) -> Option<&'a Value> {
    let (last, tables) = path.split_last()?;
    let mut table = settings;
    for key in tables {
        table = table.get(*key)?.as_table()?;
    }
    table.get(*last)
}

/// Capability names as engines write them (`SYS_ADMIN`, `CAP_SYS_ADMIN`), the dangerous ones:
/// those the running-container check reports.
pub(crate) fn dangerous_capabilities(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(|cap| cap.trim().to_ascii_uppercase())
                .filter(|cap| {
                    let bare = cap.strip_prefix("CAP_").unwrap_or(cap);
                    bare == "ALL"
                        || DANGEROUS
                            .iter()
                            .any(|known| known.strip_prefix("CAP_") == Some(bare))
                })
                .collect()
        })
        .unwrap_or_default()
}
