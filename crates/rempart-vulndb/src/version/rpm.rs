use super::{CompareResult, Invalid, check_length};

/// RPM accepts almost any string; reject only what cannot be a version at all, so garbage from a
/// feed is reported rather than silently ordered.
fn check(version: &str) -> Result<(), Invalid<'_>> {
    check_length(version)?;
    if version.chars().any(char::is_whitespace) {
        return Err(Invalid::new(version, "contains whitespace"));
    }
    Ok(())
}

pub(super) fn compare<'a>(a: &'a str, b: &'a str) -> CompareResult<'a> {
    check(a)?;
    check(b)?;
    Ok(rpm_version::rpm_evr_compare(a, b))
}
