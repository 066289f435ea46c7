//! The headline table: one line per scenario from a summary, for the terminal and the top
//! of the report.

use crate::accounts::metric::{Gap, Metric};
use crate::accounts::summary::SummaryRow;
use crate::core::care::Setting;
use crate::core::level::Level;

/// The system-level, last-year figures of one scenario.
#[derive(Debug, Clone)]
pub struct Headline {
    pub scenario: String,
    pub last_year: i32,
    /// (metric, formatted "mean (p5 to p95)", or "-" when absent).
    pub cells: Vec<String>,
    /// Share of runs that broke even, formatted, or "-".
    pub broken_even: String,
}

/// Column titles of the headline table.
pub const COLUMNS: [&str; 6] = [
    "scenario (last year)",
    "spend",
    "emergency admissions",
    "cumulative net cost",
    "admissions avoided",
    "broken even",
];

/// The metrics of the headline columns after the scenario, with whether each is money.
fn columns() -> [(Metric, bool); 4] {
    [
        (Metric::Spend, true),
        (Metric::Count(Setting::EmergencyAdmissions), false),
        (Metric::CumulativeNetCost, true),
        (Metric::AvoidedAdmissions, false),
    ]
}

/// The level a scenario's headline reads: England when its output has the national sum
/// (several systems), so the intervals are the nation's, else its system(s).
fn top_level(rows: &[SummaryRow], scenario: &str) -> Level {
    if rows
        .iter()
        .any(|r| r.level == Level::England && r.scenario == scenario)
    {
        Level::England
    } else {
        Level::System
    }
}

/// One headline per scenario, in the summary's order: the system's spend, emergency
/// admissions, cumulative net cost and admissions avoided in the last year, with 90%
/// intervals, and the share of runs that broke even.
pub fn headlines(rows: &[SummaryRow]) -> Vec<Headline> {
    let mut order: Vec<&str> = Vec::new();
    for r in rows {
        if !order.contains(&r.scenario.as_str()) {
            order.push(&r.scenario);
        }
    }
    order
        .into_iter()
        .map(|s| {
            let last = rows
                .iter()
                .filter(|r| r.scenario == s)
                .map(|r| r.year)
                .max()
                .unwrap_or(0);
            let top = top_level(rows, s);
            let pick = |m: &Metric| -> Vec<&SummaryRow> {
                rows.iter()
                    .filter(|r| {
                        r.scenario == s && r.level == top && r.metric == *m && r.year == last
                    })
                    .collect()
            };
            let cells = columns()
                .iter()
                .map(|(m, money)| {
                    let picked = pick(m);
                    if picked.is_empty() {
                        return "-".into();
                    }
                    let f = |x: f64| {
                        if *money {
                            format!("£{:.1}m", x / 1e6)
                        } else {
                            format!("{x:.0}")
                        }
                    };
                    let total: f64 = picked.iter().map(|r| r.stat.mean).sum();
                    if let [one] = picked.as_slice() {
                        format!("{} ({} to {})", f(total), f(one.stat.p5), f(one.stat.p95))
                    } else {
                        format!("{} ({} systems)", f(total), picked.len())
                    }
                })
                .collect();
            let broken = pick(&Metric::BrokenEven);
            let broken_even = if broken.is_empty() {
                "-".to_string()
            } else {
                format!(
                    "{:.0}% of runs",
                    100.0 * broken.iter().map(|r| r.stat.mean).sum::<f64>() / broken.len() as f64
                )
            };
            Headline {
                scenario: s.to_string(),
                last_year: last,
                cells,
                broken_even,
            }
        })
        .collect()
}

