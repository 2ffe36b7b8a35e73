use rempart_core::Finding;

use super::Context;
use crate::check::check_doc;

check_doc! {
    code: "DF-CURL-PIPE-SHELL",
    title: "RUN pipes a download straight into a shell",
    severity: High,
    target: Dockerfile,
    doc: "A `RUN` downloads a script with `curl` or `wget` and runs it at once: \
`curl ... | sh`, `wget -O- ... | bash`, `sh -c \"$(curl ...)\"`, `bash <(curl ...)`.\n\n\
Why: whatever the server returns on build day runs as root in your build, unchecked; a \
compromised server, DNS or proxy becomes code in your image, and the build cannot be \
reproduced.\n\n\
Fix: download to a file, verify a pinned checksum or signature, then run it: \
`curl -fsSLo install.sh URL && echo \"<sha256>  install.sh\" | sha256sum -c - && sh install.sh`.\n\n\
Example: `RUN curl -fsSL https://get.example.sh | sh` is reported.",
}

const DOWNLOADERS: &[&str] = &["curl", "wget"];
const INTERPRETERS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "ash", "ksh", "python", "python3", "perl", "ruby", "node", "php",
];

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for (stage, run, commands) in context.runs() {
        let mut downloading = false;
        let mut found = false;
        for command in commands {
            let program = command.program().unwrap_or("");
            if command.piped && downloading && INTERPRETERS.contains(&program) {
                found = true;
            }
            downloading = DOWNLOADERS.contains(&program) || (command.piped && downloading);
        }
        let script = run.script();
        let substituted = ["$(curl", "$(wget", "<(curl", "<(wget", "`curl", "`wget"]
            .iter()
            .any(|marker| script.contains(marker))
            && commands
                .iter()
                .any(|c| INTERPRETERS.contains(&c.program().unwrap_or("")));
        if found || substituted {
            out.push(CHECK.finding(
                context.at(run.line),
                format!("Dockerfile {} RUN", stage.label()),
                "download the script to a file, verify its checksum or signature, then run it",
            ));
        }
    }
}
