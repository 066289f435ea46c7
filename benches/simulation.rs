//! Throughput of the yearly cycle, in person-years per second.
//!
//! - `neighbourhood_40k`: one neighbourhood of 40,000 people through one year (synthesis
//!   included, as in a run), on one thread.
//! - `yearly_step_40k`: the yearly step alone on a synthesised neighbourhood.
//! - `system_1.5m`: the bundled system (about 1.5 million people), one year, all cores.
//! - `plain_loop_40k`: the reference, one Poisson draw per person per setting, to show
//!   what the aggregate-Poisson design saves.

// Struct-of-arrays code indexes several attribute vectors by one person index; an
// iterator over one of them would hide that.
#![allow(clippy::needless_range_loop)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use capsim::core::care::Setting;
use capsim::core::rng::{Purpose, StreamKey};
use capsim::data::datasets::Datasets;
use capsim::data::geography::Geography;
use capsim::engine::population::BYTES_PER_PERSON;
use capsim::engine::simulation::{
    simulate, simulate_neighbourhood, step_year, Plan, Scratch, SimConfig,
};
use capsim::engine::synthesis::{synthesise, Newcomers};
use capsim::model::activity::poisson;
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
    let config = SimConfig {
        seed: 1,
        run: 0,
        years: 1,
        variation: Default::default(),
        mortality: Default::default(),
        trends: Default::default(),
    };
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
        b.iter(|| {
            let mut rng = key(Purpose::Activity).rng();
            let mut total = 0u64;
            for i in 0..people.len() {
                let cell = capsim::core::dims::Cell::of(
                    people.age[i],
                    people.sex[i],
                    people.imd[i],
                    people.segment[i],
                )
                .exposure();
                for s in Setting::ALL {
                    total += poisson(m.activity.rate(s, cell) * people.risk[i] as f64, &mut rng);
                }
            }
            total
        })
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

criterion_group!(simulation_benches, benches);
criterion_main!(simulation_benches);
