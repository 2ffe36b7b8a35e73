//! Small text helpers shared by the human-readable writers.

/// Number of terminal columns `text` takes. Counts characters: report text is overwhelmingly
/// ASCII, and a wide-character table is not worth a dependency here.
pub(crate) fn width(text: &str) -> usize {
    text.chars().count()
}

/// `text` cut to at most `max` columns, ending in `…` when it was cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    let trimmed = cut.trim_end().len();
    cut.truncate(trimmed);
    cut.push('…');
    cut
}

/// `text` cut from the left to at most `max` columns, starting with `…` when it was cut: for
/// paths, whose end (the file) says more than their start.
pub(crate) fn truncate_left(text: &str, max: usize) -> String {
    let count = width(text);
    if count <= max {
        return text.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut cut = String::from("…");
    cut.extend(text.chars().skip(count - (max - 1)));
    cut
}

/// A path cut in the middle to at most `max` columns, keeping its first directories and as much
/// of its end as fits, cut at a `/` where possible (`/usr/…/requests-2.28.1.dist-info/METADATA`):
/// the file and its package directory say the most. Falls back to cutting from the left when
/// the file name alone is too long.
pub(crate) fn truncate_middle(text: &str, max: usize) -> String {
    let count = width(text);
    if count <= max {
        return text.to_owned();
    }
    let tail_width = text.rfind('/').map_or(count, |at| width(&text[at..]));
    if max < 8 || tail_width + 4 > max {
        return truncate_left(text, max);
    }
    let budget = max - 1;
    let head: String = text.chars().take(budget / 4).collect();
    let start = match head.rfind('/') {
        Some(at) if at > 0 => head[..=at].to_owned(),
        _ => head,
    };
    let end_budget = budget - width(&start);
    let mut end: String = text.chars().skip(count - end_budget).collect();
    // Start the end at a directory boundary, unless that drops a third of it.
    if let Some(at) = end.find('/')
        && width(&end[..at]) < end_budget / 3
    {
        end = end[at..].to_owned();
    }
    format!("{start}…{end}")
}

/// Splits `text` into lines of at most `max` columns at spaces (words longer than a line are
/// cut into pieces).
pub(crate) fn wrap(text: &str, max: usize) -> Vec<String> {
    let max = max.max(10);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let mut word: String = word.to_owned();
        loop {
            let needed = width(&word) + usize::from(!line.is_empty());
            if width(&line) + needed <= max {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            // A word longer than a line.
            let head: String = word.chars().take(max).collect();
            word = word.chars().skip(max).collect();
            lines.push(head);
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Replaces control characters (newlines, escapes) so untrusted text from an image cannot break
/// the layout or inject terminal escape sequences.
pub(crate) fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A name-based UUID (RFC 9562 layout, version 5 bits) from SHA-256 of `name`: the same input
/// always gives the same id, which keeps SBOM serial numbers reproducible.
pub(crate) fn name_uuid(name: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex_lower(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// `YYYY-MM-DDTHH:MM:SSZ`, optionally with fractional seconds: the RFC 3339 subset every
/// output format accepts (SPDX wants UTC with `Z`).
pub(crate) fn is_utc_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    let Some(body) = text.strip_suffix('Z') else {
        return false;
    };
    if body.len() < 19 || !body.is_char_boundary(19) {
        return false;
    }
    let (main, fraction) = body.split_at(19);
    let shape_ok = main.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        10 => b == b'T',
        13 | 16 => b == b':',
        _ => b.is_ascii_digit(),
    });
    let fraction_ok = fraction.is_empty()
        || (fraction.len() > 1
            && fraction.starts_with('.')
            && fraction[1..].bytes().all(|b| b.is_ascii_digit()));
    let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().unwrap_or(u32::MAX);
    shape_ok
        && fraction_ok
        && bytes.len() >= 20
        && (1..=12).contains(&number(5..7))
        && (1..=31).contains(&number(8..10))
        && number(11..13) <= 23
        && number(14..16) <= 59
        && number(17..19) <= 60
}

/// Hands out unique identifiers: the stem itself the first time, then `stem{sep}2`,
/// `stem{sep}3`… Remembers the next counter per stem, so many duplicates stay linear.
#[derive(Default)]
pub(crate) struct UniqueIds {
    used: std::collections::HashSet<String>,
    next: std::collections::HashMap<String, usize>,
}

impl UniqueIds {
    pub(crate) fn is_used(&self, id: &str) -> bool {
        self.used.contains(id)
    }

    pub(crate) fn claim(&mut self, stem: String, separator: &str) -> String {
        if self.used.insert(stem.clone()) {
            return stem;
        }
        let counter = self.next.entry(stem.clone()).or_insert(2);
        loop {
            let candidate = format!("{stem}{separator}{counter}");
            *counter += 1;
            if self.used.insert(candidate.clone()) {
                return candidate;
            }
        }
    }
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}

/// Appends `%XX` for `byte`.
pub(crate) fn push_percent(encoded: &mut String, byte: u8) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    encoded.push('%');
    encoded.push(char::from(DIGITS[usize::from(byte >> 4)]));
    encoded.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
}

/// True for the canonical lowercase `8-4-4-4-12` UUID text.
pub(crate) fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(group, len)| {
            group.len() == len
                && group
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// Percent-encodes everything but the characters a URI path may hold as they are, so image paths
/// with spaces or `%` become valid URI references. `:` is encoded too: in a first segment it
/// would turn `a:b` into a URI with scheme `a`.
pub(crate) fn uri_path(path: &str) -> String {
    let mut encoded = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=@/".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            push_percent(&mut encoded, byte);
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_marks_the_cut() {
        assert_eq!(truncate("abcdef", 6), "abcdef");
        assert_eq!(truncate("abcdefg", 6), "abcde…");
        assert_eq!(truncate("abc  defg", 6), "abc…");
        assert_eq!(truncate("héllo wörld", 5), "héll…");
    }

    #[test]
    fn name_uuid_is_stable_and_well_formed() {
        let id = name_uuid("sha256:abc");
        assert_eq!(id, name_uuid("sha256:abc"));
        assert_ne!(id, name_uuid("sha256:abd"));
        assert!(is_uuid(&id), "{id}");
        assert_eq!(&id[14..15], "5");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
        assert!(!is_uuid("not-a-uuid"));
    }

    #[test]
    fn uri_path_escapes_only_what_it_must() {
        assert_eq!(
            uri_path("opt/app.jar!/a b%.class"),
            "opt/app.jar!/a%20b%25.class"
        );
        assert_eq!(uri_path("usr/lib/é"), "usr/lib/%C3%A9");
        assert_eq!(uri_path("a:b"), "a%3Ab");
    }

    #[test]
    fn truncate_left_keeps_the_end() {
        assert_eq!(truncate_left("/a/b/c", 6), "/a/b/c");
        assert_eq!(truncate_left("/usr/lib/x/METADATA", 12), "…/x/METADATA");
    }

    #[test]
    fn unique_ids_count_up_per_stem() {
        let mut ids = UniqueIds::default();
        assert_eq!(ids.claim("a".into(), "-"), "a");
        assert_eq!(ids.claim("a-2".into(), "-"), "a-2");
        assert_eq!(ids.claim("a".into(), "-"), "a-3");
        assert_eq!(ids.claim("a".into(), "-"), "a-4");
        assert_eq!(ids.claim("b".into(), "-"), "b");
    }

    #[test]
    fn utc_timestamps() {
        assert!(is_utc_timestamp("2024-06-12T08:30:00Z"));
        assert!(is_utc_timestamp("2024-06-12T08:30:00.123Z"));
        assert!(!is_utc_timestamp("2024-06-12T08:30:00+02:00"));
        assert!(!is_utc_timestamp("2024-06-12 08:30:00Z"));
        assert!(!is_utc_timestamp("2024-13-12T08:30:00Z"));
        assert!(!is_utc_timestamp("2024-06-12T08:30:00.Z"));
        assert!(!is_utc_timestamp("yesterday"));
        assert!(!is_utc_timestamp("2024-06-12T08:30:0éZ"));
    }

    #[test]
    fn one_line_drops_escapes() {
        assert_eq!(one_line("a\nb\u{1b}[31m"), "a b [31m");
    }
}
