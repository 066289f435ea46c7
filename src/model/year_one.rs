//! The simulator's expected year-one cost of a person, priced as the yearly cycle accrues
//! it: per census cell (`need`, a full year of use at the cell's rates and unit costs) and
//! per resident at the start of year one by age band, sex and quintile (`start`, over the
//! starting segment prevalence, counting deaths, moves, changes of segment, mothers'
//! maternity years, the last year of life and the babies and in-migrants residents bring);
//! and the same per resident by starting segment (`BySegment`), for people whose segment
//! prevalence is their own.
//!
//! It lives in `model` because two layers price people with it: capitation's weights
//! (`accounts::capitation`) and the fit of real England's practices to their published
//! need indices (`model::practice_fit`), which runs before anything is simulated.

use crate::core::care::{Setting, N_SECTORS};
use crate::core::dims::{n_cells, Cell, FEMALE, N_BANDS, N_IMD, N_SEX};
use crate::model::demography::age_shares;
use crate::model::Model;

/// Row index of the total (after the sectors' rows) in per-row arrays.
pub const TOTAL: usize = N_SECTORS;

/// Expected cost per resident by band, sex and quintile at the start of year one, per row
/// (sectors, then the total), in pence at year-one prices.
pub type StartCost = [[[f64; N_IMD]; N_SEX]; N_BANDS];

/// The simulator's expected year-one costs, per row (sectors in `Sector` order, then
/// [`TOTAL`]).
#[derive(Debug, Clone)]
pub struct YearOneCost {
    /// Expected cost per head of a year in each census cell, `[row][census cell]`.
    pub need: Vec<Vec<f64>>,
    /// Expected year-one cost per resident at the start of the year, `[row]`.
    pub start: Vec<StartCost>,
}

impl YearOneCost {
    pub fn new(model: &Model) -> Self {
        let need = need_by_cell(model);
        let start = start_weights(model, &need, &Accrual::of(model));
        YearOneCost { need, start }
    }
}

/// Expected cost per head (pence, year one) of each census cell, per row (sectors, then
/// the total), from the datasets' rates and unit costs; bed days at each cell's stay.
pub fn need_by_cell(model: &Model) -> Vec<Vec<f64>> {
    let ns = model.segments.len();
    let a = &model.activity;
    let mut need = vec![vec![0.0; n_cells(ns)]; N_SECTORS + 1];
    for cell in Cell::all(ns) {
        let (c, e) = (cell.census(ns), cell.exposure());
        for s in Setting::ALL {
            let rate = match s.derived_from() {
                Some(parent) => a.rate(parent, e) * a.los_of_cell(e),
                None => a.rate(s, e),
            };
            let cost = rate * a.unit_cost_pence(s, 1) as f64;
            need[a.sector(s) as usize][c] += cost;
            need[TOTAL][c] += cost;
        }
    }
    need
}

/// What a resident of each census cell accrues in year one: weights on the cells of its
/// band, sex and quintile by segment (`mix[c][h]`), and expected deaths (`dies[c]`), with
/// the extra cost of the last year of life of a death in each band, per row.
struct Accrual {
    mix: Vec<Vec<f64>>,
    dies: Vec<f64>,
    end_of_life: Vec<[f64; N_BANDS]>,
}

impl Accrual {
    fn of(model: &Model) -> Self {
        let ns = model.segments.len();
        let a = &model.activity;
        // Expected year-one cost per resident at the start of the year, by band, sex and
        // quintile, as the yearly cycle accrues it (by single year of age within the band):
        // a full year's exposure for those who stay and half for those who die or move out;
        // half a year in the new segment for survivors who change segment; a mother's year
        // in the maternity segment; the extra care of the last year of life for those who
        // die; and half a year for the in-migrants and babies they bring.
        let dem = &model.demography;
        let maternity = model.segments.newborn() as usize;
        let fertility = |b: usize, x: usize| {
            if x == FEMALE as usize {
                dem.fertility(b)
            } else {
                0.0
            }
        };
        // What a resident of each census cell accrues, as weights on the cells of its band,
        // sex and quintile by segment (`mix[c][h]`, the same for every row), and expected
        // deaths per resident (`dies[c]`), summed over single years of age. Computed once:
        // the rows (sectors, total) differ only in the costs they weigh.
        let mut mix = vec![vec![0.0; ns]; n_cells(ns)];
        let mut dies = vec![0.0; n_cells(ns)];
        for (c, cell) in Cell::all(ns).enumerate() {
            let (g, q, x) = (cell.segment as u8, cell.imd as u8, cell.sex as u8);
            let mother = fertility(cell.band, cell.sex);
            for (age, p) in age_shares(cell.band) {
                let die = dem.death(g, q, x, age);
                let out = dem.out_migration(x, age, die);
                let present = 1.0 - 0.5 * (die + out);
                let survive = 1.0 - die - out;
                dies[c] += p * die;
                // Her own year, with survivors who change segment spending half of it in
                // the new one.
                let own = p * (1.0 - mother);
                mix[c][cell.segment] += own * present;
                for h in 0..ns {
                    let moved =
                        own * 0.5 * survive * model.segments.probability(age, q, g, h as u8);
                    mix[c][h] += moved;
                    mix[c][cell.segment] -= moved;
                }
                // A mother's year is in the maternity segment.
                mix[c][maternity] += p * mother * present;
            }
        }
        // The extra care of the last year of life of a death in each band, per row (sector,
        // total): decedents add it on top of their half year of ordinary use
        // (`ActivityModel::add_end_of_life`).
        let mut end_of_life = vec![[0.0; N_BANDS]; N_SECTORS + 1];
        for s in Setting::ALL.iter().filter(|s| s.derived_from().is_none()) {
            for b in 0..N_BANDS {
                let extra = a.end_of_life(*s, b);
                let mut add = |setting: Setting, count: f64| {
                    let cost = count * a.unit_cost_pence(setting, 1) as f64;
                    end_of_life[a.sector(setting) as usize][b] += cost;
                    end_of_life[TOTAL][b] += cost;
                };
                add(*s, extra);
                for derived in Setting::ALL.iter().filter(|d| d.derived_from() == Some(*s)) {
                    add(*derived, extra * a.los_of_band(b));
                }
            }
        }
        Accrual {
            mix,
            dies,
            end_of_life,
        }
    }
}

