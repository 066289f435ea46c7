//! Batches of scenarios with Monte Carlo runs: resumable, shardable, mergeable.
//!
//! Scenarios that share a population, horizon and seed form a group, and each run of a
//! group is one work unit: the counterfactual (no interventions) and every scenario of the
//! group simulated together from common random numbers. A unit writes its Hive partitions
//! (`TABLE/scenario=S/run=K/part-0.parquet`) through a staging folder, then a marker in
//! `.units/`; a unit with a marker is complete and is skipped on a re-run, so a batch
//! killed midway loses only the units in flight. `--shard I/N` takes every N-th unit from
//! the I-th, so an array job of N tasks covers the batch; `merge` gathers shard folders.
//! The summary is computed from the partitions once every unit is present, so it does not
//! depend on how the work was split or interrupted.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde::Serialize;

use crate::accounts::capitation::Weights;
use crate::accounts::metrics::{compute, Metrics};
use crate::accounts::summary::Collected;
use crate::config::batch::{Batch, Shard};
use crate::config::resolve::Resolved;
use crate::config::scenario::{parse_toml, scenario_error, Scenario};
use crate::core::error::{CapsimError, Result};
use crate::data::datasets::{DatasetSource, Datasets};
use crate::data::geography::Geography;
use crate::engine::levers::Levers;
use crate::engine::simulation::{simulate_plan_here, Plan, SimConfig};
use crate::io::tables::{
    budgets_frame, floats, ints, metrics_frame, parameters_frame, read_parquet, strings,
    write_atomic, write_frame, write_tables, Layout, Staging,
};
use crate::model::Model;

/// Tables every scenario-run writes.
pub const PARTITIONED: [&str; 6] = [
    "population",
    "flows",
    "activity",
    "metrics",
    "budgets",
    "parameters",
];

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

struct Prepared {
    datasets: Datasets,
    model: Model,
    weights: Weights,
    /// Geography of each group.
    geographies: Vec<Geography>,
    /// Each scenario resolved against its group's geography.
    resolved: Vec<Resolved>,
    groups: Vec<Vec<usize>>,
    units: Vec<(usize, u64)>,
    manifest: String,
}

