use super::rule_doc;

rule_doc! {
    EXPIRED,
    code: "ADM-EXEMPTION-EXPIRED",
    title: "Expired exemption no longer applies",
    severity: Medium,
    exemptable: false,
    doc: "An exemption of the admission policy would cover a reason, but its `expires` date has \
passed: it no longer applies, the reason stands, and this warning names the exemption.\n\n\
Why: exemptions are debts with a due date; an expired one means the fix it promised did not \
land.\n\n\
Fix: fix what the exemption covered, or extend `expires` with a new reason.\n\n\
Example: `expires: 2025-01-31` on a Deployment admitted in February.",
}

rule_doc! {
    UNUSED,
    code: "ADM-EXEMPTION-UNUSED",
    title: "Exemption that covered nothing",
    severity: Low,
    exemptable: false,
    doc: "An exemption of the admission policy covered no reason of any object evaluated \
(`rempart admit` reports it after the objects). \n\n\
Why: a stale exemption silently covers the next workload that matches it.\n\n\
Fix: remove it, or narrow it to what it was written for.\n\n\
Example: an exemption for `namespace: legacy` after the namespace was deleted.",
}
