//! The one run pipeline. Every command that simulates (`run`, `batch`, `budget`) goes
//! through it: load and check the inputs once ([`prepare`]), then for each work unit draw
//! the levers, simulate the counterfactual and the group's scenarios from common random
//! numbers ([`simulate_unit`]), and compute each scenario's metrics and budgets and write
//! its tables ([`write_unit`]). `run` with one Monte Carlo run is a batch of one scenario
//! written in the flat layout.

use std::path::{Path, PathBuf};

use crate::accounts::capacity_metrics::push_capacity;
use crate::accounts::capitation::{Budgets, Weights};
use crate::accounts::metrics::{compute, Metrics};
use crate::accounts::need_formula::estimate;
use crate::app::calibrate_local;
use crate::config::batch::Batch;
use crate::config::resolve::Resolved;
use crate::config::scenario::{scenario_error, Basis};
use crate::core::care::Setting;
use crate::core::error::Result;
use crate::core::money;
use crate::data::datasets::{
    load_place_file, load_weight_table, DatasetSource, Datasets, WeightTable,
};
use crate::data::geography::{Geography, RealSource};
use crate::data::published_geography::RealEngland;
use crate::engine::levers::Levers;
use crate::engine::simulation::{
    compact_activity, simulate_plan_here, NeighbourhoodResult, Plan, SimConfig,
};
use crate::io::calibration::CalibrationFile;
use crate::io::summary::formula_weights_frame;
use crate::io::tables::{
    write_frame, write_run, write_run_accounts, write_run_results, Layout, RunOutput, Staging,
};
use crate::model::calibration::GrowthRow;
use crate::model::practice_fit::PracticeFit;
use crate::model::Model;

/// The calibration every scenario of the batch names (all the same one, or none: the
/// model is shared), checked against each group's geography: the geography it was made
/// for, and the same neighbourhood names under the same ids.
fn calibration_of(
    batch: &Batch,
    groups: &[Vec<usize>],
    geos: &[Geography],
) -> Result<Option<CalibrationFile>> {
    let first = &batch.scenarios[0];
    for s in &batch.scenarios[1..] {
        if s.calibration != first.calibration {
            return Err(scenario_error(
                &s.file,
                None,
                "calibration.file",
                format!(
                    "every scenario of a batch uses the same calibration (or none); {} uses {}",
                    first.name,
                    first
                        .calibration
                        .as_ref()
                        .map_or("none".into(), |p| p.display().to_string())
                ),
            ));
        }
    }
    let Some(path) = &first.calibration else {
        return Ok(None);
    };
    let c = crate::io::calibration::read(path)?;
    for (g, geo) in groups.iter().zip(geos) {
        let s = &batch.scenarios[g[0]];
        let refuse =
            |problem: String| Err(scenario_error(&s.file, None, "calibration.file", problem));
        let label = calibrate_local::label_of(&s.population);
        if label != c.meta.geography {
            return refuse(format!(
                "{} was made for {}, and this scenario simulates {label}; calibrate {label} \
                 with `capsim calibrate --observed FILE` or simulate {}",
                path.display(),
                c.meta.geography,
                c.meta.geography
            ));
        }
        let whole = s.population.places.is_empty() && s.population.neighbourhoods.is_empty();
        let same = geo
            .neighbourhoods
            .iter()
            .all(|nb| c.names.get(&nb.id).is_none_or(|name| *name == nb.name))
            && (!whole || calibrate_local::geography_sha256(geo) == c.meta.geography_sha256);
        if !same {
            return refuse(format!(
                "{} was made for another version of {} (its neighbourhoods differ: another \
                 practice file or place_by?); calibrate again",
                path.display(),
                c.meta.geography
            ));
        }
    }
    Ok(Some(c))
}

/// Each fitted setting's growth beyond demography from a calibration: of the levels
/// fitted, the estimate with the narrowest 90% interval (they measure the same series).
pub fn calibrated_trends(rows: &[GrowthRow]) -> Vec<(Setting, f64)> {
    let mut best: Vec<&GrowthRow> = Vec::new();
    for r in rows {
        let width = |g: &GrowthRow| g.growth_hi90 - g.growth_lo90;
        match best.iter_mut().find(|b| b.setting == r.setting) {
            Some(b) if width(r) < width(b) => *b = r,
            Some(_) => {}
            None => best.push(r),
        }
    }
    best.iter().map(|r| (r.setting, r.growth)).collect()
}

