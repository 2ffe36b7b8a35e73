//! License strings from package metadata, mapped onto SPDX license expressions.
//!
//! Package metadata states licenses in many spellings (`GPL-2+`, `Apache 2.0`, `BSD`); SBOM
//! formats want SPDX expressions. Valid expressions pass through, near misses are canonicalized
//! by the `spdx` crate's lax parser, and the rest are kept as named, non-SPDX licenses.

/// What a license string turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum License {
    /// A valid SPDX expression, possibly canonicalized from the original text.
    Expression(String),
    /// Not expressible in SPDX: the original text.
    Other(String),
}

pub(crate) fn classify(text: &str) -> License {
    let text = text.trim();
    if spdx::Expression::parse(text).is_ok() {
        return License::Expression(text.to_owned());
    }
    if let Some(gnu) = debian_gnu_name(text) {
        return License::Expression(gnu);
    }
    if let Ok(Some(canonical)) = spdx::Expression::canonicalize(text)
        && spdx::Expression::parse(&canonical).is_ok()
    {
        return License::Expression(canonical);
    }
    License::Other(text.to_owned())
}

/// Debian copyright files write GNU licenses as `GPL-2`, `GPL-2+`, `LGPL-2.1+`, `AGPL-3`: maps
/// those to `GPL-2.0-only`, `GPL-2.0-or-later`, `LGPL-2.1-or-later`, `AGPL-3.0-only`.
fn debian_gnu_name(text: &str) -> Option<String> {
    let (family, version) = text.split_once('-')?;
    if !matches!(family, "GPL" | "LGPL" | "AGPL" | "GFDL") {
        return None;
    }
    let (version, or_later) = match version.strip_suffix('+') {
        Some(version) => (version, true),
        None => (version, false),
    };
    let (major, minor) = version.split_once('.').unwrap_or((version, "0"));
    if major.is_empty()
        || minor.is_empty()
        || !major.bytes().all(|b| b.is_ascii_digit())
        || !minor.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let suffix = if or_later { "or-later" } else { "only" };
    let id = format!("{family}-{major}.{minor}-{suffix}");
    is_single_id(&id).then_some(id)
}

/// `NOASSERTION` and `NONE` say nothing about a license; they are dropped rather than combined
/// into expressions.
pub(crate) fn is_no_assertion(text: &str) -> bool {
    let text = text.trim();
    text.is_empty() || text.eq_ignore_ascii_case("NOASSERTION") || text.eq_ignore_ascii_case("NONE")
}

/// True when `expression` is one license id of the SPDX list, with no operator or `+`.
pub(crate) fn is_single_id(expression: &str) -> bool {
    spdx::license_id(expression).is_some_and(|id| id.name == expression)
}

/// An SPDX `LicenseRef-` id for a license that is not on the SPDX list: only letters, digits,
/// `.` and `-` are allowed after the prefix.
pub(crate) fn license_ref(text: &str) -> String {
    let mut id = String::from("LicenseRef-");
    let mut last_dash = true;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            id.push(c);
            last_dash = false;
        } else if !last_dash {
            id.push('-');
            last_dash = true;
        }
    }
    while id.ends_with('-') && id.len() > "LicenseRef-".len() {
        id.pop();
    }
    if id.len() == "LicenseRef-".len() {
        id.push_str("unknown");
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_expressions_pass_through() {
        assert_eq!(classify("MIT"), License::Expression("MIT".into()));
        assert_eq!(
            classify("Apache-2.0 OR MIT"),
            License::Expression("Apache-2.0 OR MIT".into())
        );
    }

    #[test]
    fn near_misses_are_canonicalized() {
        let License::Expression(expression) = classify("GPL-2.0+") else {
            panic!("GPL-2.0+ should canonicalize");
        };
        assert!(spdx::Expression::parse(&expression).is_ok(), "{expression}");
    }

    #[test]
    fn debian_gnu_names_are_mapped() {
        assert_eq!(
            classify("GPL-2+"),
            License::Expression("GPL-2.0-or-later".into())
        );
        assert_eq!(
            classify("GPL-3"),
            License::Expression("GPL-3.0-only".into())
        );
        assert_eq!(
            classify("LGPL-2.1"),
            License::Expression("LGPL-2.1-only".into())
        );
        assert_eq!(classify("GPL-9+"), License::Other("GPL-9+".into()));
    }

    #[test]
    fn unknown_text_stays_other() {
        assert_eq!(
            classify("Custom: see LICENSE file"),
            License::Other("Custom: see LICENSE file".into())
        );
        assert_eq!(
            license_ref("Custom: see LICENSE file"),
            "LicenseRef-Custom-see-LICENSE-file"
        );
        assert_eq!(license_ref("!!"), "LicenseRef-unknown");
    }

    #[test]
    fn single_ids() {
        assert!(is_single_id("MIT"));
        assert!(!is_single_id("MIT OR Apache-2.0"));
        assert!(!is_single_id("GPL-2.0+"));
        assert!(!is_single_id("mit"));
    }
}
