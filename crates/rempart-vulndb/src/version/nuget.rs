//! `NuGet` versions (`NuGetVersion`): one to four numeric parts (missing ones are 0, so `1.0` equals
//! `1.0.0.0`), then `SemVer` 2.0 pre-release labels compared case-insensitively; build metadata
//! after `+` is ignored.

use std::cmp::Ordering;

use super::{Invalid, check_length};

#[derive(Debug, Clone)]
pub(super) struct NuGetVersion {
    numbers: [u64; 4],
    labels: Vec<String>,
}

pub(super) fn parse(version: &str) -> Result<NuGetVersion, Invalid<'_>> {
    check_length(version)?;
    let trimmed = version.trim();
    let without_build = trimmed.split('+').next().unwrap_or(trimmed);
    let (core, pre) = match without_build.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (without_build, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return Err(Invalid::new(version, "expected 1 to 4 numeric parts"));
    }
    let mut numbers = [0u64; 4];
    for (slot, part) in numbers.iter_mut().zip(&parts) {
        if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(Invalid::new(version, format!("`{part}` is not a number")));
        }
        *slot = part
            .parse()
            .map_err(|_| Invalid::new(version, format!("`{part}` is too large")))?;
    }
    let labels = match pre {
        None => Vec::new(),
        Some(pre) => {
            let labels: Vec<&str> = pre.split('.').collect();
            if labels
                .iter()
                .any(|l| l.is_empty() || !l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'))
            {
                return Err(Invalid::new(version, "bad pre-release label"));
            }
            labels.into_iter().map(str::to_owned).collect()
        }
    };
    Ok(NuGetVersion { numbers, labels })
}

fn compare_labels(a: &str, b: &str) -> Ordering {
    let numeric = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    match (numeric(a), numeric(b)) {
        (true, true) => {
            let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
            a.len().cmp(&b.len()).then_with(|| a.cmp(b))
        }
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.to_ascii_lowercase().cmp(&b.to_ascii_lowercase()),
    }
}

pub(super) fn order(left: &NuGetVersion, right: &NuGetVersion) -> Ordering {
    let by_numbers = left.numbers.cmp(&right.numbers);
    if by_numbers != Ordering::Equal {
        return by_numbers;
    }
    match (left.labels.is_empty(), right.labels.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => {
            for (l, r) in left.labels.iter().zip(&right.labels) {
                let result = compare_labels(l, r);
                if result != Ordering::Equal {
                    return result;
                }
            }
            left.labels.len().cmp(&right.labels.len())
        }
    }
}
