//! Validators run on a regex match before it becomes a finding. Each removes a class of false
//! positives that a regex alone cannot express.

use regex::bytes::Captures;

use crate::allow::{is_placeholder, looks_like_reference};

/// Standard and URL-safe base64, padding optional; stops at the first byte outside the alphabet.
pub(crate) fn decode_base64_prefix(input: &[u8], max_out: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(max_out.min(input.len()));
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &b in input {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => break,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
            if out.len() >= max_out {
                break;
            }
        }
    }
    out
}

fn secret<'h>(caps: &Captures<'h>) -> &'h [u8] {
    caps.name("secret").map_or(&[][..], |m| m.as_bytes())
}

/// `docker login` stores base64 of `user:password`; anything else under `"auth"` is unrelated.
pub(crate) fn base64_user_password(caps: &Captures<'_>) -> bool {
    let decoded = decode_base64_prefix(secret(caps), 1024);
    let Ok(text) = std::str::from_utf8(&decoded) else {
        return false;
    };
    let Some((user, password)) = text.split_once(':') else {
        return false;
    };
    !user.is_empty()
        && password.len() >= 3
        && text.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
        && !is_sample_login(user.as_bytes(), password.as_bytes())
}

pub(crate) fn base64_private_key(caps: &Captures<'_>) -> bool {
    let decoded = decode_base64_prefix(secret(caps), 64);
    memchr::memmem::find(&decoded, b"PRIVATE KEY").is_some()
}

/// A JWT's first segment is base64url JSON naming its algorithm; unsigned (`none`) tokens
/// carry no signature worth stealing.
pub(crate) fn jwt(caps: &Captures<'_>) -> bool {
    let header = decode_base64_prefix(secret(caps), 512);
    let header: Vec<u8> = header
        .iter()
        .filter(|b| !b.is_ascii_whitespace())
        .copied()
        .collect();
    if !(header.starts_with(b"{")
        && memchr::memmem::find(&header, b"\"alg\"").is_some()
        && memchr::memmem::find(&header.to_ascii_lowercase(), b"\"alg\":\"none\"").is_none())
    {
        return false;
    }
    // The payload of tutorial tokens (jwt.io's John Doe, `{"some": "payload"}`).
    let token = secret(caps);
    let payload_start = token
        .iter()
        .position(|&b| b == b'.')
        .map_or(token.len(), |i| i + 1);
    let payload = decode_base64_prefix(&token[payload_start..], 4096).to_ascii_lowercase();
    !JWT_SAMPLE_PAYLOADS
        .iter()
        .any(|m| memchr::memmem::find(&payload, m.as_bytes()).is_some())
}

const JWT_SAMPLE_PAYLOADS: &[&str] = &[
    "john doe",
    "jane doe",
    "\"1234567890\"",
    "\"some\":\"payload\"",
    "\"some\": \"payload\"",
    "example.com",
    "example.org",
    "\"foo\":\"bar\"",
    "\"hello\":\"world\"",
];

/// Words that documentation and sample configuration put where a password goes.
const URL_PLACEHOLDER_PASSWORDS: &[&[u8]] = &[
    b"password",
    b"passwd",
    b"pass",
    b"pwd",
    b"pw",
    b"secret",
    b"mypassword",
    b"mypass",
    b"yourpassword",
    b"pa55word",
    b"p4ssword",
    b"passw0rd",
    b"token",
    b"apikey",
    b"api_key",
    b"foo",
    b"bar",
    b"baz",
    b"foobar",
    b"abc",
    b"abc123",
    b"1234",
    b"12345",
    b"123456",
    b"test",
    b"testing",
    b"tester",
    b"guest",
    b"admin",
    b"root",
    b"user",
    b"username",
    b"postgres",
    b"mysql",
    b"redis",
    b"rabbitmq",
    b"mongo",
    b"sa",
    b"xyz",
    b"qwerty",
    b"letmein",
    b"none",
    b"null",
    b"empty",
    b"host",
    b"port",
    b"pass123",
    b"password123",
    b"hunter2",
    b"s3cret",
    b"s3cr3t",
    b"ham",
    b"spam",
    b"eggs",
    b"bob",
    b"alice",
];

