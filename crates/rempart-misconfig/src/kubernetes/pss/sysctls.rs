use super::Violation;
use crate::check::check_doc;
use crate::kubernetes::model::{Pod, array, get_str};

check_doc! {
    code: "K8S-PSS-SYSCTLS",
    title: "Unsafe sysctl (PSS baseline)",
    severity: High,
    target: Kubernetes,
    doc: "Pod Security Standards, baseline, Sysctls: `spec.securityContext.sysctls[*].name` may only \
be one of the safe set: kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, \
net.ipv4.ip_unprivileged_port_start, net.ipv4.tcp_syncookies, net.ipv4.ping_group_range, \
net.ipv4.ip_local_reserved_ports, net.ipv4.tcp_keepalive_time, net.ipv4.tcp_fin_timeout, \
net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes.\n\n\
Why: other sysctls are not isolated between pods, or can disable security mechanisms of the \
whole node.\n\n\
Fix: remove the sysctl, or set it on the node for dedicated nodes.\n\n\
Example: `sysctls: [{name: kernel.msgmax, value: \"65536\"}]`.",
}

const SAFE: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

pub(crate) fn evaluate(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    for sysctl in array(pod.spec, &["securityContext", "sysctls"]) {
        let name = get_str(sysctl, &["name"]).unwrap_or("");
        if !SAFE.contains(&name) {
            out.push(Violation::pod(format!(
                "spec.securityContext.sysctls has {name:?}; allowed: the safe set"
            )));
        }
    }
}
