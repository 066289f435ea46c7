//! The batch benchmark of issue 4: the shipped comparison (`scenarios/batch.toml`: five
//! scenarios) on the bundled 1.5-million-person system, 10 years, 100 Monte Carlo runs:
//! 7.5 billion scenario person-years. It runs once (a criterion loop of ten samples of
//! this one-minute job would take ten minutes on two cores) and prints wall time,
//! scenario person-years per
//! second (what the batch delivers) and simulated person-years per second (population paths
//! actually stepped: scenarios that change nobody's health share the baseline's).
//!
//! Scenario person-years per second are printed beside the plain loop (`common`) measured
//! in the same process over the same people on the same threads, as a ratio.
//!
//! `cargo bench --bench batch` for the full size; `CAPSIM_BENCH_RUNS=10` for a quick look.
//! Before timing, a criterion group measures what one extra scenario costs in a work unit.

mod common;

use std::path::Path;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput};

use capsim::app::batch::{run_batch, BatchOptions};
use capsim::config::batch::Batch;
use capsim::config::scenario::Overrides;
use capsim::data::datasets::{DatasetSource, Datasets};
use capsim::data::geography::Geography;
use capsim::engine::levers::Levers;
use capsim::engine::simulation::{simulate_neighbourhood, Plan, Scratch, SimConfig};
use capsim::model::Model;

fn batch_file() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/batch.toml")
}

/// One 40k neighbourhood, 10 years: a work unit with the counterfactual only, and with the
/// five shipped scenarios as well.
fn scenario_overhead(c: &mut Criterion) {
    let d = Datasets::bundled().unwrap();
    let m = Model::new(&d).unwrap();
    let mut g = Geography::default_system(&d);
    g.neighbourhoods.truncate(1);
    g.neighbourhoods[0].population = 40_000;
    let batch = Batch::load(&batch_file()).unwrap();
    let none = Levers::none;
    let config = SimConfig::new(1, 0, 10);
    let plans = [
        ("counterfactual_only", Plan::new(config, vec![none()])),
        (
            "counterfactual_and_5_scenarios",
            Plan::new(
                config,
                std::iter::once(none())
                    .chain(
                        batch
                            .scenarios
                            .iter()
                            .map(|s| Levers::draw(s, &s.resolve(&d, &g).unwrap(), &m, 0)),
                    )
                    .collect(),
            ),
        ),
    ];
    let mut group = c.benchmark_group("work_unit_40k_10y");
    group.sample_size(10);
    group.throughput(Throughput::Elements(400_000));
    for (name, plan) in &plans {
        group.bench_with_input(BenchmarkId::from_parameter(name), plan, |b, plan| {
            let mut scratch = Scratch::default();
            b.iter(|| simulate_neighbourhood(&m, &g, 0, plan, &mut scratch))
        });
    }
    group.finish();
}

fn full_batch() {
    let runs: u32 = std::env::var("CAPSIM_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let mut batch = Batch::load(&batch_file()).unwrap();
    batch
        .apply(&Overrides {
            runs: Some(runs),
            years: Some(10),
            ..Default::default()
        })
        .unwrap();
    let d = Datasets::bundled().unwrap();
    let m = Model::new(&d).unwrap();
    let (threads, plain) = common::plain_rate_all_cores(&m, &d);
    let tmp = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let report = run_batch(
        &batch,
        &BatchOptions {
            out: tmp.path().to_path_buf(),
            threads: 0,
            shard: None,
            datasets: DatasetSource::Bundled,
        },
        &|_, _| {},
    )
    .unwrap();
    let wall = started.elapsed().as_secs_f64();
    let people = 1_527_280u64;
    let scenario_py = people as f64 * 10.0 * runs as f64 * batch.scenarios.len() as f64;
    println!(
        "batch: {} scenarios x {runs} runs x 10 years on {people} people: {wall:.1} s wall",
        batch.scenarios.len()
    );
    println!(
        "batch: {:.2} billion scenario person-years, {:.1} million/s; {:.2} billion person-years simulated, {:.1} million/s",
        scenario_py / 1e9,
        scenario_py / wall / 1e6,
        report.person_years as f64 / 1e9,
        report.person_years as f64 / wall / 1e6
    );
    common::report(
        &format!("batch, scenario person-years, {threads} threads"),
        scenario_py / wall,
        plain,
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    scenario_overhead(&mut c);
    c.final_summary();
    full_batch();
}
