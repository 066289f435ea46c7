//! Capitated budgets: each system's envelope split by sector, shared out to places and
//! neighbourhoods by a configured formula, set against simulated spend, with risk sharing.
//!
//! Money is integer pence and every split is by largest remainder, so budgets sum to the
//! envelope exactly at every level and year. Weights come from data: the age-sex and need
//! weights are each cell's expected cost per head in a sector, from the datasets' activity
//! rates and unit costs (so the formula prices need as the simulation does, and its misses
//! come from what it leaves out: individual risk, and chance); adjustments come from
//! `datasets/capitation_*.csv`.

use crate::accounts::need_formula::NeedFormula;
use crate::core::care::{Sector, Setting, N_SECTORS};
use crate::core::money::largest_remainder;
use crate::data::datasets::{Datasets, WeightTable};
use crate::data::geography::{Geography, Neighbourhood};
use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::config::scenario::{Basis, Formula, PoolLevel, RiskSharing, Scenario};
use crate::core::dims::{n_cells, Cell, N_BANDS, N_IMD, N_SEX};
use crate::core::level::Level;
use crate::engine::levers::Levers;
use crate::engine::simulation::NeighbourhoodResult;
use crate::model::year_one::YearOneCost;
use crate::model::Model;

/// Row index of the total (after the sectors' rows) in per-row arrays.
use crate::model::year_one::TOTAL;
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
    /// The simulator's expected cost per head by true segment (`true_expected_cost`),
    /// `[row][census cell]`, rows = sectors then total.
    need: Vec<Vec<f64>>,
    /// `[row][band][sex]`.
    age_sex: Vec<[[f64; N_SEX]; N_BANDS]>,
    /// `[row][band][sex][quintile]`: expected year-one cost per resident of that band, sex
    /// and quintile at the start of year one, over the starting segment prevalence.
    start: Vec<[[[f64; N_IMD]; N_SEX]; N_BANDS]>,
    uplift: [f64; N_IMD],
    /// The estimated (PBRA-style) formula of the `need` basis.
    pub estimated: NeedFormula,
    /// Weight tables of `basis = "table"` formulas, by file, mapped like the estimated
    /// formula from recorded to true segments: `[census cell]`.
    tables: Vec<(PathBuf, Vec<f64>)>,
}

impl Weights {
    /// Weights for the bases: the oracle and age-sex curves from the model's tables, the
    /// estimated need formula, and user tables (weights by recorded segment).
    pub fn new(
        model: &Model,
        d: &Datasets,
        estimated: NeedFormula,
        tables: Vec<(PathBuf, WeightTable)>,
    ) -> Self {
        let YearOneCost { need, start } = YearOneCost::new(model);
        Weights {
            ns: model.segments.len(),
            age_sex: age_sex_weights(model, &need),
            start,
            need,
            uplift: d.inequalities_uplift,
            tables: tables_by_true_segment(tables, &estimated, model.segments.len()),
            estimated,
        }
    }

    /// Expected year-one cost of a neighbourhood by sector (pence at year-one prices),
    /// without any random draw: its registered population spread over its age-sex and
    /// deprivation shares (independent, as synthesis draws them), each cell priced at its
    /// expected cost per head over the starting segment prevalence of its age band and
    /// quintile, counting half a year for those expected to die or move out and for the
    /// expected babies and in-migrants, as the yearly cycle does. Individual risk has mean
    /// 1 and does not change the expectation.
    pub fn expected_cost(&self, nb: &Neighbourhood) -> [f64; N_SECTORS] {
        let mut out = [0.0; N_SECTORS];
        for (j, v) in out.iter_mut().enumerate() {
            for b in 0..N_BANDS {
                for x in 0..N_SEX {
                    for q in 0..N_IMD {
                        *v += nb.age_sex[b][x] * nb.imd[q] * self.start[j][b][x][q];
                    }
                }
            }
            *v *= nb.population as f64;
        }
        out
    }

    /// Weighted population (raw, in total-cost units) of a census snapshot under a basis
    /// without adjustments: `None` for `historic`, which needs spend, not people, and for
    /// `table`, which needs a file.
    pub fn weighted(&self, basis: &str, census: &[u32]) -> Option<f64> {
        let basis = [
            Basis::Headcount,
            Basis::AgeSex,
            Basis::Need,
            Basis::TrueExpectedCost,
        ]
        .into_iter()
        .find(|b| b.id() == basis)?;
        let f = Formula::of(basis);
        Some(self.of_census(&f, TOTAL, census))
    }

    /// Raw weighted population of a census snapshot under a cell-based formula.
    fn of_census(&self, f: &Formula, row: usize, census: &[u32]) -> f64 {
        let table = f.weights.as_ref().and_then(|p| {
            self.tables
                .iter()
                .find(|(path, _)| path == p)
                .map(|(_, w)| w.as_slice())
        });
        // One loop per basis, so the cell loop does not match on it (budgets price every
        // neighbourhood, year, formula and row); the sum runs in census order either way.
        // `published` prices practices, not people: its census pricing (used only where
        // a census is all there is) is the headcount.
        match f.basis {
            Basis::Headcount | Basis::Historic | Basis::Published => {
                self.sum_cells(f, census, |_, _| 1.0)
            }
            Basis::AgeSex => {
                let w = &self.age_sex[row];
                self.sum_cells(f, census, |_, cell| w[cell.band][cell.sex])
            }
            Basis::Need => {
                let w = &self.estimated.by_true_segment[row];
                self.sum_cells(f, census, |c, _| w[c])
            }
            Basis::TrueExpectedCost => {
                let w = &self.need[row];
                self.sum_cells(f, census, |c, _| w[c])
            }
            Basis::Table => match table {
                Some(t) => self.sum_cells(f, census, |c, _| t[c]),
                None => self.sum_cells(f, census, |_, _| 1.0),
            },
        }
    }

