//! Harbor's Pluggable Scanner API v1.2, under `/harbor/api/v1` (the base URL Harbor is given
//! is `…/harbor`): `GET /metadata`, `POST /scan`, `GET /scan/{id}/report`. Only tokens with the
//! harbor role call it. A scan goes through the durable queue like any other (its subject is
//! the artifact's digest); the registry credentials Harbor sends stay in this process's
//! memory (`vault.rs`). The documents are Harbor's, and so is the error shape:
//! `{"error": {"message": "…"}}`.

mod report;
mod request;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::ApiError;
use super::access::{authorize, check_scope};
use super::scans::new_scan_id;
use crate::clock::{now_millis, rfc3339};
use crate::decide::stored_result;
use crate::state::AppState;
use crate::store::{NewAudit, NewScan, Role, ScanRecord, ScanSource, ScanState};
use report::Artifact;
use request::{DOCKER_MANIFEST, OCI_MANIFEST, SBOM_MEDIA_TYPES};

pub(crate) const PREFIX: &str = "/harbor/api/v1";

const METADATA_TYPE: &str = "application/vnd.scanner.adapter.metadata+json; version=1.1";
const SCAN_RESPONSE_TYPE: &str = "application/vnd.scanner.adapter.scan.response+json; version=1.0";
const ERROR_TYPE: &str = "application/vnd.scanner.adapter.error+json; version=1.0";
const VULNERABILITY_REPORT: &str = "application/vnd.security.vulnerability.report; version=1.1";
/// The older name of the same document; Harbor versions before 2.11 ask for it.
const HARBOR_VULNERABILITY_REPORT: &str =
    "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0";
const SBOM_REPORT: &str = "application/vnd.security.sbom.report+json; version=1.0";

/// How long Harbor is told to wait before asking for a report again.
const REFRESH_AFTER_SECONDS: &str = "5";

/// An error in Harbor's shape. Authentication and store errors of the native API are turned
/// into it, keeping their status and headers.
#[derive(Debug)]
pub(crate) struct HarborError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl HarborError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        HarborError {
            status,
            message: message.into(),
        }
    }
}

impl From<ApiError> for HarborError {
    fn from(error: ApiError) -> Self {
        HarborError::new(error.status, error.message)
    }
}

impl From<crate::store::StoreError> for HarborError {
    fn from(error: crate::store::StoreError) -> Self {
        ApiError::from(error).into()
    }
}

impl IntoResponse for HarborError {
    fn into_response(self) -> Response {
        // The native API's headers (WWW-Authenticate, Retry-After) go with the same statuses.
        let mut response = ApiError::new(self.status, "harbor", "").into_response();
        let body = json!({"error": {"message": self.message}}).to_string();
        *response.body_mut() = axum::body::Body::from(body);
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ERROR_TYPE));
        response.headers_mut().remove(header::CONTENT_LENGTH);
        response
    }
}

fn document(content_type: &'static str, body: &serde_json::Value) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body.to_string()).into_response()
}

