//! People for real England's practices that reproduce, through the simulator's own need
//! model, each practice's published need indices (issue 25, item 2).
//!
//! NHS England publishes each practice's registered population and its weighted
//! populations by component (`data::published`), but no age-sex or deprivation counts.
//! A practice's index of a component is (its weighted population / its population) /
//! (England's weighted population / England's population), so England's index is 1. The
//! fit gives each practice an age-sex structure, deprivation mix and segment prevalence
//! priced by the simulator:
//!
//! - **general and acute**: the expected year-one acute-sector cost per resident
//!   (`model::year_one`, as the yearly cycle accrues it: A&E, emergency admissions and
//!   their bed days, electives, outpatients, and the last year of life, by band, sex and
//!   quintile over the starting segment prevalence);
//! - **maternity**: expected births per head (fertility by band, women only), since NHS
//!   England's maternity need follows births;
//! - **health inequalities**: the age-standardised under-75 death rate (standard
//!   population: England's age-sex structure, so a practice's own ages do not enter)
//!   relative to England's, as NHS England's adjustment is built on under-75 mortality.
//!
//! **Inequalities: quintile, then segments.** A practice's people are in its fifth of
//! England's registered people by the published index (`RealEngland::quintile`), so
//! England's quintiles stay fifths and deprivation carries its part (the quintiles' rates
//! relative to their mean, [`NeedModel::inequality`]: 1.40, 1.14, 0.93, 0.82, 0.71). The
//! published index spreads far wider (5th-95th centile of practices 0.58-1.92, up to 5.8),
//! so the rest is carried by the practice's starting segment prevalence under 75, which
//! segments' own mortality (0.3 to 15 times) lets reach: `p(g | band, sex) ∝ p0(g | band,
//! quintile) exp(τ d_g)`, with `d_g` the segment's chance of dying in the year, τ the one
//! tilt of the practice solved by a bracketed Newton root find (the measure rises with
//! τ). Of all prevalences with the practice's measure this is the nearest the model's
//! (relative entropy weighted by the standard population). Tilting the quintile shares
//! instead reached only 0.71-1.40 and put 45% of England in quintile 5.
//!
//! **Ages: minimum relative entropy.** Of all age-sex structures with the practice's
//! general and acute and maternity indices, at its quintile and segment prevalence (acute
//! cost by band and sex follows the segments), each practice gets the one
//! nearest England's (Kullback-Leibler): `p_bs ∝ p_England,bs exp(θ_g c_bs + θ_m m_bs)`,
//! with `c_bs` the acute cost (`model::year_one::BySegment` over the tilted prevalence)
//! and `m_bs` births per head of band b and sex s, θ solved by
//! damped Newton on the convex dual ([`tilt_to`]). A target outside what the model can reach
//! (a practice whose index is above its oldest residents', a practice of no births) gets
//! the nearest the dual reaches, and is counted ([`PracticeFit::unreached`]). Indices are
//! relative to England's structure (its age-sex shares, a fifth in each quintile), whose
//! index is 1; all practices' fitted people together then have index 1 to within 3e-5.
//!
//! **Neighbourhoods** ([`PracticeFit::apply`]) take the people-weighted mix of their
//! practices' age-sex and quintile shares and, per quintile, of their tilts. Synthesis
//! draws age-sex, quintile and segment independently of the practice, so the mix misses
//! its practices' indices (an ICB's general and acute index by up to 0.7%); each
//! neighbourhood's tilts are therefore shifted alike to its own published inequalities
//! index, then its age-sex shares tilted, from the mix, to its general and acute and
//! maternity indices ([`PracticeFit::refit`]). A neighbourhood carries its starting
//! segment prevalence (`Neighbourhood::segments`), which synthesis draws its people and
//! in-migrants from; the invented presets and imported lists carry none and draw as
//! before. Deterministic: no randomness; practices are fitted in parallel, each the same
//! bits on any thread, in file order.
//!
//! **England's totals.** The published inequalities index averages England's, so the
//! tilt moves under-75 deaths between practices more than it adds them: against the same
//! fit without it, England's expected year-one deaths rise 1.3%, spend 0.35%, and no
//! segment's prevalence moves by a tenth (`datasets/README.md`); no constraint on
//! England's pooled prevalence was needed.

use rayon::prelude::*;

