//! Namespace labels from the Kubernetes API. An `AdmissionReview` does not carry them, yet
//! policies select rules by them and honour the Pod Security labels. With `--kubernetes-api`,
//! the server lists the namespaces' metadata every 30 s (one request, whatever the number of
//! decisions) and asks for a namespace it has not seen yet (one created a moment ago) at most
//! once a few seconds, within the decision's budget. Without an answer, the labels stay unknown
//! and the engine says so rather than guess.
//!
//! The client is a few GETs with a bearer token over rustls: a full Kubernetes client crate
//! (kube, k8s-openapi) would bring thousands of generated types for two requests.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::watch;

use crate::state::AppState;

/// Where the Kubernetes API is and how to authenticate to it.
#[derive(Debug, Clone)]
pub struct KubernetesApi {
    /// `https://host:port`.
    pub url: String,
    /// A bearer token file, read at each request (projected service account tokens rotate).
    pub token_file: PathBuf,
    /// The CA certificates (PEM) the API server's certificate is checked against.
    pub ca_file: PathBuf,
}

const SERVICE_ACCOUNT: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

impl KubernetesApi {
    /// The API as a pod sees it: `KUBERNETES_SERVICE_HOST`/`_PORT` and the service account's
    /// token and CA.
    pub fn in_cluster() -> Result<KubernetesApi, String> {
        let host = std::env::var("KUBERNETES_SERVICE_HOST").map_err(|_| {
            "in-cluster Kubernetes API: KUBERNETES_SERVICE_HOST is not set (not running in a pod?)"
                .to_owned()
        })?;
        let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or_else(|_| "443".to_owned());
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        Ok(KubernetesApi {
            url: format!("https://{host}:{port}"),
            token_file: PathBuf::from(SERVICE_ACCOUNT).join("token"),
            ca_file: PathBuf::from(SERVICE_ACCOUNT).join("ca.crt"),
        })
    }
}

/// How often every namespace is listed.
const LIST_EVERY: Duration = Duration::from_secs(30);
/// Labels from a list or a GET are used this long; past it, a namespace counts as unseen.
const FRESH: Duration = Duration::from_mins(2);
/// A namespace asked for and not found (or a failed request) is not asked again before this.
const RETRY_AFTER: Duration = Duration::from_secs(5);
/// The largest answer read: a metadata-only list of many thousand namespaces.
const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;
/// Asks for metadata only (the API server's `PartialObjectMetadataList`), then plain JSON.
const ACCEPT: &str =
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;q=0.9";

#[derive(Deserialize)]
struct List {
    #[serde(default)]
    items: Vec<Object>,
    #[serde(default)]
    metadata: ListMeta,
}

#[derive(Deserialize, Default)]
struct ListMeta {
    #[serde(default, rename = "continue")]
    next: Option<String>,
}

#[derive(Deserialize)]
struct Object {
    metadata: ObjectMeta,
}

