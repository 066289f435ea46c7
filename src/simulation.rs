//! The yearly cycle, run neighbourhood by neighbourhood.
//!
//! A worker carries one neighbourhood through every year before taking the next, so memory
//! grows with threads, not with the population. Every draw comes from a stream keyed by
//! (seed, run, neighbourhood, year, purpose), and results are gathered in neighbourhood
//! order, so output is identical whatever the thread count.
//!
//! Each year: (1) deaths and out-migration, one competing-risks draw per person; (2) segment
//! transitions of the survivors; (3) births by mother's age band and in-migration by age band
//! and sex; (4) ageing; (5) care used, drawn as exact Poisson totals from the year's exposure
//! (survivors count a full year, leavers and joiners half a year, in the segment they were in).

use rand::RngExt;
use rayon::prelude::*;

use crate::activity::{add_exposure, n_exposure_cells, poisson, YearActivity};
use crate::error::{CapsimError, Result};
use crate::geography::Geography;
use crate::model::Model;
use crate::population::{
    band_of, count_into, n_cells, People, FEMALE, MAX_AGE, N_BANDS, N_IMD, N_SEX,
};
use crate::rng::{Purpose, StreamKey, StreamRng};
use crate::synthesis::{synthesise, Newcomers};

/// What to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimConfig {
    pub seed: u64,
    pub run: u64,
    pub years: u32,
}

/// People accounting of one neighbourhood-year: start + births - deaths + migration_in -
/// migration_out = end, exactly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flows {
    pub start: u64,
    pub births: u64,
    pub deaths: u64,
    pub migration_in: u64,
    pub migration_out: u64,
    pub end: u64,
}

/// Everything one neighbourhood produced over the horizon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighbourhoodResult {
    /// People at the start of each year 1..=years+1, flat `[year][census cell]`.
    pub census: Vec<u32>,
    pub flows: Vec<Flows>,
    pub activity: Vec<YearActivity>,
}

impl NeighbourhoodResult {
    /// Person-years simulated (people at the start of each simulated year).
    pub fn person_years(&self) -> u64 {
        self.flows.iter().map(|f| f.start).sum()
    }
}

/// Buffers a worker reuses from neighbourhood to neighbourhood, so the yearly loop does
/// not allocate per person.
#[derive(Debug, Default)]
pub struct Scratch {
    pub people: People,
    entrants: People,
    keep: Vec<bool>,
    exposure: Vec<f64>,
}

/// Counts taken at the start of a year that the births and migration steps need.
#[derive(Debug, Clone, Copy)]
pub struct StartCounts {
    /// Women by age band and quintile.
    pub women: [[u32; N_IMD]; N_BANDS],
    /// Residents by age band and sex.
    pub residents: [[u32; N_SEX]; N_BANDS],
}

impl StartCounts {
    pub fn of(people: &People) -> Self {
        let mut c = StartCounts {
            women: [[0; N_IMD]; N_BANDS],
            residents: [[0; N_SEX]; N_BANDS],
        };
        for i in 0..people.len() {
            let b = band_of(people.age[i]);
            c.residents[b][people.sex[i] as usize] += 1;
            if people.sex[i] == FEMALE {
                c.women[b][people.imd[i] as usize] += 1;
            }
        }
        c
    }
}

/// Step 1: deaths and out-migration. Marks leavers in `keep` and adds every person's
/// exposure (a full year for stayers, half for leavers). Returns (deaths, out-migrants).
pub fn exits(
    model: &Model,
    people: &People,
    keep: &mut Vec<bool>,
    exposure: &mut [f64],
    rng: &mut StreamRng,
) -> (u64, u64) {
    keep.clear();
    keep.resize(people.len(), true);
    let (mut deaths, mut out) = (0, 0);
    let d = &model.demography;
    for i in 0..people.len() {
        let q = d.death(
            people.segment[i],
            people.imd[i],
            people.sex[i],
            people.age[i],
        );
        let o = d.out_migration(people.sex[i], people.age[i], q);
        let u = rng.random::<f64>();
        let weight = if u < q {
            deaths += 1;
            keep[i] = false;
            0.5
        } else if u < q + o {
            out += 1;
            keep[i] = false;
            0.5
        } else {
            1.0
        };
        add_exposure(people, i, weight, exposure);
    }
    (deaths, out)
}

/// Step 2: segment transitions of everyone in `people`.
pub fn transitions(model: &Model, people: &mut People, rng: &mut StreamRng) {
    for i in 0..people.len() {
        let u = rng.random::<f64>();
        people.segment[i] = model
            .segments
            .next(people.age[i], people.imd[i], people.segment[i], u);
    }
}

