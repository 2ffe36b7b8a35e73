//! Operating system identification.
//!
//! `os-release` (both `etc/os-release` and `usr/lib/os-release`, because on Debian and others the
//! first is a symlink to the second and the walker only hands over regular files) is preferred;
//! the distribution-specific release files are fallbacks for images that lack it (old `CentOS`,
//! minimal Alpine trees). Every file found is reported with its path; the engine picks.

use rempart_core::{AnalysisOutput, FileAnalyzer, FileMeta, Interest, OsInfo};

use crate::common::{fingerprint, text, whole};

const MAX_RELEASE_FILE: u64 = 64 * 1024;

/// Reads `os-release`, `alpine-release`, `debian_version` and `redhat-release` style files.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsReleaseCataloger;

impl OsReleaseCataloger {
    pub fn new() -> Self {
        OsReleaseCataloger
    }
}

impl FileAnalyzer for OsReleaseCataloger {
    fn reads_by_name(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "os-release"
    }

    fn fingerprint(&self) -> String {
        fingerprint(self.name())
    }

    fn interest(&self, file: &FileMeta<'_>) -> Interest {
        match file.path {
            "etc/os-release" | "usr/lib/os-release" | "etc/alpine-release"
            | "etc/debian_version" | "etc/redhat-release" | "etc/centos-release"
            | "etc/system-release" => whole(MAX_RELEASE_FILE),
            _ => Interest::Skip,
        }
    }

    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], out: &mut AnalysisOutput) {
        let content = text(content);
        let info = match file.path {
            "etc/os-release" | "usr/lib/os-release" => parse_os_release(&content),
            "etc/alpine-release" => single_line_version(&content).map(|version| OsInfo {
                id: "alpine".to_owned(),
                version_id: version.to_owned(),
                codename: None,
                pretty_name: Some(format!("Alpine Linux v{version}")),
            }),
            "etc/debian_version" => single_line_version(&content).map(parse_debian_version),
            _ => single_line_version(&content).and_then(parse_redhat_release),
        };
        if let Some(info) = info {
            out.os.push((file.path.to_owned(), info));
        }
    }
}

/// Parses the `KEY=value` shell-like syntax of os-release(5).
pub(crate) fn parse_os_release(content: &str) -> Option<OsInfo> {
    let mut info = OsInfo::default();
    let mut ubuntu_codename = None;
    for line in content.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        let value = unquote(raw.trim());
        match key.trim() {
            "ID" => info.id = value.to_ascii_lowercase(),
            "VERSION_ID" => info.version_id = value,
            "VERSION_CODENAME" if !value.is_empty() => info.codename = Some(value),
            "UBUNTU_CODENAME" if !value.is_empty() => ubuntu_codename = Some(value),
            "PRETTY_NAME" if !value.is_empty() => info.pretty_name = Some(value),
            _ => {}
        }
    }
    if info.codename.is_none() {
        info.codename = ubuntu_codename;
    }
    (!info.id.is_empty()).then_some(info)
}

/// Removes one level of shell quoting: double quotes with backslash escapes, or single quotes.
fn unquote(raw: &str) -> String {
    if let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        let mut value = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(escaped) = chars.next() {
                    value.push(escaped);
                }
            } else {
                value.push(c);
            }
        }
        value
    } else if let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        inner.to_owned()
    } else {
        raw.to_owned()
    }
}

fn single_line_version(content: &str) -> Option<&str> {
    let line = content.lines().next()?.trim();
    (!line.is_empty()).then_some(line)
}

/// `12.5` on a release, `trixie/sid` on testing and unstable.
fn parse_debian_version(raw: &str) -> OsInfo {
    let numeric = raw.chars().next().is_some_and(|c| c.is_ascii_digit());
    OsInfo {
        id: "debian".to_owned(),
        version_id: if numeric {
            raw.split('.').next().unwrap_or(raw).to_owned()
        } else {
            String::new()
        },
        codename: (!numeric).then(|| raw.split('/').next().unwrap_or(raw).to_owned()),
        pretty_name: Some(format!("Debian GNU/Linux {raw}")),
    }
}

/// `CentOS Linux release 7.9.2009 (Core)`, `Red Hat Enterprise Linux release 8.9 (Ootpa)`.
fn parse_redhat_release(line: &str) -> Option<OsInfo> {
    let (name, rest) = line.split_once(" release ")?;
    let mut rest = rest.trim();
    let mut codename = None;
    if let Some((version, code)) = rest.split_once(" (") {
        codename = code.strip_suffix(')').map(str::to_owned);
        rest = version.trim();
    }
    let lower = name.to_ascii_lowercase();
    let id = if lower.starts_with("red hat") {
        "rhel"
    } else if lower.starts_with("centos") {
        "centos"
    } else if lower.starts_with("rocky") {
        "rocky"
    } else if lower.starts_with("almalinux") {
        "almalinux"
    } else if lower.starts_with("fedora") {
        "fedora"
    } else if lower.starts_with("oracle") {
        "ol"
    } else if lower.starts_with("amazon") {
        "amzn"
    } else {
        return None;
    };
    // os-release of CentOS 7 says `7` where centos-release says `7.9.2009`; keep the major and
    // minor only, which is what advisories are keyed on.
    let version_id = if id == "centos" {
        rest.split('.').next().unwrap_or(rest).to_owned()
    } else {
        rest.to_owned()
    };
    Some(OsInfo {
        id: id.to_owned(),
        version_id,
        codename,
        pretty_name: Some(line.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquotes_shell_values() {
        assert_eq!(unquote(r#""a \"b\" c""#), r#"a "b" c"#);
        assert_eq!(unquote("'x y'"), "x y");
        assert_eq!(unquote("plain"), "plain");
    }

    #[test]
    fn redhat_release_lines() {
        let centos = parse_redhat_release("CentOS Linux release 7.9.2009 (Core)").unwrap();
        assert_eq!(
            (centos.id.as_str(), centos.version_id.as_str()),
            ("centos", "7")
        );
        assert_eq!(centos.codename.as_deref(), Some("Core"));
        let rhel = parse_redhat_release("Red Hat Enterprise Linux release 8.9 (Ootpa)").unwrap();
        assert_eq!(
            (rhel.id.as_str(), rhel.version_id.as_str()),
            ("rhel", "8.9")
        );
        assert!(parse_redhat_release("Something else entirely").is_none());
    }
}