/// `GET /metadata`: who we are and what we scan and produce.
pub(crate) async fn metadata(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, HarborError> {
    authorize(&state, &headers, Role::Harbor).await?;
    let mut properties = serde_json::Map::new();
    properties.insert(
        "harbor.scanner-adapter/scanner-type".into(),
        json!("os-package-vulnerability"),
    );
    let engine = state.engine();
    if let Some(data) = engine.vulnerability_data() {
        let updated = data.data_up_to.as_ref().unwrap_or(&data.built_at);
        properties.insert(
            "harbor.scanner-adapter/vulnerability-database-updated-at".into(),
            json!(updated),
        );
        properties.insert(
            "rempart/vulnerability-database-advisories".into(),
            json!(data.advisories.to_string()),
        );
        if data.sample {
            properties.insert(
                "rempart/vulnerability-database-sample".into(),
                json!("true"),
            );
        }
    }
    let consumes = [OCI_MANIFEST, DOCKER_MANIFEST];
    let body = json!({
        "scanner": report::scanner(),
        "capabilities": [
            {"type": "vulnerability", "consumes_mime_types": consumes,
             "produces_mime_types": [VULNERABILITY_REPORT]},
            {"type": "sbom", "consumes_mime_types": consumes,
             "produces_mime_types": [SBOM_REPORT],
             "additional_attributes": {"sbom_media_types": SBOM_MEDIA_TYPES}},
        ],
        "properties": properties,
    });
    Ok(document(METADATA_TYPE, &body))
}

/// `POST /scan`: queues the scan (or joins the one already queued or running for the digest)
/// and answers its id.
pub(crate) async fn scan(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, HarborError> {
    let caller = authorize(&state, &headers, Role::Harbor).await?;
    let request = request::parse(&body, state.config.registry.insecure)?;
    check_scope(&caller, &request.scoped_repository, false)?;
    let id = new_scan_id();
    // Held before the scan is queued, so that no worker can take it before they are there.
    if let Some(credentials) = &request.credentials
        && !state.vault.put(&id, credentials.clone())
    {
        return Err(HarborError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many scans are waiting; try again later",
        ));
    }
    let now = now_millis();
    let scan = NewScan {
        id: id.clone(),
        subject: request.artifact.digest.clone(),
        source: ScanSource::Harbor {
            reference: request.reference.clone(),
            repository: request.artifact.repository.clone(),
            tag: request.artifact.tag.clone(),
            mime_type: request.artifact.mime_type.clone().unwrap_or_default(),
            plain_http: request.plain_http,
            authorized: request.credentials.is_some(),
        },
        repository: request.scoped_repository.clone(),
        digest: Some(request.artifact.digest.clone()),
        submitted_by: caller.name.clone(),
        now,
        // Harbor's credentials are in this replica's memory only: no other can pull with them.
        pinned_to: request.credentials.is_some().then(|| state.replica.clone()),
    };
    let detail = format!(
        "repository {} on {}",
        request.artifact.repository, request.registry
    );
    let actor = caller.name.clone();
    let submitted = state
        .with_store(move |store| {
            let submitted = store.submit_scan(&scan)?;
            store.append_audit(&NewAudit {
                at: now,
                actor,
                action: "harbor.scan".into(),
                subject: submitted.scan.id.clone(),
                digest: scan.digest.clone(),
                detail: Some(if submitted.deduplicated {
                    format!("{detail} (joined the scan already queued)")
                } else {
                    detail
                }),
                ..NewAudit::default()
            })?;
            Ok(submitted)
        })
        .await;
    let submitted = match submitted {
        Ok(submitted) => submitted,
        Err(error) => {
            state.vault.forget(&id);
            return Err(error.into());
        }
    };
    if submitted.deduplicated {
        // The scan already queued pulls with the newest credentials.
        if let Some(credentials) = request.credentials {
            state.vault.put(&submitted.scan.id, credentials);
        }
        state.vault.forget(&id);
    }
    state.wake.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        [(header::CONTENT_TYPE, SCAN_RESPONSE_TYPE)],
        json!({"id": submitted.scan.id}).to_string(),
    )
        .into_response())
}

#[derive(Deserialize)]
pub(crate) struct ReportQuery {
    sbom_media_type: Option<String>,
}

enum Wanted {
    Vulnerability(&'static str),
    Sbom(String),
}

fn normalized(media_type: &str) -> String {
    media_type
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Which report the `Accept` header asks for (the vulnerability report when it names none).
fn wanted(headers: &HeaderMap, query: ReportQuery) -> Result<Wanted, HarborError> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .map(normalized)
        .unwrap_or_default();
    if accept.is_empty() || accept == "*/*" || accept == normalized(VULNERABILITY_REPORT) {
        return Ok(Wanted::Vulnerability(VULNERABILITY_REPORT));
    }
    if accept == normalized(HARBOR_VULNERABILITY_REPORT) {
        return Ok(Wanted::Vulnerability(HARBOR_VULNERABILITY_REPORT));
    }
    if accept == normalized(SBOM_REPORT) {
        return match query.sbom_media_type {
            Some(media_type) if SBOM_MEDIA_TYPES.contains(&media_type.as_str()) => {
                Ok(Wanted::Sbom(media_type))
            }
            _ => Err(HarborError::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "an SBOM report needs `sbom_media_type`: {}",
                    SBOM_MEDIA_TYPES.join(" or ")
                ),
            )),
        };
    }
    Err(HarborError::new(
        StatusCode::NOT_IMPLEMENTED,
        format!(
            "no report of type `{}`: rempart produces {VULNERABILITY_REPORT} and {SBOM_REPORT}",
            accept
                .chars()
                .take(200)
                .collect::<String>()
                .escape_default()
        ),
    ))
}

