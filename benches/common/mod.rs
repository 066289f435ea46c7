//! The plain loop every benchmark reports its throughput against, in the same process and
//! on the same machine: for each person, one Poisson draw per care setting at the
//! person's rate times their risk (Xoshiro256++, `model::activity::poisson`), nothing
//! else. It is what a per-person simulation of care alone would cost, so a ratio above 1
//! says how much the model's design (exact Poisson totals per cell, per-person work only
//! for deaths and transitions) gains over brute force while doing more.

// Struct-of-arrays code indexes several attribute vectors by one person index.
#![allow(clippy::needless_range_loop, dead_code)]

use std::time::Instant;

use rayon::prelude::*;

use capsim::core::care::Setting;
use capsim::core::dims::Cell;
use capsim::core::rng::{Purpose, StreamKey};
use capsim::data::datasets::Datasets;
use capsim::data::geography::Geography;
use capsim::engine::population::People;
use capsim::engine::synthesis::synthesise;
use capsim::model::activity::poisson;
use capsim::model::Model;

fn key(neighbourhood: u64, purpose: Purpose) -> StreamKey {
    StreamKey {
        seed: 1,
        run: 0,
        neighbourhood,
        year: 1,
        purpose,
    }
}

/// The people of every neighbourhood of `g`, synthesised as a run starts.
pub fn people_of(m: &Model, g: &Geography) -> Vec<People> {
    (0..g.neighbourhoods.len())
        .map(|k| {
            let mut p = People::default();
            synthesise(
                m,
                &g.neighbourhoods[k],
                &mut p,
                &mut key(k as u64, Purpose::Synthesis).rng(),
            );
            p
        })
        .collect()
}

/// One plain-loop year over `people`: the total count drawn.
pub fn plain_year(m: &Model, people: &People, neighbourhood: u64) -> u64 {
    let mut rng = key(neighbourhood, Purpose::Activity).rng();
    let mut total = 0u64;
    for i in 0..people.len() {
        let cell = Cell::of(
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
}

/// Plain-loop person-years per second over `people` (neighbourhoods in parallel on
/// `threads` threads), best of `reps` passes: the machine's speed for the reference.
pub fn plain_rate(m: &Model, people: &[People], threads: usize, reps: usize) -> f64 {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let n: usize = people.iter().map(People::len).sum();
    let mut best = f64::MAX;
    for _ in 0..reps {
        let t = Instant::now();
        let total: u64 = pool.install(|| {
            people
                .par_iter()
                .enumerate()
                .map(|(k, p)| plain_year(m, p, k as u64))
                .sum()
        });
        std::hint::black_box(total);
        best = best.min(t.elapsed().as_secs_f64());
    }
    n as f64 / best
}

/// The number of cores and the plain loop's rate on all of them, over the bundled
/// system's people: the reference of the whole-command benchmarks (England, the batch).
/// Best of ten passes (about 0.1 s each): with three, the reference itself moved by ±5%
/// from run to run on a shared 2-core machine, and every ratio with it.
pub fn plain_rate_all_cores(m: &Model, d: &Datasets) -> (usize, f64) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let people = people_of(m, &Geography::default_system(d));
    (threads, plain_rate(m, &people, threads, 10))
}

/// Prints a throughput beside the plain loop's, as a ratio.
pub fn report(what: &str, person_years_per_s: f64, plain_per_s: f64) {
    println!(
        "{what}: {:.1} M person-years/s; plain loop {:.1} M/s on the same threads; ratio {:.2}x",
        person_years_per_s / 1e6,
        plain_per_s / 1e6,
        person_years_per_s / plain_per_s
    );
}
