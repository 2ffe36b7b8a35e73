//! The cluster's side of the admission webhooks: the `ValidatingWebhookConfiguration` (and,
//! for a server run with `--admission-mutate`, the `MutatingWebhookConfiguration`) that makes
//! the API server send this server the workloads to decide on, as YAML for `kubectl apply`
//! (`rempart server webhook-config`).
//!
//! The YAML is written out rather than serialized: it carries comments that say why the
//! settings are what they are, and the same options always give the same bytes.

use std::fmt::Write as _;

use base64::Engine as _;
use rempart_misconfig::WORKLOAD_KINDS;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

/// The server's path for validating admission reviews.
pub const VALIDATE_PATH: &str = "/admission/validate";
/// The server's path for mutating admission reviews.
pub const MUTATE_PATH: &str = "/admission/mutate";

/// The namespaces no webhook covers whatever the options say: the control plane's own.
const ALWAYS_EXCLUDED: &str = "kube-system";

/// Where the API server reaches the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookTarget {
    /// A Service in the server's namespace (the API server connects to
    /// `<name>.<namespace>.svc:<port>`).
    Service { name: String, port: u16 },
    /// The base URL of a server outside the cluster (`https://rempart.example:8443`), to which
    /// each webhook's path is appended.
    Url(String),
}

/// What the API server does when it cannot get an answer in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Refuse the request: nothing unvetted is admitted, and an outage blocks changes.
    Fail,
    /// Admit the request unchecked: the cluster keeps working, unvetted.
    Ignore,
}

impl FailurePolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            FailurePolicy::Fail => "Fail",
            FailurePolicy::Ignore => "Ignore",
        }
    }
}

/// The certificates the API server trusts for the server's serving certificate, PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaBundle {
    /// The certificates alone, each re-encoded: nothing else of the file (a private key kept
    /// beside them, comments) reaches the cluster object, which many may read.
    pem: String,
}

impl CaBundle {
    /// The certificates of a PEM file. Refuses a file with no certificate, or one that is not
    /// X.509.
    pub fn from_pem(bytes: &[u8]) -> Result<CaBundle, WebhookConfigError> {
        let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(bytes)
            .collect::<Result<_, _>>()
            .map_err(|e| WebhookConfigError::CaBundle(format!("not valid PEM: {e}")))?;
        if certificates.is_empty() {
            return Err(WebhookConfigError::CaBundle(
                "no certificate in it (a PEM `BEGIN CERTIFICATE` block)".to_owned(),
            ));
        }
        let mut pem = String::new();
        for (index, certificate) in certificates.iter().enumerate() {
            if let Err(error) = x509_parser::parse_x509_certificate(certificate) {
                return Err(WebhookConfigError::CaBundle(format!(
                    "certificate {} is not an X.509 certificate: {error}",
                    index + 1
                )));
            }
            pem.push_str("-----BEGIN CERTIFICATE-----\n");
            let encoded = base64::engine::general_purpose::STANDARD.encode(certificate);
            for line in encoded.as_bytes().chunks(64) {
                // Base64 is ASCII.
                pem.push_str(std::str::from_utf8(line).unwrap_or_default());
                pem.push('\n');
            }
            pem.push_str("-----END CERTIFICATE-----\n");
        }
        Ok(CaBundle { pem })
    }

    /// The PEM the `caBundle` field carries (base64 encoded there).
    pub fn pem(&self) -> &str {
        &self.pem
    }
}

/// What the webhook configuration says.
#[derive(Debug, Clone)]
pub struct WebhookConfigOptions {
    /// The configuration objects' name, and the middle of each webhook's
    /// (`validate.<name>.rempart.dev`).
    pub name: String,
    /// The namespace the server runs in: its Service's, and left out of the webhooks, so that
    /// the server's own pods never wait on the server.
    pub namespace: String,
    pub target: WebhookTarget,
    pub ca_bundle: CaBundle,
    pub failure_policy: FailurePolicy,
    /// How long the API server waits for an answer (1 to 30 seconds).
    pub timeout_seconds: u32,
    /// More namespaces the webhooks leave alone (beside `kube-system` and the server's own).
    pub exclude_namespaces: Vec<String>,
    /// Also the mutating webhook (for a server run with `--admission-mutate`).
    pub mutating: bool,
}

