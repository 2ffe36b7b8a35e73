//! `rempart admit`: the admission decisions the cluster would make, on manifest files, for CI.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use rempart::{
    AdmissionPolicy, AdmissionRequest, Decision, ImageTrust, Operation, TrustLookup, TrustQuery,
    VerdictLookup, VerdictMap, VerdictQuery, VerdictSource, containers_of, fetch_server_verdicts,
    is_workload_kind,
};
use serde::Serialize;
use serde_json::Value;

use crate::Outcome;
use crate::cli::AdmitArgs;
use crate::commands::source::registry_options;
use crate::context::{cache_root, write_stdout};

/// A manifest named on the command line; the manifest checks' own cap.
const MAX_MANIFEST_BYTES: u64 = 16 * 1024 * 1024;

/// One object of the manifests and its decision.
#[derive(Serialize)]
struct Evaluated {
    file: String,
    line: u32,
    decision: Decision,
}

#[derive(Serialize)]
struct UnusedExemption {
    code: &'static str,
    exemption: usize,
    reason: String,
    message: String,
}

#[derive(Serialize)]
struct Report {
    policy: String,
    allowed: usize,
    denied: usize,
    skipped: usize,
    objects: Vec<Evaluated>,
    unused_exemptions: Vec<UnusedExemption>,
}

pub(crate) fn run(args: &AdmitArgs) -> Result<Outcome> {
    if !matches!(args.format.as_str(), "table" | "json") {
        bail!("unknown format {}: use table or json", args.format);
    }
    let operation = match args.operation.to_ascii_lowercase().as_str() {
        "create" => Operation::Create,
        "update" => Operation::Update,
        other => bail!("unknown operation {other}: use create or update"),
    };
    let policy = AdmissionPolicy::load(&args.policy)?;
    if policy.requires_trust() && args.trust_policy.is_none() {
        bail!(
            "{}: the rule `images.trust` verifies images against a trust policy: give it with --trust-policy FILE",
            args.policy.display()
        );
    }
    let trust_policy = args
        .trust_policy
        .as_deref()
        .map(rempart_trust::TrustPolicy::load)
        .transpose()?;
    let mut labels: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for entry in &args.namespace_label {
        let parsed = entry
            .split_once(':')
            .and_then(|(ns, label)| label.split_once('=').map(|(k, v)| (ns, k, v)))
            .filter(|(ns, key, _)| !ns.is_empty() && !key.is_empty());
        let Some((namespace, key, value)) = parsed else {
            bail!("--namespace-label {entry}: expected NAMESPACE:KEY=VALUE");
        };
        labels
            .entry(namespace.to_owned())
            .or_default()
            .insert(key.to_owned(), value.to_owned());
    }

    // Every document of every file first: a Namespace in one file gives the labels of
    // workloads in another, as `kubectl apply -f DIR` would create it first.
    let mut objects: Vec<(String, u32, Value)> = Vec::new();
    for path in &args.manifests {
        let shown = path.display().to_string();
        let text = rempart_core::read_regular_text(path, MAX_MANIFEST_BYTES)
            .with_context(|| format!("cannot read {shown}"))?;
        for (line, value) in rempart_misconfig::load_manifest_documents(&shown, &text)? {
            let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
            if kind.ends_with("List")
                && let Some(items) = value.get("items").and_then(Value::as_array)
            {
                objects.extend(items.iter().map(|item| (shown.clone(), line, item.clone())));
            } else {
                objects.push((shown.clone(), line, value));
            }
        }
    }
    for (_, _, object) in &objects {
        if object.get("kind").and_then(Value::as_str) != Some("Namespace") {
            continue;
        }
        let Some(name) = object.pointer("/metadata/name").and_then(Value::as_str) else {
            continue;
        };
        let own = labels.entry(name.to_owned()).or_default();
        if let Some(map) = object
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
        {
            for (key, value) in map {
                if let Some(value) = value.as_str() {
                    own.entry(key.clone()).or_insert_with(|| value.to_owned());
                }
            }
        }
    }

    let mut verdicts = verdict_source(args, &policy, &objects)?;
    let now = i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs(),
    )
    .unwrap_or(i64::MAX);
    let decide = |object: &Value, source: &dyn VerdictSource| {
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
        // Namespaces are the context of the decisions, not objects to decide on.
        if kind == "Namespace" {
            return None;
        }
        let namespace = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or(&args.namespace);
        Some(policy.evaluate(
            &AdmissionRequest {
                object,
                namespace,
                namespace_labels: labels.get(namespace),
                operation,
                now,
            },
            source,
        ))
    };
    if let Some(trust_policy) = &trust_policy {
        // A first pass learns which images the trust rules ask about (those the policy lets
        // through to that rule), then they are verified, then the decisions are made.
        let noting = NotingTrust {
            map: &verdicts,
            asked: RefCell::new(BTreeSet::new()),
        };
        for (_, _, object) in &objects {
            decide(object, &noting);
        }
        let asked = noting.asked.into_inner();
        verify_images(args, trust_policy, &asked, &mut verdicts)?;
    }
    let mut report = Report {
        policy: args.policy.display().to_string(),
        allowed: 0,
        denied: 0,
        skipped: 0,
        objects: Vec::new(),
        unused_exemptions: Vec::new(),
    };
    for (file, line, object) in &objects {
        let Some(decision) = decide(object, &verdicts) else {
            continue;
        };
        if decision.skipped.is_some() {
            report.skipped += 1;
        } else if decision.allowed {
            report.allowed += 1;
        } else {
            report.denied += 1;
        }
        report.objects.push(Evaluated {
            file: file.clone(),
            line: *line,
            decision,
        });
    }
    let decisions: Vec<Decision> = report.objects.iter().map(|o| o.decision.clone()).collect();
    for exemption in policy.unused_exemptions(&decisions) {
        report.unused_exemptions.push(UnusedExemption {
            code: "ADM-EXEMPTION-UNUSED",
            exemption: exemption.index,
            reason: exemption.reason.clone(),
            message: format!(
                "exemption {} (\"{}\", expires {}) covered nothing in these manifests",
                exemption.index, exemption.reason, exemption.expires
            ),
        });
    }

    let text = if args.format == "json" {
        serde_json::to_string_pretty(&report)? + "\n"
    } else {
        table(&report)
    };
    write_stdout(text.as_bytes())?;
    Ok(if report.denied > 0 {
        Outcome::Findings(1)
    } else {
        Outcome::Clean
    })
}