/// A work unit: (group of scenarios, Monte Carlo run).
pub type Unit = (usize, u64);

/// Writes the simulated neighbourhoods of every group with their codes, people,
/// locations and published populations (`geography.{parquet,csv}`), and, when a group is
/// real England or one of its ICBs, the published figures of all 42 ICBs
/// (`published_icbs.{parquet,csv}`), which the report's validation takes England's totals
/// from.
pub fn write_geography(p: &Prepared, batch: &Batch, staging: &mut Staging) -> Result<()> {
    use crate::io::areas::{geography_frame, published_icbs_frame, PublishedIcb};
    let groups: Vec<(String, &Geography)> = p
        .groups
        .iter()
        .zip(&p.geographies)
        .map(|(g, geo)| (batch.scenarios[g[0]].name.clone(), geo))
        .collect();
    write_frame(
        staging,
        &Layout::Flat,
        crate::io::areas::GEOGRAPHY_TABLE,
        &geography_frame(&groups)?,
    )?;
    if !p.geographies.iter().any(Geography::has_published) {
        return Ok(());
    }
    let practices = crate::data::published::Practices::bundled()?;
    let icbs: Vec<PublishedIcb> = practices
        .icbs()
        .into_iter()
        .map(|(code, name)| {
            let members: Vec<usize> = (0..practices.practices.len())
                .filter(|&i| practices.practices[i].icb_code == code)
                .collect();
            let published = crate::data::published_geography::Published::of(&practices, &members);
            PublishedIcb {
                code,
                name,
                published,
            }
        })
        .collect();
    write_frame(
        staging,
        &Layout::Flat,
        crate::io::areas::PUBLISHED_ICBS_TABLE,
        &published_icbs_frame(&icbs)?,
    )
}

/// A scenario-run's metrics with its drawn parameters (name, value).
pub type ScenarioRun = (Metrics, Vec<(String, f64)>);

/// Everything loaded and checked once for a batch.
pub struct Prepared {
    pub datasets: Datasets,
    pub model: Model,
    /// Capitation weights of each group (the need formula is estimated on the group's
    /// geography and seed).
    pub weights: Vec<Weights>,
    /// Geography of each group.
    pub geographies: Vec<Geography>,
    /// Each scenario's targets, resolved against the datasets and its group's geography.
    pub resolved: Vec<Resolved>,
    pub groups: Vec<Vec<usize>>,
    pub units: Vec<Unit>,
}

/// Loads the datasets, builds the model and each group's geography, and checks every
/// scenario against them, before anything is simulated.
pub fn prepare(batch: &Batch, source: &DatasetSource) -> Result<Prepared> {
    let mut datasets = Datasets::load(source)?;
    let groups = batch.groups();
    let mut geos: Vec<Geography> = Vec::new();
    for g in &groups {
        geos.push(batch.scenarios[g[0]].geography(&datasets)?);
    }
    place_files(batch, &groups, &geos, &mut datasets)?;
    let mut model = Model::new(&datasets)?;
    if let Some(c) = calibration_of(batch, &groups, &geos)? {
        for (setting, growth) in calibrated_trends(&c.meta.growth) {
            model.activity.set_trend(setting, growth);
        }
        model.variation.calibrate(c.rates);
    }
    fit_real_people(batch, &groups, &model, &mut geos)?;
    let mut geographies = Vec::new();
    let mut weights = Vec::new();
    let mut resolved = vec![None; batch.scenarios.len()];
    for (g, geo) in groups.iter().zip(geos) {
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
        for s in g {
            let sc = &batch.scenarios[*s];
            if let Some(f) = sc
                .capitation
                .formula
                .iter()
                .find(|f| f.basis == Basis::Published)
            {
                if !geo.has_published() {
                    return Err(scenario_error(
                        &sc.file,
                        None,
                        "capitation.formula",
                        format!(
                            "formula `{}` has basis \"published\", which shares by NHS \
                             England's published weighted populations, but population `{}` \
                             has none; use it with real England (population = \"england\" \
                             or `capsim run --icb CODE`), or choose another basis (headcount, \
                             age_sex, need, true_expected_cost, table, historic)",
                            f.name(),
                            match &sc.population.geography {
                                Some(dir) => dir.display().to_string(),
                                None => sc.population.preset.id().to_string(),
                            }
                        ),
                    ));
                }
            }
        }
        let mut tables: Vec<(PathBuf, WeightTable)> = Vec::new();
        for s in g {
            for f in &batch.scenarios[*s].capitation.formula {
                if let Some(path) = &f.weights {
                    if !tables.iter().any(|(p, _)| p == path) {
                        tables.push((path.clone(), load_weight_table(path, &datasets.segments)?));
                    }
                }
            }
        }
        let estimated = estimate(
            &model,
            &geo,
            batch.scenarios[g[0]].variation,
            batch.scenarios[g[0]].seed,
            reference_segment(&datasets),
            datasets.parameters.condition_recording_sensitivity,
        );
        weights.push(Weights::new(&model, &datasets, estimated, tables));
        geographies.push(geo);
    }
    Ok(Prepared {
        weights,
        units: batch.units(),
        resolved: resolved
            .into_iter()
            .map(|r| r.expect("every scenario is in a group"))
            .collect(),
        datasets,
        model,
        geographies,
        groups,
    })
}

