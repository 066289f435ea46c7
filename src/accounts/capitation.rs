//! Capitated budgets: each system's envelope split by sector, shared out to places and
//! neighbourhoods by a configured formula, set against simulated spend, with risk sharing.
//!
//! Money is integer pence and every split is by largest remainder, so budgets sum to the
//! envelope exactly at every level and year. Weights come from data: the age-sex and need
//! weights are each cell's expected cost per head in a sector, from the datasets' activity
//! rates and unit costs (so the formula prices need as the simulation does, and its misses
//! come from what it leaves out: individual risk, and chance); adjustments come from
//! `datasets/capitation_*.csv`.

use crate::core::care::{Sector, Setting, N_SECTORS};
use crate::core::money::largest_remainder;
use crate::data::datasets::Datasets;
use crate::data::geography::Geography;
use std::collections::BTreeMap;

use crate::config::scenario::{Basis, Formula, RiskSharing, Scenario};
use crate::core::dims::{n_cells, Cell, N_BANDS, N_IMD, N_SEX};
use crate::core::level::Level;
use crate::engine::levers::Levers;
use crate::engine::simulation::NeighbourhoodResult;
use crate::model::Model;

/// Row index of the total (after the sectors' rows) in per-row arrays.
const TOTAL: usize = N_SECTORS;
/// Row index of the pooled fund.
const POOLED: usize = N_SECTORS + 1;

/// What a budget row covers: one sector, the total, or (when configured) the pooled fund.
/// The derived order (sectors in order, total, pooled) is the output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BudgetRow {
    Sector(Sector),
    Total,
    Pooled,
}

impl BudgetRow {
    /// The row of per-row array index `k` (sectors, then total, then pooled).
    fn of_index(k: usize) -> BudgetRow {
        match k {
            TOTAL => BudgetRow::Total,
            POOLED => BudgetRow::Pooled,
            _ => BudgetRow::Sector(Sector::ALL[k]),
        }
    }

    /// The id written in the `sector` column.
    pub fn id(self) -> &'static str {
        match self {
            BudgetRow::Sector(s) => s.id(),
            BudgetRow::Total => "total",
            BudgetRow::Pooled => "pooled",
        }
    }
}

/// Weights per census cell, per sector and in total: expected cost per head (pence).
#[derive(Debug, Clone)]
pub struct Weights {
    ns: usize,
    /// `[row][census cell]`, rows = sectors then total.
    need: Vec<Vec<f64>>,
    /// `[row][band][sex]`.
    age_sex: Vec<[[f64; N_SEX]; N_BANDS]>,
    uplift: [f64; N_IMD],
}

impl Weights {
    pub fn new(model: &Model, d: &Datasets) -> Self {
        let ns = model.segments.len();
        let a = &model.activity;
        let mut need = vec![vec![0.0; n_cells(ns)]; N_SECTORS + 1];
        for b in 0..N_BANDS {
            for x in 0..N_SEX {
                for q in 0..N_IMD {
                    for g in 0..ns {
                        let c = Cell {
                            band: b,
                            sex: x,
                            imd: q,
                            segment: g,
                        }
                        .census(ns);
                        let e = Cell {
                            band: b,
                            sex: x,
                            imd: q,
                            segment: g,
                        }
                        .exposure();
                        for s in Setting::ALL {
                            let rate = match s.derived_from() {
                                Some(parent) => a.rate(parent, e) * a.los_mean(),
                                None => a.rate(s, e),
                            };
                            let cost = rate * a.unit_cost_pence(s, 1) as f64;
                            need[a.sector(s) as usize][c] += cost;
                            need[TOTAL][c] += cost;
                        }
                    }
                }
            }
        }
        let age_sex = need
            .iter()
            .map(|w| {
                let mut out = [[0.0; N_SEX]; N_BANDS];
                for (b, row) in out.iter_mut().enumerate() {
                    for (x, v) in row.iter_mut().enumerate() {
                        for q in 0..N_IMD {
                            for g in 0..ns {
                                *v += model.segments.initial_share(b, q as u8, g as u8)
                                    * w[Cell {
                                        band: b,
                                        sex: x,
                                        imd: q,
                                        segment: g,
                                    }
                                    .census(ns)]
                                    / N_IMD as f64;
                            }
                        }
                    }
                }
                out
            })
            .collect();
        Weights {
            ns,
            need,
            age_sex,
            uplift: d.inequalities_uplift,
        }
    }

