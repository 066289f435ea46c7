//! Throughput of the yearly cycle, in person-years per second.
//!
//! - `neighbourhood_40k`: one neighbourhood of 40,000 people through one year (synthesis
//!   included, as in a run), on one thread.
//! - `yearly_step_40k`: the yearly step alone on a synthesised neighbourhood.
//! - `system_1.5m`: the bundled system (about 1.5 million people), one year, all cores.
//! - `plain_loop_40k`: the reference, one Poisson draw per person per setting, to show
//!   what the aggregate-Poisson design saves.
//!
//! Then, timed directly and each printed beside the plain loop measured in the same process
//! on the same threads (`common::plain_rate`), as a ratio: the yearly step and one work
//! unit (40k people, 10 years) on one thread, synthesis (people a second, 40k people, one
//! thread), and England, real (`england`, NHS England's
//! published practices) and invented (`england-invented`), 10 years, one run, with its
//! tables, charts and report, on all cores: one sample each (about 15 s on two cores;
//! `CAPSIM_BENCH_ENGLAND=0` skips them), against the plain loop over the invented
//! 1.5-million-person system on the same threads. Also the time to build real England's
//! geography from the bundled practice file.

// Struct-of-arrays code indexes several attribute vectors by one person index; an
// iterator over one of them would hide that.
#![allow(clippy::needless_range_loop)]

mod common;

use std::path::Path;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput};

use capsim::app::run::{run, RunOptions, RunOutcome};
use capsim::config::scenario::Overrides;
use capsim::core::rng::{Purpose, StreamKey};
use capsim::data::datasets::{DatasetSource, Datasets};
use capsim::data::geography::{Geography, Preset};
use capsim::engine::population::BYTES_PER_PERSON;
use capsim::engine::simulation::{
    simulate, simulate_neighbourhood, step_year, Plan, Scratch, SimConfig,
};
use capsim::engine::synthesis::{synthesise, Newcomers};
use capsim::model::Model;

fn setup() -> (Model, Geography) {
    let d = Datasets::bundled().unwrap();
    let m = Model::new(&d).unwrap();
    let mut g = Geography::default_system(&d);
    g.neighbourhoods[0].population = 40_000;
    (m, g)
}

fn key(purpose: Purpose) -> StreamKey {
    StreamKey {
        seed: 1,
        run: 0,
        neighbourhood: 0,
        year: 1,
        purpose,
    }
}

fn benches(c: &mut Criterion) {
    let (m, g) = setup();
    eprintln!("bytes per person (attributes): {BYTES_PER_PERSON}");
    let config = SimConfig::new(1, 0, 1);
    let plan = Plan::baseline(config);

    let mut group = c.benchmark_group("simulation");
    group.throughput(Throughput::Elements(40_000));
    group.bench_function("neighbourhood_40k", |b| {
        let mut scratch = Scratch::default();
        b.iter(|| simulate_neighbourhood(&m, &g, 0, &plan, &mut scratch))
    });

    group.bench_function("yearly_step_40k", |b| {
        let nb = &g.neighbourhoods[0];
        let newcomers = Newcomers::new(&m, nb);
        let mut base = Default::default();
        synthesise(&m, nb, &mut base, &mut key(Purpose::Synthesis).rng());
        let mut scratch = Scratch::default();
        b.iter(|| {
            scratch.people.copy_from(&base);
            step_year(&m, &newcomers, key, 1, &mut scratch)
        })
    });

    group.bench_function("plain_loop_40k", |b| {
        let nb = &g.neighbourhoods[0];
        let mut people = Default::default();
        synthesise(&m, nb, &mut people, &mut key(Purpose::Synthesis).rng());
        b.iter(|| common::plain_year(&m, &people, 0))
    });
    group.finish();

    let mut group = c.benchmark_group("system");
    group.sample_size(10);
    let d = Datasets::bundled().unwrap();
    let system = Geography::default_system(&d);
    group.throughput(Throughput::Elements(system.total_population()));
    for threads in [1, 2] {
        group.bench_with_input(
            BenchmarkId::new("system_1.5m", threads),
            &threads,
            |b, t| b.iter(|| simulate(&m, &system, &config, *t, &|| {}).unwrap()),
        );
    }
    group.finish();
}