/// Gives the neighbourhoods of real England (and its ICBs) people that reproduce their
/// practices' published need indices through the model (`model::practice_fit`), once for
/// all groups. Imported lists keep their own ages, and the invented presets have no
/// published populations: both are left as they are.
fn fit_real_people(
    batch: &Batch,
    groups: &[Vec<usize>],
    model: &Model,
    geos: &mut [Geography],
) -> Result<()> {
    let real = |g: &Geography| g.neighbourhoods.iter().any(|n| n.published.is_some());
    // Each group's real England as its scenarios built it (practice file, places), fitted
    // once per different source.
    let mut fitted: Vec<(RealSource, RealEngland, PracticeFit)> = Vec::new();
    for (g, geo) in groups.iter().zip(geos.iter_mut()) {
        if !real(geo) {
            continue;
        }
        let source = batch.scenarios[g[0]].population.real_source();
        if !fitted.iter().any(|(s, _, _)| *s == source) {
            let practices = source.practices()?;
            let england = RealEngland::build_by(&practices, source.place_by);
            let fit = PracticeFit::fit(model, &practices, &england);
            fitted.push((source.clone(), england, fit));
        }
        let (_, england, fit) = fitted
            .iter()
            .find(|(s, _, _)| *s == source)
            .expect("fitted above");
        fit.apply(england, geo);
    }
    Ok(())
}

/// Adds the places files of the batch's scenarios (`[capitation] places`) to the
/// datasets' place factors before the model is built, so budgets and local unit costs
/// see the same factors. A row replaces the bundled row of its place; two files that give
/// one place different factors are refused, since the model holds one factor per place.
fn place_files(
    batch: &Batch,
    groups: &[Vec<usize>],
    geos: &[Geography],
    datasets: &mut Datasets,
) -> Result<()> {
    let mut from: Vec<(String, PathBuf)> = Vec::new();
    for (g, geo) in groups.iter().zip(geos) {
        let names: Vec<&str> = geo.places.iter().map(|p| p.name.as_str()).collect();
        for s in g {
            let Some(path) = &batch.scenarios[*s].capitation.places else {
                continue;
            };
            for row in load_place_file(path, &names)? {
                let i = datasets
                    .place_factors
                    .iter()
                    .position(|p| p.place == row.place);
                if let Some((_, first)) = from.iter().find(|(p, _)| *p == row.place) {
                    if i.is_some_and(|i| datasets.place_factors[i] != row) {
                        return Err(scenario_error(
                            &batch.scenarios[*s].file,
                            None,
                            "capitation.places",
                            format!(
                                "place `{}` has other factors in {}; one batch gives a place one set",
                                row.place,
                                first.display()
                            ),
                        ));
                    }
                }
                from.push((row.place.clone(), path.clone()));
                match i {
                    Some(i) => datasets.place_factors[i] = row,
                    None => datasets.place_factors.push(row),
                }
            }
        }
    }
    Ok(())
}