    /// Weighted population (raw, in total-cost units) of a census snapshot under a basis
    /// without adjustments: `None` for `historic`, which needs spend, not people.
    pub fn weighted(&self, basis: &str, census: &[u32]) -> Option<f64> {
        let basis = [Basis::Headcount, Basis::AgeSex, Basis::Need]
            .into_iter()
            .find(|b| b.id() == basis)?;
        let f = Formula {
            name: None,
            basis,
            market_forces: false,
            inequalities: false,
            rurality: false,
        };
        Some(self.of_census(&f, TOTAL, census))
    }

    /// Raw weighted population of a census snapshot under a cell-based formula.
    fn of_census(&self, f: &Formula, row: usize, census: &[u32]) -> f64 {
        let ns = self.ns;
        let mut total = 0.0;
        for b in 0..N_BANDS {
            for x in 0..N_SEX {
                for q in 0..N_IMD {
                    let up = if f.inequalities {
                        1.0 + self.uplift[q]
                    } else {
                        1.0
                    };
                    for g in 0..ns {
                        let c = Cell {
                            band: b,
                            sex: x,
                            imd: q,
                            segment: g,
                        }
                        .census(ns);
                        let n = census[c] as f64;
                        if n == 0.0 {
                            continue;
                        }
                        let w = match f.basis {
                            Basis::Headcount | Basis::Historic => 1.0,
                            Basis::AgeSex => self.age_sex[row][b][x],
                            Basis::Need => self.need[row][c],
                        };
                        total += n * w * up;
                    }
                }
            }
        }
        total
    }
}

/// The budgets of one scenario-run, one row per (formula, year, area, sector row), where
/// an area is a neighbourhood, a place or a system (sums of their neighbourhoods).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Budgets {
    pub formula: Vec<String>,
    pub year: Vec<i32>,
    pub level: Vec<Level>,
    /// Index of the neighbourhood, place or system in the geography.
    pub area: Vec<usize>,
    pub sector: Vec<BudgetRow>,
    /// Residents at the start of the year.
    pub people: Vec<u64>,
    pub weighted_population: Vec<f64>,
    pub budget: Vec<i64>,
    pub spend: Vec<i64>,
    pub position: Vec<i64>,
    pub position_after_risk_share: Vec<i64>,
    /// Deficit taken on by the risk pool (pence, >= 0).
    pub pooled_deficit: Vec<i64>,
}

/// A neighbourhood's position after risk sharing, and what the pool absorbed.
pub fn share_risk(rs: &RiskSharing, budget: i64, position: i64) -> (i64, i64) {
    let b = budget.max(0) as f64;
    let mut p = position as f64;
    let mut pooled = 0.0;
    if let Some(t) = rs.pool_threshold {
        let floor = -t.0 * b;
        if p < floor {
            pooled = floor - p;
            p = floor;
        }
    }
    p *= rs.provider_share.0;
    if let Some(c) = rs.cap {
        p = p.min(c.0 * b);
    }
    if let Some(c) = rs.collar {
        p = p.max(-c.0 * b);
    }
    (p.round() as i64, pooled.round() as i64)
}

/// Moves `current` shares toward `target` by the largest fraction `λ <= 1` such that no
/// share moves by more than `max_step` and no share falls below `floor[i]`. A convex
/// combination keeps the sum exactly where it was.
pub fn converge(current: &[f64], target: &[f64], max_step: f64, floor: &[f64]) -> Vec<f64> {
    let mut lambda: f64 = 1.0;
    for i in 0..current.len() {
        let d = target[i] - current[i];
        if d.abs() > max_step {
            lambda = lambda.min(max_step / d.abs());
        }
        if d < 0.0 && target[i] < floor[i] {
            lambda = lambda.min(((current[i] - floor[i]) / -d).max(0.0));
        }
    }
    current
        .iter()
        .zip(target)
        .map(|(c, t)| c + lambda * (t - c))
        .collect()
}

