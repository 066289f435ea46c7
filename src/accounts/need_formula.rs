//! The `need` capitation formula as commissioners could estimate it: person-based resource
//! allocation (PBRA), after Dixon et al., "Person based resource allocation", BMJ 2011.
//!
//! Commissioners never see a person's latent risk or true current segment. They see age,
//! sex, deprivation and *recorded* conditions: the segment as GP records show it, which
//! misses some conditions (sensitivity below 1) and is a year old. So the formula is
//! fitted, like PBRA, as a person-level regression of each person's cost, per sector, on
//! those observed characteristics alone, on a separate simulated estimation year with
//! streams of its own (`Purpose::Estimation`): synthesise people, record last year's
//! segment, step one year of transitions, draw each person's care. The model is additive:
//! an age-sex term, a deprivation term and a recorded-segment term. The benchmark basis
//! `true_expected_cost` keeps the simulator's own expected costs for comparison.

use rayon::prelude::*;

use crate::config::scenario::Variation;
use crate::core::care::{Sector, Setting, N_SECTORS};
use crate::core::dims::{n_cells, Cell, BAND_LABELS, N_BANDS, N_IMD, N_SEX, SEX_LABELS};
use crate::core::rng::{person_uniform, Purpose, StreamKey};
use crate::data::geography::{Geography, Neighbourhood};
use crate::engine::population::People;
use crate::engine::synthesis::synthesise;
use crate::model::activity::poisson;
use crate::model::variation::AreaFactors;
use crate::model::Model;

/// People sampled for the estimation year, about (more adds time, not precision: the
/// coefficients' standard errors are already small at this size).
const SAMPLE: u64 = 400_000;

/// Rows fitted: each sector, then the total.
pub const ROWS: usize = N_SECTORS + 1;

/// A term of the additive model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Term {
    AgeSex {
        band: usize,
        sex: usize,
    },
    /// Quintile 2 to 5 relative to quintile 1 (most deprived); index 1..5.
    Deprivation {
        imd: usize,
    },
    /// A recorded segment relative to the reference (least severe) segment.
    Segment {
        segment: usize,
    },
}

impl Term {
    /// (kind, level) as written in the `formula_weights` table.
    pub fn labels(self, segments: &[String]) -> (&'static str, String) {
        match self {
            Term::AgeSex { band, sex } => (
                "age_sex",
                format!("{} {}", BAND_LABELS[band], SEX_LABELS[sex]),
            ),
            Term::Deprivation { imd } => ("imd_quintile", (imd + 1).to_string()),
            Term::Segment { segment } => ("recorded_segment", segments[segment].clone()),
        }
    }
}

/// The fitted formula.
#[derive(Debug, Clone)]
pub struct NeedFormula {
    /// Segment index everyone unrecorded appears in, and the reference level.
    pub reference: usize,
    /// Share of people with a condition whose record shows it.
    pub sensitivity: f64,
    /// Terms, in coefficient order.
    pub terms: Vec<Term>,
    /// Coefficients in pence a year, `[row][term]`.
    pub coefficients: Vec<Vec<f64>>,
    /// Predicted cost per head in pence by recorded segment, `[row][census cell]`, at 0 or
    /// above.
    pub predicted: Vec<Vec<f64>>,
    /// The weight a person carries given their true segment a year earlier, with records
    /// missing a share of conditions: `[row][census cell]`.
    pub by_true_segment: Vec<Vec<f64>>,
    /// Share of the variance of person cost explained, per row.
    pub person_r2: Vec<f64>,
    /// People in the estimation sample.
    pub people: u64,
}

/// Sums of the estimation sample by observed cell: people, and cost and squared cost
/// (pence) per row.
#[derive(Debug, Clone)]
struct CellSums {
    n: Vec<f64>,
    y: Vec<[f64; ROWS]>,
    y2: Vec<[f64; ROWS]>,
}

impl CellSums {
    /// Back to zero, keeping the memory.
    fn clear(&mut self) {
        self.n.fill(0.0);
        self.y.fill([0.0; ROWS]);
        self.y2.fill([0.0; ROWS]);
    }

    fn new(cells: usize) -> Self {
        CellSums {
            n: vec![0.0; cells],
            y: vec![[0.0; ROWS]; cells],
            y2: vec![[0.0; ROWS]; cells],
        }
    }
}