/// Answers from the verdicts gathered so far, noting the images the trust rules ask about.
struct NotingTrust<'a> {
    map: &'a VerdictMap,
    asked: RefCell<BTreeSet<String>>,
}

impl VerdictSource for NotingTrust<'_> {
    fn lookup(&self, query: &VerdictQuery<'_>) -> VerdictLookup {
        self.map.lookup(query)
    }

    fn trust(&self, query: &TrustQuery<'_>) -> TrustLookup {
        self.asked.borrow_mut().insert(query.image.to_owned());
        TrustLookup::Unknown
    }
}

/// Verifies each image in its registry against the trust policy. An image that cannot be
/// verified (a registry that does not answer) is recorded as such: the decision denies it,
/// saying why, rather than stopping the other decisions.
fn verify_images(
    args: &AdmitArgs,
    trust_policy: &rempart_trust::TrustPolicy,
    images: &BTreeSet<String>,
    verdicts: &mut VerdictMap,
) -> Result<()> {
    if images.is_empty() {
        return Ok(());
    }
    let prepared = rempart_trust::PreparedPolicy::new(trust_policy)?;
    let options = registry_options(&args.source, &cache_root(None)?);
    for image in images {
        let outcome = match rempart_trust::verify_registry_image(image, &options, &prepared) {
            Ok(report) => TrustLookup::Verified(ImageTrust::from_report(&report)),
            Err(error) => TrustLookup::Failed(rempart_core::error_chain(&error)),
        };
        verdicts.insert_trust(image, outcome);
    }
    Ok(())
}

/// The verdicts file(s), then the server's answers for the images pinned by digest.
fn verdict_source(
    args: &AdmitArgs,
    policy: &AdmissionPolicy,
    objects: &[(String, u32, Value)],
) -> Result<VerdictMap> {
    let mut verdicts = VerdictMap::new();
    for path in &args.verdicts {
        verdicts.extend(VerdictMap::load(path)?);
    }
    if let (Some(server), Some(token)) = (&args.server, &args.token) {
        let mut digests: Vec<String> = objects
            .iter()
            .filter(|(_, _, object)| {
                is_workload_kind(object.get("kind").and_then(Value::as_str).unwrap_or(""))
            })
            .flat_map(|(_, _, object)| containers_of(object))
            .filter_map(|container| container.image)
            .filter_map(|image| image.split_once('@').map(|(_, digest)| digest.to_owned()))
            .collect();
        digests.sort();
        digests.dedup();
        let fetched = fetch_server_verdicts(
            server,
            token,
            &digests,
            &policy.verdict_policies(),
            Duration::from_secs(30),
        );
        verdicts.extend(fetched);
    }
    Ok(verdicts)
}

fn table(report: &Report) -> String {
    let mut text = String::new();
    for object in &report.objects {
        let decision = &object.decision;
        let state = if decision.skipped.is_some() {
            "SKIPPED"
        } else if decision.allowed {
            "ALLOWED"
        } else {
            "DENIED"
        };
        let _ = writeln!(
            text,
            "{state:<8} {} ({}:{})",
            one_line(&decision.object.describe()),
            one_line(&object.file),
            object.line
        );
        if let Some(why) = &decision.skipped {
            let _ = writeln!(text, "         {}", one_line(why));
        }
        for denial in &decision.denials {
            let _ = writeln!(text, "  deny   {}", one_line(&denial.describe()));
        }
        for warning in &decision.warnings {
            let _ = writeln!(text, "  warn   {}", one_line(&warning.describe()));
        }
        for exempted in &decision.exempted {
            let _ = writeln!(
                text,
                "  exempt {} (exemption {}: {})",
                one_line(&exempted.reason.describe()),
                exempted.exemption,
                one_line(&exempted.exemption_reason)
            );
        }
    }
    for unused in &report.unused_exemptions {
        let _ = writeln!(text, "{}: {}", unused.code, one_line(&unused.message));
    }
    let _ = writeln!(
        text,
        "\n{} objects: {} allowed, {} denied, {} skipped (policy {})",
        report.objects.len(),
        report.allowed,
        report.denied,
        report.skipped,
        report.policy
    );
    text
}

/// Text from manifests on one line, control characters escaped: a name or image must not be
/// able to forge another line of the table or move the terminal.
fn one_line(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}
