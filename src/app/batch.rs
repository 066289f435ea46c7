//! Batches of scenarios with Monte Carlo runs: resumable, shardable, mergeable.
//!
//! Scenarios that share a population, horizon, seed and variation settings form a group,
//! and each run of a group is one work unit: the counterfactual (no interventions) and
//! every scenario of the group simulated together from common random numbers. A unit writes its Hive partitions
//! (`TABLE/scenario=S/run=K/part-0.parquet`) through a staging folder, then a marker in
//! `.units/`; a unit with a marker is complete and is skipped on a re-run, so a batch
//! killed midway loses only the units in flight. `--shard I/N` takes every N-th unit from
//! the I-th, so an array job of N tasks covers the batch; `merge` gathers shard folders.
//! The summary is gathered in the units' order, from memory as this call's units finish
//! and from the partitions for units written before or elsewhere, so it does not depend on
//! how the work was split or interrupted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;

use crate::accounts::metric::{FormulaMetric, Metric};
use crate::accounts::summary::{BudgetTableRow, Collected};
use crate::app::one_way;
use crate::app::pipeline::{
    prepare, release_freed_memory, simulate_and_write_unit, unit_staging, write_formula_weights,
    write_geography, Prepared, RunSink, ScenarioRun, Unit,
};
use crate::config::batch::{Batch, Shard};
use crate::config::scenario::{parse_toml, scenario_error, Mortality, Scenario, Variation};
use crate::core::error::{CapsimError, Result};
use crate::core::level::Level;
use crate::data::datasets::DatasetSource;
use crate::engine::simulation::pool;
use crate::io::incremental::{ceaf_frame, incremental_frame};
use crate::io::read::read_on_threads;
use crate::io::summary::{
    budget_table_frame, read_draws, read_metrics, read_summary, read_summary_where, risk_frame,
    sensitivity_frame,
};
use crate::io::summary_table::write_summary_table;
use crate::io::tables::{write_atomic, write_frame, Layout, RunTable, Staging};
use crate::report::charts::data::context_of;
use crate::report::headline::headline_lines;

/// How to run a batch.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    pub out: PathBuf,
    /// Worker threads; 0 means all cores.
    pub threads: usize,
    pub shard: Option<Shard>,
    pub datasets: DatasetSource,
}

/// What `batch.json` records: everything that determines the results. A folder holding
/// another batch's results is refused, so resumed and merged work always matches.
#[derive(Debug, Clone, Serialize)]
struct Manifest<'a> {
    capsim_version: &'a str,
    datasets_checksum: &'a str,
    batch: &'a Batch,
    units: usize,
}

/// The outcome of a batch call.
#[derive(Debug, Clone)]
pub struct BatchReport {
    pub units_total: usize,
    pub units_run: usize,
    pub units_skipped: usize,
    pub person_years: u64,
    pub wall_seconds: f64,
    /// True when every unit is present and the summary was written.
    pub summarised: bool,
}

/// The manifest of a batch: everything that determines its results.
fn manifest(batch: &Batch, p: &Prepared) -> String {
    serde_json::to_string_pretty(&Manifest {
        capsim_version: env!("CARGO_PKG_VERSION"),
        datasets_checksum: &p.datasets.checksum,
        batch,
        units: p.units.len(),
    })
    .expect("serialisable")
        + "\n"
}

fn marker(out: &Path, unit: (usize, u64)) -> PathBuf {
    out.join(".units")
        .join(format!("group{}-run{}.done", unit.0, unit.1))
}

/// Refuses a folder that holds another batch; records this one.
fn claim(out: &Path, manifest: &str) -> Result<()> {
    let path = out.join("batch.json");
    match std::fs::read_to_string(&path) {
        Ok(existing) if existing == manifest => Ok(()),
        Ok(_) => Err(CapsimError::InvalidSetting {
            setting: "--out".into(),
            problem: format!(
                "{} holds the results of a different batch (or capsim version, or datasets); use another folder",
                out.display()
            ),
        }),
        Err(_) => write_atomic(&path, manifest.as_bytes()),
    }
}

