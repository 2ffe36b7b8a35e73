//! Submitting scans (a registry reference, or an uploaded archive) and following them.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use oci_spec::distribution::Reference;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::access::{authorize, check_scope};
use super::{ApiError, ListQuery, parse_json};
use crate::auth::random_hex;
use crate::clock::now_millis;
use crate::scanning::uploads_dir;
use crate::state::AppState;
use crate::store::{NewAudit, NewScan, Role, ScanRecord, ScanSource};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitRequest {
    reference: String,
}

#[derive(Serialize)]
pub(crate) struct Submission {
    pub(crate) scan: ScanRecord,
    /// True when a scan of the same image was already queued or running: this is that scan.
    pub(crate) deduplicated: bool,
}

pub(crate) fn new_scan_id() -> String {
    format!("scan-{}", random_hex(12))
}

/// A reference as the registry client reads it, and its `registry/repository`.
pub(crate) fn parse_reference(text: &str) -> Result<(Reference, String), ApiError> {
    let text = text.trim();
    if text.is_empty() || text.len() > 1024 || text.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "`reference` must be an image reference such as registry.example/team/app:1.0",
        ));
    }
    let reference: Reference = rempart_image::parse_reference(text).map_err(|e| {
        ApiError::bad_request(format!(
            "`{}` is not an image reference: {e}",
            text.escape_default()
        ))
    })?;
    let repository = format!(
        "{}/{}",
        reference.resolve_registry(),
        reference.repository()
    );
    Ok((reference, repository))
}

fn accepted(submission: Submission) -> Response {
    let location = format!("/v1/scans/{}", submission.scan.id);
    (
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        axum::Json(submission),
    )
        .into_response()
}

/// `POST /v1/scans`: `{"reference": "registry/repository:tag"}`.
pub(crate) async fn submit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, Role::Scanner).await?;
    let request: SubmitRequest = parse_json(&body)?;
    let (reference, repository) = parse_reference(&request.reference)?;
    check_scope(&caller, &repository, false)?;
    let digest = reference.digest().map(str::to_owned);
    let whole = reference.whole();
    let scan = NewScan {
        id: new_scan_id(),
        subject: digest
            .clone()
            .unwrap_or_else(|| format!("reference:{whole}")),
        source: ScanSource::Registry { reference: whole },
        repository,
        digest,
        submitted_by: caller.name.clone(),
        now: now_millis(),
        pinned_to: None,
    };
    let submission = queue_scan(&state, scan, &caller.name).await?;
    Ok(accepted(submission))
}

pub(crate) async fn queue_scan(
    state: &Arc<AppState>,
    scan: NewScan,
    actor: &str,
) -> Result<Submission, ApiError> {
    let actor = actor.to_owned();
    let submitted = state
        .with_store(move |store| {
            let submitted = store.submit_scan(&scan)?;
            store.append_audit(&NewAudit {
                at: scan.now,
                actor,
                action: if submitted.deduplicated {
                    "scan.deduplicated".into()
                } else {
                    "scan.submitted".into()
                },
                subject: submitted.scan.id.clone(),
                digest: submitted.scan.digest.clone(),
                detail: Some(match &scan.source {
                    ScanSource::Upload { name, .. } => format!("upload {name}"),
                    other => other.name().to_owned(),
                }),
                ..NewAudit::default()
            })?;
            Ok(submitted)
        })
        .await?;
    state.wake.notify_one();
    Ok(Submission {
        scan: submitted.scan,
        deduplicated: submitted.deduplicated,
    })
}

#[derive(Deserialize)]
pub(crate) struct UploadQuery {
    /// How the image is named in reports and listings.
    name: Option<String>,
}