/// User names that documentation pairs with a sample password.
const SAMPLE_USERS: &[&[u8]] = &[
    b"user",
    b"username",
    b"usr",
    b"login",
    b"me",
    b"myuser",
    b"someone",
    b"name",
    b"john",
    b"jane",
    b"johndoe",
    b"john.doe",
    b"jdoe",
    b"alice",
    b"bob",
    b"foo",
    b"dummy",
    // RFC 7617's Basic authentication example.
    b"aladdin",
];

/// Words naming a credential's role; a value containing one describes a secret rather than
/// being one (`db_password`, `123Abpassword`, `V1ServiceAccountTokenProjection`).
const ROLE_WORDS: &[&str] = &[
    "pass", "p4ss", "p@ss", "pwd", "secret", "s3cret", "s3cr3t", "token", "key",
];

/// Percent-decoded, lower-cased, with accented Latin letters folded to their base letter:
/// documentation of IRI handling spells the usual samples `üser:pässword`.
fn folded(input: &[u8]) -> Vec<u8> {
    let decoded = rempart_core::percent_decode(input);
    let Ok(text) = std::str::from_utf8(&decoded) else {
        return decoded.to_ascii_lowercase();
    };
    let mut out = Vec::with_capacity(decoded.len());
    for c in text.chars() {
        let base = match c {
            'à'..='å' | 'À'..='Å' => 'a',
            'ç' | 'Ç' => 'c',
            'è'..='ë' | 'È'..='Ë' => 'e',
            'ì'..='ï' | 'Ì'..='Ï' => 'i',
            'ñ' | 'Ñ' => 'n',
            'ò'..='ö' | 'ø' | 'Ò'..='Ö' | 'Ø' => 'o',
            'ù'..='ü' | 'Ù'..='Ü' => 'u',
            'ý' | 'ÿ' | 'Ý' => 'y',
            other => other,
        };
        let mut buffer = [0; 4];
        out.extend_from_slice(base.encode_utf8(&mut buffer).as_bytes());
    }
    out.to_ascii_lowercase()
}

/// Host names reserved for documentation and testing (RFC 2606, RFC 6761): a credential for
/// one of them cannot open anything.
fn is_documentation_host(host: &[u8]) -> bool {
    let host = host.to_ascii_lowercase();
    let host = host.strip_suffix(b".").unwrap_or(&host);
    [&b"example.com"[..], b"example.net", b"example.org"]
        .iter()
        .any(|domain| {
            host == *domain
                || host.len() > domain.len()
                    && host.ends_with(domain)
                    && host[host.len() - domain.len() - 1] == b'.'
        })
        || [&b".example"[..], b".test", b".invalid"]
            .iter()
            .any(|tld| host.ends_with(tld))
        || [&b"example"[..], b"test", b"invalid"].contains(&host)
}

/// Whether a human-chosen credential pair is a documentation sample.
fn is_sample_login(user: &[u8], password: &[u8]) -> bool {
    let user = folded(user);
    let lower = folded(password);
    // `user1`, `alice2`: numbered sample users.
    let user_stem = user
        .trim_ascii_end()
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(&user[..0], |i| &user[..=i]);
    lower == user
        || SAMPLE_USERS.contains(&user_stem)
        || URL_PLACEHOLDER_PASSWORDS.contains(&lower.as_slice())
        || SAMPLE_USERS.contains(&user.as_slice())
        || lower.iter().all(u8::is_ascii_digit)
        || looks_like_reference(password)
        || looks_like_reference(&user)
        || is_placeholder(&lower)
        || ROLE_WORDS
            .iter()
            .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some())
}

/// Passwords in URLs are short and human-chosen, so entropy cannot separate them from
/// documentation; sample values and templates are recognised instead.
pub(crate) fn url_password(caps: &Captures<'_>) -> bool {
    let user = caps.name("user").map_or(&[][..], |m| m.as_bytes());
    let host = caps.name("host").map_or(&[][..], |m| m.as_bytes());
    !is_sample_login(user, secret(caps)) && !is_documentation_host(host)
}

