//! `rempart server`, `rempart server token create` and `rempart server webhook-config`.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use rempart_server::{
    CaBundle, FailurePolicy, RegistrySettings, Role, ServerConfig, StoreLocation,
    WebhookConfigOptions, WebhookTarget,
};

use crate::Outcome;
use crate::cli::{
    FailurePolicyArg, ServerArgs, ServerCommand, ServerRunArgs, ServerStoreArgs, TokenCommand,
    WebhookConfigArgs,
};
use crate::context::write_stdout;

pub(crate) fn run(args: &ServerArgs) -> Result<Outcome> {
    match &args.command {
        Some(ServerCommand::Token {
            command:
                TokenCommand::Create {
                    name,
                    role,
                    scopes,
                    store,
                },
        }) => {
            let role = Role::parse(role).with_context(|| {
                format!(
                    "unknown role `{role}` (expected viewer, scanner, admin, registry or harbor)"
                )
            })?;
            let config = base_config(store)?;
            let secret = rempart_server::create_token(&config, name, role, scopes.clone())?;
            write_stdout(format!("{secret}\n").as_bytes())?;
        }
        Some(ServerCommand::WebhookConfig(args)) => {
            let text = rempart_server::webhook_configuration(&webhook_options(args)?)?;
            write_stdout(text.as_bytes())?;
        }
        None => {
            rempart_server::run(server_config(&args.run)?)?;
        }
    }
    Ok(Outcome::Clean)
}

/// The largest CA bundle read: a few certificates take a few KiB.
const MAX_CA_BUNDLE_BYTES: u64 = 1024 * 1024;

fn webhook_options(args: &WebhookConfigArgs) -> Result<WebhookConfigOptions> {
    let path = &args.ca_bundle;
    let ca_bundle = rempart_core::read_regular_file(path, MAX_CA_BUNDLE_BYTES)
        .map_err(|e| anyhow!("--ca-bundle {}: {e}", path.display()))
        .and_then(|bytes| {
            CaBundle::from_pem(&bytes).map_err(|e| anyhow!("--ca-bundle {}: {e}", path.display()))
        })?;
    Ok(WebhookConfigOptions {
        name: args.name.clone(),
        namespace: args.namespace.clone(),
        target: match &args.url {
            Some(url) => WebhookTarget::Url(url.clone()),
            None => WebhookTarget::Service {
                name: args.service.clone(),
                port: args.port,
            },
        },
        ca_bundle,
        failure_policy: match args.failure_policy {
            FailurePolicyArg::Fail => FailurePolicy::Fail,
            FailurePolicyArg::Ignore => FailurePolicy::Ignore,
        },
        timeout_seconds: args.timeout,
        exclude_namespaces: args.exclude_namespaces.clone(),
        mutating: args.mutating,
    })
}

fn base_config(args: &ServerStoreArgs) -> Result<ServerConfig> {
    let data_dir = match &args.data_dir {
        Some(dir) => dir.clone(),
        None => directories::BaseDirs::new()
            .context("cannot find a data directory: set --data-dir or REMPART_DATA_DIR")?
            .data_dir()
            .join("rempart")
            .join("server"),
    };
    let mut config = ServerConfig::new(data_dir);
    if let Some(location) = &args.store {
        config.store = store_location(location)?;
    }
    Ok(config)
}

fn store_location(text: &str) -> Result<StoreLocation> {
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        return Ok(StoreLocation::Postgres(text.to_owned()));
    }
    let path = text.strip_prefix("sqlite://").unwrap_or(text);
    anyhow::ensure!(!path.is_empty(), "--store: give a SQLite file path");
    Ok(StoreLocation::Sqlite(PathBuf::from(path)))
}

fn server_config(args: &ServerRunArgs) -> Result<ServerConfig> {
    let mut config = base_config(&args.store)?;
    config.listen = args.listen;
    config.database.clone_from(&args.db);
    config.tls = match (&args.tls_cert, &args.tls_key) {
        (Some(certificate), Some(key)) => Some(rempart_server::TlsConfig {
            certificate: certificate.clone(),
            key: key.clone(),
            client_ca: args.client_ca.clone(),
        }),
        _ => None,
    };
    config.tls_reload_interval = args.tls_reload_interval;
    if let Some(path) = &args.gate {
        config.gate = Some(rempart_server::GateConfig::load(path).map_err(anyhow::Error::msg)?);
    }
    if let Some(path) = &args.webhooks {
        config.webhooks =
            Some(rempart_server::WebhookConfig::load(path).map_err(anyhow::Error::msg)?);
    }
    config
        .admission
        .policy_file
        .clone_from(&args.admission_policy);
    config.admission.mutate = args.admission_mutate;
    config.trust_policy.clone_from(&args.trust_policy);
    if let Some(budget) = args.admission_budget {
        anyhow::ensure!(
            (1..=29).contains(&budget.as_secs()),
            "--admission-budget must be from 1s to 29s: under the webhook's timeoutSeconds (at most 30)"
        );
        config.admission.budget = budget;
    }
    config.admission.kubernetes = match args.kubernetes_api.as_deref() {
        None => None,
        Some("in-cluster") => {
            let mut api =
                rempart_server::KubernetesApi::in_cluster().map_err(anyhow::Error::msg)?;
            if let Some(path) = &args.kubernetes_token_file {
                api.token_file.clone_from(path);
            }
            if let Some(path) = &args.kubernetes_ca {
                api.ca_file.clone_from(path);
            }
            Some(api)
        }
        Some(url) => {
            let (Some(token_file), Some(ca_file)) =
                (&args.kubernetes_token_file, &args.kubernetes_ca)
            else {
                anyhow::bail!(
                    "--kubernetes-api {url}: give --kubernetes-token-file and --kubernetes-ca too (or `in-cluster`)"
                );
            };
            Some(rempart_server::KubernetesApi {
                url: url.trim_end_matches('/').to_owned(),
                token_file: token_file.clone(),
                ca_file: ca_file.clone(),
            })
        }
    };
    if let Some(every) = args.db_check_interval {
        config.database_check_interval = every;
    }
    config.database_update_interval = args.db_update_interval;
    config.database_pull.clone_from(&args.db_pull);
    if let Some(path) = &args.db_pull_trust_policy {
        // Read now so that a broken policy stops the start, not the first pull hours later.
        rempart_trust::TrustPolicy::load(path)?;
    }
    config
        .database_pull_trust_policy
        .clone_from(&args.db_pull_trust_policy);
    anyhow::ensure!(
        args.db_pull.is_none() || args.db_update_interval.is_some(),
        "--db-pull needs --db-update-interval: how often to pull"
    );
    if let Some(base) = &args.osv_base {
        config.feeds.osv_base.clone_from(base);
    }
    config.concurrent_scans = usize::from(args.concurrent_scans);
    if let Some(lease) = args.lease {
        anyhow::ensure!(
            lease.as_secs() >= 3,
            "--lease must be at least 3s: workers renew it every third of it"
        );
        config.lease = lease;
    }
    config.max_attempts = args.max_attempts;
    if let Some(size) = args.max_upload_size {
        config.max_upload_bytes = size;
    }
    config.rate_limit_per_token = args.rate_limit;
    if let Some(grace) = args.shutdown_grace {
        config.shutdown_grace = grace;
    }
    config.registry = RegistrySettings {
        username: args.registry_username.clone(),
        password: args.registry_password.clone(),
        insecure: args.insecure_registry,
        ca_certificates: args.registry_ca.clone(),
        pull_timeout: args.pull_timeout,
        request_timeout: args.registry_timeout,
    };
    Ok(config)
}