/// The headline table as aligned text lines, with a note on what the numbers are.
pub fn headline_lines(rows: &[SummaryRow]) -> Vec<String> {
    let line = |c: [&str; 6]| {
        format!(
            "{:<28} {:>30} {:>24} {:>30} {:>20} {:>12}",
            c[0], c[1], c[2], c[3], c[4], c[5]
        )
    };
    let mut lines = vec![line(COLUMNS)];
    for h in headlines(rows) {
        let name = format!("{} (y{})", h.scenario, h.last_year);
        lines.push(line([
            &name,
            &h.cells[0],
            &h.cells[1],
            &h.cells[2],
            &h.cells[3],
            &h.broken_even,
        ]));
    }
    lines.push("(mean, with 5th to 95th centile over Monte Carlo runs)".into());
    lines
}

/// What each intervention scenario found, in a plain sentence with its uncertainty: how
/// often it saves more than it costs, its discounted net cost with a 90% interval, the
/// QALYs it gains, and the cost per QALY.
pub fn findings(rows: &[SummaryRow]) -> Vec<String> {
    let mut out = Vec::new();
    for h in headlines(rows) {
        let top = top_level(rows, &h.scenario);
        let get = |m: &Metric| {
            rows.iter()
                .find(|r| {
                    r.scenario == h.scenario
                        && r.level == top
                        && r.year == h.last_year
                        && r.metric == *m
                })
                .map(|r| (r.stat, r.runs))
        };
        let (Some((net, runs)), Some((broken, _))) = (
            get(&Metric::DiscountedCumulativeNetCost),
            get(&Metric::BrokenEven),
        ) else {
            continue;
        };
        let saves = (broken.mean * runs as f64).round() as u32;
        let money = |x: f64| format!("£{:.1}m", x / 1e6);
        let mut s = format!(
            "{}: by year {} it costs more than it saves in {} of {} runs; discounted net cost {} (90% interval {} to {})",
            h.scenario,
            h.last_year,
            runs - saves.min(runs),
            runs,
            money(net.mean),
            money(net.p5),
            money(net.p95)
        );
        if let Some((q, _)) = get(&Metric::DiscountedQalysGained) {
            s += &format!("; {:.0} QALYs gained (discounted)", q.mean);
            match get(&Metric::CostPerQaly) {
                Some((c, _)) if q.mean > 0.0 => {
                    s += &format!(", about {} per QALY (median over runs)", pounds(c.p50))
                }
                _ => {}
            }
        }
        // The gap between the most and least deprived quintiles in admissions per 1,000.
        let gap = |m: Metric| {
            rows.iter()
                .find(|r| {
                    r.scenario == h.scenario
                        && r.level == Level::ImdQuintile
                        && r.area == "1-5"
                        && r.year == h.last_year
                        && r.metric == m
                })
                .map(|r| r.stat)
        };
        if let (Some(g), Some(c)) = (
            gap(Metric::QuintileGap(Gap::AdmissionsPer1000)),
            gap(Metric::QuintileGapChange(Gap::AdmissionsPer1000)),
        ) {
            // Narrower means closer to zero: a change against the counterfactual gap's sign.
            let gap = "the gap in emergency admissions between the most and least deprived fifths";
            let change = if c.mean == 0.0 {
                format!("leaves {gap} unchanged")
            } else if (c.mean < 0.0) == (g.mean - c.mean > 0.0) {
                format!("narrows {gap} by {:.2} per 1,000", c.mean.abs())
            } else {
                format!("widens {gap} by {:.2} per 1,000", c.mean.abs())
            };
            s += &format!(
                "; in year {} it {change} (90% interval of the change {:.2} to {:.2}; the gap is {:.1} per 1,000)",
                h.last_year, c.p5, c.p95, g.mean
            );
        }
        s.push('.');
        out.push(s);
    }
    out
}

/// Whole pounds with thousands separators: £408,499.
fn pounds(x: f64) -> String {
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{}£{out}", if x < 0.0 { "-" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::pounds;

    #[test]
    fn pounds_have_thousands_separators() {
        assert_eq!(pounds(408_499.4), "£408,499");
        assert_eq!(pounds(1_104_715.0), "£1,104,715");
        assert_eq!(pounds(999.0), "£999");
        assert_eq!(pounds(-12_000.0), "-£12,000");
    }
}
