use std::str::FromStr;

use super::{CompareResult, Invalid, check_length};

fn parse(version: &str) -> Result<pep440_rs::Version, Invalid<'_>> {
    check_length(version)?;
    pep440_rs::Version::from_str(version).map_err(|e| Invalid::new(version, e.to_string()))
}

pub(super) fn compare<'a>(a: &'a str, b: &'a str) -> CompareResult<'a> {
    Ok(parse(a)?.cmp(&parse(b)?))
}
