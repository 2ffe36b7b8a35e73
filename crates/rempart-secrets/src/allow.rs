//! Allowlists: placeholder values that documentation uses in place of real secrets, and paths
//! whose content is known not to hold live credentials.

use regex::bytes::{RegexSet, RegexSetBuilder};

use crate::error::SecretError;

/// Substrings (compared lower-cased) that mark a value as an example rather than a credential.
/// Each appears in vendor documentation or sample configuration in place of a real value.
const PLACEHOLDER_MARKERS: &[&str] = &[
    "example", // AWS's AKIAIOSFODNN7EXAMPLE and every "example-token"
    "xxxxx",
    "placeholder",
    "your_",
    "your-",
    "yourkey",
    "yourtoken",
    "yoursecret",
    "yourpass",
    "changeme",
    "change_me",
    "change-me",
    "dummy",
    "redacted",
    "sample",
    "insert",
    "replace",
    "notreal",
    "not_real",
    "not-real",
    "not-re@l",
    "not-a-real",
    "fake",
    "_here",
    "-here",
    "*****",
    "...",
    "abcdefgh",
    "12345678",
    "qwerty",
];

/// Template and variable syntax: the value is filled in elsewhere (`${TOKEN}`, `{{ .Values.x }}`,
/// `%(password)s`, `$(cat /run/secrets/x)`, `<your-token>`, `@secret_file`).
pub(crate) fn looks_like_reference(value: &[u8]) -> bool {
    let Some(&first) = value.first() else {
        return true;
    };
    matches!(first, b'$' | b'%' | b'{' | b'<' | b'@' | b'#' | b'[')
        || contains(value, b"${")
        || contains(value, b"{{")
        || contains(value, b"$(")
        || contains(value, b"%(")
        || contains(value, b"<")
        || contains(value, b">")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// A value documentation would use instead of a real secret: a marker word, template syntax,
/// or too few distinct characters to be random (`aaaaaaaa`, `0000-0000`, `abababab`).
pub(crate) fn is_placeholder(value: &[u8]) -> bool {
    if looks_like_reference(value) {
        return true;
    }
    let lower = value.to_ascii_lowercase();
    if lower.starts_with(b"your")
        || PLACEHOLDER_MARKERS
            .iter()
            .any(|m| contains(&lower, m.as_bytes()))
    {
        return true;
    }
    let mut seen = [false; 256];
    let mut distinct = 0;
    for &b in &lower {
        if !seen[usize::from(b)] {
            seen[usize::from(b)] = true;
            distinct += 1;
        }
    }
    distinct <= 3 || (value.len() >= 16 && distinct <= 5)
}

/// Values that match a rule but are published on purpose or are well-known documentation
/// examples, stored as FNV-1a hashes so this file does not carry them. Installed-application
/// OAuth clients and browser API keys are public by design (the vendor ships them in every copy
/// of the tool); the rest are examples from specifications and vendor docs.
const KNOWN_PUBLIC_VALUES: &[(u64, &str)] = &[
    (
        0x68ae_50f7_2ed9_440c,
        "Google Cloud SDK error-reporting API key",
    ),
    (
        0x1003_0585_ab10_0140,
        "Google Cloud SDK crash-reporting API key",
    ),
    (0xf7d8_fa9f_50d7_2824, "gsutil's public API key"),
    (
        0xeacf_5f66_b85c_cd0c,
        "Google Cloud SDK installed-app OAuth client secret",
    ),
    (
        0x9bff_7ff7_08d8_236c,
        "Google Cloud SDK installed-app OAuth client secret",
    ),
    (
        0x1a48_8500_fec1_5059,
        "bq CLI installed-app OAuth client secret",
    ),
    (0x0975_68a4_991f_1051, "Jetty openid.mod commented example"),
    (
        0x54e4_771d_f10a_be70,
        "Jetty ssl.mod default (obfuscated 'storepwd')",
    ),
    (
        0x2fdf_59df_bc3d_498b,
        "Jetty ssl.mod default (obfuscated 'keypwd')",
    ),
    (0xdc8d_8ca0_6454_72e9, "RFC 6749 example client credentials"),
    (0x846b_2a1e_2fad_7fcb, "RFC 6749 example access token"),
    (0xecc1_a447_4851_bc28, "RFC 6749 example refresh token"),
    (
        0xb822_b85d_8424_88a4,
        "AWS DataSync documentation SAS example",
    ),
    (
        0xcccd_b9bb_06b5_ddef,
        "google-api-core docstring page token",
    ),
];

pub(crate) fn is_known_public_value(value: &[u8]) -> bool {
    let hash = rempart_core::fnv1a(&[value]);
    KNOWN_PUBLIC_VALUES.iter().any(|(h, _)| *h == hash)
}

/// Paths never scanned by the built-in configuration, matched against the normalized path (no
/// leading slash). They hold test fixtures and documentation of installed third-party software
/// (OS packages under `usr/`, language packages under `site-packages`, `dist-packages`,
/// `node_modules`, vendored trees): their keys and tokens are published examples, not the
/// image's credentials. The application's own tree (`app/tests`, `srv/…`) stays scanned.
pub(crate) const BUILTIN_ALLOWED_PATHS: &[(&str, &str)] = &[
    (
        "usr/share/doc/**",
        "Debian package documentation: examples and changelogs",
    ),
    ("usr/share/man/**", "manual pages"),
    ("usr/share/info/**", "info manuals"),
    ("usr/share/locale/**", "message catalogs"),
    (
        "**/*.dist-info/METADATA",
        "a Python package's README, rendered into its metadata",
    ),
    (
        "**/*.egg-info/PKG-INFO",
        "a Python package's README, rendered into its metadata",
    ),
    (
        "usr/share/go*/src/**",
        "the Go standard library sources and their test keys",
    ),
    (
        "usr/lib/go*/src/**",
        "the Go standard library sources and their test keys",
    ),
    (
        "usr/local/go/src/**",
        "the Go standard library sources and their test keys",
    ),
    (
        "**/site-packages/**/test/**",
        "tests shipped inside Python packages",
    ),
    (
        "**/site-packages/**/tests/**",
        "tests shipped inside Python packages",
    ),
    (
        "**/site-packages/**/testing/**",
        "tests shipped inside Python packages",
    ),
    (
        "**/site-packages/**/test_*.py",
        "tests shipped inside Python packages",
    ),
    (
        "**/site-packages/**/*_test.py",
        "tests shipped inside Python packages",
    ),
    (
        "**/site-packages/**/*.md",
        "documentation shipped inside Python packages",
    ),
    (
        "**/site-packages/**/*.rst",
        "documentation shipped inside Python packages",
    ),
    (
        "**/dist-packages/**/test/**",
        "tests shipped inside Debian's Python packages",
    ),
    (
        "**/dist-packages/**/tests/**",
        "tests shipped inside Debian's Python packages",
    ),
    (
        "**/dist-packages/**/test_*.py",
        "tests shipped inside Debian's Python packages",
    ),
    (
        "**/dist-packages/**/*_test.py",
        "tests shipped inside Debian's Python packages",
    ),
    (
        "**/dist-packages/**/*.md",
        "documentation shipped inside Debian's Python packages",
    ),
    (
        "**/dist-packages/**/*.rst",
        "documentation shipped inside Debian's Python packages",
    ),
    (
        "**/lib/python*/test/**",
        "CPython's own regression tests and their keys",
    ),
    (
        "**/site-packages/moto/moto_proxy/*.key",
        "the CA key of moto's AWS mock proxy, published with the package",
    ),
    (
        "**/node_modules/**/test/**",
        "tests shipped inside npm packages",
    ),
    (
        "**/node_modules/**/tests/**",
        "tests shipped inside npm packages",
    ),
    (
        "**/node_modules/**/__tests__/**",
        "tests shipped inside npm packages",
    ),
    (
        "**/node_modules/**/*.md",
        "documentation shipped inside npm packages",
    ),
    (
        "**/node_modules/**/.coveralls.yml",
        "coverage-upload tokens of package authors, published with old npm packages",
    ),
    ("usr/lib/**/test/**", "tests installed by OS packages"),
    ("usr/lib/**/tests/**", "tests installed by OS packages"),
    ("usr/lib/**/testdata/**", "tests installed by OS packages"),
    ("usr/lib/**/test_data/**", "tests installed by OS packages"),
    ("usr/lib/**/*_test.py", "tests installed by OS packages"),
    ("usr/lib/**/*_test.go", "tests installed by OS packages"),
    (
        "usr/lib/**/dummyserver/**",
        "urllib3's test server and its certificates",
    ),
    (
        "usr/share/nmap/**",
        "nmap's scripts and data: vendors' published default logins and sample output",
    ),
    (
        "usr/share/lynis/**",
        "lynis's audit databases: the files and settings it checks",
    ),
    ("usr/share/**/test/**", "tests installed by OS packages"),
    ("usr/share/**/tests/**", "tests installed by OS packages"),
    ("usr/share/**/testdata/**", "tests installed by OS packages"),
    ("usr/share/**/*_test.go", "tests installed by OS packages"),
    (
        "**/vendor/**/testdata/**",
        "test data of vendored Go modules",
    ),
    (
        "**/.cargo/registry/src/**/tests/**",
        "tests of third-party crates in cargo's download cache",
    ),
    (
        "**/.cargo/registry/src/**/testdata/**",
        "tests of third-party crates in cargo's download cache",
    ),
    (
        "**/.cargo/registry/src/**/*.md",
        "documentation of third-party crates in cargo's download cache",
    ),
];

/// Translates a glob to an anchored regex: `**` spans directories, `*` and `?` stay inside one
/// path component, and a pattern without `/` matches the file name at any depth (as in
/// `.gitignore`).
pub(crate) fn glob_to_regex(glob: &str) -> String {
    let glob = glob.trim_start_matches('/');
    let glob = if glob.contains('/') {
        glob.to_owned()
    } else {
        format!("**/{glob}")
    };
    let mut out = String::from("^");
    let bytes = glob.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'*' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                if bytes.get(i) == Some(&b'/') {
                    i += 1;
                    out.push_str("(?:.*/)?");
                } else {
                    out.push_str(".*");
                }
                continue;
            }
            b'*' => out.push_str("[^/]*"),
            b'?' => out.push_str("[^/]"),
            c => out.push_str(&regex::escape(&char::from(c).to_string())),
        }
        i += 1;
    }
    out.push('$');
    out
}