use crate::core::care::Sector;
use crate::core::dims::{band_ages, FEMALE, N_BANDS, N_IMD, N_SEX};
use crate::data::geography::{Geography, Neighbourhood};
use crate::data::published::{Component, Practices};
use crate::data::published_geography::RealEngland;
use crate::model::demography::age_shares;
use crate::model::year_one::BySegment;
use crate::model::Model;

/// The published indices the fit matches, in this order.
pub const FITTED: [Component; 3] = [
    Component::GeneralAcute,
    Component::Maternity,
    Component::HealthInequalities,
];

/// Ages under which deaths count for the inequalities measure (under-75 mortality).
pub const UNDER: u8 = 75;

/// A practice's (or neighbourhood's) people: shares by age band and sex, and by
/// deprivation quintile (0 = most deprived), each summing to 1, drawn independently; and
/// in each quintile the tilt of its under-75s' starting segment prevalence towards the
/// segments more likely to die (`tilt[q]`, 0 = the model's prevalence: see
/// [`NeedModel::shares`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Structure {
    pub age_sex: [[f64; N_SEX]; N_BANDS],
    pub imd: [f64; N_IMD],
    pub tilt: [f64; N_IMD],
}

/// What the simulator expects of a person, for the fitted components.
#[derive(Debug, Clone)]
pub struct NeedModel {
    /// Expected year-one acute-sector cost per resident, pence, by band, sex, quintile and
    /// starting segment.
    pub acute: BySegment,
    /// Expected births per head, `[band][sex]`.
    pub births: [[f64; N_SEX]; N_BANDS],
    /// Age-standardised under-75 death rate of each quintile, at the model's starting
    /// prevalence, relative to their mean.
    pub inequality: [f64; N_IMD],
    /// England's age-sex shares (`population_age_sex.csv`): the prior of the fit, and the
    /// standard population of the inequalities measure.
    pub england: [[f64; N_SEX]; N_BANDS],
    /// Segments in the model.
    segments: usize,
    /// The model's starting prevalence, flat `[band][quintile][segment]`.
    prior: Vec<f64>,
    /// The chance of dying in year one, flat `[band][sex][quintile][segment]` (over the
    /// band's single years of age).
    deaths: Vec<f64>,
    /// The quintiles' mean age-standardised under-75 death rate at the model's prevalence:
    /// what the inequalities measure is relative to.
    standard: f64,
}

/// Largest tilt of segment prevalence tried: a target still out of reach there is
/// unreachable (the prevalence is then all but wholly in the extreme segments).
const TILT_MAX: f64 = 1e4;

impl NeedModel {
    pub fn new(model: &Model) -> Self {
        let dem = &model.demography;
        let ns = model.segments.len();
        let births = std::array::from_fn(|b| {
            std::array::from_fn(|x| {
                if x == FEMALE as usize {
                    dem.fertility(b)
                } else {
                    0.0
                }
            })
        });
        let mut prior = Vec::with_capacity(N_BANDS * N_IMD * ns);
        for b in 0..N_BANDS {
            for q in 0..N_IMD {
                prior.extend((0..ns).map(|g| model.segments.initial_share(b, q as u8, g as u8)));
            }
        }
        let mut deaths = Vec::with_capacity(N_BANDS * N_SEX * N_IMD * ns);
        for b in 0..N_BANDS {
            for x in 0..N_SEX {
                for q in 0..N_IMD {
                    deaths.extend((0..ns).map(|g| {
                        age_shares(b)
                            .iter()
                            .map(|&(a, p)| p * dem.death(g as u8, q as u8, x as u8, a))
                            .sum::<f64>()
                    }));
                }
            }
        }
        let mut need = NeedModel {
            acute: BySegment::new(model, Sector::Acute as usize),
            births,
            inequality: [1.0; N_IMD],
            england: model.population_share,
            segments: ns,
            prior,
            deaths,
            standard: 1.0,
        };
        let rates: [f64; N_IMD] = std::array::from_fn(|q| need.under_75_deaths(q, 0.0));
        need.standard = rates.iter().sum::<f64>() / N_IMD as f64;
        need.inequality = rates.map(|r| r / need.standard);
        need
    }

    /// England's structure: its age-sex shares, a fifth in each quintile, the model's
    /// segment prevalence.
    pub fn england_structure(&self) -> Structure {
        Structure {
            age_sex: self.england,
            imd: [1.0 / N_IMD as f64; N_IMD],
            tilt: [0.0; N_IMD],
        }
    }

