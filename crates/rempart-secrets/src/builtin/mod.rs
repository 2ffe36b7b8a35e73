//! The built-in rule set, grouped by kind of issuer. Each entry carries its own doc text; the
//! category adds the remedy. Test vectors for every rule live in `tests` below.

use crate::rule::RuleDef;

mod chat;
mod checks;
mod cloud;
mod generic;
mod keys;
mod payment;
mod saas;
mod vcs;

#[cfg(test)]
mod tests;

/// `name … = value` with the secret in group `secret`; the name is matched case-insensitively
/// and may carry a prefix or suffix (`MY_APP_DATADOG_API_KEY_PROD`).
macro_rules! assign {
    ($name:literal, $value:literal) => {
        concat!(
            r#"(?i:"#,
            $name,
            r#")[\w.-]{0,20}["']?\s{0,4}(?:=|:=|:|=>|,)\s{0,4}["'`]?(?P<secret>"#,
            $value,
            r#")(?:[^\w/+=.-]|$)"#
        )
    };
}
pub(crate) use assign;

pub(crate) fn all() -> Vec<&'static RuleDef> {
    let groups: [&'static [RuleDef]; 7] = [
        cloud::RULES,
        vcs::RULES,
        chat::RULES,
        payment::RULES,
        saas::RULES,
        keys::RULES,
        generic::RULES,
    ];
    groups.iter().flat_map(|g| g.iter()).collect()
}