impl WebhookConfigOptions {
    /// The defaults: the Service `rempart` on port 443 in the namespace `rempart`, failing
    /// closed, 10 seconds, validating only.
    pub fn new(ca_bundle: CaBundle) -> WebhookConfigOptions {
        WebhookConfigOptions {
            name: "rempart".to_owned(),
            namespace: "rempart".to_owned(),
            target: WebhookTarget::Service {
                name: "rempart".to_owned(),
                port: 443,
            },
            ca_bundle,
            failure_policy: FailurePolicy::Fail,
            timeout_seconds: 10,
            exclude_namespaces: Vec::new(),
            mutating: false,
        }
    }
}

/// Why no configuration could be written; the message names the option.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookConfigError {
    #[error("--{option} `{value}`: {reason}")]
    Invalid {
        option: &'static str,
        value: String,
        reason: String,
    },
    /// The CA bundle cannot be used (the caller names the file).
    #[error("{0}")]
    CaBundle(String),
}

fn invalid(option: &'static str, value: &str, reason: impl Into<String>) -> WebhookConfigError {
    WebhookConfigError::Invalid {
        option,
        value: value.to_owned(),
        reason: reason.into(),
    }
}

/// A DNS label as Kubernetes names namespaces and Services (RFC 1123).
fn check_label(option: &'static str, value: &str) -> Result<(), WebhookConfigError> {
    let valid = !value.is_empty()
        && value.len() <= 63
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if valid {
        Ok(())
    } else {
        Err(invalid(
            option,
            value,
            "not a Kubernetes name: lower-case letters, digits and `-`, at most 63, starting and \
             ending with a letter or digit",
        ))
    }
}

/// The configuration's name: a DNS subdomain, short enough for the webhook names built on it.
fn check_name(value: &str) -> Result<(), WebhookConfigError> {
    let longest = 253 - "validate.".len() - ".rempart.dev".len();
    if value.len() > longest {
        return Err(invalid(
            "name",
            value,
            format!("longer than {longest} characters"),
        ));
    }
    for label in value.split('.') {
        check_label("name", label).map_err(|_| {
            invalid(
                "name",
                value,
                "not a Kubernetes object name: dot-separated lower-case letters, digits and `-`",
            )
        })?;
    }
    Ok(())
}

