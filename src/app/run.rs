//! `capsim run`: one scenario (the bundled baseline by default). With one Monte Carlo run
//! it writes flat tables (Parquet, and CSV for the tables a person opens, or all with
//! `--csv`) and a summary; with more it is a batch of one
//! scenario and writes the batch layout. The CLI is a thin layer over this.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Instant;

use serde::Serialize;

use crate::accounts::summary::Collected;
use crate::app::batch::{run_batch, BatchOptions, BatchReport};
use crate::app::pipeline::{
    prepare, simulate_unit, write_formula_weights, write_geography, write_unit,
};
use crate::config::batch::Batch;
use crate::config::scenario::{Overrides, Scenario};
use crate::core::care::Setting;
use crate::core::error::Result;
use crate::data::datasets::DatasetSource;
use crate::data::geography::Preset;
use crate::engine::simulation::{pool, NeighbourhoodResult};
use crate::io::summary_table::write_summary_table;
use crate::io::tables::{write_json, Layout, Staging};

/// Settings of one `capsim run`.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Scenario file; `None` runs the bundled baseline.
    pub scenario: Option<PathBuf>,
    pub overrides: Overrides,
    /// Worker threads; 0 means all cores.
    pub threads: usize,
    pub datasets: DatasetSource,
    pub out: PathBuf,
    /// Every table of a single run as CSV too, not only the ones a person opens
    /// ([`crate::io::tables::CSV_TABLES`]).
    pub csv: bool,
}

impl RunOptions {
    /// Options for the bundled baseline with one run: the simplest call, for tests.
    pub fn baseline(seed: u64, years: u32, threads: usize, out: PathBuf) -> Self {
        RunOptions {
            scenario: None,
            overrides: Overrides {
                years: Some(years),
                runs: Some(1),
                population: Some(Preset::Invented),
                geography: None,
                seed: Some(seed),
                practices: None,
            },
            threads,
            datasets: DatasetSource::Bundled,
            out,
            csv: false,
        }
    }

    /// The scenario to run, with overrides applied.
    pub fn scenario(&self) -> Result<Scenario> {
        let mut s = match &self.scenario {
            Some(f) => Scenario::load(f)?,
            None => Scenario::bundled_baseline()?,
        };
        s.apply(&self.overrides)?;
        Ok(s)
    }
}

/// Monte Carlo runs of the first command (`capsim run` with no file): enough for every
/// chart and a stable interval, few enough that the five scenarios finish in a minute or
/// two on two cores. `--runs` overrides it.
pub const FIRST_COMMAND_RUNS: u32 = 30;

/// What `capsim run` with no file runs: the bundled shift-left comparison
/// (`scenarios/batch.toml`, five scenarios from common random numbers) at
/// [`FIRST_COMMAND_RUNS`] runs, with the command line's overrides.
pub fn bundled_comparison(o: &Overrides) -> Result<Batch> {
    let mut b = Batch::bundled()?;
    b.apply(&Overrides {
        runs: o.runs.or(Some(FIRST_COMMAND_RUNS)),
        ..o.clone()
    })?;
    Ok(b)
}

/// What `run.json` records.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub capsim_version: String,
    pub scenario: Scenario,
    pub threads: usize,
    pub datasets: String,
    pub datasets_checksum: String,
    pub neighbourhoods: usize,
    pub people_at_start: u64,
    pub person_years: u64,
    pub wall_seconds: f64,
    pub person_years_per_second: f64,
}

/// The headline numbers printed after a single run.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub info: RunInfo,
    pub people_at_end: u64,
    pub births: u64,
    pub deaths: u64,
    /// Year-one count and cost (pounds) per setting.
    pub year_one: Vec<(Setting, u64, f64)>,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub enum RunOutcome {
    Single(Box<RunSummary>),
    Batch(BatchReport),
}

fn threads_of(n: usize) -> usize {
    if n == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        n
    }
}