/// One simulated work unit: the plan (counterfactual first, then the group's scenarios
/// that have this run) and the results `[scenario][neighbourhood]` in plan order.
pub struct UnitResults {
    pub unit: Unit,
    /// Indices in the batch of the scenarios simulated, in plan order after the
    /// counterfactual.
    pub members: Vec<usize>,
    pub plan: Plan,
    pub results: Vec<Vec<NeighbourhoodResult>>,
}

impl UnitResults {
    /// Person-years simulated: each population path's, once.
    pub fn person_years(&self) -> u64 {
        (0..self.plan.paths.len())
            .filter_map(|path| self.plan.scenarios.iter().position(|s| s.path == path))
            .map(|s| {
                self.results[s]
                    .iter()
                    .map(NeighbourhoodResult::person_years)
                    .sum::<u64>()
            })
            .sum()
    }
}

/// The scenarios of a unit's group that have this run, and the levers of its plan: none
/// for the counterfactual, then each scenario's drawn for the run.
fn unit_levers(p: &Prepared, batch: &Batch, (g, run): Unit) -> (Vec<usize>, Vec<Levers>) {
    let members: Vec<usize> = p.groups[g]
        .iter()
        .copied()
        .filter(|s| run < batch.scenarios[*s].runs as u64)
        .collect();
    let mut levers = vec![Levers::none()];
    for s in &members {
        levers.push(Levers::draw(
            &batch.scenarios[*s],
            &p.resolved[*s],
            &p.model,
            run,
        ));
    }
    (members, levers)
}

/// Simulates one work unit. With a pool, neighbourhoods run in parallel on it; without,
/// one after another on this thread (when the caller runs units in parallel instead).
/// `progress` is called once per neighbourhood.
pub fn simulate_unit(
    p: &Prepared,
    batch: &Batch,
    unit: Unit,
    pool: Option<&rayon::ThreadPool>,
    progress: &(dyn Fn() + Sync),
) -> UnitResults {
    let (g, run) = unit;
    let geo = &p.geographies[g];
    let (members, levers) = unit_levers(p, batch, unit);
    let plan = Plan::new(sim_config(p, batch, g, run), levers);
    let results = match pool {
        Some(pool) => pool.install(|| simulate_plan_here(&p.model, geo, &plan, true, progress)),
        None => simulate_plan_here(&p.model, geo, &plan, false, progress),
    };
    UnitResults {
        unit,
        members,
        plan,
        results,
    }
}

/// The simulation settings of group `g` in run `run`: those of the group's first scenario
/// (its scenarios share them).
pub fn sim_config(p: &Prepared, batch: &Batch, g: usize, run: u64) -> SimConfig {
    let first = &batch.scenarios[p.groups[g][0]];
    SimConfig {
        seed: first.seed,
        run,
        years: first.years,
        variation: first.variation,
        mortality: first.mortality,
        trends: crate::model::activity::Trends {
            growth: first
                .trends
                .growth(&p.model.activity.default_trends().growth),
        },
    }
}

/// Refuses simulated spend whose pence could overflow when added up (see `core::money`),
/// before anything adds them.
pub fn check_spend(results: &[Vec<NeighbourhoodResult>]) -> Result<()> {
    money::check_total(
        results.iter().flatten().flat_map(|r| {
            let care = r.activity.iter().flat_map(|a| a.cost_pence.iter());
            let interventions = r
                .interventions
                .iter()
                .flat_map(|i| i.cost_pence.iter().chain(&i.shift_pence).flatten());
            care.chain(interventions).copied()
        }),
        "the simulated spend",
    )
}

/// Computes each scenario's metrics and budgets and writes its tables into `staging`:
/// partitions of a batch, or the flat layout for a single run. Returns each scenario's
/// metrics with its drawn parameters, in `members` order.
pub fn write_unit(
    p: &Prepared,
    batch: &Batch,
    u: &UnitResults,
    staging: &mut Staging,
    flat: bool,
) -> Result<Vec<ScenarioRun>> {
    // Before anything adds pence up: see `core::money` on overflow.
    check_spend(&u.results)?;
    let mut out = Vec::new();
    let mut written: Vec<(usize, Layout)> = Vec::new();
    for (j, s) in u.members.iter().enumerate() {
        let path = u.plan.scenarios[j + 1].path;
        let (run, layout) = write_scenario(
            p,
            batch,
            u.unit,
            *s,
            (&u.plan.scenarios[j + 1].levers, &u.results[j + 1]),
            &u.results[0],
            written.iter().find(|(q, _)| *q == path).map(|(_, l)| l),
            (staging, flat),
        )?;
        out.push(run);
        written.push((path, layout));
    }
    Ok(out)
}

