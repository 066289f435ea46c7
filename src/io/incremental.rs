//! The incremental analysis's tables as frames, and read back: `incremental` (the
//! efficiency frontier, one row per option) and `ceaf` (the acceptability frontier and
//! EVPI, one row per threshold and option). A missing number (an ICER off the frontier)
//! is a null, an empty cell in CSV.

use std::path::Path;

use polars::prelude::*;

use crate::accounts::incremental::{CeafRow, FrontierRow, Status};
use crate::core::error::{CapsimError, Result};
use crate::io::read::{floats, read_parquet, strings};

fn table_err(what: &str, e: PolarsError) -> CapsimError {
    CapsimError::Write {
        path: what.into(),
        reason: e.to_string(),
    }
}

fn bad(path: &Path, column: &str, e: impl std::fmt::Display) -> CapsimError {
    CapsimError::Write {
        path: path.to_path_buf(),
        reason: format!("unexpected contents in column `{column}`: {e}"),
    }
}

/// Non-finite numbers as nulls.
fn nullable(v: impl Iterator<Item = Option<f64>>) -> Vec<Option<f64>> {
    v.map(|x| x.filter(|x| x.is_finite())).collect()
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// The `incremental` table: option, mean_cost, mean_qalys, incremental_cost,
/// incremental_qalys, icer, status, on_frontier, note, runs.
pub fn incremental_frame(rows: &[FrontierRow]) -> Result<DataFrame> {
    let num = |f: fn(&FrontierRow) -> Option<f64>| nullable(rows.iter().map(f));
    DataFrame::new_infer_height(vec![
        Column::new(
            "option".into(),
            rows.iter().map(|r| r.option.as_str()).collect::<Vec<_>>(),
        ),
        Column::new("mean_cost".into(), num(|r| Some(r.mean_cost))),
        Column::new("mean_qalys".into(), num(|r| Some(r.mean_qalys))),
        Column::new("incremental_cost".into(), num(|r| r.incremental_cost)),
        Column::new("incremental_qalys".into(), num(|r| r.incremental_qalys)),
        Column::new("icer".into(), num(|r| r.icer)),
        Column::new(
            "status".into(),
            rows.iter().map(|r| r.status.id()).collect::<Vec<_>>(),
        ),
        Column::new(
            "on_frontier".into(),
            rows.iter()
                .map(FrontierRow::on_frontier)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "note".into(),
            rows.iter().map(|r| r.note.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "runs".into(),
            rows.iter().map(|r| r.runs).collect::<Vec<_>>(),
        ),
    ])
    .map_err(|e| table_err("(incremental)", e))
}

fn runs_of(df: &DataFrame, path: &Path) -> Result<Vec<u32>> {
    df.column("runs")
        .and_then(|c| c.u32().map(|c| c.iter().map(|x| x.unwrap_or(0)).collect()))
        .map_err(|e| bad(path, "runs", e))
}

/// Reads `incremental.parquet` back.
pub fn read_incremental(path: &Path) -> Result<Vec<FrontierRow>> {
    let df = read_parquet(path)?;
    let option = strings(&df, path, "option")?;
    let col = |name: &str| floats(&df, path, name);
    let (mean_cost, mean_qalys) = (col("mean_cost")?, col("mean_qalys")?);
    let (inc_cost, inc_qalys, icer) = (
        col("incremental_cost")?,
        col("incremental_qalys")?,
        col("icer")?,
    );
    let status = strings(&df, path, "status")?
        .iter()
        .map(|s| Status::parse(s).ok_or_else(|| bad(path, "status", format!("`{s}`"))))
        .collect::<Result<Vec<_>>>()?;
    let note = strings(&df, path, "note")?;
    let runs = runs_of(&df, path)?;
    Ok((0..option.len())
        .map(|i| FrontierRow {
            option: option[i].clone(),
            mean_cost: mean_cost[i],
            mean_qalys: mean_qalys[i],
            incremental_cost: finite(inc_cost[i]),
            incremental_qalys: finite(inc_qalys[i]),
            icer: finite(icer[i]),
            status: status[i],
            note: note[i].clone(),
            runs: runs[i],
        })
        .collect())
}

/// The `ceaf` table: threshold, best_option, prob_best, evpi_per_person, evpi_population,
/// option, option_prob_best, option_mean_nmb, runs.
pub fn ceaf_frame(rows: &[CeafRow]) -> Result<DataFrame> {
    let num = |f: fn(&CeafRow) -> f64| nullable(rows.iter().map(|r| Some(f(r))));
    let text = |f: fn(&CeafRow) -> &str| rows.iter().map(f).collect::<Vec<_>>();
    DataFrame::new_infer_height(vec![
        Column::new("threshold".into(), num(|r| r.threshold)),
        Column::new("best_option".into(), text(|r| &r.best_option)),
        Column::new("prob_best".into(), num(|r| r.prob_best)),
        Column::new("evpi_per_person".into(), num(|r| r.evpi_per_person)),
        Column::new("evpi_population".into(), num(|r| r.evpi_population)),
        Column::new("option".into(), text(|r| &r.option)),
        Column::new("option_prob_best".into(), num(|r| r.option_prob_best)),
        Column::new("option_mean_nmb".into(), num(|r| r.option_mean_nmb)),
        Column::new(
            "runs".into(),
            rows.iter().map(|r| r.runs).collect::<Vec<_>>(),
        ),
    ])
    .map_err(|e| table_err("(ceaf)", e))
}

/// Reads `ceaf.parquet` back.
pub fn read_ceaf(path: &Path) -> Result<Vec<CeafRow>> {
    let df = read_parquet(path)?;
    let col = |name: &str| floats(&df, path, name);
    let (threshold, prob_best, per_person, population) = (
        col("threshold")?,
        col("prob_best")?,
        col("evpi_per_person")?,
        col("evpi_population")?,
    );
    let (option_prob, option_nmb) = (col("option_prob_best")?, col("option_mean_nmb")?);
    let best = strings(&df, path, "best_option")?;
    let option = strings(&df, path, "option")?;
    let runs = runs_of(&df, path)?;
    Ok((0..option.len())
        .map(|i| CeafRow {
            threshold: threshold[i],
            best_option: best[i].clone(),
            prob_best: prob_best[i],
            evpi_per_person: per_person[i],
            evpi_population: population[i],
            option: option[i].clone(),
            option_prob_best: option_prob[i],
            option_mean_nmb: option_nmb[i],
            runs: runs[i],
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::incremental::{analyse, RunOutcome, ScenarioRuns};
    use crate::io::tables::{write_frame, Layout, Staging};

    /// Both tables written and read back give the rows they were made from, nulls and all.
    #[test]
    fn tables_round_trip() {
        let run = |c: f64, e: f64| RunOutcome {
            cost: Some(c),
            qalys: Some(e),
            population: Some(100.0),
        };
        let base = [RunOutcome {
            population: Some(100.0),
            ..Default::default()
        }; 2];
        let (x, y) = ([run(10.0, 1.0), run(30.0, 1.0)], [run(50.0, 0.5); 2]);
        let inc = analyse(
            &[
                ScenarioRuns {
                    name: "base",
                    group: 0,
                    runs: &base,
                },
                ScenarioRuns {
                    name: "x",
                    group: 0,
                    runs: &x,
                },
                ScenarioRuns {
                    name: "y",
                    group: 0,
                    runs: &y,
                },
            ],
            &[0.0, 20_000.0],
        );
        let tmp = tempfile::tempdir().unwrap();
        let mut staging = Staging::named(tmp.path(), "t").unwrap();
        write_frame(
            &mut staging,
            &Layout::Flat,
            "incremental",
            &incremental_frame(&inc.frontier).unwrap(),
        )
        .unwrap();
        write_frame(
            &mut staging,
            &Layout::Flat,
            "ceaf",
            &ceaf_frame(&inc.ceaf).unwrap(),
        )
        .unwrap();
        staging.commit().unwrap();
        let back = read_incremental(&tmp.path().join("incremental.parquet")).unwrap();
        assert_eq!(back, inc.frontier);
        assert_eq!(back[2].status, Status::Dominated);
        assert_eq!(
            read_ceaf(&tmp.path().join("ceaf.parquet")).unwrap(),
            inc.ceaf
        );
    }
}
