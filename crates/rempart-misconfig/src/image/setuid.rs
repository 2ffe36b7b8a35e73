use rempart_core::{EntryKind, Finding, ImageContext, Location};

use super::MAX_FILE_FINDINGS;
use crate::check::check_doc;

check_doc! {
    code: "IMG-SETUID",
    title: "Unusual setuid or setgid file",
    severity: Medium,
    target: Image,
    doc: "A regular file of the final filesystem has the setuid or setgid bit and is not one of the \
programs the distribution family ships that way (lists below, matched with and without the \
`usr/` prefix of merged-/usr systems). When the distribution is unknown, the union of the lists \
is used.\n\n\
Why: a setuid-root program runs as root for any user; each one outside the usual set (a copied \
shell, a debugging tool, a custom helper, `sudo`) is a way for a compromised unprivileged \
process to become root. `sudo` is deliberately not on the lists.\n\n\
Fix: remove the bit (`RUN chmod u-s,g-s <file>`) or the program; with Kubernetes also set \
`allowPrivilegeEscalation: false`, which makes the bits inert.\n\n\
Usual sets. Debian/Ubuntu: bin/{su,mount,umount,ping}, usr/bin/{passwd,chsh,chfn,gpasswd,newgrp,\
chage,expiry,wall,write,bsd-write,crontab,ssh-agent,dotlockfile}, usr/sbin/{unix_chkpwd,\
pam_extrausers_chkpwd}, usr/bin/{newuidmap,newgidmap}, usr/lib/openssh/ssh-keysign, \
usr/lib/dbus-1.0/dbus-daemon-launch-helper, usr/lib/polkit-1/polkit-agent-helper-1, \
usr/lib/<arch>/utempter/utempter. \
Alpine: bin/bbsuid and the shadow tools (passwd, su, chsh, chfn, chage, expiry, gpasswd, newgrp). \
RHEL family: usr/bin/{passwd,su,mount,umount,chage,gpasswd,newgrp,chfn,chsh,crontab,write,at,\
ssh-agent,pkexec}, usr/sbin/{unix_chkpwd,pam_timestamp_check,userhelper,grub2-set-bootflag}, \
usr/libexec/openssh/ssh-keysign, usr/libexec/utempter/utempter, \
usr/libexec/dbus-1/dbus-daemon-launch-helper, usr/bin/{newuidmap,newgidmap}.\n\n\
Example: `-rwsr-xr-x root root usr/local/bin/debug-shell`.",
}

const DEBIAN: &[&str] = &[
    "bin/su",
    "bin/mount",
    "bin/umount",
    "bin/ping",
    "bin/passwd",
    "bin/chsh",
    "bin/chfn",
    "bin/gpasswd",
    "bin/newgrp",
    "bin/chage",
    "bin/expiry",
    "bin/wall",
    "bin/write",
    "bin/bsd-write",
    "bin/crontab",
    "bin/ssh-agent",
    "bin/dotlockfile",
    "sbin/unix_chkpwd",
    "sbin/pam_extrausers_chkpwd",
    "lib/openssh/ssh-keysign",
    "lib/dbus-1.0/dbus-daemon-launch-helper",
    "bin/newuidmap",
    "bin/newgidmap",
    "lib/polkit-1/polkit-agent-helper-1",
];

const ALPINE: &[&str] = &[
    "bin/bbsuid",
    "bin/passwd",
    "bin/su",
    "bin/chsh",
    "bin/chfn",
    "bin/chage",
    "bin/expiry",
    "bin/gpasswd",
    "bin/newgrp",
];

const RHEL: &[&str] = &[
    "bin/passwd",
    "bin/su",
    "bin/mount",
    "bin/umount",
    "bin/chage",
    "bin/gpasswd",
    "bin/newgrp",
    "bin/chfn",
    "bin/chsh",
    "bin/crontab",
    "bin/write",
    "bin/at",
    "bin/ssh-agent",
    "bin/pkexec",
    "sbin/unix_chkpwd",
    "sbin/pam_timestamp_check",
    "sbin/userhelper",
    "sbin/grub2-set-bootflag",
    "libexec/openssh/ssh-keysign",
    "libexec/utempter/utempter",
    "libexec/dbus-1/dbus-daemon-launch-helper",
    "bin/newuidmap",
    "bin/newgidmap",
    "lib/polkit-1/polkit-agent-helper-1",
];

fn usual_for(os_id: Option<&str>) -> Vec<&'static str> {
    match os_id {
        Some("debian" | "ubuntu" | "linuxmint" | "raspbian" | "kali") => DEBIAN.to_vec(),
        Some("alpine" | "wolfi" | "chainguard") => ALPINE.to_vec(),
        Some(
            "rhel" | "centos" | "fedora" | "rocky" | "almalinux" | "ol" | "amzn" | "mariner"
            | "azurelinux",
        ) => RHEL.to_vec(),
        _ => DEBIAN.iter().chain(ALPINE).chain(RHEL).copied().collect(),
    }
}

fn is_usual(path: &str, usual: &[&str]) -> bool {
    let short = path.strip_prefix("usr/").unwrap_or(path);
    // utempter sits in an architecture directory on Debian (lib/x86_64-linux-gnu/utempter).
    usual.contains(&short) || path.ends_with("/utempter/utempter")
}

pub(super) fn run(image: &ImageContext<'_>, out: &mut Vec<Finding>) {
    let usual = usual_for(image.os.map(|os| os.id.as_str()));
    let unusual: Vec<_> = image
        .inventory
        .iter()
        .filter(|e| e.kind == EntryKind::File && e.mode & 0o6000 != 0 && !is_usual(&e.path, &usual))
        .collect();
    for entry in unusual.iter().take(MAX_FILE_FINDINGS) {
        let bits = match (entry.mode & 0o4000 != 0, entry.mode & 0o2000 != 0) {
            (true, true) => "setuid and setgid",
            (true, false) => "setuid",
            _ => "setgid",
        };
        out.push(CHECK.finding(
            Location::file(entry.path.clone()),
            format!("{} (mode {:o}, uid {}, layer {})", entry.path, entry.mode, entry.uid, entry.layer),
            format!("{bits} file outside the distribution's usual set: remove the bit with chmod u-s,g-s"),
        ));
    }
    if unusual.len() > MAX_FILE_FINDINGS {
        out.push(CHECK.finding(
            Location::file(String::new()),
            format!(
                "{} more setuid/setgid files",
                unusual.len() - MAX_FILE_FINDINGS
            ),
            "review the remaining setuid/setgid files",
        ));
    }
}
