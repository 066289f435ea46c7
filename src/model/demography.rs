//! Deaths, births, migration and ageing: the rates, ready for the yearly loop.
//!
//! Mortality is the life-table probability by single year of age and sex, scaled by segment
//! and by deprivation. Both scalings are relative and are divided by their population-
//! weighted means (segment prevalence in the age band; equal quintile shares), so the
//! population as a whole dies at the life-table rate while the sick and the deprived die
//! sooner. Out-migration competes with death in the same draw (one uniform per person).

use crate::core::dims::{band_of, N_AGES, N_BANDS, N_IMD, N_SEX};
use crate::data::datasets::Datasets;

#[derive(Debug, Clone)]
pub struct Demography {
    n_segments: usize,
    /// Death probability, flat `[segment][imd][sex][age]`.
    q: Vec<f64>,
    in_rate: [[f64; N_SEX]; N_BANDS],
    out_rate: [[f64; N_SEX]; N_BANDS],
    fertility: [f64; N_BANDS],
    male_birth_share: f64,
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
                        let x = d.qx[[sex, age]] * seg_rel * dep.mortality_multiplier / dep_mean;
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
        Demography {
            n_segments: ns,
            q,
            in_rate,
            out_rate,
            fertility: d.fertility,
            male_birth_share: d.parameters.male_birth_share,
        }
    }

    /// Probability of dying within the year.
    #[inline]
    pub fn death(&self, segment: u8, imd: u8, sex: u8, age: u8) -> f64 {
        debug_assert!((segment as usize) < self.n_segments);
        self.q[((segment as usize * N_IMD + imd as usize) * N_SEX + sex as usize) * N_AGES
            + age as usize]
    }

    /// Probability of moving out within the year, for those who do not die. It competes
    /// with death in one draw, so the two together never exceed 1.
    #[inline]
    pub fn out_migration(&self, sex: u8, age: u8, death: f64) -> f64 {
        self.out_rate[band_of(age)][sex as usize].min(1.0 - death)
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