/// One sampled person's cost in pence per row over the estimation year.
fn person_cost(
    model: &Model,
    area: &AreaFactors,
    people: &People,
    i: usize,
    segment: u8,
    rng: &mut crate::core::rng::StreamRng,
) -> [f64; ROWS] {
    let a = &model.activity;
    let cost = |s: Setting| a.unit_cost_pence(s, 1) as f64 * area.cost[s.index()];
    let cell = Cell::of(people.age[i], people.sex[i], people.imd[i], segment).exposure();
    let risk = people.risk[i] as f64;
    let mut out = [0.0; ROWS];
    for s in Setting::ALL {
        if s.derived_from().is_some() {
            continue;
        }
        let n = poisson(a.rate(s, cell) * risk * area.activity[s.index()], rng);
        let mut pence = n as f64 * cost(s);
        out[a.sector(s).index()] += pence;
        if s == Setting::EmergencyAdmissions {
            let days = a.total_length_of_stay(n, a.los_of_cell(cell), rng);
            pence = days as f64 * cost(Setting::EmergencyBedDays);
            out[a.sector(Setting::EmergencyBedDays).index()] += pence;
        }
    }
    out[N_SECTORS] = out[..N_SECTORS].iter().sum();
    out
}

/// Simulates the estimation year in one neighbourhood and sums it by observed cell into
/// `sums`.
#[allow(clippy::too_many_arguments)]
fn sample_neighbourhood(
    model: &Model,
    geography: &Geography,
    variation: Variation,
    k: usize,
    seed: u64,
    stride: u64,
    reference: usize,
    sensitivity: f64,
    sums: &mut CellSums,
) {
    sums.clear();
    let nb = &geography.neighbourhoods[k];
    // The area's own rates and costs, as in the runs: the real data a formula is fitted
    // on carries the differences between areas that it cannot see. Its yearly wobble is
    // a year of its own (run u64::MAX, year 0), apart from every simulated run.
    let area = model.variation.factors(
        variation,
        (seed, u64::MAX),
        (nb.id, &geography.places[nb.place].name),
        0,
    );
    let ns = model.segments.len();
    let key = |year: u64| StreamKey {
        seed,
        run: 0,
        neighbourhood: nb.id,
        year,
        purpose: Purpose::Estimation,
    };
    // A sample of the neighbourhood's people: the same structure at 1/stride the size,
    // so a large geography costs no more to estimate on than a small one.
    let sample = Neighbourhood {
        population: (nb.population / stride).max(1),
        ..nb.clone()
    };
    let mut people = People::default();
    synthesise(model, &sample, &mut people, &mut key(0).rng());
    let (transition, record) = (key(1).hash(), key(2).hash());
    let mut rng = key(3).rng();
    for i in 0..people.len() {
        let id = people.id[i];
        let (age, imd, last_year) = (people.age[i], people.imd[i], people.segment[i]);
        let now = model
            .segments
            .next(age, imd, last_year, person_uniform(transition, id));
        let recorded =
            if last_year as usize != reference && person_uniform(record, id) < sensitivity {
                last_year
            } else {
                reference as u8
            };
        let y = person_cost(model, &area, &people, i, now, &mut rng);
        let c = Cell::of(age, people.sex[i], imd, recorded).census(ns);
        sums.n[c] += 1.0;
        for r in 0..ROWS {
            sums.y[c][r] += y[r];
            sums.y2[c][r] += y[r] * y[r];
        }
    }
}

/// Solves `a x = b` for a symmetric positive definite `a` (n x n, row-major) by Cholesky
/// decomposition. The system is small (about 50 terms); ndarray has no solver without a
/// LAPACK library, which this project does not link.
pub fn solve_spd(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            l[i * n + j] = if i == j {
                s.max(f64::MIN_POSITIVE).sqrt()
            } else {
                s / l[j * n + j]
            };
        }
    }
    let mut z = vec![0.0; n];
    for i in 0..n {
        let s: f64 = (0..i).map(|k| l[i * n + k] * z[k]).sum();
        z[i] = (b[i] - s) / l[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| l[k * n + i] * x[k]).sum();
        x[i] = (z[i] - s) / l[i * n + i];
    }
    x
}

/// The terms of a census cell (by recorded segment), as indices into the term list.
fn term_indices(c: Cell, reference: usize, seg_term: &[Option<usize>]) -> Vec<usize> {
    let mut t = vec![c.band * N_SEX + c.sex];
    if c.imd > 0 {
        t.push(N_BANDS * N_SEX + c.imd - 1);
    }
    if c.segment != reference {
        t.extend(seg_term[c.segment]);
    }
    t
}