    /// Raw weighted population of a census snapshot under a cell-based formula, for every
    /// row (the sectors, then the total) in one pass over the cells: budgets price each
    /// neighbourhood-year in every row, and one pass reads the census once instead of once
    /// a row. Each row sums the same terms in the same order as [`Weights::of_census`], so
    /// the values are the same to the bit.
    fn of_census_rows(&self, f: &Formula, census: &[u32]) -> [f64; N_SECTORS + 1] {
        // Bases whose weight is the same in every row: one sum, copied.
        let same = |total: f64| [total; N_SECTORS + 1];
        match f.basis {
            Basis::Headcount | Basis::Historic | Basis::Published => {
                same(self.sum_cells(f, census, |_, _| 1.0))
            }
            Basis::AgeSex => self.sum_cells_rows(f, census, |row, _, cell| {
                self.age_sex[row][cell.band][cell.sex]
            }),
            Basis::Need => {
                let w = &self.estimated.by_true_segment;
                self.sum_cells_rows(f, census, |row, c, _| w[row][c])
            }
            Basis::TrueExpectedCost => {
                self.sum_cells_rows(f, census, |row, c, _| self.need[row][c])
            }
            Basis::Table => same(self.of_census(f, TOTAL, census)),
        }
    }

    /// [`Weights::sum_cells`] for every row at once: `weight(row, index, cell)`.
    #[inline]
    fn sum_cells_rows(
        &self,
        f: &Formula,
        census: &[u32],
        weight: impl Fn(usize, usize, Cell) -> f64,
    ) -> [f64; N_SECTORS + 1] {
        let mut total = [0.0; N_SECTORS + 1];
        self.each_occupied(f, census, |c, cell, n, up| {
            for (row, t) in total.iter_mut().enumerate() {
                *t += n * weight(row, c, cell) * up;
            }
        });
        total
    }

    /// Sum over the occupied cells of a census snapshot, in census order, of people times
    /// `weight(index, cell)` times the formula's inequalities uplift.
    #[inline]
    fn sum_cells(&self, f: &Formula, census: &[u32], weight: impl Fn(usize, Cell) -> f64) -> f64 {
        let mut total = 0.0;
        self.each_occupied(f, census, |c, cell, n, up| {
            total += n * weight(c, cell) * up
        });
        total
    }

    /// Calls `visit(index, cell, people, uplift)` for each occupied cell of a census
    /// snapshot, in census order, with the formula's inequalities uplift of the cell's
    /// quintile. Nested loops rather than a division per cell: budgets price every area,
    /// year and formula's census this way.
    #[inline]
    fn each_occupied(
        &self,
        f: &Formula,
        census: &[u32],
        mut visit: impl FnMut(usize, Cell, f64, f64),
    ) {
        let mut c = 0;
        for band in 0..N_BANDS {
            for sex in 0..N_SEX {
                for imd in 0..N_IMD {
                    let up = if f.inequalities {
                        1.0 + self.uplift[imd]
                    } else {
                        1.0
                    };
                    for segment in 0..self.ns {
                        let n = census[c] as f64;
                        if n != 0.0 {
                            let cell = Cell {
                                band,
                                sex,
                                imd,
                                segment,
                            };
                            visit(c, cell, n, up);
                        }
                        c += 1;
                    }
                }
            }
        }
    }
}

/// The need weights averaged over segments and quintiles by age band and sex, per row.
fn age_sex_weights(model: &Model, need: &[Vec<f64>]) -> Vec<[[f64; N_SEX]; N_BANDS]> {
    let ns = model.segments.len();
    need.iter()
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
        .collect()
}

/// User weight tables, by the true segment the simulation knows.
fn tables_by_true_segment(
    tables: Vec<(PathBuf, WeightTable)>,
    estimated: &NeedFormula,
    ns: usize,
) -> Vec<(PathBuf, Vec<f64>)> {
    // A user table is by recorded segment: a person of true segment g carries
    // sensitivity x w(g) + (1 - sensitivity) x w(reference), as in the estimated formula.
    let (reference, s) = (estimated.reference, estimated.sensitivity);
    tables
        .into_iter()
        .map(|(path, table)| {
            let w = &table.weights;
            let by_true = (0..w.len())
                .map(|c| {
                    let g = c % ns;
                    if g == reference {
                        w[c]
                    } else {
                        s * w[c] + (1.0 - s) * w[c - g + reference]
                    }
                })
                .collect();
            (path, by_true)
        })
        .collect()
}

/// The budgets of one scenario-run, one row per (formula, year, area, sector row), where
/// an area is a neighbourhood, a place or a system (sums of their neighbourhoods), or a
/// risk pool.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Budgets {
    /// The formulas' names, in the scenario's order.
    pub formulas: Vec<String>,
    /// Each row's formula, by position in `formulas` (a name a row was 20 MB of real
    /// England's budgets, an allocation each).
    pub formula: Vec<u8>,
    pub year: Vec<i32>,
    pub level: Vec<Level>,
    /// Index of the neighbourhood, place or system in the geography; for a pool, of the
    /// place or system it sits at (see `pool_at`).
    pub area: Vec<usize>,
    pub sector: Vec<BudgetRow>,
    /// Residents at the start of the year.
    pub people: Vec<u64>,
    pub weighted_population: Vec<f64>,
    pub budget: Vec<i64>,
    pub spend: Vec<i64>,
    pub position: Vec<i64>,
    /// A pool's row: its balance for the year (surpluses paid in minus deficits covered).
    pub position_after_risk_share: Vec<i64>,
    /// Deficit covered by the risk pool (pence, >= 0).
    pub pooled_deficit: Vec<i64>,
    /// The formula's target allocation, before pace of change (pence).
    pub target: Vec<i64>,
    /// Where the risk pools sit (`Level::Place` or `Level::System`), when there are any.
    pub pool_at: Option<Level>,
}

