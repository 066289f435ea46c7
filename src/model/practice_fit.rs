//! People for real England's practices that reproduce, through the simulator's own need
//! model, each practice's published need indices (issue 25, item 2).
//!
//! NHS England publishes each practice's registered population and its weighted
//! populations by component (`data::published`), but no age-sex or deprivation counts.
//! A practice's index of a component is (its weighted population / its population) /
//! (England's weighted population / England's population), so England's index is 1. The
//! fit gives each practice an age-sex structure and deprivation mix priced by the
//! simulator:
//!
//! - **general and acute**: the expected year-one acute-sector cost per resident
//!   (`model::year_one`, as the yearly cycle accrues it: A&E, emergency admissions and
//!   their bed days, electives, outpatients, and the last year of life, by band, sex and
//!   quintile over the starting segment prevalence);
//! - **maternity**: expected births per head (fertility by band, women only), since NHS
//!   England's maternity need follows births;
//! - **health inequalities**: deprivation. The simulator's measure is the age-standardised
//!   under-75 death rate of a quintile relative to the quintiles' mean
//!   ([`NeedModel::inequality`]; NHS England's adjustment is built on under-75
//!   mortality): 1.40, 1.14, 0.93, 0.82, 0.71. The published index spreads far wider
//!   (5th-95th centile of practices 0.58-1.92, up to 5.8), so over a third of practices lie
//!   outside what any mix of quintiles reaches, and a tilt to it put 45% of England in
//!   quintile 5 and 8% in quintile 2. So a practice's people are in its fifth of England's
//!   registered people by the published index (`RealEngland::quintile`): England's
//!   quintiles stay fifths, and the measure rises with the published index; the tests
//!   state how near it comes.
//!
//! **Method: minimum relative entropy.** Of all age-sex structures with the practice's
//! general and acute and maternity indices, at its quintile, each practice gets the one
//! nearest England's (Kullback-Leibler): `p_bs ∝ p_England,bs exp(θ_g c_bs + θ_m m_bs)`,
//! with `c_bs` the acute cost and `m_bs` births per head of band b and sex s, θ solved by
//! damped Newton on the convex dual ([`tilt`]). A target outside what the model can reach
//! (a practice whose index is above its oldest residents', a practice of no births) gets
//! the nearest the dual reaches, and is counted ([`PracticeFit::unreached`]). Indices are
//! relative to England's structure (its age-sex shares, a fifth in each quintile), whose
//! index is 1; all practices' fitted people together then have index 1 to within 3e-5.
//!
//! **Neighbourhoods** ([`PracticeFit::apply`]) take the people-weighted mix of their
//! practices' age-sex and quintile shares. Synthesis draws the two independently, so
//! mixing practices of different quintiles and ages moves an ICB's index by up to 0.7%;
//! each neighbourhood's age-sex shares are therefore tilted once more, from the mix, to
//! its own published indices ([`PracticeFit::refit`]). Deterministic: no randomness,
//! practices in file order.

use crate::core::care::Sector;
use crate::core::dims::{band_ages, FEMALE, N_BANDS, N_IMD, N_SEX};
use crate::data::geography::Geography;
use crate::data::published::{Component, Practices};
use crate::data::published_geography::RealEngland;
use crate::model::demography::age_shares;
use crate::model::year_one::{StartCost, YearOneCost};
use crate::model::Model;

/// The published indices the fit matches, in this order.
pub const FITTED: [Component; 3] = [
    Component::GeneralAcute,
    Component::Maternity,
    Component::HealthInequalities,
];

/// Ages under which deaths count for the inequalities measure (under-75 mortality).
const UNDER: u8 = 75;

/// A practice's (or neighbourhood's) people: shares by age band and sex, and by
/// deprivation quintile (0 = most deprived), each summing to 1; drawn independently.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Structure {
    pub age_sex: [[f64; N_SEX]; N_BANDS],
    pub imd: [f64; N_IMD],
}

/// What the simulator expects of a person, for the fitted components.
#[derive(Debug, Clone)]
pub struct NeedModel {
    /// Expected year-one acute-sector cost per resident, pence, `[band][sex][quintile]`.
    pub acute: StartCost,
    /// Expected births per head, `[band][sex]`.
    pub births: [[f64; N_SEX]; N_BANDS],
    /// Age-standardised under-75 death rate of each quintile relative to their mean.
    pub inequality: [f64; N_IMD],
    /// England's age-sex shares (`population_age_sex.csv`): the prior of the fit.
    pub england: [[f64; N_SEX]; N_BANDS],
}

