//! `Depends` and `Pre-Depends` of dpkg stanzas, resolved against the packages of the same file.

use std::collections::{BTreeMap, BTreeSet};

use rempart_core::Dependency;

/// The relation fields of one stanza, as written: groups of alternatives (`a | b`), each an
/// optionally versioned and arch-qualified name.
#[derive(Debug, Default)]
pub(super) struct Relations {
    pub(super) depends: Vec<Vec<String>>,
    pub(super) provides: Vec<String>,
}

impl Relations {
    /// Reads `Depends`, `Pre-Depends` (both are needed at run time; `Pre-Depends` also before
    /// unpacking) and `Provides`.
    pub(super) fn field(&mut self, key: &str, value: &str) {
        match key {
            "Depends" | "Pre-Depends" => self.depends.extend(groups(value)),
            "Provides" => self.provides.extend(groups(value).into_iter().flatten()),
            _ => {}
        }
    }
}

/// `libc6 (>= 2.34), debconf (>= 0.5) | debconf-2.0, python3:any`: one group per comma, one
/// name per alternative, with the version constraint, the `:arch` qualifier and the
/// `<!profile>` restrictions dropped.
fn groups(value: &str) -> Vec<Vec<String>> {
    value
        .split(',')
        .map(|group| {
            group
                .split('|')
                .filter_map(|alternative| {
                    let name = alternative
                        .trim()
                        .split(|c: char| c.is_whitespace() || matches!(c, '(' | '[' | '<'))
                        .next()?;
                    let name = name.split(':').next().unwrap_or(name);
                    (!name.is_empty()).then(|| name.to_ascii_lowercase())
                })
                .collect::<Vec<_>>()
        })
        .filter(|group| !group.is_empty())
        .collect()
}

/// What one dpkg database file says is installed: real package names, and for each virtual name
/// the installed packages that provide it.
pub(super) struct Installed {
    names: BTreeSet<String>,
    providers: BTreeMap<String, BTreeSet<String>>,
}

impl Installed {
    pub(super) fn new<'a>(packages: impl IntoIterator<Item = (&'a str, &'a Relations)>) -> Self {
        let mut names = BTreeSet::new();
        let mut providers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (name, relations) in packages {
            names.insert(name.to_owned());
            for virtual_name in &relations.provides {
                providers
                    .entry(virtual_name.clone())
                    .or_default()
                    .insert(name.to_owned());
            }
        }
        Installed { names, providers }
    }

    /// The installed package satisfying each group: the first alternative installed under its
    /// own name or, failing that, provided by an installed package (the first provider by name,
    /// since dpkg does not record which one it chose). Groups nothing satisfies are dropped.
    pub(super) fn resolve(&self, package: &str, relations: &Relations) -> Vec<Dependency> {
        let resolved: BTreeSet<&str> = relations
            .depends
            .iter()
            .filter_map(|group| {
                group.iter().find_map(|name| {
                    if self.names.contains(name) {
                        Some(name.as_str())
                    } else {
                        self.providers
                            .get(name)
                            .and_then(|providers| providers.first())
                            .map(String::as_str)
                    }
                })
            })
            .filter(|name| *name != package)
            .collect();
        resolved.into_iter().map(Dependency::named).collect()
    }
}

/// Without the rest of the database (a distroless `status.d` file holds one package), the first
/// alternative of each group is the best guess; the report keeps it only when a package of that
/// name is installed.
pub(super) fn unresolved(package: &str, relations: &Relations) -> Vec<Dependency> {
    let names: BTreeSet<&str> = relations
        .depends
        .iter()
        .filter_map(|group| group.first().map(String::as_str))
        .filter(|name| *name != package)
        .collect();
    names.into_iter().map(Dependency::named).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_qualifiers_and_profiles_are_dropped() {
        assert_eq!(
            groups(
                "libc6 (>= 2.34), debconf (>= 0.5) | debconf-2.0, python3:any, gcc-12-base (= 12.2.0-14) <!stage1>"
            ),
            vec![
                vec!["libc6".to_owned()],
                vec!["debconf".to_owned(), "debconf-2.0".to_owned()],
                vec!["python3".to_owned()],
                vec!["gcc-12-base".to_owned()],
            ]
        );
        assert!(groups("").is_empty());
    }
}