/// Allocates `pence` from a system to places and then to neighbourhoods, each place getting
/// the sum of its neighbourhoods' `shares`. Both steps use largest remainder, so the
/// neighbourhoods of each place sum exactly to the place, and the places to `pence`.
pub fn allocate(pence: i64, place_of: &[usize], shares: &[f64]) -> Vec<i64> {
    let mut places: Vec<usize> = place_of.to_vec();
    places.sort_unstable();
    places.dedup();
    let place_w: Vec<f64> = places
        .iter()
        .map(|p| {
            (0..shares.len())
                .filter(|i| place_of[*i] == *p)
                .map(|i| shares[i])
                .sum()
        })
        .collect();
    let mut out = vec![0i64; shares.len()];
    for (p, pb) in places.iter().zip(split(&place_w, pence)) {
        let idx: Vec<usize> = (0..shares.len()).filter(|i| place_of[*i] == *p).collect();
        let w: Vec<f64> = idx.iter().map(|i| shares[*i]).collect();
        for (i, b) in idx.iter().zip(split(&w, pb)) {
            out[*i] = b;
        }
    }
    out
}

/// Splits `pence` among `weights` by largest remainder.
fn split(weights: &[f64], pence: i64) -> Vec<i64> {
    largest_remainder(weights, pence.max(0) as u64)
        .into_iter()
        .map(|x| x as i64)
        .collect()
}

/// Pence of each sector of one neighbourhood-year: spend on care plus intervention costs
/// (counted in community services, where shift-left money goes).
fn sector_spend(model: &Model, r: &NeighbourhoodResult, y: usize, ns: usize) -> [i64; N_SECTORS] {
    let mut out = [0i64; N_SECTORS];
    for s in Setting::ALL {
        let i = s.index();
        out[model.activity.sector(s) as usize] += r.activity[y].cost_pence[i * ns..(i + 1) * ns]
            .iter()
            .sum::<i64>();
    }
    out[Sector::Community as usize] += r.interventions[y].cost_pence.iter().sum::<i64>();
    out
}

