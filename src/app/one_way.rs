//! The one-way sensitivity analysis of a batch (`one_way.{parquet,csv}`, the tornado):
//! for each scenario with uncertain parameters, its base case (every parameter at its
//! median) and each parameter at its 10th and 90th centile with the rest at the base
//! case, simulated from the random numbers of run 0 against the same counterfactual
//! ([`crate::accounts::one_way`] says what the rows hold).
//!
//! It is deterministic and depends only on the batch, so it is computed once per batch
//! folder, by the unsharded call or by shard 0, and written with its own staging folder:
//! present means complete, a resumed batch skips it, and `merge` copies it like the
//! formula weights. A scenario with `[evaluation] one_way = false` is left out.

use std::path::Path;

use rayon::prelude::*;

use crate::accounts::metrics::compute_top;
use crate::accounts::one_way::{outcomes, rows, OneWayRow, Point, HIGH, LOW};
use crate::app::pipeline::{check_spend, sim_config, Prepared};
use crate::config::batch::Batch;
use crate::core::error::Result;
use crate::engine::levers::{DemographicLevers, Draws, Levers};
use crate::engine::simulation::{
    compact_activity, simulate_plan_compact, NeighbourhoodResult, Plan,
};
use crate::io::summary::one_way_frame;
use crate::io::tables::{write_frame, Layout, Staging};

/// The table's name.
pub const TABLE: &str = "one_way";

/// The run whose random numbers every simulation of the analysis uses.
pub const RUN: u64 = 0;

/// Simulations per plan at most. A plan holds each simulation's results, with their care's
/// segments added up ([`compact_activity`]: about 12 kB a neighbourhood, 18 MB for real
/// England), until their metrics are computed, plus one copy of each population path's
/// census and life tables (about 80 kB a neighbourhood, 130 MB for real England). A path
/// shared by more variants than this is simulated again for each chunk.
const CHUNK: usize = 16;

/// Above this many people a plan holds [`LARGE_CHUNK`] simulations on one population path
/// at most, so the analysis of real England holds about 0.5 GB of results at its peak.
const SMALL: u64 = 4_000_000;

/// Simulations per plan above [`SMALL`] people.
const LARGE_CHUNK: usize = 8;

/// The plans of group `g`: `order` (variants sorted by population path) cut into chunks of
/// at most [`CHUNK`] variants, and above [`SMALL`] people at most [`LARGE_CHUNK`] variants
/// on one path each.
fn chunks(p: &Prepared, g: usize, order: &[usize], path_of: &[usize]) -> Vec<Vec<usize>> {
    let large = p.geographies[g].total_population() > SMALL;
    let (most, one_path) = if large {
        (LARGE_CHUNK, true)
    } else {
        (CHUNK, false)
    };
    let mut out: Vec<Vec<usize>> = Vec::new();
    for &i in order {
        match out.last_mut() {
            Some(c) if c.len() < most && !(one_path && path_of[c[0]] != path_of[i]) => c.push(i),
            _ => out.push(vec![i]),
        }
    }
    out
}

/// True when `out` holds the one-way table already.
pub fn written(out: &Path) -> bool {
    out.join(format!("{TABLE}.parquet")).exists()
}

/// Computes the one-way table of `batch` and writes it into `out` (empty when no
/// scenario has uncertain parameters), on `pool`.
pub fn write_one_way(
    p: &Prepared,
    batch: &Batch,
    out: &Path,
    pool: &rayon::ThreadPool,
) -> Result<()> {
    let rows = one_way(p, batch, pool)?;
    let mut staging = Staging::named(out, "one-way")?;
    write_frame(&mut staging, &Layout::Flat, TABLE, &one_way_frame(&rows)?)?;
    staging.commit()
}