/// Expected year-one cost per resident at the start of the year, by band, sex and
/// quintile, per row: residents' accrual, the last year of life of those who die, and
/// half a year for the in-migrants and babies they bring.
fn start_weights(
    model: &Model,
    need: &[Vec<f64>],
    accrual: &Accrual,
) -> Vec<[[[f64; N_IMD]; N_SEX]; N_BANDS]> {
    let ns = model.segments.len();
    let dem = &model.demography;
    let maternity = model.segments.newborn() as usize;
    let (mix, dies) = (&accrual.mix, &accrual.dies);
    let fertility = |b: usize, x: usize| {
        if x == FEMALE as usize {
            dem.fertility(b)
        } else {
            0.0
        }
    };
    let male = dem.male_birth_share();
    need.iter()
        .zip(&accrual.end_of_life)
        .map(|(w, eol)| {
            let mut out = [[[0.0; N_IMD]; N_SEX]; N_BANDS];
            for (b, row) in out.iter_mut().enumerate() {
                for (x, by_q) in row.iter_mut().enumerate() {
                    for (q, v) in by_q.iter_mut().enumerate() {
                        let cell = |b: usize, x: usize, g: usize| {
                            Cell {
                                band: b,
                                sex: x,
                                imd: q,
                                segment: g,
                            }
                            .census(ns)
                        };
                        let (mut stayers, mut newcomer) = (0.0, 0.0);
                        for g in 0..ns {
                            let share = model.segments.initial_share(b, q as u8, g as u8);
                            let c = cell(b, x, g);
                            let resident: f64 = (0..ns).map(|h| mix[c][h] * w[cell(b, x, h)]).sum();
                            stayers += share * (resident + dies[c] * eol[b]);
                            newcomer += share * w[c];
                        }
                        let baby = male * w[cell(0, 0, maternity)]
                            + (1.0 - male) * w[cell(0, 1, maternity)];
                        *v = stayers
                            + 0.5 * dem.in_migration(b, x) * newcomer
                            + 0.5 * fertility(b, x) * baby;
                    }
                }
            }
            out
        })
        .collect()
}

/// Expected year-one cost per resident of one row (a sector or [`TOTAL`]) at the start of
/// year one by band, sex, quintile and starting segment: what [`YearOneCost::start`] sums
/// over the model's starting prevalence, kept apart so that a neighbourhood with its own
/// prevalence (`model::practice_fit`) is priced as the yearly cycle accrues it.
#[derive(Debug, Clone)]
pub struct BySegment {
    /// Segments per row of [`BySegment::per_segment`].
    pub segments: usize,
    /// Cost of a resident starting in each segment (their own year, changes of segment,
    /// death and the last year of life, half a year of the in-migrants they bring, who
    /// are drawn from the same prevalence), pence, flat `[band][sex][quintile][segment]`.
    pub per_segment: Vec<f64>,
    /// Half a year of the babies a resident bears, whatever her segment,
    /// `[band][sex][quintile]`.
    pub babies: StartCost,
}

impl BySegment {
    /// The cost of one row by starting segment (see [`BySegment`]).
    pub fn new(model: &Model, row: usize) -> Self {
        let need = need_by_cell(model);
        let accrual = Accrual::of(model);
        let ns = model.segments.len();
        let dem = &model.demography;
        let w = &need[row];
        let eol = &accrual.end_of_life[row];
        let maternity = model.segments.newborn() as usize;
        let male = dem.male_birth_share();
        let census = |b: usize, x: usize, q: usize, g: usize| {
            Cell {
                band: b,
                sex: x,
                imd: q,
                segment: g,
            }
            .census(ns)
        };
        let mut per_segment = Vec::with_capacity(N_BANDS * N_SEX * N_IMD * ns);
        let mut babies = [[[0.0; N_IMD]; N_SEX]; N_BANDS];
        for (b, row) in babies.iter_mut().enumerate() {
            for (x, by_q) in row.iter_mut().enumerate() {
                let fertility = if x == FEMALE as usize {
                    dem.fertility(b)
                } else {
                    0.0
                };
                for (q, baby) in by_q.iter_mut().enumerate() {
                    *baby = 0.5
                        * fertility
                        * (male * w[census(0, 0, q, maternity)]
                            + (1.0 - male) * w[census(0, 1, q, maternity)]);
                    for g in 0..ns {
                        let c = census(b, x, q, g);
                        let resident: f64 = (0..ns)
                            .map(|h| accrual.mix[c][h] * w[census(b, x, q, h)])
                            .sum();
                        per_segment.push(
                            resident
                                + accrual.dies[c] * eol[b]
                                + 0.5 * dem.in_migration(b, x) * w[c],
                        );
                    }
                }
            }
        }
        BySegment {
            segments: ns,
            per_segment,
            babies,
        }
    }
}