/// Removes staging folders left by killed runs.
fn clean_stale(out: &Path) {
    if let Ok(entries) = std::fs::read_dir(out) {
        for e in entries.flatten() {
            if e.file_name()
                .to_string_lossy()
                .starts_with(".capsim-staging-")
            {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

/// Runs one work unit and writes its partitions, then its marker; returns person-years
/// simulated. Each scenario's metrics go to `sink` with its index in the batch as soon as
/// it is written. Writing happens outside any pool of ours: polars runs its own, and a
/// worker of ours waiting on it would steal further units and hold them all in memory.
fn run_unit(
    p: &Prepared,
    batch: &Batch,
    out: &Path,
    unit: Unit,
    pool: Option<&rayon::ThreadPool>,
    sink: RunSink,
) -> Result<u64> {
    let mut staging = unit_staging(out, unit)?;
    let u = simulate_and_write_unit(p, batch, unit, pool, &mut staging, false, sink)?;
    staging.commit()?;
    write_atomic(&marker(out, unit), b"done\n")?;
    Ok(u.person_years)
}

/// [`run_unit`], its scenarios' metrics held and returned with their indices in the batch.
fn run_unit_held(
    p: &Prepared,
    batch: &Batch,
    out: &Path,
    unit: Unit,
    pool: Option<&rayon::ThreadPool>,
) -> Result<(u64, Vec<(usize, ScenarioRun)>)> {
    let mut runs = Vec::new();
    let py = run_unit(p, batch, out, unit, pool, &mut |s, run| {
        runs.push((s, run));
        Ok(())
    })?;
    Ok((py, runs))
}

/// Runs the units of `todo` one at a time, neighbourhoods in parallel on `pool`: for a
/// large population. A unit next in the summary's order has its scenarios' metrics
/// gathered as each is written, so they are never held together; others are held and
/// handed over when finished, as [`Gatherer::finished`] takes them.
fn run_units_in_turn(
    p: &Prepared,
    batch: &Batch,
    out: &Path,
    todo: &[Unit],
    pool: &rayon::ThreadPool,
    gatherer: &mut Option<Gatherer>,
    progress: &dyn Fn(usize),
) -> Result<u64> {
    let mut py = 0;
    for (k, u) in todo.iter().enumerate() {
        let direct = match gatherer.as_mut() {
            Some(g) => g.is_next(*u)?,
            None => false,
        };
        if direct {
            let g = gatherer.as_mut().expect("a gatherer");
            py += run_unit(p, batch, out, *u, Some(pool), &mut |s, run| {
                // The scenario's results and budgets are freed by now, its results (about
                // 200 MB for real England) in the workers' arenas, where the summary's
                // rows, gathered on this thread, would not reuse them: returned first.
                release_freed_memory();
                g.collected.add(s, &run.0, &run.1);
                drop(run);
                release_freed_memory();
                Ok(())
            })?;
            g.added(*u)?;
        } else {
            let (n, runs) = run_unit_held(p, batch, out, *u, Some(pool))?;
            if let Some(g) = gatherer.as_mut() {
                g.finished(*u, runs)?;
            }
            py += n;
        }
        release_freed_memory();
        progress(k + 1);
    }
    Ok(py)
}

/// The summary's inputs, gathered while a batch runs, in the batch's unit order, so each
/// scenario's runs are added in ascending order as [`Collected::add`] needs and the
/// summary is the one [`finish`] would make from the partitions: a unit this call
/// simulates is added from memory, one an earlier call or another shard wrote is read
/// back from its partitions. A unit that finishes far ahead of the next one in order is
/// read back later instead of held, so memory stays flat in the number of runs.
struct Gatherer<'a> {
    batch: &'a Batch,
    out: &'a Path,
    units: &'a [Unit],
    groups: Vec<Vec<usize>>,
    /// Whether this call simulates each unit (else its partitions are on disk).
    here: Vec<bool>,
    /// The next unit to add, by position in `units`.
    next: usize,
    /// Units finished ahead of `next`: their scenario-runs, or `None` when to be read back.
    ahead: BTreeMap<usize, Option<Vec<(usize, ScenarioRun)>>>,
    /// How many finished units are held in memory at most.
    hold: usize,
    collected: Collected,
}

impl<'a> Gatherer<'a> {
    /// A gatherer when this call simulates units and every other unit is already on disk
    /// (so this call completes the batch); `None` otherwise.
    fn new(
        batch: &'a Batch,
        out: &'a Path,
        units: &'a [Unit],
        todo: &[Unit],
        threads: usize,
    ) -> Option<Self> {
        let here: Vec<bool> = units.iter().map(|u| todo.contains(u)).collect();
        let complete = units
            .iter()
            .zip(&here)
            .all(|(u, h)| *h || marker(out, *u).exists());
        (complete && !todo.is_empty()).then(|| Gatherer {
            batch,
            out,
            units,
            groups: batch.groups(),
            here,
            next: 0,
            ahead: BTreeMap::new(),
            hold: 2 * threads + 2,
            collected: Collected::new(&batch.scenarios),
        })
    }

    /// Takes a unit this call finished, then adds every unit that is next in order.
    fn finished(&mut self, unit: Unit, runs: Vec<(usize, ScenarioRun)>) -> Result<()> {
        let at = self
            .units
            .iter()
            .position(|u| *u == unit)
            .expect("a finished unit is one of the batch's");
        let held = self.ahead.values().filter(|r| r.is_some()).count();
        self.ahead
            .insert(at, (at == self.next || held < self.hold).then_some(runs));
        self.add_ready()
    }

    /// Whether `unit` is the next to add once every unit before it that is on disk is
    /// read back: then its scenario-runs can be added as they come ([`Gatherer::added`]).
    fn is_next(&mut self, unit: Unit) -> Result<bool> {
        self.add_ready()?;
        Ok(self.units.get(self.next) == Some(&unit))
    }

    /// Marks `unit`, the next in order, as added (its scenario-runs were added as they
    /// came), then adds every unit that is next in order.
    fn added(&mut self, unit: Unit) -> Result<()> {
        assert_eq!(self.units[self.next], unit, "units are added in order");
        self.next += 1;
        self.add_ready()
    }

    fn add_ready(&mut self) -> Result<()> {
        while self.next < self.units.len() {
            let runs = match self.ahead.remove(&self.next) {
                Some(Some(runs)) => runs,
                Some(None) => self.read_back(self.units[self.next])?,
                None if !self.here[self.next] => self.read_back(self.units[self.next])?,
                None => break,
            };
            for (s, (metrics, draws)) in &runs {
                self.collected.add(*s, metrics, draws);
            }
            self.next += 1;
        }
        Ok(())
    }

    /// A unit's scenario-runs read back from its partitions.
    fn read_back(&self, (g, run): Unit) -> Result<Vec<(usize, ScenarioRun)>> {
        self.groups[g]
            .iter()
            .filter(|s| run < self.batch.scenarios[**s].runs as u64)
            .map(|s| Ok((*s, read_scenario_run(self.batch, self.out, *s, run)?)))
            .collect()
    }

    /// Everything gathered, once every unit has been added.
    fn into_collected(mut self) -> Result<Collected> {
        self.add_ready()?;
        assert_eq!(
            self.next,
            self.units.len(),
            "every unit of the batch is gathered"
        );
        Ok(self.collected)
    }
}

/// Scenario `i`'s metrics and drawn parameters of one run, read from its partitions.
fn read_scenario_run(batch: &Batch, out: &Path, i: usize, run: u64) -> Result<ScenarioRun> {
    let layout = Layout::Partition {
        scenario: batch.scenarios[i].name.clone(),
        run,
    };
    Ok((
        read_metrics(&out.join(layout.files("metrics").0))?,
        read_draws(&out.join(layout.files("parameters").0))?,
    ))
}

/// Runs the units of `batch` not yet complete in `options.out` (only this shard's, if
/// sharded), then writes the summary if every unit is present. `progress(total, done)` is
/// called as units finish.
pub fn run_batch(
    batch: &Batch,
    options: &BatchOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<BatchReport> {
    let started = Instant::now();
    let p = prepare(batch, &options.datasets)?;
    std::fs::create_dir_all(&options.out).map_err(|e| CapsimError::io(&options.out, e))?;
    claim(&options.out, &manifest(batch, &p))?;
    clean_stale(&options.out);
    // The need formula each group's budgets use: fitted in `prepare`, the same for every
    // unit and shard, written once (again, identically, on a resume).
    let mut staging = Staging::named(&options.out, "formula")?;
    write_formula_weights(&p, batch, &mut staging)?;
    write_geography(&p, batch, &mut staging)?;
    staging.commit()?;
    let mine: Vec<(usize, u64)> = p
        .units
        .iter()
        .enumerate()
        .filter(|(i, _)| options.shard.is_none_or(|s| i % s.count == s.index))
        .map(|(_, u)| *u)
        .collect();
    let todo: Vec<(usize, u64)> = mine
        .iter()
        .copied()
        .filter(|u| !marker(&options.out, *u).exists())
        .collect();
    let done = AtomicUsize::new(0);
    progress(todo.len(), 0);
    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.threads
    };
    // The one-way sensitivity analysis, once per batch folder: by this call unless it
    // is a shard other than the first, or an earlier call wrote it. Before the units, so
    // that the summary's values gathered from them (about 1 GB for real England's five
    // scenarios) are not held while it runs.
    if options.shard.is_none_or(|s| s.index == 0) && !one_way::written(&options.out) {
        one_way::write_one_way(&p, batch, &options.out, &pool(threads)?)?;
        release_freed_memory();
    }
    let gatherer = Mutex::new(Gatherer::new(batch, &options.out, &p.units, &todo, threads));
    let finished = |unit: Unit, (py, runs): (u64, Vec<(usize, ScenarioRun)>)| -> Result<u64> {
        if let Some(g) = gatherer.lock().expect("no panics").as_mut() {
            g.finished(unit, runs)?;
        }
        progress(todo.len(), done.fetch_add(1, Ordering::Relaxed) + 1);
        Ok(py)
    };
    let person_years: u64 = if todo.len() >= 2 * threads {
        // Many units: each of `threads` plain threads takes the next unit and simulates
        // it alone, so memory holds one unit per thread.
        let next = AtomicUsize::new(0);
        let failed = std::sync::atomic::AtomicBool::new(false);
        let worker = || -> Result<u64> {
            let mut py = 0;
            while !failed.load(Ordering::Relaxed) {
                let Some(u) = todo.get(next.fetch_add(1, Ordering::Relaxed)) else {
                    break;
                };
                match run_unit_held(&p, batch, &options.out, *u, None).and_then(|r| finished(*u, r))
                {
                    Ok(n) => py += n,
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        return Err(e);
                    }
                }
            }
            Ok(py)
        };
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads).map(|_| scope.spawn(worker)).collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("worker threads do not panic"))
                .sum::<Result<u64>>()
        })?
    } else {
        // Few units (a large population): one at a time, neighbourhoods in parallel.
        let mut g = gatherer.lock().expect("no panics");
        run_units_in_turn(
            &p,
            batch,
            &options.out,
            &todo,
            &pool(threads)?,
            &mut g,
            &|k| progress(todo.len(), k),
        )?
    };
    let units = p.units.clone();
    let summarised = match gatherer.into_inner().expect("no panics") {
        Some(g) => {
            let collected = g.into_collected()?;
            // The model, datasets and geographies are needed no more: freed before the
            // summary, the largest thing a national batch builds.
            drop(p);
            release_freed_memory();
            write_summary(collected, &options.out)?;
            true
        }
        None => finish(batch, &units, &options.out, threads)?,
    };
    Ok(BatchReport {
        units_total: units.len(),
        units_run: todo.len(),
        units_skipped: mine.len() - todo.len(),
        person_years,
        wall_seconds: started.elapsed().as_secs_f64(),
        summarised,
    })
}

