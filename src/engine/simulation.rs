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
//! (survivors count a full year, leavers and joiners half a year, in the segment they were in)
//! at the neighbourhood-year's rates and local unit costs ([`crate::model::variation`]).
//! Steps 1, 2 and 4 run fused in one pass over the people ([`live_year`]), the yearly
//! loop's hot path; [`exits`], [`transitions`] and [`ageing`] are the same steps one at a
//! time, for the statistical tests and as its specification.
//!
//! A work unit ([`Plan`]) is one Monte Carlo run of several scenarios. They share the
//! synthesised population and every random stream (common random numbers). Scenarios whose
//! interventions do not change mortality or deterioration share one population path, the
//! counterfactual's, and differ only in the care drawn from it; the others get a path each.
//! Per-person draws are keyed by the person's id, so paths that diverge for a few people stay
//! aligned for everyone else.

use std::sync::Arc;

use rayon::prelude::*;

use crate::config::scenario::{Mortality, Variation};
use crate::core::care::N_SETTINGS;
use crate::core::dims::{
    band_of, n_cells, n_exposure_cells, Cell, FEMALE, MAX_AGE, N_BANDS, N_IMD, N_SEX,
};
use crate::core::error::{CapsimError, Result};
use crate::core::rng::{person_uniform, Purpose, StreamKey, StreamRng};
use crate::data::geography::Geography;
use crate::engine::exposure::{add_exposure, add_exposure_in};
use crate::engine::levers::{
    scenario_means, DemographicLevers, EffectScratch, InterventionYear, Levers,
};
use crate::engine::population::{count_into, People, Person};
use crate::engine::synthesis::{synthesise, Newcomers};
use crate::model::activity::{poisson, Trends, YearActivity};
use crate::model::demography::Demography;
use crate::model::segments::pick;
use crate::model::Model;

/// What to simulate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimConfig {
    pub seed: u64,
    pub run: u64,
    pub years: u32,
    /// Which differences between areas are simulated ([`crate::model::variation`]).
    pub variation: Variation,
    /// Whether death rates improve year by year ([`crate::model::demography`]).
    pub mortality: Mortality,
    /// Growth of rates beyond demography, the same for the counterfactual and every
    /// scenario of a plan.
    pub trends: Trends,
}

impl SimConfig {
    /// Run `run` of seed `seed` over `years`, with the default variation between areas,
    /// mortality improvement and trends.
    pub fn new(seed: u64, run: u64, years: u32) -> Self {
        SimConfig {
            seed,
            run,
            years,
            variation: Default::default(),
            mortality: Default::default(),
            trends: Default::default(),
        }
    }

    /// Years of mortality improvement applied in simulated year `year` (1-based): none in
    /// year 1, which dies at the base life table's rates.
    pub fn improvement_years(&self, year: u32) -> usize {
        if self.mortality.improvement {
            year.saturating_sub(1) as usize
        } else {
            0
        }
    }
}

/// Deaths and person-years of one neighbourhood-year by age band (age at the start of the
/// year), sex and quintile: what a period life table needs ([`crate::accounts::life`]).
/// Person-years are the year's presence: a whole year for those who stay, half for those
/// who die or leave and for those who are born or arrive.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LifeYear {
    pub deaths: [[[u32; N_IMD]; N_SEX]; N_BANDS],
    pub person_years: [[[f64; N_IMD]; N_SEX]; N_BANDS],
}

/// Deaths by age band (at the start of the year), sex and quintile.
pub type Deaths = [[[u64; N_IMD]; N_SEX]; N_BANDS];

/// Deaths of each quintile.
pub fn deaths_by_imd(d: &Deaths) -> [u64; N_IMD] {
    let mut out = [0; N_IMD];
    for by_sex in d {
        for by_imd in by_sex {
            for (q, n) in by_imd.iter().enumerate() {
                out[q] += n;
            }
        }
    }
    out
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
    /// Births by the mother's (and so the baby's) deprivation quintile.
    pub births_by_imd: [u64; N_IMD],
    /// Deaths by deprivation quintile.
    pub deaths_by_imd: [u64; N_IMD],
}

