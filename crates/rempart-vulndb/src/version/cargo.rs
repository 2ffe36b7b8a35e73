use super::{CompareResult, Invalid, check_length};

pub(super) fn parse(version: &str) -> Result<semver::Version, Invalid<'_>> {
    check_length(version)?;
    semver::Version::parse(version).map_err(|e| Invalid::new(version, e.to_string()))
}

/// Build metadata (`+build.5`) does not take part in precedence (SemVer 2.0 §10), although the
/// `semver` crate's `Ord` looks at it.
pub(super) fn compare<'a>(a: &'a str, b: &'a str) -> CompareResult<'a> {
    Ok(parse(a)?.cmp_precedence(&parse(b)?))
}
