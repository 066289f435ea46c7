//! Monte Carlo summaries: the distribution over runs of every metric, and which uncertain
//! parameters drive the spread of net cost (for a tornado chart).
//!
//! Both are computed from the per-run metrics in a fixed order (scenarios in batch order,
//! runs ascending), so a batch resumed after a crash, or merged from shards, produces the
//! same bytes as an unbroken run.

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::accounts::metrics::Metrics;
use crate::core::error::{CapsimError, Result};
use crate::core::level::Level;

/// Centiles reported, with their column names.
pub const CENTILES: [(&str, f64); 5] = [
    ("p5", 0.05),
    ("p10", 0.10),
    ("p50", 0.50),
    ("p90", 0.90),
    ("p95", 0.95),
];

/// The `p`-quantile of sorted values, interpolating linearly between order statistics
/// (Hyndman and Fan type 7, the default of R and numpy).
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * p;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

fn level_rank(level: &str) -> u8 {
    Level::ALL
        .iter()
        .position(|l| l.id() == level)
        .unwrap_or(Level::ALL.len()) as u8
}

type Key = (usize, i32, u8, String, String);

/// Per-run values of every metric, gathered scenario by scenario, run by run.
#[derive(Debug, Default)]
pub struct Collected {
    scenarios: Vec<String>,
    values: BTreeMap<Key, Vec<f64>>,
    /// Per scenario: parameter name -> values by run.
    parameters: Vec<BTreeMap<String, Vec<f64>>>,
    /// Per scenario: the runs' cumulative net cost over the horizon, summed over systems.
    net_cost: Vec<Vec<f64>>,
    /// Per scenario: last year.
    years: Vec<i32>,
}

impl Collected {
    pub fn new(scenarios: Vec<(String, u32)>) -> Self {
        let n = scenarios.len();
        Collected {
            years: scenarios.iter().map(|(_, y)| *y as i32).collect(),
            scenarios: scenarios.into_iter().map(|(s, _)| s).collect(),
            values: BTreeMap::new(),
            parameters: vec![BTreeMap::new(); n],
            net_cost: vec![Vec::new(); n],
        }
    }

    /// Adds one run of scenario `s`. Runs must be added in ascending order.
    pub fn add(&mut self, s: usize, metrics: &Metrics, draws: &[(String, f64)]) {
        let mut net = 0.0;
        let mut has_net = false;
        for i in 0..metrics.len() {
            let key = (
                s,
                metrics.year[i],
                level_rank(metrics.level[i]),
                metrics.area[i].clone(),
                metrics.metric[i].clone(),
            );
            if metrics.level[i] == "system"
                && metrics.year[i] == self.years[s]
                && metrics.metric[i] == "cumulative_net_cost"
            {
                net += metrics.value[i];
                has_net = true;
            }
            self.values.entry(key).or_default().push(metrics.value[i]);
        }
        if has_net {
            self.net_cost[s].push(net);
            for (name, v) in draws {
                self.parameters[s].entry(name.clone()).or_default().push(*v);
            }
        }
    }

    /// The summary table: scenario, year, level, area, metric, mean and centiles.
    pub fn summary(&self) -> Result<DataFrame> {
        let n = self.values.len();
        let mut scenario = Vec::with_capacity(n);
        let mut year = Vec::with_capacity(n);
        let mut level = Vec::with_capacity(n);
        let mut area = Vec::with_capacity(n);
        let mut metric = Vec::with_capacity(n);
        let mut runs = Vec::with_capacity(n);
        let mut mean = Vec::with_capacity(n);
        let mut cents: Vec<Vec<f64>> = vec![Vec::with_capacity(n); CENTILES.len()];
        let mut sorted = Vec::new();
        for ((s, y, l, a, m), v) in &self.values {
            scenario.push(self.scenarios[*s].as_str());
            year.push(*y);
            level.push(Level::ALL[*l as usize].id());
            area.push(a.as_str());
            metric.push(m.as_str());
            runs.push(v.len() as u32);
            mean.push(v.iter().sum::<f64>() / v.len() as f64);
            sorted.clear();
            sorted.extend_from_slice(v);
            sorted.sort_by(f64::total_cmp);
            for (c, (_, p)) in cents.iter_mut().zip(CENTILES) {
                c.push(quantile(&sorted, p));
            }
        }
        let mut cols = vec![
            Column::new("scenario".into(), scenario),
            Column::new("year".into(), year),
            Column::new("level".into(), level),
            Column::new("area".into(), area),
            Column::new("metric".into(), metric),
            Column::new("mean".into(), mean),
        ];
        for (c, (name, _)) in cents.into_iter().zip(CENTILES) {
            cols.push(Column::new(name.into(), c));
        }
        cols.push(Column::new("runs".into(), runs));
        DataFrame::new_infer_height(cols).map_err(table_err)
    }

