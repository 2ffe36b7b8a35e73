//! Admission decisions: whether a workload may run, under an admission policy.
//!
//! One engine for every caller: the server's admission webhooks and `rempart admit` in CI give
//! the same decision for the same object, policy and verdicts. The engine does no I/O of its
//! own: image verdicts come through a [`VerdictSource`] the caller fills or backs (the server
//! from its store, the CLI from a file or from verdicts it fetched first), and the time of the
//! decision is a parameter.
//!
//! A decision, step by step ([`AdmissionPolicy::evaluate`]):
//! 1. DELETE and CONNECT, and kinds that run no pod, are allowed unchecked (`skipped` says why).
//! 2. The namespace's rules are selected: the first selection whose name globs and labels
//!    match, else `default`. A selection that needs labels that are not known is skipped with a
//!    warning.
//! 3. The pod (or pod template) is judged by the Pod Security Standards controls of
//!    `rempart-misconfig`, at the required profile (and the namespace's labels when asked).
//! 4. Every container, init container and ephemeral container is checked: the allowed
//!    registries, the digest pin, the `latest` tag, the image's verdict and its age, and its
//!    verification against the trust policy (done by the caller before deciding).
//! 5. Each failed rule is matched against the exemptions: an active one moves it to `exempted`,
//!    an expired one leaves it and adds a warning. Then `enforce` rules deny and `audit` rules
//!    warn; the object is allowed when nothing denies it.

mod decision;
mod image;
mod policy;
mod remote;
pub(crate) mod rules;
mod verdict;

pub use decision::{
    AdmissionRequest, ContainerImage, ContainerKind, ContainerRef, Decision, ExemptedReason,
    ObjectRef, Operation, Reason, containers_of, is_workload_kind,
};
pub use policy::{
    AdmissionPolicy, AdmissionPolicyError, AllowedImagesRule, Exemption,
    MAX_ADMISSION_POLICY_BYTES, PodSecurityRule, PssProfile, RuleMode, RuleSet, SimpleRule,
    UnscannedMode, VerdictRule,
};
pub use remote::fetch_server_verdicts;
pub use rules::{AdmissionRuleDoc, admission_rules};
pub use verdict::{
    ImageTrust, ImageVerdict, NoVerdicts, TrustLookup, TrustQuery, VerdictLookup, VerdictMap,
    VerdictQuery, VerdictSource,
};

#[cfg(test)]
mod tests;
