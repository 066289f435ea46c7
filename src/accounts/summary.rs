//! Monte Carlo summaries: the distribution over runs of every metric, and how each
//! uncertain parameter's draws rank with discounted net cost over the runs (the one-way
//! analysis behind the tornado chart is [`crate::accounts::one_way`]).
//!
//! Both are computed from the per-run metrics in a fixed order (scenarios in batch order,
//! runs ascending), so a batch resumed after a crash, or merged from shards, produces the
//! same bytes as an unbroken run.

use std::collections::BTreeMap;
use std::hash::BuildHasher;
use std::ops::Range;

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use rayon::prelude::*;

use crate::accounts::icer::{bootstrap, Icer};
use crate::accounts::incremental::{self, Incremental, RunOutcome, ScenarioRuns, TopLevel};
use crate::accounts::metric::{FormulaMetric, Metric};
use crate::accounts::metrics::{code_ranks, Coded, Metrics};
use crate::config::batch::groups_of;
use crate::config::scenario::Scenario;
use crate::config::uncertainty::name_hash;
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

/// Mean and centiles of a metric over runs.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stat {
    pub mean: f64,
    pub p5: f64,
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
}

impl Stat {
    /// The centiles in [`CENTILES`] order.
    pub fn centiles(&self) -> [f64; 5] {
        [self.p5, self.p10, self.p50, self.p90, self.p95]
    }

    pub fn from_centiles(mean: f64, c: [f64; 5]) -> Self {
        Stat {
            mean,
            p5: c[0],
            p10: c[1],
            p50: c[2],
            p90: c[3],
            p95: c[4],
        }
    }
}

/// One row of the summary table.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    pub scenario: String,
    pub year: i32,
    pub level: Level,
    pub area: String,
    pub metric: Metric,
    pub stat: Stat,
    pub runs: u32,
}

/// One row of the risk table: an area's budget position over runs, split into what recurs
/// (systematic) and what is chance.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskRow {
    pub scenario: String,
    pub year: i32,
    pub level: Level,
    pub area: String,
    pub formula: String,
    pub population: f64,
    pub budget: f64,
    pub mean_position: f64,
    pub systematic: f64,
    pub chance_sd: f64,
    pub systematic_share: f64,
    pub chance_sd_share_of_budget: f64,
    pub p_deficit_over_5pct: f64,
    pub runs: u32,
}

/// The outcome of the sensitivity table: what its rank correlations are with.
pub const SENSITIVITY_OUTCOME: Metric = Metric::DiscountedCumulativeNetCost;

/// One row of the sensitivity table: how an uncertain parameter's draws rank with the
/// outcome over the Monte Carlo runs, every parameter varying at once.
#[derive(Debug, Clone, PartialEq)]
pub struct SensitivityRow {
    pub scenario: String,
    pub parameter: String,
    /// [`SENSITIVITY_OUTCOME`] (tables written before it was discounted: cumulative net
    /// cost).
    pub outcome: Metric,
    /// Spearman's rank correlation of the parameter with the outcome.
    pub spearman: f64,
    /// Partial rank correlation: the same with the scenario's other parameters' ranks
    /// regressed out of both. NaN with too few runs (fewer than parameters + 3) to tell.
    pub prcc: f64,
    pub runs: u32,
}

/// One area of `capsim budget`'s table: population, weighted population, budget and
/// spend per head, position and position after risk sharing (means over runs).
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetTableRow {
    pub level: Level,
    pub area: String,
    pub values: [f64; 6],
}

/// (scenario, year, level, area, metric), area and metric as codes into
/// [`Collected`]'s `areas` and `metrics`: rows sort by the names as written.
type Key = (u32, i32, Level, u32, u32);

/// No row (the end of a chain of [`Row::after`]).
const NONE: u32 = u32::MAX;

/// One gathered row: its key and where its values by run are kept in
/// [`Collected::values`]: `room` slots from `start`, the first `filled` of them taken.
#[derive(Debug, Clone, Copy)]
struct Row {
    key: Key,
    start: u64,
    room: u32,
    filled: u32,
    /// The row that followed this one in the last run that had it ([`NONE`] if none).
    after: u32,
}

