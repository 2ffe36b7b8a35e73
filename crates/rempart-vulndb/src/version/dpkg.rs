use std::str::FromStr;

use super::{CompareResult, Invalid, check_length};

fn parse(version: &str) -> Result<debversion::Version, Invalid<'_>> {
    check_length(version)?;
    debversion::Version::from_str(version).map_err(|e| Invalid::new(version, e.to_string()))
}

pub(super) fn compare<'a>(a: &'a str, b: &'a str) -> CompareResult<'a> {
    let (a, b) = (parse(a)?, parse(b)?);
    Ok(a.cmp(&b))
}

