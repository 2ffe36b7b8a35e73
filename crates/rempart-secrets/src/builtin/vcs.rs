//! Source forges: GitHub, GitLab, Bitbucket.

use rempart_core::Severity;

use super::assign;
use crate::rule::{Category, RuleDef};

const BASE: RuleDef = RuleDef {
    category: Category::Vcs,
    severity: Severity::Critical,
    entropy: Some(3.5),
    ..RuleDef::DEFAULT
};

pub(super) const RULES: &[RuleDef] = &[
    RuleDef {
        code: "SEC-GITHUB-PAT",
        title: "GitHub personal access token (classic)",
        keywords: &["ghp_"],
        regex: r"\b(?P<secret>ghp_[A-Za-z0-9]{36})\b",
        doc: "A classic GitHub personal access token; acts as the user on every repository and \
              organisation its scopes reach.",
        ..BASE
    },
    RuleDef {
        code: "SEC-GITHUB-FINE-GRAINED-PAT",
        title: "GitHub fine-grained personal access token",
        keywords: &["github_pat_"],
        regex: r"\b(?P<secret>github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b",
        doc: "A fine-grained GitHub personal access token, scoped to chosen repositories.",
        ..BASE
    },
    RuleDef {
        code: "SEC-GITHUB-OAUTH-TOKEN",
        title: "GitHub OAuth access token",
        keywords: &["gho_"],
        regex: r"\b(?P<secret>gho_[A-Za-z0-9]{36})\b",
        doc: "A token an OAuth app obtained for a user; acts as that user within the granted scopes.",
        ..BASE
    },
    RuleDef {
        code: "SEC-GITHUB-APP-TOKEN",
        title: "GitHub App token",
        keywords: &["ghu_", "ghs_"],
        regex: r"\b(?P<secret>gh[us]_[A-Za-z0-9]{36})\b",
        doc: "A GitHub App user-to-server (`ghu_`) or installation (`ghs_`) token, such as the \
              `GITHUB_TOKEN` of an Actions run.",
        ..BASE
    },
    RuleDef {
        code: "SEC-GITHUB-REFRESH-TOKEN",
        title: "GitHub refresh token",
        keywords: &["ghr_"],
        regex: r"\b(?P<secret>ghr_[A-Za-z0-9]{36,76})\b",
        doc: "A GitHub App refresh token; mints new user-to-server tokens for months.",
        ..BASE
    },
    RuleDef {
        code: "SEC-GITLAB-PAT",
        title: "GitLab personal access token",
        keywords: &["glpat-"],
        regex: r"\b(?P<secret>glpat-[A-Za-z0-9_-]{20,64})(?:[^A-Za-z0-9_.-]|$)",
        doc: "A GitLab personal, project or group access token.",
        ..BASE
    },
    RuleDef {
        code: "SEC-GITLAB-PIPELINE-TRIGGER-TOKEN",
        title: "GitLab pipeline trigger token",
        severity: Severity::High,
        keywords: &["glptt-"],
        regex: r"\b(?P<secret>glptt-[0-9a-f]{40})\b",
        entropy: Some(3.0),
        doc: "Starts pipelines of a project with the trigger owner's permissions.",
        ..BASE
    },
    RuleDef {
        code: "SEC-GITLAB-RUNNER-TOKEN",
        title: "GitLab runner authentication token",
        severity: Severity::High,
        keywords: &["glrt-"],
        regex: r"\b(?P<secret>glrt-[A-Za-z0-9_-]{20,64})(?:[^A-Za-z0-9_.-]|$)",
        doc: "Lets a machine pose as the runner and receive jobs, with their CI variables.",
        ..BASE
    },
    RuleDef {
        code: "SEC-GITLAB-RUNNER-REGISTRATION-TOKEN",
        title: "GitLab runner registration token",
        severity: Severity::High,
        keywords: &["GR1348941"],
        regex: r"\b(?P<secret>GR1348941[A-Za-z0-9_-]{20})(?:[^A-Za-z0-9_-]|$)",
        doc: "Registers new runners to a project, group or instance, which then receive its jobs.",
        ..BASE
    },
    RuleDef {
        code: "SEC-GITLAB-DEPLOY-TOKEN",
        title: "GitLab deploy token",
        severity: Severity::High,
        keywords: &["gldt-"],
        regex: r"\b(?P<secret>gldt-[A-Za-z0-9_-]{20,64})(?:[^A-Za-z0-9_.-]|$)",
        doc: "Reads (or writes) a project's repository, packages and container registry.",
        ..BASE
    },
    RuleDef {
        code: "SEC-GITLAB-CI-BUILD-TOKEN",
        title: "GitLab CI/CD job token",
        severity: Severity::Medium,
        keywords: &["glcbt-"],
        regex: r"\b(?P<secret>glcbt-[0-9a-fA-F]{1,5}_[A-Za-z0-9_-]{20})(?:[^A-Za-z0-9_-]|$)",
        doc: "A job token, valid while the job runs, with access to the project's API and registry.",
        ..BASE
    },
    RuleDef {
        code: "SEC-GITLAB-OAUTH-APP-SECRET",
        title: "GitLab OAuth application secret",
        keywords: &["gloas-"],
        regex: r"\b(?P<secret>gloas-[A-Za-z0-9_-]{64})(?:[^A-Za-z0-9_-]|$)",
        doc: "The secret of an OAuth application registered on GitLab.",
        ..BASE
    },
    RuleDef {
        code: "SEC-GITLAB-FEED-TOKEN",
        title: "GitLab feed token",
        severity: Severity::Medium,
        keywords: &["glft-"],
        regex: r"\b(?P<secret>glft-[A-Za-z0-9_-]{20})(?:[^A-Za-z0-9_-]|$)",
        doc: "Reads the user's RSS/Atom feeds and calendar, which list private issue titles.",
        ..BASE
    },
    RuleDef {
        code: "SEC-GITLAB-SCIM-TOKEN",
        title: "GitLab SCIM token",
        keywords: &["glsoat-"],
        regex: r"\b(?P<secret>glsoat-[A-Za-z0-9_-]{20})(?:[^A-Za-z0-9_-]|$)",
        doc: "Provisions and deprovisions users of a group through SCIM.",
        ..BASE
    },
    RuleDef {
        code: "SEC-GITLAB-AGENT-TOKEN",
        title: "GitLab agent for Kubernetes token",
        keywords: &["glagent-"],
        regex: r"\b(?P<secret>glagent-[A-Za-z0-9_-]{50})(?:[^A-Za-z0-9_-]|$)",
        doc: "Authenticates a cluster agent; whoever holds it receives the agent's deployments.",
        ..BASE
    },
    RuleDef {
        code: "SEC-BITBUCKET-APP-PASSWORD",
        title: "Bitbucket app password or access token",
        keywords: &["ATBB", "ATCTT3"],
        regex: r"\b(?P<secret>(?:ATBB|ATCTT3)[A-Za-z0-9_=.-]{32,})(?:[^A-Za-z0-9_=.-]|$)",
        doc: "A Bitbucket Cloud app password or repository/workspace access token.",
        ..BASE
    },
    RuleDef {
        code: "SEC-BITBUCKET-CLIENT-SECRET",
        title: "Bitbucket OAuth consumer secret",
        severity: Severity::High,
        keywords: &["bitbucket"],
        regex: assign!(
            r"bitbucket[\w.-]{0,20}(?:secret|token)",
            r"[A-Za-z0-9=_-]{32,64}"
        ),
        doc: "The secret of a Bitbucket OAuth consumer, next to the word bitbucket.",
        ..BASE
    },
];