#[derive(Deserialize)]
struct ObjectMeta {
    name: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

type Labels = Arc<BTreeMap<String, String>>;

pub(crate) struct NamespaceLabels {
    api: KubernetesApi,
    client: reqwest::Client,
    known: RwLock<HashMap<String, (Labels, Instant)>>,
    /// Namespaces asked for and not found, or whose request failed: when.
    missed: RwLock<HashMap<String, Instant>>,
}

impl NamespaceLabels {
    pub(crate) fn new(api: KubernetesApi) -> Result<NamespaceLabels, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let pem =
            std::fs::read(&api.ca_file).map_err(|e| format!("{}: {e}", api.ca_file.display()))?;
        let roots = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("{}: not PEM certificates: {e}", api.ca_file.display()))?;
        if roots.is_empty() {
            return Err(format!("{}: no certificate in it", api.ca_file.display()));
        }
        if !api.url.starts_with("https://") {
            return Err(format!(
                "the Kubernetes API must be https://, not `{}`",
                api.url
            ));
        }
        let client = reqwest::Client::builder()
            .tls_certs_only(roots)
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("rempart/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot make the Kubernetes API client: {e}"))?;
        Ok(NamespaceLabels {
            api,
            client,
            known: RwLock::new(HashMap::new()),
            missed: RwLock::new(HashMap::new()),
        })
    }

    /// The labels known for `namespace`, without asking anything.
    pub(crate) fn cached(&self, namespace: &str) -> Option<Labels> {
        let known = self
            .known
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (labels, at) = known.get(namespace)?;
        (at.elapsed() < FRESH).then(|| Arc::clone(labels))
    }

    /// The labels of `namespace`: known ones, else asked for within `deadline` (not more than
    /// once per few seconds per namespace).
    pub(crate) async fn labels(&self, namespace: &str, deadline: Instant) -> Option<Labels> {
        if let Some(labels) = self.cached(namespace) {
            return Some(labels);
        }
        {
            let missed = self
                .missed
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if missed
                .get(namespace)
                .is_some_and(|at| at.elapsed() < RETRY_AFTER)
            {
                return None;
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let url = format!("{}/api/v1/namespaces/{namespace}", self.api.url);
        let fetched = tokio::time::timeout(left, self.get::<Object>(&url)).await;
        match fetched {
            Ok(Ok(object)) if object.metadata.name == namespace => {
                let labels = Arc::new(object.metadata.labels);
                self.remember([(namespace.to_owned(), Arc::clone(&labels))]);
                Some(labels)
            }
            other => {
                if let Ok(Err(error)) = other {
                    tracing::warn!("cannot read the labels of namespace {namespace}: {error}");
                }
                self.missed
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(namespace.to_owned(), Instant::now());
                None
            }
        }
    }

    fn remember(&self, found: impl IntoIterator<Item = (String, Labels)>) {
        let now = Instant::now();
        let mut known = self
            .known
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (name, labels) in found {
            known.insert(name, (labels, now));
        }
    }

    /// Lists every namespace (page by page) and remembers their labels; namespaces gone from
    /// the list are forgotten.
    pub(crate) async fn refresh(&self) -> Result<usize, String> {
        let mut found = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let mut url = format!("{}/api/v1/namespaces?limit=500", self.api.url);
            if let Some(token) = &next {
                url.push_str("&continue=");
                url.push_str(&percent_encode(token));
            }
            let page: List = self.get(&url).await?;
            found.extend(
                page.items
                    .into_iter()
                    .map(|item| (item.metadata.name, Arc::new(item.metadata.labels))),
            );
            match page.metadata.next.filter(|token| !token.is_empty()) {
                Some(token) if found.len() < 1_000_000 => next = Some(token),
                _ => break,
            }
        }
        let count = found.len();
        let names: std::collections::HashSet<String> =
            found.iter().map(|(name, _)| name.clone()).collect();
        self.remember(found);
        self.known
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|name, _| names.contains(name));
        Ok(count)
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let token = tokio::fs::read_to_string(&self.api.token_file)
            .await
            .map_err(|e| format!("{}: {e}", self.api.token_file.display()))?;
        let mut response = self
            .client
            .get(url)
            .bearer_auth(token.trim())
            .header(reqwest::header::ACCEPT, ACCEPT)
            .send()
            .await
            .map_err(|e| format!("{url}: {}", rempart_core::error_chain(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!(
                "{url}: {status}{}",
                if status.as_u16() == 403 {
                    " (the server's service account needs `get` and `list` on namespaces)"
                } else {
                    ""
                }
            ));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("{url}: {}", rempart_core::error_chain(&e)))?
        {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(format!(
                    "{url}: the answer is over {MAX_ANSWER_BYTES} bytes"
                ));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| format!("{url}: not the expected JSON: {e}"))
    }
}

/// A `continue` token is opaque base64: `+`, `/` and `=` need escaping in a query.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// Lists the namespaces every 30 s while the server runs.
pub(crate) async fn follow_namespaces(state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    let Some(namespaces) = state.admission.namespaces.as_ref() else {
        return;
    };
    let mut failing = false;
    loop {
        match namespaces.refresh().await {
            Ok(count) => {
                if failing {
                    tracing::info!(count, "namespace labels read again from the Kubernetes API");
                }
                failing = false;
            }
            Err(error) => {
                if !failing {
                    tracing::warn!("cannot list the namespaces' labels: {error}");
                }
                failing = true;
            }
        }
        tokio::select! {
            () = tokio::time::sleep(LIST_EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::percent_encode;

    #[test]
    fn continue_tokens_are_escaped() {
        assert_eq!(percent_encode("eyJ2Ijoi+/=="), "eyJ2Ijoi%2B%2F%3D%3D");
    }
}
