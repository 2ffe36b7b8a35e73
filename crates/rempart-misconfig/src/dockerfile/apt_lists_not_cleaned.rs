use rempart_core::Finding;

use super::{Context, apt_no_recommends::is_apt_install, has_cache_mount};
use crate::check::check_doc;

check_doc! {
    code: "DF-APT-LISTS-NOT-CLEANED",
    title: "apt lists are not removed in the RUN that installs",
    severity: Low,
    target: Dockerfile,
    doc: "A `RUN` installs packages with apt but does not remove `/var/lib/apt/lists` in the same \
`RUN`.\n\n\
Why: the package lists (tens of MB) stay in the layer forever; removing them in a later `RUN` \
only hides them, the earlier layer still ships them. Stale lists also tempt later steps to \
install from outdated indexes.\n\n\
Fix: end the same `RUN` with `&& rm -rf /var/lib/apt/lists/*`, or use a BuildKit cache mount \
(`RUN --mount=type=cache,target=/var/lib/apt ...`), which is not reported.\n\n\
Example: `RUN apt-get update && apt-get install -y --no-install-recommends curl` is reported.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for (stage, run, commands) in context.runs() {
        if !commands.iter().any(is_apt_install) || has_cache_mount(run, "/var/lib/apt") {
            continue;
        }
        let cleaned = commands.iter().any(|command| {
            command.program() == Some("rm")
                && command
                    .words
                    .iter()
                    .any(|w| w.contains("/var/lib/apt/lists"))
        });
        if !cleaned {
            out.push(CHECK.finding(
                context.at(run.line),
                format!("Dockerfile {} RUN", stage.label()),
                "add `&& rm -rf /var/lib/apt/lists/*` to the same RUN",
            ));
        }
    }
}
