use super::Violation;
use crate::check::check_doc;
use crate::kubernetes::model::{Pod, array, get_str};

check_doc! {
    code: "K8S-PSS-SYSCTLS",
    title: "Unsafe sysctl (PSS baseline)",
    severity: High,
    target: Kubernetes,
    doc: "Pod Security Standards, baseline, Sysctls: `spec.securityContext.sysctls[*].name` may only \
be one of the safe set of the namespace's version: kernel.shm_rmid_forced, \
net.ipv4.ip_local_port_range, net.ipv4.ip_unprivileged_port_start, net.ipv4.tcp_syncookies, \
net.ipv4.ping_group_range; from 1.27 net.ipv4.ip_local_reserved_ports; from 1.29 \
net.ipv4.tcp_keepalive_time, net.ipv4.tcp_fin_timeout, net.ipv4.tcp_keepalive_intvl, \
net.ipv4.tcp_keepalive_probes; from 1.32 net.ipv4.tcp_rmem, net.ipv4.tcp_wmem; from 1.37 \
net.ipv4.tcp_slow_start_after_idle, net.ipv4.tcp_notsent_lowat.\n\n\
Why: other sysctls are not isolated between pods, or can disable security mechanisms of the \
whole node.\n\n\
Fix: remove the sysctl, or set it on the node for dedicated nodes.\n\n\
Example: `sysctls: [{name: kernel.msgmax, value: \"65536\"}]`.",
}

/// The safe set, each name with the minor version that added it.
const SAFE: &[(&str, u32)] = &[
    ("kernel.shm_rmid_forced", 0),
    ("net.ipv4.ip_local_port_range", 0),
    ("net.ipv4.ip_unprivileged_port_start", 0),
    ("net.ipv4.tcp_syncookies", 0),
    ("net.ipv4.ping_group_range", 0),
    ("net.ipv4.ip_local_reserved_ports", 27),
    ("net.ipv4.tcp_keepalive_time", 29),
    ("net.ipv4.tcp_fin_timeout", 29),
    ("net.ipv4.tcp_keepalive_intvl", 29),
    ("net.ipv4.tcp_keepalive_probes", 29),
    ("net.ipv4.tcp_rmem", 32),
    ("net.ipv4.tcp_wmem", 32),
    ("net.ipv4.tcp_slow_start_after_idle", 37),
    ("net.ipv4.tcp_notsent_lowat", 37),
];

pub(crate) fn evaluate(pod: &Pod<'_>, minor: u32, out: &mut Vec<Violation>) {
    for sysctl in array(pod.spec, &["securityContext", "sysctls"]) {
        let name = get_str(sysctl, &["name"]).unwrap_or("");
        let safe = SAFE
            .iter()
            .any(|(safe, since)| *safe == name && *since <= minor);
        if !safe {
            out.push(Violation::pod(format!(
                "spec.securityContext.sysctls has {name:?}; allowed: the safe set"
            )));
        }
    }
}