/// Per-run values of every metric, gathered scenario by scenario, run by run.
///
/// Areas and metric names are kept once each, as codes: a national run has millions of
/// rows but a few thousand names, so a row is a small fixed record (about 40 bytes, and
/// a few for its index) and its values are slots of one shared vector, room for its
/// scenario's runs made when the row is first seen: no allocation per row. Rows are put
/// in the order of their names once, when a table is made. (Real England's five
/// scenarios over ten years gather some 6.7 million rows: as a `Vec` and a hashed key of
/// its own each, they took about 1 GB.)
#[derive(Debug, Default)]
pub struct Collected {
    scenarios: Vec<String>,
    areas: Coded<String>,
    metrics: Coded<Metric>,
    /// The name of each metric's code, as written and sorted by.
    metric_names: Vec<String>,
    /// Every row, in the order first added.
    rows: Vec<Row>,
    /// Per scenario, its rows by key: each entry is a row's position in `rows`, hashed by
    /// its key. A scenario's index is dropped once its last run is added (nothing looks a
    /// row up by key after that), so a national batch, one run a scenario, holds one
    /// scenario's index at a time, not one over every row (which, growing past 6 million
    /// rows, doubled to 84 MB while the old one was still held).
    index: Vec<HashTable<u32>>,
    /// Per scenario: runs added so far.
    added: Vec<usize>,
    /// Every row's values by run (see [`Row`]).
    values: Vec<f64>,
    /// Per scenario: parameter name -> values by run.
    parameters: Vec<BTreeMap<String, Vec<f64>>>,
    /// Per scenario: the runs' discounted cumulative net cost over the horizon, summed over
    /// systems.
    net_cost: Vec<Vec<f64>>,
    /// Per scenario: last year.
    years: Vec<i32>,
    /// Per scenario: Monte Carlo runs, the room each of its rows is given.
    runs: Vec<usize>,
    /// Per scenario, the first row of its last run. Runs of a scenario list nearly the same
    /// rows in the same order, so a row is found by checking the key of the one that came
    /// next last time ([`Row::after`]), without hashing the key; a row one run adds or
    /// leaves out costs a lookup or two.
    first: Vec<u32>,
    /// Per scenario: its group (the scenarios simulated with one counterfactual).
    group: Vec<usize>,
    /// Per scenario: each run's top-level cost, QALYs and population for the incremental
    /// analysis, by run.
    outcomes: Vec<Vec<RunOutcome>>,
}

/// The hash of a row's key in [`Collected::index`].
fn key_hash(key: &Key) -> u64 {
    FixedState::default().hash_one(key)
}

impl Collected {
    /// Gathers the runs of these scenarios, in this order.
    pub fn new(scenarios: &[Scenario]) -> Self {
        let n = scenarios.len();
        Collected {
            years: scenarios.iter().map(|s| s.years as i32).collect(),
            runs: scenarios.iter().map(|s| s.runs as usize).collect(),
            scenarios: scenarios.iter().map(|s| s.name.clone()).collect(),
            parameters: vec![BTreeMap::new(); n],
            net_cost: vec![Vec::new(); n],
            first: vec![NONE; n],
            index: (0..n).map(|_| HashTable::new()).collect(),
            added: vec![0; n],
            group: {
                let mut group = vec![0; n];
                for (g, members) in groups_of(scenarios).iter().enumerate() {
                    members.iter().for_each(|s| group[*s] = g);
                }
                group
            },
            outcomes: vec![Vec::new(); n],
            ..Collected::default()
        }
    }

    /// The code of a metric (one name each).
    fn metric_code(&mut self, metric: &Metric) -> u32 {
        let c = self.metrics.code(metric);
        if c as usize == self.metric_names.len() {
            self.metric_names.push(metric.name());
        }
        c
    }

    /// The row of `key`, if gathered, while its scenario is being added.
    fn find(&self, key: &Key) -> Option<u32> {
        let rows = &self.rows;
        self.index[key.0 as usize]
            .find(key_hash(key), |r| rows[*r as usize].key == *key)
            .copied()
    }

    /// The row of `key`, made (with room for its scenario's runs) if new.
    fn row_of(&mut self, key: Key) -> u32 {
        if let Some(r) = self.find(&key) {
            return r;
        }
        let r = self.rows.len() as u32;
        let room = self.runs[key.0 as usize].max(1);
        self.rows.push(Row {
            key,
            start: self.values.len() as u64,
            room: room as u32,
            filled: 0,
            after: NONE,
        });
        self.values.resize(self.values.len() + room, 0.0);
        let rows = &self.rows;
        self.index[key.0 as usize]
            .insert_unique(key_hash(&key), r, |r| key_hash(&rows[*r as usize].key));
        r
    }

    /// Adds a value to row `r`. A row given more values than its scenario has runs (a
    /// key repeated within a run) moves to new room twice the size.
    fn push_value(&mut self, r: u32, v: f64) {
        let row = &mut self.rows[r as usize];
        if row.filled == row.room {
            let old = row.start as usize..row.start as usize + row.room as usize;
            row.start = self.values.len() as u64;
            row.room *= 2;
            self.values.extend_from_within(old);
            self.values
                .resize(row.start as usize + row.room as usize, 0.0);
        }
        self.values[row.start as usize + row.filled as usize] = v;
        row.filled += 1;
    }