/// Writes the Monte Carlo tables ([`write_summary`]) when every unit of the batch is in `out`,
/// reading the partitions on `threads` threads (0 = all cores): after a merge, or when
/// another shard completed the batch.
fn finish(batch: &Batch, units: &[(usize, u64)], out: &Path, threads: usize) -> Result<bool> {
    if units.iter().any(|u| !marker(out, *u).exists()) {
        return Ok(false);
    }
    let mut c = Collected::new(&batch.scenarios);
    // Each scenario-run's partitions, decoded a block at a time in parallel and added in
    // order; a block at a time keeps memory flat in the number of runs.
    let parts: Vec<(usize, u64)> = batch
        .scenarios
        .iter()
        .enumerate()
        .flat_map(|(i, s)| (0..s.runs as u64).map(move |run| (i, run)))
        .collect();
    for block in parts.chunks(16) {
        let metrics = read_on_threads(block.len(), threads, |k| {
            read_scenario_run(batch, out, block[k].0, block[k].1)
        })?;
        for ((i, _), (m, draws)) in block.iter().zip(metrics) {
            c.add(*i, &m, &draws);
        }
    }
    write_summary(c, out)?;
    Ok(true)
}

/// Writes the Monte Carlo tables of a whole batch: `summary`, `sensitivity`, `risk`, and
/// the incremental analysis across its scenarios, `incremental` and `ceaf`.
fn write_summary(c: Collected, out: &Path) -> Result<()> {
    // The small tables first, then the summary's rows, after which what they were made
    // from is freed before they become a frame: for real England's five scenarios the
    // gathered values, the rows and the frame are each about 1 GB.
    let sensitivity = sensitivity_frame(&c.sensitivity())?;
    let risk = risk_frame(&c.risk())?;
    let inc = c.incremental();
    let incremental = incremental_frame(&inc.frontier)?;
    let ceaf = ceaf_frame(&inc.ceaf)?;
    let summary = c.summary();
    let mut staging = Staging::named(out, "summary")?;
    write_summary_table(&mut staging, &Layout::Flat, "summary", &summary)?;
    drop(summary);
    write_frame(&mut staging, &Layout::Flat, "sensitivity", &sensitivity)?;
    write_frame(&mut staging, &Layout::Flat, "risk", &risk)?;
    write_frame(&mut staging, &Layout::Flat, "incremental", &incremental)?;
    write_frame(&mut staging, &Layout::Flat, "ceaf", &ceaf)?;
    staging.commit()
}