/// `Basic` credentials are base64 of `user:password` and get the same sample checks as URLs.
pub(crate) fn authorization_header(caps: &Captures<'_>) -> bool {
    let value = secret(caps);
    let basic = caps
        .name("scheme")
        .is_some_and(|m| m.as_bytes().eq_ignore_ascii_case(b"basic"));
    if !basic {
        return !looks_like_reference(value);
    }
    let decoded = decode_base64_prefix(value, 512);
    let Some(colon) = decoded.iter().position(|&b| b == b':') else {
        return false;
    };
    decoded.iter().all(u8::is_ascii_graphic)
        && !is_sample_login(&decoded[..colon], &decoded[colon + 1..])
}

/// Values that switch a feature rather than hold a credential (`GIT_TERMINAL_PROMPT`-style
/// flags, `DISABLE_TOKEN=true`).
const FLAG_VALUES: &[&str] = &[
    "true", "false", "yes", "no", "on", "off", "none", "null", "enabled", "disabled",
];

/// An environment entry's whole value is the candidate: any literal counts except references,
/// placeholders, paths, URLs (their own rules look inside), flags and plain numbers.
pub(crate) fn env_credential(caps: &Captures<'_>) -> bool {
    let value = secret(caps);
    let lower = value.to_ascii_lowercase();
    let text = String::from_utf8_lossy(&lower);
    !(value.len() < 4
        || looks_like_reference(value)
        || is_placeholder(value)
        || value.starts_with(b"/")
        || value.starts_with(b"./")
        || text.contains("://")
        || FLAG_VALUES.contains(&text.as_ref())
        || value.iter().all(u8::is_ascii_digit))
}

/// Identifier endings that make the assigned value something other than the secret itself.
const GENERIC_TAILS_ALLOWED: &[&str] = &[
    "", "s", "_key", "key", "-key", "_value", "value", "_str", "_string", "_b64", "_base64",
    "_hex", "_text", "_plain", "_raw", "_secret", "_token", "1", "2",
];
const GENERIC_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "api_key",
    "api-key",
    "apikey",
    "access_key",
    "access-key",
    "accesskey",
    "token",
    "private_key",
    "private-key",
    "privatekey",
];
/// Names of values that are not credentials although they contain a credential word.
const GENERIC_NAME_DENY: &[&str] = &[
    "public",
    "example",
    "sample",
    "dummy",
    "fake",
    "mock",
    "placeholder",
    "csrf",
    "xsrf",
    "next_",
    "page_",
    "pagination",
    "cursor",
    "continuation",
    "sort",
    "_id",
    "id_",
    "tokenizer",
    "_type",
    "type_",
    "hint",
    "policy",
    "min_",
    "max_",
    "next",
    "request",
    "purchase",
    "lifecycle",
    "update",
    "verification",
    "idempotency",
    "sync",
    "change",
    "error",
];
const FILE_SUFFIXES: &[&str] = &[
    ".pem", ".key", ".txt", ".json", ".yaml", ".yml", ".conf", ".crt", ".p12", ".pfx", ".env",
    ".cfg", ".ini", ".gpg", ".asc", ".jks", ".der", ".py", ".sh", ".html",
];

