use std::collections::BTreeSet;

use rempart_core::{Finding, ImageContext};

use super::config_location;
use crate::check::check_doc;
use crate::common::{parse_ports, risky_port};

check_doc! {
    code: "IMG-EXPOSE-RISKY",
    title: "Image exposes a remote-access or unauthenticated service port",
    severity: Medium,
    target: Image,
    doc: "The image config's `ExposedPorts`, or an `EXPOSE` step of its history (BuildKit records \
`EXPOSE map[22/tcp:{}]`, the classic builder `EXPOSE 22`), names one of: 22 (SSH), 23 (Telnet), \
2375/2376 (Docker API), 2379 (etcd), 3389 (RDP), 5900 (VNC), 6379 (Redis), 9200 \
(Elasticsearch), 11211 (Memcached), 27017 (MongoDB). Each port is reported once.\n\n\
Why: remote shells and desktops in containers are unmanaged ways in; the Docker API is root on \
the host; these data stores ship without authentication by default.\n\n\
Fix: remove the server from the image, or keep the port private and enable authentication.\n\n\
Example: `ExposedPorts: {\"22/tcp\": {}}`.",
}

/// Ports named by an `EXPOSE` history line in either builder's format.
fn history_ports(created_by: &str) -> Vec<u16> {
    let Some(position) = created_by.find("EXPOSE") else {
        return Vec::new();
    };
    let rest = &created_by[position + "EXPOSE".len()..];
    let rest = rest.split(" # buildkit").next().unwrap_or(rest);
    rest.split(|c: char| c.is_whitespace() || matches!(c, '[' | ']' | '{' | '}' | ','))
        .map(|word| word.trim_start_matches("map").trim_end_matches(':'))
        .flat_map(parse_ports)
        .collect()
}

pub(super) fn run(image: &ImageContext<'_>, out: &mut Vec<Finding>) {
    let mut ports = BTreeSet::new();
    for spec in &image.metadata.exposed_ports {
        ports.extend(parse_ports(spec));
    }
    for step in &image.metadata.history {
        ports.extend(history_ports(&step.created_by));
    }
    for port in ports {
        if let Some(why) = risky_port(port) {
            out.push(CHECK.finding(
                config_location("exposed_ports", None),
                format!("image config exposed port {port}"),
                format!("{why}; do not expose it from the image"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::history_ports;

    #[test]
    fn both_history_formats() {
        assert_eq!(
            history_ports("EXPOSE map[22/tcp:{} 80/tcp:{}]"),
            vec![22, 80]
        );
        assert_eq!(history_ports("/bin/sh -c #(nop)  EXPOSE 6379"), vec![6379]);
        assert_eq!(history_ports("EXPOSE 2375 # buildkit"), vec![2375]);
    }
}