/// `POST /v1/scans/upload?name=app:1.0`: the body is a `docker save` or OCI archive. It is
/// streamed to disk under the upload cap and hashed as it arrives; the same archive uploaded
/// twice while its scan waits is one scan.
pub(crate) async fn upload(
    State(state): State<Arc<AppState>>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, Role::Scanner).await?;
    check_scope(&caller, "", false)?;
    let name = query
        .name
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| "uploaded archive".to_owned());
    if name.len() > 512 || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "`name` must be at most 512 characters, without control characters",
        ));
    }
    let id = new_scan_id();
    let directory = uploads_dir(&state.config.data_dir);
    tokio::fs::create_dir_all(&directory)
        .await
        .map_err(|e| storage_error(&directory, &e))?;
    let file_name = format!("{id}.tar");
    let partial = directory.join(format!("{file_name}.partial"));
    let received = receive(&state, body, &partial).await;
    let archive_digest = match received {
        Ok(digest) => digest,
        Err(error) => {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(error);
        }
    };
    let path = directory.join(&file_name);
    tokio::fs::rename(&partial, &path)
        .await
        .map_err(|e| storage_error(&path, &e))?;
    let scan = NewScan {
        id,
        subject: format!("upload:{archive_digest}"),
        source: ScanSource::Upload {
            file: file_name,
            name,
        },
        repository: String::new(),
        digest: None,
        submitted_by: caller.name.clone(),
        now: now_millis(),
        // The archive is on this replica's disk: no other can scan it.
        pinned_to: Some(state.replica.clone()),
    };
    let submission = match queue_scan(&state, scan, &caller.name).await {
        Ok(submission) => submission,
        Err(error) => {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(error);
        }
    };
    if submission.deduplicated {
        // The scan already queued has its own copy.
        let _ = tokio::fs::remove_file(&path).await;
    }
    Ok(accepted(submission))
}

/// Streams the body into `path`; returns the archive's digest. Nothing is kept on error.
async fn receive(state: &AppState, body: Body, path: &std::path::Path) -> Result<String, ApiError> {
    let limit = state.config.max_upload_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the archive is over the server's {limit}-byte upload limit"),
        )
    };
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(|e| storage_error(path, &e))?;
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            // axum reports the body limit as an error of the stream.
            if e.to_string().contains("length limit") {
                too_large()
            } else {
                ApiError::bad_request(format!("the upload was interrupted: {e}"))
            }
        })?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(too_large());
        }
        hasher.update(&chunk);
        file.write_all(&chunk)
            .await
            .map_err(|e| storage_error(path, &e))?;
    }
    if size == 0 {
        return Err(ApiError::bad_request(
            "the body is empty: send a `docker save` or OCI archive",
        ));
    }
    file.flush().await.map_err(|e| storage_error(path, &e))?;
    file.sync_all().await.map_err(|e| storage_error(path, &e))?;
    Ok(format!("sha256:{}", hex::encode(hasher.finalize())))
}

fn storage_error(path: &std::path::Path, error: &std::io::Error) -> ApiError {
    tracing::error!("{}: {error}", path.display());
    ApiError::new(
        StatusCode::INSUFFICIENT_STORAGE,
        "storage",
        "the server cannot store the upload; the server log says why",
    )
}

/// `GET /v1/scans/{id}`.
pub(crate) async fn show(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, Role::Viewer).await?;
    let scan = state
        .with_store(move |store| store.scan(&id))
        .await?
        .ok_or_else(|| ApiError::not_found("no such scan"))?;
    check_scope(&caller, &scan.repository, true)?;
    Ok(axum::Json(scan).into_response())
}

/// `GET /v1/scans`: the newest scans the caller may see.
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ListQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, Role::Viewer).await?;
    let limit = query.limit();
    let scans = state
        .with_store(move |store| store.recent_scans(limit))
        .await?;
    let scans: Vec<ScanRecord> = scans
        .into_iter()
        .filter(|scan| caller.covers(&scan.repository))
        .collect();
    Ok(axum::Json(serde_json::json!({ "scans": scans })).into_response())
}
