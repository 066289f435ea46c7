//! `capsim run`: load, synthesise, simulate, write. The CLI is a thin layer over this.

use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use crate::activity::Setting;
use crate::datasets::{DatasetSource, Datasets};
use crate::error::{CapsimError, Result};
use crate::geography::{Geography, Preset};
use crate::model::Model;
use crate::output::{write_json, write_tables, Staging};
use crate::simulation::{simulate, NeighbourhoodResult, SimConfig};

/// Settings of one run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub seed: u64,
    pub years: u32,
    /// Worker threads; 0 means all cores.
    pub threads: usize,
    pub population: Preset,
    pub datasets: DatasetSource,
    pub out: PathBuf,
}

/// What `run.json` records.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub capsim_version: String,
    pub seed: u64,
    pub threads: usize,
    pub years: u32,
    pub population: Preset,
    pub datasets: String,
    pub datasets_checksum: String,
    pub neighbourhoods: usize,
    pub people_at_start: u64,
    pub person_years: u64,
    pub wall_seconds: f64,
    pub person_years_per_second: f64,
}

/// The headline numbers printed after a run.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub info: RunInfo,
    pub people_at_end: u64,
    pub births: u64,
    pub deaths: u64,
    /// Year-one count and cost (pounds) per setting.
    pub year_one: Vec<(Setting, u64, f64)>,
}

impl RunOptions {
    pub fn validate(&self) -> Result<()> {
        if self.years == 0 || self.years > 100 {
            return Err(CapsimError::InvalidSetting {
                setting: "--years".into(),
                problem: format!("{} is not allowed; use 1 to 100", self.years),
            });
        }
        Ok(())
    }
}

/// Runs the simulation and writes its tables into `options.out`, atomically.
pub fn run(options: &RunOptions, progress: &(dyn Fn(usize) + Sync)) -> Result<RunSummary> {
    options.validate()?;
    let started = Instant::now();
    let datasets = Datasets::load(&options.datasets)?;
    let model = Model::new(&datasets)?;
    let geography = Geography::preset(&datasets, options.population)?;
    let config = SimConfig {
        seed: options.seed,
        run: 0,
        years: options.years,
    };
    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.threads
    };
    let n = geography.neighbourhoods.len();
    progress(n);
    let results = simulate(&model, &geography, &config, threads, &|| progress(0))?;

    let mut staging = Staging::new(&options.out)?;
    write_tables(&mut staging, &geography, model.segments.ids(), &results)?;
    let person_years: u64 = results.iter().map(NeighbourhoodResult::person_years).sum();
    let wall = started.elapsed().as_secs_f64();
    let info = RunInfo {
        capsim_version: env!("CARGO_PKG_VERSION").into(),
        seed: options.seed,
        threads,
        years: options.years,
        population: options.population,
        datasets: match &options.datasets {
            DatasetSource::Bundled => "bundled".into(),
            DatasetSource::Dir(d) => d.display().to_string(),
        },
        datasets_checksum: datasets.checksum.clone(),
        neighbourhoods: n,
        people_at_start: geography.total_population(),
        person_years,
        wall_seconds: wall,
        person_years_per_second: person_years as f64 / wall.max(1e-9),
    };
    write_json(&mut staging, "run.json", &info)?;
    staging.commit()?;
    Ok(summarise(info, &results, model.segments.len()))
}

fn summarise(info: RunInfo, results: &[NeighbourhoodResult], ns: usize) -> RunSummary {
    let mut year_one = Vec::new();
    for (i, s) in Setting::ALL.iter().enumerate() {
        let (mut count, mut pence) = (0u64, 0i64);
        for r in results {
            count += r.activity[0].count[i * ns..(i + 1) * ns]
                .iter()
                .sum::<u64>();
            pence += r.activity[0].cost_pence[i * ns..(i + 1) * ns]
                .iter()
                .sum::<i64>();
        }
        year_one.push((*s, count, pence as f64 / 100.0));
    }
    RunSummary {
        people_at_end: results
            .iter()
            .map(|r| r.flows.last().map_or(0, |f| f.end))
            .sum(),
        births: results
            .iter()
            .flat_map(|r| &r.flows)
            .map(|f| f.births)
            .sum(),
        deaths: results
            .iter()
            .flat_map(|r| &r.flows)
            .map(|f| f.deaths)
            .sum(),
        info,
        year_one,
    }
}
