//! Which option to fund: the incremental analysis across mutually exclusive options that a
//! health economist expects, from the Monte Carlo runs.
//!
//! The options are the comparator (no interventions: incremental cost and QALYs 0 in every
//! run) and each intervention scenario simulated against the same counterfactual. Per
//! option and run, `C` is the discounted cumulative incremental cost and `E` the discounted
//! QALYs gained, both over the whole model horizon at the top level (England, or the sum of
//! the systems), so every money figure here is discounted over the model horizon.
//!
//! - **Efficiency frontier** ([`frontier`]), as dampack's `calculate_icers`
//!   (DARTH-git/dampack `R/icers.R`): options sorted by mean cost (then by mean QALYs,
//!   highest first); an option is *dominated* when an option before it is no less
//!   effective (so it costs at least as much for no more health); of the rest, an option is
//!   *extended dominated* when its ICER exceeds the next option's, removed and the ICERs
//!   recomputed until none is. The frontier's cheapest option is the *reference*; each
//!   other frontier option has its ICER against the frontier option before it. ICERs are
//!   ratios of means over runs, never means of ratios.
//! - **Net monetary benefit** at a threshold λ (pounds per QALY): λE − C, per run.
//! - **Acceptability frontier** ([`acceptability`]), as dampack's `ceac` (`R/ceac.R`: the
//!   strategy with the highest expected net benefit is "on the frontier") and Fenwick,
//!   Claxton and Sculpher (2001): at each λ, the option with the highest *mean* net benefit,
//!   and the share of runs in which it has the highest net benefit. Every option's share of
//!   runs being best (BCEA's `p_best_interv`, `multi.ce`) is given too. BCEA's
//!   `compute_ceaf` takes instead the largest of those shares, which can belong to an
//!   option a board should not fund (likely best, but worse on average): not used here.
//!   Ties go to the option listed first (R's `max.col` breaks them at random).
//! - **Expected value of perfect information**, as dampack's `calc_evpi` (`R/evpi.R`: the
//!   smallest mean opportunity loss) and BCEA's `compute_EVI` (mean of `U*` less the best
//!   mean `U`): the mean over runs of the best net benefit in each run, less the best mean
//!   net benefit. With `C` and `E` totals for the population over the horizon, that is the
//!   population EVPI over the horizon (discounted); divided by the population (year 1), per
//!   person.

use crate::accounts::metric::Metric;
use crate::core::level::Level;

/// An option's per-run discounted incremental cost and QALYs, runs aligned by index with
/// every other option's (common random numbers).
#[derive(Debug, Clone, PartialEq)]
pub struct OptionRuns {
    pub name: String,
    pub cost: Vec<f64>,
    pub qalys: Vec<f64>,
}

impl OptionRuns {
    /// The comparator: no interventions, so nothing incremental in any of `runs` runs.
    pub fn comparator(name: &str, runs: usize) -> Self {
        OptionRuns {
            name: name.to_string(),
            cost: vec![0.0; runs],
            qalys: vec![0.0; runs],
        }
    }

    fn mean_cost(&self) -> f64 {
        mean(&self.cost)
    }

    fn mean_qalys(&self) -> f64 {
        mean(&self.qalys)
    }
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

crate::labelled_enum! {
    /// Where an option stands against the efficiency frontier.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub enum Status {
        /// The frontier's cheapest option, which the first ICER is against.
        Reference => "reference",
        /// On the frontier, with its ICER against the frontier option before it.
        NonDominated => "non-dominated",
        /// Off the frontier: a mix of two frontier options gives more health for the cost.
        ExtendedDominated => "extended dominated",
        /// Off the frontier: another option costs no more and gives no less health.
        Dominated => "dominated",
        /// Not an option of this comparison (another population, horizon or number of
        /// runs); its note says why.
        Excluded => "excluded",
    }
}

