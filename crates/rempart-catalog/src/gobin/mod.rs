//! Go modules: the build information the Go linker embeds in every binary, and `go.mod` when
//! scanning source trees.

mod buildinfo;
mod gomod;
mod pclntab;

use rempart_core::{Ecosystem, Package};

pub use buildinfo::GoBinaryCataloger;
pub use gomod::GoModCataloger;

use crate::common::{package, purl};

/// `github.com/a/b` is namespace `github.com/a`, name `b` in a `golang` purl.
pub(crate) fn go_package(module: &str, version: &str, path: &str) -> Package {
    let (namespace, name) = match module.rsplit_once('/') {
        Some((namespace, name)) => (Some(namespace), name),
        None => (None, module),
    };
    // `(devel)` is what Go records for a main module built from a checkout: not a version.
    let purl_version = (version != "(devel)").then_some(version);
    let purl = purl("golang", namespace, name, purl_version, &[]);
    package(Ecosystem::Go, module, version, purl, path)
}