/// Combines shard folders of one batch into `out`, then writes the summary if every unit
/// is present. Returns the number of units gathered.
pub fn merge(inputs: &[PathBuf], out: &Path) -> Result<(usize, bool)> {
    let mut manifest: Option<String> = None;
    for dir in inputs {
        let path = dir.join("batch.json");
        let m = std::fs::read_to_string(&path).map_err(|_| CapsimError::InvalidSetting {
            setting: "merge".into(),
            problem: format!(
                "{} has no batch.json: not a capsim batch folder",
                dir.display()
            ),
        })?;
        match &manifest {
            Some(x) if *x != m => {
                return Err(CapsimError::InvalidSetting {
                    setting: "merge".into(),
                    problem: format!(
                        "{} holds a different batch from {}",
                        dir.display(),
                        inputs[0].display()
                    ),
                })
            }
            _ => manifest = Some(m),
        }
    }
    let Some(manifest) = manifest else {
        return Err(CapsimError::InvalidSetting {
            setting: "merge".into(),
            problem: "give at least one folder to merge".into(),
        });
    };
    std::fs::create_dir_all(out).map_err(|e| CapsimError::io(out, e))?;
    claim(out, &manifest)?;
    clean_stale(out);
    let value: serde_json::Value =
        serde_json::from_str(&manifest).map_err(|e| CapsimError::InvalidSetting {
            setting: "merge".into(),
            problem: format!("batch.json is unreadable: {e}"),
        })?;
    let batch = batch_from_manifest(&value)?;
    let mut gathered = 0;
    for (g, run) in batch.units() {
        let unit = (g, run);
        if marker(out, unit).exists() {
            gathered += 1;
            continue;
        }
        let Some(src) = inputs.iter().find(|d| marker(d, unit).exists()) else {
            continue;
        };
        let mut staging = Staging::named(out, &format!("merge-g{g}-r{run}"))?;
        for s in batch.scenarios.iter().filter(|s| run < s.runs as u64) {
            if batch.groups()[g]
                .iter()
                .all(|i| batch.scenarios[*i].name != s.name)
            {
                continue;
            }
            let layout = Layout::Partition {
                scenario: s.name.clone(),
                run,
            };
            for t in RunTable::ALL {
                let name = layout.files(t.id()).0;
                let to = staging.path(&name)?;
                let from = src.join(&name);
                std::fs::copy(&from, &to).map_err(|e| CapsimError::io(&from, e))?;
            }
        }
        staging.commit()?;
        write_atomic(&marker(out, unit), b"done\n")?;
        gathered += 1;
    }
    // Tables computed once per batch rather than per unit: copied from a folder that has
    // them (the formula weights are in every shard, the one-way table in the first's).
    for table in [
        "formula_weights",
        crate::io::areas::GEOGRAPHY_TABLE,
        crate::io::areas::PUBLISHED_ICBS_TABLE,
        one_way::TABLE,
    ] {
        let parquet = format!("{table}.parquet");
        let Some(src) = inputs.iter().find(|d| d.join(&parquet).exists()) else {
            continue;
        };
        if out.join(&parquet).exists() {
            continue;
        }
        let mut staging = Staging::named(out, &format!("merge-{table}"))?;
        for name in [parquet, format!("{table}.csv")] {
            let (from, to) = (src.join(&name), staging.path(&name)?);
            std::fs::copy(&from, &to).map_err(|e| CapsimError::io(&from, e))?;
        }
        staging.commit()?;
    }
    let summarised = finish(&batch, &batch.units(), out, 0)?;
    Ok((gathered, summarised))
}