/// Everything one neighbourhood produced over the horizon. What depends only on the
/// population path (census, flows, life) is shared, not copied, by the scenarios on one
/// path: for real England it is more than half of a scenario's results (about 130 MB), and
/// a work unit or a chunk of the one-way analysis holds several scenarios on one path.
#[derive(Debug, Clone, PartialEq)]
pub struct NeighbourhoodResult {
    /// People at the start of each year 1..=years+1, flat `[year][census cell]`.
    pub census: Arc<[u32]>,
    pub flows: Arc<[Flows]>,
    pub activity: Vec<YearActivity>,
    /// What the scenario's interventions did, per year.
    pub interventions: Vec<InterventionYear>,
    /// Deaths and person-years by age band, sex and quintile, per year.
    pub life: Arc<[LifeYear]>,
}

impl NeighbourhoodResult {
    /// Person-years simulated (people at the start of each simulated year).
    pub fn person_years(&self) -> u64 {
        self.flows.iter().map(|f| f.start).sum()
    }
}

/// One scenario of a work unit: the population path it follows and its drawn levers.
#[derive(Debug, Clone)]
pub struct ScenarioPlan {
    pub path: usize,
    pub levers: Levers,
}

/// A work unit: one run of several scenarios over every neighbourhood.
#[derive(Debug, Clone)]
pub struct Plan {
    pub config: SimConfig,
    /// Demographic levers of each distinct population path; path 0 has none.
    pub paths: Vec<DemographicLevers>,
    pub scenarios: Vec<ScenarioPlan>,
}

impl Plan {
    /// A plan of one scenario without interventions.
    pub fn baseline(config: SimConfig) -> Self {
        Plan::new(config, vec![Levers::none()])
    }

    /// Groups scenarios by their demographic levers: equal levers, one path.
    pub fn new(config: SimConfig, levers: Vec<Levers>) -> Self {
        let mut paths = vec![DemographicLevers::default()];
        let scenarios = levers
            .into_iter()
            .map(|levers| {
                let demo = levers.demographic();
                let path = match paths.iter().position(|p| *p == demo) {
                    Some(p) => p,
                    None => {
                        paths.push(demo);
                        paths.len() - 1
                    }
                };
                ScenarioPlan { path, levers }
            })
            .collect();
        Plan {
            config,
            paths,
            scenarios,
        }
    }
}

/// Buffers a worker reuses from neighbourhood to neighbourhood, so the yearly loop does
/// not allocate per person.
#[derive(Debug, Default)]
pub struct Scratch {
    /// The synthesised population every path starts from.
    start: People,
    pub people: People,
    entrants: People,
    /// Each kind of person's chances of leaving this year ([`live_year`]).
    chances: Vec<[f64; 2]>,
    /// The year's cumulative transition rows ([`live_year`]).
    rows: Vec<f64>,
    /// Each row's interval of uniforms that keep a person in their segment.
    stay: Vec<[f64; 2]>,
    moves: Vec<Move>,
    /// The year's census, for callers that keep none ([`step_year`]).
    census: Vec<u32>,
    exposure: Vec<f64>,
    /// Risk of the people who die this year, by exposure cell: what their last year of
    /// life adds ([`crate::model::activity::ActivityModel::add_end_of_life`]).
    dying: Vec<f64>,
    presence: Vec<f64>,
    mortality: Vec<f64>,
    deterioration: Vec<f64>,
    /// The year's starting people by census cell, when a capacity caps a demographic
    /// lever ([`DemographicLevers::needs_census`]).
    starting: Vec<u32>,
    effects: EffectScratch,
    means: Vec<f64>,
    /// The last year's deaths and person-years ([`step_population`]).
    pub life: LifeYear,
}

/// Counts taken at the start of a year that the migration step needs.
#[derive(Debug, Clone, Copy)]
pub struct StartCounts {
    /// Residents by age band and sex.
    pub residents: [[u32; N_SEX]; N_BANDS],
}

impl StartCounts {
    pub fn of(people: &People, n_segments: usize) -> Self {
        let mut census = vec![0; n_cells(n_segments)];
        count_into(people, n_segments, &mut census);
        Self::of_census(&census, n_segments)
    }

    /// From a census (census layout), whose cells run band by band, then sex.
    pub fn of_census(census: &[u32], n_segments: usize) -> Self {
        let mut residents = [[0; N_SEX]; N_BANDS];
        for (k, by_cell) in census.chunks(N_IMD * n_segments).enumerate() {
            residents[k / N_SEX][k % N_SEX] = by_cell.iter().sum();
        }
        StartCounts { residents }
    }
}

