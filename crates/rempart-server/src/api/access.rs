//! Who may call: the bearer token is looked up by its hash, its role and scopes checked, and
//! its request budget taken.

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode, header};

use super::error::ApiError;
use crate::auth::{Caller, hash_token};
use crate::state::AppState;
use crate::store::Role;

/// The caller, if its token is valid, allows `needed` and has budget left.
pub(crate) async fn authorize(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    needed: Role,
) -> Result<Caller, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::unauthenticated(
            "this endpoint needs a token: send `Authorization: Bearer <token>`",
        ));
    };
    let secret = value
        .to_str()
        .ok()
        .and_then(|text| {
            text.strip_prefix("Bearer ")
                .or_else(|| text.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|secret| !secret.is_empty())
        .ok_or_else(|| {
            ApiError::unauthenticated("the Authorization header must be `Bearer <token>`")
        })?;
    let hash = hash_token(secret);
    let token = state
        .with_store(move |store| store.token_by_hash(&hash))
        .await?
        .ok_or_else(|| ApiError::unauthenticated("unknown or revoked token"))?;
    let caller = Caller::from_token(&token);
    if !state.limiter.allow(&caller.token_id) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "token `{}` is over its {} requests per second",
                caller.name, state.config.rate_limit_per_token
            ),
        ));
    }
    if !caller.has(needed) {
        return Err(ApiError::forbidden(format!(
            "token `{}` has the {} role; this needs the {} role",
            caller.name,
            caller.role.as_str(),
            needed.as_str()
        )));
    }
    Ok(caller)
}

/// Refuses a repository outside the caller's scopes. Reads answer 404 rather than 403, so a
/// scoped token cannot learn which images exist elsewhere.
pub(crate) fn check_scope(
    caller: &Caller,
    repository: &str,
    reading: bool,
) -> Result<(), ApiError> {
    if caller.covers(repository) {
        return Ok(());
    }
    if reading {
        Err(ApiError::not_found("no such scan or image"))
    } else {
        Err(ApiError::forbidden(format!(
            "token `{}` is not scoped to {}",
            caller.name,
            if repository.is_empty() {
                "uploads (they need a token scoped to `*`)".to_owned()
            } else {
                format!("repository `{repository}`")
            }
        )))
    }
}