/// Compiled path globs.
pub(crate) struct PathAllowlist {
    set: RegexSet,
}

impl PathAllowlist {
    pub(crate) fn new<'a>(globs: impl IntoIterator<Item = &'a str>) -> Result<Self, SecretError> {
        let globs: Vec<&str> = globs.into_iter().collect();
        for glob in &globs {
            if glob.is_empty() || !glob.is_ascii() {
                return Err(SecretError::InvalidPathGlob {
                    glob: (*glob).to_owned(),
                    reason: "must be non-empty ASCII".to_owned(),
                });
            }
        }
        let patterns: Vec<String> = globs.iter().map(|g| glob_to_regex(g)).collect();
        let set = RegexSetBuilder::new(&patterns)
            .unicode(false)
            .build()
            .map_err(|e| SecretError::InvalidPathGlob {
                glob: globs.join(", "),
                reason: e.to_string(),
            })?;
        Ok(PathAllowlist { set })
    }

    pub(crate) fn is_allowed(&self, path: &str) -> bool {
        !self.set.is_empty() && self.set.is_match(path.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let allow =
            PathAllowlist::new(["usr/share/doc/**", "*.md", "a/*/c", "x/**/y.txt"]).unwrap();
        assert!(allow.is_allowed("usr/share/doc/bash/README"));
        assert!(!allow.is_allowed("usr/share/docs/x"));
        assert!(allow.is_allowed("README.md"));
        assert!(allow.is_allowed("app/node_modules/x/README.md"));
        assert!(allow.is_allowed("a/b/c"));
        assert!(!allow.is_allowed("a/b/b/c"));
        assert!(allow.is_allowed("x/y.txt"));
        assert!(allow.is_allowed("x/1/2/y.txt"));
        assert!(!allow.is_allowed("x/1/2/y_txt"));
    }

    #[test]
    fn placeholders() {
        assert!(is_placeholder(b"AKIAIOSFODNN7EXAMPLE"));
        assert!(is_placeholder(b"xxxxxxxxxxxxxxxx"));
        assert!(is_placeholder(b"${GITHUB_TOKEN}"));
        assert!(is_placeholder(b"<your-token>"));
        assert!(is_placeholder(b"changeme"));
        assert!(is_placeholder(b"0000000000000000"));
        assert!(is_placeholder(b"abababababababab"));
        assert!(!is_placeholder(b"q8Z3kP0wLm2Rt7Yv"));
    }
}