/// Factors on death and deterioration probabilities, by [`Cell::demographic`], when a
/// path's interventions change them.
#[derive(Debug, Clone, Copy)]
pub struct Factors<'a> {
    pub mortality: &'a [f64],
    pub deterioration: &'a [f64],
}

/// What step 1 found: deaths by age band (at the start of the year), sex and quintile,
/// out-migrants, and births by the mother's quintile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exits {
    pub deaths: Deaths,
    pub out: u64,
    pub born: [u64; N_IMD],
}

/// The tables step 1 adds to: exposure and presence of everyone (see [`add_exposure`]), and
/// the risk of those who die, by exposure cell.
pub struct YearTables<'a> {
    pub exposure: &'a mut [f64],
    pub presence: &'a mut [f64],
    pub dying: &'a mut [f64],
}

/// Step 1: deaths, out-migration and births. Marks leavers in `keep`, mothers in `mother`,
/// and adds every person's exposure (a full year for stayers, half for leavers).
///
/// Each woman at the start of the year gives birth with her band's fertility, drawn by id
/// within the stream `mothers` (one draw per woman, independent of her death or leaving, so
/// births keep the fertility expectation). A mother is in the maternity (newborn) segment
/// for the year of the birth: her exposure that year counts there. Her health segment is
/// kept, so she returns to it after the year and her mortality and transitions are her own.
/// Men never enter the maternity segment. Death probabilities are those after
/// `improvement_years` of mortality improvement. Each person's exit draw is keyed by their
/// id within the stream `base`.
#[allow(clippy::too_many_arguments)]
pub fn exits(
    model: &Model,
    people: &People,
    keep: &mut Vec<bool>,
    mother: &mut Vec<bool>,
    tables: YearTables,
    base: u64,
    mothers: u64,
    factors: Option<Factors>,
    improvement_years: usize,
) -> Exits {
    keep.clear();
    keep.resize(people.len(), true);
    mother.clear();
    mother.resize(people.len(), false);
    let YearTables {
        exposure,
        presence,
        dying,
    } = tables;
    let mut e = Exits::default();
    let d = &model.demography;
    let maternity = model.segments.newborn();
    for i in 0..people.len() {
        let (age, sex, imd, segment) = (
            people.age[i],
            people.sex[i],
            people.imd[i],
            people.segment[i],
        );
        let mut q = d.death_after(segment, imd, sex, age, improvement_years);
        if let Some(f) = factors {
            let c = Cell::of(age, sex, imd, segment).demographic();
            q = (q * f.mortality[c]).min(1.0);
        }
        let o = d.out_migration(sex, age, q);
        let u = person_uniform(base, people.id[i]);
        let weight = if u < q {
            e.deaths[band_of(age)][sex as usize][imd as usize] += 1;
            keep[i] = false;
            dying[Cell::of(age, sex, imd, segment).exposure()] += people.risk[i] as f64;
            0.5
        } else if u < q + o {
            e.out += 1;
            keep[i] = false;
            0.5
        } else {
            1.0
        };
        let in_segment =
            if sex == FEMALE && person_uniform(mothers, people.id[i]) < d.fertility(band_of(age)) {
                e.born[imd as usize] += 1;
                mother[i] = true;
                maternity
            } else {
                segment
            };
        add_exposure_in(people, i, in_segment, weight, exposure, presence);
    }
    e
}

/// Step 2: segment transitions of everyone in `people`, each drawn by id within `base`.
/// A transition happens on average halfway through the year, so someone who changes
/// segment moves half of this year's exposure (counted in step 1 in the old segment) to
/// the new one. Counting the whole year in the start segment lost the use of everyone
/// entering a high-use segment during the year while those leaving it by death were
/// already counted for half a year: the stock of care home residents was about 15% short
/// in year one. Mothers (`mother`) stay in maternity for the year whatever their health.
pub fn transitions(
    model: &Model,
    people: &mut People,
    mother: &[bool],
    exposure: &mut [f64],
    presence: &mut [f64],
    base: u64,
    factors: Option<Factors>,
) {
    for i in 0..people.len() {
        let u = person_uniform(base, people.id[i]);
        let (age, imd, from) = (people.age[i], people.imd[i], people.segment[i]);
        let to = match factors {
            Some(f) => {
                let c = Cell::of(age, 0, imd, from).demographic();
                model
                    .segments
                    .next_scaled(age, imd, from, u, f.deterioration[c])
            }
            None => model.segments.next(age, imd, from, u),
        };
        if to != from && !mother[i] {
            add_exposure_in(people, i, from, -0.5, exposure, presence);
            add_exposure_in(people, i, to, 0.5, exposure, presence);
        }
        people.segment[i] = to;
    }
}