fn prepare(batch: &Batch, source: &DatasetSource) -> Result<Prepared> {
    let datasets = Datasets::load(source)?;
    let model = Model::new(&datasets)?;
    let groups = batch.groups();
    let mut geographies = Vec::new();
    let mut resolved = vec![None; batch.scenarios.len()];
    for g in &groups {
        let geo = batch.scenarios[g[0]].geography(&datasets)?;
        for s in g {
            resolved[*s] = Some(batch.scenarios[*s].resolve(&datasets, &geo)?);
        }
        if geo.neighbourhoods.is_empty() {
            return Err(scenario_error(
                &batch.scenarios[g[0]].file,
                None,
                "population",
                "no neighbourhood matches the listed places and neighbourhoods",
            ));
        }
        geographies.push(geo);
    }
    let units = batch.units();
    let manifest = serde_json::to_string_pretty(&Manifest {
        capsim_version: env!("CARGO_PKG_VERSION"),
        datasets_checksum: &datasets.checksum,
        batch,
        units: units.len(),
    })
    .expect("serialisable")
        + "\n";
    Ok(Prepared {
        weights: Weights::new(&model, &datasets),
        datasets,
        model,
        geographies,
        resolved: resolved
            .into_iter()
            .map(|r| r.expect("every scenario is in a group"))
            .collect(),
        groups,
        units,
        manifest,
    })
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

/// Runs one work unit and writes its partitions; returns person-years simulated. With a
/// pool, neighbourhoods are simulated in parallel on it; without, one after another on
/// this thread. Writing happens outside any pool of ours: polars runs its own, and a
/// worker of ours waiting on it would steal further units and hold them all in memory.
fn run_unit(
    p: &Prepared,
    batch: &Batch,
    out: &Path,
    unit: (usize, u64),
    pool: Option<&rayon::ThreadPool>,
) -> Result<u64> {
    let (g, run) = unit;
    let geo = &p.geographies[g];
    let members: Vec<usize> = p.groups[g]
        .iter()
        .copied()
        .filter(|s| run < batch.scenarios[*s].runs as u64)
        .collect();
    let first = &batch.scenarios[p.groups[g][0]];
    let mut levers = vec![Levers {
        interventions: Vec::new(),
        draws: Vec::new(),
    }];
    for s in &members {
        levers.push(Levers::draw(&batch.scenarios[*s], &p.resolved[*s], run));
    }
    let plan = Plan::new(
        SimConfig {
            seed: first.seed,
            run,
            years: first.years,
        },
        levers,
    );
    let results = match pool {
        Some(pool) => pool.install(|| simulate_plan_here(&p.model, geo, &plan, true, &|| {})),
        None => simulate_plan_here(&p.model, geo, &plan, false, &|| {}),
    };
    // Person-years simulated: each population path's, once.
    let person_years: u64 = (0..plan.paths.len())
        .filter_map(|path| plan.scenarios.iter().position(|s| s.path == path))
        .map(|s| results[s].iter().map(|r| r.person_years()).sum::<u64>())
        .sum();
    let mut staging = Staging::named(out, &format!("g{g}-r{run}"))?;
    for (j, s) in members.iter().enumerate() {
        let scenario = &batch.scenarios[*s];
        let layout = Layout::Partition {
            scenario: scenario.name.clone(),
            run,
        };
        let r = &results[j + 1];
        write_tables(&mut staging, &layout, geo, p.model.segments.ids(), r)?;
        let (m, budgets) = compute(
            &p.model,
            &p.datasets,
            &p.weights,
            geo,
            scenario,
            &plan.scenarios[j + 1].levers,
            r,
            &results[0],
        );
        write_frame(&mut staging, &layout, "metrics", &metrics_frame(&m)?)?;
        write_frame(
            &mut staging,
            &layout,
            "budgets",
            &budgets_frame(geo, &budgets)?,
        )?;
        write_frame(
            &mut staging,
            &layout,
            "parameters",
            &parameters_frame(&plan.scenarios[j + 1].levers.draws)?,
        )?;
    }
    staging.commit()?;
    write_atomic(&marker(out, unit), b"done\n")?;
    Ok(person_years)
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
    claim(&options.out, &p.manifest)?;
    clean_stale(&options.out);
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
    let finished = |py: u64| {
        progress(todo.len(), done.fetch_add(1, Ordering::Relaxed) + 1);
        py
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
                match run_unit(&p, batch, &options.out, *u, None) {
                    Ok(n) => py += finished(n),
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
        let pool = crate::engine::simulation::pool(threads)?;
        let mut py = 0;
        for u in &todo {
            py += finished(run_unit(&p, batch, &options.out, *u, Some(&pool))?);
        }
        py
    };
    let summarised = finish(batch, &p.units, &options.out)?;
    Ok(BatchReport {
        units_total: p.units.len(),
        units_run: todo.len(),
        units_skipped: mine.len() - todo.len(),
        person_years,
        wall_seconds: started.elapsed().as_secs_f64(),
        summarised,
    })
}

/// Writes `summary` and `sensitivity` when every unit of the batch is in `out`.
fn finish(batch: &Batch, units: &[(usize, u64)], out: &Path) -> Result<bool> {
    if units.iter().any(|u| !marker(out, *u).exists()) {
        return Ok(false);
    }
    let mut c = Collected::new(
        batch
            .scenarios
            .iter()
            .map(|s| (s.name.clone(), s.years))
            .collect(),
    );
    for (i, s) in batch.scenarios.iter().enumerate() {
        for run in 0..s.runs as u64 {
            let layout = Layout::Partition {
                scenario: s.name.clone(),
                run,
            };
            let m = read_metrics(&out.join(layout.files("metrics").0))?;
            let draws = read_draws(&out.join(layout.files("parameters").0))?;
            c.add(i, &m, &draws);
        }
    }
    let mut staging = Staging::named(out, "summary")?;
    write_frame(&mut staging, &Layout::Flat, "summary", &c.summary()?)?;
    write_frame(
        &mut staging,
        &Layout::Flat,
        "sensitivity",
        &c.sensitivity()?,
    )?;
    write_frame(&mut staging, &Layout::Flat, "risk", &c.risk()?)?;
    staging.commit()?;
    Ok(true)
}

fn read_metrics(path: &Path) -> Result<Metrics> {
    let df = read_parquet(path)?;
    let level = strings(&df, path, "level")?
        .iter()
        .map(|l| {
            crate::core::level::Level::ALL
                .iter()
                .find(|x| x.id() == l)
                .map_or("unknown", |x| x.id())
        })
        .collect();
    Ok(Metrics {
        year: ints(&df, path, "year")?,
        level,
        area: strings(&df, path, "area")?,
        metric: strings(&df, path, "metric")?,
        value: floats(&df, path, "value")?,
    })
}

fn read_draws(path: &Path) -> Result<Vec<(String, f64)>> {
    let df = read_parquet(path)?;
    Ok(strings(&df, path, "parameter")?
        .into_iter()
        .zip(floats(&df, path, "value")?)
        .collect())
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
            for t in PARTITIONED {
                let name = layout.files(t).0;
                let to = staging.path(&name)?;
                let from = src.join(&name);
                std::fs::copy(&from, &to).map_err(|e| CapsimError::io(&from, e))?;
            }
        }
        staging.commit()?;
        write_atomic(&marker(out, unit), b"done\n")?;
        gathered += 1;
    }
    let summarised = finish(&batch, &batch.units(), out)?;
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
                "ok: {}: {} interventions, {} runs x {} years, {} population ({} neighbourhoods)",
                s.name,
                s.interventions.len(),
                s.runs,
                s.years,
                s.population.preset.id(),
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

/// A table of one line per scenario from a batch's summary, for the terminal: the system's
/// spend, emergency admissions, cumulative net cost and admissions avoided in the last
/// year, with 90% intervals, and the share of runs that broke even.
pub fn headlines(out: &Path) -> Result<Vec<String>> {
    let path = out.join("summary.parquet");
    let df = read_parquet(&path)?;
    let (scenario, level, metric) = (
        strings(&df, &path, "scenario")?,
        strings(&df, &path, "level")?,
        strings(&df, &path, "metric")?,
    );
    let year = ints(&df, &path, "year")?;
    let (mean, p5, p95) = (
        floats(&df, &path, "mean")?,
        floats(&df, &path, "p5")?,
        floats(&df, &path, "p95")?,
    );
    let mut order: Vec<String> = Vec::new();
    for s in &scenario {
        if !order.contains(s) {
            order.push(s.clone());
        }
    }
    let mut lines = vec![format!(
        "{:<28} {:>30} {:>24} {:>30} {:>20} {:>12}",
        "scenario (system, last year)",
        "spend",
        "emergency admissions",
        "cumulative net cost",
        "admissions avoided",
        "broken even"
    )];
    for s in &order {
        let last = (0..scenario.len())
            .filter(|i| scenario[*i] == *s)
            .map(|i| year[i])
            .max()
            .unwrap_or(0);
        let pick = |m: &str| -> Vec<usize> {
            (0..scenario.len())
                .filter(|i| {
                    scenario[*i] == *s
                        && level[*i] == "system"
                        && metric[*i] == m
                        && year[*i] == last
                })
                .collect()
        };
        let fmt = |m: &str, money: bool| -> String {
            let rows = pick(m);
            if rows.is_empty() {
                return "-".into();
            }
            let f = |x: f64| {
                if money {
                    format!("£{:.1}m", x / 1e6)
                } else {
                    format!("{x:.0}")
                }
            };
            let total: f64 = rows.iter().map(|i| mean[*i]).sum();
            if rows.len() == 1 {
                let i = rows[0];
                format!("{} ({} to {})", f(total), f(p5[i]), f(p95[i]))
            } else {
                format!("{} ({} systems)", f(total), rows.len())
            }
        };
        let broken = pick("broken_even");
        let share = if broken.is_empty() {
            "-".to_string()
        } else {
            format!(
                "{:.0}% of runs",
                100.0 * broken.iter().map(|i| mean[*i]).sum::<f64>() / broken.len() as f64
            )
        };
        lines.push(format!(
            "{:<28} {:>30} {:>24} {:>30} {:>20} {:>12}",
            format!("{s} (y{last})"),
            fmt("spend", true),
            fmt("count.emergency_admissions", false),
            fmt("cumulative_net_cost", true),
            fmt("avoided_admissions", false),
            share
        ));
    }
    lines.push("(mean, with 5th to 95th centile over Monte Carlo runs)".into());
    Ok(lines)
}

/// The budget table `capsim budget` prints and writes (`budget_table.{parquet,csv}`): for
/// each place and neighbourhood in the last year, under the first formula, the mean over
/// runs of population, weighted population, budget and spend per head, and position
/// before and after risk sharing.
pub fn budget_table(out: &Path, formula: &str) -> Result<Vec<String>> {
    let path = out.join("summary.parquet");
    let df = read_parquet(&path)?;
    let (level, area, metric) = (
        strings(&df, &path, "level")?,
        strings(&df, &path, "area")?,
        strings(&df, &path, "metric")?,
    );
    let year = ints(&df, &path, "year")?;
    let mean = floats(&df, &path, "mean")?;
    let last = year.iter().copied().max().unwrap_or(0);
    let wanted = [
        "population".to_string(),
        format!("weighted_population:{formula}"),
        format!("budget_per_head:{formula}"),
        "spend_per_head".to_string(),
        format!("position:{formula}"),
        format!("position_after_risk_share:{formula}"),
    ];
    let mut rows: Vec<(String, String, [f64; 6])> = Vec::new();
    for i in 0..metric.len() {
        if year[i] != last || level[i] == "system" {
            continue;
        }
        let Some(j) = wanted.iter().position(|w| *w == metric[i]) else {
            continue;
        };
        let r = match rows.iter().position(|r| r.0 == level[i] && r.1 == area[i]) {
            Some(r) => r,
            None => {
                rows.push((level[i].clone(), area[i].clone(), [f64::NAN; 6]));
                rows.len() - 1
            }
        };
        rows[r].2[j] = mean[i];
    }
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut lines = vec![format!(
        "year {last}, formula {formula} (means over runs)\n{:<14} {:<26} {:>10} {:>10} {:>10} {:>10} {:>12} {:>12}",
        "level", "area", "people", "weighted", "budget/hd", "spend/hd", "position", "after share"
    )];
    for (l, a, v) in &rows {
        lines.push(format!(
            "{:<14} {:<26} {:>10.0} {:>10.0} {:>10.0} {:>10.0} {:>11.1}m {:>11.1}m",
            l,
            a,
            v[0],
            v[1],
            v[2],
            v[3],
            v[4] / 1e6,
            v[5] / 1e6
        ));
    }
    let col = |j: usize| -> Vec<f64> { rows.iter().map(|r| r.2[j]).collect() };
    let frame = polars::prelude::DataFrame::new_infer_height(vec![
        polars::prelude::Column::new("year".into(), vec![last; rows.len()]),
        polars::prelude::Column::new(
            "level".into(),
            rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        ),
        polars::prelude::Column::new(
            "area".into(),
            rows.iter().map(|r| r.1.as_str()).collect::<Vec<_>>(),
        ),
        polars::prelude::Column::new("formula".into(), vec![formula; rows.len()]),
        polars::prelude::Column::new("population".into(), col(0)),
        polars::prelude::Column::new("weighted_population".into(), col(1)),
        polars::prelude::Column::new("budget_per_head".into(), col(2)),
        polars::prelude::Column::new("spend_per_head".into(), col(3)),
        polars::prelude::Column::new("position".into(), col(4)),
        polars::prelude::Column::new("position_after_risk_share".into(), col(5)),
    ])
    .map_err(|e| CapsimError::Write {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let mut staging = Staging::named(out, "budget")?;
    write_frame(&mut staging, &Layout::Flat, "budget_table", &frame)?;
    staging.commit()?;
    Ok(lines)
}
