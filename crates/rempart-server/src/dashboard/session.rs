//! Browser sessions. A browser cannot send `Authorization: Bearer`, so the login page takes a
//! token once, checks it, and gives the browser a random session id in an `HttpOnly` cookie.
//! The server keeps, in memory, only what the id maps to: the token's hash (never the token),
//! an expiry and the session's form token against cross-site requests. Every page looks the
//! token up again by its hash, so a revoked token ends its sessions at once, and its role and
//! scopes are the token's as they stand.
//!
//! Sessions live in this process: behind a load balancer with several replicas, browsers need
//! sticky sessions (or sign in again on another replica). A restart signs everyone out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::auth::{hash_token, random_hex};

/// The cookie's name. Its path is `/ui`: the API never sees it, and never accepts it.
pub(crate) const COOKIE: &str = "rempart_session";
/// How long a session lasts from sign-in, whatever the activity: a working day.
pub(crate) const LIFETIME: Duration = Duration::from_hours(8);
/// Sessions kept at most; the oldest goes first when full, so that signing in again and
/// again cannot grow memory without bound.
const MAX_SESSIONS: usize = 10_000;

#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) token_hash: String,
    /// Put in every form and checked on every POST (with the Origin header).
    pub(crate) form_token: String,
    expires: Instant,
}

#[derive(Default)]
pub(crate) struct Sessions {
    /// Keyed by the SHA-256 of the session id: the ids themselves are not kept.
    by_id_hash: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// A new session for the token with this hash; returns the id to put in the cookie.
    pub(crate) fn create(&self, token_hash: &str) -> String {
        let id = random_hex(32);
        let session = Session {
            token_hash: token_hash.to_owned(),
            form_token: random_hex(16),
            expires: Instant::now() + LIFETIME,
        };
        let mut sessions = self.lock();
        let now = Instant::now();
        sessions.retain(|_, session| session.expires > now);
        if sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, session)| session.expires)
                .map(|(key, _)| key.clone())
        {
            sessions.remove(&oldest);
        }
        sessions.insert(hash_token(&id), session);
        id
    }

    /// The session with this id, unless it has expired.
    pub(crate) fn get(&self, id: &str) -> Option<Session> {
        let key = hash_token(id);
        let mut sessions = self.lock();
        match sessions.get(&key) {
            Some(session) if session.expires > Instant::now() => Some(session.clone()),
            Some(_) => {
                sessions.remove(&key);
                None
            }
            None => None,
        }
    }

    pub(crate) fn remove(&self, id: &str) {
        self.lock().remove(&hash_token(id));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        // The map stays consistent whatever panicked while holding it: every change is one
        // call on the map.
        self.by_id_hash
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
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
    fn a_session_maps_to_the_token_hash_until_removed() {
        let sessions = Sessions::default();
        let id = sessions.create("hash-1");
        assert_eq!(id.len(), 64);
        let session = sessions.get(&id).unwrap();
        assert_eq!(session.token_hash, "hash-1");
        assert_eq!(session.form_token.len(), 32);
        assert!(sessions.get("other").is_none());
        // Only the id's hash is a key.
        assert!(!sessions.lock().contains_key(&id));
        sessions.remove(&id);
        assert!(sessions.get(&id).is_none());
    }

    #[test]
    fn expired_sessions_are_gone() {
        let sessions = Sessions::default();
        let id = sessions.create("h");
        sessions
            .lock()
            .values_mut()
            .for_each(|s| s.expires = Instant::now().checked_sub(Duration::from_secs(1)).unwrap());
        assert!(sessions.get(&id).is_none());
        assert!(sessions.lock().is_empty());
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