impl NeedModel {
    pub fn new(model: &Model) -> Self {
        let acute = YearOneCost::new(model).start[Sector::Acute as usize];
        let dem = &model.demography;
        let births = std::array::from_fn(|b| {
            std::array::from_fn(|x| {
                if x == FEMALE as usize {
                    dem.fertility(b)
                } else {
                    0.0
                }
            })
        });
        NeedModel {
            acute,
            births,
            inequality: inequality_by_quintile(model),
            england: model.population_share,
        }
    }

    /// England's structure: its age-sex shares, a fifth in each quintile.
    pub fn england_structure(&self) -> Structure {
        Structure {
            age_sex: self.england,
            imd: [1.0 / N_IMD as f64; N_IMD],
        }
    }

    /// Per-head values of a structure, in [`FITTED`] order: acute cost (pence), births,
    /// the inequalities measure. Age-sex and quintile independent, as synthesis draws them.
    pub fn per_head(&self, s: &Structure) -> [f64; 3] {
        let mut out = [0.0; 3];
        for b in 0..N_BANDS {
            for x in 0..N_SEX {
                let p = s.age_sex[b][x];
                out[0] += p
                    * (0..N_IMD)
                        .map(|q| s.imd[q] * self.acute[b][x][q])
                        .sum::<f64>();
                out[1] += p * self.births[b][x];
            }
        }
        out[2] = (0..N_IMD).map(|q| s.imd[q] * self.inequality[q]).sum();
        out
    }
}

/// Each quintile's under-75 deaths per head at England's age-sex structure (year-one
/// rates, over the starting segment prevalence), relative to their mean over quintiles.
fn inequality_by_quintile(model: &Model) -> [f64; N_IMD] {
    let ns = model.segments.len();
    let mut rate = [0.0; N_IMD];
    for (q, r) in rate.iter_mut().enumerate() {
        for b in (0..N_BANDS).filter(|&b| band_ages(b).1 < UNDER) {
            for x in 0..N_SEX {
                let deaths: f64 = (0..ns)
                    .map(|g| {
                        let share = model.segments.initial_share(b, q as u8, g as u8);
                        share
                            * age_shares(b)
                                .iter()
                                .map(|&(a, p)| {
                                    p * model.demography.death(g as u8, q as u8, x as u8, a)
                                })
                                .sum::<f64>()
                    })
                    .sum();
                *r += model.population_share[b][x] * deaths;
            }
        }
    }
    let mean = rate.iter().sum::<f64>() / N_IMD as f64;
    rate.map(|r| r / mean)
}

/// Every practice's fitted people, and how well the fit reached the published indices.
#[derive(Debug, Clone)]
pub struct PracticeFit {
    pub need: NeedModel,
    /// By practice, in file order.
    pub structures: Vec<Structure>,
    /// The published indices by practice, `[practice][FITTED]` (1 for a practice of no
    /// people).
    pub published: Vec<[f64; 3]>,
    /// England's per-head values, what indices are relative to: those of England's
    /// structure (its age-sex shares, a fifth in each quintile), whose index is 1 as
    /// England's published index is.
    pub england: [f64; 3],
    /// The index of all practices' fitted people together (registered population
    /// weights): 1 where every target is reached, as the published indices average 1.
    pub fitted_england: [f64; 3],
    /// England's published weighted population per head of each fitted component, what
    /// a neighbourhood's published index is relative to.
    pub published_england: [f64; 3],
    /// Practices whose target of each fitted index the model cannot reach (fitted as near
    /// as it can), `[FITTED]`.
    pub unreached: [usize; 3],
}

/// A practice counts as reached when its fitted index is this near its target (the
/// ridge of [`tilt`] leaves a reachable fit a few millionths away).
const REACHED: f64 = 1e-4;

impl PracticeFit {
    /// Fits every practice of `practices` (see the module docs).
    pub fn fit(model: &Model, practices: &Practices, real: &RealEngland) -> Self {
        let need = NeedModel::new(model);
        let published_england = published_england(practices);
        let published = published_indices(practices, &published_england);
        let weights: Vec<f64> = practices.practices.iter().map(|p| p.population).collect();
        let england = need.per_head(&need.england_structure());
        let (structures, fitted_england) =
            fit_all(&need, &england, &published, &weights, &real.quintile);
        let mut fit = PracticeFit {
            need,
            structures,
            published,
            england,
            fitted_england: std::array::from_fn(|k| fitted_england[k] / england[k]),
            published_england,
            unreached: [0; 3],
        };
        for (i, w) in weights.iter().enumerate() {
            if *w > 0.0 {
                let got = fit.indices(&fit.structures[i]);
                for k in 0..3 {
                    if (got[k] - fit.published[i][k]).abs() > REACHED {
                        fit.unreached[k] += 1;
                    }
                }
            }
        }
        fit
    }