    /// The values of row `r`, in the order added.
    fn values_of(&self, r: u32) -> &[f64] {
        let row = &self.rows[r as usize];
        &self.values[row.start as usize..row.start as usize + row.filled as usize]
    }

    /// Adds one run of scenario `s`. Runs must be added in ascending order.
    pub fn add(&mut self, s: usize, metrics: &Metrics, draws: &[(String, f64)]) {
        if self.added[s] >= self.runs[s] {
            // More runs than the scenario said (its index was dropped): index its rows
            // again.
            let rows = &self.rows;
            let index = &mut self.index[s];
            for r in (0..rows.len() as u32).filter(|r| rows[*r as usize].key.0 == s as u32) {
                index.insert_unique(key_hash(&rows[r as usize].key), r, |r| {
                    key_hash(&rows[*r as usize].key)
                });
            }
        }
        let mut net = 0.0;
        let mut has_net = false;
        let mut previous = NONE;
        // Rows come area by area: the last area's code is reused while the area repeats.
        let mut last_area: Option<(u32, u32)> = None;
        let mut top = TopLevel::default();
        // The code of each of these metrics' names here, by their code there.
        let codes: Vec<u32> = metrics
            .metrics()
            .iter()
            .map(|m| self.metric_code(m))
            .collect();
        for i in 0..metrics.len() {
            let metric = metrics.metric(i);
            let code = codes[metrics.metric_code(i) as usize];
            top.take(
                metrics.year[i],
                self.years[s],
                metrics.level[i],
                metric,
                metrics.value[i],
            );
            let area = match last_area {
                Some((a, c)) if a == metrics.area_code(i) => c,
                _ => {
                    let c = self.areas.code(metrics.area(i));
                    last_area = Some((metrics.area_code(i), c));
                    c
                }
            };
            if metrics.level[i] == Level::System
                && metrics.year[i] == self.years[s]
                && *metric == SENSITIVITY_OUTCOME
            {
                net += metrics.value[i];
                has_net = true;
            }
            let key = (s as u32, metrics.year[i], metrics.level[i], area, code);
            let guess = if previous == NONE {
                self.first[s]
            } else {
                self.rows[previous as usize].after
            };
            // The same metric name in the same place: the same key.
            let row = match self.rows.get(guess as usize) {
                Some(r) if (r.key.0, r.key.1, r.key.2, r.key.3, r.key.4) == key => guess,
                _ => self.row_of(key),
            };
            match previous {
                NONE => self.first[s] = row,
                p => self.rows[p as usize].after = row,
            }
            previous = row;
            self.push_value(row, metrics.value[i]);
        }
        self.outcomes[s].push(top.outcome());
        self.added[s] += 1;
        if self.added[s] >= self.runs[s] {
            self.index[s] = HashTable::new();
        }
        if has_net {
            self.net_cost[s].push(net);
            for (name, v) in draws {
                self.parameters[s].entry(name.clone()).or_default().push(*v);
            }
        }
    }

    /// The rows in key order: scenario, year, level, then area and metric name as written.
    fn sorted(&self) -> Vec<u32> {
        let (area, metric) = (
            code_ranks(&self.areas.values),
            code_ranks(&self.metric_names),
        );
        let mut rows: Vec<u32> = (0..self.rows.len() as u32).collect();
        rows.sort_unstable_by_key(|r| {
            let (s, y, l, a, m) = self.rows[*r as usize].key;
            (s, y, l, area[a as usize], metric[m as usize])
        });
        rows
    }

    /// The summary: per scenario, year, level, area and metric, the mean and centiles,
    /// as columns made on demand ([`SummaryTable`]). The `cost_per_qaly` rows are formed
    /// here, not from per-run values: see [`Collected::icer_rows`]. Takes the gathered
    /// values, which it sorts in place (so call [`Collected::risk`] and the other tables
    /// first).
    pub fn summary(mut self) -> SummaryTable {
        let icer_code = self.metric_code(&Metric::CostPerQaly);
        let sorted = self.sorted();
        let icers = self.icer_rows(&sorted, icer_code);
        // Means in the order the values were added, then each row's values sorted for its
        // centiles; the index is needed no more.
        let means: Vec<f64> = (0..self.rows.len() as u32)
            .into_par_iter()
            .map(|r| {
                let v = self.values_of(r);
                v.iter().sum::<f64>() / v.len() as f64
            })
            .collect();
        self.index.clear();
        self.sort_values();
        let mut lines = Vec::with_capacity(sorted.len() + icers.len());
        let mut at = icers.iter().enumerate().peekable();
        for (i, r) in sorted.into_iter().enumerate() {
            while let Some((k, _)) = at.next_if(|(_, (before, _))| *before == i) {
                lines.push(Line::Icer(k as u32));
            }
            lines.push(Line::Row(r));
        }
        lines.extend(at.map(|(k, _)| Line::Icer(k as u32)));
        SummaryTable {
            lines,
            means,
            icers: icers.into_iter().map(|(_, icer)| icer).collect(),
            collected: self,
        }
    }

