pub(crate) mod admit;
pub(crate) mod config;
pub(crate) mod db;
pub(crate) mod rules;
pub(crate) mod sbom;
pub(crate) mod scan;
pub(crate) mod server;
mod source;
