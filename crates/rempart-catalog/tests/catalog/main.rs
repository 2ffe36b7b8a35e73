//! Catalogers run over real package metadata, checked against the real tools' view of the same
//! files (outputs captured in the fixtures, with the command in `tests/fixtures/README.md`).

mod apk;
mod cargo;
mod dependencies;
mod dpkg;
mod fuzz_corpus;
mod gobin;
mod hex_pub_swift;
mod java;
mod npm;
mod os;
mod others;
mod python;
mod registry;
mod robustness;
mod rpm;
mod support;