    /// Sorts each row's values in place, rows in parallel. Rows of one value (every row
    /// of a single run) are left as they are: no list of rows is made for them.
    fn sort_values(&mut self) {
        let mut order: Vec<(u64, u32, u32)> = self
            .rows
            .iter()
            .filter(|r| r.filled > 1)
            .map(|r| (r.start, r.room, r.filled))
            .collect();
        order.sort_unstable();
        let mut slices: Vec<&mut [f64]> = Vec::with_capacity(order.len());
        let (mut rest, mut at) = (self.values.as_mut_slice(), 0u64);
        for (start, room, filled) in order {
            let (_, tail) = std::mem::take(&mut rest).split_at_mut((start - at) as usize);
            let (mine, tail) = tail.split_at_mut(room as usize);
            slices.push(&mut mine[..filled as usize]);
            (rest, at) = (tail, start + room as u64);
        }
        slices
            .into_par_iter()
            .for_each(|v| v.sort_by(f64::total_cmp));
    }

    /// The ICER of each scenario, year and area above the neighbourhood
    /// ([`crate::accounts::icer`]): in the `mean` column the ratio of the mean discounted
    /// cumulative net cost to the mean discounted cumulative QALYs gained over all runs,
    /// where that ratio means something (otherwise no row: the report names the
    /// quadrant); in the centile columns the ICER's bootstrap centiles. Each comes with the
    /// position in `sorted` it goes before, so rows stay in name order.
    fn icer_rows(&self, sorted: &[u32], code: u32) -> Vec<(usize, IcerLine)> {
        let name = Metric::CostPerQaly.name();
        let key = |r: u32| self.rows[r as usize].key;
        let mut groups: Vec<(usize, usize)> = Vec::new();
        let mut start = 0;
        for i in 1..=sorted.len() {
            let same = |a: Key, b: Key| (a.0, a.1, a.2, a.3) == (b.0, b.1, b.2, b.3);
            if i == sorted.len() || !same(key(sorted[i]), key(sorted[start])) {
                groups.push((start, i));
                start = i;
            }
        }
        groups
            .into_par_iter()
            .filter_map(|(from, to)| {
                let group = &sorted[from..to];
                let (s, y, l, a, _) = key(group[0]);
                if matches!(l, Level::Neighbourhood | Level::Pool) {
                    return None;
                }
                let values = |m: Metric| {
                    group
                        .iter()
                        .find(|r| self.metrics.values[key(**r).4 as usize] == m)
                        .map(|r| self.values_of(*r))
                };
                let cost = values(Metric::DiscountedCumulativeNetCost)?;
                let qalys = values(Metric::DiscountedQalysGained)?;
                let ratio = Icer::of_runs(cost, qalys).ratio()?;
                let area = &self.areas.values[a as usize];
                let hash = name_hash(&format!(
                    "{}|{y}|{}|{area}",
                    self.scenarios[s as usize],
                    l.id()
                ));
                let at = from
                    + group
                        .iter()
                        .take_while(|r| self.metric_names[key(**r).4 as usize] < name)
                        .count();
                Some((
                    at,
                    IcerLine {
                        key: (s, y, l, a, code),
                        stat: Stat::from_centiles(ratio, icer_centiles(cost, qalys, hash)),
                        runs: cost.len() as u32,
                    },
                ))
            })
            .collect()
    }

