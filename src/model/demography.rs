//! Deaths, births, migration and ageing: the rates, ready for the yearly loop.
//!
//! Mortality is the life-table probability by single year of age and sex, scaled by segment
//! and by deprivation. Both scalings are relative and are divided by their population-
//! weighted means (segment prevalence in the age band; equal quintile shares), so the
//! population as a whole dies at the life-table rate while the sick and the deprived die
//! sooner. Out-migration competes with death in the same draw (one uniform per person).
//!
//! **Age at the draw.** The yearly cycle draws deaths from age at the start of the year
//! (age last birthday), when people are on average half a year past it; their chance of
//! dying in the next twelve months is the life table's q at age x + 0.5, taken as the
//! geometric mean of q(x) and q(x + 1). Age 0 keeps q(0): babies born during a year are
//! not at risk until the next, so q(0) at age 0 stands in for the deaths of infancy.
//! Drawing at q(x) instead cost about 5% of deaths (England's first year 515k against
//! 544k registered in 2023).
//!
//! **Improvement.** Death probabilities fall by an annual rate by single year of age, the
//! ONS principal long-term assumption (2022- and 2024-based national population
//! projections): 1.1% a year for ages 0 to 90, falling linearly to 0 at 110 (so 0.55% at
//! our open age 100+). ONS reach that rate after 25 years from age-specific short-term
//! rates that we do not have, so capsim applies the long-term rate from the first year
//! (assumption). Year 1 uses the base table; year y is improved by y - 1 years. The
//! factors are precomputed per (years of improvement, sex, age), so the yearly loop
//! multiplies once per person and never calls `powf`.

use std::sync::OnceLock;

use crate::core::dims::{band_ages, band_of, Cell, FEMALE, N_AGES, N_BANDS, N_IMD, N_SEX};
use crate::data::datasets::Datasets;

/// Long-term annual rate of mortality improvement for ages 0 to 90: ONS national
/// population projections, mortality assumptions, 2022- and 2024-based (principal).
pub const LONG_TERM_IMPROVEMENT: f64 = 0.011;

/// The most years of improvement precomputed: the longest horizon a scenario allows
/// ([`crate::config::scenario`] `years`, at most 100).
pub const MAX_IMPROVEMENT_YEARS: usize = 100;

/// Annual rate of mortality improvement at a single year of age (the same for both sexes
/// in the ONS assumption): 1.1% to 90, linear to 0 at 110; 100 stands for 100 and over
/// and takes the rate at 100.
pub fn improvement_rate(age: usize) -> f64 {
    if age <= 90 {
        LONG_TERM_IMPROVEMENT
    } else {
        LONG_TERM_IMPROVEMENT * (110.0 - age as f64).max(0.0) / 20.0
    }
}

/// The probability of dying within the year for someone aged `age` last birthday at the
/// start of it (see the module notes): q(x + 0.5), except at 0 and at the open age.
pub fn start_of_year_q(qx: &[f64], age: usize) -> f64 {
    if age == 0 || age + 1 >= qx.len() {
        qx[age]
    } else {
        (qx[age] * qx[age + 1]).sqrt()
    }
}

#[derive(Debug, Clone)]
pub struct Demography {
    n_segments: usize,
    /// Death probability, flat `[segment][imd][sex][age]`.
    q: Vec<f64>,
    /// Factor on the death probability after `t` years of improvement, flat
    /// `[t][sex][age]` for t in 0..=[`MAX_IMPROVEMENT_YEARS`].
    improvement: Vec<f64>,
    in_rate: [[f64; N_SEX]; N_BANDS],
    out_rate: [[f64; N_SEX]; N_BANDS],
    fertility: [f64; N_BANDS],
    /// [`Demography::birth_chance`], by sex and single year of age.
    birth_chance: [[f64; N_AGES]; N_SEX],
    male_birth_share: f64,
    /// [`Demography::exit_chances`] without factors, by years of improvement: the same for
    /// every neighbourhood and run, so each is made once, when first asked for.
    unchanged: Vec<OnceLock<Vec<[f64; 2]>>>,
}

