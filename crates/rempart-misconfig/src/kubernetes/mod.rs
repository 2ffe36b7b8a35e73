//! Kubernetes manifest checks (`K8S-...`): the Pod Security Standards and workload, RBAC and
//! network hygiene.

mod model;
mod pss;
mod workloads;
mod yaml;

mod automount_token;
mod cluster_admin_binding;
mod env_secret;
mod image_latest;
mod image_not_pinned;
mod image_registry;
mod namespace_pss_labels;
mod no_limits;
mod no_network_policy;
mod no_requests;
mod rbac_secrets;
mod rbac_wildcard;
mod service_exposed;

use rempart_core::{Finding, Location};
use serde::Serialize;

use crate::check::CheckDoc;
use crate::error::MisconfigError;
use model::Object;
pub use pss::{LATEST_PSS_MINOR, PssLevel, PssVersion};
pub use workloads::{WORKLOAD_KINDS, WorkloadKind, workload_kind};
pub(crate) use yaml::{MAX_MANIFEST_BYTES, load as load_yaml};

/// Reads a manifest file's YAML (or JSON) documents under the limits every manifest check uses
/// (size, documents, depth, aliases): each document's first line and value, empty documents
/// left out. `List` kinds are not unpacked.
pub fn load_manifest_documents(
    path: &str,
    text: &str,
) -> Result<Vec<(u32, serde_json::Value)>, MisconfigError> {
    Ok(yaml::load(path, text)?
        .into_iter()
        .map(|document| (document.line, document.value))
        .collect())
}

/// One failed Pod Security Standards control, for callers judging a single object (admission).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PssViolation {
    /// The control's code (`K8S-PSS-PRIVILEGED`).
    pub code: &'static str,
    /// The profile the control belongs to: `Baseline` controls also bind `Restricted`.
    pub profile: PssLevel,
    /// `containers`, `initContainers` or `ephemeralContainers`; `None` for pod-level fields.
    pub container_list: Option<&'static str>,
    pub container_name: Option<String>,
    /// Which field holds which value, and what is allowed.
    pub message: String,
}

/// Judges the pod a single object runs (a Pod, or the pod template of another of the
/// [`WORKLOAD_KINDS`]) against every Pod Security Standards control as of `version`: the level it meets and each failed control. `None` when the
/// object runs no pod (another kind, or a workload without a template).
///
/// The same controls as [`scan_kubernetes`] reports, so a manifest check and an admission
/// decision never disagree.
pub fn evaluate_pod_security(
    object: &serde_json::Value,
    version: PssVersion,
) -> Option<(PssLevel, Vec<PssViolation>)> {
    let object = Object::new(object, 0, 1, 1)?;
    let pod = object.pod()?;
    let (level, violations) = pss::evaluate(&pod, version);
    let violations = violations
        .into_iter()
        .map(|(check, violation)| {
            let (container_list, container_name) = match violation.container.as_deref() {
                None => (None, None),
                Some(label) => {
                    let (list, name) = if let Some(name) = label.strip_prefix("init container ") {
                        ("initContainers", name)
                    } else if let Some(name) = label.strip_prefix("ephemeral container ") {
                        ("ephemeralContainers", name)
                    } else {
                        (
                            "containers",
                            label.strip_prefix("container ").unwrap_or(label),
                        )
                    };
                    (Some(list), Some(name.to_owned()))
                }
            };
            PssViolation {
                code: check.code,
                profile: pss::profile_of(check.code),
                container_list,
                container_name,
                message: violation.message,
            }
        })
        .collect();
    Some((level, violations))
}

/// Settings of the Kubernetes checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeOptions {
    /// Registries images may come from (`registry.example.com`, `ghcr.io/acme`: a host, optionally
    /// with a path prefix). Images without a registry count as `docker.io`. Empty turns
    /// K8S-IMAGE-REGISTRY off.
    pub allowed_registries: Vec<String>,
    /// The Pod Security Standards version workloads are judged by, unless their namespace (among
    /// the manifests checked together) pins one with `pod-security.kubernetes.io/enforce-version`.
    pub pss_version: PssVersion,
}

