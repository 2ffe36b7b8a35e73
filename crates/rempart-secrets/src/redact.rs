/// Longest run of `*` written for the hidden part: the mask must not reveal the secret's length
/// in full, and long keys would otherwise fill a report line.
const MAX_MASK: usize = 20;

/// Keeps the first 4 characters of a secret (enough to tell `ghp_` from `AKIA`) and masks the
/// rest. Short secrets keep a quarter at most, so an 8-character password shows 2.
pub(crate) fn redact(secret: &[u8]) -> String {
    let text = String::from_utf8_lossy(secret);
    let chars: Vec<char> = text.chars().collect();
    let visible = if chars.len() >= 16 {
        4
    } else {
        chars.len() / 4
    };
    let mut out: String = chars[..visible].iter().collect();
    let hidden = (chars.len() - visible).clamp(1, MAX_MASK);
    out.extend(std::iter::repeat_n('*', hidden));
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn keeps_four_and_caps_mask() {
        let secret = format!("{}{}", "ghp_", "a1B2".repeat(9));
        let r = redact(secret.as_bytes());
        assert_eq!(r, format!("ghp_{}", "*".repeat(20)));
        assert!(!r.contains("a1B2"));
    }

    #[test]
    fn short_secret_shows_less() {
        assert_eq!(redact(b"s3cr3tpw"), "s3******");
        assert_eq!(redact(b"abc"), "***");
    }
}