/// Runs the scenario and writes its tables into `options.out`, atomically.
/// `progress(total, done)` reports neighbourhoods (single run) or work units (batch).
pub fn run(options: &RunOptions, progress: &(dyn Fn(usize, usize) + Sync)) -> Result<RunOutcome> {
    let scenario = options.scenario()?;
    if scenario.runs > 1 {
        let batch = Batch::single(scenario);
        let report = run_batch(
            &batch,
            &BatchOptions {
                out: options.out.clone(),
                threads: options.threads,
                shard: None,
                datasets: options.datasets.clone(),
            },
            progress,
        )?;
        return Ok(RunOutcome::Batch(report));
    }
    run_single(options, scenario, progress).map(|s| RunOutcome::Single(Box::new(s)))
}

fn run_single(
    options: &RunOptions,
    scenario: Scenario,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<RunSummary> {
    let started = Instant::now();
    let batch = Batch::single(scenario);
    let p = prepare(&batch, &options.datasets)?;
    let threads = threads_of(options.threads);
    let n = p.geographies[0].neighbourhoods.len();
    progress(n, 0);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let unit = simulate_unit(&p, &batch, (0, 0), Some(&pool(threads)?), &|| {
        progress(n, done.fetch_add(1, Ordering::Relaxed) + 1)
    });
    let mut staging = Staging::new(&options.out)?.with_all_csv(options.csv);
    write_formula_weights(&p, &batch, &mut staging)?;
    write_geography(&p, &batch, &mut staging)?;
    let mut per_scenario = write_unit(&p, &batch, &unit, &mut staging, true)?;
    let own = &unit.results[1];
    let person_years: u64 = own.iter().map(NeighbourhoodResult::person_years).sum();
    let totals = Totals::of(own);
    // The results are written: freed before the summary is built, so the two are never
    // in memory together (for England, about 400 MB of results).
    drop(unit);
    let (metrics, draws) = per_scenario.remove(0);
    let scenario = batch.scenarios.into_iter().next().expect("one scenario");
    let mut c = Collected::new(std::slice::from_ref(&scenario));
    c.add(0, &metrics, &draws);
    write_summary_table(&mut staging, &Layout::Flat, "summary", &c.summary())?;
    let wall = started.elapsed().as_secs_f64();
    let info = RunInfo {
        capsim_version: env!("CARGO_PKG_VERSION").into(),
        scenario,
        threads,
        datasets: match &options.datasets {
            DatasetSource::Bundled => "bundled".into(),
            DatasetSource::Dir(d) => d.display().to_string(),
        },
        datasets_checksum: p.datasets.checksum.clone(),
        neighbourhoods: n,
        people_at_start: p.geographies[0].total_population(),
        person_years,
        wall_seconds: wall,
        person_years_per_second: person_years as f64 / wall.max(1e-9),
    };
    write_json(&mut staging, "run.json", &info)?;
    staging.commit()?;
    Ok(RunSummary {
        info,
        people_at_end: totals.people_at_end,
        births: totals.births,
        deaths: totals.deaths,
        year_one: totals.year_one,
    })
}

/// The totals a single run prints, taken from its results.
struct Totals {
    people_at_end: u64,
    births: u64,
    deaths: u64,
    year_one: Vec<(Setting, u64, f64)>,
}

impl Totals {
    fn of(results: &[NeighbourhoodResult]) -> Totals {
        let mut year_one = Vec::new();
        for s in Setting::ALL.iter() {
            let (mut count, mut pence) = (0u64, 0i64);
            for r in results {
                count += r.activity[0].count_of(*s);
                pence += r.activity[0].pence_of(*s);
            }
            year_one.push((*s, count, pence as f64 / 100.0));
        }
        Totals {
            people_at_end: results
                .iter()
                .map(|r| r.flows.last().map_or(0, |f| f.end))
                .sum(),
            births: results
                .iter()
                .flat_map(|r| r.flows.iter())
                .map(|f| f.births)
                .sum(),
            deaths: results
                .iter()
                .flat_map(|r| r.flows.iter())
                .map(|f| f.deaths)
                .sum(),
            year_one,
        }
    }
}
