//! The fleet's trend, drawn as inline SVG on the server: the page needs no script or library
//! to show it, and the CSP allows none. Sizes are whole pixels computed from the counts alone.

use std::fmt::Write as _;

/// Images scanned on one day, by their verdict under the default policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Day {
    /// `MM-DD`, under the bar.
    pub(super) label: String,
    pub(super) passing: u64,
    pub(super) failing: u64,
    /// Scanned, but no verdict recorded (the policy could not be applied).
    pub(super) undecided: u64,
}

impl Day {
    fn total(&self) -> u64 {
        self.passing + self.failing + self.undecided
    }
}

const LEFT: u64 = 36;
const COLUMN: u64 = 34;
const BAR: u64 = 22;
const PLOT_HEIGHT: u64 = 160;
const TOP: u64 = 12;
const BOTTOM: u64 = 28;

/// Stacked bars, one per day (failing at the bottom, then passing, then undecided), scaled so
/// the busiest day fills the height. Every bar has a `<title>` with its numbers, and the whole
/// chart an `aria-label`.
pub(super) fn trend_chart(days: &[Day]) -> String {
    let highest = days.iter().map(Day::total).max().unwrap_or(0).max(1);
    let count = u64::try_from(days.len()).unwrap_or(u64::MAX).max(1);
    let width = LEFT + COLUMN * count + 8;
    let height = TOP + PLOT_HEIGHT + BOTTOM;
    let base = TOP + PLOT_HEIGHT;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="trend" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="Images scanned per day by verdict, last {count} days">"#
    );
    // The axis: zero and the busiest day's count.
    let _ = write!(
        svg,
        r#"<line class="axis" x1="{LEFT}" y1="{base}" x2="{}" y2="{base}"/><text x="{}" y="{}" text-anchor="end">0</text><text x="{}" y="{}" text-anchor="end">{highest}</text>"#,
        width - 4,
        LEFT - 6,
        base + 4,
        LEFT - 6,
        TOP + 4,
    );
    for (index, day) in days.iter().enumerate() {
        let x = LEFT + COLUMN * u64::try_from(index).unwrap_or(0) + (COLUMN - BAR) / 2;
        // Each part starts where the ones below it end, so rounding never leaves gaps.
        let mut below = 0;
        for (class, value) in [
            ("failing", day.failing),
            ("passing", day.passing),
            ("undecided", day.undecided),
        ] {
            if value == 0 {
                continue;
            }
            let start = below * PLOT_HEIGHT / highest;
            below += value;
            let end = below * PLOT_HEIGHT / highest;
            let _ = write!(
                svg,
                r#"<rect class="{class}" x="{x}" y="{}" width="{BAR}" height="{}"><title>{}: {value} {class}</title></rect>"#,
                base - end,
                (end - start).max(1),
                day.label,
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            x + BAR / 2,
            base + 16,
            day.label
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_stack_and_scale_to_the_busiest_day() {
        let days = vec![
            Day {
                label: "05-01".into(),
                passing: 1,
                failing: 3,
                undecided: 0,
            },
            Day {
                label: "05-02".into(),
                ..Day::default()
            },
        ];
        let svg = trend_chart(&days);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        // Failing at the bottom: 3 of 4 of the 160 pixels, then passing on top of it.
        assert!(svg.contains(r#"class="failing" x="42" y="52" width="22" height="120""#));
        assert!(svg.contains(r#"class="passing" x="42" y="12" width="22" height="40""#));
        assert!(svg.contains("05-02") && !svg.contains("undecided\" x"));
        assert_eq!(svg.matches("<rect").count(), 2);
    }

    #[test]
    fn no_scans_still_draws_an_axis() {
        let svg = trend_chart(&[]);
        assert!(svg.contains("<line") && !svg.contains("<rect"));
    }
}
