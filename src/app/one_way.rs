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

use crate::accounts::metrics::compute;
use crate::accounts::one_way::{outcomes, rows, OneWayRow, Point, HIGH, LOW};
use crate::app::pipeline::{check_spend, sim_config, Prepared};
use crate::config::batch::Batch;
use crate::core::error::Result;
use crate::engine::levers::{Draws, Levers};
use crate::engine::simulation::{simulate_plan_here, Plan};
use crate::io::summary::one_way_frame;
use crate::io::tables::{write_frame, Layout, Staging};

/// The table's name.
pub const TABLE: &str = "one_way";

/// Scenario simulations per plan, beside its counterfactual: bounds memory (a plan's
/// results are held until its metrics are computed) at the cost of simulating the
/// counterfactual again for every eighth variant.
const CHUNK: usize = 8;

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
    let mut out = Vec::new();
    for s in 0..batch.scenarios.len() {
        let scenario = &batch.scenarios[s];
        if !scenario.evaluation.one_way {
            continue;
        }
        let levers = |vary| {
            Levers::with(
                scenario,
                &p.resolved[s],
                &p.model,
                Draws::OneWay { vary },
            )
        };
        let base = levers(None);
        if base.draws.is_empty() {
            continue;
        }
        let mut variants = vec![base.clone()];
        for (name, _) in &base.draws {
            variants.push(levers(Some((name.as_str(), LOW))));
            variants.push(levers(Some((name.as_str(), HIGH))));
        }
        let points = simulate(p, batch, s, variants, pool)?;
        let ends: Vec<(Point, Point)> = points[1..]
            .chunks(2)
            .map(|e| (e[0].clone(), e[1].clone()))
            .collect();
        out.extend(rows(&scenario.name, &points[0], &ends));
    }
    Ok(out)
}

/// Simulates scenario `s` under each of `variants` from the random numbers of run 0,
/// against the counterfactual, and returns each one's parameter values and outcomes.
fn simulate(
    p: &Prepared,
    batch: &Batch,
    s: usize,
    variants: Vec<Levers>,
    pool: &rayon::ThreadPool,
) -> Result<Vec<Point>> {
    let scenario = &batch.scenarios[s];
    let g = p
        .groups
        .iter()
        .position(|m| m.contains(&s))
        .expect("every scenario is in a group");
    let geo = &p.geographies[g];
    let mut points = Vec::with_capacity(variants.len());
    for chunk in variants.chunks(CHUNK) {
        let levers = std::iter::once(Levers::none())
            .chain(chunk.iter().cloned())
            .collect();
        let plan = Plan::new(sim_config(p, batch, g, 0), levers);
        let results = pool.install(|| simulate_plan_here(&p.model, geo, &plan, true, &|| {}));
        check_spend(&results)?;
        let chunk_points: Vec<Point> = pool.install(|| {
            (1..plan.scenarios.len())
                .into_par_iter()
                .map(|j| {
                    let levers = &plan.scenarios[j].levers;
                    let (metrics, _) = compute(
                        &p.model,
                        &p.datasets,
                        &p.weights[g],
                        geo,
                        scenario,
                        levers,
                        &results[j],
                        &results[0],
                    );
                    Point {
                        draws: levers.draws.clone(),
                        outcomes: outcomes(&metrics, scenario.years as i32),
                    }
                })
                .collect()
        });
        points.extend(chunk_points);
    }
    Ok(points)
}
