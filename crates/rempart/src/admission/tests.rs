//! Decisions on objects shaped as the API server sends them, one rule at a time.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use super::*;

/// 2026-03-01T00:00:00Z.
const NOW: i64 = 1_772_323_200;
const DAY: i64 = 86_400;

fn digest(byte: char) -> String {
    format!("sha256:{}", byte.to_string().repeat(64))
}

fn policy(text: &str) -> AdmissionPolicy {
    AdmissionPolicy::parse(text, Path::new("policy.yaml")).unwrap()
}

fn pod_spec(image: &str) -> Value {
    json!({"containers": [{"name": "app", "image": image}]})
}

fn pod(image: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, "spec": pod_spec(image)})
}

/// The object of `kind` running `spec` in its pod template.
#[allow(clippy::needless_pass_by_value)] // callers build the spec inline
fn owner(kind: &str, spec: Value) -> Value {
    let template = json!({"metadata": {"labels": {"app": "web"}}, "spec": spec});
    let body = match kind {
        "Pod" => {
            return json!({"kind": "Pod", "metadata": {"name": "web"}, "spec": template["spec"]});
        }
        "CronJob" => {
            json!({"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}})
        }
        _ => json!({"template": template}),
    };
    json!({"kind": kind, "metadata": {"name": "web"}, "spec": body})
}

const OWNER_KINDS: [&str; 8] = [
    "Pod",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "ReplicationController",
];

fn decide(policy: &AdmissionPolicy, object: &Value, namespace: &str) -> Decision {
    decide_with(policy, object, namespace, None, &NoVerdicts)
}

fn decide_with(
    policy: &AdmissionPolicy,
    object: &Value,
    namespace: &str,
    labels: Option<&BTreeMap<String, String>>,
    verdicts: &dyn VerdictSource,
) -> Decision {
    policy.evaluate(
        &AdmissionRequest {
            object,
            namespace,
            namespace_labels: labels,
            operation: Operation::Create,
            now: NOW,
        },
        verdicts,
    )
}

fn codes(reasons: &[Reason]) -> Vec<&str> {
    reasons.iter().map(|r| r.code).collect()
}

const IMAGE_RULES: &str = "version: 1\ndefault:\n  images:\n    allowed: {patterns: ['registry.example.com/**', 'docker.io/library/*']}\n    require_digest: {}\n    forbid_latest: {}\n";

#[test]
fn every_owner_kind_is_checked_through_its_pod_template() {
    let policy = policy(IMAGE_RULES);
    for kind in OWNER_KINDS {
        let denied = decide(
            &policy,
            &owner(kind, pod_spec("ghcr.io/evil/miner")),
            "prod",
        );
        assert!(!denied.allowed, "{kind}");
        assert_eq!(
            codes(&denied.denials),
            [
                "ADM-IMAGE-REGISTRY",
                "ADM-IMAGE-NOT-PINNED",
                "ADM-IMAGE-LATEST"
            ],
            "{kind}"
        );
        assert_eq!(denied.object.kind, kind);
        let pinned = format!("registry.example.com/app:1.2@{}", digest('a'));
        let allowed = decide(&policy, &owner(kind, pod_spec(&pinned)), "prod");
        assert!(allowed.allowed, "{kind}: {:?}", allowed.denials);
        assert!(allowed.denials.is_empty() && allowed.warnings.is_empty());
    }
}

#[test]
fn init_and_ephemeral_containers_are_checked_and_named() {
    let policy = policy(IMAGE_RULES);
    let pinned = format!("registry.example.com/app@{}", digest('a'));
    let spec = json!({
        "initContainers": [{"name": "setup", "image": "busybox"}],
        "containers": [{"name": "app", "image": pinned}],
        "ephemeralContainers": [{"name": "debugger", "image": format!("ghcr.io/tools/debug@{}", digest('b'))}],
    });
    let decision = decide(&policy, &owner("Deployment", spec), "prod");
    let described: Vec<String> = decision.denials.iter().map(Reason::describe).collect();
    assert_eq!(
        described,
        [
            "[ADM-IMAGE-NOT-PINNED] init container setup (busybox): the image is not pinned by digest: deploy busybox@sha256:… so that what runs is what was vetted",
            "[ADM-IMAGE-LATEST] init container setup (busybox): the image has no tag, so `latest` is pulled: deploy an explicit version",
            "[ADM-IMAGE-REGISTRY] ephemeral container debugger (ghcr.io/tools/debug@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb): ghcr.io/tools/debug matches none of the allowed patterns (registry.example.com/**, docker.io/library/*)",
        ]
    );
    assert_eq!(
        decision.denials[0].container,
        Some(ContainerRef {
            kind: ContainerKind::InitContainer,
            name: "setup".into()
        })
    );
    let message = decision.message();
    assert!(
        message.starts_with(
            "Deployment prod/web denied by the admission policy (default):\n[ADM-IMAGE-NOT-PINNED]"
        ),
        "{message}"
    );
}

#[test]
fn image_rule_messages() {
    let policy = policy(IMAGE_RULES);
    let cases = [
        (
            "nginx:latest",
            "ADM-IMAGE-LATEST",
            "the image uses the `latest` tag: deploy an explicit version",
        ),
        (
            "nginx:1.27@sha256:abc",
            "ADM-IMAGE-NOT-PINNED",
            "`sha256:abc` is not a sha256 digest: pin the image as docker.io/library/nginx@sha256:<64 hex digits>",
        ),
        (
            "registry.example.com.evil.io/app:1",
            "ADM-IMAGE-REGISTRY",
            "registry.example.com.evil.io/app matches none of the allowed patterns (registry.example.com/**, docker.io/library/*)",
        ),
        (
            "bitnami/redis:7",
            "ADM-IMAGE-REGISTRY",
            "docker.io/bitnami/redis matches none of the allowed patterns (registry.example.com/**, docker.io/library/*)",
        ),
    ];
    for (image, code, message) in cases {
        let decision = decide(&policy, &pod(image), "prod");
        let reason = decision
            .denials
            .iter()
            .find(|r| r.code == code)
            .unwrap_or_else(|| panic!("{image}: {:?}", decision.denials));
        assert_eq!(reason.message, message, "{image}");
        assert_eq!(reason.image.as_deref(), Some(image));
    }
    // `nginx` is docker.io/library/nginx, which the second pattern allows; a digest pin with a
    // `latest` tag runs exactly the pinned image.
    let decision = decide(
        &policy,
        &pod(&format!("nginx:latest@{}", digest('c'))),
        "prod",
    );
    assert!(decision.allowed, "{:?}", decision.denials);
}

#[test]
fn audit_mode_warns_and_allows() {
    let policy = policy(
        "version: 1\ndefault:\n  images:\n    require_digest: {mode: audit}\n    forbid_latest: {mode: enforce}\n",
    );
    let decision = decide(&policy, &pod("nginx:1.27"), "prod");
    assert!(decision.allowed);
    assert_eq!(codes(&decision.warnings), ["ADM-IMAGE-NOT-PINNED"]);
    let decision = decide(&policy, &pod("nginx"), "prod");
    assert!(!decision.allowed);
    assert_eq!(codes(&decision.denials), ["ADM-IMAGE-LATEST"]);
    assert_eq!(codes(&decision.warnings), ["ADM-IMAGE-NOT-PINNED"]);
}

fn privileged_spec() -> Value {
    json!({
        "containers": [{"name": "app", "image": "nginx:1.27", "securityContext": {"privileged": true}}],
        "initContainers": [{"name": "setup", "image": "nginx:1.27"}],
    })
}

#[test]
fn pod_security_reuses_the_standards_controls() {
    let baseline = policy("version: 1\ndefault:\n  pod_security: {level: baseline}\n");
    for kind in OWNER_KINDS {
        let decision = decide(&baseline, &owner(kind, privileged_spec()), "prod");
        assert_eq!(codes(&decision.denials), ["ADM-PSS"], "{kind}");
        let denial = &decision.denials[0];
        assert_eq!(denial.finding.as_deref(), Some("K8S-PSS-PRIVILEGED"));
        assert_eq!(
            denial.message,
            "K8S-PSS-PRIVILEGED: securityContext.privileged is true; allowed: undefined, false (Pod Security Standards baseline latest, required by the admission policy)"
        );
        assert_eq!(denial.container.as_ref().unwrap().name, "app");
    }
    // A plain pod meets baseline but not restricted; restricted names the init container too.
    let plain = pod("nginx:1.27");
    assert!(decide(&baseline, &plain, "prod").allowed);
    let restricted =
        policy("version: 1\ndefault:\n  pod_security: {level: restricted, version: v1.30}\n");
    let decision = decide(&restricted, &owner("Job", privileged_spec()), "prod");
    let findings: Vec<_> = decision
        .denials
        .iter()
        .filter_map(|d| d.finding.as_deref())
        .collect();
    assert!(findings.contains(&"K8S-PSS-PRIVILEGED"), "{findings:?}");
    assert!(
        findings.contains(&"K8S-PSS-RUN-AS-NON-ROOT"),
        "{findings:?}"
    );
    assert!(decision.denials.iter().any(|d| {
        d.container
            .as_ref()
            .is_some_and(|c| c.kind == ContainerKind::InitContainer)
    }));
    assert!(
        decision
            .denials
            .iter()
            .all(|d| d.message.contains("restricted v1.30"))
    );
}

#[test]
fn namespace_pss_labels_are_honoured_only_when_asked_and_known() {
    let labels: BTreeMap<String, String> = [
        ("pod-security.kubernetes.io/enforce", "baseline"),
        ("pod-security.kubernetes.io/warn", "restricted"),
        ("pod-security.kubernetes.io/warn-version", "v1.30"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let ignoring = policy("version: 1\ndefault:\n  pod_security: {level: baseline}\n");
    let honouring =
        policy("version: 1\ndefault:\n  pod_security: {level: baseline, namespace_labels: true}\n");
    let plain = pod("nginx:1.27");
    let decision = decide_with(&ignoring, &plain, "shop", Some(&labels), &NoVerdicts);
    assert!(decision.allowed && decision.warnings.is_empty());
    let decision = decide_with(&honouring, &plain, "shop", Some(&labels), &NoVerdicts);
    assert!(decision.allowed);
    assert!(!decision.warnings.is_empty());
    assert!(
        decision
            .warnings
            .iter()
            .all(|w| w.code == "ADM-PSS-NAMESPACE-WARN")
    );
    assert!(
        decision.warnings[0]
            .message
            .contains("restricted v1.30, namespace shop's pod-security.kubernetes.io/warn label"),
        "{}",
        decision.warnings[0].message
    );
    // Unknown labels: the policy's own level only.
    assert!(
        decide_with(&honouring, &plain, "shop", None, &NoVerdicts)
            .warnings
            .is_empty()
    );
    // An enforce label stricter than the policy wins.
    let strict: BTreeMap<String, String> = [(
        "pod-security.kubernetes.io/enforce".to_owned(),
        "restricted".to_owned(),
    )]
    .into();
    let decision = decide_with(&honouring, &plain, "shop", Some(&strict), &NoVerdicts);
    assert!(!decision.allowed);
    assert!(
        decision.denials[0]
            .message
            .contains("required by namespace shop's pod-security.kubernetes.io/enforce label")
    );
    // A privileged pod is reported once, under enforce, not again as a warning.
    let decision = decide_with(
        &honouring,
        &pod_privileged(),
        "shop",
        Some(&labels),
        &NoVerdicts,
    );
    assert_eq!(decision.denials.len(), 1);
    assert!(
        decision
            .warnings
            .iter()
            .all(|w| w.finding.as_deref() != Some("K8S-PSS-PRIVILEGED"))
    );
}

fn pod_privileged() -> Value {
    owner("Pod", privileged_spec())
}

#[test]
fn namespaces_select_their_rules() {
    let policy = policy(
        "version: 1\ndefault:\n  images: {forbid_latest: {mode: audit}}\nnamespaces:\n  - name: production\n    match: {names: ['prod-*']}\n    rules: {images: {forbid_latest: {}}}\n  - name: labelled\n    match: {labels: {tier: critical}}\n    rules: {images: {require_digest: {}}}\n",
    );
    let object = pod("nginx");
    let decision = decide(&policy, &object, "prod-eu");
    assert_eq!(
        (decision.allowed, decision.selection.as_str()),
        (false, "production")
    );
    let decision = decide(&policy, &object, "dev");
    assert_eq!(
        (decision.allowed, decision.selection.as_str()),
        (true, "default")
    );
    assert_eq!(
        codes(&decision.warnings),
        ["ADM-NAMESPACE-LABELS-UNKNOWN", "ADM-IMAGE-LATEST"]
    );
    assert!(
        decision.warnings[0]
            .message
            .contains("`labelled` needs namespace labels (tier=critical)")
    );
    let critical: BTreeMap<String, String> = [("tier".to_owned(), "critical".to_owned())].into();
    let decision = decide_with(&policy, &object, "payments", Some(&critical), &NoVerdicts);
    assert_eq!(
        (decision.allowed, decision.selection.as_str()),
        (false, "labelled")
    );
    assert_eq!(codes(&decision.denials), ["ADM-IMAGE-NOT-PINNED"]);
    let other: BTreeMap<String, String> = [("tier".to_owned(), "web".to_owned())].into();
    let decision = decide_with(&policy, &object, "payments", Some(&other), &NoVerdicts);
    assert_eq!(decision.selection, "default");
    assert_eq!(codes(&decision.warnings), ["ADM-IMAGE-LATEST"]);
}

const VERDICT_POLICY: &str =
    "version: 1\ndefault:\n  images:\n    verdict: {policy: release, max_age: 7d}\n";

fn verdicts() -> VerdictMap {
    let mut map = VerdictMap::new();
    map.insert(ImageVerdict {
        digest: digest('a'),
        passed: true,
        reasons: vec![],
        policy: "release".into(),
        scanned_at: NOW - DAY,
    });
    map.insert(ImageVerdict {
        digest: digest('b'),
        passed: false,
        reasons: vec!["1 finding at or above HIGH: CVE-2024-3094 in xz-utils".into()],
        policy: "release".into(),
        scanned_at: NOW - DAY,
    });
    map.insert(ImageVerdict {
        digest: digest('c'),
        passed: true,
        reasons: vec![],
        policy: "release".into(),
        scanned_at: NOW - 12 * DAY - 3600,
    });
    // Passed, but under another policy only.
    map.insert(ImageVerdict {
        digest: digest('d'),
        passed: true,
        reasons: vec![],
        policy: "default".into(),
        scanned_at: NOW,
    });
    map.insert_reference("registry.example.com/app:1.2", &digest('a'));
    map
}

#[test]
fn verdict_rule_reads_the_source() {
    let policy = policy(VERDICT_POLICY);
    let map = verdicts();
    let image = |c: char| format!("registry.example.com/app@{}", digest(c));
    let decision = decide_with(&policy, &pod(&image('a')), "prod", None, &map);
    assert!(decision.allowed, "{:?}", decision.denials);
    // A tag the source resolved finds the verdict of its digest.
    assert!(
        decide_with(
            &policy,
            &pod("registry.example.com/app:1.2"),
            "prod",
            None,
            &map
        )
        .allowed
    );
    let decision = decide_with(&policy, &pod(&image('b')), "prod", None, &map);
    assert_eq!(codes(&decision.denials), ["ADM-IMAGE-VERDICT-FAILED"]);
    assert_eq!(
        decision.denials[0].message,
        format!(
            "{} failed the scan policy `release`: 1 finding at or above HIGH: CVE-2024-3094 in xz-utils",
            digest('b')
        )
    );
    let decision = decide_with(&policy, &pod(&image('c')), "prod", None, &map);
    assert_eq!(codes(&decision.denials), ["ADM-IMAGE-VERDICT-STALE"]);
    assert_eq!(
        decision.denials[0].message,
        format!(
            "{} passed `release` but was scanned 12d 1h ago, over the 7d limit",
            digest('c')
        )
    );
    let decision = decide_with(&policy, &pod(&image('d')), "prod", None, &map);
    assert_eq!(codes(&decision.denials), ["ADM-IMAGE-NO-VERDICT"]);
    assert_eq!(
        decision.denials[0].message,
        "no verdict for the image under the scan policy `release`; unscanned images are denied"
    );
}

/// A source that scans: it answers with a verdict only when asked to scan.
struct Scanning;
impl VerdictSource for Scanning {
    fn lookup(&self, query: &VerdictQuery<'_>) -> VerdictLookup {
        if query.scan_if_unknown() {
            VerdictLookup::Known(ImageVerdict {
                digest: format!("sha256:{}", "e".repeat(64)),
                passed: true,
                reasons: vec![],
                policy: query.policy.to_owned(),
                scanned_at: NOW,
            })
        } else {
            VerdictLookup::Unknown { digest: None }
        }
    }
    fn can_scan(&self) -> bool {
        true
    }
}

#[test]
fn unscanned_modes() {
    let tag = pod("registry.example.com/new:1.0");
    let warn = policy("version: 1\ndefault: {images: {verdict: {unscanned: warn}}}\n");
    let decision = decide(&warn, &tag, "prod");
    assert!(decision.allowed);
    assert_eq!(
        decision.warnings[0].message,
        "no verdict for the image (a tag no verdict source resolved to a digest) under the scan policy `default`; allowed with a warning (`unscanned: warn`): scan it"
    );
    let scan = policy("version: 1\ndefault: {images: {verdict: {unscanned: scan}}}\n");
    let decision = decide(&scan, &tag, "prod");
    assert!(!decision.allowed);
    assert!(decision.denials[0].message.ends_with("`unscanned: scan` needs a verdict source that scans (the server), so the image is denied here"));

    assert!(decide_with(&scan, &tag, "prod", None, &Scanning).allowed);
    assert!(
        !decide_with(
            &policy("version: 1\ndefault: {images: {verdict: {}}}\n"),
            &tag,
            "prod",
            None,
            &Scanning
        )
        .allowed
    );
    // A failed lookup follows the unscanned mode and says why.
    let mut failing = VerdictMap::new();
    failing.insert_failure(
        "registry.example.com/new:1.0",
        "default",
        "server answered 503".into(),
    );
    let decision = decide_with(&warn, &tag, "prod", None, &failing);
    assert!(decision.allowed);
    assert!(
        decision.warnings[0]
            .message
            .contains("could not be looked up (server answered 503)")
    );
}

const EXEMPTIONS: &str = "version: 1\ndefault:\n  pod_security: {level: baseline}\n  images: {forbid_latest: {}}\nexemptions:\n  - {namespace: 'legacy-*', image: 'docker.io/library/busybox*', rules: [ADM-IMAGE-LATEST], reason: legacy jobs move in Q3, expires: 2026-09-30}\n  - {service_account: node-agent, rules: [K8S-PSS-PRIVILEGED], reason: the agent manages the node, expires: 2026-12-31}\n  - {namespace: old, reason: kept for the migration, expires: 2026-01-31}\n  - {image: 'ghcr.io/unused/*', reason: nothing uses it, expires: 2030-01-01}\n";

#[test]
fn exemptions_used_expired_and_unused() {
    let policy = policy(EXEMPTIONS);
    let decision = decide(&policy, &pod("busybox"), "legacy-batch");
    assert!(decision.allowed, "{:?}", decision.denials);
    assert_eq!(decision.exempted.len(), 1);
    assert_eq!(decision.exempted[0].exemption, 1);
    assert_eq!(
        decision.exempted[0].exemption_reason,
        "legacy jobs move in Q3"
    );
    assert_eq!(decision.exemptions_used, [1]);
    // The image exemption does not reach another image nor another namespace.
    assert!(!decide(&policy, &pod("nginx"), "legacy-batch").allowed);
    assert!(!decide(&policy, &pod("busybox"), "prod").allowed);
    // A service account exemption naming one control covers that control only.
    let mut agent = pod_privileged();
    agent["spec"]["serviceAccountName"] = json!("node-agent");
    let decision = decide(&policy, &agent, "kube-ops");
    assert!(decision.allowed, "{:?}", decision.denials);
    agent["spec"]["hostNetwork"] = json!(true);
    let decision = decide(&policy, &agent, "kube-ops");
    assert_eq!(
        decision
            .denials
            .iter()
            .map(|d| d.finding.as_deref().unwrap())
            .collect::<Vec<_>>(),
        ["K8S-PSS-HOST-NAMESPACES"]
    );
    // An expired exemption no longer applies and says so once.
    let decision = decide(&policy, &owner("Deployment", privileged_spec()), "old");
    assert!(!decision.allowed);
    assert_eq!(codes(&decision.warnings), ["ADM-EXEMPTION-EXPIRED"]);
    assert_eq!(
        decision.warnings[0].message,
        "exemption 3 (\"kept for the migration\") expired on 2026-01-31 and no longer applies"
    );
    let all = [
        decide(&policy, &pod("busybox"), "legacy-batch"),
        decide(&policy, &owner("Deployment", privileged_spec()), "old"),
    ];
    let unused: Vec<usize> = policy
        .unused_exemptions(&all)
        .iter()
        .map(|e| e.index)
        .collect();
    // Exemption 3 was reported as expired: not again as unused.
    assert_eq!(unused, [2, 4]);
}

#[test]
fn objects_that_run_no_pod_are_skipped_and_malformed_ones_denied() {
    let policy = policy(IMAGE_RULES);
    for object in [
        json!({"kind": "ConfigMap", "metadata": {"name": "c"}}),
        json!({"kind": "FancyCustomThing", "spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}),
        json!({"metadata": {"name": "no-kind"}}),
        json!("just a string"),
        json!([1, 2, 3]),
    ] {
        let decision = decide(&policy, &object, "prod");
        assert!(decision.allowed, "{object}");
        assert!(decision.skipped.is_some(), "{object}");
    }
    let decision = decide(
        &policy,
        &json!({"kind": "Deployment", "metadata": {"name": "d"}, "spec": {}}),
        "prod",
    );
    assert!(!decision.allowed);
    assert_eq!(
        decision.denials[0].message,
        "the Deployment has no pod template: `spec.template.spec` is missing"
    );
    let decision = decide(
        &policy,
        &json!({"kind": "CronJob", "spec": {"jobTemplate": 3}}),
        "prod",
    );
    assert_eq!(
        decision.denials[0].message,
        "the CronJob has no pod template: `spec.jobTemplate.spec.template.spec` is missing"
    );
    assert_eq!(decision.object.name, "<unnamed>");
    let decision = decide(
        &policy,
        &json!({"kind": "Pod", "spec": {"containers": [{"name": "a"}, {"image": 42}]}}),
        "prod",
    );
    assert_eq!(
        codes(&decision.denials),
        ["ADM-OBJECT-MALFORMED", "ADM-OBJECT-MALFORMED"]
    );
    assert_eq!(
        decision.denials[1].describe(),
        "[ADM-OBJECT-MALFORMED] container #2: the container names no image"
    );
    // DELETE is not checked.
    let object = pod("nginx");
    let decision = policy.evaluate(
        &AdmissionRequest {
            object: &object,
            namespace: "prod",
            namespace_labels: None,
            operation: Operation::Delete,
            now: NOW,
        },
        &NoVerdicts,
    );
    assert!(decision.allowed && decision.skipped.is_some());
}

#[test]
fn every_rule_code_is_listed_once_with_a_doc() {
    let rules = admission_rules();
    let mut codes: Vec<&str> = rules.iter().map(|r| r.code).collect();
    assert_eq!(
        codes,
        [
            "ADM-OBJECT-MALFORMED",
            "ADM-NAMESPACE-LABELS-UNKNOWN",
            "ADM-PSS",
            "ADM-PSS-NAMESPACE-WARN",
            "ADM-IMAGE-REGISTRY",
            "ADM-IMAGE-NOT-PINNED",
            "ADM-IMAGE-LATEST",
            "ADM-IMAGE-VERDICT-FAILED",
            "ADM-IMAGE-VERDICT-STALE",
            "ADM-IMAGE-NO-VERDICT",
            "ADM-IMAGE-UNTRUSTED",
            "ADM-IMAGE-TRUST-UNKNOWN",
            "ADM-EXEMPTION-EXPIRED",
            "ADM-EXEMPTION-UNUSED",
        ]
    );
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), rules.len());
    for rule in &rules {
        assert!(
            rule.doc.contains("Why:") && rule.doc.contains("Fix:") && rule.doc.contains("Example:"),
            "{}",
            rule.code
        );
    }
}

#[test]
fn verdict_files_are_read_strictly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("verdicts.json");
    std::fs::write(
        &path,
        format!(r#"{{"verdicts": [{{"image": "registry.example.com/app:1.2", "digest": "{}", "passed": true, "policy": "release", "scanned_at": "2026-02-28T00:00:00Z"}}, {{"digest": "{}", "policy": "default", "policy_version": 3, "passed": false, "reasons": ["secret"], "findings": 1, "suppressed": 0, "scanned_at": 1772150400, "decided_at": 1772150400}}]}}"#, digest('a'), digest('b')),
    )
    .unwrap();
    let map = VerdictMap::load(&path).unwrap();
    assert_eq!(map.len(), 2);
    let decision = decide_with(
        &policy(VERDICT_POLICY),
        &pod("registry.example.com/app:1.2"),
        "prod",
        None,
        &map,
    );
    assert!(decision.allowed, "{:?}", decision.denials);
    std::fs::write(
        &path,
        r#"{"verdicts": [{"digest": "sha256:abc", "passed": true, "scanned_at": 1}]}"#,
    )
    .unwrap();
    let error = VerdictMap::load(&path).unwrap_err().to_string();
    assert!(
        error.contains("verdicts.json") && error.contains("verdicts[0].digest"),
        "{error}"
    );
    std::fs::write(&path, r#"{"verdicts": [{"digest": "x", "pased": true}]}"#).unwrap();
    let error = VerdictMap::load(&path).unwrap_err().to_string();
    assert!(
        error.contains("verdicts[0]") && error.contains("pased"),
        "{error}"
    );
}

#[test]
fn the_namespace_name_label_is_known_without_the_others() {
    let policy = policy(
        "version: 1\nnamespaces:\n  - name: by-name-label\n    match: {labels: {kubernetes.io/metadata.name: payments}}\n    rules:\n      images: {forbid_latest: {}}\n  - name: by-team\n    match: {labels: {kubernetes.io/metadata.name: shop, team: web}}\n    rules:\n      images: {forbid_latest: {}}\n",
    );
    // Labels unknown (an AdmissionReview carries none): the name label still selects.
    let decision = decide(&policy, &pod("nginx"), "payments");
    assert_eq!(decision.selection, "by-name-label");
    assert_eq!(codes(&decision.denials), ["ADM-IMAGE-LATEST"]);
    // Another label unknown: skipped with a warning, never guessed.
    let decision = decide(&policy, &pod("nginx"), "shop");
    assert_eq!(decision.selection, "default");
    assert_eq!(codes(&decision.warnings), ["ADM-NAMESPACE-LABELS-UNKNOWN"]);
    // The name not matching is a plain no, whatever else is unknown.
    let decision = decide(&policy, &pod("nginx"), "billing");
    assert!(decision.warnings.is_empty(), "{:?}", decision.warnings);
    // Known labels: all must match.
    let labels = BTreeMap::from([("team".to_owned(), "web".to_owned())]);
    let decision = decide_with(&policy, &pod("nginx"), "shop", Some(&labels), &NoVerdicts);
    assert_eq!(decision.selection, "by-team");
}

/// A source that records what it was asked about signatures and answers from a map.
struct Verifying {
    answers: VerdictMap,
    asked: std::cell::RefCell<Vec<(String, Option<String>)>>,
}

impl VerdictSource for Verifying {
    fn lookup(&self, query: &VerdictQuery<'_>) -> VerdictLookup {
        self.answers.lookup(query)
    }
    fn trust(&self, query: &TrustQuery<'_>) -> TrustLookup {
        self.asked
            .borrow_mut()
            .push((query.image.to_owned(), query.digest.map(str::to_owned)));
        self.answers.trust(query)
    }
}

#[test]
fn trust_rule_denies_what_the_trust_policy_does_not_trust_and_never_assumes_trust() {
    let policy = policy(
        "version: 1\ndefault:\n  images:\n    allowed: {patterns: ['registry.example.com/**']}\n    trust: {}\nnamespaces:\n  - name: dev\n    match: {names: [dev]}\n    rules: {images: {trust: {mode: audit}}}\n",
    );
    assert!(policy.requires_trust());
    let signed = format!("registry.example.com/app@{}", digest('a'));
    let unsigned = "registry.example.com/tool:1.0";
    let failing = format!("registry.example.com/old@{}", digest('c'));
    let mut answers = VerdictMap::new();
    answers.insert_trust(
        &signed,
        TrustLookup::Verified(ImageTrust {
            digest: digest('a'),
            trusted: true,
            unmet: vec![],
        }),
    );
    answers.insert_trust(
        unsigned,
        TrustLookup::Verified(ImageTrust {
            digest: digest('b'),
            trusted: false,
            unmet: vec!["signature: no signature by a trusted signer verified".to_owned()],
        }),
    );
    answers.insert_trust(
        &failing,
        TrustLookup::Failed("the registry did not answer within the time budget".to_owned()),
    );
    let source = Verifying {
        answers,
        asked: std::cell::RefCell::new(Vec::new()),
    };

    let allowed = decide_with(&policy, &pod(&signed), "prod", None, &source);
    assert!(allowed.allowed, "{:?}", allowed.denials);
    assert_eq!(
        source.asked.borrow()[0],
        (signed.clone(), Some(digest('a')))
    );

    let denied = decide_with(&policy, &pod(unsigned), "prod", None, &source);
    assert_eq!(codes(&denied.denials), ["ADM-IMAGE-UNTRUSTED"]);
    assert_eq!(
        denied.denials[0].message,
        format!(
            "{} does not meet the trust policy: signature: no signature by a trusted signer verified",
            digest('b')
        )
    );

    let failed = decide_with(&policy, &pod(&failing), "prod", None, &source);
    assert_eq!(codes(&failed.denials), ["ADM-IMAGE-TRUST-UNKNOWN"]);
    assert!(
        failed.denials[0]
            .message
            .ends_with("could not be verified: the registry did not answer within the time budget"),
        "{}",
        failed.denials[0].message
    );

    // Nothing verified is not trusted.
    let unknown = decide(
        &policy,
        &pod(&format!("registry.example.com/x@{}", digest('d'))),
        "prod",
    );
    assert_eq!(codes(&unknown.denials), ["ADM-IMAGE-TRUST-UNKNOWN"]);

    // An image from a repository the policy does not allow is not verified (the source is
    // not even asked), and stays denied on trust even if the registry rule is exempted.
    let elsewhere = format!("ghcr.io/evil/miner@{}", digest('e'));
    let denied = decide_with(&policy, &pod(&elsewhere), "prod", None, &source);
    assert_eq!(
        codes(&denied.denials),
        ["ADM-IMAGE-REGISTRY", "ADM-IMAGE-TRUST-UNKNOWN"]
    );
    assert!(
        source
            .asked
            .borrow()
            .iter()
            .all(|(image, _)| *image != elsewhere)
    );
    assert!(
        denied.denials[1]
            .message
            .contains("not fetched from a repository the policy does not allow")
    );

    // Audit mode warns.
    let warned = decide_with(&policy, &pod(unsigned), "dev", None, &source);
    assert!(warned.allowed);
    assert_eq!(codes(&warned.warnings), ["ADM-IMAGE-UNTRUSTED"]);
}

#[test]
fn trust_exemptions_cover_the_trust_rules() {
    let policy = policy(
        "version: 1\ndefault: {images: {trust: {}}}\nexemptions:\n  - image: 'registry.example.com/legacy*'\n    rules: [ADM-IMAGE-UNTRUSTED, ADM-IMAGE-TRUST-UNKNOWN]\n    reason: signed from the next release on\n    expires: 2026-06-30\n",
    );
    let decision = decide(&policy, &pod("registry.example.com/legacy:3"), "prod");
    assert!(decision.allowed, "{:?}", decision.denials);
    assert_eq!(decision.exempted.len(), 1);
    assert_eq!(decision.exempted[0].reason.code, "ADM-IMAGE-TRUST-UNKNOWN");
    assert_eq!(decision.exemptions_used, [1]);
    // Another repository is not covered.
    let other = decide(&policy, &pod("registry.example.com/app:3"), "prod");
    assert_eq!(codes(&other.denials), ["ADM-IMAGE-TRUST-UNKNOWN"]);
}
