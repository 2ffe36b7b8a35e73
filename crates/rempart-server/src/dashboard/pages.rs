//! The pages: the fleet at a glance, one image, the audit log, and the report downloads.
//! Each reads what the matching API endpoints read, with the same role and scope checks, and
//! nothing that needs a stored result decoded, but for one image's report.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rempart_report::Format;
use serde::Deserialize;

use super::chart::{Day, trend_chart};
use super::{PageError, Viewer, escape, page, protect, signed_in};
use crate::api::access::check_scope;
use crate::api::check_digest;
use crate::api::images::{content_type, render_report};
use crate::clock::now_millis;
use crate::decide::DEFAULT_POLICY_NAME;
use crate::state::AppState;
use crate::store::{ImageOverview, Role, SeverityCounts};

/// Images the fleet page lists and counts: the newest this many (the API's page size).
const FLEET_IMAGES: i64 = 1_000;
const RECENT_SCANS: i64 = 30;
const RECENT_PROMOTIONS: i64 = 20;
/// Days in the trend chart, today included.
const TREND_DAYS: i64 = 14;
const AUDIT_PAGE: i64 = 100;
const DAY_MILLIS: i64 = 86_400_000;

/// `YYYY-MM-DD HH:MM UTC`, for tables.
fn when(millis: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).map_or_else(
        |_| String::new(),
        |at| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02} UTC",
                at.year(),
                u8::from(at.month()),
                at.day(),
                at.hour(),
                at.minute()
            )
        },
    )
}

fn day_label(day: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(day * 86_400).map_or_else(
        |_| String::new(),
        |at| format!("{:02}-{:02}", u8::from(at.month()), at.day()),
    )
}

fn image_link(digest: &str, text: &str) -> String {
    // Digests in links were stored by the server after checking their form (`sha256:` and
    // hex), but are escaped all the same.
    format!(
        "<a href=\"/ui/images/{}\">{}</a>",
        escape(digest),
        escape(text)
    )
}

fn verdict_cell(overview: &ImageOverview) -> String {
    match &overview.verdict {
        Some(verdict) if verdict.passed => "<span class=\"pass\">pass</span>".to_owned(),
        Some(_) => "<span class=\"fail\">fail</span>".to_owned(),
        None => "<span class=\"none\">none</span>".to_owned(),
    }
}

fn severity_cells(counts: Option<SeverityCounts>) -> String {
    match counts {
        Some(c) => format!(
            "<td class=\"num sev-critical\">{}</td><td class=\"num sev-high\">{}</td><td class=\"num sev-medium\">{}</td><td class=\"num sev-low\">{}</td><td class=\"num sev-other\">{}</td>",
            c.critical, c.high, c.medium, c.low, c.other
        ),
        // Scanned before counts were kept: the image page's report has them.
        None => "<td class=\"none\" colspan=\"5\">not counted</td>".to_owned(),
    }
}

fn severity_tiles(totals: SeverityCounts) -> String {
    let mut html = String::from("<div class=\"tiles\" id=\"severities\">");
    for (class, label, count) in [
        ("critical", "Critical", totals.critical),
        ("high", "High", totals.high),
        ("medium", "Medium", totals.medium),
        ("low", "Low", totals.low),
        ("other", "Other", totals.other),
    ] {
        let _ = write!(
            html,
            "<div class=\"tile\"><span class=\"n sev-{class}\" data-severity=\"{class}\">{count}</span><span class=\"l\">{label}</span></div>"
        );
    }
    html.push_str("</div>\n");
    html
}

/// The trend's days, oldest first: images by the day of their latest scan and their verdict.
fn trend(images: &[ImageOverview], now: i64) -> Vec<Day> {
    let today = now.div_euclid(DAY_MILLIS);
    let first = today - (TREND_DAYS - 1);
    let mut days: BTreeMap<i64, Day> = (first..=today)
        .map(|day| {
            (
                day,
                Day {
                    label: day_label(day),
                    ..Day::default()
                },
            )
        })
        .collect();
    for overview in images {
        if let Some(day) = days.get_mut(&overview.image.scanned_at.div_euclid(DAY_MILLIS)) {
            match &overview.verdict {
                Some(verdict) if verdict.passed => day.passing += 1,
                Some(_) => day.failing += 1,
                None => day.undecided += 1,
            }
        }
    }
    days.into_values().collect()
}

