use std::str::FromStr;

use super::{Invalid, check_length};

pub(super) fn parse(version: &str) -> Result<debversion::Version, Invalid<'_>> {
    check_length(version)?;
    debversion::Version::from_str(version).map_err(|e| Invalid::new(version, e.to_string()))
}
