use std::str::FromStr;

use super::{Invalid, check_length};

pub(super) fn parse(version: &str) -> Result<pep440_rs::Version, Invalid<'_>> {
    check_length(version)?;
    pep440_rs::Version::from_str(version).map_err(|e| Invalid::new(version, e.to_string()))
}
