//! Small byte helpers several crates need the same way.

/// `%XX` sequences (two hex digits) decoded to their byte; anything else, a lone `%` included,
/// kept as it is. Used where one value may be written encoded or not: URL credentials, purls,
/// Go package paths.
pub fn percent_decode(input: &[u8]) -> Vec<u8> {
    let hex = |byte: u8| char::from(byte).to_digit(16);
    let mut decoded = Vec::with_capacity(input.len());
    let mut index = 0;
    while index < input.len() {
        if input[index] == b'%'
            && let Some(&[high, low]) = input.get(index + 1..index + 3)
            && let (Some(high), Some(low)) = (hex(high), hex(low))
        {
            decoded.push(u8::try_from(high * 16 + low).expect("two hex digits make a byte"));
            index += 3;
        } else {
            decoded.push(input[index]);
            index += 1;
        }
    }
    decoded
}

/// FNV-1a, 64-bit, over `parts` one after the other: stable across Rust releases (unlike
/// `DefaultHasher`), which cache keys and stored hashes need.
pub fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in parts.iter().copied().flatten() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// `90s`, `10m`, `1h30m`, `500ms`, or a plain number of seconds.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    use std::time::Duration;
    let invalid = || format!("`{text}` is not a duration (for example 90s, 10m, 1h30m)");
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    if rest.is_empty() {
        return Err(invalid());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(invalid)?;
        let number: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let part = match &rest[..unit_end] {
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            "m" => Duration::from_secs(number.saturating_mul(60)),
            "h" => Duration::from_secs(number.saturating_mul(3600)),
            _ => return Err(invalid()),
        };
        total = total.saturating_add(part);
        rest = &rest[unit_end..];
    }
    Ok(total)
}

/// An error and its causes on one line. Clients' own messages ("error sending request", "db
/// error") often say what failed only together with their sources; a cause whose text is
/// already shown is not repeated.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let shown = cause.to_string();
        if !text.contains(&shown) {
            text.push_str(": ");
            text.push_str(&shown);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_and_hashing() {
        assert_eq!(percent_decode(b"1%3A2.3-4"), b"1:2.3-4");
        assert_eq!(percent_decode(b"p%C3%A4ss"), "päss".as_bytes());
        assert_eq!(percent_decode(b"100% %zz %+1 %4"), b"100% %zz %+1 %4");
        // The published FNV-1a test vector, and parts hash as their concatenation.
        assert_eq!(fnv1a(&[b"a"]), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(&[b"ab", b"c"]), fnv1a(&[b"abc"]));
    }
}