/// The Pod Security Standards level one workload meets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkloadLevel {
    /// The manifest file.
    pub path: String,
    /// `Deployment/web`.
    pub resource: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Line of the manifest document.
    pub line: u32,
    pub level: PssLevel,
    /// The version of the standards the level was judged by: the namespace's pinned
    /// `enforce-version`, or the default (`latest`, `v1.25`).
    pub version: String,
}

/// What checking one manifest file found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KubeReport {
    pub findings: Vec<Finding>,
    pub workloads: Vec<WorkloadLevel>,
}

/// One manifest file of the set being checked.
pub(crate) struct SourceFile<'a> {
    pub(crate) path: &'a str,
    pub(crate) lines: Vec<&'a str>,
}

pub(crate) struct Context<'a> {
    pub(crate) files: Vec<SourceFile<'a>>,
    pub(crate) objects: Vec<Object<'a>>,
    pub(crate) options: &'a KubeOptions,
}

impl Context<'_> {
    /// The line of `name: <container>` in the container list after the object's start, or the
    /// object's own line. `container` is a label such as `init container setup`.
    pub(crate) fn line_of(&self, object: &Object<'_>, container: Option<&str>) -> u32 {
        let Some(label) = container else {
            return object.line;
        };
        let (list, name) = if let Some(name) = label.strip_prefix("init container ") {
            ("initContainers:", name)
        } else if let Some(name) = label.strip_prefix("ephemeral container ") {
            ("ephemeralContainers:", name)
        } else {
            (
                "containers:",
                label.strip_prefix("container ").unwrap_or(label),
            )
        };
        let start = object.line.saturating_sub(1) as usize;
        let lines = &self.files[object.file].lines;
        let end = (object.end_line.saturating_sub(1) as usize).min(lines.len());
        let own = &lines[start.min(end)..end];
        let list_start = own
            .iter()
            .enumerate()
            .find(|(_, line)| line.trim_start().starts_with(list))
            .map_or(0, |(index, _)| index);
        own.iter()
            .enumerate()
            .skip(list_start)
            .find(|(_, line)| {
                let trimmed = line.trim_start().trim_start_matches("- ").trim();
                trimmed
                    .strip_prefix("name:")
                    .is_some_and(|v| v.trim().trim_matches(|c| c == '"' || c == '\'') == name)
            })
            .map_or(object.line, |(index, _)| {
                u32::try_from(start + index + 1).unwrap_or(u32::MAX)
            })
    }

    pub(crate) fn finding(
        &self,
        check: &CheckDoc,
        object: &Object<'_>,
        container: Option<&str>,
        message: impl Into<String>,
    ) -> Finding {
        let mut resource = object.resource();
        if let Some(ns) = object.namespace {
            resource = format!("{ns}/{resource}");
        }
        if let Some(container) = container {
            resource = format!("{resource} ({container})");
        }
        check.finding(
            Location::file(self.files[object.file].path).with_line(self.line_of(object, container)),
            resource,
            message,
        )
    }
}

type Rule = fn(&Context<'_>, &mut Vec<Finding>);

const RULES: &[(CheckDoc, Rule)] = &[
    (no_limits::CHECK, no_limits::run),
    (no_requests::CHECK, no_requests::run),
    (automount_token::CHECK, automount_token::run),
    (image_not_pinned::CHECK, image_not_pinned::run),
    (image_latest::CHECK, image_latest::run),
    (image_registry::CHECK, image_registry::run),
    (env_secret::CHECK, env_secret::run),
    (no_network_policy::CHECK, no_network_policy::run),
    (rbac_wildcard::CHECK, rbac_wildcard::run),
    (rbac_secrets::CHECK, rbac_secrets::run),
    (cluster_admin_binding::CHECK, cluster_admin_binding::run),
    (service_exposed::CHECK, service_exposed::run),
    (namespace_pss_labels::CHECK, namespace_pss_labels::run),
];

pub(crate) fn docs() -> impl Iterator<Item = CheckDoc> {
    pss::docs().chain(RULES.iter().map(|(doc, _)| *doc))
}

/// The `enforce-version` each Namespace among the manifests pins: its workloads are judged by
/// the standards of that release. An unreadable value counts as `latest`, as the API server
/// takes it (and K8S-NAMESPACE-PSS-LABEL reports it).
fn pinned_versions<'a>(
    objects: &[model::Object<'a>],
) -> std::collections::HashMap<&'a str, PssVersion> {
    let key = format!("{}enforce-version", namespace_pss_labels::PREFIX);
    objects
        .iter()
        .filter(|object| object.kind == "Namespace")
        .filter_map(|object| {
            let value = model::get(object.value, &["metadata", "labels", key.as_str()])?;
            let version = value
                .as_str()
                .and_then(PssVersion::parse)
                .unwrap_or(PssVersion::Latest);
            Some((object.name, version))
        })
        .collect()
}