/// Half a year of a survivor's exposure moving from one exposure cell to another, when
/// they change segment (step 2).
#[derive(Debug, Clone, Copy)]
pub struct Move {
    from: u32,
    to: u32,
    risk: f32,
}

/// The year's transition rows ([`SegmentModel::rows`]) and each row's interval of staying
/// ([`SegmentModel::stay_bounds`]).
#[derive(Debug, Clone, Copy)]
pub struct Transitions<'a> {
    pub rows: &'a [f64],
    pub stay: &'a [[f64; 2]],
}

/// The per-person streams of a neighbourhood-year.
#[derive(Debug, Clone, Copy)]
pub struct PersonStreams {
    pub exit: u64,
    pub mothers: u64,
    pub transition: u64,
}

/// Steps 1, 2 and 4 in one pass over the people: the yearly loop's hot path.
///
/// It makes the same draws and the same sums as [`exits`], then keeping the survivors,
/// [`transitions`] and [`ageing`] one after another (the test
/// `fused_pass_is_the_steps_one_at_a_time` checks it bit for bit), but reads each person
/// once instead of five times, looks their cells and fertility up in
/// [`crate::model::kinds::Kinds`], their chances of leaving in `chances`
/// ([`Demography::exit_chances`]) and their transitions in `rows`
/// ([`crate::model::segments::SegmentModel::rows`]), trying first the interval of staying
/// put. Survivors are written back in order, a year older and in their new segment. The
/// halves of a year that segment
/// changes move are added after the pass, in order, so every sum of risks adds the same
/// terms in the same order as the steps do. Everyone present at the start is counted into
/// `census` (census layout, zero on entry), and `presence` is built from that count with
/// the exceptions (leavers' half years, mothers' years in maternity) added as they occur:
/// presences are sums of halves, exact in any order.
#[allow(clippy::too_many_arguments)]
pub fn live_year(
    model: &Model,
    people: &mut People,
    census: &mut [u32],
    tables: YearTables,
    streams: PersonStreams,
    chances: &[[f64; 2]],
    transitions: Transitions,
    moves: &mut Vec<Move>,
) -> Exits {
    let Transitions { rows, stay } = transitions;
    let YearTables {
        exposure,
        presence,
        dying,
    } = tables;
    debug_assert!(census.iter().all(|c| *c == 0), "census is zero on entry");
    let (ns, kinds) = (model.segments.len(), model.kinds.all());
    // Exposure cells are segment-major: moving segment moves by whole segments' worth.
    let per_segment = N_BANDS * N_SEX * N_IMD;
    let mut e = Exits::default();
    moves.clear();
    let n = people.len();
    // Slices of one length, so reading person i needs no bounds check.
    let (ages, sexes, imds) = (
        &mut people.age[..n],
        &mut people.sex[..n],
        &mut people.imd[..n],
    );
    let (segs, risks, ids) = (
        &mut people.segment[..n],
        &mut people.risk[..n],
        &mut people.id[..n],
    );
    let mut w = 0;
    for i in 0..n {
        let (age, sex, imd, segment, risk, id) =
            (ages[i], sexes[i], imds[i], segs[i], risks[i], ids[i]);
        let k = Demography::row(segment, imd, sex, age);
        let kind = kinds[k];
        census[kind.census as usize] += 1;
        // Step 1: one draw for death or leaving, one for motherhood.
        let [q, leave] = chances[k];
        let u = person_uniform(streams.exit, id);
        let mother = person_uniform(streams.mothers, id) < kind.birth;
        let c = if mother { kind.mother } else { kind.exposure } as usize;
        if mother {
            e.born[imd as usize] += 1;
            presence[kind.exposure as usize] -= 1.0;
            presence[c] += 1.0;
        }
        if u < leave {
            if u < q {
                e.deaths[band_of(age)][sex as usize][imd as usize] += 1;
                dying[kind.exposure as usize] += risk as f64;
            } else {
                e.out += 1;
            }
            exposure[c] += 0.5 * risk as f64;
            presence[c] -= 0.5;
            continue;
        }
        exposure[c] += 1.0 * risk as f64;
        // Step 2, for survivors: most stay in their segment, so that interval is tried
        // before the row is searched.
        let row = kind.transition as usize;
        let u = person_uniform(streams.transition, id);
        let [lo, hi] = stay[row];
        let to = if u >= lo && u < hi {
            segment
        } else {
            pick(&rows[row * ns..(row + 1) * ns], u)
        };
        if to != segment && !mother {
            let from = kind.exposure as usize;
            moves.push(Move {
                from: from as u32,
                to: (from + to as usize * per_segment - segment as usize * per_segment) as u32,
                risk,
            });
        }
        // Step 4, and the survivor kept in place.
        ages[w] = (age + 1).min(MAX_AGE);
        sexes[w] = sex;
        imds[w] = imd;
        segs[w] = to;
        risks[w] = risk;
        ids[w] = id;
        w += 1;
    }
    people.truncate(w);
    add_census_presence(census, ns, presence);
    for m in moves.iter() {
        let (from, to, risk) = (m.from as usize, m.to as usize, m.risk as f64);
        exposure[from] += -0.5 * risk;
        presence[from] += -0.5;
        exposure[to] += 0.5 * risk;
        presence[to] += 0.5;
    }
    e
}