/// One option in the frontier table.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontierRow {
    pub option: String,
    pub mean_cost: f64,
    pub mean_qalys: f64,
    /// Against the frontier option before it (frontier options after the reference only).
    pub incremental_cost: Option<f64>,
    pub incremental_qalys: Option<f64>,
    /// Incremental cost over incremental QALYs, pounds per QALY.
    pub icer: Option<f64>,
    pub status: Status,
    /// In words: what it is compared with, what dominates it, or why it is left out.
    pub note: String,
    pub runs: u32,
}

impl FrontierRow {
    /// The reference or a non-dominated option.
    pub fn on_frontier(&self) -> bool {
        matches!(self.status, Status::Reference | Status::NonDominated)
    }
}

/// The efficiency frontier of options with these mean costs and QALYs (dampack's
/// `calculate_icers`), rows in the frontier's order (reference, non-dominated by cost),
/// then the extended dominated and the dominated, each by cost.
pub fn frontier(options: &[OptionRuns]) -> Vec<FrontierRow> {
    let n = options.len();
    let (cost, qalys): (Vec<f64>, Vec<f64>) = options
        .iter()
        .map(|o| (o.mean_cost(), o.mean_qalys()))
        .unzip();
    // By cost, then the more effective first; ties kept in input order.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| {
        cost[*a]
            .total_cmp(&cost[*b])
            .then(qalys[*b].total_cmp(&qalys[*a]))
    });
    let mut status: Vec<Option<Status>> = vec![None; n];
    let mut dominated_by: Vec<Option<usize>> = vec![None; n];
    for (k, &j) in order.iter().enumerate() {
        // The first option before it, in cost order, that is at least as effective.
        if let Some(&i) = order[..k].iter().find(|&&i| qalys[j] <= qalys[i]) {
            status[j] = Some(Status::Dominated);
            dominated_by[j] = Some(i);
        }
    }
    let mut front: Vec<usize> = order
        .iter()
        .copied()
        .filter(|i| status[*i].is_none())
        .collect();
    let icers = |front: &[usize]| -> Vec<f64> {
        let mut v = vec![f64::NAN; front.len()];
        for k in 1..front.len() {
            let (a, b) = (front[k - 1], front[k]);
            v[k] = (cost[b] - cost[a]) / (qalys[b] - qalys[a]);
        }
        v
    };
    // Extended dominance, repeated until no frontier option's ICER exceeds the next one's.
    let mut between: Vec<Option<(usize, usize)>> = vec![None; n];
    loop {
        let icer = icers(&front);
        let out: Vec<usize> = (1..front.len().saturating_sub(1))
            .filter(|k| icer[*k] > icer[k + 1])
            .collect();
        if out.is_empty() {
            break;
        }
        for k in &out {
            status[front[*k]] = Some(Status::ExtendedDominated);
            between[front[*k]] = Some((front[k - 1], front[k + 1]));
        }
        front.retain(|i| status[*i].is_none());
    }
    let icer = icers(&front);
    let runs = |i: usize| options[i].cost.len() as u32;
    let mut rows = Vec::with_capacity(n);
    for (k, &i) in front.iter().enumerate() {
        let mut row = FrontierRow {
            option: options[i].name.clone(),
            mean_cost: cost[i],
            mean_qalys: qalys[i],
            incremental_cost: None,
            incremental_qalys: None,
            icer: None,
            status: Status::Reference,
            note: "the frontier's cheapest option".into(),
            runs: runs(i),
        };
        if k > 0 {
            let p = front[k - 1];
            row.incremental_cost = Some(cost[i] - cost[p]);
            row.incremental_qalys = Some(qalys[i] - qalys[p]);
            row.icer = Some(icer[k]);
            row.status = Status::NonDominated;
            row.note = format!("against {}", options[p].name);
        }
        rows.push(row);
    }
    for wanted in [Status::ExtendedDominated, Status::Dominated] {
        for &i in order.iter().filter(|i| status[**i] == Some(wanted)) {
            let note = match wanted {
                Status::Dominated => {
                    let by = dominated_by[i].expect("a dominated option names its dominator");
                    format!(
                        "{} costs no more and gains no fewer QALYs",
                        options[by].name
                    )
                }
                _ => {
                    let (a, b) = between[i].expect("an extended dominated option lies between two");
                    format!(
                        "a mix of {} and {} gains more QALYs for the cost",
                        options[a].name, options[b].name
                    )
                }
            };
            rows.push(FrontierRow {
                option: options[i].name.clone(),
                mean_cost: cost[i],
                mean_qalys: qalys[i],
                incremental_cost: None,
                incremental_qalys: None,
                icer: None,
                status: wanted,
                note,
                runs: runs(i),
            });
        }
    }
    rows
}