/// The parts of a batch that merging needs (names, groups, runs, years), read back from
/// its manifest.
fn batch_from_manifest(v: &serde_json::Value) -> Result<Batch> {
    let bad = |what: &str| CapsimError::InvalidSetting {
        setting: "merge".into(),
        problem: format!("batch.json lacks {what}"),
    };
    let scenarios = v["batch"]["scenarios"]
        .as_array()
        .ok_or_else(|| bad("scenarios"))?;
    let mut out = Vec::new();
    for s in scenarios {
        let get = |k: &str| s[k].clone();
        out.push(Scenario {
            name: get("name")
                .as_str()
                .ok_or_else(|| bad("a name"))?
                .to_string(),
            description: String::new(),
            file: PathBuf::new(),
            population: serde_json::from_value(get("population"))
                .map_err(|_| bad("a population"))?,
            years: get("years").as_u64().ok_or_else(|| bad("years"))? as u32,
            seed: get("seed").as_u64().ok_or_else(|| bad("a seed"))?,
            runs: get("runs").as_u64().ok_or_else(|| bad("runs"))? as u32,
            envelope: Default::default(),
            capitation: Default::default(),
            interventions: Vec::new(),
            // Batches written before the setting existed had neither kind of variation.
            variation: match get("variation") {
                serde_json::Value::Null => Variation::OFF,
                v => serde_json::from_value(v).map_err(|_| bad("a variation"))?,
            },
            // Batches written before the setting existed had no mortality improvement.
            mortality: match get("mortality") {
                serde_json::Value::Null => Mortality::OFF,
                v => serde_json::from_value(v).map_err(|_| bad("a mortality setting"))?,
            },
            // Batches written before trends existed had none.
            trends: match get("trends") {
                serde_json::Value::Null => crate::config::scenario::Trends {
                    enabled: false,
                    growth: Default::default(),
                },
                v => serde_json::from_value(v).map_err(|_| bad("trends"))?,
            },
            // Merging needs only names, groups, runs and years.
            evaluation: Default::default(),
            capacity: None,
            // Scenarios of one group share their calibration.
            calibration: get("calibration").as_str().map(PathBuf::from),
        });
    }
    Ok(Batch {
        name: v["batch"]["name"].as_str().unwrap_or("batch").to_string(),
        scenarios: out,
    })
}

