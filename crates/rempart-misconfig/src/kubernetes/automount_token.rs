use rempart_core::Finding;

use super::Context;
use super::model::get_bool;
use crate::check::check_doc;

check_doc! {
    code: "K8S-SA-TOKEN-AUTOMOUNT",
    title: "Service account token mounted automatically",
    severity: Low,
    target: Kubernetes,
    doc: "The pod spec does not set `automountServiceAccountToken: false`.\n\n\
Why: every container then gets a token for the pod's service account at \
`/var/run/secrets/kubernetes.io/serviceaccount`; an attacker in the container can use it against \
the API server with whatever RBAC grants the account. Most applications never call the API.\n\n\
Fix: `automountServiceAccountToken: false` in the pod spec (or on the ServiceAccount) unless the \
workload talks to the API server. A ServiceAccount object in the same manifests that sets it to \
false is not taken into account: the pod-level field wins and is the explicit choice.\n\n\
Example: a Deployment without the field.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for object in &context.objects {
        let Some(pod) = object.pod() else { continue };
        if get_bool(pod.spec, &["automountServiceAccountToken"]) != Some(false) {
            out.push(context.finding(
                &CHECK,
                object,
                None,
                "set automountServiceAccountToken: false unless the workload calls the API server",
            ));
        }
    }
}
