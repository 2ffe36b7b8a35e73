//! Every comparator must be a total order: antisymmetric, transitive, and consistent with its
//! own equality. Versions are generated from each scheme's grammar, mixing the separators and
//! qualifiers where comparators tend to go wrong.

#![allow(clippy::format_collect, clippy::format_push_string)]

use std::cmp::Ordering;

use proptest::prelude::*;
use rempart_vulndb::VersionScheme;

fn numbers(max_parts: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(0u32..12, 1..=max_parts).prop_map(|parts| {
        parts
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(".")
    })
}

fn pick(words: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(words).prop_map(str::to_owned)
}

fn strategy(scheme: VersionScheme) -> BoxedStrategy<String> {
    match scheme {
        VersionScheme::Dpkg => (
            prop::option::of(0u32..3),
            numbers(3),
            pick(&["", "~rc1", "~", "+dfsg", "a", "+b1"]),
            prop::option::of((1u32..12, pick(&["", "+deb12u1", "ubuntu0.1", "~bpo11+1"]))),
        )
            .prop_map(|(epoch, upstream, extra, revision)| {
                let mut v = epoch.map(|e| format!("{e}:")).unwrap_or_default();
                v.push_str(&upstream);
                v.push_str(&extra);
                if let Some((r, suffix)) = revision {
                    v.push_str(&format!("-{r}{suffix}"));
                }
                v
            })
            .boxed(),
        VersionScheme::Rpm => (
            prop::option::of(0u32..3),
            numbers(3),
            pick(&["", "a", "~rc1", "^git1", "_1", ".b"]),
            prop::option::of(pick(&["1", "2.el9", "10.fc40", "1.el9_2"])),
        )
            .prop_map(|(epoch, version, extra, release)| {
                let mut v = epoch.map(|e| format!("{e}:")).unwrap_or_default();
                v.push_str(&version);
                v.push_str(&extra);
                if let Some(release) = release {
                    v.push_str(&format!("-{release}"));
                }
                v
            })
            .boxed(),
        VersionScheme::Apk => (
            numbers(3),
            pick(&["", "a", "b"]),
            pick(&[
                "",
                "_alpha",
                "_beta2",
                "_pre1",
                "_rc1",
                "_p1",
                "_git20200101",
            ]),
            prop::option::of(0u32..12),
            pick(&["", ".01", ".001"]),
        )
            .prop_map(|(numbers, letter, suffix, revision, fraction)| {
                let mut v = format!("{numbers}{fraction}{letter}{suffix}");
                if let Some(r) = revision {
                    v.push_str(&format!("-r{r}"));
                }
                v
            })
            .boxed(),
        VersionScheme::Pep440 => (
            prop::option::of(1u32..3),
            numbers(4),
            pick(&[
                "",
                "a1",
                "b2",
                "rc1",
                ".post1",
                ".dev3",
                "a1.dev1",
                ".post2.dev1",
            ]),
            pick(&["", "+local", "+local.7"]),
        )
            .prop_map(|(epoch, release, pre, local)| {
                let epoch = epoch.map(|e| format!("{e}!")).unwrap_or_default();
                format!("{epoch}{release}{pre}{local}")
            })
            .boxed(),
        VersionScheme::Npm | VersionScheme::Cargo | VersionScheme::SemVer | VersionScheme::Go => {
            let prefix = if scheme == VersionScheme::Go { "v" } else { "" };
            (
                0u32..4,
                0u32..12,
                0u32..12,
                pick(&[
                    "",
                    "-alpha",
                    "-alpha.1",
                    "-beta.2",
                    "-rc.1",
                    "-0",
                    "-0.20210101000000-abcdef123456",
                ]),
                pick(&["", "+build.1", "+incompatible"]),
            )
                .prop_map(move |(major, minor, patch, pre, build)| {
                    format!("{prefix}{major}.{minor}.{patch}{pre}{build}")
                })
                .boxed()
        }
        VersionScheme::Maven => (
            numbers(4),
            pick(&[
                "",
                "-alpha-1",
                "-beta2",
                "-SNAPSHOT",
                "-rc1",
                "-cr2",
                "-sp1",
                "-final",
                "-ga",
                "-1",
                "-abc",
                "a1",
                ".Final",
                "-m3",
            ]),
        )
            .prop_map(|(numbers, qualifier)| format!("{numbers}{qualifier}"))
            .boxed(),
        VersionScheme::RubyGems => (
            numbers(4),
            pick(&["", ".a", ".b1", ".pre", ".rc2", "-rc1", ".0", ".beta.3"]),
        )
            .prop_map(|(numbers, suffix)| format!("{numbers}{suffix}"))
            .boxed(),
        VersionScheme::NuGet => (
            numbers(4),
            pick(&["", "-alpha", "-Alpha.1", "-beta.10", "-rc.2", "-1", "+meta"]),
        )
            .prop_map(|(numbers, suffix)| format!("{numbers}{suffix}"))
            .boxed(),
        VersionScheme::Packagist => (
            pick(&["", "v"]),
            numbers(4),
            pick(&[
                "", "-beta", "-beta2", "-RC1", "-alpha1", "-dev", "-p1", "-patch2", "-stable",
                "-b3",
            ]),
        )
            .prop_map(|(prefix, numbers, suffix)| format!("{prefix}{numbers}{suffix}"))
            .boxed(),
        // Pub orders build metadata, so builds are drawn as often as pre-releases.
        VersionScheme::Pub => (
            0u32..3,
            0u32..3,
            0u32..3,
            pick(&[
                "", "-alpha", "-alpha.1", "-1", "-01", "-beta-2", "-B", "-rc.1.x",
            ]),
            pick(&["", "+1", "+2", "+10", "+01", "+a", "+1.a", "+build-7"]),
        )
            .prop_map(|(major, minor, patch, pre, build)| {
                format!("{major}.{minor}.{patch}{pre}{build}")
            })
            .boxed(),
    }
}