    /// A structure's indices relative to England's fitted people, in [`FITTED`] order.
    pub fn indices(&self, s: &Structure) -> [f64; 3] {
        let v = self.need.per_head(s);
        std::array::from_fn(|k| v[k] / self.england[k])
    }

    /// The people-weighted mix of some practices' structures (`people` by practice).
    pub fn mix(&self, practices: &[usize], people: &[u64]) -> Structure {
        let mut out = Structure {
            age_sex: [[0.0; N_SEX]; N_BANDS],
            imd: [0.0; N_IMD],
        };
        let total: f64 = practices.iter().map(|&i| people[i] as f64).sum();
        if total <= 0.0 {
            return self.need.england_structure();
        }
        for &i in practices {
            let (w, s) = (people[i] as f64 / total, &self.structures[i]);
            for (o, v) in out
                .age_sex
                .iter_mut()
                .flatten()
                .zip(s.age_sex.iter().flatten())
            {
                *o += w * v;
            }
            for (o, v) in out.imd.iter_mut().zip(&s.imd) {
                *o += w * v;
            }
        }
        out
    }

    /// A neighbourhood's structure: the mix of its practices' (`mixed`), its age-sex
    /// shares tilted once more, from the mix, to its published general and acute and
    /// maternity indices (`target`) at its mixed quintile shares. Synthesis draws age-sex
    /// and quintile independently, so the mix of practices of different quintiles and
    /// ages misses their indices by up to 0.7% in an ICB; this puts it right.
    pub fn refit(&self, mixed: &Structure, target: &[f64; 3]) -> Structure {
        let e = &self.england;
        let prior: Vec<f64> = mixed.age_sex.iter().flatten().copied().collect();
        let features: Vec<[f64; 2]> = (0..N_BANDS * N_SEX)
            .map(|c| {
                let (b, x) = (c / N_SEX, c % N_SEX);
                let cost: f64 = (0..N_IMD)
                    .map(|q| mixed.imd[q] * self.need.acute[b][x][q])
                    .sum();
                [cost / e[0], self.need.births[b][x] / e[1]]
            })
            .collect();
        Structure {
            age_sex: cells(&tilt(&prior, &features, [target[0], target[1]])),
            imd: mixed.imd,
        }
    }

    /// Gives each neighbourhood of a real geography (`Geography::real` of `real`, whole or
    /// one ICB, or a part of either) the mix of its practices' fitted structures. A
    /// neighbourhood's id is its group's position in `real`. Neighbourhoods without
    /// published populations, or with their own list ages (imported: they win), are left
    /// as they are.
    pub fn apply(&self, real: &RealEngland, g: &mut Geography) {
        for nb in &mut g.neighbourhoods {
            if nb.published.is_none() || nb.ages.is_some() {
                continue;
            }
            let group = &real.groups[nb.id as usize];
            assert_eq!(
                (group.population, Some(group.published)),
                (nb.population, nb.published),
                "neighbourhood {} is group {} of real England",
                nb.name,
                nb.id
            );
            let mixed = self.mix(&group.practices, &real.people);
            let p = &group.published;
            let target: [f64; 3] = std::array::from_fn(|k| {
                p.weighted(FITTED[k])
                    / p.population.max(f64::MIN_POSITIVE)
                    / self.published_england[k]
            });
            let s = self.refit(&mixed, &target);
            nb.age_sex = s.age_sex;
            nb.imd = s.imd;
        }
    }
}

/// Every practice fitted against England's per-head values `england`, and England's
/// per-head values over the fitted people (`weights`: registered populations).
fn fit_all(
    need: &NeedModel,
    england: &[f64; 3],
    published: &[[f64; 3]],
    weights: &[f64],
    quintile: &[usize],
) -> (Vec<Structure>, [f64; 3]) {
    let total: f64 = weights.iter().sum();
    let structures: Vec<Structure> = (0..published.len())
        .map(|i| {
            if weights[i] > 0.0 {
                fit_practice(need, england, &published[i], quintile[i])
            } else {
                need.england_structure()
            }
        })
        .collect();
    let mut mean = [0.0; 3];
    for (s, &w) in structures.iter().zip(weights) {
        let v = need.per_head(s);
        for k in 0..3 {
            mean[k] += w * v[k] / total;
        }
    }
    (structures, mean)
}

