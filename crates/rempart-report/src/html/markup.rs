//! Escaping and the page's security policy. Every text in a report may come from the image
//! (file names, titles, history lines), so nothing reaches the page unescaped, and the page's
//! Content Security Policy lets only its own style and script run, by hash.

use sha2::{Digest, Sha256};

/// Escapes text for element content and double-quoted attribute values. Control characters
/// become spaces, as in the terminal report: a NUL or an escape has no business in a page.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c if c.is_control() => escaped.push(' '),
            c => escaped.push(c),
        }
    }
    escaped
}

/// The URL when a link to it is safe to offer: plain `http` and `https` only, since any other
/// scheme (`javascript:`, `data:`) could run code or show forged content in the report's page.
/// Whitespace and control characters are refused too: browsers strip some of them, and a
/// link's target must be what the check saw.
pub(super) fn safe_link(url: &str) -> Option<&str> {
    let rest = strip_scheme(url, "https://").or_else(|| strip_scheme(url, "http://"))?;
    let clean = !url.chars().any(|c| c.is_whitespace() || c.is_control());
    (clean && !rest.is_empty()).then_some(url)
}

/// What follows `scheme` at the start of `url`, the scheme compared without case as browsers do.
fn strip_scheme<'a>(url: &'a str, scheme: &str) -> Option<&'a str> {
    let head = url.get(..scheme.len())?;
    head.eq_ignore_ascii_case(scheme)
        .then(|| &url[scheme.len()..])
}

/// The CSP source expression allowing exactly `text` as an inline style or script.
pub(crate) fn csp_hash(text: &str) -> String {
    format!("'sha256-{}'", base64(&Sha256::digest(text.as_bytes())))
}

/// Standard base64 with padding (RFC 4648), the encoding CSP hashes are written in.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut encoded = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let group = chunk.iter().enumerate().fold(0usize, |group, (i, &byte)| {
            group | usize::from(byte) << (16 - 8 * i)
        });
        for position in 0..4 {
            if position <= chunk.len() {
                let index = (group >> (18 - 6 * position)) & 0x3f;
                encoded.push(char::from(ALPHABET[index]));
            } else {
                encoded.push('=');
            }
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_leaves_no_markup() {
        assert_eq!(
            escape(r#"<script>alert("x")&'</script>"#),
            "&lt;script&gt;alert(&quot;x&quot;)&amp;&#39;&lt;/script&gt;"
        );
        assert_eq!(escape("a\u{0}b\u{1b}c\nd"), "a b c d");
    }

    #[test]
    fn only_web_links_are_offered() {
        assert_eq!(
            safe_link("https://osv.dev/CVE-2024-1"),
            Some("https://osv.dev/CVE-2024-1")
        );
        assert!(safe_link("HTTP://example.org/").is_some());
        for refused in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " https://example.org/",
            "java\tscript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "https://",
            "//example.org/",
            "https://example.org/\u{0}",
            "",
        ] {
            assert_eq!(safe_link(refused), None, "{refused:?}");
        }
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn csp_hash_is_the_sha256_of_the_text() {
        // `printf 'alert(1)' | openssl dgst -sha256 -binary | base64`
        assert_eq!(
            csp_hash("alert(1)"),
            "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
        );
    }
}
