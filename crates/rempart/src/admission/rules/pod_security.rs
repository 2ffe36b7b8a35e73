use super::rule_doc;

rule_doc! {
    RULE,
    code: "ADM-PSS",
    title: "Pod fails the required Pod Security Standards profile",
    severity: High,
    exemptable: true,
    doc: "The pod (or the pod template of a Deployment, ReplicaSet, StatefulSet, DaemonSet, \
Job, CronJob or ReplicationController) fails a control of the Pod Security Standards profile the \
policy requires (`pod_security.level`: `baseline` or `restricted`, judged as of \
`pod_security.version`). With `namespace_labels: true`, the namespace's \
`pod-security.kubernetes.io/enforce` label is honoured too: the stricter profile wins. The \
reason names the failed control (`K8S-PSS-PRIVILEGED`, see `rempart rules K8S-PSS-PRIVILEGED`), \
the container and the field. The controls are the ones `rempart config` checks, so CI and \
admission agree.\n\n\
Why: the Pod Security Standards are the Kubernetes project's own statement of what a pod may \
do without being able to take over its node.\n\n\
Fix: change the field the reason names; an exemption may name one control \
(`rules: [K8S-PSS-HOST-PATH]`) for a workload that truly needs it.\n\n\
Example: `securityContext: {privileged: true}` under `level: baseline`.",
}

rule_doc! {
    NAMESPACE_RULE,
    code: "ADM-PSS-NAMESPACE-WARN",
    title: "Pod fails the profile of its namespace's warn or audit label",
    severity: Low,
    exemptable: true,
    doc: "With `pod_security.namespace_labels: true`, the namespace's \
`pod-security.kubernetes.io/warn` and `pod-security.kubernetes.io/audit` labels (and their \
`-version` labels) are applied as the API server applies them: the object is allowed, with a \
warning for each control of that profile it fails (and that the enforced profile did not already \
report).\n\n\
Why: these labels announce the profile a namespace is moving to; the warning shows what will \
break.\n\n\
Fix: change the field the warning names.\n\n\
Example: a namespace labelled `pod-security.kubernetes.io/warn: restricted` and a pod without \
`runAsNonRoot: true`.",
}
