//! The admission webhooks (`/admission/validate`, `/admission/mutate`), called by the API
//! server without a token over the server's TLS, and the admission policy's API
//! (`/v1/admission/policy`).
//!
//! A request that is not an answerable `AdmissionReview` gets 400, and a server that has no
//! admission policy in force 503: either way the API server applies the webhook's
//! `failurePolicy`, which is the operator's choice for when rempart cannot decide.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::access::authorize;
use super::{ApiError, page_limit};
use crate::admission::{
    Review, allowed_response, check_trust_policy, decision_response, gather_and_decide,
    parse_review, parse_stored, pin_patch,
};
use crate::clock::now_millis;
use crate::state::AppState;
use crate::store::{NewAudit, Role};

fn invalid_review(state: &AppState, webhook: &str, message: String) -> ApiError {
    state.metrics.count_admission(webhook, "invalid");
    tracing::warn!(webhook, "admission request refused: {message}");
    ApiError::bad_request(message)
}

fn no_policy(state: &AppState, webhook: &str) -> ApiError {
    state.metrics.count_admission(webhook, "unavailable");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "no_admission_policy",
        "no admission policy is in force: store one (PUT /v1/admission/policy or --admission-policy)",
    )
}

/// `POST /admission/validate`: the decision of the admission policy.
pub(crate) async fn validate(
    State(state): State<Arc<AppState>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let deadline = started + state.config.admission.budget;
    let review = parse_review(&body).map_err(|e| invalid_review(&state, "validate", e.0))?;
    drop(body);
    let Some(loaded) = state.admission.policy() else {
        return Err(no_policy(&state, "validate"));
    };
    let gathered = gather_and_decide(&state, &loaded, &review, deadline).await;
    let decision = &gathered.decision;
    let outcome = if decision.skipped.is_some() {
        "skipped"
    } else if decision.allowed {
        "allowed"
    } else {
        "denied"
    };
    state.metrics.count_admission("validate", outcome);
    tracing::debug!(
        uid = %review.uid,
        object = %decision.object.describe(),
        outcome,
        millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "admission decision"
    );
    if !review.dry_run {
        state
            .admission
            .exemptions_used(loaded.version, &decision.exemptions_used, now_millis());
        if !decision.allowed {
            audit_denial(&state, &review, &decision.message(), loaded.version);
        }
    }
    let answer = decision_response(&review.uid, decision, loaded.version, gathered.notes);
    Ok(axum::Json(answer).into_response())
}

/// Records a denial in the audit log, once a minute per object and message (a controller
/// retrying a denied `ReplicaSet` would otherwise write a line per attempt), without holding up
/// the answer.
fn audit_denial(state: &Arc<AppState>, review: &Review, message: &str, version: i64) {
    let subject = format!(
        "{} {}/{}{}",
        review
            .object
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or(&review.kind),
        review.namespace,
        if review.name.is_empty() {
            review
                .object
                .pointer("/metadata/name")
                .or_else(|| review.object.pointer("/metadata/generateName"))
                .and_then(|n| n.as_str())
                .unwrap_or("<unnamed>")
        } else {
            &review.name
        },
        review
            .sub_resource
            .as_deref()
            .map_or_else(String::new, |sub| format!(" ({sub})"))
    );
    if !state
        .admission
        .denials
        .first(&format!("{subject}\n{message}"))
    {
        return;
    }
    let entry = NewAudit {
        at: now_millis(),
        actor: review.username.clone(),
        action: "admission.denied".into(),
        subject,
        detail: Some(format!(
            "admission policy version {version}: {}",
            message.chars().take(2000).collect::<String>()
        )),
        ..NewAudit::default()
    };
    let state = Arc::clone(state);
    tokio::spawn(async move {
        if let Err(error) = state
            .with_store(move |store| store.append_audit(&entry))
            .await
        {
            tracing::error!("cannot record an admission denial in the audit log: {error}");
        }
    });
}

/// `POST /admission/mutate` (with `--admission-mutate`): image tags pinned to vetted digests.
pub(crate) async fn mutate(
    State(state): State<Arc<AppState>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    if !state.config.admission.mutate {
        return Err(ApiError::not_found(
            "the mutating webhook is off (start the server with --admission-mutate)",
        ));
    }
    let deadline = Instant::now() + state.config.admission.budget;
    let review = parse_review(&body).map_err(|e| invalid_review(&state, "mutate", e.0))?;
    drop(body);
    let Some(loaded) = state.admission.policy() else {
        return Err(no_policy(&state, "mutate"));
    };
    let (patch, warnings) = pin_patch(&state, &loaded, &review, deadline).await;
    state.metrics.count_admission(
        "mutate",
        if patch.is_some() {
            "patched"
        } else {
            "unchanged"
        },
    );
    Ok(axum::Json(allowed_response(&review.uid, warnings, patch.as_ref())).into_response())
}

