//! The kubelet's configuration file as the checks read it (`KubeletConfiguration`, YAML or
//! JSON), with the file format's defaults for what it does not set. Flags on the kubelet's
//! command line (which override the file) are not read: the checks judge the file.

use serde_json::Value;

use super::Outcome;
use crate::Host;

/// Where kubeadm, and the managed distributions, put the kubelet's configuration.
const PLACES: [&str; 4] = [
    "/var/lib/kubelet/config.yaml",
    "/etc/kubernetes/kubelet-config.yaml",
    "/etc/kubernetes/kubelet/kubelet-config.json",
    "/etc/kubernetes/kubelet/config.json",
];

/// The configuration's settings and the file they came from, or why they cannot be judged.
pub(crate) fn with_kubelet(host: &Host, judge: impl FnOnce(&Value, &str) -> Outcome) -> Outcome {
    let Some(path) = PLACES.iter().find(|path| host.exists(path)) else {
        return Outcome::not_applicable("no kubelet configuration file on this host");
    };
    let Some(text) = host.read(path) else {
        return Outcome::failed(format!("{path} is not a readable regular file"), Some(path));
    };
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = 64;
    budget.max_documents = 1;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    match serde_saphyr::from_str_with_options::<Value>(&text, options) {
        Ok(value @ Value::Object(_)) => judge(&value, path),
        Ok(_) => Outcome::failed(format!("{path} is not a configuration object"), Some(path)),
        Err(error) => Outcome::failed(
            format!(
                "{path} does not parse: {}",
                error.to_string().lines().next().unwrap_or_default()
            ),
            Some(path),
        ),
    }
}

/// The value at a dotted path (`authentication.anonymous.enabled`).
pub(crate) fn at<'a>(config: &'a Value, dotted: &str) -> Option<&'a Value> {
    dotted
        .split('.')
        .try_fold(config, |value, key| value.get(key))
}

/// How a setting was found, for messages.
pub(crate) fn shown(config: &Value, dotted: &str, path: &str) -> String {
    match at(config, dotted) {
        Some(value) => format!("`{dotted}: {value}` in {path}"),
        None => format!("`{dotted}` unset in {path} (the file format's default)"),
    }
}

/// One boolean setting's check: passed when it is `wanted` (unset, the file format's
/// `default`).
pub(crate) fn expect_bool(host: &Host, key: &str, default: bool, wanted: bool) -> Outcome {
    with_kubelet(host, |config, path| {
        let value = at(config, key).and_then(Value::as_bool).unwrap_or(default);
        let detail = shown(config, key, path);
        if value == wanted {
            Outcome::passed(detail, Some(path))
        } else {
            Outcome::failed(detail, Some(path))
        }
    })
}