/// Writes scenario `s` of `unit` (its levers and results) against the counterfactual:
/// its metrics and budgets computed, its tables written; `same_people_as` is the layout
/// of a scenario on the same population path written earlier into `staging`, whose
/// population and flows files are copied.
#[allow(clippy::too_many_arguments)]
fn write_scenario(
    p: &Prepared,
    batch: &Batch,
    (g, run): Unit,
    s: usize,
    (levers, results): (&Levers, &[NeighbourhoodResult]),
    counterfactual: &[NeighbourhoodResult],
    same_people_as: Option<&Layout>,
    (staging, flat): (&mut Staging, bool),
) -> Result<(ScenarioRun, Layout)> {
    let layout = scenario_layout(batch, s, run, flat);
    let (metrics, _) = write_run(
        staging,
        &layout,
        &run_output(p, g, (levers, results), same_people_as),
        || scenario_accounts(p, batch, g, s, levers, results, counterfactual),
    )?;
    Ok(((metrics, levers.draws.clone()), layout))
}

/// [`write_scenario`], or when `compact` (a national unit) the tables made from the
/// results first, then the scenario's care added up over segments (exact for everything
/// the accounts read: [`compact_activity`]), then its accounts computed and written, so
/// its care by segment (about 100 MB for real England) is not held while they are. The
/// same bytes; the accounts no longer overlap with the writing.
#[allow(clippy::too_many_arguments)]
fn write_scenario_compacting(
    p: &Prepared,
    batch: &Batch,
    (g, run): Unit,
    s: usize,
    (levers, results, compact): (&Levers, &mut [NeighbourhoodResult], bool),
    counterfactual: &[NeighbourhoodResult],
    same_people_as: Option<&Layout>,
    (staging, flat): (&mut Staging, bool),
) -> Result<(ScenarioRun, Layout)> {
    if !compact {
        return write_scenario(
            p,
            batch,
            (g, run),
            s,
            (levers, results),
            counterfactual,
            same_people_as,
            (staging, flat),
        );
    }
    let layout = scenario_layout(batch, s, run, flat);
    let output = run_output(p, g, (levers, results), same_people_as);
    write_run_results(staging, &layout, &output)?;
    results.iter_mut().for_each(compact_activity);
    // Freed on the workers that simulated it: returned, or the accounts' allocations on
    // this thread would not reuse it.
    release_freed_memory();
    let results = &*results;
    let output = run_output(p, g, (levers, results), same_people_as);
    let (metrics, _) = write_run_accounts(staging, &layout, &output, || {
        scenario_accounts(p, batch, g, s, levers, results, counterfactual)
    })?;
    Ok(((metrics, levers.draws.clone()), layout))
}

/// What a scenario-run of group `g` writes its tables from.
fn run_output<'a>(
    p: &'a Prepared,
    g: usize,
    (levers, results): (&'a Levers, &'a [NeighbourhoodResult]),
    same_people_as: Option<&'a Layout>,
) -> RunOutput<'a> {
    RunOutput {
        geography: &p.geographies[g],
        segments: p.model.segments.ids(),
        results,
        draws: &levers.draws,
        same_people_as,
    }
}

/// Hands memory freed by a large phase back to the system. glibc's allocator keeps freed
/// small blocks in its per-thread arenas for reuse; after a national unit or the one-way
/// analysis that is hundreds of megabytes counted as resident, which the summary's
/// allocations, of other sizes, would not reuse. Elsewhere (other allocators or systems)
/// nothing.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory of the allocator's own to the system;
    // it touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Where scenario `s`'s tables of `run` go: the flat layout of a single run, or its
/// partition of a batch.
fn scenario_layout(batch: &Batch, s: usize, run: u64, flat: bool) -> Layout {
    if flat {
        Layout::Flat
    } else {
        Layout::Partition {
            scenario: batch.scenarios[s].name.clone(),
            run,
        }
    }
}

