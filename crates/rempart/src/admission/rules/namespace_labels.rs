use super::rule_doc;

rule_doc! {
    RULE,
    code: "ADM-NAMESPACE-LABELS-UNKNOWN",
    title: "Namespace selection skipped: the namespace's labels are not known",
    severity: Medium,
    exemptable: false,
    doc: "A namespace selection of the admission policy matches namespaces by label, and the \
labels of the object's namespace are not known, so the selection is skipped (a warning) and the \
next one, or the default rules, apply. The server always knows them; `rempart admit` learns them \
from Namespace objects among the manifests and from `--namespace-label`.\n\n\
Why: the decision may be laxer than the one the cluster will make.\n\n\
Fix: include the Namespace manifest in the files checked, or pass its labels \
(`--namespace-label tier=prod`).\n\n\
Example: a selection `match: {labels: {tier: prod}}` and a Deployment in `shop` with no \
Namespace `shop` among the manifests.",
}