/// Splits a neighbourhood's position between the neighbourhood and its risk pool: the
/// position after sharing, and what goes to the pool (positive: paid in from a surplus;
/// negative: a deficit covered). The two add up to `position` exactly.
pub fn share_risk(rs: &RiskSharing, budget: i64, position: i64) -> (i64, i64) {
    let b = budget.max(0) as f64;
    let p = position as f64;
    let kept = if position >= 0 {
        let k = p * (1.0 - rs.gain_share.0);
        rs.cap.map_or(k, |c| k.min(c.0 * b))
    } else {
        let k = p * (1.0 - rs.loss_share.0);
        rs.collar.map_or(k, |c| k.max(-c.0 * b))
    };
    let after = kept.round() as i64;
    (after, position - after)
}

/// Risk sharing of one set of neighbourhood rows (one formula, year and sector row):
/// each neighbourhood's position after sharing, and each pool's balance and the deficit
/// it covered, keyed by the pool (`pool_of[i]`, a place or system). Money is conserved:
/// the positions after sharing plus the balances equal the positions, to the penny.
pub fn pool(
    rs: &RiskSharing,
    budget: &[i64],
    position: &[i64],
    pool_of: &[usize],
) -> (Vec<i64>, BTreeMap<usize, (i64, i64)>) {
    let mut balances: BTreeMap<usize, (i64, i64)> = BTreeMap::new();
    let after = (0..position.len())
        .map(|i| {
            let (after, to_pool) = share_risk(rs, budget[i], position[i]);
            let e = balances.entry(pool_of[i]).or_insert((0, 0));
            e.0 += to_pool;
            e.1 += (-to_pool).max(0);
            after
        })
        .collect();
    (after, balances)
}

/// Pace of change for one sector of one system, in pence (as reals). Each area starts at
/// `baseline` (where its share of last year's allocation leaves it in this year's
/// envelope) and moves toward `target` by at most `max_step` of its own baseline, as NHS
/// England paces ICB allocations toward their target (NHS England, "Allocation of
/// resources 2023/24 to 2024/25"); an area above its target loses no more than takes it
/// down to `floor` (its cash floor), where the floor is below its baseline. Areas below
/// target gain and areas above it lose; the side that can move less sets the amount
/// moved and moves fully, the other side in proportion to how far each may move. No area
/// passes its target, and gains equal losses, so the total stays where it was.
pub fn pace(baseline: &[f64], target: &[f64], max_step: f64, floor: &[f64]) -> Vec<f64> {
    let room: Vec<f64> = (0..baseline.len())
        .map(|i| {
            let d = target[i] - baseline[i];
            let step = max_step * baseline[i].max(0.0);
            if d >= 0.0 {
                d.min(step)
            } else {
                -(-d).min(step).min((baseline[i] - floor[i]).max(0.0))
            }
        })
        .collect();
    let gains: f64 = room.iter().filter(|r| **r > 0.0).sum();
    let losses: f64 = -room.iter().filter(|r| **r < 0.0).sum::<f64>();
    let moved = gains.min(losses);
    baseline
        .iter()
        .zip(&room)
        .map(|(b, r)| {
            if *r > 0.0 {
                b + r * moved / gains
            } else if *r < 0.0 {
                b + r * moved / losses
            } else {
                *b
            }
        })
        .collect()
}

/// Allocates `pence` from a system to places and then to neighbourhoods, each place getting
/// the sum of its neighbourhoods' `shares` (any non-negative weights). Both steps use
/// largest remainder, so the neighbourhoods of each place sum exactly to the place, and
/// the places to `pence`.
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

/// NHS England's relative index of an area within a whole (a place within its ICB, an ICB
/// within England): its weighted population per head over the whole's,
/// `(area weighted / area population) / (whole weighted / whole population)`. Given
/// budgets instead of weighted populations, it is the index the budgets pay.
pub fn relative_index(
    area_weighted: f64,
    area_population: f64,
    whole_weighted: f64,
    whole_population: f64,
) -> f64 {
    (area_weighted / area_population) / (whole_weighted / whole_population)
}

/// Each place's published weighted population and published (fractional) registered
/// population under `component`, summed over its neighbourhoods; `None` when a
/// neighbourhood has no published populations (not real England).
pub fn published_places(
    geography: &Geography,
    component: crate::data::published::Component,
) -> Option<Vec<(f64, f64)>> {
    let mut out = vec![(0.0, 0.0); geography.places.len()];
    for nb in &geography.neighbourhoods {
        let p = nb.published?;
        out[nb.place].0 += p.weighted(component);
        out[nb.place].1 += p.population;
    }
    Some(out)
}

/// Each place's index relative to its system ([`relative_index`]) under `component`, from
/// the published populations its neighbourhoods carry; `None` outside real England.
pub fn published_place_indices(
    geography: &Geography,
    component: crate::data::published::Component,
) -> Option<Vec<f64>> {
    let places = published_places(geography, component)?;
    let mut systems = vec![(0.0, 0.0); geography.systems.len()];
    for (pl, (w, n)) in geography.places.iter().zip(&places) {
        systems[pl.system].0 += w;
        systems[pl.system].1 += n;
    }
    Some(
        geography
            .places
            .iter()
            .zip(&places)
            .map(|(pl, (w, n))| {
                let (sw, sn) = systems[pl.system];
                relative_index(*w, *n, sw, sn)
            })
            .collect(),
    )
}

/// Splits `pence` among `weights` by largest remainder.
fn split(weights: &[f64], pence: i64) -> Vec<i64> {
    largest_remainder(weights, pence.max(0) as u64)
        .into_iter()
        .map(|x| x as i64)
        .collect()
}

/// The pooled share `p` of a sector's money, computed once for a whole system in integer
/// pence and split between its neighbourhoods by largest remainder (weighted by their own
/// amounts), so that the system's pooled total is the same whichever formula split the
/// sector.
fn pooled_part(p: f64, values: &[i64]) -> Vec<i64> {
    let total: i64 = values.iter().sum();
    let pence = (p * total as f64).round().max(0.0) as i64;
    let w: Vec<f64> = values.iter().map(|v| (*v).max(0) as f64).collect();
    split(&w, pence)
}