/// Scenario `s`'s metrics (with its beds, places and staff when it asks for them) and
/// budgets, in group `g`, against the counterfactual.
fn scenario_accounts(
    p: &Prepared,
    batch: &Batch,
    g: usize,
    s: usize,
    levers: &Levers,
    results: &[NeighbourhoodResult],
    counterfactual: &[NeighbourhoodResult],
) -> (Metrics, Budgets) {
    let (geo, scenario) = (&p.geographies[g], &batch.scenarios[s]);
    let (mut metrics, budgets) = compute(
        &p.model,
        &p.datasets,
        &p.weights[g],
        geo,
        scenario,
        levers,
        results,
        counterfactual,
    );
    push_capacity(
        &mut metrics,
        &p.model.activity,
        scenario,
        geo,
        results,
        counterfactual,
        &p.resolved[s].bed_base,
    );
    (metrics, budgets)
}

/// Above this many people a work unit is simulated and written a few scenarios at a time
/// ([`simulate_and_write_unit`]).
const STREAM_ABOVE: u64 = 4_000_000;

/// Scenarios simulated together, all on one population path, above [`STREAM_ABOVE`]
/// people. A scenario's results for real England over ten years are about 230 MB, 100 MB
/// of it its care by segment and the rest its path's census and life tables, which
/// scenarios on one path share. One at a time, with the counterfactual's care added up
/// over segments from the start, keeps the five-scenario comparison near 0.25 GB of
/// results (two at a time, 0.43 GB, took its peak above 1 GiB), for two more simulations
/// of the counterfactual's path than simulating all together (about 15 CPU-s each).
const STREAM_SCENARIOS: usize = 1;

/// Takes each scenario's metrics with its drawn parameters as soon as the scenario is
/// written, with the scenario's index in the batch, so that a national unit's five
/// scenarios' metric rows (about 150 MB each, with an area name per row) are gathered
/// into the summary one by one instead of held together to the unit's end. Scenarios
/// come in the order they are written: by population path, not batch order.
pub type RunSink<'a> = &'a mut dyn FnMut(usize, ScenarioRun) -> Result<()>;

/// What a unit simulated: person-years (each population path's once).
pub struct UnitWritten {
    pub person_years: u64,
}

/// Simulates one work unit and writes its scenarios into `staging`, like
/// [`simulate_unit`] then [`write_unit`], but above [`STREAM_ABOVE`] people a few
/// scenarios at a time ([`STREAM_SCENARIOS`], on one population path), each written and
/// dropped before the next are simulated: the counterfactual comes with the first and is
/// kept with its care added up over segments, all the accounts read of it. A scenario's
/// results do not depend on which others it is simulated with (streams are keyed by
/// neighbourhood, year and purpose, and a scenario's draws by intervention and parameter),
/// so the files are the same bytes as from one plan; only the path of the counterfactual
/// is simulated again for a later chunk on it.
pub fn simulate_and_write_unit(
    p: &Prepared,
    batch: &Batch,
    unit: Unit,
    pool: Option<&rayon::ThreadPool>,
    staging: &mut Staging,
    flat: bool,
    sink: RunSink,
) -> Result<UnitWritten> {
    let stream = p.geographies[unit.0].total_population() > STREAM_ABOVE;
    write_unit_in_chunks(p, batch, unit, pool, (staging, flat), stream, sink)
}

