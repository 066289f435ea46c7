//! `capsim calibrate`: each published England figure of `england_benchmarks.csv` beside
//! the England preset's first simulated year (seed 1, one run, the bundled datasets) and
//! their ratio. Spend concentration is drawn person by person for the starting people of
//! the preset's first 20 neighbourhoods (about 0.9 million people): a subsample, because
//! the per-person draw is the slow part and the share is stable at that size (the
//! statistics tests hold it to 25-40% on 0.4 million).

use std::fmt;

use crate::accounts::life::life_expectancy;
use crate::core::care::Setting;
use crate::core::dims::{N_BANDS, N_IMD};
use crate::core::error::{CapsimError, Result};
use crate::core::rng::{Purpose, StreamKey};
use crate::data::datasets::{DatasetSource, Datasets};
use crate::data::geography::{Geography, Preset};
use crate::engine::exposure::person_hospital_spend;
use crate::engine::population::People;
use crate::engine::simulation::{simulate, NeighbourhoodResult, SimConfig};
use crate::engine::synthesis::synthesise;
use crate::model::Model;

/// Neighbourhoods whose people are drawn for the spend concentration.
const CONCENTRATION_NEIGHBOURHOODS: usize = 20;
/// Resident weeks in a year, to turn care-home weeks into residents.
const WEEKS_PER_YEAR: f64 = 365.25 / 7.0;

/// One published figure and its simulated counterpart.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationRow {
    pub measure: String,
    pub published: f64,
    pub simulated: f64,
    pub year: String,
    pub source: String,
}

impl CalibrationRow {
    pub fn ratio(&self) -> f64 {
        self.simulated / self.published
    }
}

/// The calibration table: every row of `england_benchmarks.csv`, in its order.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    pub rows: Vec<CalibrationRow>,
}

/// Simulates the England preset's first year and sets it beside the published figures.
pub fn calibrate(source: &DatasetSource) -> Result<Calibration> {
    let d = Datasets::load(source)?;
    let m = Model::new(&d)?;
    let g = Geography::preset(&d, Preset::EnglandInvented)?;
    let config = SimConfig::new(1, 0, 1);
    let results = simulate(&m, &g, &config, 0, &|| {})?;
    let (top1, top5) = concentration(&m, &g);
    let rows = d
        .benchmarks
        .iter()
        .map(|b| {
            let simulated = match b.measure.as_str() {
                "top1_hospital_spend_share" => Some(top1),
                "top5_hospital_spend_share" => Some(top5),
                other => simulated(&results, other),
            }
            .ok_or_else(|| CapsimError::InvalidSetting {
                setting: "england_benchmarks.csv".into(),
                problem: format!("capsim cannot simulate the measure `{}`", b.measure),
            })?;
            Ok(CalibrationRow {
                measure: b.measure.clone(),
                published: b.value,
                simulated,
                year: b.year.clone(),
                source: b.source.clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Calibration { rows })
}

/// Life expectancy at birth of one sex, over every neighbourhood and the quintiles in
/// `quintiles`, in the first year.
pub fn simulated_life_expectancy(
    results: &[NeighbourhoodResult],
    sex: usize,
    quintiles: &[usize],
) -> Option<f64> {
    let (mut deaths, mut py) = ([0.0; N_BANDS], [0.0; N_BANDS]);
    for r in results {
        let life = &r.life[0];
        for b in 0..N_BANDS {
            for &q in quintiles {
                deaths[b] += life.deaths[b][sex][q] as f64;
                py[b] += life.person_years[b][sex][q];
            }
        }
    }
    life_expectancy(&deaths, &py)
}

/// A measure of the first simulated year, by its name in `england_benchmarks.csv`.
fn simulated(results: &[NeighbourhoodResult], measure: &str) -> Option<f64> {
    let all: Vec<usize> = (0..N_IMD).collect();
    let le = |sex: usize| simulated_life_expectancy(results, sex, &all);
    let gap = |sex: usize| {
        Some(
            simulated_life_expectancy(results, sex, &[N_IMD - 1])?
                - simulated_life_expectancy(results, sex, &[0])?,
        )
    };
    let count = |s: Setting| {
        results
            .iter()
            .map(|r| r.activity[0].count_of(s))
            .sum::<u64>() as f64
    };
    match measure {
        "deaths" => Some(results.iter().map(|r| r.flows[0].deaths).sum::<u64>() as f64),
        "births" => Some(results.iter().map(|r| r.flows[0].births).sum::<u64>() as f64),
        "life_expectancy_male" => le(0),
        "life_expectancy_female" => le(1),
        "life_expectancy_gap_male" => gap(0),
        "life_expectancy_gap_female" => gap(1),
        "care_home_residents" => Some(count(Setting::CareHomeWeeks) / WEEKS_PER_YEAR),
        other => Setting::parse(other).map(count),
    }
}

/// Shares of hospital spend drawn by the costliest 1% and 5% of people.
fn concentration(m: &Model, g: &Geography) -> (f64, f64) {
    let (mut people, mut all) = (People::default(), Vec::new());
    for nb in g.neighbourhoods.iter().take(CONCENTRATION_NEIGHBOURHOODS) {
        let key = |purpose| StreamKey {
            seed: 1,
            run: 0,
            neighbourhood: nb.id,
            year: 0,
            purpose,
        };
        synthesise(m, nb, &mut people, &mut key(Purpose::Synthesis).rng());
        let mut rng = key(Purpose::PersonActivity).rng();
        all.extend(
            (0..people.len()).map(|i| person_hospital_spend(&m.activity, &people, i, &mut rng)),
        );
    }
    all.sort_unstable_by(|a, b| b.cmp(a));
    let total = all.iter().sum::<i64>().max(1) as f64;
    let share = |p: usize| all[..all.len() * p / 100].iter().sum::<i64>() as f64 / total;
    (share(1), share(5))
}

impl fmt::Display for Calibration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "England, first simulated year (seed 1) against published figures:"
        )?;
        writeln!(
            f,
            "{:<28} {:>14} {:>14} {:>7}  year, source",
            "measure", "published", "simulated", "ratio"
        )?;
        for r in &self.rows {
            let v = |x: f64| {
                if x.abs() < 100.0 {
                    format!("{x:.2}")
                } else {
                    format!("{x:.0}")
                }
            };
            writeln!(
                f,
                "{:<28} {:>14} {:>14} {:>7.3}  {}, {}",
                r.measure,
                v(r.published),
                v(r.simulated),
                r.ratio(),
                r.year,
                r.source
            )?;
        }
        Ok(())
    }
}
