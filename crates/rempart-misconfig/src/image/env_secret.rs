use rempart_core::{Finding, ImageContext};

use super::config_location;
use crate::check::check_doc;
use crate::common::{is_placeholder_value, is_secret_name};

check_doc! {
    code: "IMG-ENV-SECRET",
    title: "Secret-like environment variable in the image config",
    severity: High,
    target: Image,
    doc: "An `Env` entry of the image config has a secret-like name (PASSWORD, SECRET, TOKEN, \
API_KEY, PRIVATE_KEY, ...) and a value that is neither empty, a variable reference nor an obvious \
placeholder (`changeme`, `<token>`). The value is never shown.\n\n\
Why: the config is readable by everyone who can pull the image, and pushes to every registry and \
cache the image goes through.\n\n\
Fix: remove the variable from the image and inject it at run time from a secret store; at build \
time use `RUN --mount=type=secret`. Names ending in `_FILE`, `_PATH`, `_URL` are not reported.\n\n\
Example: `ENV API_KEY=sk_live_...` in the Dockerfile.",
}

pub(super) fn run(image: &ImageContext<'_>, out: &mut Vec<Finding>) {
    for (position, entry) in image.metadata.env.iter().enumerate() {
        let (name, value) = entry.split_once('=').unwrap_or((entry, ""));
        if is_secret_name(name) && !is_placeholder_value(value) {
            out.push(CHECK.finding(
                config_location("env", Some(position)),
                format!("image config env {name}"),
                format!("remove {name} from the image and inject it at run time"),
            ));
        }
    }
}
