//! The HTTP API: the native JSON API under `/v1` (documented in `openapi/rempart-v1.yaml`),
//! Harbor's scanner adapter API under `/harbor/api/v1` (`harbor/`), health and metrics. Handlers are small: they check access, call the store or the decision
//! code, and map errors in one place (`error.rs`).

pub(crate) mod access;
mod admin;
mod admission;
mod error;
mod harbor;
pub(crate) mod images;
mod registry;
mod runtime;
pub(crate) use runtime::MAX_RUNTIME_EVENTS;
pub(crate) mod scans;
mod webhooks;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

pub(crate) use admin::make_token_record;
pub(crate) use error::ApiError;

use crate::metrics::{RequestLabels, RouteLabels};
use crate::state::AppState;

/// The OpenAPI description of `/v1`, served as written.
pub(crate) const OPENAPI: &str = include_str!("../../openapi/rempart-v1.yaml");

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let upload_limit = usize::try_from(state.config.max_upload_bytes).unwrap_or(usize::MAX);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/v1/openapi.yaml", get(openapi))
        .route("/v1/scans", post(scans::submit).get(scans::list))
        .route(
            "/v1/scans/upload",
            // Uploads stream to disk under their own cap, checked as they arrive.
            post(scans::upload).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/v1/scans/{id}", get(scans::show))
        .route("/v1/images", get(images::list))
        .route("/v1/images/{digest}", get(images::show))
        .route("/v1/images/{digest}/report", get(images::report))
        .route("/v1/images/{digest}/verdict", get(images::verdict))
        .route("/v1/policies", get(admin::list_policies))
        .route(
            "/v1/policies/{name}",
            get(admin::show_policy).put(admin::put_policy),
        )
        .route(
            "/v1/tokens",
            post(admin::create_token).get(admin::list_tokens),
        )
        .route(
            "/v1/tokens/{id}",
            axum::routing::delete(admin::revoke_token),
        )
        .route("/v1/audit", get(admin::audit))
        .route("/v1/promotions", get(admin::promotions))
        .route("/v1/reevaluate", post(admin::reevaluate))
        .route("/v1/webhooks", get(webhooks::list))
        .route("/v1/webhooks/deliveries", get(webhooks::deliveries))
        .route("/v1/webhooks/deliveries/{id}", get(webhooks::show))
        .route(
            "/v1/webhooks/deliveries/{id}/redeliver",
            post(webhooks::redeliver),
        )
        .route("/v1/registry/events", post(registry::events))
        .route("/v1/runtime/events", post(runtime::events))
        .route("/admission/validate", post(admission::validate))
        .route("/admission/mutate", post(admission::mutate))
        .route(
            "/v1/admission/policy",
            get(admission::show_policy).put(admission::put_policy),
        )
        .route(
            "/v1/admission/policy/versions",
            get(admission::policy_versions),
        )
        .route("/v1/admission/exemptions", get(admission::exemptions))
        .route(
            &format!("{}/metadata", harbor::PREFIX),
            get(harbor::metadata),
        )
        .route(&format!("{}/scan", harbor::PREFIX), post(harbor::scan))
        .route(
            &format!("{}/scan/{{id}}/report", harbor::PREFIX),
            get(harbor::report),
        )
        .merge(crate::dashboard::router())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(state.config.max_request_bytes))
        .layer(middleware::from_fn_with_state(Arc::clone(&state), observe))
        .with_state(state)
}

/// Counts and times every request by its route pattern.
async fn observe(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route: route.clone(),
            status: response.status().as_u16(),
        })
        .inc();
    state
        .metrics
        .request_seconds
        .get_or_create(&RouteLabels { route })
        .observe(started.elapsed().as_secs_f64());
    response
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint (the API is under /v1; see /v1/openapi.yaml)")
}

async fn healthz() -> impl IntoResponse {
    axum::Json(json!({"status": "ok"}))
}

/// Ready when the store answers and the scan engine is loaded (it is, once serving starts).
async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let store = state.store.describe();
    match state.with_store(|store| store.ping()).await {
        Ok(()) => {
            // A server told to run admission is not ready before it has a policy to decide
            // with: the API server would get failures from it.
            let admission = state.admission.policy().map(|loaded| loaded.version);
            if admission.is_none() && state.config.admission.policy_file.is_some() {
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    axum::Json(json!({"status": "unavailable", "store": store, "reason": "no admission policy is in force"})),
                )
                    .into_response();
            }
            axum::Json(json!({
                "status": "ready",
                "store": store,
                "vulnerability_data": state.engine().vulnerability_data().cloned(),
                "admission_policy_version": admission,
            }))
            .into_response()
        }
        Err(error) => {
            tracing::warn!("not ready: {error}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({"status": "unavailable", "store": store, "reason": "the store does not answer"})),
            )
                .into_response()
        }
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    if let Ok((depth, tokens, (pending, dead))) = state
        .with_store(|store| {
            Ok((
                store.queue_depth()?,
                store.active_token_count()?,
                store.delivery_counts()?,
            ))
        })
        .await
    {
        state.metrics.queue_depth.set(depth);
        state.metrics.active_tokens.set(tokens);
        state.metrics.deliveries_pending.set(pending);
        state.metrics.deliveries_dead.set(dead);
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/yaml")], OPENAPI)
}

/// `?limit=N` of the listings: 100 by default, 1 to 1,000.
#[derive(serde::Deserialize)]
pub(crate) struct ListQuery {
    limit: Option<i64>,
}

impl ListQuery {
    pub(crate) fn limit(&self) -> i64 {
        page_limit(self.limit)
    }
}

/// The page size of every listing: 100 by default, 1 to 1,000.
pub(crate) fn page_limit(asked: Option<i64>) -> i64 {
    asked.unwrap_or(100).clamp(1, 1000)
}

/// Reads a JSON body, naming what is wrong with it.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!("the request body is not the expected JSON: {e}"))
    })
}

/// `sha256:` and 64 lowercase hex digits: anything else in a path is refused before any lookup.
pub(crate) fn check_digest(digest: &str) -> Result<(), ApiError> {
    let valid = digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    });
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "`{}` is not an image digest (sha256: and 64 lowercase hex digits)",
            digest.escape_default()
        )))
    }
}
