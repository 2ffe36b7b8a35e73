//! The webhooks as configured, their deliveries, and sending a delivery again (admin role).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::access::authorize;
use super::{ApiError, page_limit};
use crate::clock::now_millis;
use crate::state::AppState;
use crate::store::{DeliveryRecord, DeliveryState, NewAudit, Role};

/// `GET /v1/webhooks`: the endpoints and their events. URLs are shown by origin only: a
/// receiver's path often holds a secret of its own (chat services' incoming hooks do).
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, Role::Admin).await?;
    let Some(config) = state.webhook_config() else {
        return Ok(axum::Json(json!({ "endpoints": [] })).into_response());
    };
    let endpoints: Vec<Value> = config
        .endpoints
        .iter()
        .map(|endpoint| {
            json!({
                "name": endpoint.name,
                "origin": endpoint.url.origin().ascii_serialization(),
                "events": endpoint.events(),
                "max_attempts": endpoint.max_attempts,
            })
        })
        .collect();
    Ok(axum::Json(json!({
        "endpoints": endpoints,
        "timeout_seconds": config.timeout.as_secs_f64(),
        "first_retry_seconds": config.first_retry.as_secs_f64(),
        "max_retry_delay_seconds": config.max_retry_delay.as_secs_f64(),
    }))
    .into_response())
}

#[derive(Deserialize)]
pub(crate) struct DeliveryQuery {
    state: Option<String>,
    limit: Option<i64>,
}

/// `GET /v1/webhooks/deliveries?state=dead`: newest first.
pub(crate) async fn deliveries(
    State(state): State<Arc<AppState>>,
    Query(query): Query<DeliveryQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, Role::Admin).await?;
    let wanted = match query.state.as_deref() {
        None => None,
        Some(text) => Some(DeliveryState::parse(text).ok_or_else(|| {
            ApiError::bad_request(format!(
                "unknown delivery state `{text}` (expected pending, delivered or dead)"
            ))
        })?),
    };
    let limit = page_limit(query.limit);
    let deliveries = state
        .with_store(move |store| store.deliveries(wanted, limit))
        .await?;
    Ok(axum::Json(json!({ "deliveries": deliveries })).into_response())
}

/// Delivery ids are `msg_` and hex: anything else is refused before any lookup.
fn check_id(id: &str) -> Result<(), ApiError> {
    let valid = id.strip_prefix("msg_").is_some_and(|hex| {
        !hex.is_empty() && hex.len() <= 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())
    });
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "`{id}` is not a delivery id (msg_…)"
        )))
    }
}

/// A delivery with the body it sends.
fn with_payload(delivery: &DeliveryRecord) -> Value {
    let mut shown = json!(delivery);
    shown["payload"] = serde_json::from_str(&delivery.payload).unwrap_or(Value::Null);
    shown
}

/// `GET /v1/webhooks/deliveries/{id}`: one delivery and its body.
pub(crate) async fn show(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, Role::Admin).await?;
    check_id(&id)?;
    let delivery = state
        .with_store(move |store| store.delivery(&id))
        .await?
        .ok_or_else(|| ApiError::not_found("no such delivery"))?;
    Ok(axum::Json(with_payload(&delivery)).into_response())
}

/// `POST /v1/webhooks/deliveries/{id}/redeliver`: a dead (or delivered) delivery is queued
/// again, attempts counted from zero, with its message id unchanged (the receiver may drop a
/// repeat it already has).
pub(crate) async fn redeliver(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, Role::Admin).await?;
    check_id(&id)?;
    let actor = caller.name.clone();
    let delivery = state
        .with_store(move |store| {
            let now = now_millis();
            let Some(before) = store.delivery(&id)? else {
                return Ok(Err(ApiError::not_found("no such delivery")));
            };
            if !store.redeliver(&id, now)? {
                return Ok(Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    "the delivery is already waiting to be sent",
                )));
            }
            store.append_audit(&NewAudit {
                at: now,
                actor,
                action: "webhook.redelivered".into(),
                subject: id.clone(),
                detail: Some(format!(
                    "`{}` to `{}`, {} after {} attempts",
                    before.event,
                    before.endpoint,
                    before.state.as_str(),
                    before.attempts
                )),
                ..NewAudit::default()
            })?;
            Ok(store
                .delivery(&id)?
                .ok_or_else(|| ApiError::not_found("no such delivery")))
        })
        .await??;
    state.deliveries_queued();
    Ok((StatusCode::ACCEPTED, axum::Json(with_payload(&delivery))).into_response())
}
