//! Credentials recognised by where they sit rather than by their shape: passwords in URLs,
//! authorization headers, and `password = "…"` style assignments.

use rempart_core::Severity;

use super::checks;
use crate::rule::{Anchor, Category, RuleDef};

/// Every spelling of the words in `SEC-GENERIC-API-KEY`'s name part: its keywords and its anchor.
const API_KEY_WORDS: &[&str] = &[
    "secret",
    "api_key",
    "api-key",
    "apikey",
    "access_key",
    "access-key",
    "accesskey",
    "token",
    "private_key",
    "private-key",
    "privatekey",
];

pub(super) const RULES: &[RuleDef] = &[
    RuleDef {
        code: "SEC-DATABASE-URL-PASSWORD",
        title: "Password in a database or broker connection URL",
        severity: Severity::High,
        keywords: &[
            "postgres",
            "mysql",
            "mariadb",
            "mongodb",
            "redis",
            "amqp",
            "mssql",
            "sqlserver",
            "cockroachdb",
            "clickhouse",
            "couchdb",
            "neo4j",
            "jdbc:",
        ],
        regex: r"(?i:\b(?:postgres(?:ql)?|mysql|mysqlx|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|cockroachdb|clickhouse|couchdb|neo4j|jdbc:[a-z]{2,12}))(?:\+[a-z0-9]{2,16})?://(?P<user>[^\s:@/'\x22`<>]{1,64}):(?P<secret>[^\s:@/'\x22`<>]{3,128})@(?P<host>[A-Za-z0-9._\[\]-]{1,253})",
        check: Some(checks::url_password),
        generic: true,
        category: Category::Password,
        doc: "A `scheme://user:password@host` URL for PostgreSQL, MySQL/MariaDB, MongoDB, Redis, \
              AMQP, SQL Server and similar: the password opens the database for anyone who can \
              reach it.",
        ..RuleDef::DEFAULT
    },
    RuleDef {
        code: "SEC-URL-CREDENTIALS",
        title: "Password in a URL",
        severity: Severity::Medium,
        keywords: &["://"],
        regex: r"(?i:\b(?:https?|ftps?|sftp|smtps?|ldaps?|git|ssh|svn|socks5h?))://(?P<user>[^\s:@/'\x22`<>]{1,64}):(?P<secret>[^\s:@/'\x22`<>]{3,128})@(?P<host>[A-Za-z0-9._\[\]-]{1,253})",
        check: Some(checks::url_password),
        generic: true,
        category: Category::Password,
        doc: "Basic-auth credentials embedded in an HTTP, FTP, SMTP, LDAP, git or proxy URL, such \
              as a private package index or a proxy setting.",
        ..RuleDef::DEFAULT
    },
    RuleDef {
        code: "SEC-AUTHORIZATION-HEADER",
        title: "Credential in an HTTP Authorization header",
        severity: Severity::High,
        keywords: &["authorization"],
        regex: r"(?i:authorization[\x22']?\s{0,4}[:=]\s{0,4}[\x22']?(?P<scheme>bearer|basic|token)\s{1,4})(?P<secret>[A-Za-z0-9._~+/=-]{16,2048})",
        entropy: Some(3.5),
        check: Some(checks::authorization_header),
        generic: true,
        category: Category::ApiKey,
        doc: "A bearer token or basic-auth credential written into a request header, typically a \
              `curl -H` in a build step or a script.",
        ..RuleDef::DEFAULT
    },
    RuleDef {
        code: "SEC-GENERIC-PASSWORD",
        title: "Hard-coded password",
        severity: Severity::Medium,
        keywords: &["password", "passwd", "passphrase", "_pwd", "-pwd", "pwd="],
        regex: r"(?i:(?P<name>[a-z0-9_.-]{0,32}(?P<kind>password|passwd|passphrase|pwd)))[\x22']?[ \t]{0,4}(?:=|:=|:|=>)[ \t]{0,4}(?P<quote>[\x22'`]?)(?P<secret>[A-Za-z0-9!#%&*+./=?@^_~:|-]{8,128})(?:[\x22'`;, \t\r\n]|$)(?P<typed>[ \t]{0,16}=[^=])?",
        // Name 32 + kind 10 + quote 1 + 4 + `:=` 2 + 4 + quote 1 + value 128 + end 1 + typed 18.
        anchor: Some(Anchor {
            words: &["password", "passwd", "passphrase", "pwd"],
            before: 32,
            after: 10 + 1 + 4 + 2 + 4 + 1 + 128 + 1 + 18,
        }),
        entropy: Some(3.0),
        check: Some(checks::generic_assignment),
        generic: true,
        category: Category::Generic,
        doc: "A literal value assigned to a name that says password or passphrase, in code, \
              configuration or the environment. Values that look like placeholders, references \
              (`${VAR}`, `%(x)s`), identifiers or paths are ignored.",
        ..RuleDef::DEFAULT
    },
    RuleDef {
        code: "SEC-GENERIC-API-KEY",
        title: "Hard-coded API key, token or secret",
        severity: Severity::Medium,
        keywords: API_KEY_WORDS,
        regex: r"(?i:(?P<name>[a-z0-9_.-]{0,32}(?:secret|api[_-]?key|access[_-]?key|token|private[_-]?key)[a-z0-9_-]{0,16}))[\x22']?[ \t]{0,4}(?:=|:=|:|=>)[ \t]{0,4}(?P<quote>[\x22'`]?)(?P<secret>[A-Za-z0-9+/=_.~-]{16,256})(?:[\x22'`;, \t\r\n]|$)(?P<typed>[ \t]{0,16}=[^=])?",
        // Name 32 + word 11 + 16 + quote 1 + 4 + `:=` 2 + 4 + quote 1 + value 256 + end 1 +
        // typed 18.
        anchor: Some(Anchor {
            words: API_KEY_WORDS,
            before: 32,
            after: 11 + 16 + 1 + 4 + 2 + 4 + 1 + 256 + 1 + 18,
        }),
        entropy: Some(3.7),
        check: Some(checks::generic_assignment),
        generic: true,
        category: Category::Generic,
        doc: "A high-entropy literal assigned to a name that says secret, api key, access key, \
              token or private key, in code, configuration or the environment (including build \
              arguments recorded in the image history).",
        ..RuleDef::DEFAULT
    },
    RuleDef {
        code: "SEC-ENV-CREDENTIAL",
        title: "Credential set in an environment variable",
        severity: Severity::Medium,
        keywords: &[
            "password",
            "passwd",
            "_pass",
            "_pwd",
            "secret",
            "token",
            "api_key",
            "apikey",
            "access_key",
            "private_key",
        ],
        regex: r"\A(?P<name>[A-Z0-9_]*(?:PASSWORD|PASSWD|_PASS|_PWD|SECRET|TOKEN|API_KEY|APIKEY|ACCESS_KEY|PRIVATE_KEY))=(?P<secret>[^\r\n]{1,512})\z",
        check: Some(checks::env_credential),
        generic: true,
        category: Category::Generic,
        doc: "An `ENV NAME=value` of the image (or a one-line `NAME=value` file) whose name ends \
              in PASSWORD, SECRET, TOKEN, API_KEY and the like, with a literal value: every \
              container and anyone who pulls the image can read it with `docker inspect`, \
              however weak or strong the value is.",
        ..RuleDef::DEFAULT
    },
];