/// A full year of presence for everyone counted in `census`, in their own segment's
/// exposure cell.
fn add_census_presence(census: &[u32], ns: usize, presence: &mut [f64]) {
    for (i, n) in census.iter().enumerate().filter(|(_, n)| **n > 0) {
        let (rest, segment) = (i / ns, i % ns);
        let (rest, imd) = (rest / N_IMD, rest % N_IMD);
        let (band, sex) = (rest / N_SEX, rest % N_SEX);
        let cell = Cell {
            band,
            sex,
            imd,
            segment,
        };
        presence[cell.exposure()] += *n as f64;
    }
}

/// Step 3a: the babies of the year's mothers (drawn in step 1), into `entrants`; each
/// baby takes its mother's quintile.
pub fn births(
    model: &Model,
    newcomers: &Newcomers,
    born: &[u64; N_IMD],
    entrants: &mut People,
    rng: &mut StreamRng,
) {
    let d = &model.demography;
    for (q, n) in born.iter().enumerate() {
        entrants.extend_drawn(*n as usize, || {
            let sex = (rand::RngExt::random::<f64>(rng) >= d.male_birth_share()) as u8;
            let risk = newcomers.risk(rng);
            Person {
                age: 0,
                sex,
                imd: q as u8,
                segment: model.segments.newborn(),
                risk,
            }
        });
    }
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
            entrants.extend_drawn(n as usize, || newcomers.person(model, b, s as u8, rng));
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

/// Runs the population part of one year for one neighbourhood (steps 1-4), counting the
/// people present at its start into `census` and leaving the year's exposure and presence
/// tables, and its deaths and person-years (`life`), in `scratch`. Returns the flows.
pub fn step_population(
    model: &Model,
    newcomers: &Newcomers,
    key: &impl Fn(Purpose) -> StreamKey,
    scratch: &mut Scratch,
    census: &mut [u32],
    factors: Option<Factors>,
    improvement_years: usize,
) -> Flows {
    let Scratch {
        people,
        entrants,
        exposure,
        presence,
        life,
        dying,
        chances,
        rows,
        stay,
        moves,
        ..
    } = scratch;
    let ns = model.segments.len();
    let cells = n_exposure_cells(ns);
    for t in [&mut *exposure, &mut *presence, &mut *dying] {
        t.clear();
        t.resize(cells, 0.0);
    }
    let n_start = people.len() as u64;
    // Without factors the year's tables are the model's own, made once.
    let (chances, rows, stay) = match factors {
        None => {
            let (rows, stay) = model.segments.unchanged_rows();
            let t = improvement_years;
            (model.demography.unchanged_exit_chances(t), rows, stay)
        }
        Some(f) => {
            let d = &model.demography;
            d.exit_chances(improvement_years, Some(f.mortality), chances);
            model.segments.rows(Some(f.deterioration), rows);
            model.segments.stay_bounds(rows, stay);
            (&chances[..], &rows[..], &stay[..])
        }
    };
    let e = live_year(
        model,
        people,
        census,
        YearTables {
            exposure,
            presence,
            dying,
        },
        PersonStreams {
            exit: key(Purpose::Exit).hash(),
            mothers: key(Purpose::Mothers).hash(),
            transition: key(Purpose::Transition).hash(),
        },
        chances,
        Transitions { rows, stay },
        moves,
    );
    let start = StartCounts::of_census(census, ns);
    entrants.clear();
    births(
        model,
        newcomers,
        &e.born,
        entrants,
        &mut key(Purpose::Births).rng(),
    );
    let migration_in = arrivals(
        model,
        newcomers,
        &start,
        entrants,
        &mut key(Purpose::Migration).rng(),
    );
    for i in 0..entrants.len() {
        add_exposure(entrants, i, 0.5, exposure, presence);
    }
    people.append(entrants);
    // The life table's counts: presence summed over segments (exposure layout is segment,
    // band, sex, quintile).
    let per_segment = N_BANDS * N_SEX * N_IMD;
    *life = LifeYear::default();
    for (c, p) in presence.iter().enumerate() {
        let c = c % per_segment;
        let (b, x, q) = (c / (N_SEX * N_IMD), (c / N_IMD) % N_SEX, c % N_IMD);
        life.person_years[b][x][q] += p;
    }
    for (b, by_sex) in e.deaths.iter().enumerate() {
        for (x, by_imd) in by_sex.iter().enumerate() {
            for (q, n) in by_imd.iter().enumerate() {
                life.deaths[b][x][q] = *n as u32;
            }
        }
    }
    let (deaths, migration_out, born) = (deaths_by_imd(&e.deaths), e.out, e.born);
    Flows {
        start: n_start,
        births: born.iter().sum(),
        deaths: deaths.iter().sum(),
        migration_in,
        migration_out,
        end: people.len() as u64,
        births_by_imd: born,
        deaths_by_imd: deaths,
    }
}

/// Runs one year for one neighbourhood without interventions, at national rates and unit
/// costs (no variation between areas), returning its flows and activity.
pub fn step_year(
    model: &Model,
    newcomers: &Newcomers,
    key: impl Fn(Purpose) -> StreamKey,
    year: u32,
    scratch: &mut Scratch,
) -> (Flows, YearActivity) {
    let mut census = std::mem::take(&mut scratch.census);
    census.clear();
    census.resize(n_cells(model.segments.len()), 0);
    let flows = step_population(
        model,
        newcomers,
        &key,
        scratch,
        &mut census,
        None,
        year.saturating_sub(1) as usize,
    );
    scratch.census = census;
    let a = &model.activity;
    let mut means = a.expected(&scratch.exposure);
    a.add_end_of_life(&scratch.dying, None, &[1.0; N_SETTINGS], &mut means);
    let activity = a.draw_from(&means, &[1.0; N_SETTINGS], year, &key(Purpose::Activity));
    (flows, activity)
}

/// Runs the population part of one year for one neighbourhood and returns the year's
/// expected activity `[setting][group]` at national rates, with the extra care of the
/// last year of life and no draw: what calibration compares observed counts with
/// (`engine::expected`), so they are not blurred by the simulation's own chance.
pub fn expected_year(
    model: &Model,
    newcomers: &Newcomers,
    key: impl Fn(Purpose) -> StreamKey,
    improvement_years: usize,
    scratch: &mut Scratch,
) -> Vec<f64> {
    let mut census = std::mem::take(&mut scratch.census);
    census.clear();
    census.resize(n_cells(model.segments.len()), 0);
    step_population(
        model,
        newcomers,
        &key,
        scratch,
        &mut census,
        None,
        improvement_years,
    );
    scratch.census = census;
    let a = &model.activity;
    let mut means = a.expected(&scratch.exposure);
    a.add_end_of_life(&scratch.dying, None, &[1.0; N_SETTINGS], &mut means);
    means
}

/// The stream keys of one neighbourhood-year.
fn keys(config: &SimConfig, neighbourhood: u64, year: u32) -> impl Fn(Purpose) -> StreamKey {
    let (seed, run) = (config.seed, config.run);
    move |purpose| StreamKey {
        seed,
        run,
        neighbourhood,
        year: year as u64,
        purpose,
    }
}

/// Carries one neighbourhood through every year under every scenario of `plan`, returning
/// one result per scenario.
pub fn simulate_neighbourhood(
    model: &Model,
    geography: &Geography,
    index: usize,
    plan: &Plan,
    scratch: &mut Scratch,
) -> Vec<NeighbourhoodResult> {
    let nb = &geography.neighbourhoods[index];
    let config = &plan.config;
    let newcomers = Newcomers::new(model, nb);
    synthesise(
        model,
        nb,
        &mut scratch.start,
        &mut keys(config, nb.id, 0)(Purpose::Synthesis).rng(),
    );
    let ns = model.segments.len();
    let cells = n_cells(ns);
    let years = config.years as usize;
    let mut results: Vec<Option<NeighbourhoodResult>> = vec![None; plan.scenarios.len()];
    for (p, demo) in plan.paths.iter().enumerate() {
        let on_path: Vec<usize> = (0..plan.scenarios.len())
            .filter(|s| plan.scenarios[*s].path == p)
            .collect();
        if on_path.is_empty() {
            continue;
        }
        let mut census = vec![0u32; (years + 1) * cells];
        let mut flows = Vec::with_capacity(years);
        let mut life = Vec::with_capacity(years);
        let mut activity: Vec<Vec<YearActivity>> = vec![Vec::with_capacity(years); on_path.len()];
        let mut effects: Vec<Vec<InterventionYear>> =
            vec![Vec::with_capacity(years); on_path.len()];
        scratch.people.copy_from(&scratch.start);
        let plain = |s: &usize| plan.scenarios[*s].levers.interventions.is_empty();
        let first_plain = on_path.iter().position(plain);
        for year in 1..=config.years {
            let y = year as usize - 1;
            // The same for the counterfactual and every scenario (common random numbers).
            let mut area = model.variation.factors(
                config.variation,
                (config.seed, config.run),
                (nb.id, &geography.places[nb.place].name),
                year,
            );
            // Rates grow beyond demography as the area's own multipliers do, so avoided
            // activity is valued at the year's rates too.
            for (a, t) in area.activity.iter_mut().zip(config.trends.factors(year)) {
                *a *= t;
            }
            let key = keys(config, nb.id, year);
            let mut mortality = std::mem::take(&mut scratch.mortality);
            let mut deterioration = std::mem::take(&mut scratch.deterioration);
            if demo.needs_census() {
                scratch.starting.clear();
                scratch.starting.resize(cells, 0);
                count_into(&scratch.people, ns, &mut scratch.starting);
            }
            let factors = (!demo.is_empty()).then(|| {
                demo.factors(
                    index,
                    year,
                    ns,
                    &scratch.starting,
                    &mut mortality,
                    &mut deterioration,
                );
                Factors {
                    mortality: &mortality,
                    deterioration: &deterioration,
                }
            });
            flows.push(step_population(
                model,
                &newcomers,
                &key,
                scratch,
                &mut census[y * cells..(y + 1) * cells],
                factors,
                config.improvement_years(year),
            ));
            life.push(scratch.life);
            scratch.mortality = mortality;
            scratch.deterioration = deterioration;
            scratch.means.resize(N_SETTINGS * ns * N_IMD, 0.0);
            for (j, s) in on_path.iter().enumerate() {
                // A scenario without interventions would draw the very care of the first
                // such scenario on its path (the counterfactual's): the same means from the
                // same streams. A run of one scenario without interventions (England's
                // baseline) drew every year twice; now the year is copied.
                if let Some(f) = first_plain.filter(|f| *f < j && plain(s)) {
                    let (a, e) = (activity[f][y].clone(), effects[f][y].clone());
                    activity[j].push(a);
                    effects[j].push(e);
                    continue;
                }
                let iy = scenario_means(
                    &model.activity,
                    &plan.scenarios[*s].levers,
                    &area,
                    index,
                    year,
                    &scratch.exposure,
                    &scratch.presence,
                    &mut scratch.effects,
                    &mut scratch.means,
                );
                model.activity.add_end_of_life(
                    &scratch.dying,
                    Some(scratch.effects.multipliers()),
                    &area.activity,
                    &mut scratch.means,
                );
                activity[j].push(model.activity.draw_from(
                    &scratch.means,
                    &area.cost,
                    year,
                    &key(Purpose::Activity),
                ));
                effects[j].push(iy);
            }
        }
        count_into(&scratch.people, ns, &mut census[years * cells..]);
        let census: Arc<[u32]> = census.into();
        let flows: Arc<[Flows]> = flows.into();
        let life: Arc<[LifeYear]> = life.into();
        for ((s, a), e) in on_path.iter().zip(activity).zip(effects) {
            results[*s] = Some(NeighbourhoodResult {
                census: census.clone(),
                flows: flows.clone(),
                activity: a,
                interventions: e,
                life: life.clone(),
            });
        }
    }
    results
        .into_iter()
        .map(|r| r.expect("every scenario is on a path"))
        .collect()
}

/// Adds up the segments of a result's care ([`YearActivity::by_quintile`]): everything the
/// accounts read of it stays exact, and the activity, the most of a scenario's own
/// results, takes a seventh of the memory.
pub fn compact_activity(r: &mut NeighbourhoodResult) {
    for a in &mut r.activity {
        *a = a.by_quintile();
    }
}

/// A rayon pool of `threads` workers (0 = all cores).
pub fn pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| CapsimError::InvalidSetting {
            setting: "--threads".into(),
            problem: e.to_string(),
        })
}

