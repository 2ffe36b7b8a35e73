//! Go module versions: `v1.2.3`, pseudo-versions (`v0.0.0-20210101000000-abcdef123456`, which are
//! `SemVer` pre-releases and order correctly as such), `+incompatible`. OSV Go records spell versions
//! without the `v`; the standard library is versioned `go1.21.3`, `1.21` or `1.21rc2`.

use super::{Invalid, check_length};

pub(super) fn parse(version: &str) -> Result<semver::Version, Invalid<'_>> {
    check_length(version)?;
    let bare = version
        .strip_prefix("go")
        .or_else(|| version.strip_prefix('v'))
        .unwrap_or(version);
    // `1.21rc2`, `1.21.0rc1`, `1.9beta2`: the toolchain's pre-release spelling.
    let (core, pre) = match bare.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) if !bare[..i].contains('-') && !bare[..i].contains('+') => (&bare[..i], &bare[i..]),
        _ => (bare, ""),
    };
    let mut core = core.to_owned();
    let (numeric, rest) = match core.find(['-', '+']) {
        Some(i) => (core[..i].to_owned(), core[i..].to_owned()),
        None => (core.clone(), String::new()),
    };
    let dots = numeric.matches('.').count();
    if dots < 2 && rest.is_empty() {
        core = numeric + &".0".repeat(2 - dots);
    }
    let text = if pre.is_empty() {
        core
    } else {
        format!("{core}-{pre}")
    };
    let mut parsed =
        semver::Version::parse(&text).map_err(|e| Invalid::new(version, e.to_string()))?;
    parsed.build = semver::BuildMetadata::EMPTY;
    Ok(parsed)
}
