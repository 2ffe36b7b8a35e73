//! Policies, tokens and the audit log. Every change is written to the audit log.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rempart::PolicyDocument;
use serde::Deserialize;
use serde_json::json;

use super::access::authorize;
use super::{ApiError, ListQuery, page_limit, parse_json};
use crate::auth::{check_scopes, new_token, random_hex};
use crate::clock::now_millis;
use crate::state::AppState;
use crate::store::{NewAudit, Role, TokenRecord};

/// Policy names go into URLs, logs and audit lines.
fn check_policy_name(name: &str) -> Result<(), ApiError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "a policy name is 1 to 64 letters, digits, `-`, `_` or `.`",
        ))
    }
}

/// `GET /v1/policies`: the latest version of each.
pub(crate) async fn list_policies(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, Role::Viewer).await?;
    let policies = state.with_store(|store| store.policies()).await?;
    Ok(axum::Json(json!({ "policies": policies })).into_response())
}

#[derive(Deserialize)]
pub(crate) struct VersionQuery {
    version: Option<i64>,
}

/// `GET /v1/policies/{name}?version=N`.
pub(crate) async fn show_policy(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    Query(query): Query<VersionQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, Role::Viewer).await?;
    check_policy_name(&name)?;
    let policy = state
        .with_store(move |store| store.policy(&name, query.version))
        .await?
        .ok_or_else(|| ApiError::not_found("no such policy or version"))?;
    Ok(axum::Json(policy).into_response())
}

/// `PUT /v1/policies/{name}`: the body is the policy document (YAML or JSON). Each accepted
/// document is a new version; the old ones stay readable.
pub(crate) async fn put_policy(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, Role::Admin).await?;
    check_policy_name(&name)?;
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::bad_request("the policy document is not UTF-8 text"))?;
    PolicyDocument::parse(&text, std::path::Path::new(&format!("policy {name}")))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let actor = caller.name.clone();
    let stored_name = name.clone();
    let version = state
        .with_store(move |store| {
            let now = now_millis();
            let version = store.put_policy(&stored_name, &text, &actor, now)?;
            store.append_audit(&NewAudit {
                at: now,
                actor,
                action: "policy.updated".into(),
                subject: stored_name,
                detail: Some(format!("version {version}")),
                ..NewAudit::default()
            })?;
            Ok(version)
        })
        .await?;
    let status = if version == 1 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        axum::Json(json!({"name": name, "version": version})),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    name: String,
    role: Role,
    #[serde(default = "every_repository")]
    scopes: Vec<String>,
}

fn every_repository() -> Vec<String> {
    vec!["*".to_owned()]
}

/// `POST /v1/tokens`: `{"name", "role", "scopes"}`. The token is in this answer only.
pub(crate) async fn create_token(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, Role::Admin).await?;
    let request: TokenRequest = parse_json(&body)?;
    if request.name.trim().is_empty()
        || request.name.len() > 128
        || request.name.chars().any(char::is_control)
    {
        return Err(ApiError::bad_request(
            "a token name is 1 to 128 characters, without control characters",
        ));
    }
    check_scopes(&request.scopes).map_err(ApiError::bad_request)?;
    let (token, secret) =
        make_token_record(&request.name, request.role, request.scopes, &caller.name);
    let record = token.clone();
    let actor = caller.name.clone();
    state
        .with_store(move |store| {
            store.create_token(&record)?;
            store.append_audit(&NewAudit {
                at: record.created_at,
                actor,
                action: "token.created".into(),
                subject: record.name.clone(),
                detail: Some(format!(
                    "role {}, scopes {}",
                    record.role.as_str(),
                    record.scopes.join(",")
                )),
                ..NewAudit::default()
            })
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "id": token.id,
            "name": token.name,
            "role": token.role,
            "scopes": token.scopes,
            "token": secret,
        })),
    )
        .into_response())
}

/// A new token record and its secret.
pub(crate) fn make_token_record(
    name: &str,
    role: Role,
    scopes: Vec<String>,
    by: &str,
) -> (TokenRecord, String) {
    let new = new_token();
    (
        TokenRecord {
            id: format!("tok-{}", random_hex(8)),
            name: name.to_owned(),
            hash: new.hash,
            role,
            scopes,
            created_at: now_millis(),
            created_by: by.to_owned(),
            revoked_at: None,
        },
        new.secret,
    )
}

/// `GET /v1/tokens`: names, roles and scopes; never a secret or its hash.
pub(crate) async fn list_tokens(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, Role::Admin).await?;
    let tokens = state.with_store(|store| store.tokens()).await?;
    Ok(axum::Json(json!({ "tokens": tokens })).into_response())
}

/// `DELETE /v1/tokens/{id}`.
pub(crate) async fn revoke_token(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, Role::Admin).await?;
    let actor = caller.name.clone();
    let revoked = state
        .with_store(move |store| {
            let now = now_millis();
            let revoked = store.revoke_token(&id, now)?;
            if revoked {
                store.append_audit(&NewAudit {
                    at: now,
                    actor,
                    action: "token.revoked".into(),
                    subject: id,
                    ..NewAudit::default()
                })?;
            }
            Ok(revoked)
        })
        .await?;
    if revoked {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found("no such active token"))
    }
}

#[derive(Deserialize)]
pub(crate) struct AuditQuery {
    limit: Option<i64>,
    /// Entries older than this id (the `next` of the previous page).
    before: Option<i64>,
}

/// `GET /v1/audit`: newest first, a page at a time.
pub(crate) async fn audit(
    State(state): State<Arc<AppState>>,
    Query(query): Query<AuditQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, Role::Admin).await?;
    let limit = page_limit(query.limit);
    let entries = state
        .with_store(move |store| store.audit(limit, query.before))
        .await?;
    let next = (i64::try_from(entries.len()).ok() == Some(limit))
        .then(|| entries.last().map(|entry| entry.id))
        .flatten();
    Ok(axum::Json(json!({ "entries": entries, "next": next })).into_response())
}

/// `GET /v1/promotions`: the registry gate's promotions, newest first.
pub(crate) async fn promotions(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ListQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, Role::Viewer).await?;
    let limit = query.limit();
    let promotions = state
        .with_store(move |store| store.promotions(limit))
        .await?;
    let promotions: Vec<_> = promotions
        .into_iter()
        .filter(|p| caller.covers(&format!("{}/{}", p.registry, p.source_repository)))
        .collect();
    Ok(axum::Json(json!({ "promotions": promotions })).into_response())
}

/// `POST /v1/reevaluate`: reloads the vulnerability database now and matches every stored image
/// again (what the server does by itself when the database file changes).
pub(crate) async fn reevaluate(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, Role::Admin).await?;
    let done = crate::reevaluate::reload_and_reevaluate(&state)
        .await
        .map_err(|message| {
            tracing::error!("re-evaluation: {message}");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("the re-evaluation failed: {message}"),
            )
        })?;
    let (actor, detail) = (
        caller.name.clone(),
        format!(
            "{} images, {} verdicts changed",
            done.images, done.verdicts_changed
        ),
    );
    state
        .with_store(move |store| {
            store.append_audit(&NewAudit {
                at: now_millis(),
                actor,
                action: "database.reevaluated".into(),
                subject: "vulnerability database".into(),
                detail: Some(detail),
                ..NewAudit::default()
            })
        })
        .await?;
    Ok(axum::Json(done).into_response())
}
