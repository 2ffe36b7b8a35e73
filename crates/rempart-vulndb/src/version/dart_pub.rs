//! Pub (Dart and Flutter) versions, ordered as `pub_semver`'s `Version.compareTo` orders them.
//!
//! The grammar is `SemVer`'s (`MAJOR.MINOR.PATCH`, an optional `-pre.release` and an optional
//! `+build`), read a little more loosely, and the order differs from `SemVer` 2.0 in one place:
//! **build metadata orders**. A version without build metadata comes before the same version
//! with it (`1.0.0 < 1.0.0+1`), and builds compare like pre-releases (`1.0.0+2 < 1.0.0+10`),
//! because Dart and Flutter apps count their builds there (`version: 1.2.0+42` in a pubspec).
//! The rest is as in `SemVer`: a pre-release comes before its release; identifiers compare
//! one by one, numbers numerically and before words, words by their characters (case-sensitive,
//! `B < a`); a shorter list that is a prefix of a longer one comes first.
//!
//! Where `pub_semver` is looser than `SemVer`: numbers may have leading zeros (`01` is 1, so
//! `1.0.0-01` equals `1.0.0-1`), and an identifier too long for a 64-bit integer is compared as
//! a word, as Dart's `int.tryParse` gives up on it.

use std::cmp::Ordering;

use super::{Invalid, check_length};

/// A version read under `pub_semver`'s rules.
#[derive(Debug, Clone)]
pub(super) struct PubVersion {
    release: [u64; 3],
    pre_release: Vec<Identifier>,
    build: Vec<Identifier>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Identifier {
    Number(u64),
    Word(String),
}

impl Ord for Identifier {
    fn cmp(&self, other: &Identifier) -> Ordering {
        match (self, other) {
            (Identifier::Number(a), Identifier::Number(b)) => a.cmp(b),
            (Identifier::Number(_), Identifier::Word(_)) => Ordering::Less,
            (Identifier::Word(_), Identifier::Number(_)) => Ordering::Greater,
            (Identifier::Word(a), Identifier::Word(b)) => a.as_bytes().cmp(b.as_bytes()),
        }
    }
}

impl PartialOrd for Identifier {
    fn partial_cmp(&self, other: &Identifier) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Dart's `int.tryParse` reads at most a signed 64-bit integer.
const DART_INT_MAX: u64 = i64::MAX as u64;

pub(super) fn parse(version: &str) -> Result<PubVersion, Invalid<'_>> {
    check_length(version)?;
    let (rest, build) = match version.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (version, None),
    };
    let (core, pre_release) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };
    let mut numbers = core.split('.');
    let mut release = [0u64; 3];
    for slot in &mut release {
        let part = numbers
            .next()
            .ok_or_else(|| Invalid::new(version, "expected MAJOR.MINOR.PATCH"))?;
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::new(
                version,
                format!("`{part}` is not a version number"),
            ));
        }
        *slot = part
            .parse()
            .ok()
            .filter(|n| *n <= DART_INT_MAX)
            .ok_or_else(|| Invalid::new(version, format!("`{part}` is too large")))?;
    }
    if numbers.next().is_some() {
        return Err(Invalid::new(version, "more than three release numbers"));
    }
    Ok(PubVersion {
        release,
        pre_release: identifiers(version, pre_release, "pre-release")?,
        build: identifiers(version, build, "build")?,
    })
}

/// The dot-separated identifiers of a pre-release or build part (`[0-9A-Za-z-]+` each, as
/// `pub_semver`'s grammar has them; a `-` inside the pre-release is part of an identifier).
fn identifiers<'a>(
    version: &'a str,
    part: Option<&str>,
    what: &str,
) -> Result<Vec<Identifier>, Invalid<'a>> {
    let Some(part) = part else {
        return Ok(Vec::new());
    };
    part.split('.')
        .map(|identifier| {
            if identifier.is_empty()
                || !identifier
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return Err(Invalid::new(
                    version,
                    format!("invalid {what} identifier `{identifier}`"),
                ));
            }
            let number = identifier
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| identifier.parse::<u64>().ok())
                .flatten()
                .filter(|n| *n <= DART_INT_MAX);
            Ok(number.map_or_else(
                || Identifier::Word(identifier.to_owned()),
                Identifier::Number,
            ))
        })
        .collect()
}

/// `pub_semver`'s `compareTo`.
pub(super) fn order(a: &PubVersion, b: &PubVersion) -> Ordering {
    a.release
        .cmp(&b.release)
        // A release comes after its pre-releases.
        .then_with(|| a.pre_release.is_empty().cmp(&b.pre_release.is_empty()))
        .then_with(|| a.pre_release.cmp(&b.pre_release))
        // Without build metadata comes before with it; then builds compare like pre-releases.
        .then_with(|| a.build.cmp(&b.build))
}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering;

    use super::{order, parse};

    fn cmp(a: &str, b: &str) -> Ordering {
        let read = |v| parse(v).unwrap_or_else(|invalid| panic!("{v}: {}", invalid.reason));
        order(&read(a), &read(b))
    }

    #[test]
    fn builds_order_after_the_plain_version() {
        assert_eq!(cmp("1.0.0+1", "1.0.0"), Ordering::Greater);
        assert_eq!(cmp("1.0.0+2", "1.0.0+10"), Ordering::Less);
        assert_eq!(cmp("1.0.0+1", "1.0.0+a"), Ordering::Less);
        assert_eq!(cmp("1.0.0+1", "1.0.1"), Ordering::Less);
        assert_eq!(cmp("1.0.0-beta+5", "1.0.0"), Ordering::Less);
    }

    #[test]
    fn pre_releases_come_first() {
        assert_eq!(cmp("1.0.0-alpha", "1.0.0"), Ordering::Less);
        assert_eq!(cmp("1.0.0-alpha", "1.0.0-alpha.1"), Ordering::Less);
        assert_eq!(cmp("1.0.0-2", "1.0.0-10"), Ordering::Less);
        assert_eq!(cmp("1.0.0-9", "1.0.0-a"), Ordering::Less);
        assert_eq!(cmp("1.0.0-01", "1.0.0-1"), Ordering::Equal);
        assert_eq!(cmp("1.0.0-B", "1.0.0-a"), Ordering::Less);
    }

    #[test]
    fn malformed_versions_are_refused() {
        for bad in [
            "1.0",
            "1.0.0.0",
            "v1.0.0",
            "1.0.0-",
            "1.0.0+",
            "1..0",
            "1.0.0-a_b",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
