//! Private keys (PEM, `OpenSSH`, PGP, `PuTTY`, base64-wrapped PEM) and JSON Web Tokens.

use rempart_core::Severity;

use super::checks;
use crate::rule::{Category, RuleDef};

const BASE: RuleDef = RuleDef {
    category: Category::PrivateKey,
    severity: Severity::High,
    entropy: Some(4.0),
    ..RuleDef::DEFAULT
};

/// A PEM block with the given label. The body may be split across string literals or carry
/// escaped newlines (keys embedded in JSON and source code), and may follow RFC 1421 headers
/// (`Proc-Type`, `DEK-Info`). A body shorter than 48 base64 characters is a snippet, not a key.
macro_rules! pem {
    ($label:literal) => {
        concat!(
            r"-----BEGIN ",
            $label,
            r"-----(?:\\[rn]|[\r\n\t \x22',+])*(?:[A-Za-z-]{2,20}: [^\r\n\\]{1,100}(?:\\[rn]|[\r\n\t \x22',+])+)*",
            r"(?P<secret>[A-Za-z0-9+/]{48}(?:[A-Za-z0-9+/=\r\n\t \x22',]|\\[rn])*?)",
            r"(?:\\[rn]|[\r\n\t \x22',+])*-----END ",
            $label,
            r"-----"
        )
    };
}

pub(super) const RULES: &[RuleDef] = &[
    RuleDef {
        code: "SEC-PRIVATE-KEY-RSA",
        title: "RSA private key",
        keywords: &["BEGIN RSA PRIVATE KEY"],
        regex: pem!("RSA PRIVATE KEY"),
        doc: "A PKCS#1 RSA private key (possibly passphrase-protected with `Proc-Type`); whoever \
              holds it can impersonate the server or client it identifies and decrypt traffic \
              recorded without forward secrecy.",
        ..BASE
    },
    RuleDef {
        code: "SEC-PRIVATE-KEY-EC",
        title: "EC private key",
        keywords: &["BEGIN EC PRIVATE KEY"],
        regex: pem!("EC PRIVATE KEY"),
        doc: "A SEC1 elliptic-curve private key; signs as its owner.",
        ..BASE
    },
    RuleDef {
        code: "SEC-PRIVATE-KEY-DSA",
        title: "DSA private key",
        keywords: &["BEGIN DSA PRIVATE KEY"],
        regex: pem!("DSA PRIVATE KEY"),
        doc: "A DSA private key; signs as its owner.",
        ..BASE
    },
    RuleDef {
        code: "SEC-PRIVATE-KEY-PKCS8",
        title: "PKCS#8 private key",
        keywords: &["BEGIN PRIVATE KEY"],
        regex: pem!("PRIVATE KEY"),
        doc: "An unencrypted PKCS#8 private key of any algorithm (TLS server keys, service \
              account keys).",
        ..BASE
    },
    RuleDef {
        code: "SEC-PRIVATE-KEY-ENCRYPTED",
        title: "Encrypted PKCS#8 private key",
        severity: Severity::Medium,
        keywords: &["BEGIN ENCRYPTED PRIVATE KEY"],
        regex: pem!("ENCRYPTED PRIVATE KEY"),
        doc: "A passphrase-protected PKCS#8 private key: usable by anyone who also finds or \
              brute-forces the passphrase, which often sits in the same image.",
        ..BASE
    },
    RuleDef {
        code: "SEC-PRIVATE-KEY-OPENSSH",
        title: "OpenSSH private key",
        keywords: &["BEGIN OPENSSH PRIVATE KEY"],
        regex: pem!("OPENSSH PRIVATE KEY"),
        doc: "An SSH private key in OpenSSH format: a user key logs in wherever its public half \
              is authorised; a host key lets an attacker impersonate the host.",
        ..BASE
    },
    RuleDef {
        code: "SEC-PGP-PRIVATE-KEY",
        title: "PGP private key block",
        keywords: &["BEGIN PGP PRIVATE KEY BLOCK"],
        regex: pem!("PGP PRIVATE KEY BLOCK"),
        doc: "An armored OpenPGP secret key; signs packages or mail and decrypts messages sent to \
              its owner.",
        ..BASE
    },
    RuleDef {
        code: "SEC-PUTTY-PRIVATE-KEY",
        title: "PuTTY private key",
        keywords: &["PuTTY-User-Key-File-"],
        regex: r"PuTTY-User-Key-File-[23]: [^\r\n]{1,64}\r?\n(?:[^\r\n]*\r?\n){1,40}?Private-Lines: [0-9]{1,3}\r?\n(?P<secret>[A-Za-z0-9+/]{40}[A-Za-z0-9+/=\r\n]*)",
        doc: "A PuTTY `.ppk` key file; its private lines log in as the key's owner.",
        ..BASE
    },
    RuleDef {
        code: "SEC-PRIVATE-KEY-BASE64",
        title: "Base64-encoded PEM private key",
        keywords: &["LS0tLS1CRUdJTi"],
        regex: r"(?P<secret>LS0tLS1CRUdJTi[A-Za-z0-9+/]{60,}={0,2})",
        check: Some(checks::base64_private_key),
        doc: "A PEM private key encoded once more in base64, as in a kubeconfig \
              `client-key-data` or the data of a Kubernetes Secret.",
        ..BASE
    },
    RuleDef {
        code: "SEC-JWT",
        title: "JSON Web Token",
        severity: Severity::Medium,
        keywords: &["eyJ"],
        regex: r"(?:^|[^A-Za-z0-9_-])(?P<secret>eyJ[A-Za-z0-9_-]{10,4096}\.eyJ[A-Za-z0-9_-]{10,8192}\.[A-Za-z0-9_-]{16,1024})(?:[^A-Za-z0-9_.-]|$)",
        entropy: Some(4.0),
        check: Some(checks::jwt),
        category: Category::ApiKey,
        doc: "A signed JSON Web Token (header with `alg`, a payload, a signature); bearer tokens \
              are accepted until they expire, and long-lived service tokens never do.",
        ..BASE
    },
];