/// Computes the budgets of every formula of `scenario` for one run.
#[allow(clippy::too_many_arguments)]
pub fn budgets(
    model: &Model,
    datasets: &Datasets,
    weights: &Weights,
    geography: &Geography,
    scenario: &Scenario,
    levers: &Levers,
    results: &[NeighbourhoodResult],
    counterfactual: &[NeighbourhoodResult],
) -> Budgets {
    let years = scenario.years as usize;
    let ns = model.segments.len();
    let cells = n_cells(ns);
    let nn = geography.neighbourhoods.len();
    let env = &scenario.envelope;
    let cap = &scenario.capitation;
    let pooled_share = env.pooled_social_care.map(|s| s.0);
    // Rurality raises the cost of care delivered at home. Where the simulation's unit costs
    // follow it (`[variation] place_costs`, model::variation), the index adjusts only the
    // sectors of those settings, and the total row takes it on the share of the
    // neighbourhood's need-priced cost in them; otherwise, as before, every row.
    let rural_sector: [bool; N_SECTORS] = std::array::from_fn(|j| {
        !scenario.variation.place_costs
            || Setting::ALL
                .iter()
                .any(|s| s.cost_rises_with_distance() && model.activity.sector(*s) as usize == j)
    });
    let place_factor = |k: usize, f: &Formula, row: usize, census: &[u32]| -> f64 {
        let place = &geography.places[geography.neighbourhoods[k].place].name;
        let pf = datasets.place_factors.iter().find(|p| p.place == *place);
        let mff = pf.map_or(1.0, |p| p.market_forces_factor);
        let rur = pf.map_or(1.0, |p| p.rurality_index);
        let rurality = if !f.rurality {
            1.0
        } else if row == TOTAL && scenario.variation.place_costs {
            let need = Formula {
                name: None,
                basis: Basis::Need,
                market_forces: false,
                inequalities: false,
                rurality: false,
            };
            let total = weights.of_census(&need, TOTAL, census);
            let rural: f64 = (0..N_SECTORS)
                .filter(|j| rural_sector[*j])
                .map(|j| weights.of_census(&need, j, census))
                .sum();
            let share = if total > 0.0 { rural / total } else { 0.0 };
            1.0 + (rur - 1.0) * share
        } else if row == TOTAL || rural_sector[row] {
            rur
        } else {
            1.0
        };
        (if f.market_forces { mff } else { 1.0 }) * rurality
    };
    // Spend by neighbourhood, year and sector; the counterfactual's year one.
    let spend: Vec<Vec<[i64; N_SECTORS]>> = results
        .iter()
        .map(|r| (0..years).map(|y| sector_spend(model, r, y, ns)).collect())
        .collect();
    let cf1: Vec<[i64; N_SECTORS]> = counterfactual
        .iter()
        .map(|r| sector_spend(model, r, 0, ns))
        .collect();
    // Funding moved by the interventions, per neighbourhood-year: (from, to, pence).
    let shifts = |k: usize, y: usize| -> Vec<(usize, usize, i64)> {
        levers
            .interventions
            .iter()
            .enumerate()
            .filter_map(|(i, d)| {
                d.funding_shift.map(|(from, to, _)| {
                    (
                        from as usize,
                        to as usize,
                        results[k].interventions[y].shift_pence[i],
                    )
                })
            })
            .collect()
    };

    let mut out = Budgets::default();
    for f in &cap.formula {
        let fname = f.name();
        // Budgets `[neighbourhood][year][sector]` and weighted populations, system by system.
        let mut budget = vec![vec![[0i64; N_SECTORS]; years]; nn];
        let mut wpop = vec![vec![[0.0f64; N_SECTORS + 1]; years]; nn];
        for sys in 0..geography.systems.len() {
            let members: Vec<usize> = (0..nn).filter(|k| geography.system_of(*k) == sys).collect();
            if members.is_empty() {
                continue;
            }
            let pop1: u64 = members.iter().map(|k| results[*k].flows[0].start).sum();
            let cf_total: i64 = members.iter().map(|k| cf1[*k].iter().sum::<i64>()).sum();
            let start = match env.per_head {
                Some(p) => (p * 100.0 * pop1 as f64).round(),
                None => cf_total as f64,
            };
            let sector_weights: Vec<f64> = match &env.sector_shares {
                Some(m) => Sector::ALL
                    .iter()
                    .map(|s| m.get(s).copied().unwrap_or(0.0))
                    .collect(),
                None => (0..N_SECTORS)
                    .map(|j| members.iter().map(|k| cf1[*k][j] as f64).sum())
                    .collect(),
            };
            // Current shares: each neighbourhood's share of year-one spend without
            // interventions, sector by sector.
            let mut current: Vec<Vec<f64>> = (0..N_SECTORS)
                .map(|j| {
                    let tot: f64 = members.iter().map(|k| cf1[*k][j] as f64).sum();
                    members
                        .iter()
                        .map(|k| {
                            if tot > 0.0 {
                                cf1[*k][j] as f64 / tot
                            } else {
                                1.0 / members.len() as f64
                            }
                        })
                        .collect()
                })
                .collect();
            let mut envelope_prev: Vec<i64> = vec![0; N_SECTORS];
            for y in 0..years {
                let envelope = (start * (1.0 + env.growth).powi(y as i32)).round() as i64;
                let by_sector = split(&sector_weights, envelope);
                let people: f64 = members
                    .iter()
                    .map(|k| {
                        results[*k].census[y * cells..(y + 1) * cells]
                            .iter()
                            .map(|n| *n as f64)
                            .sum::<f64>()
                    })
                    .sum();
                // Target shares of the system for a row (sector, or total).
                let targets = |j: usize| -> Vec<f64> {
                    let raw: Vec<f64> = members
                        .iter()
                        .map(|k| {
                            let census = &results[*k].census[y * cells..(y + 1) * cells];
                            let base = match f.basis {
                                Basis::Historic => {
                                    let row = |v: &[i64; N_SECTORS]| {
                                        if j == TOTAL {
                                            v.iter().sum()
                                        } else {
                                            v[j]
                                        }
                                    };
                                    let prev = if y == 0 {
                                        row(&cf1[*k])
                                    } else {
                                        row(&spend[*k][y - 1])
                                    };
                                    let heads: f64 = census.iter().map(|n| *n as f64).sum();
                                    let ineq = weights.of_census(f, j, census) / heads.max(1.0);
                                    prev as f64 * ineq
                                }
                                _ => weights.of_census(f, j, census),
                            };
                            base * place_factor(*k, f, j, census)
                        })
                        .collect();
                    let total_raw: f64 = raw.iter().sum();
                    raw.iter()
                        .map(|w| {
                            if total_raw > 0.0 {
                                w / total_raw
                            } else {
                                1.0 / raw.len() as f64
                            }
                        })
                        .collect()
                };
                for (m, t) in targets(TOTAL).iter().enumerate() {
                    wpop[members[m]][y][TOTAL] = t * people;
                }
                for j in 0..N_SECTORS {
                    let target = targets(j);
                    for (m, k) in members.iter().enumerate() {
                        wpop[*k][y][j] = target[m] * people;
                    }
                    let shares = match &cap.pace_of_change {
                        None => target,
                        Some(p) => {
                            let ratio = if y == 0 || by_sector[j] == 0 {
                                0.0
                            } else {
                                envelope_prev[j] as f64 / by_sector[j] as f64
                            };
                            let floor: Vec<f64> = current[j]
                                .iter()
                                .map(|c| c * ratio * (1.0 + p.cash_floor))
                                .collect();
                            converge(&current[j], &target, p.max_step.0, &floor)
                        }
                    };
                    let place_of: Vec<usize> = members
                        .iter()
                        .map(|k| geography.neighbourhoods[*k].place)
                        .collect();
                    for (k, b) in members
                        .iter()
                        .zip(allocate(by_sector[j], &place_of, &shares))
                    {
                        budget[*k][y][j] = b;
                    }
                    current[j] = shares;
                    envelope_prev[j] = by_sector[j];
                }
                for k in &members {
                    for (from, to, pence) in shifts(*k, y) {
                        budget[*k][y][from] -= pence;
                        budget[*k][y][to] += pence;
                    }
                }
            }
        }
        // Rows: neighbourhoods, then places and systems as their sums.
        let first = out.year.len();
        for k in 0..nn {
            for y in 0..years {
                let b = budget[k][y];
                let s = spend[k][y];
                let mut rows: Vec<(usize, i64, i64, f64)> = (0..N_SECTORS)
                    .map(|j| (j, b[j], s[j], wpop[k][y][j]))
                    .collect();
                rows.push((TOTAL, b.iter().sum(), s.iter().sum(), wpop[k][y][TOTAL]));
                if let Some(p) = pooled_share {
                    let sc = Sector::SocialCare as usize;
                    let health = |v: &[i64; N_SECTORS]| -> i64 {
                        (0..N_SECTORS).filter(|j| *j != sc).map(|j| v[j]).sum()
                    };
                    rows.push((
                        POOLED,
                        health(&b) + (p * b[sc] as f64).round() as i64,
                        health(&s) + (p * s[sc] as f64).round() as i64,
                        wpop[k][y][TOTAL],
                    ));
                }
                for (j, bj, sj, w) in rows {
                    let position = bj - sj;
                    let (after, pooled) = share_risk(&cap.risk_sharing, bj, position);
                    out.push(
                        &fname,
                        y,
                        (Level::Neighbourhood, k),
                        BudgetRow::of_index(j),
                        results[k].flows[y].start,
                        w,
                        [bj, sj, position, after, pooled],
                    );
                }
            }
        }
        let n_rows = out.year.len();
        for (level, of) in [
            (Level::Place, &|k: usize| geography.neighbourhoods[k].place),
            (Level::System, &|k: usize| geography.system_of(k)),
        ] as [(Level, &dyn Fn(usize) -> usize); 2]
        {
            let mut sums: BTreeMap<AreaRow, RowSums> = BTreeMap::new();
            for i in first..n_rows {
                let e = sums
                    .entry((of(out.area[i]), out.year[i], out.sector[i]))
                    .or_insert((0, 0.0, [0; MONEY]));
                e.0 += out.people[i];
                e.1 += out.weighted_population[i];
                let money = [
                    out.budget[i],
                    out.spend[i],
                    out.position[i],
                    out.position_after_risk_share[i],
                    out.pooled_deficit[i],
                ];
                for (a, m) in e.2.iter_mut().zip(money) {
                    *a += m;
                }
            }
            let mut keys: Vec<_> = sums.keys().copied().collect();
            keys.sort_by_key(|(a, y, s)| (*y, *a, *s));
            for key in keys {
                let (people, w, money) = sums[&key];
                out.push(
                    &fname,
                    key.1 as usize - 1,
                    (level, key.0),
                    key.2,
                    people,
                    w,
                    money,
                );
            }
        }
    }
    out
}