/// Best wall time of `reps` calls of `f`.
fn best_of(reps: usize, mut f: impl FnMut()) -> f64 {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::MAX, f64::min)
}

/// The yearly step and one work unit on one thread, beside the plain loop on one thread.
fn ratios_one_thread() {
    let (m, g) = setup();
    let nb = &g.neighbourhoods[0];
    let mut base = Default::default();
    synthesise(&m, nb, &mut base, &mut key(Purpose::Synthesis).rng());
    let plain = common::plain_rate(&m, std::slice::from_ref(&base), 1, 20);

    // Synthesis draws each person once, as a run starts and for every newcomer: printed
    // as people (not person-years) a second, beside the plain loop's person-years.
    let mut people = Default::default();
    let synthesis = best_of(20, || {
        synthesise(&m, nb, &mut people, &mut key(Purpose::Synthesis).rng());
        std::hint::black_box(&people);
    });
    common::report(
        "synthesis, 40k people, 1 thread (people/s)",
        base.len() as f64 / synthesis,
        plain,
    );

    let newcomers = Newcomers::new(&m, nb);
    let mut scratch = Scratch::default();
    let step = best_of(20, || {
        scratch.people.copy_from(&base);
        std::hint::black_box(step_year(&m, &newcomers, key, 1, &mut scratch));
    });
    common::report(
        "yearly step, 40k people, 1 thread",
        base.len() as f64 / step,
        plain,
    );

    let plan = Plan::baseline(SimConfig::new(1, 0, 10));
    let mut py = 0;
    let unit = best_of(5, || {
        let r = simulate_neighbourhood(&m, &g, 0, &plan, &mut scratch);
        py = r[0].person_years();
    });
    common::report(
        "work unit, 40k people, 10 years, 1 thread",
        py as f64 / unit,
        plain,
    );
}

/// Real England's geography built from the bundled practice file (read, grouped into
/// neighbourhoods, people fitted): issue 25 asks for under 2 s.
fn real_england_geography() {
    let d = Datasets::bundled().unwrap();
    let secs = best_of(3, || {
        std::hint::black_box(Geography::preset(&d, Preset::England).unwrap());
    });
    println!("real England geography from the bundled practices: {secs:.2} s (best of 3)");
}

/// An England preset, 10 years, one run, with tables, charts and report (the command
/// `capsim run scenarios/baseline.toml --runs 1 --population england --years 10`), for
/// real England and for the invented one, each against the plain loop measured on the
/// same threads just before it.
fn england(preset: Preset) {
    if std::env::var("CAPSIM_BENCH_ENGLAND").is_ok_and(|v| v == "0") {
        return;
    }
    let d = Datasets::bundled().unwrap();
    let m = Model::new(&d).unwrap();
    let (threads, plain) = common::plain_rate_all_cores(&m, &d);
    let name = preset.id();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("england");
    let options = RunOptions {
        scenario: Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml")),
        overrides: Overrides {
            years: Some(10),
            runs: Some(1),
            population: Some(preset),
            geography: None,
            seed: None,
            practices: None,
        },
        threads: 0,
        datasets: DatasetSource::Bundled,
        out: out.clone(),
        csv: false,
    };
    let started = Instant::now();
    let outcome = run(&options, &|_, _| {}).unwrap();
    capsim::app::report(&out).unwrap();
    let wall = started.elapsed().as_secs_f64();
    let RunOutcome::Single(s) = outcome else {
        panic!("one run is a single run")
    };
    let bytes: u64 = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    println!(
        "{name}, 10 years, 1 run, {threads} threads: {wall:.1} s wall with report, {:.0} MB of tables",
        bytes as f64 / 1e6
    );
    common::report(
        &format!("{name}, 10 years, 1 run, {threads} threads"),
        s.info.person_years as f64 / wall,
        plain,
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
    ratios_one_thread();
    real_england_geography();
    england(Preset::England);
    england(Preset::EnglandInvented);
}