/// `GET /ui/`: the fleet at a glance (viewer role; only images in the token's scopes).
pub(super) async fn fleet(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let viewer = signed_in(&state, &headers, Role::Viewer).await?;
    let (overviews, scans, promotions) = state
        .with_store(|store| {
            Ok((
                store.image_overviews(DEFAULT_POLICY_NAME, FLEET_IMAGES)?,
                store.recent_scans(RECENT_SCANS)?,
                store.promotions(RECENT_PROMOTIONS)?,
            ))
        })
        .await?;
    let caller = &viewer.caller;
    let images: Vec<ImageOverview> = overviews
        .into_iter()
        .filter(|o| caller.covers(&o.image.repository))
        .collect();
    let passing = images
        .iter()
        .filter(|o| o.verdict.as_ref().is_some_and(|v| v.passed))
        .count();
    let failing = images
        .iter()
        .filter(|o| o.verdict.as_ref().is_some_and(|v| !v.passed))
        .count();
    let mut totals = SeverityCounts::default();
    for counts in images.iter().filter_map(|o| o.severities) {
        totals.critical += counts.critical;
        totals.high += counts.high;
        totals.medium += counts.medium;
        totals.low += counts.low;
        totals.other += counts.other;
    }

    let mut body = String::from("<h1>Fleet</h1>\n");
    let _ = writeln!(
        body,
        "<div class=\"tiles\" id=\"counts\"><div class=\"tile\"><span class=\"n\" id=\"images-count\">{}</span><span class=\"l\">images</span></div><div class=\"tile\"><span class=\"n pass\" id=\"passing-count\">{passing}</span><span class=\"l\">passing <code>{DEFAULT_POLICY_NAME}</code></span></div><div class=\"tile\"><span class=\"n fail\" id=\"failing-count\">{failing}</span><span class=\"l\">failing <code>{DEFAULT_POLICY_NAME}</code></span></div></div>",
        images.len()
    );
    body.push_str("<h2>Findings by severity</h2>\n<p class=\"muted\">In the latest scan of each image, before any policy.</p>\n");
    body.push_str(&severity_tiles(totals));
    let _ = write!(
        body,
        "<h2>Trend</h2>\n<p class=\"muted\">Images by the day of their latest scan and their verdict under <code>{DEFAULT_POLICY_NAME}</code>, last {TREND_DAYS} days (UTC).</p>\n<figure id=\"trend\">{}<figcaption class=\"legend\"><span class=\"fail\">■ failing</span><span class=\"pass\">■ passing</span><span class=\"none\">■ no verdict</span></figcaption></figure>\n",
        trend_chart(&trend(&images, now_millis()))
    );

    body.push_str("<h2>Images</h2>\n");
    if images.is_empty() {
        body.push_str("<p class=\"muted\">No scanned image in this token's scopes yet.</p>\n");
    } else {
        body.push_str("<table id=\"images\"><thead><tr><th>Image</th><th>Repository</th><th>Verdict</th><th>Policy</th><th class=\"num\">Critical</th><th class=\"num\">High</th><th class=\"num\">Medium</th><th class=\"num\">Low</th><th class=\"num\">Other</th><th>Scanned</th></tr></thead><tbody>\n");
        for overview in &images {
            let image = &overview.image;
            let policy = overview.verdict.as_ref().map_or_else(String::new, |v| {
                format!("{} v{}", escape(&v.policy), v.policy_version)
            });
            let _ = writeln!(
                body,
                "<tr><td>{}<br /><code class=\"muted\">{}</code></td><td>{}</td><td>{}</td><td>{policy}</td>{}<td>{}</td></tr>",
                image_link(&image.digest, &image.name),
                escape(&image.digest),
                escape(&image.repository),
                verdict_cell(overview),
                severity_cells(overview.severities),
                when(image.scanned_at)
            );
        }
        body.push_str("</tbody></table>\n");
    }

    body.push_str("<h2>Recent scans</h2>\n");
    let scans: Vec<_> = scans
        .into_iter()
        .filter(|scan| caller.covers(&scan.repository))
        .collect();
    if scans.is_empty() {
        body.push_str("<p class=\"muted\">None.</p>\n");
    } else {
        body.push_str("<table id=\"scans\"><thead><tr><th>Scan</th><th>Image</th><th>State</th><th>Submitted by</th><th>Submitted</th><th>Error</th></tr></thead><tbody>\n");
        for scan in &scans {
            let name = scan.source.name();
            let image = match &scan.digest {
                Some(digest) if scan.state == crate::store::ScanState::Done => {
                    image_link(digest, name)
                }
                _ => escape(name),
            };
            let state_text = serde_json::to_value(scan.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let _ = writeln!(
                body,
                "<tr><td><code>{}</code></td><td>{image}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&scan.id),
                escape(&state_text),
                escape(&scan.submitted_by),
                when(scan.created_at),
                escape(scan.error.as_deref().unwrap_or(""))
            );
        }
        body.push_str("</tbody></table>\n");
    }

    body.push_str("<h2>Recent promotions</h2>\n");
    let promotions: Vec<_> = promotions
        .into_iter()
        .filter(|p| caller.covers(&format!("{}/{}", p.registry, p.source_repository)))
        .collect();
    if promotions.is_empty() {
        body.push_str("<p class=\"muted\">None.</p>\n");
    } else {
        body.push_str("<table id=\"promotions\"><thead><tr><th>From</th><th>To</th><th>State</th><th>Policy</th><th>Detail</th><th>Pushed</th></tr></thead><tbody>\n");
        for promotion in &promotions {
            let tag = promotion
                .tag
                .as_deref()
                .map_or_else(String::new, |tag| format!(":{tag}"));
            let _ = writeln!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                image_link(
                    &promotion.digest,
                    &format!(
                        "{}/{}{tag}",
                        promotion.registry, promotion.source_repository
                    )
                ),
                escape(&format!(
                    "{}/{}{tag}",
                    promotion.registry, promotion.destination_repository
                )),
                promotion.state.as_str(),
                escape(&promotion.policy),
                escape(promotion.detail.as_deref().unwrap_or("")),
                when(promotion.created_at)
            );
        }
        body.push_str("</tbody></table>\n");
    }
    Ok(page(StatusCode::OK, "Fleet", Some(&viewer), &body))
}