/// Fits the additive model (age-sex + deprivation + recorded segment) by least squares
/// on the sample's sums by observed cell; returns the terms, the coefficients `[row][term]`
/// and the prediction per census cell `[row][cell]`, at 0 or above.
fn fit(all: &CellSums, ns: usize, reference: usize) -> (Vec<Term>, Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let cells = n_cells(ns);
    // Terms: age-sex, deprivation (vs quintile 1), recorded segment (vs the reference).
    let mut terms: Vec<Term> = Vec::new();
    for band in 0..N_BANDS {
        for sex in 0..N_SEX {
            terms.push(Term::AgeSex { band, sex });
        }
    }
    for imd in 1..N_IMD {
        terms.push(Term::Deprivation { imd });
    }
    let mut seg_term = vec![None; ns];
    for (segment, slot) in seg_term.iter_mut().enumerate() {
        if segment != reference {
            *slot = Some(terms.len());
            terms.push(Term::Segment { segment });
        }
    }
    let p = terms.len();
    let cell_of = |c: usize| Cell::from_census(c, ns);
    let mut xtx = vec![0.0; p * p];
    let mut xty = vec![vec![0.0; p]; ROWS];
    for c in 0..cells {
        let n = all.n[c];
        if n == 0.0 {
            continue;
        }
        let t = term_indices(cell_of(c), reference, &seg_term);
        for &a in &t {
            for &b in &t {
                xtx[a * p + b] += n;
            }
            for r in 0..ROWS {
                xty[r][a] += all.y[c][r];
            }
        }
    }
    // A term nobody in the sample has would make the system singular: a unit on its
    // diagonal leaves its coefficient at zero and touches no other.
    for i in 0..p {
        if xtx[i * p + i] == 0.0 {
            xtx[i * p + i] = 1.0;
        }
    }
    let coefficients: Vec<Vec<f64>> = xty.iter().map(|b| solve_spd(&xtx, b, p)).collect();
    let predicted: Vec<Vec<f64>> = coefficients
        .iter()
        .map(|beta| {
            (0..cells)
                .map(|c| {
                    term_indices(cell_of(c), reference, &seg_term)
                        .iter()
                        .map(|t| beta[*t])
                        .sum::<f64>()
                        .max(0.0)
                })
                .collect()
        })
        .collect();
    (terms, coefficients, predicted)
}

/// Fits the formula on an estimation year of `geography`'s people, keyed by `seed`.
/// `reference` is the least severe segment, where unrecorded conditions fall.
pub fn estimate(
    model: &Model,
    geography: &Geography,
    variation: Variation,
    seed: u64,
    reference: usize,
    sensitivity: f64,
) -> NeedFormula {
    let ns = model.segments.len();
    let cells = n_cells(ns);
    let stride = (geography.total_population() / SAMPLE).max(1);
    // Neighbourhoods are sampled in parallel a block at a time into sums that are reused,
    // then added to the total in neighbourhood order. Fresh sums per neighbourhood (160 KB
    // each) were fresh pages, and for England's 1,250 neighbourhoods their first writes
    // and releases cost half a second of page faults and cross-core TLB flushes.
    const BLOCK: usize = 64;
    let n = geography.neighbourhoods.len();
    let mut block: Vec<CellSums> = (0..BLOCK.min(n)).map(|_| CellSums::new(cells)).collect();
    let mut all = CellSums::new(cells);
    for start in (0..n).step_by(BLOCK) {
        let here = &mut block[..BLOCK.min(n - start)];
        here.par_iter_mut().enumerate().for_each(|(j, sums)| {
            sample_neighbourhood(
                model,
                geography,
                variation,
                start + j,
                seed,
                stride,
                reference,
                sensitivity,
                sums,
            )
        });
        for s in here.iter() {
            for c in 0..cells {
                all.n[c] += s.n[c];
                for r in 0..ROWS {
                    all.y[c][r] += s.y[c][r];
                    all.y2[c][r] += s.y2[c][r];
                }
            }
        }
    }
    let (terms, coefficients, predicted) = fit(&all, ns, reference);
    let cell_of = |c: usize| Cell::from_census(c, ns);
    let by_true_segment: Vec<Vec<f64>> = predicted
        .iter()
        .map(|pred| {
            (0..cells)
                .map(|c| {
                    let cell = cell_of(c);
                    if cell.segment == reference {
                        pred[c]
                    } else {
                        let unrecorded = Cell {
                            segment: reference,
                            ..cell
                        }
                        .census(ns);
                        sensitivity * pred[c] + (1.0 - sensitivity) * pred[unrecorded]
                    }
                })
                .collect()
        })
        .collect();
    let people: f64 = all.n.iter().sum();
    let person_r2 = (0..ROWS)
        .map(|r| {
            let (sy, sy2): (f64, f64) =
                (0..cells).fold((0.0, 0.0), |(a, b), c| (a + all.y[c][r], b + all.y2[c][r]));
            let sst = sy2 - sy * sy / people;
            let ssr: f64 = (0..cells)
                .map(|c| {
                    let yhat = predicted[r][c];
                    all.y2[c][r] - 2.0 * yhat * all.y[c][r] + all.n[c] * yhat * yhat
                })
                .sum();
            if sst > 0.0 {
                1.0 - ssr / sst
            } else {
                0.0
            }
        })
        .collect();
    NeedFormula {
        reference,
        sensitivity,
        terms,
        coefficients,
        predicted,
        by_true_segment,
        person_r2,
        people: people as u64,
    }
}