/// Step 3a: births to the women counted at the start of the year, into `entrants`; each
/// baby takes its mother's quintile. Returns the number born.
pub fn births(
    model: &Model,
    newcomers: &Newcomers,
    start: &StartCounts,
    entrants: &mut People,
    rng: &mut StreamRng,
) -> u64 {
    let d = &model.demography;
    let mut born = 0;
    for b in 0..N_BANDS {
        let f = d.fertility(b);
        if f == 0.0 {
            continue;
        }
        for q in 0..N_IMD {
            let n = poisson(start.women[b][q] as f64 * f, rng);
            for _ in 0..n {
                let sex = (rng.random::<f64>() >= d.male_birth_share()) as u8;
                let risk = newcomers.risk(rng);
                entrants.push(0, sex, q as u8, model.segments.newborn(), risk);
            }
            born += n;
        }
    }
    born
}

/// Step 3b: in-migrants, in proportion to the residents of each age band and sex at the
/// start of the year, into `entrants`. Returns the number arriving.
pub fn arrivals(
    model: &Model,
    newcomers: &Newcomers,
    start: &StartCounts,
    entrants: &mut People,
    rng: &mut StreamRng,
) -> u64 {
    let mut arrived = 0;
    for b in 0..N_BANDS {
        for s in 0..N_SEX {
            let mean = start.residents[b][s] as f64 * model.demography.in_migration(b, s);
            let n = poisson(mean, rng);
            for _ in 0..n {
                newcomers.push(model, b, s as u8, entrants, rng);
            }
            arrived += n;
        }
    }
    arrived
}

/// Step 4: everyone present a year older.
pub fn ageing(people: &mut People) {
    for a in people.age.iter_mut() {
        *a = (*a + 1).min(MAX_AGE);
    }
}

/// Runs one year for one neighbourhood, returning its flows and activity.
pub fn step_year(
    model: &Model,
    newcomers: &Newcomers,
    key: impl Fn(Purpose) -> StreamRng,
    year: u32,
    scratch: &mut Scratch,
) -> (Flows, YearActivity) {
    let Scratch {
        people,
        entrants,
        keep,
        exposure,
    } = scratch;
    exposure.clear();
    exposure.resize(n_exposure_cells(model.segments.len()), 0.0);
    let start = StartCounts::of(people);
    let n_start = people.len() as u64;

    let (deaths, migration_out) = exits(model, people, keep, exposure, &mut key(Purpose::Exit));
    people.retain(keep);
    transitions(model, people, &mut key(Purpose::Transition));
    entrants.clear();
    let born = births(
        model,
        newcomers,
        &start,
        entrants,
        &mut key(Purpose::Births),
    );
    let migration_in = arrivals(
        model,
        newcomers,
        &start,
        entrants,
        &mut key(Purpose::Migration),
    );
    ageing(people);
    for i in 0..entrants.len() {
        add_exposure(entrants, i, 0.5, exposure);
        people.push(
            entrants.age[i],
            entrants.sex[i],
            entrants.imd[i],
            entrants.segment[i],
            entrants.risk[i],
        );
    }
    let activity = model
        .activity
        .draw(exposure, year, &mut key(Purpose::Activity));
    let flows = Flows {
        start: n_start,
        births: born,
        deaths,
        migration_in,
        migration_out,
        end: people.len() as u64,
    };
    (flows, activity)
}

/// Carries one neighbourhood through every year.
pub fn simulate_neighbourhood(
    model: &Model,
    geography: &Geography,
    index: usize,
    config: &SimConfig,
    scratch: &mut Scratch,
) -> NeighbourhoodResult {
    let nb = &geography.neighbourhoods[index];
    let key = |year: u32| {
        move |purpose| {
            StreamKey {
                seed: config.seed,
                run: config.run,
                neighbourhood: index as u64,
                year: year as u64,
                purpose,
            }
            .rng()
        }
    };
    let newcomers = Newcomers::new(model, nb);
    synthesise(
        model,
        nb,
        &mut scratch.people,
        &mut key(0)(Purpose::Synthesis),
    );
    let ns = model.segments.len();
    let cells = n_cells(ns);
    let years = config.years as usize;
    let mut census = vec![0u32; (years + 1) * cells];
    let mut flows = Vec::with_capacity(years);
    let mut activity = Vec::with_capacity(years);
    for year in 1..=config.years {
        let y = year as usize - 1;
        count_into(&scratch.people, ns, &mut census[y * cells..(y + 1) * cells]);
        let (f, a) = step_year(model, &newcomers, key(year), year, scratch);
        flows.push(f);
        activity.push(a);
    }
    count_into(&scratch.people, ns, &mut census[years * cells..]);
    NeighbourhoodResult {
        census,
        flows,
        activity,
    }
}

/// Simulates every neighbourhood of `geography` on `threads` threads (0 = all cores),
/// returning results in neighbourhood order. `progress` is called once per neighbourhood.
pub fn simulate(
    model: &Model,
    geography: &Geography,
    config: &SimConfig,
    threads: usize,
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<NeighbourhoodResult>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| CapsimError::InvalidSetting {
            setting: "--threads".into(),
            problem: e.to_string(),
        })?;
    Ok(pool.install(|| {
        (0..geography.neighbourhoods.len())
            .into_par_iter()
            .map_init(Scratch::default, |scratch, k| {
                let r = simulate_neighbourhood(model, geography, k, config, scratch);
                progress();
                r
            })
            .collect()
    }))
}