/// [`simulate_and_write_unit`] with the choice made: in chunks of at most
/// [`STREAM_SCENARIOS`] scenarios on one path when `stream`, else all together (public
/// so that tests can show the two write the same bytes).
pub fn write_unit_in_chunks(
    p: &Prepared,
    batch: &Batch,
    unit: Unit,
    pool: Option<&rayon::ThreadPool>,
    (staging, flat): (&mut Staging, bool),
    stream: bool,
    sink: RunSink,
) -> Result<UnitWritten> {
    let (g, run) = unit;
    let geo = &p.geographies[g];
    let (members, levers) = unit_levers(p, batch, unit);
    let config = sim_config(p, batch, g, run);
    let whole = Plan::new(config, levers);
    let chunks = stream_chunks(&whole, stream);
    let simulate = |plan: &Plan| match pool {
        Some(pool) => pool.install(|| simulate_plan_here(&p.model, geo, plan, true, &|| {})),
        None => simulate_plan_here(&p.model, geo, plan, false, &|| {}),
    };
    let mut counterfactual: Vec<NeighbourhoodResult> = Vec::new();
    let mut written: Vec<(usize, Layout)> = Vec::new();
    // Population paths whose person-years are counted.
    let mut counted: Vec<usize> = Vec::new();
    let mut person_years = 0;
    for (c, chunk) in chunks.iter().enumerate() {
        // Plan positions (0: the counterfactual) of this chunk, the counterfactual first.
        let mut at: Vec<usize> = chunk.clone();
        if c == 0 {
            at.insert(0, 0);
        }
        let plan = Plan::new(
            config,
            at.iter()
                .map(|i| whole.scenarios[*i].levers.clone())
                .collect(),
        );
        let mut results = simulate(&plan);
        check_spend(&results)?;
        for (i, r) in at.iter().zip(&results) {
            let path = whole.scenarios[*i].path;
            if !counted.contains(&path) {
                counted.push(path);
                person_years += r.iter().map(NeighbourhoodResult::person_years).sum::<u64>();
            }
        }
        if c == 0 {
            counterfactual = std::mem::take(&mut results[0]);
            // The accounts read only its care by quintile: when streaming, its care by
            // segment (about 100 MB for real England) is dropped before any is written.
            if stream {
                counterfactual.iter_mut().for_each(compact_activity);
            }
        }
        for (i, r) in at.iter().zip(results.iter_mut()) {
            if *i == 0 {
                continue;
            }
            let path = whole.scenarios[*i].path;
            let same_people_as = written.iter().find(|(q, _)| *q == path).map(|(_, l)| l);
            let (levers, s) = (&whole.scenarios[*i].levers, members[*i - 1]);
            let place = (&mut *staging, flat);
            let (scenario_run, layout) = write_scenario_compacting(
                p,
                batch,
                unit,
                s,
                (levers, r, stream),
                &counterfactual,
                same_people_as,
                place,
            )?;
            // Written: its care by segment is needed no more.
            *r = Vec::new();
            sink(members[*i - 1], scenario_run)?;
            written.push((path, layout));
        }
    }
    Ok(UnitWritten { person_years })
}

/// The chunks of plan positions (1.. : the scenarios) a unit is simulated in: all together,
/// or when `stream`, at most [`STREAM_SCENARIOS`] on one population path each, by path.
fn stream_chunks(whole: &Plan, stream: bool) -> Vec<Vec<usize>> {
    let n = whole.scenarios.len();
    if !stream {
        return vec![(1..n).collect()];
    }
    let mut order: Vec<usize> = (1..n).collect();
    order.sort_by_key(|i| whole.scenarios[*i].path);
    let mut out: Vec<Vec<usize>> = Vec::new();
    for i in order {
        match out.last_mut() {
            Some(c)
                if c.len() < STREAM_SCENARIOS
                    && whole.scenarios[c[0]].path == whole.scenarios[i].path =>
            {
                c.push(i)
            }
            _ => out.push(vec![i]),
        }
    }
    if out.is_empty() {
        out.push(Vec::new());
    }
    out
}

/// Where a unit's files go inside an output folder while they are written.
pub fn unit_staging(out: &Path, unit: Unit) -> Result<Staging> {
    Staging::named(out, &format!("g{}-r{}", unit.0, unit.1))
}

/// The least severe segment: where a condition nobody recorded leaves a person, and the
/// reference level of the need formula.
pub fn reference_segment(d: &Datasets) -> usize {
    d.segments
        .iter()
        .enumerate()
        .min_by_key(|(_, s)| s.severity)
        .map_or(0, |(i, _)| i)
}

/// Writes the estimated need formula of every group as `formula_weights.{parquet,csv}`.
pub fn write_formula_weights(p: &Prepared, batch: &Batch, staging: &mut Staging) -> Result<()> {
    let formulas: Vec<(String, &crate::accounts::need_formula::NeedFormula)> = p
        .groups
        .iter()
        .zip(&p.weights)
        .map(|(g, w)| (batch.scenarios[g[0]].name.clone(), &w.estimated))
        .collect();
    write_frame(
        staging,
        &Layout::Flat,
        "formula_weights",
        &formula_weights_frame(&formulas, p.model.segments.ids())?,
    )
}
