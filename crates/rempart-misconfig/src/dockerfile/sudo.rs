use rempart_core::Finding;

use super::Context;
use crate::check::check_doc;

check_doc! {
    code: "DF-SUDO",
    title: "RUN uses sudo",
    severity: Medium,
    target: Dockerfile,
    doc: "A `RUN` calls `sudo`.\n\n\
Why: build steps already run as the current `USER`; `sudo` in a Dockerfile usually means sudo is \
installed and configured in the image, so any process in the container can become root, and it \
brings tty and signal quirks.\n\n\
Fix: switch with `USER root` for the steps that need it and back to the unprivileged user \
afterwards; remove sudo from the image.\n\n\
Example: `RUN sudo apt-get update` is reported.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for (stage, run, commands) in context.runs() {
        let uses_sudo = commands.iter().any(|c| c.runs_through("sudo"));
        if uses_sudo {
            out.push(CHECK.finding(
                context.at(run.line),
                format!("Dockerfile {} RUN", stage.label()),
                "use USER root for the steps that need root instead of sudo",
            ));
        }
    }
}
