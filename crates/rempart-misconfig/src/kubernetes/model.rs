//! Read-only views over manifest values: workloads, their pod template, and its containers.

use serde_json::Value;

use super::workloads::workload_kind;

pub(crate) fn get<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(*key))
}

pub(crate) fn get_str<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    get(value, path).and_then(Value::as_str)
}

pub(crate) fn get_bool(value: &Value, path: &[&str]) -> Option<bool> {
    get(value, path).and_then(Value::as_bool)
}

pub(crate) fn get_i64(value: &Value, path: &[&str]) -> Option<i64> {
    get(value, path).and_then(Value::as_i64)
}

pub(crate) fn array<'a>(value: &'a Value, path: &[&str]) -> &'a [Value] {
    get(value, path)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// A Kubernetes object from a manifest.
pub(crate) struct Object<'a> {
    pub(crate) value: &'a Value,
    pub(crate) kind: &'a str,
    pub(crate) name: &'a str,
    pub(crate) namespace: Option<&'a str>,
    /// Line of the document the object came from.
    pub(crate) line: u32,
    /// First line after that document (bounds line searches to the object's own text).
    pub(crate) end_line: u32,
    /// Index of the file among those checked together.
    pub(crate) file: usize,
}

impl<'a> Object<'a> {
    pub(crate) fn new(
        value: &'a Value,
        file: usize,
        line: u32,
        end_line: u32,
    ) -> Option<Object<'a>> {
        Some(Object {
            value,
            kind: get_str(value, &["kind"])?,
            name: get_str(value, &["metadata", "name"]).unwrap_or("<unnamed>"),
            namespace: get_str(value, &["metadata", "namespace"]),
            line,
            end_line,
            file,
        })
    }

    pub(crate) fn resource(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }

    /// The pod this object runs, if it is a Pod or a workload with a pod template.
    pub(crate) fn pod(&self) -> Option<Pod<'a>> {
        let workload = workload_kind(self.kind)?;
        let spec = get(self.value, workload.pod_spec)?;
        let metadata = get(self.value, workload.template()).and_then(|t| t.get("metadata"));
        Some(Pod {
            metadata: metadata.unwrap_or(&Value::Null),
            spec,
        })
    }
}

/// A pod spec and the metadata of its template (annotations live there).
#[derive(Clone, Copy)]
pub(crate) struct Pod<'a> {
    pub(crate) metadata: &'a Value,
    pub(crate) spec: &'a Value,
}

/// One container of a pod, with the list it came from.
pub(crate) struct Container<'a> {
    /// `containers`, `initContainers` or `ephemeralContainers`.
    pub(crate) list: &'static str,
    pub(crate) name: &'a str,
    pub(crate) value: &'a Value,
}

impl<'a> Container<'a> {
    pub(crate) fn security(&self, path: &[&str]) -> Option<&'a Value> {
        get(self.value, &["securityContext"]).and_then(|sc| get(sc, path))
    }

    pub(crate) fn label(&self) -> String {
        let what = match self.list {
            "initContainers" => "init container",
            "ephemeralContainers" => "ephemeral container",
            _ => "container",
        };
        format!("{what} {}", self.name)
    }
}

impl<'a> Pod<'a> {
    pub(crate) fn containers(&self) -> Vec<Container<'a>> {
        ["containers", "initContainers", "ephemeralContainers"]
            .into_iter()
            .flat_map(|list| {
                array(self.spec, &[list])
                    .iter()
                    .map(move |value| Container {
                        list,
                        name: get_str(value, &["name"]).unwrap_or("<unnamed>"),
                        value,
                    })
            })
            .collect()
    }

    pub(crate) fn security(&self, path: &[&str]) -> Option<&'a Value> {
        get(self.spec, &["securityContext"]).and_then(|sc| get(sc, path))
    }

    pub(crate) fn annotations(&self) -> Option<&'a serde_json::Map<String, Value>> {
        get(self.metadata, &["annotations"]).and_then(Value::as_object)
    }

    /// `spec.hostUsers: false`: the pod runs in its own user namespace, its root mapped to an
    /// unprivileged user of the node. Unset means the host's user namespace.
    pub(crate) fn has_own_user_namespace(&self) -> bool {
        get(self.spec, &["hostUsers"]) == Some(&Value::Bool(false))
    }

    /// Pods declared as Windows pods are exempt from the Linux-only restricted controls.
    pub(crate) fn is_windows(&self) -> bool {
        get_str(self.spec, &["os", "name"]) == Some("windows")
    }
}