/// Thresholds (pounds per QALY) the acceptability frontier is computed at: £0 to £100,000
/// by £1,000, which holds NICE's £20,000 and £30,000.
pub fn thresholds() -> Vec<f64> {
    (0..=100).map(|k| 1000.0 * k as f64).collect()
}

/// The acceptability frontier and the value of information at one threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct CeafPoint {
    /// Pounds per QALY.
    pub threshold: f64,
    /// Index of the option with the highest mean net benefit.
    pub best: usize,
    /// Per option: the share of runs in which it has the highest net benefit.
    pub prob_best: Vec<f64>,
    /// Per option: its mean net benefit over runs (λ mean E − mean C).
    pub mean_nmb: Vec<f64>,
    /// Expected value of perfect information for the population over the horizon
    /// (discounted), pounds.
    pub evpi: f64,
    /// The same per person of the population in year 1.
    pub evpi_per_person: f64,
    pub runs: u32,
}

/// The index of the largest value, the first of equal ones.
fn first_max(v: impl Iterator<Item = f64>) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (i, x) in v.enumerate() {
        if x > best.1 {
            best = (i, x);
        }
    }
    best.0
}

/// The acceptability frontier and EVPI at each threshold, from options whose runs are
/// aligned by index (every option has the same number of runs), for a population of
/// `population` people.
pub fn acceptability(
    options: &[OptionRuns],
    population: f64,
    thresholds: &[f64],
) -> Vec<CeafPoint> {
    let runs = options.first().map_or(0, |o| o.cost.len());
    assert!(
        options
            .iter()
            .all(|o| o.cost.len() == runs && o.qalys.len() == runs),
        "options are compared run by run"
    );
    if options.is_empty() || runs == 0 {
        return Vec::new();
    }
    let n = runs as f64;
    let (mean_cost, mean_qalys): (Vec<f64>, Vec<f64>) = options
        .iter()
        .map(|o| (o.mean_cost(), o.mean_qalys()))
        .unzip();
    thresholds
        .iter()
        .map(|&lambda| {
            let nmb = |i: usize, r: usize| lambda * options[i].qalys[r] - options[i].cost[r];
            let mut wins = vec![0usize; options.len()];
            let mut best_each_run = 0.0;
            for r in 0..runs {
                let b = first_max((0..options.len()).map(|i| nmb(i, r)));
                wins[b] += 1;
                best_each_run += nmb(b, r);
            }
            let mean_nmb: Vec<f64> = (0..options.len())
                .map(|i| lambda * mean_qalys[i] - mean_cost[i])
                .collect();
            let best = first_max(mean_nmb.iter().copied());
            // Never below zero but for rounding.
            let evpi = (best_each_run / n - mean_nmb[best]).max(0.0);
            CeafPoint {
                threshold: lambda,
                best,
                prob_best: wins.iter().map(|w| *w as f64 / n).collect(),
                mean_nmb,
                evpi,
                evpi_per_person: if population > 0.0 {
                    evpi / population
                } else {
                    f64::NAN
                },
                runs: runs as u32,
            }
        })
        .collect()
}