    /// Calls `each(segment, share)` with the starting segment prevalence of a band, sex
    /// and quintile at a tilt: the model's prevalence `p0` at or above 75 or at tilt 0,
    /// else `p ∝ p0 exp(tilt × d)`, with `d` each segment's chance of dying in the year.
    /// Of all prevalences giving the same age-standardised under-75 death rate, this is
    /// the nearest the model's (relative entropy weighted by the standard population).
    fn shares(&self, b: usize, x: usize, q: usize, tilt: f64, mut each: impl FnMut(usize, f64)) {
        let ns = self.segments;
        let p0 = &self.prior[(b * N_IMD + q) * ns..][..ns];
        if tilt == 0.0 || band_ages(b).1 >= UNDER {
            p0.iter().enumerate().for_each(|(g, p)| each(g, *p));
            return;
        }
        let d = &self.deaths[((b * N_SEX + x) * N_IMD + q) * ns..][..ns];
        let top = (0..ns)
            .filter(|&g| p0[g] > 0.0)
            .map(|g| tilt * d[g])
            .fold(f64::NEG_INFINITY, f64::max);
        let weight = |g: usize| {
            if p0[g] > 0.0 {
                p0[g] * (tilt * d[g] - top).exp()
            } else {
                0.0
            }
        };
        let z: f64 = (0..ns).map(weight).sum();
        (0..ns).for_each(|g| each(g, weight(g) / z));
    }

    /// The mean of a per-segment value (flat `[band][sex][quintile][segment]`) over the
    /// starting prevalence of a band, sex and quintile at a tilt.
    fn mean(&self, value: &[f64], b: usize, x: usize, q: usize, tilt: f64) -> f64 {
        let row = &value[((b * N_SEX + x) * N_IMD + q) * self.segments..];
        let mut sum = 0.0;
        self.shares(b, x, q, tilt, |g, p| sum += p * row[g]);
        sum
    }

    /// Under-75 deaths per head of a quintile at a tilt, at England's age-sex structure
    /// (the standard population), and their derivative in the tilt (the variance of the
    /// death chance within each band and sex, weighted as the deaths).
    fn under_75_deaths_and_slope(&self, q: usize, tilt: f64) -> (f64, f64) {
        let (mut rate, mut slope) = (0.0, 0.0);
        let ns = self.segments;
        for b in (0..N_BANDS).filter(|&b| band_ages(b).1 < UNDER) {
            for x in 0..N_SEX {
                let d = &self.deaths[((b * N_SEX + x) * N_IMD + q) * ns..][..ns];
                let (mut m1, mut m2) = (0.0, 0.0);
                self.shares(b, x, q, tilt, |g, p| {
                    m1 += p * d[g];
                    m2 += p * d[g] * d[g];
                });
                rate += self.england[b][x] * m1;
                slope += self.england[b][x] * (m2 - m1 * m1);
            }
        }
        (rate, slope)
    }

    fn under_75_deaths(&self, q: usize, tilt: f64) -> f64 {
        self.under_75_deaths_and_slope(q, tilt).0
    }

    /// The inequalities measure of a quintile mix at tilts `base + shift`, relative to
    /// England's, and its derivative in the shift.
    fn inequality_at(&self, imd: &[f64; N_IMD], base: &[f64; N_IMD], shift: f64) -> (f64, f64) {
        let (mut value, mut slope) = (0.0, 0.0);
        for q in (0..N_IMD).filter(|&q| imd[q] > 0.0) {
            let (r, s) = self.under_75_deaths_and_slope(q, base[q] + shift);
            value += imd[q] * r / self.standard;
            slope += imd[q] * s / self.standard;
        }
        (value, slope)
    }

    /// The shift of every quintile's tilt (`base + shift`) that gives a quintile mix the
    /// inequalities measure `target`: the measure rises with the shift, so Newton steps
    /// kept inside a shrinking bracket (halving it where a step would leave it) find it;
    /// a target beyond reach stops at ±[`TILT_MAX`], the nearest the tilt gets.
    fn shift_to(&self, imd: &[f64; N_IMD], base: &[f64; N_IMD], target: f64) -> f64 {
        let (mut lo, mut hi, mut shift) = (-TILT_MAX, TILT_MAX, 0.0);
        for _ in 0..200 {
            let (value, slope) = self.inequality_at(imd, base, shift);
            let miss = value - target;
            if miss.abs() < 1e-13 {
                break;
            }
            if miss < 0.0 {
                lo = shift;
            } else {
                hi = shift;
            }
            if hi - lo < 1e-12 * (1.0 + shift.abs()) {
                break;
            }
            let newton = shift - miss / slope;
            shift = if slope > 0.0 && newton > lo && newton < hi {
                newton
            } else {
                0.5 * (lo + hi)
            };
        }
        shift
    }

