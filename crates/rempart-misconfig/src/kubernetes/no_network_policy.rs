use std::collections::{BTreeMap, BTreeSet};

use rempart_core::Finding;

use super::Context;
use super::model::Object;
use crate::check::check_doc;

check_doc! {
    code: "K8S-NAMESPACE-NO-NETWORKPOLICY",
    title: "Namespace with workloads but no NetworkPolicy",
    severity: Low,
    target: Kubernetes,
    doc: "Among the manifests checked together, a namespace has workloads but no NetworkPolicy. \
Objects without `metadata.namespace` count as namespace `default` (where `kubectl apply` puts \
them unless told otherwise). Reported once per namespace, on its first workload.\n\n\
Why: without a NetworkPolicy every pod accepts traffic from every pod of the cluster, so one \
compromised workload can reach all the others.\n\n\
Fix: add a default-deny policy per namespace and allow the flows you need: \
`kind: NetworkPolicy`, `spec: {podSelector: {}, policyTypes: [Ingress, Egress]}`.\n\n\
Example: a Deployment in namespace `shop` and no NetworkPolicy in `shop`.",
}

fn namespace<'a>(object: &Object<'a>) -> &'a str {
    object.namespace.unwrap_or("default")
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    let covered: BTreeSet<&str> = context
        .objects
        .iter()
        .filter(|o| o.kind == "NetworkPolicy")
        .map(namespace)
        .collect();
    let mut first: BTreeMap<&str, &Object<'_>> = BTreeMap::new();
    for object in context.objects.iter().filter(|o| o.pod().is_some()) {
        first.entry(namespace(object)).or_insert(object);
    }
    for (ns, object) in first {
        if !covered.contains(ns) {
            let mut finding = context.finding(
                &CHECK,
                object,
                None,
                format!("add a default-deny NetworkPolicy to namespace {ns}"),
            );
            if let rempart_core::FindingDetails::Misconfig { resource, .. } = &mut finding.details {
                *resource = format!("Namespace/{ns}");
            }
            out.push(finding);
        }
    }
}