/// Pence `[neighbourhood][year][sector]` that each budget line pays: the cash a scenario
/// costs ([`crate::accounts::costs`]), set against the budgets.
pub type LineSpend = Vec<Vec<[i64; N_SECTORS]>>;

/// Computes the budgets of every formula of `scenario` for one run, against `spend`, the
/// cash each neighbourhood's sectors pay.
///
/// The envelope is set before the year starts: `per_head` times the registered
/// population, or the expected year-one cost ([`Weights::expected_cost`]), never the run's
/// realised spend, so each system's budget is the same in every run. Each formula goes
/// through the same steps: allocation (envelope -> sectors -> target weights -> pace of
/// change -> funding shifts), the money of each neighbourhood row (with the pooled fund),
/// risk sharing, and the rows of neighbourhoods, their sums and the pools.
#[allow(clippy::too_many_arguments)]
pub fn budgets(
    model: &Model,
    datasets: &Datasets,
    weights: &Weights,
    geography: &Geography,
    scenario: &Scenario,
    levers: &Levers,
    results: &[NeighbourhoodResult],
    spend: &LineSpend,
) -> Budgets {
    let b = Budgeting::new(
        model, datasets, weights, geography, scenario, levers, results, spend,
    );
    let cap = &scenario.capitation;
    let mut out = Budgets {
        pool_at: cap.risk_sharing.as_ref().map(|rs| match rs.pool {
            PoolLevel::Place => Level::Place,
            PoolLevel::System => Level::System,
        }),
        ..Budgets::default()
    };
    for (k, f) in cap.formula.iter().enumerate() {
        let allocation = b.allocate(f);
        let money = b.money_rows(&allocation);
        let (after, pools) = b.share_risks(&money);
        out.formulas.push(f.name());
        let k = u8::try_from(k).expect("at most 255 formulas: config::scenario::MAX_FORMULAS");
        b.push_rows(&mut out, k, &money, &after, pools);
    }
    out
}

/// Budgets `[neighbourhood][year][sector]` of one formula, with the formula's targets and
/// weighted populations (`[.][.][sector or total]`).
struct Allocation {
    budget: Vec<Vec<[i64; N_SECTORS]>>,
    target: Vec<Vec<[i64; N_SECTORS]>>,
    weighted: Vec<Vec<[f64; N_SECTORS + 1]>>,
}

/// Money of one neighbourhood row: budget, spend, target (pence), weighted population.
type RowMoney = (i64, i64, i64, f64);

/// Each pool's (balance, deficit covered), keyed by (year, pool area, row).
type PoolBalances = BTreeMap<(i32, usize, BudgetRow), (i64, i64)>;

/// How market forces and rurality adjust a formula's weights, place by place.
struct PlaceAdjustment {
    /// Each place's (market forces factor, rurality index), looked up by name once rather
    /// than for every neighbourhood, formula, year and row.
    factors: Vec<(f64, f64)>,
    /// Sectors rurality adjusts.
    rural_sector: [bool; N_SECTORS],
    /// With place costs, the share of each neighbourhood-year's need-priced cost in the
    /// rural sectors (`[neighbourhood][year]`).
    rural_share: Vec<Vec<f64>>,
    place_costs: bool,
}

impl PlaceAdjustment {
    fn new(
        model: &Model,
        datasets: &Datasets,
        weights: &Weights,
        geography: &Geography,
        scenario: &Scenario,
        results: &[NeighbourhoodResult],
    ) -> Self {
        let years = scenario.years as usize;
        let cells = n_cells(model.segments.len());
        let place_costs = scenario.variation.place_costs;
        // Rurality raises the cost of care delivered at home. Where the simulation's unit
        // costs follow it (`[variation] place_costs`, model::variation), the index adjusts
        // only the sectors of those settings, and the total row takes it on the share of
        // the neighbourhood's need-priced cost in them; otherwise, as before, every row.
        let rural_sector: [bool; N_SECTORS] = std::array::from_fn(|j| {
            !place_costs
                || Setting::ALL.iter().any(|s| {
                    s.cost_rises_with_distance() && model.activity.sector(*s) as usize == j
                })
        });
        let factors = geography
            .places
            .iter()
            .map(|place| {
                let pf = datasets
                    .place_factors
                    .iter()
                    .find(|p| p.place == place.name);
                (
                    pf.map_or(1.0, |p| p.market_forces_factor),
                    pf.map_or(1.0, |p| p.rurality_index),
                )
            })
            .collect();
        // It depends on the people only, so it is priced once per neighbourhood-year, not
        // once per formula and row.
        let rural_share = if place_costs && scenario.capitation.formula.iter().any(|f| f.rurality) {
            let need = Formula::of(Basis::Need);
            results
                .iter()
                .map(|r| {
                    (0..years)
                        .map(|y| {
                            let census = &r.census[y * cells..(y + 1) * cells];
                            let rows = weights.of_census_rows(&need, census);
                            let total = rows[TOTAL];
                            let rural: f64 = (0..N_SECTORS)
                                .filter(|j| rural_sector[*j])
                                .map(|j| rows[j])
                                .sum();
                            if total > 0.0 {
                                rural / total
                            } else {
                                0.0
                            }
                        })
                        .collect()
                })
                .collect()
        } else {
            Vec::new()
        };
        PlaceAdjustment {
            factors,
            rural_sector,
            rural_share,
            place_costs,
        }
    }

    /// The factor on neighbourhood `k`'s (of place `place`) weight in year `y` and row.
    fn factor(&self, k: usize, place: usize, y: usize, f: &Formula, row: usize) -> f64 {
        let (mff, rur) = self.factors[place];
        let rurality = if !f.rurality {
            1.0
        } else if row == TOTAL && self.place_costs {
            1.0 + (rur - 1.0) * self.rural_share[k][y]
        } else if row == TOTAL || self.rural_sector[row] {
            rur
        } else {
            1.0
        };
        (if f.market_forces { mff } else { 1.0 }) * rurality
    }
}