    /// Expected year-one acute cost per resident of a band, sex and quintile at a tilt.
    fn acute_cell(&self, b: usize, x: usize, q: usize, tilt: f64) -> f64 {
        self.cost_cell(&self.acute, b, x, q, tilt)
    }

    /// Expected year-one cost per resident of a row (`cost`) of a band, sex and quintile
    /// at a tilt.
    fn cost_cell(&self, cost: &BySegment, b: usize, x: usize, q: usize, tilt: f64) -> f64 {
        self.mean(&cost.per_segment, b, x, q, tilt) + cost.babies[b][x][q]
    }

    /// Expected year-one cost per head of a structure's people for a row (`cost`: a sector
    /// or the total, `BySegment::new`), pence.
    pub fn cost_per_head(&self, cost: &BySegment, s: &Structure) -> f64 {
        let mut out = 0.0;
        for b in 0..N_BANDS {
            for x in 0..N_SEX {
                for q in (0..N_IMD).filter(|&q| s.imd[q] > 0.0) {
                    out += s.age_sex[b][x] * s.imd[q] * self.cost_cell(cost, b, x, q, s.tilt[q]);
                }
            }
        }
        out
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
                        .filter(|&q| s.imd[q] > 0.0)
                        .map(|q| s.imd[q] * self.acute_cell(b, x, q, s.tilt[q]))
                        .sum::<f64>();
                out[1] += p * self.births[b][x];
            }
        }
        out[2] = self.inequality_at(&s.imd, &s.tilt, 0.0).0;
        out
    }

    /// Expected deaths per head in year one (all ages, before mortality improvement).
    pub fn deaths_per_head(&self, s: &Structure) -> f64 {
        let mut out = 0.0;
        for b in 0..N_BANDS {
            for x in 0..N_SEX {
                for q in (0..N_IMD).filter(|&q| s.imd[q] > 0.0) {
                    out += s.age_sex[b][x] * s.imd[q] * self.mean(&self.deaths, b, x, q, s.tilt[q]);
                }
            }
        }
        out
    }

    /// The chance of dying in year one of a structure's people of a band and sex (over
    /// their quintiles and starting segments).
    pub fn death_chance(&self, s: &Structure, b: usize, x: usize) -> f64 {
        (0..N_IMD)
            .filter(|&q| s.imd[q] > 0.0)
            .map(|q| s.imd[q] * self.mean(&self.deaths, b, x, q, s.tilt[q]))
            .sum()
    }

    /// England's age-standardised under-75 death rate (deaths per head of the standard
    /// population, [`NeedModel::england`]), what the inequalities measure is relative to.
    pub fn under_75_standard(&self) -> f64 {
        self.standard
    }

    /// Starting prevalence of each segment in a structure's people.
    pub fn prevalence(&self, s: &Structure) -> Vec<f64> {
        let mut out = vec![0.0; self.segments];
        for b in 0..N_BANDS {
            for x in 0..N_SEX {
                for q in (0..N_IMD).filter(|&q| s.imd[q] > 0.0) {
                    let w = s.age_sex[b][x] * s.imd[q];
                    self.shares(b, x, q, s.tilt[q], |g, p| out[g] += w * p);
                }
            }
        }
        out
    }

    /// A structure's starting segment prevalence as synthesis draws it
    /// (`Neighbourhood::segments`), flat `[band][sex][quintile][segment]`.
    pub fn segment_table(&self, s: &Structure) -> Vec<f64> {
        let mut out = Vec::with_capacity(N_BANDS * N_SEX * N_IMD * self.segments);
        for b in 0..N_BANDS {
            for x in 0..N_SEX {
                for q in 0..N_IMD {
                    self.shares(b, x, q, s.tilt[q], |_, p| out.push(p));
                }
            }
        }
        out
    }
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
/// ridge of [`tilt_to`] leaves a reachable fit a few millionths away).
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

    /// The people-weighted mix of some practices' structures (`people` by practice): their
    /// age-sex and quintile shares, and in each quintile the mean tilt of its practices'
    /// people.
    pub fn mix(&self, practices: &[usize], people: &[u64]) -> Structure {
        let mut out = Structure {
            age_sex: [[0.0; N_SEX]; N_BANDS],
            imd: [0.0; N_IMD],
            tilt: [0.0; N_IMD],
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
            for q in 0..N_IMD {
                out.imd[q] += w * s.imd[q];
                out.tilt[q] += w * s.imd[q] * s.tilt[q];
            }
        }
        for q in (0..N_IMD).filter(|&q| out.imd[q] > 0.0) {
            out.tilt[q] /= out.imd[q];
        }
        out
    }

    /// A neighbourhood's structure: the mix of its practices' (`mixed`), refitted to its
    /// own published indices (`target`, in [`FITTED`] order): every quintile's tilt
    /// shifted alike to its inequalities index, then its age-sex shares tilted, from the
    /// mix, to its general and acute and maternity indices at those quintiles and
    /// prevalences. Synthesis draws age-sex, quintile and segment independently of the
    /// practice, so the mix of practices of different quintiles, ages and tilts misses
    /// their indices (by up to 0.7% in an ICB for general and acute); this puts it right.
    pub fn refit(&self, mixed: &Structure, target: &[f64; 3]) -> Structure {
        let shift = self.need.shift_to(&mixed.imd, &mixed.tilt, target[2]);
        let shifted = Structure {
            tilt: mixed.tilt.map(|t| t + shift),
            ..*mixed
        };
        self.refit_ages(&shifted, [target[0], target[1]])
    }

    /// A structure's age-sex shares tilted, from its own, to general and acute and
    /// maternity indices (`target`) at its quintiles and segment prevalence.
    pub fn refit_ages(&self, mixed: &Structure, target: [f64; 2]) -> Structure {
        let tilt = mixed.tilt;
        let e = &self.england;
        let prior: Vec<f64> = mixed.age_sex.iter().flatten().copied().collect();
        let features: Vec<[f64; 2]> = (0..N_BANDS * N_SEX)
            .map(|c| {
                let (b, x) = (c / N_SEX, c % N_SEX);
                let cost: f64 = (0..N_IMD)
                    .filter(|&q| mixed.imd[q] > 0.0)
                    .map(|q| mixed.imd[q] * self.need.acute_cell(b, x, q, tilt[q]))
                    .sum();
                [cost / e[0], self.need.births[b][x] / e[1]]
            })
            .collect();
        Structure {
            age_sex: cells(&tilt_to(&prior, &features, target)),
            imd: mixed.imd,
            tilt,
        }
    }

    /// The fitted structure of a neighbourhood of real England (see [`PracticeFit::apply`]).
    pub fn structure_of(&self, real: &RealEngland, nb: &Neighbourhood) -> Structure {
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
            p.weighted(FITTED[k]) / p.population.max(f64::MIN_POSITIVE) / self.published_england[k]
        });
        self.refit(&mixed, &target)
    }

    /// Gives each neighbourhood of a real geography (`Geography::real` of `real`, whole or
    /// one ICB, or a part of either) the mix of its practices' fitted structures, refitted
    /// to its own published indices, and its own starting segment prevalence. A
    /// neighbourhood's id is its group's position in `real`. Neighbourhoods without
    /// published populations, or with their own list ages (imported: they win), are left
    /// as they are.
    pub fn apply(&self, real: &RealEngland, g: &mut Geography) {
        g.neighbourhoods.par_iter_mut().for_each(|nb| {
            if nb.published.is_none() || nb.ages.is_some() {
                return;
            }
            let s = self.structure_of(real, nb);
            nb.age_sex = s.age_sex;
            nb.imd = s.imd;
            nb.segments = Some(self.need.segment_table(&s).into());
        });
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
    // Practices are fitted independently, so in parallel: each is the same bits on any
    // thread, collected in file order.
    let structures: Vec<Structure> = (0..published.len())
        .into_par_iter()
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

/// One practice's structure for its published indices (`target`, relative to England's
/// per-head values `england`), its people in its deprivation quintile (`quintile`): the
/// quintile's segment prevalence tilted to its inequalities index, then age-sex shares
/// tilted from England's to its general and acute and maternity indices at that
/// prevalence.
fn fit_practice(
    need: &NeedModel,
    england: &[f64; 3],
    target: &[f64; 3],
    quintile: usize,
) -> Structure {
    let mut imd = [0.0; N_IMD];
    imd[quintile] = 1.0;
    let mut tilt = [0.0; N_IMD];
    tilt[quintile] = need.shift_to(&imd, &tilt, target[2]);
    let prior: Vec<f64> = need.england.iter().flatten().copied().collect();
    let features: Vec<[f64; 2]> = (0..N_BANDS * N_SEX)
        .map(|c| {
            let (b, x) = (c / N_SEX, c % N_SEX);
            [
                need.acute_cell(b, x, quintile, tilt[quintile]) / england[0],
                need.births[b][x] / england[1],
            ]
        })
        .collect();
    let age_sex = cells(&tilt_to(&prior, &features, [target[0], target[1]]));
    Structure { age_sex, imd, tilt }
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
pub fn tilt_to<const D: usize>(prior: &[f64], features: &[[f64; D]], target: [f64; D]) -> Vec<f64> {
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
        let p = tilt_to(&prior, &f, [2.5, 0.5]);
        let mean = |j: usize| p.iter().zip(&f).map(|(a, b)| a * b[j]).sum::<f64>();
        // The ridge leaves a reachable fit about RIDGE x θ from its target.
        assert!(
            (mean(0) - 2.5).abs() < 1e-6 && (mean(1) - 0.5).abs() < 1e-6,
            "{p:?}"
        );
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // The prior's own means give the prior back.
        let q = tilt_to(&prior, &f, [3.0, 0.6]);
        for (a, b) in q.iter().zip(&prior) {
            assert!((a - b).abs() < 1e-10, "{q:?}");
        }
        // Exponential family: log(p / prior) is linear in the features.
        let l: Vec<f64> = p.iter().zip(&prior).map(|(a, b)| (a / b).ln()).collect();
        let (t0, t1) = (l[2] - l[0], l[1] - l[0] - (l[2] - l[0]) / 2.0);
        assert!((l[3] - l[0] - (3.0 * t0 / 2.0 + t1)).abs() < 1e-9, "{l:?}");
    }

    /// The inequalities tilt of one quintile: zero is the model's prevalence, bit for bit;
    /// the measure rises with the tilt; the root find hits targets far outside what the
    /// quintiles reach; and it leaves bands of 75 and over alone.
    #[test]
    fn the_segment_tilt_reaches_the_inequalities_measure() {
        let d = crate::data::datasets::Datasets::bundled().unwrap();
        let m = Model::new(&d).unwrap();
        let need = NeedModel::new(&m);
        let ns = m.segments.len();
        let mut zero = Vec::new();
        need.shares(10, 1, 2, 0.0, |_, p| zero.push(p));
        let model: Vec<f64> = (0..ns)
            .map(|g| m.segments.initial_share(10, 2, g as u8))
            .collect();
        assert_eq!(zero, model);
        let mut last = 0.0;
        for tilt in [-50.0, -5.0, 0.0, 5.0, 50.0] {
            let v = need
                .inequality_at(&[0.0, 0.0, 1.0, 0.0, 0.0], &[0.0; 5], tilt)
                .0;
            assert!(v > last, "{tilt}: {v} after {last}");
            last = v;
        }
        for (q, target) in [(0, 5.77), (4, 0.46), (2, 1.0), (1, 0.6)] {
            let mut imd = [0.0; N_IMD];
            imd[q] = 1.0;
            let tilt = need.shift_to(&imd, &[0.0; N_IMD], target);
            let got = need.inequality_at(&imd, &[0.0; N_IMD], tilt).0;
            assert!((got - target).abs() < 1e-9, "{q} {target}: {got}");
            let mut old = Vec::new();
            need.shares(16, 0, q, tilt, |_, p| old.push(p));
            let model: Vec<f64> = (0..ns)
                .map(|g| m.segments.initial_share(16, q as u8, g as u8))
                .collect();
            assert_eq!(old, model, "75-79 untouched");
        }
    }

    #[test]
    fn an_unreachable_tilt_goes_to_the_edge() {
        let p = tilt_to(&[0.25; 4], &[[1.0], [2.0], [3.0], [4.0]], [5.0]);
        assert!(p[3] > 1.0 - 1e-6, "{p:?}");
        let p = tilt_to(&[0.25; 4], &[[1.0], [2.0], [3.0], [4.0]], [0.0]);
        assert!(p[0] > 1.0 - 1e-6, "{p:?}");
    }
}
