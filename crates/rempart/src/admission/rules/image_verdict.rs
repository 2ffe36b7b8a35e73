use super::rule_doc;

rule_doc! {
    FAILED,
    code: "ADM-IMAGE-VERDICT-FAILED",
    title: "Image failed its scan policy",
    severity: Critical,
    exemptable: true,
    doc: "The image's verdict under the scan policy `images.verdict.policy` names is a failure. \
The reason quotes the verdict's own reasons (the findings that failed it: a critical fixable \
vulnerability, a secret, malware…).\n\n\
Why: the scan policy is the team's definition of an image fit to run.\n\n\
Fix: rebuild the image without what the reasons name, or accept a finding in the scan policy's \
ignores (with a reason), and scan again.\n\n\
Example: `registry.example.com/app@sha256:…` failed `release`: `1 finding at or above HIGH: \
CVE-2024-3094 in xz-utils`.",
}

rule_doc! {
    STALE,
    code: "ADM-IMAGE-VERDICT-STALE",
    title: "Image verdict older than the policy accepts",
    severity: Medium,
    exemptable: true,
    doc: "The image passed its scan policy, but it was scanned longer ago than \
`images.verdict.max_age` (`12h`, `7d`).\n\n\
Why: advisories are published every day; a verdict from last month says nothing about the \
vulnerabilities found since.\n\n\
Fix: scan the image again (the server re-matches stored images when its database changes).\n\n\
Example: `max_age: 7d` and an image scanned 12 days ago.",
}

rule_doc! {
    MISSING,
    code: "ADM-IMAGE-NO-VERDICT",
    title: "No verdict known for the image",
    severity: High,
    exemptable: true,
    doc: "No verdict under the required scan policy is known for the image (never scanned, or \
scanned only under other policies; a tag reference that no source resolved to a digest). What \
happens follows `images.verdict.unscanned`: `deny`, `warn` (allowed with a warning; the server \
queues a scan), or `scan` (the server scans it within a time budget; evaluated offline, where \
nothing can scan, the image is denied and the reason says so).\n\n\
Why: an image nobody scanned is an image nobody vetted.\n\n\
Fix: scan the image (`rempart image REF`, or submit it to the server) before deploying, and \
deploy it by digest so the verdict is found.\n\n\
Example: `rempart admit` without `--verdicts` or `--server`, with `unscanned: deny`.",
}
