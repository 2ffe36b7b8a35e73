//! Composer (Packagist) versions: normalized as Composer's `VersionParser::normalize` does
//! (`v1.2` → `1.2.0.0`, `1.0-b2` → `1.0.0.0-beta2`), then ordered by PHP's `version_compare`,
//! which is what Composer's constraint checks call.

use std::cmp::Ordering;

use super::{Invalid, check_length};

/// Rank of a non-numeric part in PHP's `version_compare`, matched by prefix as PHP does.
/// Unknown words rank below `dev`.
fn special_rank(part: &str) -> i32 {
    const FORMS: [(&str, i32); 10] = [
        ("dev", 0),
        ("alpha", 1),
        ("a", 1),
        ("beta", 2),
        ("b", 2),
        ("RC", 3),
        ("rc", 3),
        ("#", 4),
        ("pl", 5),
        ("p", 5),
    ];
    FORMS
        .iter()
        .find(|(name, _)| part.starts_with(name))
        .map_or(-1, |(_, rank)| *rank)
}

fn expand_stability(word: &str) -> &'static str {
    match word.to_ascii_lowercase().as_str() {
        "a" | "alpha" => "alpha",
        "b" | "beta" => "beta",
        "p" | "pl" | "patch" => "patch",
        "rc" => "RC",
        "dev" => "dev",
        _ => "",
    }
}

/// Composer's normal form of a version, or an error for branch names (`dev-main`) and anything
/// else it cannot order.
fn normalize(version: &str) -> Result<String, Invalid<'_>> {
    check_length(version)?;
    let mut text = version.trim();
    if let Some(i) = text.find('+') {
        text = &text[..i];
    }
    // `get`: the fourth byte may fall inside a multi-byte character.
    if text
        .get(..4)
        .is_some_and(|head| head.eq_ignore_ascii_case("dev-"))
    {
        return Err(Invalid::new(version, "branch versions have no order"));
    }
    let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
    let digits_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let numeric = text[..digits_end].trim_end_matches('.');
    let parts: Vec<&str> = numeric.split('.').collect();
    if numeric.is_empty() || parts.len() > 4 || parts.iter().any(|p| p.is_empty() || p.len() > 10) {
        return Err(Invalid::new(version, "not a Composer version"));
    }
    let mut normal = parts.join(".");
    for _ in parts.len()..4 {
        normal.push_str(".0");
    }
    let modifier = text[numeric.len()..].trim_start_matches(['.', '-', '_']);
    if modifier.is_empty() {
        return Ok(normal);
    }
    let word_end = modifier
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(modifier.len());
    let word = &modifier[..word_end];
    let mut rest = &modifier[word_end..];
    if word.eq_ignore_ascii_case("stable") {
        return if rest.is_empty() {
            Ok(normal)
        } else {
            Err(Invalid::new(version, "text after `stable`"))
        };
    }
    let stability = expand_stability(word);
    if stability.is_empty() {
        return Err(Invalid::new(version, format!("unknown stability `{word}`")));
    }
    normal.push('-');
    normal.push_str(stability);
    if stability != "dev" {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
            .unwrap_or(rest.len());
        let number = rest[..number_end].trim_start_matches(['.', '-']);
        let (number, dev) = match number.strip_suffix(['.', '-']) {
            Some(n) => (n, &rest[number_end..]),
            None => (number, &rest[number_end..]),
        };
        normal.push_str(number);
        rest = dev.trim_start_matches(['.', '-']);
        if rest.eq_ignore_ascii_case("dev") {
            normal.push_str("-dev");
            rest = "";
        }
    }
    if !rest.is_empty() {
        return Err(Invalid::new(version, format!("unexpected `{rest}`")));
    }
    Ok(normal)
}

/// PHP's canonical parts: runs of digits and runs of letters; anything else separates.
fn php_parts(version: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let bytes = version.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        if bytes[i].is_ascii_digit() {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
        } else if bytes[i].is_ascii_alphabetic() {
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
        } else {
            i += 1;
            continue;
        }
        parts.push(&version[start..i]);
    }
    parts
}

fn is_number(part: &str) -> bool {
    part.as_bytes()[0].is_ascii_digit()
}

fn php_version_compare(a: &str, b: &str) -> Ordering {
    let (left, right) = (php_parts(a), php_parts(b));
    for (l, r) in left.iter().zip(&right) {
        let result = match (is_number(l), is_number(r)) {
            (true, true) => {
                let (l, r) = (l.trim_start_matches('0'), r.trim_start_matches('0'));
                l.len().cmp(&r.len()).then_with(|| l.cmp(r))
            }
            (false, false) => special_rank(l).cmp(&special_rank(r)),
            (true, false) => special_rank("#").cmp(&special_rank(r)),
            (false, true) => special_rank(l).cmp(&special_rank("#")),
        };
        if result != Ordering::Equal {
            return result;
        }
    }
    let common = left.len().min(right.len());
    match (left.get(common), right.get(common)) {
        (Some(l), _) if is_number(l) => Ordering::Greater,
        (Some(l), _) => special_rank(l).cmp(&special_rank("#")),
        (None, Some(r)) if is_number(r) => Ordering::Less,
        (None, Some(r)) => special_rank("#").cmp(&special_rank(r)),
        (None, None) => Ordering::Equal,
    }
}

pub(super) fn parse(version: &str) -> Result<String, Invalid<'_>> {
    normalize(version)
}

pub(super) fn order(a: &str, b: &str) -> Ordering {
    php_version_compare(a, b)
}