impl Demography {
    pub fn new(d: &Datasets) -> Self {
        let ns = d.segments.len();
        let dep_mean: f64 = d
            .deprivation
            .iter()
            .map(|x| x.mortality_multiplier)
            .sum::<f64>()
            / N_IMD as f64;
        let mut q = vec![0.0; ns * N_IMD * N_SEX * N_AGES];
        let qx: Vec<Vec<f64>> = (0..N_SEX).map(|s| d.qx.row(s).to_vec()).collect();
        for g in 0..ns {
            for (imd, dep) in d.deprivation.iter().enumerate() {
                for sex in 0..N_SEX {
                    for age in 0..N_AGES {
                        let b = band_of(age as u8);
                        let seg_mean: f64 = (0..ns)
                            .map(|h| d.prevalence[[b, h]] * d.segments[h].mortality_multiplier)
                            .sum();
                        let seg_rel = if seg_mean > 0.0 {
                            d.segments[g].mortality_multiplier / seg_mean
                        } else {
                            1.0
                        };
                        let base = start_of_year_q(&qx[sex], age);
                        let x = base * seg_rel * dep.mortality_multiplier / dep_mean;
                        q[((g * N_IMD + imd) * N_SEX + sex) * N_AGES + age] = x.min(1.0);
                    }
                }
            }
        }
        let mut in_rate = [[0.0; N_SEX]; N_BANDS];
        let mut out_rate = [[0.0; N_SEX]; N_BANDS];
        for b in 0..N_BANDS {
            for s in 0..N_SEX {
                in_rate[b][s] = d.migration[[b, s, 0]];
                out_rate[b][s] = d.migration[[b, s, 1]];
            }
        }
        let mut improvement = Vec::with_capacity((MAX_IMPROVEMENT_YEARS + 1) * N_SEX * N_AGES);
        for t in 0..=MAX_IMPROVEMENT_YEARS {
            for _sex in 0..N_SEX {
                for age in 0..N_AGES {
                    improvement.push((1.0 - improvement_rate(age)).powi(t as i32));
                }
            }
        }
        let mut birth_chance = [[0.0; N_AGES]; N_SEX];
        for (age, p) in birth_chance[FEMALE as usize].iter_mut().enumerate() {
            *p = d.fertility[band_of(age as u8)];
        }
        Demography {
            n_segments: ns,
            birth_chance,
            q,
            improvement,
            in_rate,
            out_rate,
            fertility: d.fertility,
            male_birth_share: d.parameters.male_birth_share,
            unchanged: (0..=MAX_IMPROVEMENT_YEARS)
                .map(|_| OnceLock::new())
                .collect(),
        }
    }

    /// [`Demography::exit_chances`] after `t` years of improvement without factors.
    pub fn unchanged_exit_chances(&self, t: usize) -> &[[f64; 2]] {
        self.unchanged[t.min(MAX_IMPROVEMENT_YEARS)].get_or_init(|| {
            let mut out = Vec::new();
            self.exit_chances(t, None, &mut out);
            out
        })
    }

    /// Probability of dying within the year.
    #[inline]
    pub fn death(&self, segment: u8, imd: u8, sex: u8, age: u8) -> f64 {
        debug_assert!((segment as usize) < self.n_segments);
        self.q[Self::row(segment, imd, sex, age)]
    }

    /// Probability of dying within the year after `t` years of mortality improvement
    /// (`t` = 0 is [`Demography::death`]; beyond [`MAX_IMPROVEMENT_YEARS`] it stays there).
    #[inline]
    pub fn death_after(&self, segment: u8, imd: u8, sex: u8, age: u8, t: usize) -> f64 {
        let t = t.min(MAX_IMPROVEMENT_YEARS);
        self.death(segment, imd, sex, age)
            * self.improvement[(t * N_SEX + sex as usize) * N_AGES + age as usize]
    }

    /// Probability of moving out within the year, for those who do not die. It competes
    /// with death in one draw, so the two together never exceed 1.
    #[inline]
    pub fn out_migration(&self, sex: u8, age: u8, death: f64) -> f64 {
        self.out_rate[band_of(age)][sex as usize].min(1.0 - death)
    }

    /// Row of a kind of person (segment, quintile, sex, single year of age) in the tables
    /// [`Demography::exit_chances`] fills.
    #[inline]
    pub fn row(segment: u8, imd: u8, sex: u8, age: u8) -> usize {
        ((segment as usize * N_IMD + imd as usize) * N_SEX + sex as usize) * N_AGES + age as usize
    }

