use rempart_core::Finding;

use super::Context;
use super::model::get_str;
use crate::check::check_doc;

check_doc! {
    code: "K8S-SERVICE-EXPOSED",
    title: "Service of type NodePort or LoadBalancer",
    severity: Info,
    target: Kubernetes,
    doc: "A Service has `type: NodePort` or `type: LoadBalancer`.\n\n\
Why: NodePort opens the port on every node; LoadBalancer usually gives the service a public \
address. That may be intended, so this is information to review, not a defect.\n\n\
Fix: use `ClusterIP` behind an Ingress or Gateway for HTTP, and restrict \
`loadBalancerSourceRanges` when a LoadBalancer is needed.\n\n\
Example: `spec: {type: LoadBalancer}`.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for object in context.objects.iter().filter(|o| o.kind == "Service") {
        if let Some(kind @ ("NodePort" | "LoadBalancer")) = get_str(object.value, &["spec", "type"])
        {
            out.push(context.finding(
                &CHECK,
                object,
                None,
                format!(
                    "type {kind} exposes the service outside the cluster: confirm it is intended"
                ),
            ));
        }
    }
}