    /// How much of each area's budget position is systematic and how much is chance, per
    /// formula. The position is taken relative to its system's (position minus budget x
    /// the system's position / budget), so that an overspend the whole system shares is
    /// not blamed on the formula. Over Monte Carlo runs, the mean relative position is what
    /// the formula gets wrong about the area's need (it recurs every run), and the spread
    /// around it is the luck of a small population. `systematic_share` = mean^2 /
    /// (mean^2 + variance), the part of the mean squared relative position that the mean
    /// explains. `mean_position` is the plain position's mean, for reference.
    pub fn risk(&self) -> Vec<RiskRow> {
        let rank = code_ranks(&self.metric_names);
        let key = |r: &u32| self.rows[*r as usize].key;
        let mut out = Vec::new();
        let sorted = self.sorted();
        // The rows of one scenario, year, level and area, in the order of their metrics'
        // names: a sibling metric is found by its name's rank.
        let places = sorted.chunk_by(|a, b| {
            let (a, b) = (key(a), key(b));
            (a.0, a.1, a.2, a.3) == (b.0, b.1, b.2, b.3)
        });
        for group in places {
            let (s, y, l, a, _) = key(&group[0]);
            if matches!(l, Level::System | Level::England) {
                continue;
            }
            let get = |metric: Metric| {
                let code = *self.metrics.codes.get(&metric)?;
                let i = group
                    .binary_search_by_key(&rank[code as usize], |r| rank[key(r).4 as usize])
                    .ok()?;
                Some(self.values_of(group[i]))
            };
            for r in group {
                let Metric::Formula(FormulaMetric::RelativePosition, formula) =
                    &self.metrics.values[key(r).4 as usize]
                else {
                    continue;
                };
                let (Some(budget), Some(people), Some(pos)) = (
                    get(Metric::formula(FormulaMetric::Budget, formula)),
                    get(Metric::Population),
                    get(Metric::formula(FormulaMetric::Position, formula)),
                ) else {
                    continue;
                };
                out.push(risk_row(
                    (
                        &self.scenarios[s as usize],
                        y,
                        l,
                        &self.areas.values[a as usize],
                    ),
                    formula,
                    (self.values_of(*r), budget, people, pos),
                ));
            }
        }
        out
    }

    /// acceptability frontier, EVPI): `accounts::incremental`.
    pub fn incremental(&self) -> Incremental {
        let scenarios: Vec<ScenarioRuns> = (0..self.scenarios.len())
            .map(|s| ScenarioRuns {
                name: &self.scenarios[s],
                group: self.group[s],
                runs: &self.outcomes[s],
            })
            .collect();
        incremental::analyse(&scenarios, &incremental::thresholds())
    }

    /// Sensitivity of each scenario's discounted cumulative net cost to each uncertain
    /// parameter over the Monte Carlo runs: Spearman's rank correlation, and the partial
    /// rank correlation (PRCC) given the scenario's other parameters.
    pub fn sensitivity(&self) -> Vec<SensitivityRow> {
        let mut out = Vec::new();
        for (s, params) in self.parameters.iter().enumerate() {
            let y = &self.net_cost[s];
            let xs: Vec<(&String, &Vec<f64>)> = params
                .iter()
                .filter(|(_, x)| x.len() == y.len() && x.len() >= 3)
                .collect();
            let columns: Vec<&[f64]> = xs.iter().map(|(_, x)| x.as_slice()).collect();
            let partial = prcc(&columns, y);
            for ((name, x), p) in xs.into_iter().zip(partial) {
                out.push(SensitivityRow {
                    scenario: self.scenarios[s].clone(),
                    parameter: name.clone(),
                    outcome: SENSITIVITY_OUTCOME,
                    spearman: spearman(x, y),
                    prcc: p,
                    runs: x.len() as u32,
                });
            }
        }
        out
    }
}

/// A risk row from an area's values by run: relative position, budget, population and
/// position.
fn risk_row(
    (scenario, year, level, area): (&str, i32, Level, &str),
    formula: &str,
    (rel, budget, people, pos): (&[f64], &[f64], &[f64], &[f64]),
) -> RiskRow {
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
    RiskRow {
        scenario: scenario.to_string(),
        year,
        level,
        area: area.to_string(),
        formula: formula.to_string(),
        population: people.iter().sum::<f64>() / n,
        budget: mean_budget,
        mean_position: pos.iter().sum::<f64>() / n,
        systematic: mean,
        chance_sd: var.sqrt(),
        systematic_share: if mean * mean + var > 0.0 {
            mean * mean / (mean * mean + var)
        } else {
            0.0
        },
        chance_sd_share_of_budget: if mean_budget != 0.0 {
            var.sqrt() / mean_budget
        } else {
            0.0
        },
        p_deficit_over_5pct: over,
        runs: rel.len() as u32,
    }
}

/// A line of the summary table: a gathered row, or an ICER row (by its position in
/// [`SummaryTable`]'s ICERs).
#[derive(Debug, Clone, Copy)]
enum Line {
    Row(u32),
    Icer(u32),
}

/// An ICER row of the summary: its key (the metric is `cost_per_qaly`'s name code) and
/// its statistics.
#[derive(Debug, Clone)]
struct IcerLine {
    key: Key,
    stat: Stat,
    runs: u32,
}