/// Checks a scenario or batch file against the datasets without running it; returns one
/// line per scenario.
pub fn validate(file: &Path, source: &DatasetSource) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| scenario_error(file, None, "(file)", format!("cannot read: {e}")))?;
    let table: toml::Table = parse_toml(file, &text)?;
    let is_batch = table.contains_key("scenarios") || table.contains_key("sweep");
    let batch = if is_batch {
        Batch::load(file)?
    } else {
        Batch::single(Scenario::load(file)?)
    };
    let p = prepare(&batch, source)?;
    let mut lines = Vec::new();
    for (g, members) in p.groups.iter().enumerate() {
        for s in members {
            let s = &batch.scenarios[*s];
            lines.push(format!(
                "ok: {}: {} interventions, {} runs x {} years, {} ({} neighbourhoods)",
                s.name,
                s.interventions.len(),
                s.runs,
                s.years,
                s.population.label(),
                p.geographies[g].neighbourhoods.len()
            ));
        }
    }
    if is_batch {
        lines.push(format!(
            "ok: batch {}: {} scenarios, {} work units",
            batch.name,
            batch.scenarios.len(),
            p.units.len()
        ));
    }
    Ok(lines)
}

/// The headline table of an output folder's summary, as lines for the terminal.
pub fn headlines(out: &Path) -> Result<Vec<String>> {
    // Headlines read the whole population's rows only.
    let rows = read_summary_where(&out.join("summary.parquet"), &|l, _, _, _| {
        matches!(l, Level::System | Level::England)
    })?;
    let mut lines = headline_lines(&rows, &context_of(out));
    // Beds, places and staff, for scenarios that report them (none otherwise).
    lines.extend(crate::report::capacity::capacity_sentences(&rows));
    Ok(lines)
}