/// Simulates every neighbourhood of `geography` under `plan` on `threads` threads
/// (0 = all cores). Returns results `[scenario][neighbourhood]`, in neighbourhood order.
/// `progress` is called once per neighbourhood.
pub fn simulate_plan(
    model: &Model,
    geography: &Geography,
    plan: &Plan,
    threads: usize,
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<Vec<NeighbourhoodResult>>> {
    Ok(pool(threads)?.install(|| simulate_plan_here(model, geography, plan, true, progress)))
}

/// Like [`simulate_plan`], on the current rayon pool (for callers already inside one),
/// with neighbourhoods in parallel or, when the caller parallelises over work units
/// instead, one after another. Nesting both would let a waiting thread steal further
/// units and hold them all in memory at once.
pub fn simulate_plan_here(
    model: &Model,
    geography: &Geography,
    plan: &Plan,
    parallel: bool,
    progress: &(dyn Fn() + Sync),
) -> Vec<Vec<NeighbourhoodResult>> {
    simulate_plan_compact(model, geography, plan, parallel, progress, &|_| {})
}

/// Like [`simulate_plan_here`], with `compact` applied to each neighbourhood's results as
/// soon as the neighbourhood is done, so what is held until every neighbourhood is done
/// is what the caller keeps ([`compact_activity`]: the segments of care added up, for
/// callers that write no activity table).
pub fn simulate_plan_compact(
    model: &Model,
    geography: &Geography,
    plan: &Plan,
    parallel: bool,
    progress: &(dyn Fn() + Sync),
    compact: &(dyn Fn(&mut NeighbourhoodResult) + Sync),
) -> Vec<Vec<NeighbourhoodResult>> {
    let one = |scratch: &mut Scratch, k: usize| {
        let mut r = simulate_neighbourhood(model, geography, k, plan, scratch);
        r.iter_mut().for_each(compact);
        progress();
        r
    };
    let n = geography.neighbourhoods.len();
    let by_neighbourhood: Vec<Vec<NeighbourhoodResult>> = if parallel {
        (0..n)
            .into_par_iter()
            .map_init(Scratch::default, one)
            .collect()
    } else {
        let mut scratch = Scratch::default();
        (0..n).map(|k| one(&mut scratch, k)).collect()
    };
    let mut out: Vec<Vec<NeighbourhoodResult>> = (0..plan.scenarios.len())
        .map(|_| Vec::with_capacity(by_neighbourhood.len()))
        .collect();
    for per_scenario in by_neighbourhood {
        for (s, r) in per_scenario.into_iter().enumerate() {
            out[s].push(r);
        }
    }
    out
}

/// Simulates every neighbourhood without interventions: the baseline of run
/// `config.run`.
pub fn simulate(
    model: &Model,
    geography: &Geography,
    config: &SimConfig,
    threads: usize,
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<NeighbourhoodResult>> {
    let plan = Plan::baseline(*config);
    let mut r = simulate_plan(model, geography, &plan, threads, progress)?;
    Ok(r.remove(0))
}
