//! `go.mod` in source trees. Since Go 1.17 it lists every module the build needs (indirect ones
//! marked `// indirect`), so `go.sum` (which also holds modules pruned from the build) is not read.

use rempart_core::{AnalysisOutput, FileAnalyzer, FileMeta, Interest};

use super::go_package;
use crate::CatalogOptions;
use crate::common::{MIB, fingerprint, text, whole};

const MAX_GO_MOD: u64 = 8 * MIB;

/// Reads `go.mod` when [`CatalogOptions::lockfiles`] is set: `require` directives, with `replace`
/// directives applied.
#[derive(Debug, Default, Clone, Copy)]
pub struct GoModCataloger {
    options: CatalogOptions,
}

impl GoModCataloger {
    pub fn new(options: CatalogOptions) -> Self {
        GoModCataloger { options }
    }
}

impl FileAnalyzer for GoModCataloger {
    fn reads_by_name(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "go-mod"
    }

    fn fingerprint(&self) -> String {
        fingerprint(self.name())
    }

    fn interest(&self, file: &FileMeta<'_>) -> Interest {
        if self.options.lockfiles && file.file_name() == "go.mod" && !file.path.contains("vendor/")
        {
            whole(MAX_GO_MOD)
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], out: &mut AnalysisOutput) {
        let content = text(content);
        let mut requires: Vec<(String, String, usize)> = Vec::new();
        let mut replaces: Vec<(String, Option<String>, String, Option<String>)> = Vec::new();
        let mut block: Option<&str> = None;
        for (index, raw) in content.lines().enumerate() {
            let line = raw.split("//").next().unwrap_or(raw).trim();
            if line.is_empty() {
                continue;
            }
            if block.is_some() && line == ")" {
                block = None;
                continue;
            }
            let (directive, rest) = if let Some(directive) = block {
                (directive, line)
            } else {
                let (directive, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
                let rest = rest.trim();
                if rest == "(" {
                    block = Some(match directive {
                        "require" => "require",
                        "replace" => "replace",
                        _ => "other",
                    });
                    continue;
                }
                (directive, rest)
            };
            let words: Vec<&str> = rest
                .split_whitespace()
                .map(|w| w.trim_matches('"'))
                .collect();
            match directive {
                "require" if words.len() >= 2 => {
                    requires.push((words[0].to_owned(), words[1].to_owned(), index + 1));
                }
                "replace" => {
                    // `old [v] => new [v]`
                    let Some(arrow) = words.iter().position(|w| *w == "=>") else {
                        continue;
                    };
                    let (old, new) = (&words[..arrow], &words[arrow + 1..]);
                    if let (Some(old_path), Some(new_path)) = (old.first(), new.first()) {
                        replaces.push((
                            (*old_path).to_owned(),
                            old.get(1).map(|v| (*v).to_owned()),
                            (*new_path).to_owned(),
                            new.get(1).map(|v| (*v).to_owned()),
                        ));
                    }
                }
                _ => {}
            }
        }
        for (module, version, line) in requires {
            let replacement = replaces.iter().find(|(old, old_version, _, _)| {
                *old == module && old_version.as_ref().is_none_or(|v| *v == version)
            });
            let (module, version) = match replacement {
                // A local directory replacement is not a published version.
                Some((_, _, _, None)) => continue,
                Some((_, _, new, Some(new_version))) => (new.clone(), new_version.clone()),
                None => (module, version),
            };
            let mut pkg = go_package(&module, &version, file.path);
            if let Some(location) = pkg.locations.first_mut() {
                location.line = u32::try_from(line).ok();
            }
            out.packages.push(pkg);
        }
    }
}
