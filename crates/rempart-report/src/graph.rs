//! The dependency graph the SBOM writers print: each package's `depends_on` resolved to the
//! packages found, and the packages the image itself is the reason for.
//!
//! Catalogers record what the metadata says (a name, sometimes an exact version); which
//! installed copy that is depends on where the package sits, which only the whole result shows.

use std::collections::BTreeMap;

use rempart_core::{Dependency, Ecosystem, Package};

/// Edges as indices into the ordered package list.
pub(crate) struct Graph {
    /// For each package, the packages it depends on, each once, in package order.
    pub(crate) depends_on: Vec<Vec<usize>>,
    /// Language packages the image depends on directly: those no other package depends on,
    /// and one package of each cycle nothing else leads into, so that every package is reached.
    pub(crate) top_level: Vec<usize>,
    /// Packages of the operating system's package manager, which the OS component holds.
    pub(crate) os_packages: Vec<usize>,
}

pub(crate) fn build(packages: &[&Package]) -> Graph {
    let mut by_name: BTreeMap<(&Ecosystem, String), Vec<usize>> = BTreeMap::new();
    for (index, package) in packages.iter().enumerate() {
        by_name
            .entry((
                &package.ecosystem,
                name_key(&package.ecosystem, &package.name),
            ))
            .or_default()
            .push(index);
    }
    let depends_on: Vec<Vec<usize>> = packages
        .iter()
        .enumerate()
        .map(|(index, package)| {
            let mut targets: Vec<usize> = package
                .depends_on
                .iter()
                .filter_map(|dependency| {
                    let key = (
                        &package.ecosystem,
                        name_key(&package.ecosystem, &dependency.name),
                    );
                    let candidates = by_name.get(&key)?;
                    resolve(packages, index, dependency, candidates)
                })
                .filter(|target| *target != index)
                .collect();
            targets.sort_unstable();
            targets.dedup();
            targets
        })
        .collect();
    let os_packages = (0..packages.len())
        .filter(|index| packages[*index].ecosystem.is_os())
        .collect();
    let top_level = top_level(packages, &depends_on);
    Graph {
        depends_on,
        top_level,
        os_packages,
    }
}

fn top_level(packages: &[&Package], depends_on: &[Vec<usize>]) -> Vec<usize> {
    let mut depended_on = vec![false; packages.len()];
    for targets in depends_on {
        for target in targets {
            depended_on[*target] = true;
        }
    }
    let language = |index: &usize| !packages[*index].ecosystem.is_os();
    let mut top: Vec<usize> = (0..packages.len())
        .filter(language)
        .filter(|index| !depended_on[*index])
        .collect();
    let mut reached = vec![false; packages.len()];
    let mut stack = top.clone();
    let visit = |stack: &mut Vec<usize>, reached: &mut Vec<bool>| {
        while let Some(index) = stack.pop() {
            if !std::mem::replace(&mut reached[index], true) {
                stack.extend(&depends_on[index]);
            }
        }
    };
    visit(&mut stack, &mut reached);
    for index in (0..packages.len()).filter(language) {
        if !reached[index] {
            top.push(index);
            stack.push(index);
            visit(&mut stack, &mut reached);
        }
    }
    top.sort_unstable();
    top
}

/// Which of the packages carrying the dependency's name the package means.
fn resolve(
    packages: &[&Package],
    from: usize,
    dependency: &Dependency,
    candidates: &[usize],
) -> Option<usize> {
    let matching: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|index| {
            dependency
                .version
                .as_ref()
                .is_none_or(|version| packages[*index].version == *version)
        })
        .collect();
    let path = primary_path(packages[from]);
    // Read from the same file (a lock file, a binary, the dpkg or apk database): that copy.
    if let Some(same_file) = matching
        .iter()
        .find(|index| primary_path(packages[**index]) == path)
    {
        return Some(*same_file);
    }
    // One package database per image: any installed package of that name.
    if packages[from].ecosystem.is_os() {
        return matching.first().copied();
    }
    match packages[from].ecosystem {
        Ecosystem::Npm => node_lookup(packages, path, &dependency.name, &matching),
        Ecosystem::PyPI => {
            let site = python_site(path)?;
            matching
                .into_iter()
                .find(|index| python_site(primary_path(packages[*index])) == Some(site))
        }
        _ => None,
    }
}

/// Node's module lookup from `…/node_modules/a/package.json`: `a`'s own `node_modules`, then
/// the `node_modules` of each directory above it, up to the first that is not itself a module.
fn node_lookup(packages: &[&Package], path: &str, name: &str, matching: &[usize]) -> Option<usize> {
    let find = |directory: &str| {
        let wanted = if directory.is_empty() {
            format!("node_modules/{name}/package.json")
        } else {
            format!("{directory}/node_modules/{name}/package.json")
        };
        matching
            .iter()
            .copied()
            .find(|index| primary_path(packages[*index]) == wanted)
    };
    let mut directory = path.strip_suffix("/package.json")?;
    loop {
        if let Some(found) = find(directory) {
            return Some(found);
        }
        let up = match directory.rfind("/node_modules/") {
            Some(index) => index,
            None if directory.starts_with("node_modules/") => 0,
            None => return None,
        };
        directory = &directory[..up];
    }
}

/// The directory holding a distribution's metadata directory (`site-packages`), which is where
/// Python looks for what it imports.
fn python_site(path: &str) -> Option<&str> {
    let mut rest = path;
    while let Some((parent, last)) = rest.rsplit_once('/') {
        if [".dist-info", ".egg-info", ".egg"]
            .iter()
            .any(|suffix| last.ends_with(suffix))
        {
            return Some(parent);
        }
        rest = parent;
    }
    None
}

/// Names as the ecosystem compares them: Python's are normalized (PEP 503), Debian's and
/// npm's are lowercase already, the others are exact.
fn name_key(ecosystem: &Ecosystem, name: &str) -> String {
    if *ecosystem != Ecosystem::PyPI {
        return name.to_owned();
    }
    let mut key = String::with_capacity(name.len());
    for part in name.split(['-', '_', '.']).filter(|part| !part.is_empty()) {
        if !key.is_empty() {
            key.push('-');
        }
        key.push_str(&part.to_lowercase());
    }
    key
}

fn primary_path(package: &Package) -> &str {
    crate::order::primary_path(package)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_sites() {
        assert_eq!(
            python_site("usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA"),
            Some("usr/lib/python3/dist-packages")
        );
        assert_eq!(
            python_site("app/venv/lib/six-1.16.0.egg-info"),
            Some("app/venv/lib")
        );
        assert_eq!(python_site("requirements.txt"), None);
    }

    #[test]
    fn python_names_compare_normalized() {
        assert_eq!(
            name_key(&Ecosystem::PyPI, "Typing_Extensions"),
            "typing-extensions"
        );
        assert_eq!(
            name_key(&Ecosystem::PyPI, "zope..interface"),
            "zope-interface"
        );
        assert_eq!(name_key(&Ecosystem::Npm, "Left_Pad"), "Left_Pad");
    }
}
