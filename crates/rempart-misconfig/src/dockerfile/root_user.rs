use rempart_core::Finding;

use super::Context;
use crate::check::check_doc;

check_doc! {
    code: "DF-ROOT-USER",
    title: "The final stage switches to the root user",
    severity: High,
    target: Dockerfile,
    doc: "The last `USER` of the final build stage (or of the stage it is built on) is `root`, `0`, \
`0:0` or `root:root`, so containers started from the image run as root.\n\n\
Why: a process running as root inside a container is one kernel or runtime bug away from root on \
the host, and can rewrite every file of the image.\n\n\
Fix: create an unprivileged user and end the Dockerfile with `USER app` (or a numeric UID, \
which Kubernetes can verify with `runAsNonRoot`).\n\n\
Example: `USER root` followed by nothing else; fix with `RUN useradd -r app` and `USER app` \
after the steps that need root.",
}

pub(crate) fn is_root_user(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or("").trim();
    name == "root" || name == "0"
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(stage) = context.final_stage() else {
        return;
    };
    let last_user = context.lineage(stage).into_iter().find_map(|s| {
        s.instructions
            .iter()
            .rev()
            .find(|i| i.keyword == "USER")
            .map(|i| (s, i))
    });
    if let Some((owner, user)) = last_user {
        let name = user.args.text();
        if is_root_user(&name) {
            out.push(CHECK.finding(
                context.at(user.line),
                format!("Dockerfile {}", owner.label()),
                format!("USER {name} is the last user: switch to a non-root user after the steps that need root"),
            ));
        }
    }
}