/// The summary table ([`Collected::summary`]), its columns made on demand for any range of
/// its rows: text columns as codes into their names, so that a writer holds one column,
/// or a block of rows, at a time, never a row of `String`s (real England's five scenarios
/// over ten years have 6.7 million summary rows).
#[derive(Debug)]
pub struct SummaryTable {
    collected: Collected,
    lines: Vec<Line>,
    /// Each gathered row's mean, over its values in the order they were added.
    means: Vec<f64>,
    icers: Vec<IcerLine>,
}

/// A column of the summary, named as written ([`SummaryTable::column`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryColumn {
    Scenario,
    Year,
    Level,
    Area,
    Metric,
    /// The mean (0) or a centile of [`CENTILES`] (1 to 5).
    Stat(usize),
    Runs,
}

impl SummaryColumn {
    /// Every column, in the order written.
    pub const ALL: [SummaryColumn; 12] = [
        SummaryColumn::Scenario,
        SummaryColumn::Year,
        SummaryColumn::Level,
        SummaryColumn::Area,
        SummaryColumn::Metric,
        SummaryColumn::Stat(0),
        SummaryColumn::Stat(1),
        SummaryColumn::Stat(2),
        SummaryColumn::Stat(3),
        SummaryColumn::Stat(4),
        SummaryColumn::Stat(5),
        SummaryColumn::Runs,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SummaryColumn::Scenario => "scenario",
            SummaryColumn::Year => "year",
            SummaryColumn::Level => "level",
            SummaryColumn::Area => "area",
            SummaryColumn::Metric => "metric",
            SummaryColumn::Stat(0) => "mean",
            SummaryColumn::Stat(k) => CENTILES[k - 1].0,
            SummaryColumn::Runs => "runs",
        }
    }
}

/// The values of one column over a range of the summary's rows.
#[derive(Debug, Clone, PartialEq)]
pub enum SummaryValues<'a> {
    /// Codes into the names (scenario, level, area, metric).
    Text {
        names: Vec<&'a str>,
        codes: Vec<u32>,
    },
    Int(Vec<i32>),
    Float(Vec<f64>),
    Count(Vec<u32>),
}

impl SummaryTable {
    /// Rows of the table.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The key of a line.
    fn key(&self, line: Line) -> Key {
        match line {
            Line::Row(r) => self.collected.rows[r as usize].key,
            Line::Icer(k) => self.icers[k as usize].key,
        }
    }

    /// Statistic `k` of a line: the mean (0) or centile `k - 1` of [`CENTILES`].
    fn stat(&self, line: Line, k: usize) -> f64 {
        match line {
            Line::Row(r) if k == 0 => self.means[r as usize],
            Line::Row(r) => quantile(self.collected.values_of(r), CENTILES[k - 1].1),
            Line::Icer(i) if k == 0 => self.icers[i as usize].stat.mean,
            Line::Icer(i) => self.icers[i as usize].stat.centiles()[k - 1],
        }
    }

    fn runs(&self, line: Line) -> u32 {
        match line {
            Line::Row(r) => self.collected.rows[r as usize].filled,
            Line::Icer(i) => self.icers[i as usize].runs,
        }
    }

    /// Column `column` over rows `rows`.
    pub fn column(&self, column: SummaryColumn, rows: Range<usize>) -> SummaryValues<'_> {
        let lines = &self.lines[rows];
        let c = &self.collected;
        match column {
            SummaryColumn::Scenario => SummaryValues::Text {
                names: c.scenarios.iter().map(String::as_str).collect(),
                codes: lines.iter().map(|l| self.key(*l).0).collect(),
            },
            SummaryColumn::Year => {
                SummaryValues::Int(lines.iter().map(|l| self.key(*l).1).collect())
            }
            SummaryColumn::Level => SummaryValues::Text {
                names: Level::ALL.iter().map(|l| l.id()).collect(),
                codes: lines
                    .iter()
                    .map(|l| self.key(*l).2.index() as u32)
                    .collect(),
            },
            SummaryColumn::Area => SummaryValues::Text {
                names: c.areas.values.iter().map(String::as_str).collect(),
                codes: lines.iter().map(|l| self.key(*l).3).collect(),
            },
            SummaryColumn::Metric => SummaryValues::Text {
                names: c.metric_names.iter().map(String::as_str).collect(),
                codes: lines.iter().map(|l| self.key(*l).4).collect(),
            },
            SummaryColumn::Stat(k) => {
                SummaryValues::Float(lines.par_iter().map(|l| self.stat(*l, k)).collect())
            }
            SummaryColumn::Runs => {
                SummaryValues::Count(lines.iter().map(|l| self.runs(*l)).collect())
            }
        }
    }

    /// Rows `rows` of the table as typed rows (for tests and small tables: each row
    /// copies its names).
    pub fn rows(&self, rows: Range<usize>) -> Vec<SummaryRow> {
        let c = &self.collected;
        self.lines[rows]
            .iter()
            .map(|l| {
                let (s, year, level, a, m) = self.key(*l);
                SummaryRow {
                    scenario: c.scenarios[s as usize].clone(),
                    year,
                    level,
                    area: c.areas.values[a as usize].clone(),
                    metric: match l {
                        Line::Row(_) => c.metrics.values[m as usize].clone(),
                        Line::Icer(_) => Metric::CostPerQaly,
                    },
                    stat: Stat::from_centiles(
                        self.stat(*l, 0),
                        std::array::from_fn(|k| self.stat(*l, k + 1)),
                    ),
                    runs: self.runs(*l),
                }
            })
            .collect()
    }
}

