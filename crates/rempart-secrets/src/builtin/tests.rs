//! One positive and one near-miss negative per built-in rule. Fake secrets are generated from a
//! fixed seed at run time, so this file holds no credential-shaped strings.

use std::cell::Cell;
use std::collections::BTreeSet;

use crate::config::SecretConfig;
use crate::scanner::SecretScanner;

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const LOWER_ALNUM: &str = "abcdefghijklmnopqrstuvwxyz0123456789";
const LETTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const HEX: &str = "0123456789abcdef";
const DIGITS: &str = "0123456789";
const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const AWS_ID: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BECH32: &str = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";

thread_local! {
    static STATE: Cell<u64> = const { Cell::new(0x005e_ed0f_7e57) };
}

/// Deterministic pseudo-random text (splitmix64), so failures reproduce.
fn rand(alphabet: &str, n: usize) -> String {
    let chars: Vec<char> = alphabet.chars().collect();
    (0..n)
        .map(|_| {
            let x = STATE.with(|s| {
                let v = s.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
                s.set(v);
                v
            });
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            chars[(z % chars.len() as u64) as usize]
        })
        .collect()
}

fn reseed(seed: u64) {
    STATE.with(|s| s.set(seed));
}

fn uuid() -> String {
    format!(
        "{}-{}-{}-{}-{}",
        rand(HEX, 8),
        rand(HEX, 4),
        rand(HEX, 4),
        rand(HEX, 4),
        rand(HEX, 12)
    )
}