/// The image at `digest` and who may see it, as the API's `visible_image` decides.
async fn visible(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    digest: String,
) -> Result<(Viewer, crate::store::ScannedImage), PageError> {
    let viewer = signed_in(state, headers, Role::Viewer).await?;
    check_digest(&digest)?;
    let image = state
        .with_store(move |store| store.image(&digest))
        .await?
        .ok_or_else(|| {
            PageError::new(StatusCode::NOT_FOUND, "no scanned image with this digest")
        })?;
    check_scope(&viewer.caller, &image.repository, true)?;
    Ok((viewer, image))
}

/// `GET /ui/images/{digest}`: the verdicts and their reasons, the counts, the downloads, and
/// the HTML report in a frame.
pub(super) async fn image(
    State(state): State<Arc<AppState>>,
    Path(digest): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (viewer, image) = visible(&state, &headers, digest).await?;
    let lookup = image.digest.clone();
    let verdicts = state
        .with_store(move |store| store.verdicts(&lookup))
        .await?;
    let digest = escape(&image.digest);
    let mut body = format!(
        "<h1>{}</h1>\n<p><code>{digest}</code><br />Repository: {}<br />Scanned {} (scan <code>{}</code>)</p>\n",
        escape(&image.name),
        if image.repository.is_empty() {
            "<span class=\"muted\">none (uploaded)</span>".to_owned()
        } else {
            escape(&image.repository)
        },
        when(image.scanned_at),
        escape(&image.scan_id)
    );
    body.push_str("<h2>Verdicts</h2>\n");
    if verdicts.is_empty() {
        body.push_str("<p class=\"muted\">No verdict recorded.</p>\n");
    } else {
        body.push_str("<table id=\"verdicts\"><thead><tr><th>Policy</th><th>Verdict</th><th>Reasons</th><th class=\"num\">Findings</th><th class=\"num\">Suppressed</th><th>Decided</th></tr></thead><tbody>\n");
        for verdict in &verdicts {
            let reasons: Vec<String> = verdict.reasons.iter().map(|r| escape(r)).collect();
            let _ = writeln!(
                body,
                "<tr><td>{} v{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                escape(&verdict.policy),
                verdict.policy_version,
                if verdict.passed {
                    "<span class=\"pass\">pass</span>"
                } else {
                    "<span class=\"fail\">fail</span>"
                },
                reasons.join("<br />"),
                verdict.findings,
                verdict.suppressed,
                when(verdict.decided_at)
            );
        }
        body.push_str("</tbody></table>\n");
    }
    body.push_str("<h2>Findings by severity</h2>\n");
    match image.severities {
        Some(counts) => body.push_str(&severity_tiles(counts)),
        None => {
            body.push_str("<p class=\"muted\">Not counted for this scan: see the report.</p>\n");
        }
    }
    let _ = write!(
        body,
        "<h2>Downloads</h2>\n<ul class=\"downloads\"><li><a href=\"/ui/images/{digest}/report?format=sarif\" download>SARIF</a></li><li><a href=\"/ui/images/{digest}/report?format=cyclonedx\" download>CycloneDX</a></li><li><a href=\"/ui/images/{digest}/report?format=spdx-json\" download>SPDX</a></li><li><a href=\"/ui/images/{digest}/report?format=json\" download>JSON</a></li><li><a href=\"/ui/images/{digest}/report?format=html\">HTML report</a> (alone)</li></ul>\n<h2>Report</h2>\n<iframe class=\"report\" title=\"The scan report\" src=\"/ui/images/{digest}/report?format=html\"></iframe>\n"
    );
    Ok(page(StatusCode::OK, &image.name, Some(&viewer), &body))
}

