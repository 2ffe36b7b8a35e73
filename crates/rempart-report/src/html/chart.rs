//! The summary charts: horizontal bar charts drawn as inline SVG when the report is written, so
//! the page needs no script or library to show them. Sizes are whole pixels computed from the
//! counts alone, which keeps the bytes the same for the same result.

use rempart_core::Severity;

use super::markup::escape;

const LABEL_WIDTH: usize = 130;
const BAR_WIDTH: usize = 260;
const COUNT_WIDTH: usize = 50;
const ROW_HEIGHT: usize = 24;
const BAR_HEIGHT: usize = 16;

/// One bar: a label and its parts, each a count of one severity. A bar of one part is a plain
/// bar; several parts stack from left to right.
pub(super) struct Bar {
    pub(super) label: String,
    pub(super) parts: Vec<(Severity, usize)>,
}

impl Bar {
    fn total(&self) -> usize {
        self.parts.iter().map(|&(_, count)| count).sum()
    }
}

/// An SVG chart of `bars`, scaled so the longest bar fills the width. `title` names the chart
/// for screen readers; the numbers are also printed beside each bar.
pub(super) fn bar_chart(title: &str, bars: &[Bar]) -> String {
    let longest = bars.iter().map(Bar::total).max().unwrap_or(0).max(1);
    let width = LABEL_WIDTH + BAR_WIDTH + COUNT_WIDTH;
    let height = ROW_HEIGHT * bars.len().max(1);
    let mut lines = vec![format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{}">"#,
        escape(title)
    )];
    for (row, bar) in bars.iter().enumerate() {
        let top = row * ROW_HEIGHT;
        let baseline = top + ROW_HEIGHT / 2 + 4;
        lines.push(format!(
            r#"<text x="0" y="{baseline}">{}</text>"#,
            escape(&bar.label)
        ));
        // Each part starts where the counts before it end, so rounding never leaves gaps.
        let mut before = 0;
        for &(severity, count) in &bar.parts {
            if count == 0 {
                continue;
            }
            let start = LABEL_WIDTH + before * BAR_WIDTH / longest;
            before += count;
            let end = LABEL_WIDTH + before * BAR_WIDTH / longest;
            lines.push(format!(
                r#"<rect class="bar-{}" x="{start}" y="{}" width="{}" height="{BAR_HEIGHT}"><title>{}: {count}</title></rect>"#,
                severity.as_str().to_ascii_lowercase(),
                top + (ROW_HEIGHT - BAR_HEIGHT) / 2,
                (end - start).max(1),
                severity.as_str(),
            ));
        }
        lines.push(format!(
            r#"<text x="{}" y="{baseline}">{}</text>"#,
            LABEL_WIDTH + bar.total() * BAR_WIDTH / longest + 6,
            bar.total()
        ));
    }
    lines.push("</svg>".to_owned());
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacked_parts_tile_the_bar_and_the_longest_fills_the_width() {
        let svg = bar_chart(
            "by scanner",
            &[
                Bar {
                    label: "Secrets".to_owned(),
                    parts: vec![(Severity::Critical, 1), (Severity::High, 2)],
                },
                Bar {
                    label: "Malware".to_owned(),
                    parts: vec![(Severity::Critical, 0)],
                },
            ],
        );
        assert!(svg.contains(r#"x="130" y="4" width="86""#), "{svg}");
        assert!(svg.contains(r#"x="216" y="4" width="174""#), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 2, "no bar for a zero count");
        assert!(svg.contains(">0</text>"));
    }
}
