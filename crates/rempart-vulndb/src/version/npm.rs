use super::{CompareResult, Invalid, check_length};

fn parse(version: &str) -> Result<nodejs_semver::Version, Invalid<'_>> {
    check_length(version)?;
    nodejs_semver::Version::parse(version).map_err(|e| Invalid::new(version, e.to_string()))
}

pub(super) fn compare<'a>(a: &'a str, b: &'a str) -> CompareResult<'a> {
    Ok(parse(a)?.cmp(&parse(b)?))
}
