use rempart_core::Finding;

use super::Context;
use super::model::get_str;
use crate::check::check_doc;

check_doc! {
    code: "K8S-RBAC-CLUSTER-ADMIN-BINDING",
    title: "Binding to cluster-admin",
    severity: High,
    target: Kubernetes,
    doc: "A RoleBinding or ClusterRoleBinding grants the `cluster-admin` ClusterRole.\n\n\
Why: cluster-admin can do anything in the cluster (or the namespace, through a RoleBinding), \
including reading every Secret and creating privileged pods; a workload bound to it turns any \
compromise into a cluster compromise.\n\n\
Fix: bind a Role with the specific permissions needed.\n\n\
Example: `roleRef: {kind: ClusterRole, name: cluster-admin}`.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for object in context
        .objects
        .iter()
        .filter(|o| matches!(o.kind, "RoleBinding" | "ClusterRoleBinding"))
    {
        if get_str(object.value, &["roleRef", "kind"]) == Some("ClusterRole")
            && get_str(object.value, &["roleRef", "name"]) == Some("cluster-admin")
        {
            out.push(context.finding(
                &CHECK,
                object,
                None,
                "bind a narrower role than cluster-admin",
            ));
        }
    }
}
