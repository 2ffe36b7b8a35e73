//! Chat platforms and their webhooks: Slack, Discord, Microsoft Teams, Telegram.

use rempart_core::Severity;

use crate::rule::{Category, RuleDef};

const BASE: RuleDef = RuleDef {
    category: Category::Chat,
    severity: Severity::High,
    entropy: Some(3.0),
    ..RuleDef::DEFAULT
};

pub(super) const RULES: &[RuleDef] = &[
    RuleDef {
        code: "SEC-SLACK-BOT-TOKEN",
        title: "Slack bot token",
        keywords: &["xoxb-"],
        regex: r"\b(?P<secret>xoxb-[0-9]{10,13}-[0-9]{10,13}-?[A-Za-z0-9]{24,34})\b",
        doc: "A Slack bot user token; reads and posts in every channel the bot is in.",
        ..BASE
    },
    RuleDef {
        code: "SEC-SLACK-USER-TOKEN",
        title: "Slack user token",
        severity: Severity::Critical,
        keywords: &["xoxp-", "xoxe-"],
        regex: r"\b(?P<secret>xox[pe]-[0-9]{10,13}-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{28,34})\b",
        doc: "A Slack user token; acts as the person, including private channels and direct messages.",
        ..BASE
    },
    RuleDef {
        code: "SEC-SLACK-APP-TOKEN",
        title: "Slack app-level token",
        keywords: &["xapp-"],
        regex: r"(?i:\b(?P<secret>xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+))\b",
        doc: "A Slack app-level token (Socket Mode, event authorizations) of one app.",
        ..BASE
    },
    RuleDef {
        code: "SEC-SLACK-CONFIG-TOKEN",
        title: "Slack configuration token",
        keywords: &["xoxe."],
        regex: r"(?i:\b(?P<secret>xoxe\.xox[bp]-\d-[A-Z0-9]{163,166}))\b",
        doc: "A Slack app configuration token; creates and changes apps of the workspace.",
        ..BASE
    },
    RuleDef {
        code: "SEC-SLACK-LEGACY-TOKEN",
        title: "Slack legacy token",
        keywords: &["xoxa-", "xoxo-", "xoxs-", "xoxr-"],
        regex: r"\b(?P<secret>xox[aors]-(?:[0-9]{1,13}-){1,3}[A-Za-z0-9]{16,64})\b",
        doc: "A legacy Slack workspace, refresh or session token.",
        ..BASE
    },
    RuleDef {
        code: "SEC-SLACK-WEBHOOK-URL",
        title: "Slack incoming webhook URL",
        severity: Severity::Medium,
        keywords: &["hooks.slack.com"],
        regex: r"(?i:hooks\.slack\.com/(?:services|workflows|triggers)/)(?P<secret>[A-Za-z0-9]{8,12}/[A-Za-z0-9]{8,12}/[A-Za-z0-9]{16,48})",
        doc: "A Slack incoming webhook; anyone with the URL posts messages to its channel.",
        ..BASE
    },
    RuleDef {
        code: "SEC-DISCORD-BOT-TOKEN",
        title: "Discord bot token",
        keywords: &["discord"],
        regex: r"(?:^|[^A-Za-z0-9_.-])(?P<secret>[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38})(?:[^A-Za-z0-9_.-]|$)",
        entropy: Some(4.0),
        doc: "A Discord bot token (in a file that mentions Discord); controls the bot in every \
              server it joined.",
        ..BASE
    },
    RuleDef {
        code: "SEC-DISCORD-WEBHOOK-URL",
        title: "Discord webhook URL",
        severity: Severity::Medium,
        keywords: &["discord"],
        regex: r"(?i:discord(?:app)?\.com/api/webhooks/)(?P<secret>[0-9]{17,20}/[A-Za-z0-9_-]{60,68})",
        doc: "A Discord webhook; anyone with the URL posts to its channel.",
        ..BASE
    },
    RuleDef {
        code: "SEC-MSTEAMS-WEBHOOK-URL",
        title: "Microsoft Teams incoming webhook URL",
        severity: Severity::Medium,
        keywords: &["webhook.office.com"],
        regex: r"(?i:\.webhook\.office\.com/webhookb2/[0-9a-f-]{36}@[0-9a-f-]{36}/IncomingWebhook/)(?P<secret>[A-Za-z0-9]{32}/[0-9a-f-]{36})",
        doc: "A Microsoft Teams incoming webhook; posts cards into its channel.",
        ..BASE
    },
    RuleDef {
        code: "SEC-TELEGRAM-BOT-TOKEN",
        title: "Telegram bot token",
        keywords: &[":AA"],
        regex: r"(?:^|[^0-9])(?P<secret>[0-9]{8,10}:AA[A-Za-z0-9_-]{33})(?:[^A-Za-z0-9_-]|$)",
        entropy: Some(3.5),
        doc: "A Telegram Bot API token; reads the bot's messages and sends as the bot.",
        ..BASE
    },
];