    /// How much of each area's budget position is systematic and how much is chance, per
    /// formula. The position is taken relative to its system's (position minus budget x
    /// the system's position / budget), so that an overspend the whole system shares is
    /// not blamed on the formula. Over Monte Carlo runs, the mean relative position is what
    /// the formula gets wrong about the area's need (it recurs every run), and the spread
    /// around it is the luck of a small population. `systematic_share` = mean^2 /
    /// (mean^2 + variance), the part of the mean squared relative position that the mean
    /// explains. `mean_position` is the plain position's mean, for reference.
    pub fn risk(&self) -> Result<DataFrame> {
        let (mut scenario, mut year, mut level, mut area, mut formulas) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut num: [Vec<f64>; 8] = Default::default();
        let mut runs = Vec::new();
        for ((s, y, l, a, m), rel) in &self.values {
            let Some(formula) = m.strip_prefix("relative_position:") else {
                continue;
            };
            if Level::ALL[*l as usize] == Level::System {
                continue;
            }
            let get = |metric: String| self.values.get(&(*s, *y, *l, a.clone(), metric));
            let (Some(budget), Some(people), Some(pos)) = (
                get(format!("budget:{formula}")),
                get("population".into()),
                get(format!("position:{formula}")),
            ) else {
                continue;
            };
            let n = rel.len() as f64;
            let mean = rel.iter().sum::<f64>() / n;
            let var = if rel.len() > 1 {
                rel.iter().map(|p| (p - mean) * (p - mean)).sum::<f64>() / (n - 1.0)
            } else {
                0.0
            };
            let mean_budget = budget.iter().sum::<f64>() / n;
            let over = pos
                .iter()
                .zip(budget)
                .filter(|(p, b)| **p < -0.05 * **b)
                .count() as f64
                / n;
            scenario.push(self.scenarios[*s].as_str());
            year.push(*y);
            level.push(Level::ALL[*l as usize].id());
            area.push(a.as_str());
            formulas.push(formula);
            let values = [
                people.iter().sum::<f64>() / n,
                mean_budget,
                pos.iter().sum::<f64>() / n,
                mean,
                var.sqrt(),
                if mean * mean + var > 0.0 {
                    mean * mean / (mean * mean + var)
                } else {
                    0.0
                },
                if mean_budget != 0.0 {
                    var.sqrt() / mean_budget
                } else {
                    0.0
                },
                over,
            ];
            for (c, v) in num.iter_mut().zip(values) {
                c.push(v);
            }
            runs.push(rel.len() as u32);
        }
        let names = [
            "population",
            "budget",
            "mean_position",
            "systematic",
            "chance_sd",
            "systematic_share",
            "chance_sd_share_of_budget",
            "p_deficit_over_5pct",
        ];
        let mut out = vec![
            Column::new("scenario".into(), scenario),
            Column::new("year".into(), year),
            Column::new("level".into(), level),
            Column::new("area".into(), area),
            Column::new("formula".into(), formulas),
        ];
        for (n, v) in names.iter().zip(num) {
            out.push(Column::new((*n).into(), v));
        }
        out.push(Column::new("runs".into(), runs));
        DataFrame::new_infer_height(out).map_err(table_err)
    }

    /// Sensitivity of each scenario's cumulative net cost to each uncertain parameter:
    /// Spearman's rank correlation over runs, and the mean net cost of the runs in the
    /// parameter's lowest and highest tenth (the two ends of a tornado bar).
    pub fn sensitivity(&self) -> Result<DataFrame> {
        let (mut scenario, mut parameter, mut rho, mut low, mut high, mut runs) = (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        for (s, params) in self.parameters.iter().enumerate() {
            let y = &self.net_cost[s];
            for (name, x) in params {
                if x.len() != y.len() || x.len() < 3 {
                    continue;
                }
                scenario.push(self.scenarios[s].as_str());
                parameter.push(name.as_str());
                rho.push(spearman(x, y));
                let (l, h) = tails(x, y);
                low.push(l);
                high.push(h);
                runs.push(x.len() as u32);
            }
        }
        DataFrame::new_infer_height(vec![
            Column::new("scenario".into(), scenario),
            Column::new("parameter".into(), parameter),
            Column::new("spearman".into(), rho),
            Column::new("net_cost_low".into(), low),
            Column::new("net_cost_high".into(), high),
            Column::new("runs".into(), runs),
        ])
        .map_err(table_err)
    }
}

fn table_err(e: PolarsError) -> CapsimError {
    CapsimError::Write {
        path: "(summary)".into(),
        reason: e.to_string(),
    }
}

/// Ranks from 1, ties sharing their average rank.
fn ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|a, b| x[*a].total_cmp(&x[*b]).then(a.cmp(b)));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && x[order[j + 1]] == x[order[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            r[order[k]] = avg;
        }
        i = j + 1;
    }
    r
}

/// Spearman's rank correlation (Pearson's on ranks); 0 when either side is constant.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    let (rx, ry) = (ranks(x), ranks(y));
    let n = rx.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..rx.len() {
        sxy += (rx[i] - mx) * (ry[i] - my);
        sxx += (rx[i] - mx) * (rx[i] - mx);
        syy += (ry[i] - my) * (ry[i] - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        0.0
    } else {
        sxy / (sxx * syy).sqrt()
    }
}

/// Mean of `y` over the runs whose `x` is in its lowest tenth, and in its highest tenth
/// (at least one run each).
fn tails(x: &[f64], y: &[f64]) -> (f64, f64) {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|a, b| x[*a].total_cmp(&x[*b]).then(a.cmp(b)));
    let k = (x.len() / 10).max(1);
    let mean = |idx: &[usize]| idx.iter().map(|i| y[*i]).sum::<f64>() / idx.len() as f64;
    (mean(&order[..k]), mean(&order[order.len() - k..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 4.0);
        assert!((quantile(&v, 0.5) - 2.5).abs() < 1e-12);
        assert!((quantile(&v, 0.1) - 1.3).abs() < 1e-12);
    }

    #[test]
    fn spearman_of_monotone_is_one() {
        let x = [1.0, 5.0, 2.0, 8.0];
        let y: Vec<f64> = x.iter().map(|v: &f64| v.powi(3)).collect();
        assert!((spearman(&x, &y) - 1.0).abs() < 1e-12);
        let z: Vec<f64> = x.iter().map(|v| -v).collect();
        assert!((spearman(&x, &z) + 1.0).abs() < 1e-12);
    }

    #[test]
    fn ties_share_ranks() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0]), vec![2.5, 1.0, 2.5]);
    }
}