/// `name = value` rules: the name must end in the credential word, the value must be a literal
/// (quoted consistently, not a reference, identifier, path or file name) that mixes letters with
/// digits or symbols.
pub(crate) fn generic_assignment(caps: &Captures<'_>) -> bool {
    let value = secret(caps);
    let name = caps.name("name").map_or(String::new(), |m| {
        String::from_utf8_lossy(m.as_bytes()).to_ascii_lowercase()
    });
    let quote = caps.name("quote").map_or(&[][..], |m| m.as_bytes());
    // `Name: Type = value` (Rust, TypeScript, Python annotations): the match is a type.
    if quote.is_empty() && caps.name("typed").is_some() {
        return false;
    }
    let whole = caps.get(0).map_or(&[][..], |m| m.as_bytes());
    let after = caps
        .name("secret")
        .and_then(|s| caps.get(0).map(|w| s.end() - w.start()))
        .and_then(|i| whole.get(i).copied());

    if let Some(&q) = quote.first()
        && after != Some(q)
    {
        return false;
    }
    let Some((word_at, word)) = GENERIC_WORDS
        .iter()
        .filter_map(|w| name.rfind(w).map(|i| (i, *w)))
        .max_by_key(|(i, w)| i + w.len())
    else {
        return false;
    };
    let tail = &name[word_at + word.len()..];
    if !GENERIC_TAILS_ALLOWED.contains(&tail) || GENERIC_NAME_DENY.iter().any(|d| name.contains(d))
    {
        return false;
    }
    let text = String::from_utf8_lossy(value);
    let lower = text.to_ascii_lowercase();
    if ROLE_WORDS.iter().any(|w| lower.contains(w)) || lower.starts_with("your") {
        return false;
    }
    // An encoded sentence (`bm90IG15IHJlYWwgcGFzc3dvcmQ=`) is documentation, not key material.
    let decoded = decode_base64_prefix(value, 256);
    if decoded.len() >= 6
        && decoded.contains(&b' ')
        && decoded.iter().all(|b| b.is_ascii_graphic() || *b == b' ')
    {
        return false;
    }
    let has_letter = value.iter().any(u8::is_ascii_alphabetic);
    let has_digit = value.iter().any(u8::is_ascii_digit);
    let has_symbol = value.iter().any(|b| !b.is_ascii_alphanumeric());
    // Random keys of 16 or more characters nearly always contain a digit (97% at 20 base62
    // characters); identifiers and prose rarely do. Passwords may use symbols instead.
    let is_password = caps.name("kind").is_some();
    if !has_letter || !(has_digit || (is_password && has_symbol)) {
        return false;
    }
    let dotted_identifier = value.contains(&b'.')
        && value.split(|b| *b == b'.').all(|part| {
            !part.is_empty()
                && !part[0].is_ascii_digit()
                && part.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        });
    let path_like = value.starts_with(b"/")
        || value.starts_with(b"./")
        || value.starts_with(b"~/")
        || lower.contains("://");
    let file_like = FILE_SUFFIXES.iter().any(|s| lower.ends_with(s));
    // snake_case, kebab-case or CamelCase words without digits: an identifier or a message key.
    let wordlike = !has_digit
        && value
            .iter()
            .all(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'-' | b'.' | b':'));
    // `base64_encoded_64_byte_salt`: three or more underscore-joined parts.
    let snake_identifier = memchr::memchr_iter(b'_', value).count() >= 2
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_');
    // `projects/my-project/secrets/name`: a resource path, its parts are words.
    let resource_path = value.contains(&b'/')
        && value.split(|b| *b == b'/').any(|part| {
            part.len() >= 4 && part.iter().all(|b| b.is_ascii_lowercase() || *b == b'-')
        });
    // Generic tokens shaped like a UUID are request, resource or idempotency ids far more often
    // than credentials; UUID-shaped keys of known services have their own rules.
    let uuid = value.len() == 36
        && value.iter().enumerate().all(|(i, b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                *b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        });
    // `cancelToken: defaultToConfig2`: a name with a number at its end. Random keys have their
    // digits spread through them, not only in the last three places.
    let numbered_identifier = {
        let digits = value
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_digit())
            .count();
        (1..=3).contains(&digits)
            && value[..value.len() - digits]
                .iter()
                .all(|b| b.is_ascii_alphabetic() || *b == b'_')
    };
    // `passwd:644:root:root:Linux:`: the fields of a colon-separated record (a passwd or
    // group line, an audit tool's permission table), not a value assigned to the name.
    let colon_record = memchr::memchr_iter(b':', value).count() >= 2
        && value.split(|b| *b == b':').all(|field| {
            field
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        });
    // `super::Foundation::UNICODE_STRING`, `WIN32_ERROR`: a code path or a constant's name.
    let code_path = lower.contains("::");
    let constant_name = value.contains(&b'_')
        && value
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_');
    !(dotted_identifier
        || path_like
        || file_like
        || wordlike
        || numbered_identifier
        || snake_identifier
        || resource_path
        || uuid
        || code_path
        || constant_name
        || colon_record)
        && !looks_like_reference(value)
}
