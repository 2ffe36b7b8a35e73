//! Swift packages, read from the Swift Package Manager's `Package.resolved` when scanning source
//! trees.

use rempart_core::{AnalysisOutput, Ecosystem, FileAnalyzer, FileMeta, Interest};
use serde::Deserialize;

use crate::CatalogOptions;
use crate::common::{CatalogError, MIB, fingerprint, package, purl, text, whole};

const MAX_FILE: u64 = 8 * MIB;

/// Reads `Package.resolved` (format versions 1, 2 and 3) with [`CatalogOptions::lockfiles`].
///
/// A Swift package is named by its repository, as OSV's `SwiftURL` ecosystem names it: the URL
/// without scheme or `.git` (`github.com/apple/swift-nio`); its purl is
/// `pkg:swift/github.com/apple/swift-nio@2.40.0`, the host and owner being the namespace.
/// A pin on a branch or a revision has no version: it is reported with the revision it is
/// resolved to, which no advisory range can contain, so it is listed but never matched.
/// Packages from a local checkout or directory and registry packages (`scope.name`, no
/// repository) are not `SwiftURL` packages and are left out.
#[derive(Debug, Default, Clone, Copy)]
pub struct SwiftCataloger {
    options: CatalogOptions,
}

impl SwiftCataloger {
    pub fn new(options: CatalogOptions) -> Self {
        SwiftCataloger { options }
    }
}

impl FileAnalyzer for SwiftCataloger {
    fn reads_by_name(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "swift"
    }

    fn fingerprint(&self) -> String {
        fingerprint(self.name())
    }

    fn interest(&self, file: &FileMeta<'_>) -> Interest {
        if self.options.lockfiles && file.file_name() == "Package.resolved" {
            whole(MAX_FILE)
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], out: &mut AnalysisOutput) {
        if let Err(error) = parse_resolved(file.path, &text(content), out) {
            error.report(out);
        }
    }
}

/// Version 1 nests the pins under `object`; versions 2 and 3 (3 adds `originHash`) have them at
/// the top.
#[derive(Deserialize)]
struct Resolved {
    version: u32,
    #[serde(default)]
    object: Option<PinList>,
    #[serde(default)]
    pins: Option<Vec<Pin>>,
}

#[derive(Deserialize)]
struct PinList {
    pins: Vec<Pin>,
}

#[derive(Deserialize)]
struct Pin {
    /// Versions 2 and 3.
    #[serde(default)]
    location: Option<String>,
    /// Version 1.
    #[serde(default, rename = "repositoryURL")]
    repository_url: Option<String>,
    /// `remoteSourceControl`, `localSourceControl`, `fileSystem` or `registry` (versions 2, 3).
    #[serde(default)]
    kind: Option<String>,
    state: PinState,
}

#[derive(Deserialize)]
struct PinState {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    revision: Option<String>,
}

fn parse_resolved(path: &str, content: &str, out: &mut AnalysisOutput) -> Result<(), CatalogError> {
    let resolved: Resolved = serde_json::from_str(content)
        .map_err(|error| CatalogError::syntax(path, "JSON", &error))?;
    let pins = match (resolved.version, resolved.object, resolved.pins) {
        (1, Some(object), _) => object.pins,
        (2 | 3, _, Some(pins)) => pins,
        (version, ..) => {
            return Err(CatalogError::syntax(
                path,
                "JSON",
                &format!("unsupported Package.resolved version {version}, or its pins missing"),
            ));
        }
    };
    for pin in pins {
        if pin
            .kind
            .as_deref()
            .is_some_and(|kind| kind != "remoteSourceControl")
        {
            continue;
        }
        let Some(url) = pin.location.or(pin.repository_url) else {
            continue;
        };
        let Some((namespace, name)) = repository_name(&url) else {
            continue;
        };
        let version = pin
            .state
            .version
            .filter(|v| !v.is_empty())
            .or(pin.state.revision.filter(|r| !r.is_empty()));
        let Some(version) = version else {
            continue;
        };
        let purl = purl(
            Ecosystem::SwiftUrl.purl_type(),
            Some(&namespace),
            &name,
            Some(&version),
            &[],
        );
        let full_name = format!("{namespace}/{name}");
        out.packages
            .push(package(Ecosystem::SwiftUrl, full_name, version, purl, path));
    }
    Ok(())
}

/// The namespace (`host/owner...`) and name of a remote repository URL: `https://`, `ssh://`
/// and scp-like `git@host:owner/repo` forms, without user, port, `.git` or trailing slash.
/// `None` for what names no remote repository (a local path, a URL without a path).
fn repository_name(url: &str) -> Option<(String, String)> {
    let url = url.trim();
    let rest = if let Some((scheme, rest)) = url.split_once("://") {
        if scheme.eq_ignore_ascii_case("file") {
            return None;
        }
        rest.to_owned()
    } else {
        // git's scp-like syntax: `user@host:path`.
        let (host, path) = url.split_once(':')?;
        if host.is_empty() || host.contains('/') {
            return None;
        }
        format!("{host}/{path}")
    };
    let (authority, path) = rest.split_once('/')?;
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = host.split_once(':').map_or(host, |(host, _)| host);
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let (owner, name) = path.rsplit_once('/').unwrap_or(("", path));
    if host.is_empty() || name.is_empty() {
        return None;
    }
    let namespace = if owner.is_empty() {
        host.to_owned()
    } else {
        format!("{host}/{owner}")
    };
    Some((namespace, name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::repository_name;

    #[test]
    fn repository_urls() {
        let nio = Some(("github.com/apple".to_owned(), "swift-nio".to_owned()));
        assert_eq!(
            repository_name("https://github.com/apple/swift-nio.git"),
            nio
        );
        assert_eq!(repository_name("https://github.com/apple/swift-nio"), nio);
        assert_eq!(repository_name("git@github.com:apple/swift-nio.git"), nio);
        assert_eq!(
            repository_name("ssh://git@github.com:22/apple/swift-nio.git/"),
            nio
        );
        assert_eq!(repository_name("/Users/me/src/pkg"), None);
        assert_eq!(repository_name("file:///Users/me/src/pkg"), None);
        assert_eq!(repository_name("https://example.com"), None);
    }
}
