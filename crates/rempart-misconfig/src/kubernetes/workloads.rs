//! The kinds whose objects run pods, in one table: the manifest checks find each one's pod
//! through it, the admission engine decides on exactly these kinds, and the webhook
//! configuration asks the API server for exactly these resources.

/// A kind whose objects run pods: a Pod, or an owner of a pod template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkloadKind {
    /// `Deployment`.
    pub kind: &'static str,
    /// The API group (`apps`; empty for the core group).
    pub group: &'static str,
    /// The API version (`v1`).
    pub version: &'static str,
    /// The resource's plural name, as API paths and webhook rules name it (`deployments`).
    pub resource: &'static str,
    /// Where the pod spec is in an object of this kind (`spec`, `template`, `spec`).
    pub pod_spec: &'static [&'static str],
}

impl WorkloadKind {
    /// Where the pod template is: the object holding the pod spec and the pod's `metadata`
    /// (the object itself for a Pod).
    pub fn template(&self) -> &'static [&'static str] {
        self.pod_spec.split_last().map_or(&[], |(_, parent)| parent)
    }

    /// The pod spec's path as messages show it: `spec.template.spec`.
    pub fn pod_spec_path(&self) -> String {
        self.pod_spec.join(".")
    }
}

const TEMPLATE_SPEC: &[&str] = &["spec", "template", "spec"];

/// Every kind that runs pods, grouped by API group: the core group, `apps`, `batch`.
pub const WORKLOAD_KINDS: &[WorkloadKind] = &[
    WorkloadKind {
        kind: "Pod",
        group: "",
        version: "v1",
        resource: "pods",
        pod_spec: &["spec"],
    },
    WorkloadKind {
        kind: "ReplicationController",
        group: "",
        version: "v1",
        resource: "replicationcontrollers",
        pod_spec: TEMPLATE_SPEC,
    },
    WorkloadKind {
        kind: "Deployment",
        group: "apps",
        version: "v1",
        resource: "deployments",
        pod_spec: TEMPLATE_SPEC,
    },
    WorkloadKind {
        kind: "ReplicaSet",
        group: "apps",
        version: "v1",
        resource: "replicasets",
        pod_spec: TEMPLATE_SPEC,
    },
    WorkloadKind {
        kind: "StatefulSet",
        group: "apps",
        version: "v1",
        resource: "statefulsets",
        pod_spec: TEMPLATE_SPEC,
    },
    WorkloadKind {
        kind: "DaemonSet",
        group: "apps",
        version: "v1",
        resource: "daemonsets",
        pod_spec: TEMPLATE_SPEC,
    },
    WorkloadKind {
        kind: "Job",
        group: "batch",
        version: "v1",
        resource: "jobs",
        pod_spec: TEMPLATE_SPEC,
    },
    WorkloadKind {
        kind: "CronJob",
        group: "batch",
        version: "v1",
        resource: "cronjobs",
        pod_spec: &["spec", "jobTemplate", "spec", "template", "spec"],
    },
];

/// The entry of `kind` (`Deployment`), `None` for a kind that runs no pod.
pub fn workload_kind(kind: &str) -> Option<&'static WorkloadKind> {
    WORKLOAD_KINDS.iter().find(|workload| workload.kind == kind)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::{WORKLOAD_KINDS, workload_kind};

    #[test]
    fn kinds_and_resources_are_unique_and_pod_specs_are_specs() {
        let kinds: BTreeSet<_> = WORKLOAD_KINDS.iter().map(|w| w.kind).collect();
        let resources: BTreeSet<_> = WORKLOAD_KINDS.iter().map(|w| w.resource).collect();
        assert_eq!(kinds.len(), WORKLOAD_KINDS.len());
        assert_eq!(resources.len(), WORKLOAD_KINDS.len());
        for workload in WORKLOAD_KINDS {
            assert_eq!(workload.pod_spec.last(), Some(&"spec"), "{workload:?}");
            assert_eq!(workload.resource, workload.resource.to_ascii_lowercase());
        }
    }

    #[test]
    fn templates_and_paths() {
        let pod = workload_kind("Pod").unwrap();
        assert!(pod.template().is_empty());
        assert_eq!(pod.pod_spec_path(), "spec");
        let cron = workload_kind("CronJob").unwrap();
        assert_eq!(cron.template(), ["spec", "jobTemplate", "spec", "template"]);
        assert_eq!(cron.pod_spec_path(), "spec.jobTemplate.spec.template.spec");
        assert_eq!(workload_kind("Deployment").unwrap().group, "apps");
        assert_eq!(workload_kind("Service"), None);
    }
}
