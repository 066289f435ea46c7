//! Expected activity of each neighbourhood, year and setting at national rates, by
//! deprivation quintile: the simulator's demography alone (no trends beyond demography, no
//! variation between areas, no draw of care), averaged over a few simulated population
//! paths. Calibration divides observed counts by it: the ratio is what the area's rates
//! differ by, and its change over the years beyond this projection is growth beyond
//! demography.

use rayon::prelude::*;

use crate::core::care::{Setting, N_SETTINGS};
use crate::core::dims::N_IMD;
use crate::core::error::Result;
use crate::core::rng::{Purpose, StreamKey};
use crate::data::geography::Geography;
use crate::engine::simulation::{expected_year, pool, Scratch, SimConfig};
use crate::engine::synthesis::{synthesise, Newcomers};
use crate::model::activity::group;
use crate::model::Model;

/// Expected counts `[neighbourhood][year - 1][setting][quintile]`, flat.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedActivity {
    pub years: u32,
    pub neighbourhoods: usize,
    values: Vec<f64>,
}

const PER_YEAR: usize = N_SETTINGS * N_IMD;

impl ExpectedActivity {
    /// Expected count of neighbourhood `nb` (position in the geography) in year `year`
    /// (1 = the first simulated year), setting `s` and quintile `q`.
    pub fn get(&self, nb: usize, year: u32, s: Setting, q: usize) -> f64 {
        self.values[self.at(nb, year) + s.index() * N_IMD + q]
    }

    /// By quintile, of one neighbourhood-year-setting.
    pub fn quintiles(&self, nb: usize, year: u32, s: Setting) -> &[f64] {
        let at = self.at(nb, year) + s.index() * N_IMD;
        &self.values[at..at + N_IMD]
    }

    fn at(&self, nb: usize, year: u32) -> usize {
        assert!(
            year >= 1 && year <= self.years,
            "year {year} of {}",
            self.years
        );
        (nb * self.years as usize + year as usize - 1) * PER_YEAR
    }
}

/// Projects every neighbourhood of `g` over `years` years, `runs` times from `seed` (the
/// populations of runs `0..runs`, as a batch with that seed draws them), on `threads`
/// threads (0 = all cores), and averages the expected counts.
pub fn expected_activity(
    model: &Model,
    g: &Geography,
    seed: u64,
    years: u32,
    runs: u32,
    threads: usize,
) -> Result<ExpectedActivity> {
    let per_nb = years as usize * PER_YEAR;
    let one = |scratch: &mut Scratch, k: usize| -> Vec<f64> {
        let nb = &g.neighbourhoods[k];
        let newcomers = Newcomers::new(model, nb);
        let ns = model.segments.len();
        let mut out = vec![0.0; per_nb];
        for run in 0..runs as u64 {
            let config = SimConfig::new(seed, run, years);
            let key = |year: u32| {
                move |purpose| StreamKey {
                    seed,
                    run,
                    neighbourhood: nb.id,
                    year: year as u64,
                    purpose,
                }
            };
            synthesise(
                model,
                nb,
                &mut scratch.people,
                &mut key(0)(Purpose::Synthesis).rng(),
            );
            for year in 1..=years {
                let means = expected_year(
                    model,
                    &newcomers,
                    key(year),
                    config.improvement_years(year),
                    scratch,
                );
                let ng = ns * N_IMD;
                let base = (year as usize - 1) * PER_YEAR;
                for s in Setting::ALL {
                    for seg in 0..ns {
                        for q in 0..N_IMD {
                            out[base + s.index() * N_IMD + q] +=
                                means[s.index() * ng + group(seg, q)] / runs as f64;
                        }
                    }
                }
            }
        }
        out
    };
    let n = g.neighbourhoods.len();
    let parts: Vec<Vec<f64>> = pool(threads)?.install(|| {
        (0..n)
            .into_par_iter()
            .map_init(Scratch::default, one)
            .collect()
    });
    Ok(ExpectedActivity {
        years,
        neighbourhoods: n,
        values: parts.concat(),
    })
}
