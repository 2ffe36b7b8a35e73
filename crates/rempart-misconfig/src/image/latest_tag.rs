use rempart_core::{Finding, ImageContext};

use super::config_location;
use crate::check::check_doc;

check_doc! {
    code: "IMG-LATEST-TAG",
    title: "Image referenced by the latest tag",
    severity: Low,
    target: Image,
    doc: "The image was requested as `name:latest` (or without a tag, which means `latest`) and not \
by digest. Only reported when the requested tag is known (the image came from a reference, not \
a file).\n\n\
Why: `latest` moves; the image scanned now is not necessarily the one deployed later.\n\n\
Fix: deploy and scan an explicit version tag, ideally with its digest.\n\n\
Example: `rempart image nginx`.",
}

pub(super) fn run(image: &ImageContext<'_>, out: &mut Vec<Finding>) {
    let metadata = image.metadata;
    if metadata.pinned_by_digest {
        return;
    }
    if let Some(tag) = metadata.requested_tag.as_deref()
        && (tag.is_empty() || tag == "latest")
    {
        out.push(CHECK.finding(
            config_location("reference", None),
            format!("image reference {}", metadata.name),
            "reference an explicit version tag or a digest",
        ));
    }
}