/// What every formula's budgets of one run share: the inputs, each neighbourhood's
/// expected year-one cost, the systems' members and the pools.
struct Budgeting<'a> {
    weights: &'a Weights,
    geography: &'a Geography,
    scenario: &'a Scenario,
    levers: &'a Levers,
    results: &'a [NeighbourhoodResult],
    spend: &'a LineSpend,
    years: usize,
    cells: usize,
    /// Sector rows, the total, and the pooled fund when configured.
    n_rows: usize,
    pooled_share: Option<f64>,
    /// The envelope's growth a year: the scenario's, or the datasets' default.
    growth: f64,
    places: PlaceAdjustment,
    /// Expected year-one cost by neighbourhood and sector (pence), with no random draw.
    expected: Vec<[f64; N_SECTORS]>,
    /// The neighbourhoods of each system.
    systems: Vec<Vec<usize>>,
    /// The pool each neighbourhood pays into and draws on.
    pool_of: Vec<usize>,
}

impl<'a> Budgeting<'a> {
    #[allow(clippy::too_many_arguments)]
    fn new(
        model: &'a Model,
        datasets: &'a Datasets,
        weights: &'a Weights,
        geography: &'a Geography,
        scenario: &'a Scenario,
        levers: &'a Levers,
        results: &'a [NeighbourhoodResult],
        spend: &'a LineSpend,
    ) -> Self {
        let nn = geography.neighbourhoods.len();
        let pooled_share = scenario.envelope.pooled_social_care.map(|s| s.0);
        Budgeting {
            weights,
            geography,
            scenario,
            levers,
            results,
            spend,
            years: scenario.years as usize,
            cells: n_cells(model.segments.len()),
            n_rows: N_SECTORS + 1 + pooled_share.is_some() as usize,
            pooled_share,
            growth: scenario
                .envelope
                .growth
                .unwrap_or(datasets.parameters.envelope_real_growth),
            places: PlaceAdjustment::new(model, datasets, weights, geography, scenario, results),
            expected: geography
                .neighbourhoods
                .iter()
                .map(|nb| weights.expected_cost(nb))
                .collect(),
            systems: (0..geography.systems.len())
                .map(|sys| (0..nn).filter(|k| geography.system_of(*k) == sys).collect())
                .collect(),
            pool_of: (0..nn)
                .map(
                    |k| match scenario.capitation.risk_sharing.as_ref().map(|rs| rs.pool) {
                        Some(PoolLevel::Place) => geography.neighbourhoods[k].place,
                        _ => geography.system_of(k),
                    },
                )
                .collect(),
        }
    }

    /// Funding moved by the interventions in a neighbourhood-year: (from, to, pence).
    fn shifts(&self, k: usize, y: usize) -> Vec<(usize, usize, i64)> {
        self.levers
            .interventions
            .iter()
            .enumerate()
            .filter_map(|(i, d)| {
                d.funding_shift.map(|(from, to, _)| {
                    (
                        from as usize,
                        to as usize,
                        self.results[k].interventions[y].shift_total(i),
                    )
                })
            })
            .collect()
    }

    /// Formula `f`'s budgets, system by system.
    fn allocate(&self, f: &Formula) -> Allocation {
        let nn = self.geography.neighbourhoods.len();
        let mut a = Allocation {
            budget: vec![vec![[0; N_SECTORS]; self.years]; nn],
            target: vec![vec![[0; N_SECTORS]; self.years]; nn],
            weighted: vec![vec![[0.0; N_SECTORS + 1]; self.years]; nn],
        };
        for members in self.systems.iter().filter(|m| !m.is_empty()) {
            self.allocate_system(f, members, &mut a);
        }
        a
    }

    /// One system's year-one envelope (pence): `per_head` times its registered population,
    /// or its expected year-one cost.
    fn envelope(&self, members: &[usize]) -> f64 {
        match self.scenario.envelope.per_head {
            Some(p) => {
                let pop1: u64 = members
                    .iter()
                    .map(|k| self.geography.neighbourhoods[*k].population)
                    .sum();
                (p * 100.0 * pop1 as f64).round()
            }
            None => members
                .iter()
                .map(|k| self.expected[*k].iter().sum::<f64>())
                .sum::<f64>()
                .round(),
        }
    }

