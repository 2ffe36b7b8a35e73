use rempart_core::Finding;

use super::{Pipeline, images};
use crate::check::check_doc;

check_doc! {
    code: "CI-GL-DIND",
    title: "Privileged Docker-in-Docker service",
    severity: High,
    target: Workflow,
    doc: "A job (or the pipeline's `default:`) runs the `docker:dind` service, which only works \
on a runner that starts containers in privileged mode.\n\n\
Why: a privileged container is root on the runner's host: any job on that runner (a merge \
request's, a compromised dependency's) can read the other jobs' tokens and variables, and \
reach the host's network and disks. A runner shared between projects shares that with all of \
them.\n\n\
Fix: build images without a daemon (BuildKit rootless, Kaniko, Buildah), or keep Docker-in-Docker \
on a dedicated runner, used only by protected branches, with TLS on (`DOCKER_TLS_CERTDIR`).\n\n\
Example: `services: [docker:27-dind]`.",
}

/// Whether an image is Docker's daemon image (`docker:dind`, `docker:27-dind-rootless` is not
/// privileged, `registry.example.com/mirror/docker:dind`).
fn is_dind(image: &str) -> bool {
    let name = image.rsplit('/').next().unwrap_or(image);
    name.split_once(':').is_some_and(|(repository, tag)| {
        repository == "docker" && tag.contains("dind") && !tag.contains("rootless")
    })
}

pub(super) fn run(pipeline: &Pipeline, out: &mut Vec<Finding>) {
    for (source, anchor, image, owner, service) in images(pipeline) {
        if service && is_dind(&image) {
            out.push(pipeline.finding(
                &CHECK,
                source,
                pipeline.line_of(source, &anchor, &image),
                owner,
                format!("the {image} service needs a privileged runner: build without a daemon (BuildKit rootless, Kaniko, Buildah)"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn docker_daemon_images() {
        assert!(super::is_dind("docker:dind"));
        assert!(super::is_dind("docker:27.3-dind"));
        assert!(super::is_dind("mirror.example/library/docker:dind"));
        assert!(!super::is_dind("docker:27-dind-rootless"));
        assert!(!super::is_dind("docker:27"));
        assert!(!super::is_dind("acme/dind-helper:1"));
    }
}
