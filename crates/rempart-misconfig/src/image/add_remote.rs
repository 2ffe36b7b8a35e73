use rempart_core::{Finding, ImageContext};

use super::config_location;
use crate::check::check_doc;

check_doc! {
    code: "IMG-ADD-REMOTE",
    title: "Image history has an ADD of a remote URL",
    severity: Medium,
    target: Image,
    doc: "A step of the image history is an `ADD` of an `http://` or `https://` URL.\n\n\
Why: the downloaded content was not verified unless the Dockerfile used `--checksum`, and the \
build cannot be reproduced; the history does not show a checksum, so review the Dockerfile.\n\n\
Fix: `ADD --checksum=sha256:<digest> <url>` or download and verify in a `RUN`.\n\n\
Example: history entry `ADD https://example.com/tool.tar.gz /opt/ # buildkit`.",
}

pub(super) fn run(image: &ImageContext<'_>, out: &mut Vec<Finding>) {
    for (index, step) in image.metadata.history.iter().enumerate() {
        let text = &step.created_by;
        let Some(position) = text.find("ADD ") else {
            continue;
        };
        let rest = &text[position + 4..];
        let remote = rest
            .split_whitespace()
            .any(|w| w.starts_with("http://") || w.starts_with("https://"));
        if remote && !rest.contains("--checksum") {
            out.push(CHECK.finding(
                config_location("history", Some(index)),
                format!("image history step {}", index + 1),
                "verify remote downloads with ADD --checksum or in a RUN",
            ));
        }
    }
}
