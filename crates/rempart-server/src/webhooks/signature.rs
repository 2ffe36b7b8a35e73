//! The signature of a delivery, as the Standard Webhooks specification defines it: HMAC-SHA256
//! (ring's) over `msg_id.timestamp.body`, base64, after the scheme's version `v1,`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Below this, a key is too easy to guess.
const MIN_KEY_BYTES: usize = 16;

/// The HMAC key of a secret: the bytes after `whsec_` base64-decoded (the specification's
/// format, what its libraries generate), or else the secret's own bytes.
pub(super) fn key(secret: &str) -> Result<Vec<u8>, String> {
    if secret.is_empty() {
        return Err("is empty".into());
    }
    let key = match secret.strip_prefix("whsec_") {
        Some(encoded) => STANDARD
            .decode(encoded)
            .map_err(|e| format!("is not base64 after `whsec_`: {e}"))?,
        None => secret.as_bytes().to_vec(),
    };
    if key.len() < MIN_KEY_BYTES {
        return Err(format!(
            "is shorter than {MIN_KEY_BYTES} bytes: use 32 random bytes (`openssl rand -base64 32`)"
        ));
    }
    Ok(key)
}

/// The `webhook-signature` header's value.
pub(super) fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    let mut context = ring::hmac::Context::with_key(&key);
    context.update(id.as_bytes());
    context.update(b".");
    context.update(timestamp.to_string().as_bytes());
    context.update(b".");
    context.update(body);
    format!("v1,{}", STANDARD.encode(context.sign().as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specification_example_signs_as_published() {
        // The example in the Standard Webhooks specification (its "Signature scheme" section).
        let key = key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn short_or_malformed_secrets_are_refused() {
        assert!(key("").unwrap_err().contains("empty"));
        assert!(key("short").unwrap_err().contains("shorter than 16"));
        assert!(key("whsec_!!!").unwrap_err().contains("base64"));
        assert_eq!(
            key("a-long-enough-plain-secret").unwrap(),
            b"a-long-enough-plain-secret"
        );
    }
}