/// 1 - sum of squared errors / total sum of squares of (actual, predicted) pairs.
pub fn r_squared(pts: &[(f64, f64)]) -> f64 {
    if pts.len() < 2 {
        return 0.0;
    }
    let mean = pts.iter().map(|p| p.0).sum::<f64>() / pts.len() as f64;
    let sst: f64 = pts.iter().map(|p| (p.0 - mean).powi(2)).sum();
    let sse: f64 = pts.iter().map(|p| (p.0 - p.1).powi(2)).sum();
    if sst > 0.0 {
        1.0 - sse / sst
    } else {
        0.0
    }
}

/// The id of a fitted row: a sector, or the total.
pub fn row_id(row: usize) -> &'static str {
    if row == N_SECTORS {
        "total"
    } else {
        Sector::ALL[row].id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves_a_known_system() {
        // [[4, 2], [2, 3]] x = [6, 5] has x = [1, 1].
        let x = solve_spd(&[4.0, 2.0, 2.0, 3.0], &[6.0, 5.0], 2);
        assert!(
            (x[0] - 1.0).abs() < 1e-12 && (x[1] - 1.0).abs() < 1e-12,
            "{x:?}"
        );
    }

    /// On data made by a known additive model (each cell's people spread symmetrically
    /// around the model's value), the fit recovers every coefficient and predicts every
    /// cell exactly, in every row.
    #[test]
    fn the_fit_recovers_a_known_additive_model() {
        let ns = 4;
        let reference = 0;
        let age_sex = |b: usize, x: usize| 500.0 + 100.0 * b as f64 + 37.0 * x as f64;
        let imd = [0.0, -20.0, -45.0, -60.0, -80.0];
        let seg = [0.0, 300.0, 1_200.0, 9_000.0];
        let cells = n_cells(ns);
        let mut s = CellSums::new(cells);
        let cell_of = |c: usize| Cell::from_census(c, ns);
        for c in 0..cells {
            let cell = cell_of(c);
            let truth = age_sex(cell.band, cell.sex) + imd[cell.imd] + seg[cell.segment];
            // Unequal cell sizes, and noise of +-d that cancels within the cell.
            let n = 2.0 * (1 + (c * 7) % 5) as f64;
            let d = 250.0;
            s.n[c] = n;
            for r in 0..ROWS {
                let k = (r + 1) as f64;
                s.y[c][r] = n * k * truth;
                s.y2[c][r] = n / 2.0 * ((k * truth + d).powi(2) + (k * truth - d).powi(2));
            }
        }
        let (terms, coefficients, predicted) = fit(&s, ns, reference);
        for r in 0..ROWS {
            let k = (r + 1) as f64;
            for (t, beta) in terms.iter().zip(&coefficients[r]) {
                let want = k * match *t {
                    Term::AgeSex { band, sex } => age_sex(band, sex),
                    Term::Deprivation { imd: q } => imd[q],
                    Term::Segment { segment } => seg[segment],
                };
                assert!(
                    (beta - want).abs() < 1e-6 * want.abs().max(1.0),
                    "{t:?}: {beta} vs {want}"
                );
            }
            for c in 0..cells {
                let cell = cell_of(c);
                let truth = k * (age_sex(cell.band, cell.sex) + imd[cell.imd] + seg[cell.segment]);
                assert!((predicted[r][c] - truth).abs() < 1e-6 * truth);
            }
        }
    }

    #[test]
    fn r_squared_of_perfect_and_of_mean_predictions() {
        let pts = [(1.0, 1.0), (2.0, 2.0), (3.0, 3.0)];
        assert_eq!(r_squared(&pts), 1.0);
        let flat = [(1.0, 2.0), (2.0, 2.0), (3.0, 2.0)];
        assert!(r_squared(&flat).abs() < 1e-12);
    }
}
