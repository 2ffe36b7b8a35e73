use std::net::{Ipv4Addr, Ipv6Addr};

use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-LISTENING-SERVICES",
    title: "Services listening on the network beyond the allowed ports",
    severity: Medium,
    benchmark: "CIS Debian Linux Benchmark, 2.2 (special purpose services) and CIS Docker Benchmark v1.6.0, 5.8 (only needed ports open)",
    doc: "A TCP port listens, or a UDP port is bound, on an address other than loopback, and is \
not in the allowed list (`--allow-port`, 22 by default). Read from `/proc/net/tcp`, `tcp6`, \
`udp` and `udp6`: the sockets of the audit's own network namespace (run it on the host, not \
in a container, to see the host's).\n\n\
Why: every listening service is a way in; on a container host, an engine API, a kubelet \
port, a database published by mistake or a debugging server is reachable by whoever reaches \
the machine.\n\n\
Fix: stop the services the host does not need, bind the others to loopback or an internal \
interface, firewall the rest, and list the ports that must be open with `--allow-port`.\n\n\
Example: `0.0.0.0:2375` (an engine API) or `0.0.0.0:6379` (Redis).",
}

/// `0100007F:1F90` as an address and port: the address is in the kernel's byte order, 32 bits
/// at a time.
fn parse_address(text: &str) -> Option<(String, bool, u16)> {
    let (address, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    match address.len() {
        8 => {
            let word = u32::from_str_radix(address, 16).ok()?;
            let ip = Ipv4Addr::from(word.swap_bytes());
            Some((ip.to_string(), ip.is_loopback(), port))
        }
        32 => {
            let mut bytes = [0u8; 16];
            for (index, chunk) in address.as_bytes().chunks(8).enumerate() {
                let word = u32::from_str_radix(std::str::from_utf8(chunk).ok()?, 16).ok()?;
                bytes[index * 4..index * 4 + 4].copy_from_slice(&word.swap_bytes().to_be_bytes());
            }
            let ip = Ipv6Addr::from(bytes);
            let loopback =
                ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback());
            Some((format!("[{ip}]"), loopback, port))
        }
        _ => None,
    }
}

/// The sockets of a `/proc/net` table in `state` (`0A` TCP listen, `07` UDP unconnected).
fn sockets(text: &str, state: &str) -> Vec<(String, bool, u16)> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields.get(3) == Some(&state)).then_some(())?;
            parse_address(fields.get(1)?)
        })
        .collect()
}

pub(crate) fn run(host: &Host, options: &AuditOptions) -> Outcome {
    let tables = [
        ("tcp", "/proc/net/tcp", "0A"),
        ("tcp", "/proc/net/tcp6", "0A"),
        ("udp", "/proc/net/udp", "07"),
        ("udp", "/proc/net/udp6", "07"),
    ];
    let mut read_any = false;
    let mut exposed: Vec<String> = Vec::new();
    for (protocol, path, state) in tables {
        let Some(text) = host.read(path) else {
            continue;
        };
        read_any = true;
        for (address, loopback, port) in sockets(&text, state) {
            if loopback || options.allowed_ports.contains(&port) {
                continue;
            }
            let shown = format!("{protocol} {address}:{port}");
            if !exposed.contains(&shown) {
                exposed.push(shown);
            }
        }
    }
    if !read_any {
        return Outcome::not_applicable("/proc/net is not under the audited root");
    }
    if exposed.is_empty() {
        Outcome::passed("only allowed ports and loopback listen", Some("/proc/net"))
    } else {
        Outcome::failed(
            format!("not on the allowed list: {}", exposed.join(", ")),
            Some("/proc/net"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_addresses() {
        assert_eq!(
            parse_address("0100007F:1F90"),
            Some(("127.0.0.1".to_owned(), true, 8080))
        );
        assert_eq!(
            parse_address("00000000:0016"),
            Some(("0.0.0.0".to_owned(), false, 22))
        );
        assert_eq!(
            parse_address("00000000000000000000000001000000:0277"),
            Some(("[::1]".to_owned(), true, 631))
        );
        assert_eq!(
            parse_address("0000000000000000FFFF00000100007F:1F90"),
            Some(("[::ffff:127.0.0.1]".to_owned(), true, 8080))
        );
        assert_eq!(parse_address("zz:1"), None);
    }
}