/// England's published weighted population per head of each fitted component.
fn published_england(practices: &Practices) -> [f64; 3] {
    let pop: f64 = practices.practices.iter().map(|p| p.population).sum();
    std::array::from_fn(|k| {
        practices
            .practices
            .iter()
            .map(|p| p.weighted(FITTED[k]))
            .sum::<f64>()
            / pop
    })
}

/// Each practice's published indices of the fitted components (1 for no people), against
/// England's weighted population per head (`england`).
fn published_indices(practices: &Practices, england: &[f64; 3]) -> Vec<[f64; 3]> {
    practices
        .practices
        .iter()
        .map(|p| {
            std::array::from_fn(|k| {
                if p.population > 0.0 {
                    p.weighted(FITTED[k]) / p.population / england[k]
                } else {
                    1.0
                }
            })
        })
        .collect()
}

/// One practice's structure for its published general and acute and maternity indices
/// (`target`, relative to England's per-head values `england`), its people in its
/// deprivation quintile (`quintile`): age-sex shares tilted from England's.
fn fit_practice(
    need: &NeedModel,
    england: &[f64; 3],
    target: &[f64; 3],
    quintile: usize,
) -> Structure {
    let mut imd = [0.0; N_IMD];
    imd[quintile] = 1.0;
    let prior: Vec<f64> = need.england.iter().flatten().copied().collect();
    let features: Vec<[f64; 2]> = (0..N_BANDS * N_SEX)
        .map(|c| {
            let (b, x) = (c / N_SEX, c % N_SEX);
            [
                need.acute[b][x][quintile] / england[0],
                need.births[b][x] / england[1],
            ]
        })
        .collect();
    let age_sex = cells(&tilt(&prior, &features, [target[0], target[1]]));
    Structure { age_sex, imd }
}

/// Age-sex shares from a flat `[band * N_SEX + sex]` vector.
fn cells(p: &[f64]) -> [[f64; N_SEX]; N_BANDS] {
    std::array::from_fn(|b| std::array::from_fn(|x| p[b * N_SEX + x]))
}

/// Newton steps of the dual at most; a reachable target converges in a few dozen.
const MAX_STEPS: usize = 300;
/// Ridge on the tilt coefficients (features are near 1): it keeps the dual bounded
/// below when a target is unreachable, so the fit stops at the nearest reachable means,
/// and moves a reachable fit by about `RIDGE x θ`, a few millionths of an index.
const RIDGE: f64 = 1e-7;

/// The distribution nearest `prior` (Kullback-Leibler) whose means of the `features` are
/// `target`: `p ∝ prior exp(θ·f)`, with θ minimising the convex dual
/// `log Σ prior exp(θ·f) - θ·target + RIDGE |θ|² / 2` by Newton steps halved until the
/// dual falls. An unreachable target (outside the features' range) drives θ outward
/// until the ridge holds it: the nearest reachable means, on the edge.
pub fn tilt<const D: usize>(prior: &[f64], features: &[[f64; D]], target: [f64; D]) -> Vec<f64> {
    let mut theta = [0.0; D];
    let mut current = dual(prior, features, &target, &theta);
    for _ in 0..MAX_STEPS {
        let (p, _) = tilted(prior, features, &theta);
        let (mean, mut cov) = moments(&p, features);
        let grad: [f64; D] = std::array::from_fn(|j| mean[j] - target[j] + RIDGE * theta[j]);
        if grad.iter().all(|g| g.abs() < 1e-13) {
            break;
        }
        for (j, row) in cov.iter_mut().enumerate() {
            row[j] += RIDGE;
        }
        let step = solve(cov, grad);
        let mut scale = 1.0;
        let mut moved = false;
        while scale > 1e-12 {
            let next: [f64; D] = std::array::from_fn(|j| theta[j] - scale * step[j]);
            let value = dual(prior, features, &target, &next);
            if value < current {
                (theta, current, moved) = (next, value, true);
                break;
            }
            scale *= 0.5;
        }
        if !moved {
            break;
        }
    }
    tilted(prior, features, &theta).0
}