/// One row of the `ceaf` table (long: one row per threshold and option).
#[derive(Debug, Clone, PartialEq)]
pub struct CeafRow {
    pub threshold: f64,
    /// The option with the highest mean net benefit at this threshold.
    pub best_option: String,
    /// The share of runs in which `best_option` has the highest net benefit.
    pub prob_best: f64,
    pub evpi_per_person: f64,
    /// Over the horizon, discounted.
    pub evpi_population: f64,
    pub option: String,
    /// The share of runs in which `option` has the highest net benefit.
    pub option_prob_best: f64,
    pub option_mean_nmb: f64,
    pub runs: u32,
}

/// The frontier table and the acceptability table of one comparison.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Incremental {
    pub frontier: Vec<FrontierRow>,
    pub ceaf: Vec<CeafRow>,
}

/// One Monte Carlo run of a scenario as the comparison reads it: at the top level, the
/// last year's discounted cumulative incremental cost and discounted QALYs gained (absent
/// for a scenario without interventions), and the first year's population.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RunOutcome {
    pub cost: Option<f64>,
    pub qalys: Option<f64>,
    pub population: Option<f64>,
}

/// One run's [`RunOutcome`] gathered from its metric rows: the systems' values summed, or
/// England's where the run has that level.
#[derive(Debug, Clone, Copy, Default)]
pub struct TopLevel {
    /// Cost, QALYs and population, summed over systems.
    systems: [Option<f64>; 3],
    /// The same for England.
    england: [Option<f64>; 3],
}

impl TopLevel {
    /// Takes one metric row of a run whose last year is `last`, keeping what the
    /// comparison reads.
    pub fn take(&mut self, year: i32, last: i32, level: Level, metric: &Metric, value: f64) {
        let slot = match metric {
            Metric::DiscountedCumulativeNetCost if year == last => 0,
            Metric::DiscountedQalysGained if year == last => 1,
            Metric::Population if year == 1 => 2,
            _ => return,
        };
        match level {
            Level::System => *self.systems[slot].get_or_insert(0.0) += value,
            Level::England => self.england[slot] = Some(value),
            _ => {}
        }
    }

    pub fn outcome(&self) -> RunOutcome {
        let top = if self.england.iter().any(Option::is_some) {
            self.england
        } else {
            self.systems
        };
        RunOutcome {
            cost: top[0],
            qalys: top[1],
            population: top[2],
        }
    }
}

/// A scenario of a batch, for the comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioRuns<'a> {
    pub name: &'a str,
    /// The group of scenarios simulated with one counterfactual (same population, horizon,
    /// seed and settings: `config::batch::groups_of`).
    pub group: usize,
    /// Its runs in ascending order.
    pub runs: &'a [RunOutcome],
}

/// The name of the comparator when no scenario of the comparison is without interventions.
pub const COUNTERFACTUAL: &str = "counterfactual";

