use rempart_core::Finding;

use super::Context;
use crate::check::check_doc;
use crate::common::{parse_ports, risky_port};

check_doc! {
    code: "DF-EXPOSE-RISKY",
    title: "EXPOSE of a remote-access or unauthenticated service port",
    severity: Medium,
    target: Dockerfile,
    doc: "An `EXPOSE` names a port of a service that is a frequent way in: SSH (22), Telnet (23), \
the Docker API (2375, 2376), etcd (2379), RDP (3389), VNC (5900), or a data store without \
authentication by default (Redis 6379, Elasticsearch 9200, Memcached 11211, MongoDB 27017).\n\n\
Why: an SSH or remote desktop server in a container is an unmanaged entry point; the Docker API \
gives root on the host; unauthenticated stores leak or lose data as soon as the port is \
published.\n\n\
Fix: drop the server (use `docker exec` / `kubectl exec` for access), or keep the port internal \
and turn on authentication.\n\n\
Example: `EXPOSE 22` and `EXPOSE 2375/tcp` are reported; `EXPOSE 8080` is not.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for stage in &context.file.stages {
        for expose in stage.instructions.iter().filter(|i| i.keyword == "EXPOSE") {
            for word in expose.args.words() {
                for port in parse_ports(&word) {
                    if let Some(why) = risky_port(port) {
                        out.push(CHECK.finding(
                            context.at(expose.line),
                            format!("Dockerfile {} EXPOSE {port}", stage.label()),
                            format!("{why}; do not expose it from the image"),
                        ));
                    }
                }
            }
        }
    }
}
