use rempart_core::Finding;

use super::Context;
use crate::check::check_doc;

check_doc! {
    code: "DF-NO-HEALTHCHECK",
    title: "The final stage has no HEALTHCHECK",
    severity: Low,
    target: Dockerfile,
    doc: "Neither the final stage nor the stages it builds on declares a `HEALTHCHECK`.\n\n\
Why: without one, Docker and Swarm consider a hung process healthy and never restart it. \
Kubernetes ignores `HEALTHCHECK` (it uses probes), so this is LOW; `HEALTHCHECK NONE` is an \
explicit choice and is not reported. Final stages `FROM scratch` are not reported: they have no \
shell or tools to run a check with unless the application binary provides one.\n\n\
Fix: `HEALTHCHECK CMD curl -fsS http://localhost:8080/healthz || exit 1`, or define liveness \
and readiness probes where the image runs on Kubernetes.\n\n\
Example: a final stage ending in `CMD [\"./server\"]` with no HEALTHCHECK.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(stage) = context.final_stage() else {
        return;
    };
    let has = context
        .lineage(stage)
        .iter()
        .any(|s| s.instructions.iter().any(|i| i.keyword == "HEALTHCHECK"));
    if !has && stage.base != "scratch" {
        out.push(CHECK.finding(
            context.at(stage.from_line),
            format!("Dockerfile {}", stage.label()),
            "add a HEALTHCHECK instruction (or probes where the image runs on Kubernetes)",
        ));
    }
}