/// `prior exp(θ·f)`, normalised, and the log of the normaliser (computed from the largest
/// exponent, so no term overflows).
fn tilted<const D: usize>(prior: &[f64], f: &[[f64; D]], theta: &[f64; D]) -> (Vec<f64>, f64) {
    let expo: Vec<f64> = f
        .iter()
        .map(|fi| (0..D).map(|j| theta[j] * fi[j]).sum::<f64>())
        .collect();
    let top = prior
        .iter()
        .zip(&expo)
        .filter(|(p, _)| **p > 0.0)
        .map(|(_, e)| *e)
        .fold(f64::NEG_INFINITY, f64::max);
    let mut p: Vec<f64> = prior
        .iter()
        .zip(&expo)
        .map(|(w, e)| if *w > 0.0 { w * (e - top).exp() } else { 0.0 })
        .collect();
    let z: f64 = p.iter().sum();
    p.iter_mut().for_each(|v| *v /= z);
    (p, top + z.ln())
}

fn dual<const D: usize>(prior: &[f64], f: &[[f64; D]], target: &[f64; D], theta: &[f64; D]) -> f64 {
    tilted(prior, f, theta).1
        + (0..D)
            .map(|j| theta[j] * (0.5 * RIDGE * theta[j] - target[j]))
            .sum::<f64>()
}

/// Means and covariance of the features under `p`.
fn moments<const D: usize>(p: &[f64], f: &[[f64; D]]) -> ([f64; D], [[f64; D]; D]) {
    let mut mean = [0.0; D];
    for (pi, fi) in p.iter().zip(f) {
        for j in 0..D {
            mean[j] += pi * fi[j];
        }
    }
    let mut cov = [[0.0; D]; D];
    for (pi, fi) in p.iter().zip(f) {
        for j in 0..D {
            for k in 0..D {
                cov[j][k] += pi * (fi[j] - mean[j]) * (fi[k] - mean[k]);
            }
        }
    }
    (mean, cov)
}

/// Solves `a x = b` for a small symmetric positive definite `a` (Gaussian elimination).
fn solve<const D: usize>(mut a: [[f64; D]; D], mut b: [f64; D]) -> [f64; D] {
    for c in 0..D {
        for r in c + 1..D {
            let m = a[r][c] / a[c][c];
            for k in c..D {
                a[r][k] -= m * a[c][k];
            }
            b[r] -= m * b[c];
        }
    }
    let mut x = [0.0; D];
    for c in (0..D).rev() {
        let s: f64 = (c + 1..D).map(|k| a[c][k] * x[k]).sum();
        x[c] = (b[c] - s) / a[c][c];
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reachable_tilt_hits_its_target_and_stays_nearest_the_prior() {
        let prior = [0.1, 0.2, 0.3, 0.4];
        let f = [[1.0, 0.0], [2.0, 1.0], [3.0, 0.0], [4.0, 1.0]];
        let p = tilt(&prior, &f, [2.5, 0.5]);
        let mean = |j: usize| p.iter().zip(&f).map(|(a, b)| a * b[j]).sum::<f64>();
        // The ridge leaves a reachable fit about RIDGE x θ from its target.
        assert!(
            (mean(0) - 2.5).abs() < 1e-6 && (mean(1) - 0.5).abs() < 1e-6,
            "{p:?}"
        );
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // The prior's own means give the prior back.
        let q = tilt(&prior, &f, [3.0, 0.6]);
        for (a, b) in q.iter().zip(&prior) {
            assert!((a - b).abs() < 1e-10, "{q:?}");
        }
        // Exponential family: log(p / prior) is linear in the features.
        let l: Vec<f64> = p.iter().zip(&prior).map(|(a, b)| (a / b).ln()).collect();
        let (t0, t1) = (l[2] - l[0], l[1] - l[0] - (l[2] - l[0]) / 2.0);
        assert!((l[3] - l[0] - (3.0 * t0 / 2.0 + t1)).abs() < 1e-9, "{l:?}");
    }

    #[test]
    fn an_unreachable_tilt_goes_to_the_edge() {
        let p = tilt(&[0.25; 4], &[[1.0], [2.0], [3.0], [4.0]], [5.0]);
        assert!(p[3] > 1.0 - 1e-6, "{p:?}");
        let p = tilt(&[0.25; 4], &[[1.0], [2.0], [3.0], [4.0]], [0.0]);
        assert!(p[0] > 1.0 - 1e-6, "{p:?}");
    }
}