    /// One system's budgets, year by year: the envelope split by sector, each sector
    /// allocated toward the formula's targets (paced, when configured), then the funding
    /// the interventions shift between sectors.
    fn allocate_system(&self, f: &Formula, members: &[usize], a: &mut Allocation) {
        let env = &self.scenario.envelope;
        let start = self.envelope(members);
        let sector_weights: Vec<f64> = match &env.sector_shares {
            Some(m) => Sector::ALL
                .iter()
                .map(|s| m.get(s).copied().unwrap_or(0.0))
                .collect(),
            None => (0..N_SECTORS)
                .map(|j| members.iter().map(|k| self.expected[*k][j]).sum())
                .collect(),
        };
        // Current shares: each neighbourhood's share of the expected year-one cost,
        // sector by sector; after that, its share of last year's allocation.
        let mut current: Vec<Vec<f64>> = (0..N_SECTORS)
            .map(|j| {
                let tot: f64 = members.iter().map(|k| self.expected[*k][j]).sum();
                members
                    .iter()
                    .map(|k| {
                        if tot > 0.0 {
                            self.expected[*k][j] / tot
                        } else {
                            1.0 / members.len() as f64
                        }
                    })
                    .collect()
            })
            .collect();
        let mut last_cash: Vec<Vec<i64>> = vec![Vec::new(); N_SECTORS];
        let place_of: Vec<usize> = members
            .iter()
            .map(|k| self.geography.neighbourhoods[*k].place)
            .collect();
        let cells = self.cells;
        for y in 0..self.years {
            let envelope = (start * (1.0 + self.growth).powi(y as i32)).round() as i64;
            let by_sector = split(&sector_weights, envelope);
            let people: f64 = members
                .iter()
                .map(|k| {
                    self.results[*k].census[y * cells..(y + 1) * cells]
                        .iter()
                        .map(|n| *n as f64)
                        .sum::<f64>()
                })
                .sum();
            let raw_rows = self.target_weights(f, members, y);
            // Target shares of the system for a row (sector, or total).
            let targets = |j: usize| -> Vec<f64> {
                let raw: Vec<f64> = raw_rows.iter().map(|r| r[j]).collect();
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
                a.weighted[members[m]][y][TOTAL] = t * people;
            }
            for j in 0..N_SECTORS {
                let target = targets(j);
                for (m, k) in members.iter().enumerate() {
                    a.weighted[*k][y][j] = target[m] * people;
                }
                let e = by_sector[j];
                let goal = allocate(e, &place_of, &target);
                let alloc = match &self.scenario.capitation.pace_of_change {
                    None => goal.clone(),
                    Some(p) => {
                        let base: Vec<f64> = current[j].iter().map(|c| c * e as f64).collect();
                        let aim: Vec<f64> = target.iter().map(|t| t * e as f64).collect();
                        // No floor in year one: there is no cash of a year before.
                        let floor: Vec<f64> = if y == 0 {
                            vec![0.0; members.len()]
                        } else {
                            last_cash[j]
                                .iter()
                                .map(|c| *c as f64 * (1.0 + p.cash_floor))
                                .collect()
                        };
                        allocate(e, &place_of, &pace(&base, &aim, p.max_step.0, &floor))
                    }
                };
                for (m, k) in members.iter().enumerate() {
                    a.budget[*k][y][j] = alloc[m];
                    a.target[*k][y][j] = goal[m];
                }
                if e > 0 {
                    current[j] = alloc.iter().map(|a| *a as f64 / e as f64).collect();
                }
                last_cash[j] = alloc;
            }
            for k in members {
                for (from, to, pence) in self.shifts(*k, y) {
                    a.budget[*k][y][from] -= pence;
                    a.budget[*k][y][to] += pence;
                }
            }
        }
    }

    /// Raw target weights of each member in every row (sectors, then total) in year `y`,
    /// each census priced in one pass for all rows, adjusted for its place.
    fn target_weights(
        &self,
        f: &Formula,
        members: &[usize],
        y: usize,
    ) -> Vec<[f64; N_SECTORS + 1]> {
        let cells = self.cells;
        let heads = |c: &[u32]| c.iter().map(|n| *n as f64).sum::<f64>();
        members
            .iter()
            .map(|k| {
                // Recorded conditions are a year old: the estimated and table formulas see
                // last year's case mix (year 1: this year's).
                let seen = match f.basis {
                    Basis::Need | Basis::Table => y.saturating_sub(1),
                    _ => y,
                };
                let census = &self.results[*k].census[y * cells..(y + 1) * cells];
                let observed = &self.results[*k].census[seen * cells..(seen + 1) * cells];
                let mut raw = [0.0; N_SECTORS + 1];
                match f.basis {
                    Basis::Historic => {
                        let rows = self.weights.of_census_rows(f, census);
                        let heads = heads(census);
                        for (j, r) in raw.iter_mut().enumerate() {
                            let row = |v: &[i64; N_SECTORS]| -> f64 {
                                if j == TOTAL {
                                    v.iter().sum::<i64>() as f64
                                } else {
                                    v[j] as f64
                                }
                            };
                            // Year one: the expected cost, known in advance.
                            let prev = if y == 0 {
                                if j == TOTAL {
                                    self.expected[*k].iter().sum()
                                } else {
                                    self.expected[*k][j]
                                }
                            } else {
                                row(&self.spend[*k][y - 1])
                            };
                            let ineq = rows[j] / heads.max(1.0);
                            *r = prev * ineq;
                        }
                    }
                    // Last year's need per head, for this year's people.
                    Basis::Need | Basis::Table => {
                        let rows = self.weights.of_census_rows(f, observed);
                        let (seen_heads, now) = (heads(observed), heads(census));
                        for (r, w) in raw.iter_mut().zip(rows) {
                            *r = w / seen_heads.max(1.0) * now;
                        }
                    }
                    // The practices' published weighted population, the same in every row
                    // and year (`prepare` refuses a geography without it).
                    Basis::Published => {
                        let w = self.geography.neighbourhoods[*k]
                            .published
                            .map_or(0.0, |p| p.weighted(f.component()));
                        raw = [w; N_SECTORS + 1];
                    }
                    _ => raw = self.weights.of_census_rows(f, census),
                }
                let place = self.geography.neighbourhoods[*k].place;
                for (j, r) in raw.iter_mut().enumerate() {
                    *r *= self.places.factor(*k, place, y, f, j);
                }
                raw
            })
            .collect()
    }

    /// Money of each neighbourhood row `[neighbourhood][year][row]`: sectors, the total,
    /// and the pooled fund (health sectors plus the pooled share of social care, that
    /// share computed for the whole system and split by largest remainder).
    fn money_rows(&self, a: &Allocation) -> Vec<Vec<Vec<RowMoney>>> {
        let nn = self.geography.neighbourhoods.len();
        let mut money = vec![vec![vec![(0i64, 0i64, 0i64, 0.0f64); self.n_rows]; self.years]; nn];
        for k in 0..nn {
            for y in 0..self.years {
                let (b, s, t) = (a.budget[k][y], self.spend[k][y], a.target[k][y]);
                for j in 0..N_SECTORS {
                    money[k][y][j] = (b[j], s[j], t[j], a.weighted[k][y][j]);
                }
                money[k][y][TOTAL] = (
                    b.iter().sum(),
                    s.iter().sum(),
                    t.iter().sum(),
                    a.weighted[k][y][TOTAL],
                );
            }
        }
        let Some(p) = self.pooled_share else {
            return money;
        };
        let sc = Sector::SocialCare as usize;
        let health = |v: &[i64; N_SECTORS]| -> i64 {
            (0..N_SECTORS).filter(|j| *j != sc).map(|j| v[j]).sum()
        };
        for members in &self.systems {
            for y in 0..self.years {
                let of = |v: &Vec<Vec<[i64; N_SECTORS]>>| -> Vec<i64> {
                    members.iter().map(|k| v[*k][y][sc]).collect()
                };
                let parts = [
                    pooled_part(p, &of(&a.budget)),
                    pooled_part(p, &of(self.spend)),
                    pooled_part(p, &of(&a.target)),
                ];
                for (m, k) in members.iter().enumerate() {
                    money[*k][y][POOLED] = (
                        health(&a.budget[*k][y]) + parts[0][m],
                        health(&self.spend[*k][y]) + parts[1][m],
                        health(&a.target[*k][y]) + parts[2][m],
                        a.weighted[*k][y][TOTAL],
                    );
                }
            }
        }
        money
    }