/// Checks a Kubernetes manifest file (one or more YAML documents, `List` kinds unpacked).
pub fn scan_kubernetes(path: &str, text: &str) -> Result<KubeReport, MisconfigError> {
    scan_kubernetes_with(path, text, &KubeOptions::default())
}

/// [`scan_kubernetes`] with settings.
pub fn scan_kubernetes_with(
    path: &str,
    text: &str,
    options: &KubeOptions,
) -> Result<KubeReport, MisconfigError> {
    scan_kubernetes_set(&[(path, text)], options)
}

/// Checks several manifest files as one set, as `kubectl apply -f <dir>` would apply them: a
/// `NetworkPolicy` in one file covers the namespace of workloads in another. Each item is
/// `(path, text)`; the first file that cannot be read as YAML fails the whole set.
pub fn scan_kubernetes_set(
    files: &[(&str, &str)],
    options: &KubeOptions,
) -> Result<KubeReport, MisconfigError> {
    let mut loaded = Vec::with_capacity(files.len());
    for (path, text) in files {
        loaded.push(yaml::load(path, text)?);
    }
    let mut objects = Vec::new();
    for (file, documents) in loaded.iter().enumerate() {
        let total_lines = u32::try_from(files[file].1.lines().count()).unwrap_or(u32::MAX);
        for (index, document) in documents.iter().enumerate() {
            let end = documents
                .get(index + 1)
                .map_or(total_lines.saturating_add(1), |next| next.line);
            let Some(object) = Object::new(&document.value, file, document.line, end) else {
                continue;
            };
            if object.kind.ends_with("List") {
                // Items carry no line of their own; they share the List's.
                objects.extend(
                    model::array(&document.value, &["items"])
                        .iter()
                        .filter_map(|item| Object::new(item, file, document.line, end)),
                );
            } else {
                objects.push(object);
            }
        }
    }
    let context = Context {
        files: files
            .iter()
            .map(|(path, text)| SourceFile {
                path,
                lines: text.lines().collect(),
            })
            .collect(),
        objects,
        options,
    };
    let pinned = pinned_versions(&context.objects);
    let mut report = KubeReport::default();
    for object in &context.objects {
        let Some(pod) = object.pod() else {
            continue;
        };
        let version = object
            .namespace
            .and_then(|namespace| pinned.get(namespace).copied())
            .unwrap_or(options.pss_version);
        let (level, violations) = pss::evaluate(&pod, version);
        for (check, violation) in violations {
            report.findings.push(context.finding(
                &check,
                object,
                violation.container.as_deref(),
                violation.message,
            ));
        }
        report.workloads.push(WorkloadLevel {
            path: context.files[object.file].path.to_owned(),
            resource: object.resource(),
            namespace: object.namespace.map(str::to_owned),
            line: object.line,
            level,
            version: version.to_string(),
        });
    }
    for (_, rule) in RULES {
        rule(&context, &mut report.findings);
    }
    report.findings.sort_by(|a, b| {
        (&a.location.path, a.location.line, &a.id).cmp(&(&b.location.path, b.location.line, &b.id))
    });
    Ok(report)
}