/// The one-way rows of every scenario of the batch that has uncertain parameters, in
/// batch order.
pub fn one_way(p: &Prepared, batch: &Batch, pool: &rayon::ThreadPool) -> Result<Vec<OneWayRow>> {
    let mut by_scenario: Vec<Vec<OneWayRow>> = vec![Vec::new(); batch.scenarios.len()];
    for (g, members) in p.groups.iter().enumerate() {
        // The group's counterfactual, simulated once when a scenario first needs it.
        let mut counterfactual: Option<Vec<NeighbourhoodResult>> = None;
        for &s in members {
            let scenario = &batch.scenarios[s];
            if !scenario.evaluation.one_way {
                continue;
            }
            let levers =
                |vary| Levers::with(scenario, &p.resolved[s], &p.model, Draws::OneWay { vary });
            let base = levers(None);
            if base.draws.is_empty() {
                continue;
            }
            let mut variants = vec![base.clone()];
            for (name, _) in &base.draws {
                variants.push(levers(Some((name.as_str(), LOW))));
                variants.push(levers(Some((name.as_str(), HIGH))));
            }
            let cf = match &mut counterfactual {
                Some(cf) => cf,
                none => {
                    let plan = Plan::new(sim_config(p, batch, g, RUN), vec![Levers::none()]);
                    let mut r = pool.install(|| {
                        simulate_plan_compact(
                            &p.model,
                            &p.geographies[g],
                            &plan,
                            true,
                            &|| {},
                            &compact_activity,
                        )
                    });
                    none.insert(r.remove(0))
                }
            };
            let points = simulate(p, batch, (g, s), cf, variants, pool)?;
            let ends: Vec<(Point, Point)> = points[1..]
                .chunks(2)
                .map(|e| (e[0].clone(), e[1].clone()))
                .collect();
            by_scenario[s] = rows(&scenario.name, &points[0], &ends);
        }
    }
    Ok(by_scenario.into_iter().flatten().collect())
}

/// Simulates scenario `s` of group `g` under each of `variants` from the random numbers of
/// [`RUN`], and returns each one's parameter values and outcomes against `counterfactual`.
/// Variants are simulated a few at a time ([`chunks`]), those on the same population path together
/// (most parameters leave the population alone, so one path serves a whole chunk).
fn simulate(
    p: &Prepared,
    batch: &Batch,
    (g, s): (usize, usize),
    counterfactual: &[NeighbourhoodResult],
    variants: Vec<Levers>,
    pool: &rayon::ThreadPool,
) -> Result<Vec<Point>> {
    let scenario = &batch.scenarios[s];
    let geo = &p.geographies[g];
    let mut paths: Vec<DemographicLevers> = Vec::new();
    let mut path_of = Vec::with_capacity(variants.len());
    for v in &variants {
        let d = v.demographic();
        path_of.push(paths.iter().position(|x| *x == d).unwrap_or_else(|| {
            paths.push(d);
            paths.len() - 1
        }));
    }
    let mut order: Vec<usize> = (0..variants.len()).collect();
    order.sort_by_key(|i| path_of[*i]);
    let mut points: Vec<Option<Point>> = vec![None; variants.len()];
    for chunk in chunks(p, g, &order, &path_of) {
        let levers = chunk.iter().map(|i| variants[*i].clone()).collect();
        let plan = Plan::new(sim_config(p, batch, g, RUN), levers);
        let results = pool.install(|| {
            simulate_plan_compact(&p.model, geo, &plan, true, &|| {}, &compact_activity)
        });
        check_spend(&results)?;
        let done: Vec<Point> = pool.install(|| {
            (0..plan.scenarios.len())
                .into_par_iter()
                .map(|j| {
                    let levers = &plan.scenarios[j].levers;
                    let metrics = compute_top(
                        &p.model,
                        &p.datasets,
                        geo,
                        scenario,
                        levers,
                        &results[j],
                        counterfactual,
                    );
                    Point {
                        draws: levers.draws.clone(),
                        outcomes: outcomes(&metrics, scenario.years as i32),
                    }
                })
                .collect()
        });
        for (i, point) in chunk.iter().zip(done) {
            points[*i] = Some(point);
        }
    }
    Ok(points
        .into_iter()
        .map(|x| x.expect("every variant simulated"))
        .collect())
}