    /// Risk sharing: positions after sharing `[neighbourhood][year][row]` and each pool's
    /// balance and cover.
    fn share_risks(&self, money: &[Vec<Vec<RowMoney>>]) -> (Vec<Vec<Vec<i64>>>, PoolBalances) {
        let nn = money.len();
        let mut after = vec![vec![vec![0i64; self.n_rows]; self.years]; nn];
        let mut pools = PoolBalances::new();
        for y in 0..self.years {
            for j in 0..self.n_rows {
                let b: Vec<i64> = (0..nn).map(|k| money[k][y][j].0).collect();
                let pos: Vec<i64> = (0..nn)
                    .map(|k| money[k][y][j].0 - money[k][y][j].1)
                    .collect();
                let shared = match &self.scenario.capitation.risk_sharing {
                    Some(rs) => {
                        let (a, balances) = pool(rs, &b, &pos, &self.pool_of);
                        for (area, v) in balances {
                            pools.insert((y as i32 + 1, area, BudgetRow::of_index(j)), v);
                        }
                        a
                    }
                    None => pos,
                };
                for (k, a) in shared.into_iter().enumerate() {
                    after[k][y][j] = a;
                }
            }
        }
        (after, pools)
    }

    /// The rows of one formula: neighbourhoods, then places and systems (and the nation,
    /// with several systems) as their sums, then the pools.
    fn push_rows(
        &self,
        out: &mut Budgets,
        formula: u8,
        money: &[Vec<Vec<RowMoney>>],
        after: &[Vec<Vec<i64>>],
        pools: PoolBalances,
    ) {
        let geography = self.geography;
        let first = out.year.len();
        for (k, money) in money.iter().enumerate() {
            for y in 0..self.years {
                for j in 0..self.n_rows {
                    let (bj, sj, tj, w) = money[y][j];
                    let position = bj - sj;
                    let a = after[k][y][j];
                    out.push(
                        formula,
                        y,
                        (Level::Neighbourhood, k),
                        BudgetRow::of_index(j),
                        self.results[k].flows[y].start,
                        w,
                        [bj, sj, position, a, (a - position).max(0), tj],
                    );
                }
            }
        }
        let last = out.year.len();
        // The nation's rows (area 0) only when several systems run: one system's would
        // repeat its system rows.
        let levels: [(Level, &dyn Fn(usize) -> usize); 3] = [
            (Level::Place, &|k: usize| geography.neighbourhoods[k].place),
            (Level::System, &|k: usize| geography.system_of(k)),
            (Level::England, &|_| 0),
        ];
        let n_levels = if geography.systems.len() > 1 { 3 } else { 2 };
        for (level, of) in &levels[..n_levels] {
            let level = *level;
            let mut sums: BTreeMap<AreaRow, RowSums> = BTreeMap::new();
            for i in first..last {
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
                    out.target[i],
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
                    formula,
                    key.1 as usize - 1,
                    (level, key.0),
                    key.2,
                    people,
                    w,
                    money,
                );
            }
        }
        for ((year, area, row), (balance, covered)) in pools {
            out.push(
                formula,
                year as usize - 1,
                (Level::Pool, area),
                row,
                0,
                0.0,
                [0, 0, 0, balance, covered, 0],
            );
        }
    }
}

/// (area index, year, row) of an aggregated row.
type AreaRow = (usize, i32, BudgetRow);
/// Money columns of a row: budget, spend, position, after sharing, pooled deficit, target.
const MONEY: usize = 6;
/// People, weighted population, and the money columns.
type RowSums = (u64, f64, [i64; MONEY]);

