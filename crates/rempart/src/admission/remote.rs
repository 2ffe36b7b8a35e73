//! Verdicts asked of a running `rempart server` (`GET /v1/images/{digest}/verdict`), fetched
//! before any decision so that deciding stays free of network I/O.

use std::time::Duration;

use super::image::is_sha256_digest;
use super::verdict::{ImageVerdict, VerdictMap};

/// A verdict answer is a few hundred bytes; anything far larger is not one.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// Verdict lookups in flight at once.
const CONCURRENT_LOOKUPS: usize = 8;

/// Asks the server at `base_url` for the verdict of each digest under each policy, with a
/// viewer token. A 404 leaves the verdict unknown; any other failure is recorded against the
/// digest, so the decision says the lookup failed rather than that the image was never scanned.
/// Up to eight lookups run at once.
pub fn fetch_server_verdicts(
    base_url: &str,
    token: &str,
    digests: &[String],
    policies: &[String],
    timeout: Duration,
) -> VerdictMap {
    let mut map = VerdictMap::new();
    let base = base_url.trim_end_matches('/');
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            fail_all(&mut map, digests, policies, &format!("{base}: {error}"));
            return map;
        }
    };
    let client = match reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(timeout)
        .user_agent(concat!("rempart/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            fail_all(&mut map, digests, policies, &format!("{base}: {error}"));
            return map;
        }
    };
    runtime.block_on(async {
        use futures_util::StreamExt as _;
        let asked = digests
            .iter()
            .filter(|d| is_sha256_digest(d))
            .flat_map(|digest| policies.iter().map(move |policy| (digest, policy)));
        // A few at a time: a manifest set can name hundreds of images, and the server limits
        // each token's rate.
        let mut answers = futures_util::stream::iter(asked)
            .map(|(digest, policy)| {
                let url = format!("{base}/v1/images/{digest}/verdict");
                let client = &client;
                async move { (digest, policy, ask(client, &url, token, policy).await) }
            })
            .buffer_unordered(CONCURRENT_LOOKUPS);
        while let Some((digest, policy, answer)) = answers.next().await {
            match answer {
                Ok(Some(verdict)) => map.insert(verdict),
                Ok(None) => {}
                Err(message) => map.insert_failure(digest, policy, message),
            }
        }
    });
    map
}

fn fail_all(map: &mut VerdictMap, digests: &[String], policies: &[String], message: &str) {
    for digest in digests {
        for policy in policies {
            map.insert_failure(digest, policy, message.to_owned());
        }
    }
}

#[derive(serde::Deserialize)]
struct Answer {
    digest: String,
    policy: String,
    passed: bool,
    #[serde(default)]
    reasons: Vec<String>,
    scanned_at: i64,
}

async fn ask(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    policy: &str,
) -> Result<Option<ImageVerdict>, String> {
    let mut response = client
        .get(url)
        .query(&[("policy", policy)])
        .bearer_auth(token)
        .send()
        .await
        .map_err(|error| format!("{url}: {error}"))?;
    let status = response.status();
    if status == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| format!("{url}: {error}"))?
    {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(format!("{url}: answer over {MAX_ANSWER_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body);
        let text: String = text.chars().take(200).collect();
        return Err(format!("{url}: the server answered {status}: {text}"));
    }
    let answer: Answer =
        serde_json::from_slice(&body).map_err(|error| format!("{url}: not a verdict: {error}"))?;
    Ok(Some(ImageVerdict {
        digest: answer.digest,
        passed: answer.passed,
        reasons: answer.reasons,
        policy: answer.policy,
        scanned_at: answer.scanned_at,
    }))
}
