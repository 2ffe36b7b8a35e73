//! Browser sessions. A browser cannot send `Authorization: Bearer`, so the login page takes a
//! token once, checks it, and gives the browser a random session id in an `HttpOnly` cookie.
//! The store keeps only what the id maps to, under the id's SHA-256 (never the id): the
//! token's hash (never the token), an expiry and the session's form token against cross-site
//! requests. Every page looks the token up again by its hash, so a revoked token ends its
//! sessions at once, and its role and scopes are the token's as they stand.
//!
//! Sessions are rows of the store (`Store::create_session` and the rest), so every replica
//! sharing a PostgreSQL store knows them: a load balancer may send each request anywhere, and
//! a restart signs no one out.

use std::time::Duration;

use crate::auth::{hash_token, random_hex};
use crate::store::SessionRecord;

/// The cookie's name. Its path is `/ui`: the API never sees it, and never accepts it.
pub(crate) const COOKIE: &str = "rempart_session";
/// How long a session lasts from sign-in, whatever the activity: a working day.
pub(crate) const LIFETIME: Duration = Duration::from_hours(8);
/// Sessions kept per token; the oldest goes when a sign-in makes one more, so that signing in
/// again and again cannot grow the table without bound. Enough for one person's browsers.
pub(crate) const MAX_PER_TOKEN: i64 = 20;
/// Expired sessions removed at most per sign-in. Sign-ins are what adds rows, each removing up
/// to this many expired ones, so expired rows never pile up; the bound keeps a sign-in short.
pub(crate) const PRUNE_BATCH: i64 = 100;

/// A new session for the token with this hash, made at `now` (milliseconds): the id to put in
/// the cookie, and the record to store, which holds the id's hash only.
pub(crate) fn new_session(token_hash: &str, now: i64) -> (String, SessionRecord) {
    let id = random_hex(32);
    let lifetime = i64::try_from(LIFETIME.as_millis()).unwrap_or(i64::MAX);
    let record = SessionRecord {
        id_hash: id_hash(&id),
        token_hash: token_hash.to_owned(),
        form_token: random_hex(16),
        created_at: now,
        expires_at: now.saturating_add(lifetime),
    };
    (id, record)
}

/// The key a session id is stored under.
pub(crate) fn id_hash(id: &str) -> String {
    hash_token(id)
}

/// The session id in a `Cookie` header, if any.
pub(crate) fn cookie_value(header: &str) -> Option<&str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// The `Set-Cookie` value for a new session: `HttpOnly` (no script reads it), `SameSite=Strict`
/// (no other site's page sends it), Path=/ui, and Secure when the server speaks TLS.
pub(crate) fn set_cookie(id: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={id}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age={}{}",
        LIFETIME.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that removes the cookie.
pub(crate) fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE}=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_session_is_stored_by_the_hash_of_its_id_for_its_lifetime() {
        let (id, record) = new_session("hash-1", 1_000);
        assert_eq!(id.len(), 64);
        assert_eq!(record.id_hash, hash_token(&id));
        assert_ne!(record.id_hash, id);
        assert_eq!(record.token_hash, "hash-1");
        assert_eq!(record.form_token.len(), 32);
        assert_eq!(record.expires_at, 1_000 + 8 * 3_600 * 1_000);
        assert_ne!(new_session("hash-1", 1_000).0, id);
    }

    #[test]
    fn the_cookie_is_found_among_others_and_set_with_its_flags() {
        assert_eq!(cookie_value("a=b; rempart_session=abc ; c=d"), Some("abc"));
        assert_eq!(cookie_value("rempart_session="), None);
        assert_eq!(cookie_value("xrempart_session=abc"), None);
        let cookie = set_cookie("abc", true);
        for flag in [
            "HttpOnly",
            "SameSite=Strict",
            "Path=/ui",
            "Secure",
            "Max-Age=28800",
        ] {
            assert!(cookie.contains(flag), "{cookie}");
        }
        assert!(!set_cookie("abc", false).contains("Secure"));
        assert!(clear_cookie(false).contains("Max-Age=0"));
    }
}
