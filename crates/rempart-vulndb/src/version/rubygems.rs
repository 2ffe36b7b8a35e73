//! `RubyGems` versions, ordered as `Gem::Version#<=>` does.
//!
//! The version is cut into runs of digits and runs of letters (`-` counts as `.pre.`), trailing
//! zeros are dropped from the numeric head and from the tail, then segments compare pairwise,
//! a missing segment counting as 0. A letter segment is older than any number, which makes
//! `1.0.a < 1.0`.

use std::cmp::Ordering;

use super::{Invalid, check_length};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Segment {
    /// Digits without leading zeros (so any size compares by length, then lexically).
    Number(String),
    Text(String),
}

impl Segment {
    fn is_zero(&self) -> bool {
        matches!(self, Segment::Number(n) if n.is_empty())
    }
}

fn compare_segments(a: &Segment, b: &Segment) -> Ordering {
    match (a, b) {
        (Segment::Number(x), Segment::Number(y)) => x.len().cmp(&y.len()).then_with(|| x.cmp(y)),
        (Segment::Text(x), Segment::Text(y)) => x.cmp(y),
        (Segment::Text(_), Segment::Number(_)) => Ordering::Less,
        (Segment::Number(_), Segment::Text(_)) => Ordering::Greater,
    }
}

/// Accepts what `Gem::Version.correct?` accepts: `1`, `1.2.a`, `1.0-rc1`, surrounding spaces.
fn is_correct(version: &str) -> bool {
    let mut parts = version.splitn(2, '-');
    let head = parts.next().unwrap_or("");
    let mut head_parts = head.split('.');
    let first = head_parts.next().unwrap_or("");
    if first.is_empty() || !first.bytes().all(|c| c.is_ascii_digit()) {
        return false;
    }
    if !head_parts.all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_alphanumeric())) {
        return false;
    }
    match parts.next() {
        None => true,
        Some(tail) => tail
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')),
    }
}

fn canonical_segments(version: &str) -> Result<Vec<Segment>, Invalid<'_>> {
    check_length(version)?;
    let trimmed = version.trim();
    if !is_correct(trimmed) {
        return Err(Invalid::new(version, "not a RubyGems version"));
    }
    let mut segments = Vec::new();
    let bytes = trimmed.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        if bytes[i].is_ascii_digit() {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            segments.push(Segment::Number(
                trimmed[start..i].trim_start_matches('0').to_owned(),
            ));
        } else if bytes[i].is_ascii_alphabetic() {
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            segments.push(Segment::Text(trimmed[start..i].to_owned()));
        } else {
            // `-` means `.pre.`: a `pre` segment sorts like any other letter run.
            if bytes[i] == b'-' {
                segments.push(Segment::Text("pre".to_owned()));
            }
            i += 1;
        }
    }
    let split = segments
        .iter()
        .position(|s| matches!(s, Segment::Text(_)))
        .unwrap_or(segments.len());
    let mut tail = segments.split_off(split);
    while segments.last().is_some_and(Segment::is_zero) {
        segments.pop();
    }
    while tail.last().is_some_and(Segment::is_zero) {
        tail.pop();
    }
    segments.extend(tail);
    Ok(segments)
}

pub(super) fn parse(version: &str) -> Result<Vec<Segment>, Invalid<'_>> {
    canonical_segments(version)
}

pub(super) fn order(left: &[Segment], right: &[Segment]) -> Ordering {
    let zero = Segment::Number(String::new());
    for i in 0..left.len().max(right.len()) {
        let l = left.get(i).unwrap_or(&zero);
        let r = right.get(i).unwrap_or(&zero);
        match compare_segments(l, r) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    Ordering::Equal
}
