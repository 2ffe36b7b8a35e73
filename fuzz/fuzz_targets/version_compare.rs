//! Every version comparator. The first byte picks the scheme; the rest is two versions separated
//! by a newline. Comparing must be a total order on what parses: reflexive and antisymmetric.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_vulndb::VersionScheme;

const SCHEMES: [VersionScheme; 12] = [
    VersionScheme::Dpkg,
    VersionScheme::Rpm,
    VersionScheme::Apk,
    VersionScheme::Pep440,
    VersionScheme::Npm,
    VersionScheme::Go,
    VersionScheme::Cargo,
    VersionScheme::Maven,
    VersionScheme::RubyGems,
    VersionScheme::NuGet,
    VersionScheme::Packagist,
    VersionScheme::SemVer,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let scheme = SCHEMES[usize::from(selector) % SCHEMES.len()];
    let (a, b) = text.split_once('\n').unwrap_or((text, ""));
    if let Ok(ordering) = scheme.compare(a, b) {
        assert_eq!(
            scheme.compare(b, a).ok(),
            Some(ordering.reverse()),
            "{scheme:?}: {a:?} vs {b:?}"
        );
    }
    for version in [a, b] {
        if let Ok(ordering) = scheme.compare(version, version) {
            assert!(
                ordering.is_eq(),
                "{scheme:?}: {version:?} differs from itself"
            );
        }
    }
});