    /// Fills `out`, by [`Demography::row`], with each kind of person's chance of dying and of
    /// dying or moving out in a year after `t` years of improvement, with death
    /// probabilities multiplied by `mortality` (by [`Cell::demographic`]) when a path's
    /// interventions change them. It is the arithmetic of [`Demography::death_after`] and
    /// [`Demography::out_migration`], operation for operation, so the chances are the same
    /// bits; done once a neighbourhood-year for about nine thousand kinds of person instead
    /// of once a person.
    pub fn exit_chances(&self, t: usize, mortality: Option<&[f64]>, out: &mut Vec<[f64; 2]>) {
        out.clear();
        out.reserve(self.q.len());
        for segment in 0..self.n_segments as u8 {
            for imd in 0..N_IMD as u8 {
                for sex in 0..N_SEX as u8 {
                    for age in 0..N_AGES as u8 {
                        let mut q = self.death_after(segment, imd, sex, age, t);
                        if let Some(f) = mortality {
                            q = (q * f[Cell::of(age, sex, imd, segment).demographic()]).min(1.0);
                        }
                        out.push([q, q + self.out_migration(sex, age, q)]);
                    }
                }
            }
        }
    }

    /// Chance of giving birth in the year by sex and single year of age: the band's
    /// fertility for women, none for men.
    #[inline]
    pub fn birth_chance(&self, sex: u8, age: u8) -> f64 {
        self.birth_chance[sex as usize][age as usize]
    }

    /// Expected in-migrants per resident of a band and sex.
    pub fn in_migration(&self, band: usize, sex: usize) -> f64 {
        self.in_rate[band][sex]
    }

    /// Births per woman per year in a band.
    pub fn fertility(&self, band: usize) -> f64 {
        self.fertility[band]
    }

    pub fn male_birth_share(&self) -> f64 {
        self.male_birth_share
    }
}

/// In the oldest band, the chance that a person drawn at one year of age is older still.
pub const OLDEST_CONTINUE: f64 = 0.72;

/// The probability of each single year of age within a band, as
/// synthesis draws it (`engine::synthesis::Newcomers::age_in_band`).
pub fn age_shares(band: usize) -> Vec<(u8, f64)> {
    let (lo, hi) = band_ages(band);
    if band == N_BANDS - 1 {
        (lo..=hi)
            .map(|a| {
                let j = (a - lo) as i32;
                let p = OLDEST_CONTINUE.powi(j);
                (
                    a,
                    if a < hi {
                        p * (1.0 - OLDEST_CONTINUE)
                    } else {
                        p
                    },
                )
            })
            .collect()
    } else {
        let n = (hi - lo + 1) as f64;
        (lo..=hi).map(|a| (a, 1.0 / n)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ONS shape: 1.1% to 90, half that at 100, none from 110.
    #[test]
    fn improvement_follows_the_ons_long_term_assumption() {
        assert_eq!(improvement_rate(0), 0.011);
        assert_eq!(improvement_rate(90), 0.011);
        assert!((improvement_rate(100) - 0.0055).abs() < 1e-12);
        assert_eq!(improvement_rate(110), 0.0);
    }

    /// Improvement lowers deaths year by year at the compounded rate, and year 0 is the
    /// base table.
    #[test]
    fn death_probabilities_improve_by_compounding() {
        let d = Datasets::bundled().unwrap();
        let m = Demography::new(&d);
        let base = m.death(0, 2, 0, 70);
        assert_eq!(m.death_after(0, 2, 0, 70, 0), base);
        let ten = m.death_after(0, 2, 0, 70, 10);
        assert!((ten / base - 0.989f64.powi(10)).abs() < 1e-12);
        assert_eq!(
            m.death_after(0, 2, 0, 70, 1000),
            m.death_after(0, 2, 0, 70, 100)
        );
    }

    /// Deaths are drawn at q(x + 0.5), between q(x) and q(x + 1).
    #[test]
    fn start_of_year_q_lies_half_a_year_on() {
        let qx = [0.004, 0.0003, 0.0002, 0.5];
        assert_eq!(start_of_year_q(&qx, 0), 0.004);
        let q1 = start_of_year_q(&qx, 1);
        assert!(q1 < 0.0003 && q1 > 0.0002);
        assert_eq!(start_of_year_q(&qx, 3), 0.5);
    }
}