impl Budgets {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        formula: u8,
        y: usize,
        (level, area): (Level, usize),
        sector: BudgetRow,
        people: u64,
        weighted: f64,
        [budget, spend, position, after, pooled, target]: [i64; MONEY],
    ) {
        self.formula.push(formula);
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
        self.target.push(target);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::uncertainty::Share;
    use proptest::prelude::*;

    #[test]
    fn risk_sharing_applies_shares_cap_and_collar_and_the_pool_takes_the_rest() {
        let rs = RiskSharing {
            pool: PoolLevel::Place,
            gain_share: Share(0.5),
            loss_share: Share(0.5),
            cap: Some(Share(0.01)),
            collar: Some(Share(0.005)),
            ..RiskSharing::default()
        };
        // Deficit of 5% on 1,000,000: the pool covers half (2.5%), and the collar limits
        // the neighbourhood's loss to 0.5%, so the pool covers 4.5% in all.
        assert_eq!(share_risk(&rs, 1_000_000, -50_000), (-5_000, -45_000));
        // Surplus of 4%: half is paid in (2%), and the cap keeps 1%: the pool gets 3%.
        assert_eq!(share_risk(&rs, 1_000_000, 40_000), (10_000, 30_000));
        // A pool that shares nothing: the position stands.
        assert_eq!(share_risk(&RiskSharing::default(), 100, -7), (-7, 0));
        // Two neighbourhoods of one pool: balances add up.
        let (after, balances) = pool(&rs, &[1_000_000, 1_000_000], &[-50_000, 40_000], &[3, 3]);
        assert_eq!(after, vec![-5_000, 10_000]);
        assert_eq!(balances[&3], (-15_000, 45_000));
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
    }

    #[test]
    fn hand_worked_pace_of_change() {
        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9);
        let base = [100.0, 100.0, 100.0];
        // Steps of 10%: A and C each move 10 of their 100 toward their targets.
        let next = pace(&base, &[50.0, 100.0, 150.0], 0.1, &[0.0; 3]);
        assert!(close(&next, &[90.0, 100.0, 110.0]), "{next:?}");
        // A and B above target could lose 10 each, C gain only 10: C's gain sets the
        // move, and A and B each lose half of what they could.
        let next = pace(&base, &[80.0, 60.0, 160.0], 0.1, &[0.0; 3]);
        assert!(close(&next, &[95.0, 95.0, 110.0]), "{next:?}");
        // A cash floor of 97 for A: A may lose 3, B 10; C's 10 comes from them pro rata.
        let next = pace(&base, &[80.0, 60.0, 160.0], 0.1, &[97.0, 0.0, 0.0]);
        let want = [100.0 - 30.0 / 13.0, 100.0 - 100.0 / 13.0, 110.0];
        assert!(close(&next, &want), "{next:?}");
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

        /// Each area moves by at most `max_step` of its own allocation, toward its target
        /// and never past it, above its cash floor; and in pence, the allocation still sums
        /// to the envelope exactly, each area within a step (and 2p of rounding, one per
        /// level of the split) of its starting point.
        #[test]
        fn pace_moves_each_area_at_most_its_step_and_keeps_the_sum(
            raw in proptest::collection::vec((0.01f64..1.0, 0.01f64..1.0, 0usize..4), 2..40),
            step in 0.0001f64..0.2,
            envelope in 1_000_000i64..1_000_000_000_000,
            floor_ratio in 0.9f64..1.1,
        ) {
            let cs: f64 = raw.iter().map(|r| r.0).sum();
            let ts: f64 = raw.iter().map(|r| r.1).sum();
            let e = envelope as f64;
            let base: Vec<f64> = raw.iter().map(|r| r.0 / cs * e).collect();
            let target: Vec<f64> = raw.iter().map(|r| r.1 / ts * e).collect();
            let floor: Vec<f64> = base.iter().map(|b| b * floor_ratio).collect();
            let next = pace(&base, &target, step, &floor);
            prop_assert!((next.iter().sum::<f64>() - e).abs() <= 1e-9 * e);
            for i in 0..next.len() {
                let moved = next[i] - base[i];
                prop_assert!(moved.abs() <= step * base[i] * (1.0 + 1e-9));
                // Toward the target, never past it.
                prop_assert!(moved * (target[i] - base[i]) >= 0.0);
                prop_assert!(moved.abs() <= (target[i] - base[i]).abs() * (1.0 + 1e-9));
                // The floor holds wherever it is below the starting point.
                if floor[i] <= base[i] {
                    prop_assert!(next[i] >= floor[i] * (1.0 - 1e-12));
                }
            }
            let place_of: Vec<usize> = raw.iter().map(|r| r.2).collect();
            let pence = allocate(envelope, &place_of, &next);
            prop_assert_eq!(pence.iter().sum::<i64>(), envelope);
            for i in 0..pence.len() {
                let moved = (pence[i] as f64 - base[i]).abs();
                prop_assert!(moved <= step * base[i] * (1.0 + 1e-9) + 2.0, "{} {}", moved, base[i]);
            }
        }

        /// Pools conserve money: positions after sharing plus pool balances equal the
        /// positions, to the penny; no neighbourhood keeps more than its cap or loses more
        /// than its collar; sharing never turns a surplus into a deficit.
        #[test]
        fn pools_conserve_money_to_the_penny(
            rows in proptest::collection::vec(
                (0i64..10_000_000_000, -1_000_000_000i64..1_000_000_000, 0usize..5),
                1..60,
            ),
            gain in 0.0f64..=1.0,
            loss in 0.0f64..=1.0,
            cap in proptest::option::of(0.0f64..0.2),
            collar in proptest::option::of(0.0f64..0.2),
        ) {
            let rs = RiskSharing {
                pool: PoolLevel::Place,
                gain_share: Share(gain),
                loss_share: Share(loss),
                cap: cap.map(Share),
                collar: collar.map(Share),
                ..RiskSharing::default()
            };
            let budget: Vec<i64> = rows.iter().map(|r| r.0).collect();
            let position: Vec<i64> = rows.iter().map(|r| r.1).collect();
            let pool_of: Vec<usize> = rows.iter().map(|r| r.2).collect();
            let (after, balances) = pool(&rs, &budget, &position, &pool_of);
            let kept: i64 = after.iter().sum();
            let pooled: i64 = balances.values().map(|b| b.0).sum();
            prop_assert_eq!(kept + pooled, position.iter().sum::<i64>());
            for i in 0..rows.len() {
                prop_assert!(after[i] * position[i].signum() >= 0);
                prop_assert!(after[i].abs() <= position[i].abs());
                if let Some(c) = cap {
                    prop_assert!(after[i] as f64 <= c * budget[i] as f64 + 1.0);
                }
                if let Some(c) = collar {
                    prop_assert!(after[i] as f64 >= -c * budget[i] as f64 - 1.0);
                }
            }
            for (area, (_, covered)) in &balances {
                let want: i64 = (0..rows.len())
                    .filter(|i| pool_of[*i] == *area)
                    .map(|i| (after[i] - position[i]).max(0))
                    .sum();
                prop_assert_eq!(*covered, want);
            }
        }

        /// The pooled share of a sector, split by largest remainder, sums to the share of
        /// the system's total, whatever the split of the sector between neighbourhoods.
        #[test]
        fn pooled_parts_sum_to_the_systems_share(
            values in proptest::collection::vec(0i64..10_000_000_000, 1..40),
            p in 0.0f64..=1.0,
        ) {
            let parts = pooled_part(p, &values);
            let total: i64 = values.iter().sum();
            prop_assert_eq!(parts.iter().sum::<i64>(), (p * total as f64).round() as i64);
        }
    }
}
