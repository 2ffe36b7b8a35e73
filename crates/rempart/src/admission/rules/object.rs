use super::rule_doc;

rule_doc! {
    RULE,
    code: "ADM-OBJECT-MALFORMED",
    title: "Workload the admission rules cannot read",
    severity: High,
    exemptable: false,
    doc: "A Pod or pod-template owner is missing what the rules read: the pod template \
(`spec.template.spec`, `spec.jobTemplate.spec.template.spec` for a CronJob, `spec` for a Pod), \
or a container's `image`. The object is denied, whatever the rule modes: a rule that cannot \
look at a workload must not let it through.\n\n\
Why: the API server refuses such objects anyway; a manifest that reaches admission in this shape \
was cut or generated wrongly, and nothing about what it runs can be vouched for.\n\n\
Fix: complete the manifest (`kubectl apply --dry-run=server` names the missing field).\n\n\
Example: `kind: Deployment` whose `spec` has no `template`.",
}