/// The budget table `capsim budget` prints and writes (`budget_table.{parquet,csv}`): for
/// each place and neighbourhood in the last year, under the first formula, the mean over
/// runs of population, weighted population, budget and spend per head, and position
/// before and after risk sharing.
pub fn budget_table(out: &Path, formula: &str) -> Result<Vec<String>> {
    let summary = read_summary(&out.join("summary.parquet"))?;
    let last = summary.iter().map(|r| r.year).max().unwrap_or(0);
    let f = |m: FormulaMetric| Metric::formula(m, formula);
    let wanted = [
        Metric::Population,
        f(FormulaMetric::WeightedPopulation),
        f(FormulaMetric::BudgetPerHead),
        Metric::CashCostPerHead,
        f(FormulaMetric::Position),
        f(FormulaMetric::PositionAfterRiskShare),
    ];
    let mut rows: Vec<BudgetTableRow> = Vec::new();
    for r in &summary {
        if r.year != last || matches!(r.level, Level::System | Level::England) {
            continue;
        }
        let Some(j) = wanted.iter().position(|w| *w == r.metric) else {
            continue;
        };
        let i = match rows
            .iter()
            .position(|x| x.level == r.level && x.area == r.area)
        {
            Some(i) => i,
            None => {
                rows.push(BudgetTableRow {
                    level: r.level,
                    area: r.area.clone(),
                    values: [f64::NAN; 6],
                });
                rows.len() - 1
            }
        };
        rows[i].values[j] = r.stat.mean;
    }
    // Neighbourhoods first, then places, each by name.
    rows.sort_by(|a, b| b.level.id().cmp(a.level.id()).then(a.area.cmp(&b.area)));
    let mut lines = vec![format!(
        "year {last}, formula {formula} (means over runs)\n{:<14} {:<26} {:>10} {:>10} {:>10} {:>10} {:>12} {:>12}",
        "level", "area", "people", "weighted", "budget/hd", "cash/hd", "position", "after share"
    )];
    for r in &rows {
        let v = r.values;
        lines.push(format!(
            "{:<14} {:<26} {:>10.0} {:>10.0} {:>10.0} {:>10.0} {:>11.1}m {:>11.1}m",
            r.level.id(),
            r.area,
            v[0],
            v[1],
            v[2],
            v[3],
            v[4] / 1e6,
            v[5] / 1e6
        ));
    }
    let mut staging = Staging::named(out, "budget")?;
    write_frame(
        &mut staging,
        &Layout::Flat,
        "budget_table",
        &budget_table_frame(last, formula, &rows)?,
    )?;
    staging.commit()?;
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::scenario::Overrides;

    /// Units that arrive out of order, none of them held (so each is read back from its
    /// partitions when its turn comes), give the summary of the partitions read in order.
    #[test]
    fn units_gathered_out_of_order_give_the_summary_of_the_partitions() {
        let tmp = tempfile::tempdir().unwrap();
        let mut batch = Batch::bundled().unwrap();
        batch
            .apply(&Overrides {
                years: Some(2),
                runs: Some(4),
                population: None,
                geography: None,
                seed: None,
                practices: None,
            })
            .unwrap();
        let out = tmp.path().join("batch");
        let options = BatchOptions {
            out: out.clone(),
            threads: 2,
            shard: None,
            datasets: DatasetSource::Bundled,
        };
        assert!(run_batch(&batch, &options, &|_, _| {}).unwrap().summarised);
        let written = std::fs::read(out.join("summary.parquet")).unwrap();

        let units = batch.units();
        let mut g = Gatherer::new(&batch, &out, &units, &units, 1).unwrap();
        g.hold = 0;
        for u in units.iter().rev() {
            let runs = g.read_back(*u).unwrap();
            g.finished(*u, runs).unwrap();
            assert!(g.ahead.values().all(Option::is_none), "nothing held");
        }
        let again = tmp.path().join("again");
        std::fs::create_dir_all(&again).unwrap();
        write_summary(g.into_collected().unwrap(), &again).unwrap();
        assert_eq!(
            std::fs::read(again.join("summary.parquet")).unwrap(),
            written
        );
    }
}