/// The [`CENTILES`] of an ICER's bootstrap ([`bootstrap`]); between +infinity and a
/// finite ratio a centile is +infinity, not NaN.
fn icer_centiles(cost: &[f64], qalys: &[f64], key: u64) -> [f64; 5] {
    let sorted = bootstrap(cost, qalys, key);
    CENTILES.map(|(_, p)| {
        let v = quantile(&sorted, p);
        if v.is_nan() && !sorted.is_empty() {
            f64::INFINITY
        } else {
            v
        }
    })
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

/// Pearson's correlation; NaN when either side is constant.
fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..x.len() {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    sxy / (sxx * syy).sqrt()
}

/// Partial rank correlation coefficients of each column of `xs` with `y`, each given the
/// other columns: from the inverse `P` of the correlation matrix of the ranks of
/// (x_1..x_k, y), `-P[j][y] / sqrt(P[j][j] P[y][y])` (Marino et al., J Theor Biol 2008).
/// NaN for every column when the runs cannot tell them apart: fewer than k + 3 runs, a
/// constant side, or ranks that are linearly dependent.
pub fn prcc(xs: &[&[f64]], y: &[f64]) -> Vec<f64> {
    let k = xs.len();
    let nan = vec![f64::NAN; k];
    if y.len() < k + 3 {
        return nan;
    }
    let ranked: Vec<Vec<f64>> = xs.iter().map(|x| ranks(x)).chain([ranks(y)]).collect();
    let m = k + 1;
    let mut a = vec![vec![0.0; 2 * m]; m];
    for i in 0..m {
        for j in 0..m {
            a[i][j] = if i == j {
                1.0
            } else {
                pearson(&ranked[i], &ranked[j])
            };
        }
        a[i][m + i] = 1.0;
    }
    if a.iter().flatten().any(|v| !v.is_finite()) {
        return nan;
    }
    // Gauss-Jordan with partial pivoting.
    for c in 0..m {
        let p = (c..m)
            .max_by(|i, j| a[*i][c].abs().total_cmp(&a[*j][c].abs()))
            .expect("rows");
        if a[p][c].abs() < 1e-12 {
            return nan;
        }
        a.swap(c, p);
        let d = a[c][c];
        a[c].iter_mut().for_each(|v| *v /= d);
        for r in (0..m).filter(|r| *r != c) {
            let f = a[r][c];
            if f != 0.0 {
                for j in 0..2 * m {
                    a[r][j] -= f * a[c][j];
                }
            }
        }
    }
    let inv = |i: usize, j: usize| a[i][m + j];
    (0..k)
        .map(|j| -inv(j, k) / (inv(j, j) * inv(k, k)).sqrt())
        .collect()
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

    /// Runs that add or leave out rows still put every value in its own row: the guess
    /// from the last run's order is checked, never trusted.
    #[test]
    fn runs_with_other_rows_are_gathered_by_key() {
        let scenario = Scenario::bundled_baseline().unwrap();
        let mut c = Collected::new(std::slice::from_ref(&scenario));
        let run = |rows: &[(&str, Metric, f64)]| {
            let mut m = Metrics::default();
            for (area, metric, v) in rows {
                m.push(1, Level::Neighbourhood, area, metric.clone(), *v);
            }
            m
        };
        let (x, y, z) = (Metric::Population, Metric::Births, Metric::Deaths);
        c.add(
            0,
            &run(&[
                ("a", x.clone(), 1.0),
                ("a", y.clone(), 2.0),
                ("b", z.clone(), 3.0),
            ]),
            &[],
        );
        c.add(
            0,
            &run(&[
                ("a", x.clone(), 10.0),
                ("a", z.clone(), 5.0),
                ("a", y.clone(), 20.0),
                ("b", z.clone(), 30.0),
            ]),
            &[],
        );
        c.add(
            0,
            &run(&[("b", z.clone(), 300.0), ("a", x.clone(), 100.0)]),
            &[],
        );
        let summary = c.summary();
        let got: Vec<(String, String, f64, u32)> = summary
            .rows(0..summary.len())
            .into_iter()
            .map(|r| (r.area, r.metric.name(), r.stat.mean, r.runs))
            .collect();
        let want = [
            ("a", "births", 11.0, 2),
            ("a", "deaths", 5.0, 1),
            ("a", "population", 37.0, 3),
            ("b", "deaths", 111.0, 3),
        ];
        assert_eq!(got.len(), want.len(), "{got:?}");
        for (g, w) in got.iter().zip(want) {
            assert_eq!((g.0.as_str(), g.1.as_str(), g.2, g.3), w);
        }
    }

    /// A scenario's index of rows is dropped once its last run is in; a run beyond those
    /// it declared indexes its rows again and is still gathered by key, not as new rows.
    #[test]
    fn a_run_beyond_those_declared_is_gathered_by_key() {
        let mut scenario = Scenario::bundled_baseline().unwrap();
        scenario.runs = 1;
        let mut c = Collected::new(std::slice::from_ref(&scenario));
        let run = |v: f64| {
            let mut m = Metrics::default();
            m.push(1, Level::Neighbourhood, "a", Metric::Population, v);
            m.push(1, Level::Neighbourhood, "b", Metric::Births, 2.0 * v);
            m
        };
        c.add(0, &run(1.0), &[]);
        assert!(c.index[0].is_empty(), "dropped after the declared run");
        c.add(0, &run(3.0), &[]);
        let summary = c.summary();
        let got: Vec<(String, f64, u32)> = summary
            .rows(0..summary.len())
            .into_iter()
            .map(|r| (r.area, r.stat.mean, r.runs))
            .collect();
        assert_eq!(got, vec![("a".into(), 2.0, 2), ("b".into(), 4.0, 2)]);
    }

    /// A key a run lists twice (so a row with more values than the scenario has runs)
    /// keeps every value: its row moves to more room, and rows after it keep theirs.
    #[test]
    fn a_key_repeated_within_a_run_keeps_every_value() {
        let scenario = Scenario::bundled_baseline().unwrap();
        let mut c = Collected::new(std::slice::from_ref(&scenario));
        let runs = scenario.runs as usize;
        let mut m = Metrics::default();
        for k in 0..=runs {
            m.push(1, Level::Neighbourhood, "a", Metric::Population, k as f64);
        }
        m.push(1, Level::Neighbourhood, "b", Metric::Births, 7.0);
        c.add(0, &m, &[]);
        let summary = c.summary();
        let rows = summary.rows(0..summary.len());
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].area.as_str(), rows[0].runs),
            ("a", runs as u32 + 1)
        );
        assert_eq!(rows[0].stat.mean, runs as f64 / 2.0);
        assert_eq!(rows[0].stat.p50, runs as f64 / 2.0);
        assert_eq!((rows[1].area.as_str(), rows[1].stat.mean), ("b", 7.0));
        // The columns say what the rows say.
        let SummaryValues::Float(p95) = summary.column(SummaryColumn::Stat(5), 0..2) else {
            panic!("centiles are numbers")
        };
        assert_eq!(p95, vec![rows[0].stat.p95, rows[1].stat.p95]);
    }

    /// PRCC against a hand-checkable case: y rises with x1 and falls with x2 exactly,
    /// so each partial correlation is +-1 while Spearman's sees both blurred by the other.
    #[test]
    fn prcc_separates_parameters_that_vary_together() {
        let x1: Vec<f64> = (0..40).map(|i| ((i * 7) % 40) as f64).collect();
        let x2: Vec<f64> = (0..40).map(|i| ((i * 13) % 40) as f64).collect();
        let y: Vec<f64> = x1.iter().zip(&x2).map(|(a, b)| a - b).collect();
        let p = prcc(&[&x1, &x2], &y);
        // Ranks of a linear function are not exactly linear in the ranks; near +-1.
        assert!(p[0] > 0.95 && p[1] < -0.95, "{p:?}");
        assert!(spearman(&x1, &y) < p[0]);
        // A third, irrelevant column: its partial correlation is small.
        let x3: Vec<f64> = (0..40).map(|i| ((i * 11) % 40) as f64).collect();
        let p = prcc(&[&x1, &x2, &x3], &y);
        assert!(p[2].abs() < 0.3, "{p:?}");
        // Too few runs to tell: NaN.
        assert!(prcc(&[&x1[..4], &x2[..4]], &y[..4])[0].is_nan());
    }

    #[test]
    fn ties_share_ranks() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0]), vec![2.5, 1.0, 2.5]);
    }
}
