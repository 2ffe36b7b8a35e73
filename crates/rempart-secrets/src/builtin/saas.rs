//! API keys of hosted services (AI, messaging, observability, package registries, developer tools).

use rempart_core::Severity;

use super::assign;
use super::checks;
use crate::rule::{Category, RuleDef};

const BASE: RuleDef = RuleDef {
    category: Category::ApiKey,
    severity: Severity::High,
    entropy: Some(3.0),
    ..RuleDef::DEFAULT
};

pub(super) const RULES: &[RuleDef] = &[
    RuleDef {
        code: "SEC-OPENAI-API-KEY",
        title: "OpenAI API key",
        keywords: &["T3BlbkFJ"],
        regex: r"\b(?P<secret>sk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_-]{20,156}T3BlbkFJ[A-Za-z0-9_-]{20,156})(?:[^A-Za-z0-9_-]|$)",
        entropy: Some(4.0),
        doc: "An OpenAI API key (user, project, service account or admin); usage is billed to the \
              organisation.",
        ..BASE
    },
    RuleDef {
        code: "SEC-ANTHROPIC-API-KEY",
        title: "Anthropic API key",
        keywords: &["sk-ant-api"],
        regex: r"\b(?P<secret>sk-ant-api03-[A-Za-z0-9_-]{93}AA)(?:[^A-Za-z0-9_-]|$)",
        entropy: Some(4.0),
        doc: "An Anthropic API key; usage is billed to the workspace.",
        ..BASE
    },
    RuleDef {
        code: "SEC-ANTHROPIC-ADMIN-KEY",
        title: "Anthropic admin API key",
        severity: Severity::Critical,
        keywords: &["sk-ant-admin"],
        regex: r"\b(?P<secret>sk-ant-admin01-[A-Za-z0-9_-]{93}AA)(?:[^A-Za-z0-9_-]|$)",
        entropy: Some(4.0),
        doc: "An Anthropic Admin API key; manages members, workspaces and API keys.",
        ..BASE
    },
    RuleDef {
        code: "SEC-GROQ-API-KEY",
        title: "Groq API key",
        keywords: &["gsk_"],
        regex: r"\b(?P<secret>gsk_[A-Za-z0-9]{52})\b",
        entropy: Some(4.0),
        doc: "A Groq inference API key.",
        ..BASE
    },
    RuleDef {
        code: "SEC-REPLICATE-API-TOKEN",
        title: "Replicate API token",
        keywords: &["r8_"],
        regex: r"\b(?P<secret>r8_[A-Za-z0-9]{37})\b",
        entropy: Some(3.5),
        doc: "A Replicate API token; runs models billed to the account.",
        ..BASE
    },
    RuleDef {
        code: "SEC-PERPLEXITY-API-KEY",
        title: "Perplexity API key",
        keywords: &["pplx-"],
        regex: r"\b(?P<secret>pplx-[A-Za-z0-9]{48})\b",
        entropy: Some(3.5),
        doc: "A Perplexity API key.",
        ..BASE
    },
    RuleDef {
        code: "SEC-HUGGINGFACE-TOKEN",
        title: "Hugging Face access token",
        keywords: &["hf_", "api_org_"],
        regex: r"\b(?P<secret>(?:hf_|api_org_)[A-Za-z]{34})\b",
        entropy: Some(3.5),
        doc: "A Hugging Face user or organisation token; reads private models and datasets and \
              may push to them.",
        ..BASE
    },
    RuleDef {
        code: "SEC-SENDGRID-API-KEY",
        title: "SendGrid API key",
        keywords: &["SG."],
        regex: r"\b(?P<secret>SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?:[^A-Za-z0-9_-]|$)",
        entropy: Some(4.0),
        doc: "A SendGrid API key; sends mail as the account's verified domains (phishing).",
        ..BASE
    },
    RuleDef {
        code: "SEC-SENDINBLUE-API-KEY",
        title: "Brevo (Sendinblue) API key",
        keywords: &["xkeysib-"],
        regex: r"\b(?P<secret>xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16})\b",
        doc: "A Brevo API key; sends mail and reads contact lists.",
        ..BASE
    },
    RuleDef {
        code: "SEC-TWILIO-API-KEY",
        title: "Twilio API key",
        keywords: &["twilio"],
        regex: r"\b(?P<secret>SK[0-9a-f]{32})\b",
        doc: "A Twilio API key SID (in a file that mentions Twilio), used with its secret to send \
              SMS and place calls billed to the account.",
        ..BASE
    },
    RuleDef {
        code: "SEC-TWILIO-AUTH-TOKEN",
        title: "Twilio auth token",
        severity: Severity::Critical,
        keywords: &["twilio"],
        regex: assign!(r"twilio[\w.-]{0,20}(?:auth[_.-]?)?token", r"[a-f0-9]{32}"),
        doc: "The primary auth token of a Twilio account: full API access.",
        ..BASE
    },
    RuleDef {
        code: "SEC-MAILGUN-API-KEY",
        title: "Mailgun API key",
        keywords: &["key-"],
        regex: r"\b(?P<secret>key-[0-9a-f]{32})\b",
        doc: "A Mailgun private API key; sends mail from the account's domains.",
        ..BASE
    },
    RuleDef {
        code: "SEC-MAILCHIMP-API-KEY",
        title: "Mailchimp API key",
        keywords: &["-us"],
        regex: r"\b(?P<secret>[0-9a-f]{32}-us[0-9]{1,2})\b",
        doc: "A Mailchimp Marketing API key; reads audiences and sends campaigns.",
        ..BASE
    },
    RuleDef {
        code: "SEC-NPM-ACCESS-TOKEN",
        title: "npm access token",
        severity: Severity::Critical,
        keywords: &["npm_"],
        regex: r"\b(?P<secret>npm_[A-Za-z0-9]{36})\b",
        entropy: Some(3.5),
        doc: "An npm registry token; may publish new versions of the owner's packages (a supply \
              chain compromise).",
        ..BASE
    },
    RuleDef {
        code: "SEC-NPMRC-AUTH-TOKEN",
        title: "Registry auth token in .npmrc",
        keywords: &["_authtoken"],
        regex: r"(?i:_authToken)\s*=\s*[\x22']?(?P<secret>[A-Za-z0-9_.+/=-]{16,256})",
        entropy: Some(3.0),
        generic: true,
        doc: "An `_authToken` line of an `.npmrc` (npm, GitHub Packages, Artifactory registries).",
        ..BASE
    },
    RuleDef {
        code: "SEC-PYPI-UPLOAD-TOKEN",
        title: "PyPI upload token",
        severity: Severity::Critical,
        keywords: &["pypi-AgEIcHlwaS5vcmc"],
        regex: r"\b(?P<secret>pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,1000})(?:[^A-Za-z0-9_-]|$)",
        entropy: Some(4.0),
        doc: "A PyPI API token; uploads releases of the owner's projects.",
        ..BASE
    },
    RuleDef {
        code: "SEC-RUBYGEMS-API-KEY",
        title: "RubyGems API key",
        severity: Severity::Critical,
        keywords: &["rubygems_"],
        regex: r"\b(?P<secret>rubygems_[a-f0-9]{48})\b",
        doc: "A RubyGems.org API key; pushes gem versions.",
        ..BASE
    },
    RuleDef {
        code: "SEC-NUGET-API-KEY",
        title: "NuGet API key",
        keywords: &["oy2"],
        regex: r"\b(?P<secret>oy2[a-z0-9]{43})\b",
        entropy: Some(3.5),
        doc: "A nuget.org API key; pushes package versions.",
        ..BASE
    },
    RuleDef {
        code: "SEC-DOCKERHUB-PAT",
        title: "Docker Hub access token",
        keywords: &["dckr_pat_", "dckr_oat_"],
        regex: r"\b(?P<secret>dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,32})(?:[^A-Za-z0-9_-]|$)",
        entropy: Some(3.5),
        doc: "A Docker Hub personal or organisation access token; pushes images.",
        ..BASE
    },
    RuleDef {
        code: "SEC-DOCKER-CONFIG-AUTH",
        title: "Registry credentials in a Docker config.json",
        keywords: &["\"auth\""],
        regex: r#""auth"\s*:\s*"(?P<secret>[A-Za-z0-9+/]{6,1024}={0,2})""#,
        check: Some(checks::base64_user_password),
        doc: "An `auths` entry of `~/.docker/config.json`: base64 of `user:password` for a \
              registry, usually left behind by `docker login` during a build.",
        ..BASE
    },
    RuleDef {
        code: "SEC-DATADOG-API-KEY",
        title: "Datadog API key",
        keywords: &["datadog", "dd_api", "dd-api", "ddapi"],
        regex: assign!(r"(?:datadog|dd)[_.-]?api[_.-]?key", r"[a-f0-9]{32}"),
        doc: "A Datadog API key; submits metrics, logs and events to the organisation.",
        ..BASE
    },
    RuleDef {
        code: "SEC-DATADOG-APP-KEY",
        title: "Datadog application key",
        keywords: &["datadog", "dd_app", "dd-app", "ddapp"],
        regex: assign!(
            r"(?:datadog|dd)[_.-]?app(?:lication)?[_.-]?key",
            r"[a-f0-9]{40}"
        ),
        doc: "A Datadog application key; reads and changes dashboards, monitors and data.",
        ..BASE
    },
    RuleDef {
        code: "SEC-NEWRELIC-USER-API-KEY",
        title: "New Relic user API key",
        keywords: &["NRAK-"],
        regex: r"\b(?P<secret>NRAK-[A-Z0-9]{27})\b",
        doc: "A New Relic user key; NerdGraph access with the user's permissions.",
        ..BASE
    },
    RuleDef {
        code: "SEC-NEWRELIC-LICENSE-KEY",
        title: "New Relic ingest license key",
        severity: Severity::Medium,
        keywords: &["NRAL"],
        regex: r"\b(?P<secret>[a-f0-9]{36}NRAL)\b",
        doc: "A New Relic ingest license key; sends data into the account.",
        ..BASE
    },
    RuleDef {
        code: "SEC-NEWRELIC-INSIGHTS-KEY",
        title: "New Relic Insights key",
        severity: Severity::Medium,
        keywords: &["NRII-", "NRIQ-"],
        regex: r"\b(?P<secret>NRI[IQ]-[A-Za-z0-9_-]{32})(?:[^A-Za-z0-9_-]|$)",
        doc: "A New Relic Insights insert or query key.",
        ..BASE
    },
    RuleDef {
        code: "SEC-SENTRY-AUTH-TOKEN",
        title: "Sentry auth token",
        keywords: &["sntrys_", "sntryu_"],
        regex: r"\b(?P<secret>sntrys_eyJpYXQiO[A-Za-z0-9+/=_-]{60,400}|sntryu_[a-f0-9]{64})(?:[^A-Za-z0-9+/=_-]|$)",
        doc: "A Sentry organisation or user auth token; reads events (which contain user data) and \
              uploads releases.",
        ..BASE
    },
    RuleDef {
        code: "SEC-GRAFANA-API-KEY",
        title: "Grafana API key",
        keywords: &["eyJrIjoi"],
        regex: r"\b(?P<secret>eyJrIjoi[A-Za-z0-9]{70,400}={0,2})(?:[^A-Za-z0-9=]|$)",
        entropy: Some(4.0),
        doc: "A legacy Grafana API key (base64 JSON starting `{\"k\":`).",
        ..BASE
    },
    RuleDef {
        code: "SEC-GRAFANA-CLOUD-TOKEN",
        title: "Grafana Cloud access policy token",
        keywords: &["glc_"],
        regex: r"\b(?P<secret>glc_[A-Za-z0-9+/]{32,400}={0,2})(?:[^A-Za-z0-9+/=]|$)",
        entropy: Some(4.0),
        doc: "A Grafana Cloud token; reads or writes metrics, logs and traces of the stack.",
        ..BASE
    },
    RuleDef {
        code: "SEC-GRAFANA-SERVICE-ACCOUNT-TOKEN",
        title: "Grafana service account token",
        keywords: &["glsa_"],
        regex: r"\b(?P<secret>glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})\b",
        entropy: Some(3.5),
        doc: "A Grafana service account token with the account's role on the instance.",
        ..BASE
    },
    RuleDef {
        code: "SEC-DATABRICKS-TOKEN",
        title: "Databricks personal access token",
        keywords: &["dapi"],
        regex: r"\b(?P<secret>dapi[a-f0-9]{32}(?:-[0-9])?)\b",
        doc: "A Databricks token; runs jobs and reads data of the workspace.",
        ..BASE
    },
    RuleDef {
        code: "SEC-VAULT-TOKEN",
        title: "HashiCorp Vault token",
        severity: Severity::Critical,
        keywords: &["hvs.", "hvb."],
        regex: r"\b(?P<secret>hvs\.[A-Za-z0-9_-]{90,120}|hvb\.[A-Za-z0-9_-]{138,300})(?:[^A-Za-z0-9_-]|$)",
        entropy: Some(4.0),
        doc: "A Vault service or batch token; reads the secrets its policies allow.",
        ..BASE
    },
    RuleDef {
        code: "SEC-TERRAFORM-CLOUD-TOKEN",
        title: "Terraform Cloud / Enterprise API token",
        severity: Severity::Critical,
        keywords: &["atlasv1"],
        regex: r"\b(?P<secret>[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70})(?:[^A-Za-z0-9_=-]|$)",
        entropy: Some(4.0),
        doc: "A Terraform Cloud token; runs plans and applies with the workspaces' cloud credentials.",
        ..BASE
    },
    RuleDef {
        code: "SEC-POSTMAN-API-KEY",
        title: "Postman API key",
        keywords: &["PMAK-"],
        regex: r"\b(?P<secret>PMAK-[a-f0-9]{24}-[a-f0-9]{34})\b",
        doc: "A Postman API key; reads collections and environments, which often hold more secrets.",
        ..BASE
    },
    RuleDef {
        code: "SEC-ATLASSIAN-API-TOKEN",
        title: "Atlassian API token",
        keywords: &["ATATT3"],
        regex: r"\b(?P<secret>ATATT3[A-Za-z0-9_=-]{100,300})(?:[^A-Za-z0-9_=-]|$)",
        entropy: Some(4.0),
        doc: "An Atlassian Cloud API token (Jira, Confluence) acting as the user.",
        ..BASE
    },
    RuleDef {
        code: "SEC-LINEAR-API-KEY",
        title: "Linear API key",
        keywords: &["lin_api_"],
        regex: r"\b(?P<secret>lin_api_[A-Za-z0-9]{40})\b",
        doc: "A Linear personal API key; reads and changes the workspace's issues.",
        ..BASE
    },
    RuleDef {
        code: "SEC-NOTION-TOKEN",
        title: "Notion integration token",
        keywords: &["ntn_", "secret_"],
        regex: r"\b(?P<secret>ntn_[0-9]{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43})\b",
        entropy: Some(4.0),
        doc: "A Notion internal integration token; reads the pages shared with the integration.",
        ..BASE
    },
    RuleDef {
        code: "SEC-OKTA-API-TOKEN",
        title: "Okta API token",
        severity: Severity::Critical,
        keywords: &["okta"],
        regex: assign!(r"okta[\w.-]{0,20}(?:token|key)", r"00[A-Za-z0-9_-]{40}"),
        entropy: Some(4.0),
        doc: "An Okta API token with its creator's admin rights over users and applications.",
        ..BASE
    },
    RuleDef {
        code: "SEC-DOPPLER-TOKEN",
        title: "Doppler token",
        keywords: &[
            "dp.pt.",
            "dp.st.",
            "dp.sa.",
            "dp.ct.",
            "dp.scim.",
            "dp.audit.",
        ],
        regex: r"\b(?P<secret>dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44})\b",
        entropy: Some(3.5),
        doc: "A Doppler personal, service or CLI token; reads the project's secrets.",
        ..BASE
    },
    RuleDef {
        code: "SEC-PULUMI-ACCESS-TOKEN",
        title: "Pulumi access token",
        keywords: &["pul-"],
        regex: r"\b(?P<secret>pul-[a-f0-9]{40})\b",
        doc: "A Pulumi Cloud token; reads stack state, which holds the stacks' secrets.",
        ..BASE
    },
    RuleDef {
        code: "SEC-ALGOLIA-ADMIN-KEY",
        title: "Algolia API key",
        keywords: &["algolia"],
        regex: assign!(
            r"algolia[\w.-]{0,20}(?:api|admin|write)?[_.-]?key",
            r"[a-f0-9]{32}"
        ),
        doc: "An Algolia API key next to the word algolia; admin and write keys change indices.",
        ..BASE
    },
    RuleDef {
        code: "SEC-DYNATRACE-TOKEN",
        title: "Dynatrace API token",
        keywords: &["dt0c01."],
        regex: r"\b(?P<secret>dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64})\b",
        doc: "A Dynatrace API token with the scopes chosen at creation.",
        ..BASE
    },
    RuleDef {
        code: "SEC-PLANETSCALE-TOKEN",
        title: "PlanetScale token or password",
        keywords: &["pscale_"],
        regex: r"\b(?P<secret>pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_.=-]{32,64})(?:[^A-Za-z0-9_.=-]|$)",
        entropy: Some(3.5),
        doc: "A PlanetScale service token, OAuth token or database password.",
        ..BASE
    },
    RuleDef {
        code: "SEC-SUPABASE-TOKEN",
        title: "Supabase access token",
        keywords: &["sbp_"],
        regex: r"\b(?P<secret>sbp_[a-f0-9]{40})\b",
        doc: "A Supabase management API token; controls the user's projects.",
        ..BASE
    },
    RuleDef {
        code: "SEC-FLYIO-TOKEN",
        title: "Fly.io access token",
        keywords: &["FlyV1 fm"],
        regex: r"\b(?P<secret>FlyV1 fm[12][0-9a-z]?_[A-Za-z0-9+/=_-]{100,2000})",
        entropy: Some(4.0),
        doc: "A Fly.io macaroon token; deploys and reads secrets of the organisation's apps.",
        ..BASE
    },
    RuleDef {
        code: "SEC-NETLIFY-TOKEN",
        title: "Netlify personal access token",
        keywords: &["nfp_"],
        regex: r"\b(?P<secret>nfp_[A-Za-z0-9]{36})\b",
        entropy: Some(3.5),
        doc: "A Netlify token; deploys sites and reads their environment variables.",
        ..BASE
    },
    RuleDef {
        code: "SEC-RENDER-API-KEY",
        title: "Render API key",
        keywords: &["rnd_"],
        regex: r"\b(?P<secret>rnd_[A-Za-z0-9]{32})\b",
        entropy: Some(3.5),
        doc: "A Render API key; manages services and their environment.",
        ..BASE
    },
    RuleDef {
        code: "SEC-ONEPASSWORD-SERVICE-ACCOUNT-TOKEN",
        title: "1Password service account token",
        severity: Severity::Critical,
        keywords: &["ops_eyJ"],
        regex: r"\b(?P<secret>ops_eyJ[A-Za-z0-9+/=_-]{250,2000})",
        entropy: Some(4.0),
        doc: "A 1Password service account token; reads the vaults shared with the account.",
        ..BASE
    },
    RuleDef {
        code: "SEC-AGE-SECRET-KEY",
        title: "age secret key",
        keywords: &["AGE-SECRET-KEY-1"],
        regex: r"\b(?P<secret>AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})\b",
        doc: "An age (or SOPS) identity: decrypts every file encrypted to its recipient.",
        category: Category::PrivateKey,
        ..BASE
    },
    RuleDef {
        code: "SEC-TAILSCALE-KEY",
        title: "Tailscale auth or API key",
        keywords: &["tskey-"],
        regex: r"\b(?P<secret>tskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9]{10,}-[A-Za-z0-9]{20,})\b",
        doc: "A Tailscale key; joins machines to the tailnet or calls its admin API.",
        ..BASE
    },
    RuleDef {
        code: "SEC-JFROG-TOKEN",
        title: "JFrog Artifactory API key or token",
        keywords: &["AKCp", "cmVmdGtuOjAxOj"],
        regex: r"\b(?P<secret>AKCp[A-Za-z0-9]{69}|cmVmdGtuOjAxOj[A-Za-z0-9]{50})\b",
        entropy: Some(4.0),
        doc: "An Artifactory API key or reference token; pulls and pushes artifacts.",
        ..BASE
    },
    RuleDef {
        code: "SEC-SONARQUBE-TOKEN",
        title: "SonarQube token",
        severity: Severity::Medium,
        keywords: &["squ_", "sqp_", "sqa_"],
        regex: r"\b(?P<secret>sq[upa]_[a-f0-9]{40})\b",
        doc: "A SonarQube user, project or global analysis token; reads code analysis results.",
        ..BASE
    },
    RuleDef {
        code: "SEC-CIRCLECI-TOKEN",
        title: "CircleCI personal API token",
        keywords: &["CCIPAT_"],
        regex: r"\b(?P<secret>CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40})\b",
        doc: "A CircleCI token; reads project settings and environment variables.",
        ..BASE
    },
    RuleDef {
        code: "SEC-BUILDKITE-TOKEN",
        title: "Buildkite API token",
        keywords: &["bkua_"],
        regex: r"\b(?P<secret>bkua_[a-f0-9]{40})\b",
        doc: "A Buildkite user API token; triggers builds and reads pipelines.",
        ..BASE
    },
    RuleDef {
        code: "SEC-MAPBOX-SECRET-TOKEN",
        title: "Mapbox secret token",
        severity: Severity::Medium,
        keywords: &["sk.eyJ1Ijoi"],
        regex: r"\b(?P<secret>sk\.eyJ1Ijoi[A-Za-z0-9_-]{40,400}\.[A-Za-z0-9_-]{22})(?:[^A-Za-z0-9_-]|$)",
        entropy: Some(4.0),
        doc: "A Mapbox secret token; manages styles, uploads and tokens.",
        ..BASE
    },
    RuleDef {
        code: "SEC-FIGMA-TOKEN",
        title: "Figma personal access token",
        severity: Severity::Medium,
        keywords: &["figd_"],
        regex: r"\b(?P<secret>figd_[A-Za-z0-9_-]{40})(?:[^A-Za-z0-9_-]|$)",
        entropy: Some(3.5),
        doc: "A Figma token; reads the user's design files.",
        ..BASE
    },
    RuleDef {
        code: "SEC-SHIPPO-API-TOKEN",
        title: "Shippo API token",
        keywords: &["shippo_"],
        regex: r"\b(?P<secret>shippo_(?:live|test)_[a-f0-9]{40})\b",
        doc: "A Shippo token; buys shipping labels billed to the account.",
        ..BASE
    },
    RuleDef {
        code: "SEC-EASYPOST-API-KEY",
        title: "EasyPost API key",
        keywords: &["EZAK", "EZTK"],
        regex: r"\b(?P<secret>EZ[AT]K[a-z0-9]{54})\b",
        entropy: Some(3.5),
        doc: "An EasyPost production (`EZAK`) or test (`EZTK`) key.",
        ..BASE
    },
    RuleDef {
        code: "SEC-TYPEFORM-TOKEN",
        title: "Typeform personal access token",
        severity: Severity::Medium,
        keywords: &["tfp_"],
        regex: r"\b(?P<secret>tfp_[A-Za-z0-9_.=-]{59})(?:[^A-Za-z0-9_.=-]|$)",
        entropy: Some(3.5),
        doc: "A Typeform token; reads form responses (personal data).",
        ..BASE
    },
    RuleDef {
        code: "SEC-PREFECT-API-KEY",
        title: "Prefect Cloud API key",
        keywords: &["pnu_"],
        regex: r"\b(?P<secret>pnu_[A-Za-z0-9]{36})\b",
        entropy: Some(3.5),
        doc: "A Prefect Cloud key; runs flows with the workspace's blocks and credentials.",
        ..BASE
    },
    RuleDef {
        code: "SEC-INFRACOST-API-KEY",
        title: "Infracost API key",
        severity: Severity::Medium,
        keywords: &["ico-"],
        regex: r"\b(?P<secret>ico-[A-Za-z0-9]{32})\b",
        entropy: Some(3.5),
        doc: "An Infracost API key.",
        ..BASE
    },
];
