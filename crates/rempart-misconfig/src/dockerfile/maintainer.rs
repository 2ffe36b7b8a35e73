use rempart_core::Finding;

use super::Context;
use crate::check::check_doc;

check_doc! {
    code: "DF-MAINTAINER",
    title: "MAINTAINER is deprecated",
    severity: Info,
    target: Dockerfile,
    doc: "The Dockerfile uses `MAINTAINER`, deprecated since Docker 1.13.\n\n\
Why: it only sets a legacy config field that current tooling ignores.\n\n\
Fix: `LABEL org.opencontainers.image.authors=\"team@example.com\"`.\n\n\
Example: `MAINTAINER jane@example.com`.",
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for stage in &context.file.stages {
        for i in stage
            .instructions
            .iter()
            .filter(|i| i.keyword == "MAINTAINER")
        {
            out.push(CHECK.finding(
                context.at(i.line),
                format!("Dockerfile {} MAINTAINER", stage.label()),
                "use LABEL org.opencontainers.image.authors instead",
            ));
        }
    }
}