/// The artifact as Harbor named it; for a scan Harbor joined that was queued otherwise, what
/// the scan knows of it.
fn artifact_of(scan: &ScanRecord, digest: &str) -> Artifact {
    match &scan.source {
        ScanSource::Harbor {
            repository,
            tag,
            mime_type,
            ..
        } => Artifact {
            repository: repository.clone(),
            digest: digest.to_owned(),
            tag: tag.clone(),
            mime_type: Some(mime_type.clone()),
        },
        _ => Artifact {
            repository: scan
                .repository
                .split_once('/')
                .map_or_else(|| scan.repository.clone(), |(_, path)| path.to_owned()),
            digest: digest.to_owned(),
            tag: None,
            mime_type: None,
        },
    }
}

fn failed(message: impl Into<String>) -> HarborError {
    HarborError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
}

/// `GET /scan/{id}/report`: 302 with `Refresh-After` while the scan waits or runs, the report
/// once done, 500 with the reason when it failed.
pub(crate) async fn report(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(query): Query<ReportQuery>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, HarborError> {
    let caller = authorize(&state, &headers, Role::Harbor).await?;
    let wanted = wanted(&headers, query)?;
    let unknown = || HarborError::new(StatusCode::NOT_FOUND, "no such scan request");
    if id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(unknown());
    }
    let scan = state
        .with_store(move |store| store.scan(&id))
        .await?
        .ok_or_else(unknown)?;
    check_scope(&caller, &scan.repository, true)?;
    match scan.state {
        ScanState::Queued | ScanState::Running => {
            let location = uri
                .path_and_query()
                .map_or_else(|| uri.path().to_owned(), ToString::to_string);
            return Ok((
                StatusCode::FOUND,
                [
                    (header::LOCATION, location),
                    (
                        header::HeaderName::from_static("refresh-after"),
                        REFRESH_AFTER_SECONDS.to_owned(),
                    ),
                ],
            )
                .into_response());
        }
        ScanState::Failed => {
            return Err(failed(format!(
                "the scan failed: {}",
                scan.error.as_deref().unwrap_or("no reason was recorded")
            )));
        }
        ScanState::Done => {}
    }
    let digest = scan
        .digest
        .clone()
        .ok_or_else(|| failed("the scan has no image digest"))?;
    let lookup = digest.clone();
    let image = state
        .with_store(move |store| store.image(&lookup))
        .await?
        .ok_or_else(|| failed("the scanned image is no longer stored; scan it again"))?;
    let artifact = artifact_of(&scan, &digest);
    let generated_at = rfc3339(image.scanned_at);
    let built = tokio::task::spawn_blocking(move || {
        let result = stored_result(&image).map_err(|e| {
            tracing::error!("{e}");
            failed("the stored result cannot be read; the server log says why")
        })?;
        match wanted {
            Wanted::Vulnerability(content_type) => Ok((
                content_type,
                report::vulnerability_report(&result, &artifact, &generated_at),
            )),
            Wanted::Sbom(media_type) => {
                report::sbom_report(&result, &artifact, &generated_at, &media_type)
                    .map(|report| (SBOM_REPORT, report))
                    .map_err(|e| {
                        tracing::error!("SBOM of {}: {e}", artifact.digest);
                        failed("the SBOM cannot be written; the server log says why")
                    })
            }
        }
    })
    .await
    .map_err(|e| failed(format!("the report stopped: {e}")))?;
    let (content_type, body) = built?;
    Ok(document(content_type, &body))
}