/// (area index, year, row) of an aggregated row.
type AreaRow = (usize, i32, BudgetRow);
/// Money columns of a row: budget, spend, position, after sharing, pooled.
const MONEY: usize = 5;
/// People, weighted population, and the money columns.
type RowSums = (u64, f64, [i64; MONEY]);

impl Budgets {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        formula: &str,
        y: usize,
        (level, area): (Level, usize),
        sector: BudgetRow,
        people: u64,
        weighted: f64,
        [budget, spend, position, after, pooled]: [i64; MONEY],
    ) {
        self.formula.push(formula.to_string());
        self.year.push(y as i32 + 1);
        self.level.push(level);
        self.area.push(area);
        self.sector.push(sector);
        self.people.push(people);
        self.weighted_population.push(weighted);
        self.budget.push(budget);
        self.spend.push(spend);
        self.position.push(position);
        self.position_after_risk_share.push(after);
        self.pooled_deficit.push(pooled);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::scenario::PoolLevel;
    use crate::config::uncertainty::Share;
    use proptest::prelude::*;

    #[test]
    fn risk_sharing_applies_pool_share_cap_and_collar() {
        let rs = RiskSharing {
            pool: Some(PoolLevel::Place),
            pool_threshold: Some(Share(0.02)),
            provider_share: Share(0.5),
            cap: Some(Share(0.01)),
            collar: Some(Share(0.005)),
        };
        // Deficit of 5% on 1,000,000: pool takes 3%, providers keep half of 2% = 1%,
        // collared at 0.5%.
        assert_eq!(share_risk(&rs, 1_000_000, -50_000), (-5_000, 30_000));
        // Surplus of 4%: half is 2%, capped at 1%.
        assert_eq!(share_risk(&rs, 1_000_000, 40_000), (10_000, 0));
        // No sharing configured: the position stands.
        assert_eq!(share_risk(&RiskSharing::default(), 100, -7), (-7, 0));
    }

    #[test]
    fn hand_worked_allocation() {
        // Three neighbourhoods, A and B in place 0 and C in place 1, weighted 1 : 2 : 3;
        // an envelope of £1,000.00. Place 0 gets 3/6 = 50,000p and place 1 50,000p. In
        // place 0, A's quota is 16,666.67p and B's 33,333.33p: floors 16,666 + 33,333 leave
        // one penny, which goes to the larger remainder (A).
        let w = [1.0, 2.0, 3.0];
        let total: f64 = w.iter().sum();
        let shares: Vec<f64> = w.iter().map(|x| x / total).collect();
        assert_eq!(
            allocate(100_000, &[0, 0, 1], &shares),
            vec![16_667, 33_333, 50_000]
        );
        // With pace of change from equal shares, at most 5 points a year.
        let current = [1.0 / 3.0; 3];
        let next = converge(&current, &shares, 0.05, &[0.0; 3]);
        // The farthest (C: 1/3 -> 1/2) moves 0.05, so lambda = 0.3 and everyone moves
        // 30% of the way.
        let want = [
            1.0 / 3.0 + 0.3 * (1.0 / 6.0 - 1.0 / 3.0),
            1.0 / 3.0,
            1.0 / 3.0 + 0.05,
        ];
        for (a, b) in next.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{next:?}");
        }
        assert_eq!(
            allocate(100_000, &[0, 0, 1], &next),
            vec![28_333, 33_334, 38_333]
        );
    }

    proptest! {
        #[test]
        fn allocations_sum_exactly_at_every_level(
            raw in proptest::collection::vec((0.0f64..1e4, 0usize..6), 1..60),
            pence in 0i64..1_000_000_000_000,
        ) {
            let total: f64 = raw.iter().map(|r| r.0).sum();
            let shares: Vec<f64> = raw
                .iter()
                .map(|r| if total > 0.0 { r.0 / total } else { 1.0 / raw.len() as f64 })
                .collect();
            let place_of: Vec<usize> = raw.iter().map(|r| r.1).collect();
            let out = allocate(pence, &place_of, &shares);
            prop_assert_eq!(out.iter().sum::<i64>(), pence);
            prop_assert!(out.iter().all(|b| *b >= 0));
        }

        #[test]
        fn convergence_keeps_the_sum_and_never_exceeds_the_step(
            raw in proptest::collection::vec((0.01f64..1.0, 0.01f64..1.0), 2..40),
            step in 0.0001f64..0.2,
        ) {
            let cs: f64 = raw.iter().map(|r| r.0).sum();
            let ts: f64 = raw.iter().map(|r| r.1).sum();
            let current: Vec<f64> = raw.iter().map(|r| r.0 / cs).collect();
            let target: Vec<f64> = raw.iter().map(|r| r.1 / ts).collect();
            let floor = vec![0.0; raw.len()];
            let next = converge(&current, &target, step, &floor);
            prop_assert!((next.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            for i in 0..next.len() {
                prop_assert!((next[i] - current[i]).abs() <= step * (1.0 + 1e-9));
                // Never overshoots the target.
                prop_assert!((next[i] - current[i]) * (target[i] - current[i]) >= -1e-15);
            }
        }
    }
}
