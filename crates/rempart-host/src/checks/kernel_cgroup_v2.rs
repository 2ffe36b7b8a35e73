use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-KERNEL-CGROUP-V2",
    title: "Control groups v1 or hybrid in use",
    severity: Low,
    benchmark: "Kubernetes (cgroup v2 is the supported mode since v1.25; v1 support is in maintenance) and the container engines' documentation",
    doc: "`/sys/fs/cgroup` is not the unified control group (v2) hierarchy: the host runs \
cgroups v1 or a hybrid of both.\n\n\
Why: cgroup v2 gives containers safer delegation (rootless containers and user namespaces \
get their own subtree), memory pressure handling and I/O limits that v1 cannot enforce; \
engines and Kubernetes are retiring v1.\n\n\
Fix: boot with `systemd.unified_cgroup_hierarchy=1` (the default of current distributions), \
then restart the engine.\n\n\
Example: `/sys/fs/cgroup/cgroup.controllers` does not exist.",
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    if !host.exists("/sys/fs/cgroup") {
        return Outcome::not_applicable("/sys/fs/cgroup is not under the audited root");
    }
    if host.exists("/sys/fs/cgroup/cgroup.controllers") {
        Outcome::passed(
            "the unified (v2) hierarchy is mounted",
            Some("/sys/fs/cgroup"),
        )
    } else if host.exists("/sys/fs/cgroup/unified/cgroup.controllers") {
        Outcome::failed(
            "hybrid: v1 controllers, with v2 only at /sys/fs/cgroup/unified",
            Some("/sys/fs/cgroup"),
        )
    } else {
        Outcome::failed("cgroups v1", Some("/sys/fs/cgroup"))
    }
}