fn base64(data: &[u8]) -> String {
    let alphabet = B64.as_bytes();
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(alphabet[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64url(data: &[u8]) -> String {
    base64(data)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

/// A PEM block with a random body of `lines` full lines.
fn pem(label: &str, lines: usize) -> String {
    let mut body = String::new();
    for _ in 0..lines {
        body.push_str(&rand(B64, 64));
        body.push('\n');
    }
    body.push_str(&rand(B64, 20));
    body.push_str("==\n");
    format!("-----BEGIN {label}-----\n{body}-----END {label}-----\n")
}

struct Case {
    code: &'static str,
    positive: String,
    negative: String,
}

fn case(code: &'static str, positive: String, negative: String) -> Case {
    Case {
        code,
        positive,
        negative,
    }
}

#[allow(clippy::too_many_lines)]
fn cases() -> Vec<Case> {
    let jwt_header = base64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let jwt_payload = base64url(
        format!(
            r#"{{"sub":"svc-{}","iat":1700000000}}"#,
            rand(LOWER_ALNUM, 8)
        )
        .as_bytes(),
    );
    let jwt_sample = base64url(br#"{"sub":"1234567890","name":"John Doe","iat":1516239022}"#);
    let pem_in_base64 = base64(pem("RSA PRIVATE KEY", 4).as_bytes());
    let cert_in_base64 = base64(pem("CERTIFICATE", 4).as_bytes());
    let docker_auth = base64(format!("builder:{}", rand(ALNUM, 20)).as_bytes());
    let docker_no_colon = base64(rand(ALNUM, 24).as_bytes());
    let basic_sample = base64(b"username:password");
    vec![
        // Cloud
        case(
            "SEC-AWS-ACCESS-KEY-ID",
            format!("AKIA{}", rand(AWS_ID, 16)),
            format!("{}{}", "AKIAIOSFODNN7", "EXAMPLE"),
        ),
        case(
            "SEC-AWS-SECRET-ACCESS-KEY",
            format!("aws_secret_access_key = {}", rand(B64, 40)),
            format!(
                "aws_secret_access_key = {}{}",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCY", "EXAMPLEKEY"
            ),
        ),
        case(
            "SEC-AWS-SESSION-TOKEN",
            format!("AWS_SESSION_TOKEN={}", rand(B64, 200)),
            format!("AWS_SESSION_TOKEN={}", rand(B64, 60)),
        ),
        case(
            "SEC-AWS-MWS-KEY",
            format!("amzn.mws.{}", uuid()),
            format!("amzn.mws.{}-zzzz", rand(HEX, 8)),
        ),
        case(
            "SEC-GCP-SERVICE-ACCOUNT-KEY",
            format!(
                r#"{{"type": "service_account", "private_key_id": "{}"}}"#,
                rand(HEX, 40)
            ),
            format!(
                r#"{{"type": "service_account", "private_key_id": "{}"}}"#,
                rand(HEX, 39)
            ),
        ),
        case(
            "SEC-GCP-API-KEY",
            format!("key={}{}", "AIza", rand(B64URL, 35)),
            format!("key={}{}", "AIza", rand(B64URL, 34)),
        ),
        case(
            "SEC-GCP-OAUTH-CLIENT-SECRET",
            format!("GOCSPX-{}", rand(B64URL, 28)),
            format!("GOCSPX-{}", rand(B64URL, 27)),
        ),
        case(
            "SEC-GCP-OAUTH-ACCESS-TOKEN",
            format!("ya29.{}", rand(B64URL, 80)),
            format!("ya29.{}", rand(B64URL, 20)),
        ),
        case(
            "SEC-AZURE-STORAGE-ACCOUNT-KEY",
            format!(
                "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={}==;EndpointSuffix=core.windows.net",
                rand(ALNUM, 86)
            ),
            format!(
                "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={}==;",
                rand(ALNUM, 85)
            ),
        ),
        case(
            "SEC-AZURE-SHARED-ACCESS-KEY",
            format!(
                "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey={}=",
                rand(ALNUM, 43)
            ),
            format!(
                "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey={}=",
                rand(ALNUM, 42)
            ),
        ),
        case(
            "SEC-AZURE-SAS-TOKEN",
            format!(
                "https://acme.blob.core.windows.net/c?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01&sig={}%3D",
                rand(ALNUM, 44)
            ),
            format!(
                "https://acme.blob.core.windows.net/c?sp=r&se=2030-01-01&sig={}%3D",
                rand(ALNUM, 44)
            ),
        ),
        case(
            "SEC-AZURE-CLIENT-SECRET",
            format!("client_secret: {}8Q~{}", rand(ALNUM, 3), rand(ALNUM, 34)),
            format!("client_secret: {}8Q~{}", rand(ALNUM, 3), rand(ALNUM, 20)),
        ),
        case(
            "SEC-DIGITALOCEAN-PAT",
            format!("dop_v1_{}", rand(HEX, 64)),
            format!("dop_v1_{}", rand(HEX, 63)),
        ),
        case(
            "SEC-DIGITALOCEAN-OAUTH-TOKEN",
            format!("doo_v1_{}", rand(HEX, 64)),
            format!("doo_v2_{}", rand(HEX, 64)),
        ),
        case(
            "SEC-ALIBABA-ACCESS-KEY-ID",
            format!("LTAI{}", rand(ALNUM, 20)),
            format!("LTAI{}", rand(ALNUM, 8)),
        ),
        case(
            "SEC-ALIBABA-ACCESS-KEY-SECRET",
            format!("alibaba_cloud_access_key_secret = {}", rand(ALNUM, 30)),
            format!("alibaba_cloud_access_key_secret = {}", rand(ALNUM, 29)),
        ),
        case(
            "SEC-IBM-CLOUD-API-KEY",
            format!("IBM_CLOUD_API_KEY={}", rand(B64URL, 44)),
            format!("IBM_CLOUD_API_KEY={}", rand(B64URL, 43)),
        ),
        case(
            "SEC-HEROKU-API-KEY",
            format!("HRKU-{}", rand(B64URL, 60)),
            format!("HRKU-{}", rand(B64URL, 59)),
        ),
        case(
            "SEC-CLOUDFLARE-ORIGIN-CA-KEY",
            format!("v1.0-{}-{}", rand(HEX, 24), rand(HEX, 146)),
            format!("v1.0-{}-{}", rand(HEX, 24), rand(HEX, 145)),
        ),
        // Forges
        case(
            "SEC-GITHUB-PAT",
            format!("ghp_{}", rand(ALNUM, 36)),
            format!("ghp_{}", rand(ALNUM, 35)),
        ),
        case(
            "SEC-GITHUB-FINE-GRAINED-PAT",
            format!("github_pat_{}_{}", rand(ALNUM, 22), rand(ALNUM, 59)),
            format!("github_pat_{}_{}", rand(ALNUM, 22), rand(ALNUM, 58)),
        ),
        case(
            "SEC-GITHUB-OAUTH-TOKEN",
            format!("gho_{}", rand(ALNUM, 36)),
            format!("gho_{}", rand(ALNUM, 35)),
        ),
        case(
            "SEC-GITHUB-APP-TOKEN",
            format!("ghs_{}", rand(ALNUM, 36)),
            format!("ghx_{}", rand(ALNUM, 36)),
        ),
        case(
            "SEC-GITHUB-REFRESH-TOKEN",
            format!("ghr_{}", rand(ALNUM, 76)),
            format!("ghr_{}", rand(ALNUM, 35)),
        ),
        case(
            "SEC-GITLAB-PAT",
            format!("glpat-{}", rand(B64URL, 20)),
            format!("glpat-{}", rand(B64URL, 19)),
        ),
        case(
            "SEC-GITLAB-PIPELINE-TRIGGER-TOKEN",
            format!("glptt-{}", rand(HEX, 40)),
            format!("glptt-{}", rand(HEX, 39)),
        ),
        case(
            "SEC-GITLAB-RUNNER-TOKEN",
            format!("glrt-{}", rand(B64URL, 20)),
            format!("glrt-{}", rand(B64URL, 19)),
        ),
        case(
            "SEC-GITLAB-RUNNER-REGISTRATION-TOKEN",
            format!("GR1348941{}", rand(B64URL, 20)),
            format!("GR1348941{}", rand(B64URL, 19)),
        ),
        case(
            "SEC-GITLAB-DEPLOY-TOKEN",
            format!("gldt-{}", rand(B64URL, 20)),
            format!("gldt-{}", rand(B64URL, 19)),
        ),
        case(
            "SEC-GITLAB-CI-BUILD-TOKEN",
            format!("glcbt-1a_{}", rand(B64URL, 20)),
            format!("glcbt-1a_{}", rand(B64URL, 19)),
        ),
        case(
            "SEC-GITLAB-OAUTH-APP-SECRET",
            format!("gloas-{}", rand(B64URL, 64)),
            format!("gloas-{}", rand(B64URL, 63)),
        ),
        case(
            "SEC-GITLAB-FEED-TOKEN",
            format!("glft-{}", rand(ALNUM, 20)),
            format!("glft-{}", rand(ALNUM, 19)),
        ),
        case(
            "SEC-GITLAB-SCIM-TOKEN",
            format!("glsoat-{}", rand(ALNUM, 20)),
            format!("glsoat-{}", rand(ALNUM, 19)),
        ),
        case(
            "SEC-GITLAB-AGENT-TOKEN",
            format!("glagent-{}", rand(ALNUM, 50)),
            format!("glagent-{}", rand(ALNUM, 49)),
        ),
        case(
            "SEC-BITBUCKET-APP-PASSWORD",
            format!("ATBB{}", rand(ALNUM, 32)),
            format!("ATBB{}", rand(ALNUM, 31)),
        ),
        case(
            "SEC-BITBUCKET-CLIENT-SECRET",
            format!("BITBUCKET_CLIENT_SECRET={}", rand(ALNUM, 64)),
            format!("BITBUCKET_CLIENT_SECRET={}", rand(ALNUM, 20)),
        ),
        // Chat
        case(
            "SEC-SLACK-BOT-TOKEN",
            format!(
                "xoxb-{}-{}-{}",
                rand(DIGITS, 12),
                rand(DIGITS, 13),
                rand(ALNUM, 24)
            ),
            format!(
                "xoxb-{}-{}-{}",
                rand(DIGITS, 12),
                rand(DIGITS, 13),
                rand(ALNUM, 20)
            ),
        ),
        case(
            "SEC-SLACK-USER-TOKEN",
            format!(
                "xoxp-{}-{}-{}-{}",
                rand(DIGITS, 12),
                rand(DIGITS, 12),
                rand(DIGITS, 13),
                rand(HEX, 32)
            ),
            format!(
                "xoxp-{}-{}-{}",
                rand(DIGITS, 12),
                rand(DIGITS, 12),
                rand(HEX, 32)
            ),
        ),
        case(
            "SEC-SLACK-APP-TOKEN",
            format!(
                "xapp-1-A0{}-{}-{}",
                rand(UPPER_ALNUM, 9),
                rand(DIGITS, 13),
                rand(HEX, 64)
            ),
            format!(
                "xapp-x-A0{}-{}-{}",
                rand(UPPER_ALNUM, 9),
                rand(DIGITS, 13),
                rand(HEX, 64)
            ),
        ),
        case(
            "SEC-SLACK-CONFIG-TOKEN",
            format!("xoxe.xoxp-1-{}", rand(UPPER_ALNUM, 165)),
            format!("xoxe.xoxp-1-{}", rand(UPPER_ALNUM, 100)),
        ),
        case(
            "SEC-SLACK-LEGACY-TOKEN",
            format!(
                "xoxs-{}-{}-{}",
                rand(DIGITS, 10),
                rand(DIGITS, 10),
                rand(ALNUM, 24)
            ),
            format!("xoxs-{}", rand(ALNUM, 24)),
        ),
        case(
            "SEC-SLACK-WEBHOOK-URL",
            format!(
                "https://hooks.slack.com/services/T{}/B{}/{}",
                rand(UPPER_ALNUM, 10),
                rand(UPPER_ALNUM, 10),
                rand(ALNUM, 24)
            ),
            "https://hooks.slack.com/services/T000/B000/XXXX".to_owned(),
        ),
        case(
            "SEC-DISCORD-BOT-TOKEN",
            format!(
                "DISCORD_TOKEN=M{}.{}.{}",
                rand(B64URL, 23),
                rand(B64URL, 6),
                rand(B64URL, 27)
            ),
            format!(
                "BOT_TOKEN=M{}.{}.{}",
                rand(B64URL, 23),
                rand(B64URL, 6),
                rand(B64URL, 27)
            ),
        ),
        case(
            "SEC-DISCORD-WEBHOOK-URL",
            format!(
                "https://discord.com/api/webhooks/{}/{}",
                rand(DIGITS, 18),
                rand(B64URL, 68)
            ),
            format!(
                "https://discord.com/api/webhooks/{}/{}",
                rand(DIGITS, 10),
                rand(B64URL, 68)
            ),
        ),
        case(
            "SEC-MSTEAMS-WEBHOOK-URL",
            format!(
                "https://acme.webhook.office.com/webhookb2/{}@{}/IncomingWebhook/{}/{}",
                uuid(),
                uuid(),
                rand(HEX, 32),
                uuid()
            ),
            format!(
                "https://acme.webhook.office.com/webhookb2/{}@{}/IncomingWebhook/{}/{}",
                uuid(),
                uuid(),
                rand(HEX, 31),
                uuid()
            ),
        ),
        case(
            "SEC-TELEGRAM-BOT-TOKEN",
            format!("bot{}:AA{}", rand(DIGITS, 10), rand(B64URL, 33)),
            format!("bot{}:AA{}", rand(DIGITS, 10), rand(B64URL, 20)),
        ),
        // Payment
        case(
            "SEC-STRIPE-SECRET-KEY",
            format!("sk_live_{}", rand(ALNUM, 24)),
            format!("sk_live_{}", rand(ALNUM, 23)),
        ),
        case(
            "SEC-STRIPE-RESTRICTED-KEY",
            format!("rk_live_{}", rand(ALNUM, 24)),
            format!("rk_live_{}", rand(ALNUM, 23)),
        ),
        case(
            "SEC-STRIPE-TEST-SECRET-KEY",
            format!("sk_test_{}", rand(ALNUM, 24)),
            format!("pk_test_{}", rand(ALNUM, 24)),
        ),
        case(
            "SEC-STRIPE-WEBHOOK-SECRET",
            format!("whsec_{}", rand(ALNUM, 32)),
            format!("whsec_{}", rand(ALNUM, 31)),
        ),
        case(
            "SEC-SQUARE-ACCESS-TOKEN",
            format!("EAAA{}", rand(B64URL, 60)),
            format!("EAAA{}", rand(B64URL, 59)),
        ),
        case(
            "SEC-SQUARE-OAUTH-SECRET",
            format!("sq0csp-{}", rand(B64URL, 43)),
            format!("sq0csp-{}", rand(B64URL, 42)),
        ),
        case(
            "SEC-BRAINTREE-ACCESS-TOKEN",
            format!(
                "access_token$production${}${}",
                rand(LOWER_ALNUM, 16),
                rand(HEX, 32)
            ),
            format!(
                "access_token$production${}${}",
                rand(LOWER_ALNUM, 16),
                rand(HEX, 31)
            ),
        ),
        case(
            "SEC-PAYPAL-CLIENT-SECRET",
            format!("PAYPAL_CLIENT_SECRET=E{}", rand(B64URL, 79)),
            format!("PAYPAL_CLIENT_SECRET=E{}", rand(B64URL, 60)),
        ),
        case(
            "SEC-SHOPIFY-ACCESS-TOKEN",
            format!("shpat_{}", rand(HEX, 32)),
            format!("shpat_{}", rand(HEX, 31)),
        ),
        case(
            "SEC-SHOPIFY-CUSTOM-APP-TOKEN",
            format!("shpca_{}", rand(HEX, 32)),
            format!("shpca_{}", rand(HEX, 31)),
        ),
        case(
            "SEC-SHOPIFY-PRIVATE-APP-TOKEN",
            format!("shppa_{}", rand(HEX, 32)),
            format!("shppa_{}", rand(HEX, 31)),
        ),
        case(
            "SEC-SHOPIFY-SHARED-SECRET",
            format!("shpss_{}", rand(HEX, 32)),
            format!("shpss_{}", rand(HEX, 31)),
        ),
        // Hosted services
        case(
            "SEC-OPENAI-API-KEY",
            format!(
                "sk-proj-{}{}FJ{}",
                rand(ALNUM, 40),
                "T3Blbk",
                rand(ALNUM, 40)
            ),
            format!("sk-proj-{}", rand(ALNUM, 88)),
        ),
        case(
            "SEC-ANTHROPIC-API-KEY",
            format!("sk-ant-api03-{}AA", rand(B64URL, 93)),
            format!("sk-ant-api03-{}AA", rand(B64URL, 92)),
        ),
        case(
            "SEC-ANTHROPIC-ADMIN-KEY",
            format!("sk-ant-admin01-{}AA", rand(B64URL, 93)),
            format!("sk-ant-admin01-{}AA", rand(B64URL, 92)),
        ),
        case(
            "SEC-GROQ-API-KEY",
            format!("gsk_{}", rand(ALNUM, 52)),
            format!("gsk_{}", rand(ALNUM, 51)),
        ),
        case(
            "SEC-REPLICATE-API-TOKEN",
            format!("r8_{}", rand(ALNUM, 37)),
            format!("r8_{}", rand(ALNUM, 36)),
        ),
        case(
            "SEC-PERPLEXITY-API-KEY",
            format!("pplx-{}", rand(ALNUM, 48)),
            format!("pplx-{}", rand(ALNUM, 47)),
        ),
        case(
            "SEC-HUGGINGFACE-TOKEN",
            format!("hf_{}", rand(LETTERS, 34)),
            format!("hf_{}", rand(LETTERS, 33)),
        ),
        case(
            "SEC-SENDGRID-API-KEY",
            format!("SG.{}.{}", rand(B64URL, 22), rand(B64URL, 43)),
            format!("SG.{}.{}", rand(B64URL, 22), rand(B64URL, 42)),
        ),
        case(
            "SEC-SENDINBLUE-API-KEY",
            format!("xkeysib-{}-{}", rand(HEX, 64), rand(ALNUM, 16)),
            format!("xkeysib-{}-{}", rand(HEX, 64), rand(ALNUM, 15)),
        ),
        case(
            "SEC-TWILIO-API-KEY",
            format!("TWILIO_API_KEY=SK{}", rand(HEX, 32)),
            format!("API_KEY_SID=SK{}", rand(HEX, 32)),
        ),
        case(
            "SEC-TWILIO-AUTH-TOKEN",
            format!("TWILIO_AUTH_TOKEN={}", rand(HEX, 32)),
            format!("TWILIO_AUTH_TOKEN={}", rand(HEX, 31)),
        ),
        case(
            "SEC-MAILGUN-API-KEY",
            format!("key-{}", rand(HEX, 32)),
            format!("key-{}", rand(HEX, 31)),
        ),
        case(
            "SEC-MAILCHIMP-API-KEY",
            format!("{}-us12", rand(HEX, 32)),
            format!("{}-uk12", rand(HEX, 32)),
        ),
        case(
            "SEC-NPM-ACCESS-TOKEN",
            format!("npm_{}", rand(ALNUM, 36)),
            format!("npm_{}", rand(ALNUM, 35)),
        ),
        case(
            "SEC-NPMRC-AUTH-TOKEN",
            format!("//npm.pkg.github.com/:_authToken={}", rand(B64URL, 40)),
            "//registry.npmjs.org/:_authToken=${NPM_TOKEN}".to_owned(),
        ),
        case(
            "SEC-PYPI-UPLOAD-TOKEN",
            format!("pypi-AgEIcHlwaS5vcmc{}", rand(B64URL, 70)),
            format!("pypi-AgEIcHlwaS5vcmc{}", rand(B64URL, 40)),
        ),
        case(
            "SEC-RUBYGEMS-API-KEY",
            format!("rubygems_{}", rand(HEX, 48)),
            format!("rubygems_{}", rand(HEX, 47)),
        ),
        case(
            "SEC-NUGET-API-KEY",
            format!("oy2{}", rand(LOWER_ALNUM, 43)),
            format!("oy2{}", rand(LOWER_ALNUM, 42)),
        ),
        case(
            "SEC-DOCKERHUB-PAT",
            format!("dckr_pat_{}", rand(B64URL, 27)),
            format!("dckr_pat_{}", rand(B64URL, 26)),
        ),
        case(
            "SEC-DOCKER-CONFIG-AUTH",
            format!(r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{docker_auth}"}}}}}}"#),
            format!(
                r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{docker_no_colon}"}}}}}}"#
            ),
        ),
        case(
            "SEC-DATADOG-API-KEY",
            format!("DD_API_KEY={}", rand(HEX, 32)),
            format!("DD_API_KEY={}", rand(HEX, 31)),
        ),
        case(
            "SEC-DATADOG-APP-KEY",
            format!("DATADOG_APP_KEY={}", rand(HEX, 40)),
            format!("DATADOG_APP_KEY={}", rand(HEX, 39)),
        ),
        case(
            "SEC-NEWRELIC-USER-API-KEY",
            format!("NRAK-{}", rand(UPPER_ALNUM, 27)),
            format!("NRAK-{}", rand(UPPER_ALNUM, 26)),
        ),
        case(
            "SEC-NEWRELIC-LICENSE-KEY",
            format!("{}NRAL", rand(HEX, 36)),
            format!("{}NRAL", rand(HEX, 35)),
        ),
        case(
            "SEC-NEWRELIC-INSIGHTS-KEY",
            format!("NRII-{}", rand(B64URL, 32)),
            format!("NRII-{}", rand(B64URL, 31)),
        ),
        case(
            "SEC-SENTRY-AUTH-TOKEN",
            format!("sntryu_{}", rand(HEX, 64)),
            format!("sntryu_{}", rand(HEX, 63)),
        ),
        case(
            "SEC-GRAFANA-API-KEY",
            format!("eyJrIjoi{}", rand(ALNUM, 80)),
            format!("eyJrIjoi{}", rand(ALNUM, 60)),
        ),
        case(
            "SEC-GRAFANA-CLOUD-TOKEN",
            format!("glc_{}", rand(B64, 48)),
            format!("glc_{}", rand(B64, 30)),
        ),
        case(
            "SEC-GRAFANA-SERVICE-ACCOUNT-TOKEN",
            format!("glsa_{}_{}", rand(ALNUM, 32), rand(HEX, 8)),
            format!("glsa_{}_{}", rand(ALNUM, 32), rand(HEX, 7)),
        ),
        case(
            "SEC-DATABRICKS-TOKEN",
            format!("dapi{}", rand(HEX, 32)),
            format!("dapi{}", rand(HEX, 31)),
        ),
        case(
            "SEC-VAULT-TOKEN",
            format!("hvs.{}", rand(B64URL, 95)),
            format!("hvs.{}", rand(B64URL, 80)),
        ),
        case(
            "SEC-TERRAFORM-CLOUD-TOKEN",
            format!("{}.atlasv1.{}", rand(ALNUM, 14), rand(B64URL, 65)),
            format!("{}.atlasv1.{}", rand(ALNUM, 14), rand(B64URL, 50)),
        ),
        case(
            "SEC-POSTMAN-API-KEY",
            format!("PMAK-{}-{}", rand(HEX, 24), rand(HEX, 34)),
            format!("PMAK-{}-{}", rand(HEX, 24), rand(HEX, 33)),
        ),
        case(
            "SEC-ATLASSIAN-API-TOKEN",
            format!("ATATT3{}", rand(B64URL, 180)),
            format!("ATATT3{}", rand(B64URL, 80)),
        ),
        case(
            "SEC-LINEAR-API-KEY",
            format!("lin_api_{}", rand(ALNUM, 40)),
            format!("lin_api_{}", rand(ALNUM, 39)),
        ),
        case(
            "SEC-NOTION-TOKEN",
            format!("ntn_{}{}", rand(DIGITS, 11), rand(ALNUM, 35)),
            format!("ntn_{}{}", rand(DIGITS, 11), rand(ALNUM, 34)),
        ),
        case(
            "SEC-OKTA-API-TOKEN",
            format!("OKTA_API_TOKEN=00{}", rand(B64URL, 40)),
            format!("OKTA_API_TOKEN=00{}", rand(B64URL, 39)),
        ),
        case(
            "SEC-DOPPLER-TOKEN",
            format!("dp.pt.{}", rand(ALNUM, 43)),
            format!("dp.pt.{}", rand(ALNUM, 39)),
        ),
        case(
            "SEC-PULUMI-ACCESS-TOKEN",
            format!("pul-{}", rand(HEX, 40)),
            format!("pul-{}", rand(HEX, 39)),
        ),
        case(
            "SEC-ALGOLIA-ADMIN-KEY",
            format!("ALGOLIA_ADMIN_KEY={}", rand(HEX, 32)),
            format!("ALGOLIA_ADMIN_KEY={}", rand(HEX, 31)),
        ),
        case(
            "SEC-DYNATRACE-TOKEN",
            format!("dt0c01.{}.{}", rand(UPPER_ALNUM, 24), rand(UPPER_ALNUM, 64)),
            format!("dt0c01.{}.{}", rand(UPPER_ALNUM, 24), rand(UPPER_ALNUM, 63)),
        ),
        case(
            "SEC-PLANETSCALE-TOKEN",
            format!("pscale_tkn_{}", rand(B64URL, 43)),
            format!("pscale_tkn_{}", rand(B64URL, 31)),
        ),
        case(
            "SEC-SUPABASE-TOKEN",
            format!("sbp_{}", rand(HEX, 40)),
            format!("sbp_{}", rand(HEX, 39)),
        ),
        case(
            "SEC-FLYIO-TOKEN",
            format!("FlyV1 fm2_{}", rand(B64, 150)),
            format!("FlyV1 fm2_{}", rand(B64, 50)),
        ),
        case(
            "SEC-NETLIFY-TOKEN",
            format!("nfp_{}", rand(ALNUM, 36)),
            format!("nfp_{}", rand(ALNUM, 35)),
        ),
        case(
            "SEC-RENDER-API-KEY",
            format!("rnd_{}", rand(ALNUM, 32)),
            format!("rnd_{}", rand(ALNUM, 31)),
        ),
        case(
            "SEC-ONEPASSWORD-SERVICE-ACCOUNT-TOKEN",
            format!("ops_eyJ{}", rand(B64URL, 300)),
            format!("ops_eyJ{}", rand(B64URL, 200)),
        ),
        case(
            "SEC-AGE-SECRET-KEY",
            format!("AGE-SECRET-KEY-1{}", rand(BECH32, 58)),
            format!("AGE-SECRET-KEY-1{}", rand(BECH32, 57)),
        ),
        case(
            "SEC-TAILSCALE-KEY",
            format!("tskey-auth-{}-{}", rand(ALNUM, 12), rand(ALNUM, 30)),
            format!("tskey-auth-{}", rand(ALNUM, 12)),
        ),
        case(
            "SEC-JFROG-TOKEN",
            format!("AKCp{}", rand(ALNUM, 69)),
            format!("AKCp{}", rand(ALNUM, 68)),
        ),
        case(
            "SEC-SONARQUBE-TOKEN",
            format!("squ_{}", rand(HEX, 40)),
            format!("squ_{}", rand(HEX, 39)),
        ),
        case(
            "SEC-CIRCLECI-TOKEN",
            format!("CCIPAT_{}_{}", rand(ALNUM, 22), rand(HEX, 40)),
            format!("CCIPAT_{}_{}", rand(ALNUM, 22), rand(HEX, 39)),
        ),
        case(
            "SEC-BUILDKITE-TOKEN",
            format!("bkua_{}", rand(HEX, 40)),
            format!("bkua_{}", rand(HEX, 39)),
        ),
        case(
            "SEC-MAPBOX-SECRET-TOKEN",
            format!("sk.eyJ1Ijoi{}.{}", rand(B64URL, 60), rand(B64URL, 22)),
            format!("sk.eyJ1Ijoi{}.{}", rand(B64URL, 60), rand(B64URL, 21)),
        ),
        case(
            "SEC-FIGMA-TOKEN",
            format!("figd_{}", rand(B64URL, 40)),
            format!("figd_{}", rand(B64URL, 39)),
        ),
        case(
            "SEC-SHIPPO-API-TOKEN",
            format!("shippo_live_{}", rand(HEX, 40)),
            format!("shippo_live_{}", rand(HEX, 39)),
        ),
        case(
            "SEC-EASYPOST-API-KEY",
            format!("EZAK{}", rand(LOWER_ALNUM, 54)),
            format!("EZAK{}", rand(LOWER_ALNUM, 53)),
        ),
        case(
            "SEC-TYPEFORM-TOKEN",
            format!("tfp_{}", rand(B64URL, 59)),
            format!("tfp_{}", rand(B64URL, 58)),
        ),
        case(
            "SEC-PREFECT-API-KEY",
            format!("pnu_{}", rand(ALNUM, 36)),
            format!("pnu_{}", rand(ALNUM, 35)),
        ),
        case(
            "SEC-INFRACOST-API-KEY",
            format!("ico-{}", rand(ALNUM, 32)),
            format!("ico-{}", rand(ALNUM, 31)),
        ),
        // Keys and tokens
        case(
            "SEC-PRIVATE-KEY-RSA",
            pem("RSA PRIVATE KEY", 20),
            "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n".to_owned(),
        ),
        case(
            "SEC-PRIVATE-KEY-EC",
            pem("EC PRIVATE KEY", 2),
            "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n".to_owned(),
        ),
        case(
            "SEC-PRIVATE-KEY-DSA",
            pem("DSA PRIVATE KEY", 10),
            pem("DSA PUBLIC KEY", 10),
        ),
        case(
            "SEC-PRIVATE-KEY-PKCS8",
            pem("PRIVATE KEY", 16),
            pem("PUBLIC KEY", 16),
        ),
        case(
            "SEC-PRIVATE-KEY-ENCRYPTED",
            pem("ENCRYPTED PRIVATE KEY", 16),
            "-----BEGIN ENCRYPTED PRIVATE KEY-----".to_owned(),
        ),
        case(
            "SEC-PRIVATE-KEY-OPENSSH",
            pem("OPENSSH PRIVATE KEY", 6),
            pem("OPENSSH PUBLIC KEY", 6),
        ),
        case(
            "SEC-PGP-PRIVATE-KEY",
            pem("PGP PRIVATE KEY BLOCK", 20),
            pem("PGP PUBLIC KEY BLOCK", 20),
        ),
        case(
            "SEC-PUTTY-PRIVATE-KEY",
            format!(
                "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy\nPublic-Lines: 2\n{}\n{}\nPrivate-Lines: 1\n{}\nPrivate-MAC: {}\n",
                rand(B64, 64),
                rand(B64, 20),
                rand(B64, 44),
                rand(HEX, 64)
            ),
            format!(
                "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPrivate-Lines: 1\nAAAA\nPrivate-MAC: {}\n",
                rand(HEX, 64)
            ),
        ),
        case(
            "SEC-PRIVATE-KEY-BASE64",
            format!("client-key-data: {pem_in_base64}"),
            format!("client-certificate-data: {cert_in_base64}"),
        ),
        case(
            "SEC-JWT",
            format!("token: {jwt_header}.{jwt_payload}.{}", rand(B64URL, 43)),
            format!("token: {jwt_header}.{jwt_sample}.{}", rand(B64URL, 43)),
        ),
        // Located by context
        case(
            "SEC-DATABASE-URL-PASSWORD",
            format!(
                "DATABASE_URL=postgres://app:{}@db.internal:5432/app",
                rand(ALNUM, 16)
            ),
            "DATABASE_URL=postgres://user:password@localhost:5432/app".to_owned(),
        ),
        case(
            "SEC-URL-CREDENTIALS",
            format!(
                "git clone https://deploy:{}@git.internal.net/repo.git",
                rand(ALNUM, 16)
            ),
            "git clone https://deploy:${GIT_PASSWORD}@git.internal.net/repo.git".to_owned(),
        ),
        case(
            "SEC-AUTHORIZATION-HEADER",
            format!(
                "curl -H \"Authorization: Bearer {}\" https://api.internal",
                rand(B64URL, 40)
            ),
            format!("curl -H \"Authorization: Basic {basic_sample}\" https://api.internal"),
        ),
        case(
            "SEC-GENERIC-PASSWORD",
            format!("db_password = \"{}7!{}\"", rand(LETTERS, 6), rand(ALNUM, 6)),
            "db_password = \"changeme\"".to_owned(),
        ),
        case(
            "SEC-GENERIC-API-KEY",
            format!("client_secret: {}7{}", rand(ALNUM, 16), rand(ALNUM, 15)),
            "client_secret: ${CLIENT_SECRET}".to_owned(),
        ),
        case(
            "SEC-ENV-CREDENTIAL",
            "MYSQL_ROOT_PASSWORD=wordpress".to_owned(),
            "MYSQL_ROOT_PASSWORD_FILE=/run/secrets/db".to_owned(),
        ),
    ]
}

fn ids(scanner: &SecretScanner, text: &str) -> Vec<String> {
    scanner
        .scan_text("app/config", text.as_bytes())
        .into_iter()
        .map(|f| f.id)
        .collect()
}

#[test]
fn every_builtin_rule_has_a_positive_and_a_negative_case() {
    let scanner = SecretScanner::builtin();
    let rule_codes: BTreeSet<String> = scanner.rules().into_iter().map(|r| r.code).collect();
    let cases = cases();
    let case_codes: BTreeSet<String> = cases.iter().map(|c| c.code.to_owned()).collect();
    assert_eq!(
        rule_codes, case_codes,
        "rules without a test case, or cases without a rule"
    );
    assert_eq!(cases.len(), case_codes.len(), "a rule has two cases");
}

#[test]
fn positives_are_found_and_near_misses_are_not() {
    let scanner = SecretScanner::new(SecretConfig::default()).unwrap();
    let mut failures = Vec::new();
    // Several seeds: a regex that fails on some random draws (a token ending in `-`, a digit
    // where a letter was assumed) fails here rather than in the field.
    let all: Vec<Case> = (0..6u64)
        .flat_map(|seed| {
            reseed(0x005e_ed0f_7e57 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            cases()
        })
        .collect();
    for case in all {
        // The environment rule reads whole `NAME=value` entries; every other rule finds its
        // secret inside a larger file.
        let wrap = |text: &str| {
            if case.code == "SEC-ENV-CREDENTIAL" {
                text.to_owned()
            } else {
                format!("line one\n{text}\n")
            }
        };
        let found = ids(&scanner, &wrap(&case.positive));
        if !found.iter().any(|id| id == case.code) {
            failures.push(format!(
                "{}: positive not found (found {found:?})",
                case.code
            ));
        }
        let found = ids(&scanner, &wrap(&case.negative));
        if found.iter().any(|id| id == case.code) {
            failures.push(format!("{}: near miss reported", case.code));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn findings_never_contain_the_secret() {
    let scanner = SecretScanner::builtin();
    for case in cases() {
        for finding in scanner.scan_text("f", case.positive.as_bytes()) {
            let rempart_core::FindingDetails::Secret { redacted, .. } = &finding.details else {
                panic!("secret finding without secret details");
            };
            let shown = redacted.trim_end_matches('*');
            assert!(shown.len() <= 4, "{}: {redacted}", case.code);
            let json = format!("{finding:?}");
            // The positive's longest token must not appear in the finding.
            let longest = case
                .positive
                .split(|c: char| !c.is_ascii_alphanumeric())
                .max_by_key(|s| s.len())
                .unwrap_or_default();
            if longest.len() >= 12 {
                assert!(
                    !json.contains(longest),
                    "{}: secret leaked into {json}",
                    case.code
                );
            }
        }
    }
}

#[test]
fn keywords_are_substrings_of_every_positive() {
    // The prefilter contract: a rule whose keyword is missing from a match would never run.
    let scanner = SecretScanner::builtin();
    for case in cases() {
        let rule = scanner.rule_keywords(case.code).unwrap();
        let lower = case.positive.to_ascii_lowercase();
        assert!(
            rule.iter().any(|k| lower.contains(&k.to_ascii_lowercase())),
            "{}: no keyword of {rule:?} in its positive",
            case.code
        );
    }
}