/// The base of the URLs the webhooks call, without a trailing `/`: the API server takes
/// `https` only, with no user, query or fragment.
fn webhook_url_base(base: &str) -> Result<String, WebhookConfigError> {
    let url = reqwest::Url::parse(base).map_err(|e| invalid("url", base, e.to_string()))?;
    if url.scheme() != "https" {
        return Err(invalid(
            "url",
            base,
            "must be https: the API server calls webhooks over TLS only",
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("url", base, "names no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Not repeated in the message.
        let mut shown = url.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        return Err(invalid(
            "url",
            shown.as_str(),
            "must not hold a user or password: the API server refuses them",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            "url",
            base,
            "must not hold a query or fragment: the API server refuses them",
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// A string as a YAML scalar: plain when YAML reads it back as that string, double-quoted (a
/// JSON string, which YAML reads alike) otherwise.
fn scalar(text: &str) -> String {
    let plain = text.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-./".contains(&b))
        && !matches!(
            text,
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        );
    if plain {
        text.to_owned()
    } else {
        serde_json::Value::from(text).to_string()
    }
}

fn flow_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.into_iter().map(scalar).collect();
    format!("[{}]", items.join(", "))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Webhook {
    Validating,
    Mutating,
}

impl Webhook {
    fn kind(self) -> &'static str {
        match self {
            Webhook::Validating => "ValidatingWebhookConfiguration",
            Webhook::Mutating => "MutatingWebhookConfiguration",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Webhook::Validating => "validate",
            Webhook::Mutating => "mutate",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Webhook::Validating => VALIDATE_PATH,
            Webhook::Mutating => MUTATE_PATH,
        }
    }
}

/// The webhook rules: every workload kind, CREATE and UPDATE, one rule per API group and
/// version in the table's order.
fn rules() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    let mut rules: Vec<(&str, &str, Vec<&str>)> = Vec::new();
    for workload in WORKLOAD_KINDS {
        let mut resources = vec![workload.resource];
        if workload.kind == "Pod" {
            // `kubectl debug` adds ephemeral containers through this subresource: an update of
            // the pods resource never carries them.
            resources.push("pods/ephemeralcontainers");
        }
        match rules
            .iter_mut()
            .find(|(group, version, _)| (*group, *version) == (workload.group, workload.version))
        {
            Some((_, _, list)) => list.extend(resources),
            None => rules.push((workload.group, workload.version, resources)),
        }
    }
    rules
}

/// Where the API server sends the reviews, checked.
enum ClientConfig<'a> {
    Service {
        name: &'a str,
        port: u16,
    },
    /// The base URL, normalized, without a trailing `/`.
    Url(String),
}

impl ClientConfig<'_> {
    fn write(&self, out: &mut String, namespace: &str, path: &str) {
        match self {
            ClientConfig::Service { name, port } => {
                let _ = writeln!(out, "      service:");
                let _ = writeln!(out, "        namespace: {}", scalar(namespace));
                let _ = writeln!(out, "        name: {}", scalar(name));
                let _ = writeln!(out, "        path: {path}");
                let _ = writeln!(out, "        port: {port}");
            }
            ClientConfig::Url(base) => {
                let _ = writeln!(
                    out,
                    "      url: {}",
                    serde_json::Value::from(format!("{base}{path}"))
                );
            }
        }
    }
}

fn write_document(
    out: &mut String,
    webhook: Webhook,
    options: &WebhookConfigOptions,
    client_config: &ClientConfig<'_>,
    excluded: &[&str],
) {
    let _ = writeln!(out, "apiVersion: admissionregistration.k8s.io/v1");
    let _ = writeln!(out, "kind: {}", webhook.kind());
    let _ = writeln!(out, "metadata:");
    let _ = writeln!(out, "  name: {}", scalar(&options.name));
    let _ = writeln!(out, "webhooks:");
    let _ = writeln!(
        out,
        "  - name: {}",
        scalar(&format!(
            "{}.{}.rempart.dev",
            webhook.prefix(),
            options.name
        ))
    );
    let _ = writeln!(out, "    admissionReviewVersions: [v1]");
    let _ = writeln!(out, "    clientConfig:");
    client_config.write(out, &options.namespace, webhook.path());
    let _ = writeln!(
        out,
        "      caBundle: {}",
        base64::engine::general_purpose::STANDARD.encode(options.ca_bundle.pem())
    );
    let _ = writeln!(out, "    rules:");
    for (group, version, resources) in rules() {
        let _ = writeln!(out, "      - apiGroups: {}", flow_list([group]));
        let _ = writeln!(out, "        apiVersions: {}", flow_list([version]));
        let _ = writeln!(out, "        operations: [CREATE, UPDATE]");
        let _ = writeln!(out, "        resources: {}", flow_list(resources));
        let _ = writeln!(out, "        scope: Namespaced");
    }
    let _ = writeln!(out, "    namespaceSelector:");
    let _ = writeln!(out, "      matchExpressions:");
    let _ = writeln!(out, "        - key: kubernetes.io/metadata.name");
    let _ = writeln!(out, "          operator: NotIn");
    let _ = writeln!(
        out,
        "          values: {}",
        flow_list(excluded.iter().copied())
    );
    let _ = writeln!(out, "    matchPolicy: Equivalent");
    out.push_str(
        "    # The server queues a scan of an image it has no verdict for, a side effect it skips\n\
         \x20   # for dry-run requests: so `kubectl apply --dry-run=server` still reaches the webhook.\n",
    );
    let _ = writeln!(out, "    sideEffects: NoneOnDryRun");
    let _ = writeln!(
        out,
        "    failurePolicy: {}",
        options.failure_policy.as_str()
    );
    let _ = writeln!(out, "    timeoutSeconds: {}", options.timeout_seconds);
    if webhook == Webhook::Mutating {
        out.push_str(
            "    # Called again when a later mutating webhook changes the object, so that what is\n\
             \x20   # decided on is what runs.\n",
        );
        let _ = writeln!(out, "    reinvocationPolicy: IfNeeded");
    }
}

/// The webhook configuration as YAML: the validating webhook and, when asked, the mutating one
/// as a second document. The same options always give the same text.
pub fn webhook_configuration(options: &WebhookConfigOptions) -> Result<String, WebhookConfigError> {
    check_name(&options.name)?;
    check_label("namespace", &options.namespace)?;
    if !(1..=30).contains(&options.timeout_seconds) {
        return Err(invalid(
            "timeout",
            &options.timeout_seconds.to_string(),
            "must be 1 to 30 seconds (the API server's bounds)",
        ));
    }
    let mut excluded = vec![ALWAYS_EXCLUDED, options.namespace.as_str()];
    for namespace in &options.exclude_namespaces {
        check_label("exclude-namespace", namespace)?;
        if !excluded.contains(&namespace.as_str()) {
            excluded.push(namespace);
        }
    }
    let client_config = match &options.target {
        WebhookTarget::Service { name, port } => {
            check_label("service", name)?;
            if *port == 0 {
                return Err(invalid("port", "0", "must be 1 to 65535"));
            }
            ClientConfig::Service { name, port: *port }
        }
        WebhookTarget::Url(base) => ClientConfig::Url(webhook_url_base(base)?),
    };

    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Admission webhooks of rempart {}, written by `rempart server webhook-config`.",
        env!("CARGO_PKG_VERSION")
    );
    out.push_str(
        "# failurePolicy Fail: nothing unvetted is admitted while the server is unreachable, but its outage blocks workload changes in the namespaces covered; Ignore: the cluster keeps working then, and unvetted workloads may be admitted.\n",
    );
    write_document(
        &mut out,
        Webhook::Validating,
        options,
        &client_config,
        &excluded,
    );
    if options.mutating {
        out.push_str("---\n");
        write_document(
            &mut out,
            Webhook::Mutating,
            options,
            &client_config,
            &excluded,
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use serde_json::{Value, json};

    use super::*;

    /// A self-signed EC P-256 CA certificate (valid until 2126), made with `openssl req -x509`.
    const CA: &str = "-----BEGIN CERTIFICATE-----
MIIBmjCCAUGgAwIBAgIUKw7iAZHaSzH2mxfAt+uiSrmUMpowCgYIKoZIzj0EAwIw
IjEgMB4GA1UEAwwXcmVtcGFydCB3ZWJob29rIHRlc3QgQ0EwIBcNMjYxMjA1MDIy
NDA3WhgPMjEyNjExMTEwMjI0MDdaMCIxIDAeBgNVBAMMF3JlbXBhcnQgd2ViaG9v
ayB0ZXN0IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAECpuVLG5083iFO1Qf
jJethxciLWT/0PzvzhvQOSCWZfY68+M4JZMumEdD7H366S/IcT7OmfDaUfdLy1eH
9iR+aqNTMFEwHQYDVR0OBBYEFF8gV4RgQChsSrSkH8tDxBILsQ3CMB8GA1UdIwQY
MBaAFF8gV4RgQChsSrSkH8tDxBILsQ3CMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZI
zj0EAwIDRwAwRAIgNg8Cu+G6Vvvd6yDK6sjFb1JFEFX9q5LZVaH4tu819sMCIHw8
3guGhuJhnU2XUHkoCWgzNdui0aelDVjlB0PLw9fK
-----END CERTIFICATE-----
";

    fn options() -> WebhookConfigOptions {
        WebhookConfigOptions::new(CaBundle::from_pem(CA.as_bytes()).unwrap())
    }

    fn documents(options: &WebhookConfigOptions) -> Vec<Value> {
        let text = webhook_configuration(options).unwrap();
        serde_saphyr::from_multiple::<Value>(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    fn expected_rules() -> Value {
        let operations = json!(["CREATE", "UPDATE"]);
        json!([
            {"apiGroups": [""], "apiVersions": ["v1"], "operations": operations,
             "resources": ["pods", "pods/ephemeralcontainers", "replicationcontrollers"],
             "scope": "Namespaced"},
            {"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": operations,
             "resources": ["deployments", "replicasets", "statefulsets", "daemonsets"],
             "scope": "Namespaced"},
            {"apiGroups": ["batch"], "apiVersions": ["v1"], "operations": operations,
             "resources": ["jobs", "cronjobs"], "scope": "Namespaced"},
        ])
    }

    #[test]
    fn the_default_is_one_validating_webhook_on_the_service() {
        let documents = documents(&options());
        assert_eq!(documents.len(), 1);
        let document = &documents[0];
        assert_eq!(
            document["apiVersion"],
            json!("admissionregistration.k8s.io/v1")
        );
        assert_eq!(document["kind"], json!("ValidatingWebhookConfiguration"));
        assert_eq!(document["metadata"], json!({"name": "rempart"}));
        let webhooks = document["webhooks"].as_array().unwrap();
        assert_eq!(webhooks.len(), 1);
        let mut webhook = webhooks[0].clone();
        let bundle = webhook["clientConfig"]
            .as_object_mut()
            .unwrap()
            .remove("caBundle")
            .unwrap();
        let pem = base64::engine::general_purpose::STANDARD
            .decode(bundle.as_str().unwrap())
            .unwrap();
        assert_eq!(String::from_utf8(pem).unwrap(), CA);
        assert_eq!(
            webhook,
            json!({
                "name": "validate.rempart.rempart.dev",
                "admissionReviewVersions": ["v1"],
                "clientConfig": {"service": {
                    "namespace": "rempart", "name": "rempart",
                    "path": "/admission/validate", "port": 443}},
                "rules": expected_rules(),
                "namespaceSelector": {"matchExpressions": [{
                    "key": "kubernetes.io/metadata.name", "operator": "NotIn",
                    "values": ["kube-system", "rempart"]}]},
                "matchPolicy": "Equivalent",
                "sideEffects": "NoneOnDryRun",
                "failurePolicy": "Fail",
                "timeoutSeconds": 10,
            })
        );
    }

    #[test]
    fn every_workload_kind_is_covered() {
        let rules = expected_rules();
        let covered: Vec<(&str, &str)> = rules
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|rule| {
                let group = rule["apiGroups"][0].as_str().unwrap();
                rule["resources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(move |resource| (group, resource.as_str().unwrap()))
            })
            .collect();
        for workload in WORKLOAD_KINDS {
            assert!(
                covered.contains(&(workload.group, workload.resource)),
                "{workload:?}"
            );
        }
    }

    #[test]
    fn mutating_options_url_and_exclusions() {
        let mut options = options();
        options.name = "prod.cluster-1".to_owned();
        options.namespace = "security".to_owned();
        options.target = WebhookTarget::Url("https://rempart.example:8443/".to_owned());
        options.failure_policy = FailurePolicy::Ignore;
        options.timeout_seconds = 5;
        options.exclude_namespaces = vec!["monitoring".into(), "kube-system".into(), "1".into()];
        options.mutating = true;
        let documents = documents(&options);
        assert_eq!(documents.len(), 2);
        let kinds: Vec<_> = documents.iter().map(|d| d["kind"].clone()).collect();
        assert_eq!(
            kinds,
            [
                json!("ValidatingWebhookConfiguration"),
                json!("MutatingWebhookConfiguration")
            ]
        );
        for (document, (prefix, path)) in documents.iter().zip([
            ("validate", "/admission/validate"),
            ("mutate", "/admission/mutate"),
        ]) {
            assert_eq!(document["metadata"]["name"], json!("prod.cluster-1"));
            let webhook = &document["webhooks"][0];
            assert_eq!(
                webhook["name"],
                json!(format!("{prefix}.prod.cluster-1.rempart.dev"))
            );
            assert_eq!(
                webhook["clientConfig"]["url"],
                json!(format!("https://rempart.example:8443{path}"))
            );
            assert_eq!(webhook["clientConfig"].get("service"), None);
            assert_eq!(
                webhook["namespaceSelector"]["matchExpressions"][0]["values"],
                json!(["kube-system", "security", "monitoring", "1"])
            );
            assert_eq!(webhook["failurePolicy"], json!("Ignore"));
            assert_eq!(webhook["timeoutSeconds"], json!(5));
            assert_eq!(webhook["rules"], expected_rules());
        }
        assert_eq!(documents[0]["webhooks"][0].get("reinvocationPolicy"), None);
        assert_eq!(
            documents[1]["webhooks"][0]["reinvocationPolicy"],
            json!("IfNeeded")
        );
    }

    #[test]
    fn the_output_is_deterministic_and_commented() {
        let mut options = options();
        options.mutating = true;
        let text = webhook_configuration(&options).unwrap();
        assert_eq!(text, webhook_configuration(&options).unwrap());
        assert!(text.starts_with(&format!(
            "# Admission webhooks of rempart {},",
            env!("CARGO_PKG_VERSION")
        )));
        assert!(text.lines().nth(1).unwrap().contains("Fail") && text.contains("Ignore"));
        assert!(text.contains("dry-run"), "{text}");
    }

    #[test]
    fn the_ca_bundle_keeps_certificates_only() {
        let key = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n";
        let bundle = CaBundle::from_pem(format!("{key}{CA}{CA}").as_bytes()).unwrap();
        assert_eq!(bundle.pem(), format!("{CA}{CA}"));
        let refused = CaBundle::from_pem(key.as_bytes()).unwrap_err();
        assert!(refused.to_string().contains("no certificate"), "{refused}");
        let garbage = "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n";
        let refused = CaBundle::from_pem(garbage.as_bytes()).unwrap_err();
        assert!(refused.to_string().contains("not an X.509"), "{refused}");
    }

    /// The error of the default options changed by `change`.
    fn refused(change: impl FnOnce(&mut WebhookConfigOptions)) -> String {
        let mut options = options();
        change(&mut options);
        webhook_configuration(&options).unwrap_err().to_string()
    }

    #[test]
    fn bad_options_are_refused_naming_the_option() {
        let url = |url: &str| WebhookTarget::Url(url.to_owned());
        let cases = [
            (refused(|o| o.timeout_seconds = 0), "--timeout `0`"),
            (refused(|o| o.timeout_seconds = 31), "--timeout `31`"),
            (
                refused(|o| o.target = url("http://rempart.example")),
                "--url `http://rempart.example`: must be https",
            ),
            (
                refused(|o| o.target = url("https://rempart.example/?a=1")),
                "query",
            ),
            (
                refused(|o| o.target = url("https://u:secret@rempart.example")),
                "--url `https://rempart.example/`: must not hold a user or password",
            ),
            (
                refused(|o| o.namespace = "Prod".into()),
                "--namespace `Prod`",
            ),
            (
                refused(|o| o.exclude_namespaces = vec!["a b".into()]),
                "--exclude-namespace `a b`",
            ),
            (
                refused(|o| {
                    o.target = WebhookTarget::Service {
                        name: "-x".into(),
                        port: 443,
                    };
                }),
                "--service `-x`",
            ),
            (refused(|o| o.name = "a..b".into()), "--name `a..b`"),
            (refused(|o| o.name = "a".repeat(233)), "--name"),
        ];
        for (error, expected) in cases {
            assert!(error.contains(expected), "{error} (expected {expected})");
        }
    }

    #[test]
    fn scalars_read_back_as_the_same_strings() {
        for text in [
            "rempart", "123", "true", "no", "a-b", "", "x: y", "é", "null",
        ] {
            let yaml = format!("key: {}\n", scalar(text));
            let value: Value = serde_saphyr::from_str(&yaml).unwrap();
            assert_eq!(value["key"], json!(text), "{yaml}");
        }
    }
}
