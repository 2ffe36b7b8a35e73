//! The watcher's own rule codes, with their documentation (`rempart rules RUNTIME-DRIFT`).
//! Malware found at run time keeps the code of the malware rule that matched.

use rempart_core::Severity;

/// One of the watcher's rules.
#[derive(Debug, Clone, Copy)]
pub struct RuntimeRuleDoc {
    pub code: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    pub doc: &'static str,
}

pub const RUNTIME_RULES: &[RuntimeRuleDoc] = &[
    RuntimeRuleDoc {
        code: crate::DRIFT_RULE,
        severity: Severity::High,
        title: "Program executed that is not part of the container's image",
        doc: "A container executed a file it wrote after it started: downloaded, copied in, \
              compiled, or an image file modified. Images are vetted before they run; what a \
              container writes and runs afterwards never was, and is how intruders bring their \
              tools (miners, scanners, reverse shells). Detected from the container's overlay: \
              the image's files are its lower layers, what was written since is its upper \
              directory.\n\nFix: build what the container runs into its image; write scratch \
              data to volumes mounted `noexec`. Enforce mode refuses the execution (`EPERM`). \
              Example: `wget -O /tmp/x http://… && /tmp/x` in a running container.",
    },
    RuntimeRuleDoc {
        code: crate::TIMEOUT_RULE,
        severity: Severity::Medium,
        title: "No verdict within the time budget: the default action applied",
        doc: "The watcher could not judge a file within `--budget-ms` (a large file, a busy \
              machine), so the access got `--default` (allow or deny) rather than a verdict. \
              The verdict is still computed and remembered: the next access is judged.\n\n\
              Fix: raise the budget, lower `--max-file-size`, or give the watcher more CPU; \
              `--default deny` refuses what could not be judged in time.",
    },
    RuntimeRuleDoc {
        code: crate::UNSCANNED_RULE,
        severity: Severity::Medium,
        title: "File not judged: over the size cap or unreadable",
        doc: "A file opened or executed in a container was larger than `--max-file-size` (32 \
              MiB by default), or could not be read, so the access got `--default` (allow or \
              deny) rather than a verdict.\n\nFix: raise `--max-file-size` where large \
              programs must be judged (memory per worker grows with it), or `--default deny` to \
              refuse what cannot be judged.",
    },
];