#[derive(Deserialize)]
pub(crate) struct PolicyQuery {
    version: Option<i64>,
}

/// `GET /v1/admission/policy[?version=N]`: the document as stored, with its version.
pub(crate) async fn show_policy(
    State(state): State<Arc<AppState>>,
    Query(query): Query<PolicyQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, Role::Viewer).await?;
    let version = query.version;
    let record = state
        .with_store(move |store| store.admission_policy(version))
        .await?
        .ok_or_else(|| match version {
            Some(version) => {
                ApiError::not_found(format!("the admission policy has no version {version}"))
            }
            None => ApiError::not_found("no admission policy is stored"),
        })?;
    let in_force = state.admission.policy().map(|loaded| loaded.version);
    Ok(axum::Json(json!({
        "version": record.version,
        "document": record.document,
        "created_at": record.created_at,
        "created_by": record.created_by,
        "in_force": in_force == Some(record.version),
    }))
    .into_response())
}

#[derive(Deserialize)]
pub(crate) struct HistoryQuery {
    limit: Option<i64>,
}

/// `GET /v1/admission/policy/versions`: every version, newest first, without the documents.
pub(crate) async fn policy_versions(
    State(state): State<Arc<AppState>>,
    Query(query): Query<HistoryQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, Role::Viewer).await?;
    let limit = page_limit(query.limit);
    let versions = state
        .with_store(move |store| store.admission_policy_history(limit))
        .await?;
    Ok(axum::Json(json!({"versions": versions})).into_response())
}

/// `PUT /v1/admission/policy`: a new version (YAML or JSON), checked as strictly as
/// `rempart admit` checks a file, in force on this replica at once and on the others within
/// seconds.
pub(crate) async fn put_policy(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, Role::Admin).await?;
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::bad_request("the admission policy is not UTF-8 text"))?;
    let policy = parse_stored(&text, 0).map_err(|message| {
        ApiError::bad_request(message.replacen(
            "admission policy version 0",
            "the admission policy",
            1,
        ))
    })?;
    check_trust_policy(&policy, state.engine().trust_policy().is_some())
        .map_err(|message| ApiError::bad_request(format!("the admission policy: {message}")))?;
    let actor = caller.name.clone();
    let version = state
        .with_store(move |store| {
            let now = now_millis();
            let version = store.put_admission_policy(&text, &actor, now)?;
            store.append_audit(&NewAudit {
                at: now,
                actor,
                action: "admission_policy.updated".into(),
                subject: "admission policy".into(),
                detail: Some(format!("version {version}")),
                ..NewAudit::default()
            })?;
            Ok(version)
        })
        .await?;
    let worker = Arc::clone(&state);
    if let Err(error) = state
        .with_store(move |store| worker.admission.reload(store))
        .await
    {
        tracing::warn!("the new admission policy is stored but not yet in force here: {error}");
    }
    let status = if version == 1 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(json!({"version": version}))).into_response())
}

/// `GET /v1/admission/exemptions`: the exemptions of the policy in force, whether each has
/// expired, and how often it covered something on this replica since that version came into
/// force (an exemption never used is one to remove).
pub(crate) async fn exemptions(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, Role::Viewer).await?;
    let Some(loaded) = state.admission.policy() else {
        return Err(ApiError::not_found("no admission policy is in force"));
    };
    let usage = state.admission.exemption_use(loaded.version);
    let now = now_millis();
    let exemptions: Vec<_> = loaded
        .policy
        .exemptions()
        .iter()
        .map(|exemption| {
            let (used, last_used_at) = usage
                .used
                .get(&exemption.index)
                .map_or((0, None), |(count, last)| (*count, Some(*last)));
            json!({
                "index": exemption.index,
                "namespace": exemption.namespace,
                "service_account": exemption.service_account,
                "image": exemption.image,
                "rules": exemption.rules,
                "reason": exemption.reason,
                "expires": exemption.expires,
                "expired": exemption.expired_at(now / 1000),
                "used": used,
                "last_used_at": last_used_at,
            })
        })
        .collect();
    Ok(axum::Json(json!({
        "policy_version": loaded.version,
        "counted_since": usage.since,
        "exemptions": exemptions,
    }))
    .into_response())
}
