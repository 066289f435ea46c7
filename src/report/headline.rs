//! The headline table: one line per scenario from a summary, for the terminal and the top
//! of the report.

use crate::accounts::icer::Icer;
use crate::accounts::metric::{FormulaMetric, Gap, Metric};
use crate::accounts::summary::{Stat, SummaryRow};
use crate::config::scenario::Evaluation;
use crate::core::care::Setting;
use crate::core::level::Level;
use crate::core::money::whole_pounds as pounds;

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

/// Column titles of the headline table. "In year" figures are the last year's alone;
/// the net cost and QALYs are discounted and cumulative over the horizon.
pub const COLUMNS: [&str; 7] = [
    "scenario (year shown)",
    "total cost, in year",
    "emergency admissions, in year",
    "net cost, discounted, cumulative",
    "QALYs gained, disc., cum.",
    "cost per QALY (ICER)",
    "broken even (disc.)",
];

/// The metrics of the headline's plain columns after the scenario, with whether each is
/// money, and the digits of a count.
fn columns() -> [(Metric, bool, usize); 4] {
    [
        (Metric::TotalCost, true, 0),
        (Metric::Count(Setting::EmergencyAdmissions), false, 0),
        (Metric::DiscountedCumulativeNetCost, true, 0),
        (Metric::DiscountedQalysGained, false, 1),
    ]
}

/// What the summary does not say but the headline and findings need: how results were
/// discounted and how fast the envelope grows, from the first scenario's settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    /// Which discount rates were used, e.g. "costs 3.5% a year, health 3.5% a year: the
    /// NICE reference case".
    pub discounting: Option<String>,
    /// The first capitation formula's name.
    pub formula: Option<String>,
    /// Who funds a risk pool's shortfall, with their shares, when pools are configured.
    pub funders: Vec<(String, f64)>,
}