const SCHEMES: [VersionScheme; 13] = [
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
    VersionScheme::Pub,
];

fn any_scheme_with_triple() -> impl Strategy<Value = (VersionScheme, String, String, String)> {
    prop::sample::select(&SCHEMES[..]).prop_flat_map(|scheme| {
        let s = strategy(scheme);
        (Just(scheme), s.clone(), s.clone(), s)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn comparators_are_total_orders((scheme, a, b, c) in any_scheme_with_triple()) {
        let cmp = |x: &str, y: &str| scheme.compare(x, y)
            .unwrap_or_else(|e| panic!("generated version rejected: {e}"));
        // Reflexive, antisymmetric.
        prop_assert_eq!(cmp(&a, &a), Ordering::Equal);
        prop_assert_eq!(cmp(&a, &b), cmp(&b, &a).reverse(), "{} {} / {}", scheme, a, b);
        // Transitive.
        let (ab, bc, ac) = (cmp(&a, &b), cmp(&b, &c), cmp(&a, &c));
        if ab != Ordering::Greater && bc != Ordering::Greater {
            prop_assert_ne!(ac, Ordering::Greater, "{} {} <= {} <= {}", scheme, a, b, c);
        }
        if ab == Ordering::Less && bc == Ordering::Less {
            prop_assert_eq!(ac, Ordering::Less, "{} {} < {} < {}", scheme, a, b, c);
        }
        // Equal versions compare the same against everything.
        if ab == Ordering::Equal {
            prop_assert_eq!(cmp(&a, &c), cmp(&b, &c), "{} {} = {}, vs {}", scheme, a, b, c);
        }
    }
}

#[test]
fn every_scheme_has_a_generator() {
    // The property above draws from SCHEMES; a scheme added to the enum but not here would go
    // untested, so the list is checked against the names the crate reports.
    let names: Vec<&str> = SCHEMES.iter().map(|s| s.name()).collect();
    assert_eq!(
        names,
        [
            "dpkg",
            "rpm",
            "apk",
            "pep440",
            "npm",
            "go",
            "cargo",
            "maven",
            "rubygems",
            "nuget",
            "packagist",
            "semver",
            "pub"
        ]
    );
}
