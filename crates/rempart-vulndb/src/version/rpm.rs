use super::{Invalid, check_length};

/// RPM accepts almost any string; reject only what cannot be a version at all, so garbage from a
/// feed is reported rather than silently ordered.
fn check(version: &str) -> Result<(), Invalid<'_>> {
    check_length(version)?;
    if version.chars().any(char::is_whitespace) {
        return Err(Invalid::new(version, "contains whitespace"));
    }
    Ok(())
}

pub(super) fn parse(version: &str) -> Result<String, Invalid<'_>> {
    check(version)?;
    Ok(version.to_owned())
}

pub(super) fn order(a: &str, b: &str) -> std::cmp::Ordering {
    rpm_version::rpm_evr_compare(a, b)
}
