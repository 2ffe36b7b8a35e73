//! Which release of the Pod Security Standards a pod is judged by.
//!
//! A namespace pins it with `pod-security.kubernetes.io/enforce-version` (`v1.25`, `latest`);
//! the API server then applies each control as it stood in that release. Each control here
//! names the minor versions at which its rule changed, as the upstream `pod-security-admission`
//! implementation registers them: at version `v1.N` a control applies its newest rule whose
//! version is at most N, and a control introduced after N does not apply at all.

use std::fmt;

/// The newest minor version at which any control changed (the sysctls added in 1.37): `latest`,
/// and any later version, are judged as this one.
pub const LATEST_PSS_MINOR: u32 = 37;

/// A Pod Security Standards version: `latest` or `v1.N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PssVersion {
    #[default]
    Latest,
    /// `v1.N`, N being the minor version.
    V1(u32),
}

impl PssVersion {
    /// Parses a label value as the API server does: exactly `latest`, or `v1.` followed by a
    /// minor version without leading zeros. Anything else (`1.25`, `v1.25.0`, `v1.05`) is
    /// refused by the API server when the namespace is written.
    pub fn parse(text: &str) -> Option<PssVersion> {
        if text == "latest" {
            return Some(PssVersion::Latest);
        }
        let minor = text.strip_prefix("v1.")?;
        let well_formed = !minor.is_empty()
            && minor.bytes().all(|b| b.is_ascii_digit())
            && (minor == "0" || !minor.starts_with('0'));
        if !well_formed {
            return None;
        }
        minor.parse().ok().map(PssVersion::V1)
    }

    /// The minor version whose rules apply.
    pub fn effective_minor(self) -> u32 {
        match self {
            PssVersion::Latest => LATEST_PSS_MINOR,
            PssVersion::V1(minor) => minor.min(LATEST_PSS_MINOR),
        }
    }
}

impl fmt::Display for PssVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PssVersion::Latest => f.write_str("latest"),
            PssVersion::V1(minor) => write!(f, "v1.{minor}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_parse_as_the_api_server_parses_them() {
        assert_eq!(PssVersion::parse("latest"), Some(PssVersion::Latest));
        assert_eq!(PssVersion::parse("v1.25"), Some(PssVersion::V1(25)));
        assert_eq!(PssVersion::parse("v1.0"), Some(PssVersion::V1(0)));
        for bad in [
            "1.25", "v1.25.0", "V1.25", "v1.05", "v2.0", "Latest", "v1.", "",
        ] {
            assert_eq!(PssVersion::parse(bad), None, "{bad}");
        }
        assert_eq!(PssVersion::V1(99).effective_minor(), LATEST_PSS_MINOR);
        assert_eq!(PssVersion::Latest.to_string(), "latest");
        assert_eq!(PssVersion::V1(19).to_string(), "v1.19");
    }
}
