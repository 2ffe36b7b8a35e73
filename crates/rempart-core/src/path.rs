//! Path rules shared by every image source, so a tar layer, a docker archive and a directory all
//! name the same file the same way.

/// Why a path from an untrusted source was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("path `{0}` climbs out of the image root")]
    EscapesRoot(String),
    #[error("path is empty")]
    Empty,
}

/// Normalizes a path as found in a layer tarball: strips `./` and leading `/`, folds `.` and
/// repeated slashes, and refuses any `..` that would climb above the root.
///
/// Leading slashes are tolerated (some tools write absolute member names, and the OCI spec says
/// they are relative to the layer root), but `..` escapes are refused outright: a tar member
/// `../../etc/passwd` is hostile and must never be mapped to anything.
pub fn normalize_entry_path(raw: &str) -> Result<String, PathError> {
    let mut parts: Vec<&str> = Vec::new();
    for component in raw.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(PathError::EscapesRoot(raw.to_owned()));
                }
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return Err(PathError::Empty);
    }
    Ok(parts.join("/"))
}

/// Resolves a symlink found at `link_path` (normalized) with target `target`, inside the image.
///
/// Absolute targets are relative to the image root. Unlike a kernel, which clamps `..` at `/`,
/// a target that climbs above the root is reported as an escape: for a scanner, a link that points
/// outside the image is a sign of a hostile image, not something to follow.
pub fn resolve_symlink(link_path: &str, target: &str) -> Result<String, PathError> {
    let joined = if target.starts_with('/') {
        target.to_owned()
    } else {
        match link_path.rsplit_once('/') {
            Some((parent, _)) => format!("{parent}/{target}"),
            None => target.to_owned(),
        }
    };
    normalize_entry_path(&joined).map_err(|error| match error {
        PathError::EscapesRoot(_) => PathError::EscapesRoot(format!("{link_path} -> {target}")),
        PathError::Empty => PathError::Empty,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_tar_spellings() {
        assert_eq!(normalize_entry_path("./etc/passwd").unwrap(), "etc/passwd");
        assert_eq!(
            normalize_entry_path("/etc//ssl/./certs/").unwrap(),
            "etc/ssl/certs"
        );
        assert_eq!(
            normalize_entry_path("usr/lib/../bin/sh").unwrap(),
            "usr/bin/sh"
        );
    }

    #[test]
    fn refuses_escapes() {
        assert!(matches!(
            normalize_entry_path("../../etc/passwd"),
            Err(PathError::EscapesRoot(_))
        ));
        assert!(matches!(
            normalize_entry_path("a/../../b"),
            Err(PathError::EscapesRoot(_))
        ));
        assert_eq!(normalize_entry_path("./"), Err(PathError::Empty));
    }

    #[test]
    fn resolves_links_inside_root() {
        assert_eq!(
            resolve_symlink("etc/os-release", "../usr/lib/os-release").unwrap(),
            "usr/lib/os-release"
        );
        assert_eq!(resolve_symlink("bin", "usr/bin").unwrap(), "usr/bin");
        assert_eq!(resolve_symlink("a/b/c", "/etc/x").unwrap(), "etc/x");
        assert!(resolve_symlink("etc/evil", "../../../../root").is_err());
    }
}

/// A file name as bytes made into text: valid UTF-8 is kept, every other byte is written
/// `\xNN`. Image layers may hold names in any encoding, and a name must never keep a file
/// from being scanned: analyzers see and reports show this escaped form.
pub fn escape_non_utf8(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        for byte in chunk.invalid() {
            let _ = write!(text, "\\x{byte:02x}");
        }
    }
    text
}

#[cfg(test)]
mod escape_tests {
    use super::escape_non_utf8;

    #[test]
    fn invalid_bytes_are_escaped_and_the_rest_kept() {
        assert_eq!(
            escape_non_utf8(b"app/caf\xe9/\xff\xfeeicar.com"),
            "app/caf\\xe9/\\xff\\xfeeicar.com"
        );
        assert_eq!(
            escape_non_utf8("d\u{e9}j\u{e0}".as_bytes()),
            "d\u{e9}j\u{e0}"
        );
    }
}
