//! Capacity in words: per scenario that reports it, the beds it frees (average at the
//! target occupancy, and at the winter peak) with their 90% intervals, the virtual-ward
//! places and staff it needs, who capacity turns away, and the year demand passes the
//! existing bed base with and without it.

use crate::accounts::metric::Metric;
use crate::accounts::summary::{Stat, SummaryRow};
use crate::core::level::Level;

/// The top level a scenario has rows at: England with several systems, else the system.
/// With several systems of one level the first is taken.
fn top(rows: &[SummaryRow], scenario: &str) -> Option<(Level, String)> {
    [Level::England, Level::System].into_iter().find_map(|l| {
        rows.iter()
            .find(|r| r.scenario == scenario && r.level == l)
            .map(|r| (l, r.area.clone()))
    })
}

fn stat(
    rows: &[SummaryRow],
    scenario: &str,
    area: &(Level, String),
    year: i32,
    m: &Metric,
) -> Option<Stat> {
    rows.iter()
        .find(|r| {
            r.scenario == scenario
                && r.level == area.0
                && r.area == area.1
                && r.year == year
                && r.metric == *m
        })
        .map(|r| r.stat)
}

/// One sentence per scenario with capacity rows, in summary order:
/// "S: frees N beds (x to y) by year Y; needs P virtual-ward places and W staff".
pub fn capacity_sentences(rows: &[SummaryRow]) -> Vec<String> {
    let mut order: Vec<&str> = Vec::new();
    for r in rows {
        if !order.contains(&r.scenario.as_str()) {
            order.push(&r.scenario);
        }
    }
    order
        .into_iter()
        .filter_map(|sc| sentence(rows, sc))
        .collect()
}

fn sentence(rows: &[SummaryRow], sc: &str) -> Option<String> {
    let area = top(rows, sc)?;
    let last = rows
        .iter()
        .filter(|r| r.scenario == sc)
        .map(|r| r.year)
        .max()?;
    let get = |m: &Metric| stat(rows, sc, &area, last, m);
    let mut parts: Vec<String> = Vec::new();
    if let Some(b) = get(&Metric::BedsReleased) {
        let mut s = format!(
            "frees {:.0} general and acute beds (90% interval {:.0} to {:.0}) by year {last}, at the target occupancy",
            b.mean, b.p5, b.p95
        );
        if let Some(p) = get(&Metric::BedsReleasedP95) {
            s += &format!(
                ", and {:.0} ({:.0} to {:.0}) of the beds the busiest days need",
                p.mean, p.p5, p.p95
            );
        }
        parts.push(s);
    } else if let Some(b) = get(&Metric::BedsRequired) {
        parts.push(format!(
            "needs {:.0} general and acute beds for emergency care in year {last} at the target occupancy (90% interval {:.0} to {:.0})",
            b.mean, b.p5, b.p95
        ));
    }
    let mut needs: Vec<String> = Vec::new();
    if let Some(p) = get(&Metric::PlacesUsed) {
        let provided = get(&Metric::PlacesProvided)
            .map_or(String::new(), |q| format!(" (of {:.0} provided)", q.mean));
        needs.push(format!(
            "{:.0} virtual-ward or caseload places in use on an average day{provided}",
            p.mean
        ));
    }
    if let Some(w) = get(&Metric::StaffWte) {
        needs.push(format!(
            "{:.0} staff (whole-time equivalents; 90% interval {:.0} to {:.0})",
            w.mean, w.p5, w.p95
        ));
    }
    if !needs.is_empty() {
        parts.push(format!("needs {}", needs.join(" and ")));
    }
    if let Some(t) = get(&Metric::TurnedAwayShare).filter(|t| t.mean > 0.0) {
        parts.push(format!(
            "its capacity turns away {:.0}% of those the coverage would enrol",
            100.0 * t.mean
        ));
    }
    if let (Some(base), Some(with), Some(without)) = (
        get(&Metric::BedBase),
        get(&Metric::BedBasePassedYear),
        get(&Metric::CounterfactualBedBasePassedYear),
    ) {
        let when = |s: Stat| {
            if s.p50 > last as f64 {
                format!("not by year {last}")
            } else {
                format!("in year {:.0}", s.p50)
            }
        };
        let mut s = format!(
            "demand passes the existing {:.0} beds {} with the scenario and {} without (median run)",
            base.mean,
            when(with),
            when(without)
        );
        if let Some(d) = get(&Metric::DaysOverBedBase) {
            s += &format!("; in year {last} about {:.0} days are over it", d.mean);
        }
        parts.push(s);
    }
    if parts.is_empty() {
        return None;
    }
    Some(format!("{sc}: {}.", parts.join("; ")))
}
