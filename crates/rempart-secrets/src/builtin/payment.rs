//! Payment providers: Stripe, Square, PayPal/Braintree, Shopify.

use rempart_core::Severity;

use super::assign;
use crate::rule::{Category, RuleDef};

const BASE: RuleDef = RuleDef {
    category: Category::Payment,
    severity: Severity::Critical,
    entropy: Some(3.0),
    ..RuleDef::DEFAULT
};

pub(super) const RULES: &[RuleDef] = &[
    RuleDef {
        code: "SEC-STRIPE-SECRET-KEY",
        title: "Stripe live secret key",
        keywords: &["sk_live_"],
        regex: r"\b(?P<secret>sk_live_[A-Za-z0-9]{24,247})\b",
        doc: "A live-mode Stripe secret key; creates charges, refunds and payouts.",
        ..BASE
    },
    RuleDef {
        code: "SEC-STRIPE-RESTRICTED-KEY",
        title: "Stripe live restricted key",
        severity: Severity::High,
        keywords: &["rk_live_"],
        regex: r"\b(?P<secret>rk_live_[A-Za-z0-9]{24,247})\b",
        doc: "A live-mode Stripe restricted key, limited to the permissions chosen at creation.",
        ..BASE
    },
    RuleDef {
        code: "SEC-STRIPE-TEST-SECRET-KEY",
        title: "Stripe test-mode secret key",
        severity: Severity::Low,
        keywords: &["sk_test_", "rk_test_"],
        regex: r"\b(?P<secret>[rs]k_test_[A-Za-z0-9]{24,247})\b",
        doc: "A test-mode Stripe key: moves no money but exposes test data and account settings.",
        ..BASE
    },
    RuleDef {
        code: "SEC-STRIPE-WEBHOOK-SECRET",
        title: "Stripe webhook signing secret",
        severity: Severity::Medium,
        keywords: &["whsec_"],
        regex: r"\b(?P<secret>whsec_[A-Za-z0-9+/=]{32,64})(?:[^A-Za-z0-9+/=]|$)",
        doc: "Signs webhook events; with it an attacker can forge payment events to the endpoint.",
        ..BASE
    },
    RuleDef {
        code: "SEC-SQUARE-ACCESS-TOKEN",
        title: "Square access token",
        keywords: &["EAAA", "sq0atp-"],
        regex: r"\b(?P<secret>EAAA[A-Za-z0-9_-]{60}|sq0atp-[A-Za-z0-9_-]{22})(?:[^A-Za-z0-9_-]|$)",
        entropy: Some(3.5),
        doc: "A Square production or OAuth access token; takes payments and reads customer data.",
        ..BASE
    },
    RuleDef {
        code: "SEC-SQUARE-OAUTH-SECRET",
        title: "Square OAuth application secret",
        keywords: &["sq0csp-"],
        regex: r"\b(?P<secret>sq0csp-[A-Za-z0-9_-]{43})(?:[^A-Za-z0-9_-]|$)",
        doc: "The OAuth secret of a Square application.",
        ..BASE
    },
    RuleDef {
        code: "SEC-BRAINTREE-ACCESS-TOKEN",
        title: "PayPal Braintree access token",
        keywords: &["access_token$production$"],
        regex: r"\b(?P<secret>access_token\$production\$[0-9a-z]{16}\$[0-9a-f]{32})\b",
        doc: "A Braintree production access token (PayPal Express Checkout integrations).",
        ..BASE
    },
    RuleDef {
        code: "SEC-PAYPAL-CLIENT-SECRET",
        title: "PayPal REST client secret",
        severity: Severity::High,
        keywords: &["paypal"],
        regex: assign!(r"paypal[\w.-]{0,20}secret", r"E[A-Za-z0-9_-]{79}"),
        entropy: Some(4.0),
        doc: "The secret of a PayPal REST app, next to the word paypal.",
        ..BASE
    },
    RuleDef {
        code: "SEC-SHOPIFY-ACCESS-TOKEN",
        title: "Shopify Admin API access token",
        keywords: &["shpat_"],
        regex: r"\b(?P<secret>shpat_[a-fA-F0-9]{32})\b",
        doc: "A Shopify Admin API token; reads orders and customers and changes the store.",
        ..BASE
    },
    RuleDef {
        code: "SEC-SHOPIFY-CUSTOM-APP-TOKEN",
        title: "Shopify custom app access token",
        keywords: &["shpca_"],
        regex: r"\b(?P<secret>shpca_[a-fA-F0-9]{32})\b",
        doc: "An access token of a Shopify custom app.",
        ..BASE
    },
    RuleDef {
        code: "SEC-SHOPIFY-PRIVATE-APP-TOKEN",
        title: "Shopify private app access token",
        keywords: &["shppa_"],
        regex: r"\b(?P<secret>shppa_[a-fA-F0-9]{32})\b",
        doc: "An access token of a (legacy) Shopify private app.",
        ..BASE
    },
    RuleDef {
        code: "SEC-SHOPIFY-SHARED-SECRET",
        title: "Shopify app shared secret",
        severity: Severity::High,
        keywords: &["shpss_"],
        regex: r"\b(?P<secret>shpss_[a-fA-F0-9]{32})\b",
        doc: "Verifies Shopify webhooks and OAuth for an app; lets an attacker forge them.",
        ..BASE
    },
];
