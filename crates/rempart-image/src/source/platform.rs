use std::fmt;
use std::str::FromStr;

/// An `os/arch[/variant]` platform, for picking one image out of a multi-arch index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// Linux on the architecture this binary runs on, named the Go way registries use.
    pub fn host_linux() -> Platform {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Platform {
            os: "linux".into(),
            architecture: architecture.into(),
            variant: None,
        }
    }

    /// True if an index entry with these fields runs on this platform. A missing variant on
    /// either side matches any variant.
    pub fn matches(&self, os: &str, architecture: &str, variant: Option<&str>) -> bool {
        self.os == os
            && self.architecture == architecture
            && match (&self.variant, variant) {
                (Some(wanted), Some(found)) => wanted == found,
                _ => true,
            }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

impl FromStr for Platform {
    type Err = String;

    fn from_str(s: &str) -> Result<Platform, String> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            [os, architecture] if !os.is_empty() && !architecture.is_empty() => Ok(Platform {
                os: (*os).into(),
                architecture: (*architecture).into(),
                variant: None,
            }),
            [os, architecture, variant] if !os.is_empty() && !architecture.is_empty() => {
                Ok(Platform {
                    os: (*os).into(),
                    architecture: (*architecture).into(),
                    variant: Some((*variant).into()),
                })
            }
            _ => Err(format!(
                "platform `{s}` is not of the form os/arch[/variant]"
            )),
        }
    }
}

/// Picks the manifest for `wanted` out of index entries `(digest, os, arch, variant)`.
pub(crate) fn select<'a>(
    entries: impl IntoIterator<Item = (&'a str, &'a str, &'a str, Option<&'a str>)>,
    wanted: &Platform,
) -> Result<&'a str, String> {
    let mut available = Vec::new();
    for (digest, os, architecture, variant) in entries {
        if wanted.matches(os, architecture, variant) {
            return Ok(digest);
        }
        available.push(match variant {
            Some(variant) => format!("{os}/{architecture}/{variant}"),
            None => format!("{os}/{architecture}"),
        });
    }
    Err(available.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches() {
        let arm: Platform = "linux/arm64/v8".parse().unwrap();
        assert!(arm.matches("linux", "arm64", None));
        assert!(!arm.matches("linux", "arm64", Some("v7")));
        assert!("linux".parse::<Platform>().is_err());
        let picked = select(
            [
                ("sha256:a", "linux", "amd64", None),
                ("sha256:b", "linux", "arm64", Some("v8")),
            ],
            &arm,
        );
        assert_eq!(picked, Ok("sha256:b"));
    }
}