#[derive(Deserialize)]
pub(super) struct ReportQuery {
    format: Option<String>,
}

/// `GET /ui/images/{digest}/report?format=…`: the API's report for the signed-in browser.
/// The HTML report is shown in the image page's frame under its own policy, sandboxed (an
/// opaque origin: its script can reach neither the cookie nor the dashboard); the other
/// formats are downloads.
pub(super) async fn report(
    State(state): State<Arc<AppState>>,
    Path(digest): Path<String>,
    Query(query): Query<ReportQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let format: Format = query.format.as_deref().unwrap_or("html").parse().map_err(
        |e: rempart_report::ParseFormatError| {
            PageError::new(StatusCode::BAD_REQUEST, e.to_string())
        },
    )?;
    let (_, image) = visible(&state, &headers, digest).await?;
    let short = image
        .digest
        .trim_start_matches("sha256:")
        .chars()
        .take(12)
        .collect::<String>();
    let bytes = state
        .with_store(move |store| Ok(render_report(store, &image, format, None)))
        .await??;
    let mut response = ([(header::CONTENT_TYPE, content_type(format))], bytes).into_response();
    if format == Format::Html {
        protect(
            &mut response,
            &format!(
                "{}; frame-ancestors 'self'; sandbox allow-scripts",
                rempart_report::html_report_policy()
            ),
        );
    } else {
        protect(&mut response, "default-src 'none'; sandbox");
        let extension = match format {
            Format::Sarif => "sarif",
            Format::Junit => "xml",
            Format::Table => "txt",
            _ => "json",
        };
        if let Ok(value) = HeaderValue::from_str(&format!(
            "attachment; filename=\"rempart-{short}.{extension}\""
        )) {
            response
                .headers_mut()
                .insert(header::CONTENT_DISPOSITION, value);
        }
    }
    Ok(response)
}

#[derive(Deserialize)]
pub(super) struct AuditQuery {
    before: Option<i64>,
}

/// `GET /ui/audit?before=ID`: the audit log, newest first, a page at a time (admin role).
pub(super) async fn audit(
    State(state): State<Arc<AppState>>,
    Query(query): Query<AuditQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let viewer = signed_in(&state, &headers, Role::Admin).await?;
    let entries = state
        .with_store(move |store| store.audit(AUDIT_PAGE, query.before))
        .await?;
    let mut body = String::from(
        "<h1>Audit log</h1>\n<table id=\"audit\"><thead><tr><th class=\"num\">#</th><th>When</th><th>Actor</th><th>Action</th><th>Subject</th><th>Digest</th><th>Verdict</th><th>Detail</th></tr></thead><tbody>\n",
    );
    for entry in &entries {
        let _ = writeln!(
            body,
            "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            entry.id,
            when(entry.at),
            escape(&entry.actor),
            escape(&entry.action),
            escape(&entry.subject),
            escape(entry.digest.as_deref().unwrap_or("")),
            escape(entry.verdict.as_deref().unwrap_or("")),
            escape(entry.detail.as_deref().unwrap_or(""))
        );
    }
    body.push_str("</tbody></table>\n<p>");
    if query.before.is_some() {
        body.push_str("<a href=\"/ui/audit\">Newest</a> ");
    }
    if i64::try_from(entries.len()).ok() == Some(AUDIT_PAGE)
        && let Some(last) = entries.last()
    {
        let _ = write!(
            body,
            "<a id=\"older\" href=\"/ui/audit?before={}\">Older</a>",
            last.id
        );
    }
    body.push_str("</p>\n");
    Ok(page(StatusCode::OK, "Audit log", Some(&viewer), &body))
}