/// The incremental analysis of a batch's scenarios. The options are the scenarios
/// simulated with the first one (its group: the same counterfactual, so runs align by
/// index) with as many runs; the first without interventions is the comparator (or, with
/// none, the [`COUNTERFACTUAL`]); the others are listed as excluded with the reason.
pub fn analyse(scenarios: &[ScenarioRuns], thresholds: &[f64]) -> Incremental {
    let Some(first) = scenarios.first() else {
        return Incremental::default();
    };
    let runs = first.runs.len();
    let mut options: Vec<OptionRuns> = Vec::new();
    let mut excluded: Vec<(String, String, Option<&[RunOutcome]>)> = Vec::new();
    let mut comparator: Option<&str> = None;
    for s in scenarios {
        let reason = if s.group != first.group {
            Some(format!(
                "simulated on another population, horizon, seed or settings than {}, so not against the same counterfactual",
                first.name
            ))
        } else if s.runs.len() != runs {
            Some(format!(
                "{} runs where {} has {runs}: options are compared run by run",
                s.runs.len(),
                first.name
            ))
        } else {
            None
        };
        if let Some(reason) = reason {
            excluded.push((s.name.to_string(), reason, Some(s.runs)));
            continue;
        }
        let values: Option<(Vec<f64>, Vec<f64>)> = s
            .runs
            .iter()
            .map(|r| Some((r.cost?, r.qalys?)))
            .collect::<Option<Vec<_>>>()
            .map(|v| v.into_iter().unzip());
        match (values, comparator) {
            (Some((cost, qalys)), _) if runs > 0 => options.push(OptionRuns {
                name: s.name.to_string(),
                cost,
                qalys,
            }),
            (_, None) => {
                comparator = Some(s.name);
                options.insert(0, OptionRuns::comparator(s.name, runs));
            }
            (_, Some(c)) => excluded.push((
                s.name.to_string(),
                format!("no interventions (or runs without its costs): the same as {c}"),
                None,
            )),
        }
    }
    if comparator.is_none() {
        options.insert(0, OptionRuns::comparator(COUNTERFACTUAL, runs));
    }
    let population = mean(
        &first
            .runs
            .iter()
            .filter_map(|r| r.population)
            .collect::<Vec<_>>(),
    );
    let mut frontier_rows = frontier(&options);
    for (name, note, runs) in excluded {
        let of = |f: fn(&RunOutcome) -> Option<f64>| {
            runs.and_then(|r| r.iter().map(f).collect::<Option<Vec<f64>>>())
                .filter(|v| !v.is_empty())
                .map_or(f64::NAN, |v| mean(&v))
        };
        frontier_rows.push(FrontierRow {
            option: name,
            mean_cost: of(|r| r.cost),
            mean_qalys: of(|r| r.qalys),
            incremental_cost: None,
            incremental_qalys: None,
            icer: None,
            status: Status::Excluded,
            note,
            runs: runs.map_or(0, |r| r.len() as u32),
        });
    }
    let mut ceaf = Vec::new();
    for p in acceptability(&options, population, thresholds) {
        for (i, o) in options.iter().enumerate() {
            ceaf.push(CeafRow {
                threshold: p.threshold,
                best_option: options[p.best].name.clone(),
                prob_best: p.prob_best[p.best],
                evpi_per_person: p.evpi_per_person,
                evpi_population: p.evpi,
                option: o.name.clone(),
                option_prob_best: p.prob_best[i],
                option_mean_nmb: p.mean_nmb[i],
                runs: p.runs,
            });
        }
    }
    Incremental {
        frontier: frontier_rows,
        ceaf,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Options of one run each: the means are the values.
    fn deterministic(points: &[(&str, f64, f64)]) -> Vec<OptionRuns> {
        points
            .iter()
            .map(|(n, c, e)| OptionRuns {
                name: n.to_string(),
                cost: vec![*c],
                qalys: vec![*e],
            })
            .collect()
    }

    fn statuses(rows: &[FrontierRow]) -> Vec<(&str, Status, Option<f64>)> {
        rows.iter()
            .map(|r| (r.option.as_str(), r.status, r.icer))
            .collect()
    }

    /// A hand-made case of four options. In cost order A (0, 0), B (100, 1), C (300, 1.5),
    /// D (400, 3): the ICERs are B 100, C 400, D 66.7, so C's exceeds D's and C is extended
    /// dominated (half of B and half of D cost 250 for 2 QALYs, more than C's 1.5); then D
    /// against B is 300 / 2 = 150.
    #[test]
    fn extended_dominance_on_a_hand_made_four_option_case() {
        let rows = frontier(&deterministic(&[
            ("C", 300.0, 1.5),
            ("A", 0.0, 0.0),
            ("D", 400.0, 3.0),
            ("B", 100.0, 1.0),
        ]));
        assert_eq!(
            statuses(&rows),
            vec![
                ("A", Status::Reference, None),
                ("B", Status::NonDominated, Some(100.0)),
                ("D", Status::NonDominated, Some(150.0)),
                ("C", Status::ExtendedDominated, None),
            ]
        );
        assert_eq!(rows[2].incremental_cost, Some(300.0));
        assert_eq!(rows[2].incremental_qalys, Some(2.0));
        assert_eq!(rows[2].note, "against B");
        assert_eq!(
            rows[3].note,
            "a mix of B and D gains more QALYs for the cost"
        );
        assert!(rows[..3].iter().all(FrontierRow::on_frontier) && !rows[3].on_frontier());
    }

    /// dampack's own test of `calculate_icers` (tests/testthat/test_calculate_icers.R, the
    /// HERC example): the same statuses, increments and ICERs, in its order.
    #[test]
    fn matches_dampacks_worked_example() {
        let rows = frontier(&deterministic(&[
            ("E", 55000.0, 5.0),
            ("D", 35000.0, 4.0),
            ("C", 25000.0, 3.0),
            ("B", 10000.0, 2.0),
            ("A", 12000.0, 1.5),
            ("UC", 5000.0, 1.0),
        ]));
        assert_eq!(
            statuses(&rows),
            vec![
                ("UC", Status::Reference, None),
                ("B", Status::NonDominated, Some(5000.0)),
                ("D", Status::NonDominated, Some(12500.0)),
                ("E", Status::NonDominated, Some(20000.0)),
                ("C", Status::ExtendedDominated, None),
                ("A", Status::Dominated, None),
            ]
        );
        let inc: Vec<(Option<f64>, Option<f64>)> = rows
            .iter()
            .map(|r| (r.incremental_cost, r.incremental_qalys))
            .collect();
        assert_eq!(
            inc[..4],
            [
                (None, None),
                (Some(5000.0), Some(1.0)),
                (Some(25000.0), Some(2.0)),
                (Some(20000.0), Some(1.0))
            ]
        );
        assert_eq!(rows[5].note, "B costs no more and gains no fewer QALYs");
    }

    /// Removing one extended dominated option can expose another: repeated until none is.
    /// A (0, 0), B (1, 1), C (3, 2), D (6, 3), E (7, 10): ICERs 1, 2, 3, 1/7, so D goes;
    /// then E against C is 0.5 < 2, so C goes; then E against B is 2/3 < 1, so B goes.
    #[test]
    fn extended_dominance_is_repeated_until_none_is_left() {
        let rows = frontier(&deterministic(&[
            ("A", 0.0, 0.0),
            ("B", 1.0, 1.0),
            ("C", 3.0, 2.0),
            ("D", 6.0, 3.0),
            ("E", 7.0, 10.0),
        ]));
        assert_eq!(
            statuses(&rows),
            vec![
                ("A", Status::Reference, None),
                ("E", Status::NonDominated, Some(0.7)),
                ("B", Status::ExtendedDominated, None),
                ("C", Status::ExtendedDominated, None),
                ("D", Status::ExtendedDominated, None),
            ]
        );
    }

    /// A cost-saving, health-gaining option dominates the comparator, and becomes the
    /// reference; equal means are dominated by the one listed first.
    #[test]
    fn a_cost_saving_option_is_the_reference() {
        let rows = frontier(&deterministic(&[
            ("none", 0.0, 0.0),
            ("saver", -50.0, 1.0),
            ("twin", -50.0, 1.0),
            ("costly", 10.0, 0.0),
        ]));
        assert_eq!(
            statuses(&rows),
            vec![
                ("saver", Status::Reference, None),
                ("twin", Status::Dominated, None),
                ("none", Status::Dominated, None),
                ("costly", Status::Dominated, None),
            ]
        );
    }

    /// ICERs are ratios of means: runs (cost, QALYs) (100, 1) and (100, 3) give 200 / 4 =
    /// 50 per QALY; the mean of the runs' ratios would be 66.7.
    #[test]
    fn icers_are_ratios_of_means() {
        let options = vec![
            OptionRuns::comparator("none", 2),
            OptionRuns {
                name: "x".into(),
                cost: vec![100.0, 100.0],
                qalys: vec![1.0, 3.0],
            },
        ];
        assert_eq!(frontier(&options)[1].icer, Some(50.0));
    }

    /// EVPI and the acceptability frontier by hand. Option B, three runs (cost, QALYs):
    /// (100, 1), (300, 1), (200, 2); the comparator A is 0. At £200 per QALY B's net
    /// benefits are 100, -100, 200 (mean 66.67 > 0, so B is best, best in 2 of 3 runs); the
    /// best of each run is 100, 0, 200 (mean 100), so EVPI = 100 - 66.67 = 33.33, or 3.33 a
    /// person of 10. At £0, A is best in every run and EVPI is 0.
    #[test]
    fn evpi_and_the_acceptability_frontier_by_hand() {
        let options = vec![
            OptionRuns::comparator("A", 3),
            OptionRuns {
                name: "B".into(),
                cost: vec![100.0, 300.0, 200.0],
                qalys: vec![1.0, 1.0, 2.0],
            },
        ];
        let p = acceptability(&options, 10.0, &[0.0, 200.0]);
        assert_eq!(p[0].best, 0);
        assert_eq!(p[0].prob_best, vec![1.0, 0.0]);
        assert_eq!(p[0].evpi, 0.0);
        assert_eq!(p[1].best, 1);
        assert_eq!(p[1].prob_best, vec![1.0 / 3.0, 2.0 / 3.0]);
        assert!((p[1].mean_nmb[1] - 200.0 / 3.0).abs() < 1e-9);
        assert!((p[1].evpi - 100.0 / 3.0).abs() < 1e-9, "{}", p[1].evpi);
        assert!((p[1].evpi_per_person - 10.0 / 3.0).abs() < 1e-9);
        assert_eq!(p[1].runs, 3);
    }

    /// The frontier option is the one best on average, not the one most often best: B
    /// beats A by 1 in two runs and loses by 10 in the third (mean -2.67), so A is on the
    /// frontier though best in only a third of runs (BCEA's `compute_ceaf`, the largest
    /// share, would report B's two thirds). EVPI = (1 + 1 + 0) / 3 - 0.
    #[test]
    fn the_frontier_option_is_best_on_average_not_most_often() {
        let options = vec![
            OptionRuns::comparator("A", 3),
            OptionRuns {
                name: "B".into(),
                cost: vec![-1.0, -1.0, 10.0],
                qalys: vec![0.0; 3],
            },
        ];
        let p = &acceptability(&options, 1.0, &[20000.0])[0];
        assert_eq!(p.best, 0);
        assert_eq!(p.prob_best, vec![1.0 / 3.0, 2.0 / 3.0]);
        assert!((p.evpi - 2.0 / 3.0).abs() < 1e-12);
    }

    /// At every threshold the option with the highest mean net benefit is on the
    /// efficiency frontier, and the frontier's ICERs are where it changes hands.
    #[test]
    fn the_best_option_at_each_threshold_is_on_the_efficiency_frontier() {
        let options = deterministic(&[
            ("C", 300.0, 1.5),
            ("A", 0.0, 0.0),
            ("D", 400.0, 3.0),
            ("B", 100.0, 1.0),
        ]);
        let rows = frontier(&options);
        let grid: Vec<f64> = (0..=60).map(|k| 5.0 * k as f64).collect();
        for p in acceptability(&options, 1.0, &grid) {
            let name = &options[p.best].name;
            let row = rows.iter().find(|r| r.option == *name).unwrap();
            assert!(row.on_frontier(), "{name} at {}", p.threshold);
            // At an ICER the two options tie, and the one listed first is taken.
            let want = match p.threshold {
                t if t <= 100.0 => "A",
                t if t < 150.0 => "B",
                _ => "D",
            };
            assert_eq!(name, want, "at {}", p.threshold);
        }
    }

    /// A run's outcome is read at the top level: England's value where the run has it
    /// (never added to its systems'), else the systems' sum; cost and QALYs in the last
    /// year, the population in the first.
    #[test]
    fn the_top_level_is_england_or_the_sum_of_the_systems() {
        let rows = [
            (1, Level::System, Metric::Population, 10.0),
            (1, Level::System, Metric::Population, 20.0),
            (1, Level::Place, Metric::Population, 5.0),
            (2, Level::System, Metric::Population, 99.0),
            (1, Level::System, Metric::DiscountedCumulativeNetCost, 7.0),
            (3, Level::System, Metric::DiscountedCumulativeNetCost, 1.0),
            (3, Level::System, Metric::DiscountedCumulativeNetCost, 2.0),
            (3, Level::System, Metric::DiscountedQalysGained, 0.5),
        ];
        let mut top = TopLevel::default();
        for (y, l, m, v) in &rows {
            top.take(*y, 3, *l, m, *v);
        }
        assert_eq!(
            top.outcome(),
            RunOutcome {
                cost: Some(3.0),
                qalys: Some(0.5),
                population: Some(30.0)
            }
        );
        top.take(1, 3, Level::England, &Metric::Population, 31.0);
        top.take(
            3,
            3,
            Level::England,
            &Metric::DiscountedCumulativeNetCost,
            3.5,
        );
        top.take(3, 3, Level::England, &Metric::DiscountedQalysGained, 0.25);
        assert_eq!(
            top.outcome(),
            RunOutcome {
                cost: Some(3.5),
                qalys: Some(0.25),
                population: Some(31.0)
            }
        );
        // A scenario without interventions has no cost or QALYs.
        let mut none = TopLevel::default();
        none.take(1, 3, Level::System, &Metric::Population, 10.0);
        assert_eq!(none.outcome().cost, None);
    }

    fn run(cost: f64, qalys: f64) -> RunOutcome {
        RunOutcome {
            cost: Some(cost),
            qalys: Some(qalys),
            population: Some(1000.0),
        }
    }

    /// The batch's scenarios: the first without interventions is the comparator; another
    /// group, another number of runs or a second comparator are listed with the reason.
    #[test]
    fn scenarios_that_cannot_be_compared_run_by_run_are_excluded_with_the_reason() {
        let base = [RunOutcome {
            population: Some(1000.0),
            ..Default::default()
        }; 2];
        let x = [run(10.0, 1.0), run(30.0, 1.0)];
        let short = [run(10.0, 1.0)];
        let s = |name, group, runs| ScenarioRuns { name, group, runs };
        let inc = analyse(
            &[
                s("x", 0, &x),
                s("base", 0, &base),
                s("again", 0, &base),
                s("short", 0, &short),
                s("elsewhere", 1, &x),
            ],
            &[0.0, 20.0],
        );
        let got: Vec<(&str, Status)> = inc
            .frontier
            .iter()
            .map(|r| (r.option.as_str(), r.status))
            .collect();
        assert_eq!(
            got,
            vec![
                ("base", Status::Reference),
                ("x", Status::NonDominated),
                ("again", Status::Excluded),
                ("short", Status::Excluded),
                ("elsewhere", Status::Excluded),
            ]
        );
        assert_eq!(inc.frontier[1].icer, Some(20.0));
        assert!(inc.frontier[3].note.starts_with("1 runs where x has 2"));
        assert!(inc.frontier[4]
            .note
            .contains("not against the same counterfactual"));
        assert_eq!(inc.frontier[4].mean_cost, 20.0);
        // Two options at two thresholds; at £20 per QALY, x (mean benefit 0) ties with
        // base and the tie goes to the option listed first.
        assert_eq!(inc.ceaf.len(), 4);
        assert_eq!(inc.ceaf[2].best_option, "base");
        assert_eq!(inc.ceaf[3].option_prob_best, 0.5);
        // EVPI: run 1 x gains 10, run 2 base; mean of the best 5 - 0, per person 0.005.
        assert_eq!(inc.ceaf[2].evpi_population, 5.0);
        assert_eq!(inc.ceaf[2].evpi_per_person, 0.005);

        // No scenario without interventions: the counterfactual is the comparator.
        let inc = analyse(&[s("x", 0, &x)], &[20.0]);
        assert_eq!(inc.frontier[0].option, COUNTERFACTUAL);
        assert_eq!(inc.frontier.len(), 2);
    }
}
