//! Scanned images: listings, reports in every format the CLI writes, and verdicts.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use rempart_report::{Format, ReportOptions, write_report};
use serde::Deserialize;
use serde_json::json;

use super::access::{authorize, check_scope};
use super::{ApiError, ListQuery, check_digest};
use crate::clock::{now_millis, rfc3339};
use crate::decide::{DEFAULT_POLICY_NAME, current_verdict, judge, load_policy, stored_result};
use crate::state::AppState;
use crate::store::{ImageSummary, Role, ScannedImage, Store};

/// `GET /v1/images`.
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ListQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, Role::Viewer).await?;
    let limit = query.limit();
    let images = state.with_store(move |store| store.images(limit)).await?;
    let images: Vec<ImageSummary> = images
        .into_iter()
        .filter(|image| caller.covers(&image.repository))
        .collect();
    Ok(axum::Json(json!({ "images": images })).into_response())
}

/// The image, if the caller may see it.
/// The image's row (not its blobs), if the caller may see it.
async fn visible_image(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    digest: String,
) -> Result<ImageSummary, ApiError> {
    let caller = authorize(state, headers, Role::Viewer).await?;
    check_digest(&digest)?;
    let image = state
        .with_store(move |store| store.image_summary(&digest))
        .await?
        .ok_or_else(|| ApiError::not_found("no scanned image with this digest"))?;
    check_scope(&caller, &image.repository, true)?;
    Ok(image)
}

/// `GET /v1/images/{digest}`: what was scanned, and the verdicts recorded for it.
pub(crate) async fn show(
    State(state): State<Arc<AppState>>,
    Path(digest): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let image = visible_image(&state, &headers, digest).await?;
    let lookup = image.digest.clone();
    let verdicts = state
        .with_store(move |store| store.verdicts(&lookup))
        .await?;
    Ok(axum::Json(json!({
        "digest": image.digest,
        "repository": image.repository,
        "name": image.name,
        "scanned_at": image.scanned_at,
        "scan_id": image.scan_id,
        "verdicts": verdicts,
    }))
    .into_response())
}

#[derive(Deserialize)]
pub(crate) struct ReportQuery {
    format: Option<String>,
    /// Apply this policy first (its ignores, VEX and severities); the full result otherwise.
    policy: Option<String>,
}

pub(crate) fn content_type(format: Format) -> &'static str {
    match format {
        Format::Table => "text/plain; charset=utf-8",
        Format::Json => "application/json",
        Format::Sarif => "application/sarif+json",
        Format::CycloneDx => "application/vnd.cyclonedx+json",
        Format::Spdx => "application/spdx+json",
        Format::Junit => "application/xml",
        Format::Html => "text/html; charset=utf-8",
    }
}

/// `GET /v1/images/{digest}/report?format=json&policy=NAME`.
pub(crate) async fn report(
    State(state): State<Arc<AppState>>,
    Path(digest): Path<String>,
    Query(query): Query<ReportQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let format: Format = query
        .format
        .as_deref()
        .unwrap_or("json")
        .parse()
        .map_err(|e: rempart_report::ParseFormatError| ApiError::bad_request(e.to_string()))?;
    let visible = visible_image(&state, &headers, digest).await?;
    let policy_name = query.policy;
    let bytes = state
        .with_store(move |store| {
            let Some(image) = store.image(&visible.digest)? else {
                return Ok(Err(ApiError::not_found(
                    "no scanned image with this digest",
                )));
            };
            Ok(render_report(store, &image, format, policy_name.as_deref()))
        })
        .await??;
    Ok(([(header::CONTENT_TYPE, content_type(format))], bytes).into_response())
}

/// The image's report in `format`, after `policy` when one is named (the API's and the
/// dashboard's downloads alike).
pub(crate) fn render_report(
    store: &dyn Store,
    image: &ScannedImage,
    format: Format,
    policy_name: Option<&str>,
) -> Result<Vec<u8>, ApiError> {
    let mut result = stored_result(image)?;
    if let Some(name) = policy_name {
        let policy = load_policy(store, name, None)?;
        judge(&policy, &mut result)?;
    }
    let options = ReportOptions {
        timestamp: Some(rfc3339(image.scanned_at)),
        serial: None,
        color: false,
        width: None,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let mut bytes = Vec::new();
    write_report(&result, format, &options, &mut bytes).map_err(|e| {
        tracing::error!("report for {}: {e}", image.digest);
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the report cannot be written; the server log says why",
        )
    })?;
    Ok(bytes)
}

#[derive(Deserialize)]
pub(crate) struct VerdictQuery {
    policy: Option<String>,
}

/// `GET /v1/images/{digest}/verdict?policy=NAME`: pass or fail and why, under the policy's
/// latest version (`default` when none is named).
pub(crate) async fn verdict(
    State(state): State<Arc<AppState>>,
    Path(digest): Path<String>,
    Query(query): Query<VerdictQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let image = visible_image(&state, &headers, digest).await?;
    let policy = query
        .policy
        .unwrap_or_else(|| DEFAULT_POLICY_NAME.to_owned());
    let decision = state
        .with_store(move |store| Ok(current_verdict(store, &image.digest, &policy, now_millis())))
        .await??;
    Ok(axum::Json(decision).into_response())
}
