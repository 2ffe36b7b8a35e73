use super::{Invalid, check_length};

/// Build metadata (`+build.5`) does not take part in precedence (`SemVer` 2.0 §10), although the
/// `semver` crate's `Ord` looks at it: it is dropped here.
pub(super) fn parse(version: &str) -> Result<semver::Version, Invalid<'_>> {
    check_length(version)?;
    let mut parsed =
        semver::Version::parse(version).map_err(|e| Invalid::new(version, e.to_string()))?;
    parsed.build = semver::BuildMetadata::EMPTY;
    Ok(parsed)
}
