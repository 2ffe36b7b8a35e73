//! Cloud providers: AWS, Google Cloud, Azure, `DigitalOcean`, Alibaba, IBM, Heroku, `Cloudflare`.

use rempart_core::Severity;

use super::assign;
use crate::rule::{Category, RuleDef};

const BASE: RuleDef = RuleDef {
    category: Category::Cloud,
    ..RuleDef::DEFAULT
};

pub(super) const RULES: &[RuleDef] = &[
    RuleDef {
        code: "SEC-AWS-ACCESS-KEY-ID",
        title: "AWS access key ID",
        severity: Severity::Critical,
        keywords: &["AKIA", "ASIA", "ABIA", "ACCA", "A3T"],
        regex: r"\b(?P<secret>(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16})\b",
        entropy: Some(3.0),
        allow: &["EXAMPLE"],
        doc: "The public half of an AWS IAM access key (`AKIA` long-term, `ASIA` temporary). It is \
              almost always stored next to its secret key, which together sign API calls as the \
              IAM user or role.",
        ..BASE
    },
    RuleDef {
        code: "SEC-AWS-SECRET-ACCESS-KEY",
        title: "AWS secret access key",
        severity: Severity::Critical,
        keywords: &["aws"],
        regex: assign!(
            r"aws[_.-]?(?:secret[_.-]?(?:access[_.-]?)?key|secret)",
            r"[A-Za-z0-9/+]{40}"
        ),
        entropy: Some(4.0),
        allow: &["EXAMPLEKEY"],
        doc: "The secret half of an AWS IAM access key: with the key ID it signs any API call the \
              IAM identity may make.",
        ..BASE
    },
    RuleDef {
        code: "SEC-AWS-SESSION-TOKEN",
        title: "AWS session token",
        severity: Severity::High,
        keywords: &["session"],
        regex: assign!(
            r"aws[_.-]?session[_.-]?token|x-amz-security-token",
            r"[A-Za-z0-9/+=]{100,2048}"
        ),
        entropy: Some(4.0),
        doc: "A temporary STS session token; together with its key pair it grants the role's \
              permissions until it expires (up to 36 hours).",
        ..BASE
    },
    RuleDef {
        code: "SEC-AWS-MWS-KEY",
        title: "Amazon Marketplace Web Service auth token",
        severity: Severity::High,
        keywords: &["amzn.mws."],
        regex: r"(?P<secret>amzn\.mws\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",
        doc: "An MWS authorization token that lets a developer act on a seller's account.",
        ..BASE
    },
    RuleDef {
        code: "SEC-GCP-SERVICE-ACCOUNT-KEY",
        title: "Google Cloud service account key file",
        severity: Severity::Critical,
        keywords: &["private_key_id"],
        regex: r#""private_key_id"\s*:\s*"(?P<secret>[0-9a-f]{40})""#,
        entropy: Some(3.0),
        doc: "A service account JSON key: its private key authenticates as the service account \
              without expiry until the key is deleted.",
        ..BASE
    },
    RuleDef {
        code: "SEC-GCP-API-KEY",
        title: "Google API key",
        severity: Severity::High,
        keywords: &["AIza"],
        regex: r"\b(?P<secret>AIza[0-9A-Za-z_-]{35})(?:[^0-9A-Za-z_-]|$)",
        entropy: Some(3.5),
        doc: "A Google Cloud API key; unrestricted keys bill any enabled API (Maps, Gemini, \
              Translate) to the owning project.",
        ..BASE
    },
    RuleDef {
        code: "SEC-GCP-OAUTH-CLIENT-SECRET",
        title: "Google OAuth client secret",
        severity: Severity::High,
        keywords: &["GOCSPX-"],
        regex: r"\b(?P<secret>GOCSPX-[0-9A-Za-z_-]{28})(?:[^0-9A-Za-z_-]|$)",
        entropy: Some(3.5),
        doc: "The secret of a Google OAuth client; lets an attacker impersonate the application in \
              OAuth flows.",
        ..BASE
    },
    RuleDef {
        code: "SEC-GCP-OAUTH-ACCESS-TOKEN",
        title: "Google OAuth access token",
        severity: Severity::Medium,
        keywords: &["ya29."],
        regex: r"\b(?P<secret>ya29\.[0-9A-Za-z_-]{30,2048})(?:[^0-9A-Za-z_-]|$)",
        entropy: Some(4.0),
        doc: "A short-lived Google OAuth 2.0 access token; valid for about an hour but often \
              alongside a refresh token.",
        ..BASE
    },
    RuleDef {
        code: "SEC-AZURE-STORAGE-ACCOUNT-KEY",
        title: "Azure storage account key",
        severity: Severity::Critical,
        keywords: &["accountkey"],
        regex: r"(?i:AccountKey)\s*=\s*(?P<secret>[A-Za-z0-9+/]{86}==)",
        entropy: Some(4.0),
        doc: "A storage account access key, usually inside a connection string; grants full \
              control of every blob, queue, table and file share of the account.",
        ..BASE
    },
    RuleDef {
        code: "SEC-AZURE-SHARED-ACCESS-KEY",
        title: "Azure Service Bus / Event Hubs shared access key",
        severity: Severity::High,
        keywords: &["sharedaccesskey"],
        regex: r"(?i:SharedAccessKey)\s*=\s*(?P<secret>[A-Za-z0-9+/]{43}=)",
        entropy: Some(4.0),
        doc: "A shared access key from a Service Bus, Event Hubs or IoT Hub connection string; \
              it signs SAS tokens for the namespace.",
        ..BASE
    },
    RuleDef {
        code: "SEC-AZURE-SAS-TOKEN",
        title: "Azure shared access signature",
        severity: Severity::High,
        keywords: &["sig="],
        regex: r"\bsv=\d{4}-\d{2}-\d{2}&[^\s'<>]{0,400}?\bsig=(?P<secret>[A-Za-z0-9%+/]{40,120}(?:%3D|=){0,2})",
        entropy: Some(4.0),
        doc: "A signed SAS URL or query string; grants the listed permissions on storage resources \
              until its expiry, and cannot be revoked except by rotating the account key or policy.",
        ..BASE
    },
    RuleDef {
        code: "SEC-AZURE-CLIENT-SECRET",
        title: "Azure AD (Entra ID) client secret",
        severity: Severity::Critical,
        keywords: &["Q~"],
        regex: r"(?:^|[^A-Za-z0-9_~.-])(?P<secret>[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?:[^A-Za-z0-9_~.-]|$)",
        entropy: Some(3.5),
        doc: "An application (service principal) client secret; authenticates as the app to \
              Microsoft Graph and Azure Resource Manager.",
        ..BASE
    },
    RuleDef {
        code: "SEC-DIGITALOCEAN-PAT",
        title: "DigitalOcean personal access token",
        severity: Severity::Critical,
        keywords: &["dop_v1_"],
        regex: r"\b(?P<secret>dop_v1_[a-f0-9]{64})\b",
        entropy: Some(3.0),
        doc: "A DigitalOcean API token; controls droplets, volumes, databases and DNS of the team.",
        ..BASE
    },
    RuleDef {
        code: "SEC-DIGITALOCEAN-OAUTH-TOKEN",
        title: "DigitalOcean OAuth token",
        severity: Severity::High,
        keywords: &["doo_v1_", "dor_v1_"],
        regex: r"\b(?P<secret>do[or]_v1_[a-f0-9]{64})\b",
        entropy: Some(3.0),
        doc: "A DigitalOcean OAuth access (`doo_`) or refresh (`dor_`) token issued to an app.",
        ..BASE
    },
    RuleDef {
        code: "SEC-ALIBABA-ACCESS-KEY-ID",
        title: "Alibaba Cloud AccessKey ID",
        severity: Severity::High,
        keywords: &["LTAI"],
        regex: r"\b(?P<secret>LTAI[A-Za-z0-9]{12,20})\b",
        entropy: Some(3.0),
        doc: "The ID of an Alibaba Cloud RAM AccessKey pair; its secret is usually next to it.",
        ..BASE
    },
    RuleDef {
        code: "SEC-ALIBABA-ACCESS-KEY-SECRET",
        title: "Alibaba Cloud AccessKey secret",
        severity: Severity::Critical,
        keywords: &["alibaba", "aliyun", "alicloud"],
        regex: assign!(
            r"(?:alibaba|aliyun|alicloud)[\w.-]{0,20}secret",
            r"[A-Za-z0-9]{30}"
        ),
        entropy: Some(3.5),
        doc: "The secret of an Alibaba Cloud AccessKey pair; signs API calls as the RAM user.",
        ..BASE
    },
    RuleDef {
        code: "SEC-IBM-CLOUD-API-KEY",
        title: "IBM Cloud API key",
        severity: Severity::High,
        keywords: &["ibm", "bluemix"],
        regex: assign!(
            r"(?:ibm|bluemix)[\w.-]{0,20}api[_.-]?key",
            r"[A-Za-z0-9_-]{44}"
        ),
        entropy: Some(3.5),
        doc: "An IBM Cloud IAM API key; exchanged for bearer tokens with the user's or service \
              ID's access.",
        ..BASE
    },
    RuleDef {
        code: "SEC-HEROKU-API-KEY",
        title: "Heroku API key",
        severity: Severity::High,
        keywords: &["heroku", "HRKU-"],
        regex: r"(?:\b(?P<secret>HRKU-[A-Za-z0-9_-]{60})(?:[^A-Za-z0-9_-]|$)|(?i:heroku)[\w.-]{0,20}[\x22']?\s{0,4}[:=]\s{0,4}[\x22']?(?P<secret2>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b)",
        entropy: Some(3.0),
        doc: "A Heroku Platform API key (`HRKU-` or a UUID next to the word heroku); controls \
              apps, config vars and add-ons of the account.",
        ..BASE
    },
    RuleDef {
        code: "SEC-CLOUDFLARE-ORIGIN-CA-KEY",
        title: "Cloudflare Origin CA key",
        severity: Severity::High,
        keywords: &["v1.0-"],
        regex: r"\b(?P<secret>v1\.0-[a-f0-9]{24}-[a-f0-9]{146})\b",
        entropy: Some(3.0),
        doc: "A Cloudflare Origin CA key; issues and revokes origin certificates for the zones.",
        ..BASE
    },
];
