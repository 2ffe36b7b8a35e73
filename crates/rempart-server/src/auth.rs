//! API tokens: random, shown once, stored as their SHA-256 only; a role and repository scopes
//! each.
//!
//! SHA-256 without salt or stretching is enough here: a token is 256 random bits, not a
//! password a person chose, so there is nothing to guess from its hash.

use globset::{Glob, GlobSet, GlobSetBuilder};
use sha2::{Digest, Sha256};

use crate::store::{Role, TokenRecord};

/// Every token starts so, which lets secret scanners (ours included) recognise a leaked one.
pub const TOKEN_PREFIX: &str = "rmp_";

/// A new token's secret text and the hash to store.
pub(crate) struct NewToken {
    pub(crate) secret: String,
    pub(crate) hash: String,
}

pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0_u8; bytes];
    // The operating system's generator; failing it would leave no safe way to make a token.
    getrandom::fill(&mut buffer).expect("the operating system's random generator failed");
    hex::encode(buffer)
}

pub(crate) fn new_token() -> NewToken {
    let secret = format!("{TOKEN_PREFIX}{}", random_hex(32));
    let hash = hash_token(&secret);
    NewToken { secret, hash }
}

pub(crate) fn hash_token(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Who is calling, as its token says.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) token_id: String,
    pub(crate) name: String,
    pub(crate) role: Role,
    scopes: GlobSet,
    all_repositories: bool,
}

impl Caller {
    pub(crate) fn from_token(token: &TokenRecord) -> Caller {
        let mut builder = GlobSetBuilder::new();
        let mut all_repositories = false;
        for scope in &token.scopes {
            if scope == "*" || scope == "**" {
                all_repositories = true;
            }
            // Scopes were checked when the token was made; one that no longer compiles
            // grants nothing.
            if let Ok(glob) = Glob::new(scope) {
                builder.add(glob);
            }
        }
        Caller {
            token_id: token.id.clone(),
            name: token.name.clone(),
            role: token.role,
            scopes: builder.build().unwrap_or_else(|_| GlobSet::empty()),
            all_repositories,
        }
    }

    /// Whether the role allows what `needed` allows. The registry, Harbor and runtime roles are
    /// apart: each allows only its own endpoints, and only it does.
    pub(crate) fn has(&self, needed: Role) -> bool {
        match (self.role, needed) {
            (Role::Registry, Role::Registry)
            | (Role::Harbor, Role::Harbor)
            | (Role::Runtime, Role::Runtime) => true,
            (Role::Registry | Role::Harbor | Role::Runtime, _)
            | (_, Role::Registry | Role::Harbor | Role::Runtime) => false,
            (role, needed) => role >= needed,
        }
    }

    /// Whether the token's scopes cover `repository` (`registry/path`). Uploaded images have no
    /// repository: only tokens for every repository see them.
    pub(crate) fn covers(&self, repository: &str) -> bool {
        self.all_repositories || (!repository.is_empty() && self.scopes.is_match(repository))
    }
}

/// Checks the scopes of a token about to be made.
pub(crate) fn check_scopes(scopes: &[String]) -> Result<(), String> {
    if scopes.is_empty() {
        return Err("a token needs at least one scope (`*` for every repository)".into());
    }
    for scope in scopes {
        Glob::new(scope).map_err(|e| format!("scope `{scope}`: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role, scopes: &[&str]) -> Caller {
        Caller::from_token(&TokenRecord {
            id: "t".into(),
            name: "t".into(),
            hash: String::new(),
            role,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            created_at: 0,
            created_by: "test".into(),
            revoked_at: None,
        })
    }

    #[test]
    fn roles_include_the_ones_below_but_the_registry_and_harbor_roles_stand_apart() {
        let admin = caller(Role::Admin, &["*"]);
        assert!(admin.has(Role::Viewer) && admin.has(Role::Scanner) && admin.has(Role::Admin));
        assert!(!admin.has(Role::Registry));
        let viewer = caller(Role::Viewer, &["*"]);
        assert!(viewer.has(Role::Viewer) && !viewer.has(Role::Scanner));
        let registry = caller(Role::Registry, &["*"]);
        assert!(registry.has(Role::Registry) && !registry.has(Role::Viewer));
        assert!(!registry.has(Role::Harbor) && !admin.has(Role::Harbor));
        let harbor = caller(Role::Harbor, &["*"]);
        assert!(harbor.has(Role::Harbor));
        assert!(!harbor.has(Role::Viewer) && !harbor.has(Role::Registry));
    }

    #[test]
    fn scopes_are_repository_globs() {
        let team = caller(Role::Viewer, &["registry.example/team-a/*"]);
        assert!(team.covers("registry.example/team-a/api"));
        assert!(!team.covers("registry.example/team-b/api"));
        assert!(!team.covers(""));
        assert!(caller(Role::Viewer, &["*"]).covers(""));
    }

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with(TOKEN_PREFIX) && a.secret.len() == TOKEN_PREFIX.len() + 64);
        assert_eq!(a.hash, hash_token(&a.secret));
        assert!(!a.hash.contains(&a.secret[TOKEN_PREFIX.len()..]));
    }
}