impl Context {
    /// From a scenario as written in `batch.json` or `run.json`.
    pub fn of_scenario(s: &serde_json::Value) -> Context {
        let eval: Option<Evaluation> = serde_json::from_value(s["evaluation"].clone()).ok();
        let cap = &s["capitation"];
        let f = &cap["formula"][0];
        Context {
            discounting: eval.map(|e| e.discounting_label()),
            formula: f["name"]
                .as_str()
                .or_else(|| f["basis"].as_str())
                .map(String::from),
            funders: cap["risk_sharing"]["funders"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
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

/// A summary row's value of one scenario at the top level in one year.
fn stat_of(rows: &[SummaryRow], scenario: &str, year: i32, m: &Metric) -> Option<(Stat, u32)> {
    let top = top_level(rows, scenario);
    let picked: Vec<&SummaryRow> = rows
        .iter()
        .filter(|r| r.scenario == scenario && r.level == top && r.year == year && r.metric == *m)
        .collect();
    match picked.as_slice() {
        [one] => Some((one.stat, one.runs)),
        _ => None,
    }
}

/// The ICER of a scenario's last year as a cell: the ratio of means with its bootstrap
/// interval, or the quadrant where no ratio means anything; "-" without QALYs.
fn icer_cell(rows: &[SummaryRow], scenario: &str, last: i32) -> String {
    let get = |m: &Metric| stat_of(rows, scenario, last, m).map(|(s, _)| s);
    let (Some(cost), Some(qalys)) = (
        get(&Metric::DiscountedCumulativeNetCost),
        get(&Metric::DiscountedQalysGained),
    ) else {
        return "-".into();
    };
    let icer = Icer::of(cost.mean, qalys.mean);
    let ends = |x: f64| {
        if x.is_finite() {
            pounds(x)
        } else {
            "no gain".into()
        }
    };
    match (icer, get(&Metric::CostPerQaly)) {
        (Icer::PerQalyGained(r), Some(c)) => {
            format!("{} ({} to {})", pounds(r), ends(c.p5), ends(c.p95))
        }
        (icer, _) => icer.to_string(),
    }
}

/// One headline per scenario, in the summary's order: the system's total cost and
/// emergency admissions in the last year, its discounted cumulative net cost and QALYs
/// gained with 90% intervals, the ICER, and the share of runs that broke even.
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
            let mut cells: Vec<String> = columns()
                .iter()
                .map(|(m, money, digits)| {
                    let picked = pick(m);
                    if picked.is_empty() {
                        return "-".into();
                    }
                    let f = |x: f64| {
                        if *money {
                            signed(x)
                        } else {
                            format!("{x:.digits$}")
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
            cells.push(icer_cell(rows, s, last));
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

/// The headline table as aligned text lines, with a note on what the numbers are, and
/// any warning about the horizon.
pub fn headline_lines(rows: &[SummaryRow], context: &Context) -> Vec<String> {
    let line = |c: [&str; 7]| {
        format!(
            "{:<28} {:>30} {:>26} {:>32} {:>22} {:>34} {:>12}",
            c[0], c[1], c[2], c[3], c[4], c[5], c[6]
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
            &h.cells[4],
            &h.broken_even,
        ]));
    }
    lines.push(note(context));
    lines.extend(
        horizon_warnings(rows)
            .into_iter()
            .map(|w| format!("warning: {w}")),
    );
    lines
}

/// What the headline's numbers are.
pub fn note(context: &Context) -> String {
    let mut s = "(mean, with 5th to 95th centile over Monte Carlo runs; total cost = care + programme + set-up, at full average unit costs; the ICER is mean net cost over mean QALYs over all runs, with a bootstrap 90% interval".to_string();
    if let Some(d) = &context.discounting {
        s += &format!("; discounted at {d}");
    }
    s.push(')');
    s
}

/// Scenarios whose health benefits are still accruing in the last year: the last year's
/// QALYs gained (in year, undiscounted) are at least the mean year's, so a longer horizon
/// would change the ICER.
pub fn horizon_warnings(rows: &[SummaryRow]) -> Vec<String> {
    let mut out = Vec::new();
    for h in headlines(rows) {
        let by_year: Vec<f64> = (1..=h.last_year)
            .filter_map(|y| {
                stat_of(rows, &h.scenario, y, &Metric::QalysGained).map(|(s, _)| s.mean)
            })
            .collect();
        let Some(last) = by_year.last() else {
            continue;
        };
        let mean = by_year.iter().sum::<f64>() / by_year.len() as f64;
        if *last > 0.0 && *last >= mean && by_year.len() > 1 {
            out.push(format!(
                "{}: QALYs are still accruing at the horizon ({:.1} gained in year {} alone, against {:.1} in a mean year); a longer horizon (--years, up to 100) would change its ICER",
                h.scenario, last, h.last_year, mean
            ));
        }
    }
    out
}

/// What each intervention scenario found, in plain sentences with their uncertainty: how
/// often it costs more than it saves (discounted), its discounted net cost with a 90%
/// interval and its parts, the QALYs it gains and where they come from, the ICER (or the
/// quadrant where no ratio means anything), what it does not model, and whether it
/// narrows or widens the gap between the most and least deprived fifths.
pub fn findings(rows: &[SummaryRow], context: &Context) -> Vec<String> {
    let mut out: Vec<String> = envelope_gap(rows, context).into_iter().collect();
    for h in headlines(rows) {
        let sc = h.scenario.as_str();
        let last = h.last_year;
        let get = |m: &Metric| stat_of(rows, sc, last, m);
        // The sum over the years of a metric's means: the mean of its cumulative sum.
        let cumulative = |m: &Metric| -> f64 {
            (1..=last)
                .filter_map(|y| stat_of(rows, sc, y, m).map(|(s, _)| s.mean))
                .sum()
        };
        let (Some((net, runs)), Some((broken, _))) = (
            get(&Metric::DiscountedCumulativeNetCost),
            get(&Metric::BrokenEven),
        ) else {
            continue;
        };
        let saves = (broken.mean * runs as f64).round() as u32;
        let money = signed;
        let mut s = format!(
            "{sc}: by year {last}, on the discounted basis, it costs more than it saves in {} of {runs} runs; discounted cumulative net cost {} (90% interval {} to {})",
            runs - saves.min(runs),
            money(net.mean),
            money(net.p5),
            money(net.p95)
        );
        let setup = cumulative(&Metric::SetupCost);
        s += &format!(
            ". Undiscounted over years 1-{last}: activity avoided {}, activity added {}, programme {} and set-up {}; the budgets pay a further {} of fixed costs that avoided activity does not release (capacity freed, not cash)",
            money(cumulative(&Metric::GrossSavings)),
            money(cumulative(&Metric::AddedActivityCost)),
            money(cumulative(&Metric::ProgrammeCost) - setup),
            money(setup),
            money(cumulative(&Metric::RetainedFixedCost)),
        );
        if let Some((bd, _)) = get(&Metric::AvoidedBedDays) {
            s += &format!(
                "; in year {last} it frees {:.0} emergency bed days (90% interval {:.0} to {:.0})",
                bd.mean, bd.p5, bd.p95
            );
        }
        if let Some((q, _)) = get(&Metric::DiscountedQalysGained) {
            let from_admissions = cumulative(&Metric::AdmissionQalysGained);
            s += &format!(
                ". It gains {:.1} QALYs (discounted, cumulative; 90% interval {:.1} to {:.1}), {:.1} of them (undiscounted) from fewer emergency admissions and bed days",
                q.mean, q.p5, q.p95, from_admissions
            );
            let icer = Icer::of(net.mean, q.mean);
            s += &match icer {
                Icer::PerQalyGained(r) => match get(&Metric::CostPerQaly) {
                    Some((c, _)) => format!(
                        "; ICER {} per QALY gained (mean net cost over mean QALYs, all runs; bootstrap 90% interval {} to {})",
                        pounds(r),
                        if c.p5.is_finite() { pounds(c.p5) } else { "no QALY gain".into() },
                        if c.p95.is_finite() { pounds(c.p95) } else { "no QALY gain".into() },
                    ),
                    None => format!("; ICER {} per QALY gained", pounds(r)),
                },
                _ => format!("; ICER: {icer}"),
            };
            if let Some(d) = &context.discounting {
                s += &format!(" (discounted at {d})");
            }
        }
        if mortality_not_modelled(rows, sc) {
            s += ". Deaths and life years: not modelled (the scenario changes neither mortality nor deterioration, so its people are the counterfactual's; its QALYs come only from care avoided)";
        }
        // The gap between the most and least deprived quintiles in admissions per 1,000.
        let gap = |m: Metric| {
            rows.iter()
                .find(|r| {
                    r.scenario == sc
                        && r.level == Level::ImdQuintile
                        && r.area == "1-5"
                        && r.year == last
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
                ". In year {last} it {change} (90% interval of the change {:.2} to {:.2}; the gap is {:.1} per 1,000)",
                c.p5, c.p95, g.mean
            );
        }
        s.push('.');
        out.push(s);
    }
    out.extend(horizon_warnings(rows));
    out
}

/// The gap between the envelope and what the first scenario (the baseline) costs in cash,
/// in one sentence: the growth of each a year, the system's position in the last year
/// under the first formula, what the risk pools covered and hold, and who funds a pool's
/// shortfall.
pub fn envelope_gap(rows: &[SummaryRow], context: &Context) -> Option<String> {
    let formula = context.formula.as_deref()?;
    let sc = rows.first()?.scenario.as_str();
    let last = rows
        .iter()
        .filter(|r| r.scenario == sc)
        .map(|r| r.year)
        .max()?;
    let get = |y: i32, m: Metric| stat_of(rows, sc, y, &m).map(|(s, _)| s);
    let fm = |m: FormulaMetric| Metric::formula(m, formula);
    let (b1, bn) = (
        get(1, fm(FormulaMetric::Budget))?,
        get(last, fm(FormulaMetric::Budget))?,
    );
    let (c1, cn) = (get(1, Metric::CashCost)?, get(last, Metric::CashCost)?);
    let position = get(last, fm(FormulaMetric::Position))?;
    let growth = |a: f64, b: f64| {
        if last > 1 && a > 0.0 {
            100.0 * ((b / a).powf(1.0 / (last - 1) as f64) - 1.0)
        } else {
            0.0
        }
    };
    let money = |x: f64| format!("£{:.1}m", x.abs() / 1e6);
    let side = if position.mean < 0.0 {
        "short"
    } else {
        "in surplus"
    };
    let mut s = format!(
        "The envelope and the gap ({sc}, `{formula}` formula): the envelope grows {:.1}% a year while cash costs grow {:.1}% a year, so by year {last} the system is {} {side} ({:.1}% of its budget; 90% interval {} to {})",
        growth(b1.mean, bn.mean),
        growth(c1.mean, cn.mean),
        money(position.mean),
        100.0 * position.mean.abs() / bn.mean.max(1.0),
        signed(position.p5),
        signed(position.p95),
    );
    if let (Some(covered), Some(balance)) = (
        get(last, fm(FormulaMetric::PooledDeficit)),
        get(last, fm(FormulaMetric::PoolBalance)),
    ) {
        let funders: Vec<String> = context
            .funders
            .iter()
            .map(|(name, share)| {
                format!(
                    "{name} {:.0}% ({})",
                    100.0 * share,
                    money(share * balance.mean.min(0.0))
                )
            })
            .collect();
        s += &format!(
            "; in year {last} the risk pools cover {} of neighbourhood deficits and end the year at {}",
            money(covered.mean),
            signed(balance.mean)
        );
        if balance.mean < 0.0 && !funders.is_empty() {
            s += &format!(
                ", a shortfall funded by {} (risk_sharing.funders)",
                funders.join(", ")
            );
        }
    }
    s.push('.');
    Some(s)
}

/// Millions of pounds with their sign.
fn signed(x: f64) -> String {
    format!("{}£{:.1}m", if x < 0.0 { "-" } else { "" }, x.abs() / 1e6)
}

/// Whether a scenario's deaths are the counterfactual's in every run and year: then it
/// does not model mortality, and its life years gained are zero by construction, not by
/// finding.
fn mortality_not_modelled(rows: &[SummaryRow], scenario: &str) -> bool {
    let top = top_level(rows, scenario);
    let mut any = false;
    for r in rows
        .iter()
        .filter(|r| r.scenario == scenario && r.level == top && r.metric == Metric::DeathsAverted)
    {
        any = true;
        if r.stat.p5 != 0.0 || r.stat.p95 != 0.0 || r.stat.mean != 0.0 {
            return false;
        }
    }
    any
}
