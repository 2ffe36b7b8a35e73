use super::{Invalid, check_length};

pub(super) fn parse(version: &str) -> Result<nodejs_semver::Version, Invalid<'_>> {
    check_length(version)?;
    nodejs_semver::Version::parse(version).map_err(|e| Invalid::new(version, e.to_string()))
}
