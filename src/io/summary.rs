//! The Monte Carlo tables (per-run metrics and drawn parameters; summary, risk and
//! sensitivity) as frames, and read back into typed rows. A name that does not parse back
//! (an unknown metric or level) is an error naming the file, never a silently dropped row.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use polars::prelude::*;

use crate::accounts::metric::Metric;
use crate::accounts::metrics::Metrics;
use crate::accounts::need_formula::{row_id, NeedFormula};
use crate::accounts::one_way::OneWayRow;
use crate::accounts::summary::BudgetTableRow;
use crate::accounts::summary::{RiskRow, SensitivityRow, Stat, SummaryRow, CENTILES};
use crate::core::error::{CapsimError, Result};
use crate::core::level::Level;
use crate::io::read::{
    column_names, floats, ints, parquet_rows, read_on_threads, read_parquet, read_parquet_columns,
    str_column, strings, unexpected,
};
use crate::io::text::Texts;

fn table_err(what: &str, e: PolarsError) -> CapsimError {
    CapsimError::Write {
        path: what.into(),
        reason: e.to_string(),
    }
}

fn bad(path: &Path, column: &str, value: &str) -> CapsimError {
    CapsimError::Write {
        path: path.to_path_buf(),
        reason: format!(
            "unexpected contents: `{value}` in column `{column}` is not known to this capsim"
        ),
    }
}

/// A text column parsed into typed values, each distinct text parsed once: a table
/// repeats a few hundred names over hundreds of thousands of rows. A text that does not
/// parse is an error naming the file and column.
fn parsed<T: Clone>(
    df: &DataFrame,
    path: &Path,
    column: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>> {
    let mut seen: HashMap<&str, T> = HashMap::new();
    str_column(df, path, column)?
        .iter()
        .map(|x| {
            let x = x.unwrap_or_default();
            if let Some(v) = seen.get(x) {
                return Ok(v.clone());
            }
            let v = parse(x).ok_or_else(|| bad(path, column, x))?;
            seen.insert(x, v.clone());
            Ok(v)
        })
        .collect()
}

fn levels(df: &DataFrame, path: &Path) -> Result<Vec<Level>> {
    parsed(df, path, "level", Level::parse)
}

fn metrics_of(df: &DataFrame, path: &Path) -> Result<Vec<Metric>> {
    parsed(df, path, "metric", Metric::parse)
}

/// Reads a run's metrics back.
pub fn read_metrics(path: &Path) -> Result<Metrics> {
    metrics_of_frame(&read_parquet(path)?, path)
}

/// Reads the rows of a run's metrics that `keep` wants.
pub fn read_metrics_where(path: &Path, keep: Keep) -> Result<Metrics> {
    metrics_of_frame(&kept(path, keep, Some("metric"))?, path)
}

fn metrics_of_frame(df: &DataFrame, path: &Path) -> Result<Metrics> {
    let (year, level) = (ints(df, path, "year")?, levels(df, path)?);
    let (area, metric) = (strings(df, path, "area")?, metrics_of(df, path)?);
    let value = floats(df, path, "value")?;
    let mut m = Metrics::default();
    for ((((y, l), a), k), v) in year.into_iter().zip(level).zip(area).zip(metric).zip(value) {
        m.push(y as u32, l, &a, k, v);
    }
    Ok(m)
}

/// Drawn uncertain parameters of one scenario-run as a frame.
pub fn parameters_frame(draws: &[(String, f64)]) -> Result<DataFrame> {
    let names: Vec<&str> = draws.iter().map(|(n, _)| n.as_str()).collect();
    let values: Vec<f64> = draws.iter().map(|(_, v)| *v).collect();
    DataFrame::new_infer_height(vec![
        Column::new("parameter".into(), names),
        Column::new("value".into(), values),
    ])
    .map_err(|e| table_err("(parameters)", e))
}

/// Reads a run's drawn parameters back.
pub fn read_draws(path: &Path) -> Result<Vec<(String, f64)>> {
    let df = read_parquet(path)?;
    Ok(strings(&df, path, "parameter")?
        .into_iter()
        .zip(floats(&df, path, "value")?)
        .collect())
}

/// The columns that key a row of the Monte Carlo tables: scenario, year, level, area.
fn key_columns<'a, R>(
    rows: &'a [R],
    key: impl Fn(&'a R) -> (&'a str, i32, Level, &'a str),
) -> PolarsResult<Vec<Column>> {
    let n = rows.len();
    let (mut scenario, mut level, mut area) = (
        Texts::with_capacity(n),
        Texts::with_capacity(n),
        Texts::with_capacity(n),
    );
    let mut year = Vec::with_capacity(n);
    for k in rows.iter().map(key) {
        scenario.push(k.0);
        year.push(k.1);
        level.push(k.2.id());
        area.push(k.3);
    }
    Ok(vec![
        scenario.column("scenario")?,
        Column::new("year".into(), year),
        level.column("level")?,
        area.column("area")?,
    ])
}

/// Which rows of a summary, per-run metrics or risk table a reader wants, from the row's
/// level, year, the table's last year and its metric name (empty for the risk table).
pub type Keep<'a> = &'a dyn Fn(Level, i32, i32, &str) -> bool;

/// The rows of the Parquet table at `path` that `keep` wants. The columns it decides by
/// (year, level and `metric`) are read first; then each other column is read alone and
/// cut to the kept rows before the next is read, so rows left out are never copied or
/// parsed and the table is never in memory whole (a national summary has 6.7 million
/// rows, most of them a neighbourhood's, and read whole took about 1 GB).
fn kept(path: &Path, keep: Keep, metric: Option<&str>) -> Result<DataFrame> {
    let deciding: Vec<&str> = ["year", "level"].into_iter().chain(metric).collect();
    let df = read_parquet_columns(path, &deciding, None)?;
    let year = ints(&df, path, "year")?;
    let last = year.iter().copied().max().unwrap_or(0);
    let level = str_column(&df, path, "level")?;
    let metric = metric.map(|m| str_column(&df, path, m)).transpose()?;
    let mut wanted: Vec<IdxSize> = Vec::new();
    for (i, l) in level.iter().enumerate() {
        let l = l.unwrap_or_default();
        let l = Level::parse(l).ok_or_else(|| bad(path, "level", l))?;
        let m = metric.and_then(|m| m.get(i)).unwrap_or_default();
        if keep(l, year[i], last, m) {
            wanted.push(i as IdxSize);
        }
    }
    let wanted = IdxCa::from_vec("idx".into(), wanted);
    let err = |e| unexpected(path, e);
    let columns = column_names(path)?
        .iter()
        .map(|name| {
            let whole = if deciding.contains(&name.as_str()) {
                df.column(name).map_err(err)?.clone()
            } else {
                read_parquet_columns(path, &[name], None)?
                    .column(name)
                    .map_err(err)?
                    .clone()
            };
            whole.take(&wanted).map_err(err)
        })
        .collect::<Result<Vec<Column>>>()?;
    DataFrame::new(wanted.len(), columns).map_err(err)
}

/// Reads `summary.parquet` back into typed rows.
pub fn read_summary(path: &Path) -> Result<Vec<SummaryRow>> {
    summary_rows(&read_parquet(path)?, path)
}

/// Reads the rows of `summary.parquet` that `keep` wants.
pub fn read_summary_where(path: &Path, keep: Keep) -> Result<Vec<SummaryRow>> {
    summary_rows(&kept(path, keep, Some("metric"))?, path)
}

fn summary_rows(df: &DataFrame, path: &Path) -> Result<Vec<SummaryRow>> {
    let scenario = strings(df, path, "scenario")?;
    let year = ints(df, path, "year")?;
    let level = levels(df, path)?;
    let area = strings(df, path, "area")?;
    let metric = metrics_of(df, path)?;
    let mean = floats(df, path, "mean")?;
    let cents: Vec<Vec<f64>> = CENTILES
        .iter()
        .map(|(c, _)| floats(df, path, c))
        .collect::<Result<_>>()?;
    let runs = df
        .column("runs")
        .and_then(|c| c.u32().map(|c| c.iter().map(|x| x.unwrap_or(0)).collect()))
        .map_err(|e| bad(path, "runs", &e.to_string()))?;
    let runs: Vec<u32> = runs;
    Ok(scenario
        .into_iter()
        .zip(year)
        .zip(level)
        .zip(area)
        .zip(metric)
        .enumerate()
        .map(
            |(i, ((((scenario, year), level), area), metric))| SummaryRow {
                scenario,
                year,
                level,
                area,
                metric,
                stat: Stat::from_centiles(mean[i], std::array::from_fn(|c| cents[c][i])),
                runs: runs[i],
            },
        )
        .collect())
}

/// Column names of the risk table's numbers, in order.
const RISK_NUMBERS: [&str; 8] = [
    "population",
    "budget",
    "mean_position",
    "systematic",
    "chance_sd",
    "systematic_share",
    "chance_sd_share_of_budget",
    "p_deficit_over_5pct",
];

fn risk_numbers(r: &RiskRow) -> [f64; 8] {
    [
        r.population,
        r.budget,
        r.mean_position,
        r.systematic,
        r.chance_sd,
        r.systematic_share,
        r.chance_sd_share_of_budget,
        r.p_deficit_over_5pct,
    ]
}

/// The risk table.
pub fn risk_frame(rows: &[RiskRow]) -> Result<DataFrame> {
    let mut cols = key_columns(rows, |r| (&r.scenario, r.year, r.level, &r.area))
        .map_err(|e| table_err("(risk)", e))?;
    cols.push(Column::new(
        "formula".into(),
        rows.iter().map(|r| r.formula.as_str()).collect::<Vec<_>>(),
    ));
    let numbers: Vec<[f64; 8]> = rows.iter().map(risk_numbers).collect();
    for (i, name) in RISK_NUMBERS.iter().enumerate() {
        cols.push(Column::new(
            (*name).into(),
            numbers.iter().map(|n| n[i]).collect::<Vec<_>>(),
        ));
    }
    cols.push(Column::new(
        "runs".into(),
        rows.iter().map(|r| r.runs).collect::<Vec<_>>(),
    ));
    DataFrame::new_infer_height(cols).map_err(|e| table_err("(risk)", e))
}

/// Reads the rows of `risk.parquet` that `keep` wants (its metric name is empty).
pub fn read_risk_where(path: &Path, keep: Keep) -> Result<Vec<RiskRow>> {
    let df = kept(path, keep, None)?;
    let scenario = strings(&df, path, "scenario")?;
    let year = ints(&df, path, "year")?;
    let level = levels(&df, path)?;
    let area = strings(&df, path, "area")?;
    let formula = strings(&df, path, "formula")?;
    let n: Vec<Vec<f64>> = RISK_NUMBERS
        .iter()
        .map(|c| floats(&df, path, c))
        .collect::<Result<_>>()?;
    Ok((0..scenario.len())
        .map(|i| RiskRow {
            scenario: scenario[i].clone(),
            year: year[i],
            level: level[i],
            area: area[i].clone(),
            formula: formula[i].clone(),
            population: n[0][i],
            budget: n[1][i],
            mean_position: n[2][i],
            systematic: n[3][i],
            chance_sd: n[4][i],
            systematic_share: n[5][i],
            chance_sd_share_of_budget: n[6][i],
            p_deficit_over_5pct: n[7][i],
            runs: 0,
        })
        .collect())
}

/// The sensitivity table: each uncertain parameter's rank correlations with the outcome
/// over the Monte Carlo runs.
pub fn sensitivity_frame(rows: &[SensitivityRow]) -> Result<DataFrame> {
    DataFrame::new_infer_height(vec![
        Column::new(
            "scenario".into(),
            rows.iter().map(|r| r.scenario.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "parameter".into(),
            rows.iter()
                .map(|r| r.parameter.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "outcome".into(),
            rows.iter().map(|r| r.outcome.name()).collect::<Vec<_>>(),
        ),
        Column::new(
            "spearman".into(),
            rows.iter().map(|r| r.spearman).collect::<Vec<_>>(),
        ),
        Column::new(
            "prcc".into(),
            rows.iter().map(|r| r.prcc).collect::<Vec<_>>(),
        ),
        Column::new(
            "runs".into(),
            rows.iter().map(|r| r.runs).collect::<Vec<_>>(),
        ),
    ])
    .map_err(|e| table_err("(sensitivity)", e))
}

/// Reads `sensitivity.parquet` back. Tables written before PRCC existed read with NaN
/// there; their `outcome` was cumulative net cost, undiscounted.
pub fn read_sensitivity(path: &Path) -> Result<Vec<SensitivityRow>> {
    let df = read_parquet(path)?;
    let scenario = strings(&df, path, "scenario")?;
    let parameter = strings(&df, path, "parameter")?;
    let spearman = floats(&df, path, "spearman")?;
    let n = scenario.len();
    let prcc = match df.column("prcc") {
        Ok(_) => floats(&df, path, "prcc")?,
        Err(_) => vec![f64::NAN; n],
    };
    let outcome = match df.column("outcome") {
        Ok(_) => parsed(&df, path, "outcome", Metric::parse)?,
        Err(_) => vec![Metric::CumulativeNetCost; n],
    };
    Ok((0..n)
        .map(|i| SensitivityRow {
            scenario: scenario[i].clone(),
            parameter: parameter[i].clone(),
            outcome: outcome[i].clone(),
            spearman: spearman[i],
            prcc: prcc[i],
            runs: 0,
        })
        .collect())
}

/// The one-way sensitivity table (the tornado's bars).
pub fn one_way_frame(rows: &[OneWayRow]) -> Result<DataFrame> {
    let f = |g: fn(&OneWayRow) -> f64| rows.iter().map(g).collect::<Vec<f64>>();
    DataFrame::new_infer_height(vec![
        Column::new(
            "scenario".into(),
            rows.iter().map(|r| r.scenario.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "parameter".into(),
            rows.iter()
                .map(|r| r.parameter.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new("base_value".into(), f(|r| r.base_value)),
        Column::new("low_value".into(), f(|r| r.low_value)),
        Column::new("high_value".into(), f(|r| r.high_value)),
        Column::new(
            "outcome".into(),
            rows.iter().map(|r| r.outcome.name()).collect::<Vec<_>>(),
        ),
        Column::new("outcome_base".into(), f(|r| r.outcome_base)),
        Column::new("outcome_low".into(), f(|r| r.outcome_low)),
        Column::new("outcome_high".into(), f(|r| r.outcome_high)),
        Column::new("width".into(), f(OneWayRow::width)),
    ])
    .map_err(|e| table_err("(one_way)", e))
}

/// Reads `one_way.parquet` back.
pub fn read_one_way(path: &Path) -> Result<Vec<OneWayRow>> {
    let df = read_parquet(path)?;
    let scenario = strings(&df, path, "scenario")?;
    let parameter = strings(&df, path, "parameter")?;
    let outcome = parsed(&df, path, "outcome", Metric::parse)?;
    let n: Vec<Vec<f64>> = [
        "base_value",
        "low_value",
        "high_value",
        "outcome_base",
        "outcome_low",
        "outcome_high",
    ]
    .iter()
    .map(|c| floats(&df, path, c))
    .collect::<Result<_>>()?;
    Ok((0..scenario.len())
        .map(|i| OneWayRow {
            scenario: scenario[i].clone(),
            parameter: parameter[i].clone(),
            outcome: outcome[i].clone(),
            base_value: n[0][i],
            low_value: n[1][i],
            high_value: n[2][i],
            outcome_base: n[3][i],
            outcome_low: n[4][i],
            outcome_high: n[5][i],
        })
        .collect())
}

/// (year, age band, sex, segment, people).
pub type PeopleByCell = (i32, String, String, String, f64);

/// People by (year, age band, sex, segment), summed over neighbourhoods and quintiles,
/// from a `population` table.
///
/// Only the five columns it sums are read, a slice of rows at a time, and keys are
/// borrowed until a cell is first seen: the England preset's table has some 14 million
/// rows, which read whole took gigabytes.
pub fn read_population_by_cell(path: &Path) -> Result<Vec<PeopleByCell>> {
    const SLICE: usize = 1 << 20;
    let n = parquet_rows(path)?;
    // Slices summed in parallel and added in order. Each cell still sums its rows in
    // order, from zero, and is added to the total once per slice.
    let slices = read_on_threads(n.div_ceil(SLICE), 0, |k| {
        population_slice(path, k * SLICE, SLICE)
    })?;
    let mut sums: BTreeMap<Key4, f64> = BTreeMap::new();
    for (key, n) in slices.into_iter().flatten() {
        *sums.entry(key).or_default() += n;
    }
    Ok(sums
        .into_iter()
        .map(|((y, b, s, g), n)| (y, b, s, g, n))
        .collect())
}

/// A population cell's key: year, age band, sex, segment.
type Key4 = (i32, String, String, String);

/// The people of each cell among `len` rows of a `population` table from `offset`, in the
/// order of the cells' keys.
fn population_slice(path: &Path, offset: usize, len: usize) -> Result<Vec<(Key4, f64)>> {
    let columns = ["year", "age_band", "sex", "segment", "people"];
    let df = read_parquet_columns(path, &columns, Some((offset, len)))?;
    let year = ints(&df, path, "year")?;
    let (b, s, g) = (
        str_column(&df, path, "age_band")?,
        str_column(&df, path, "sex")?,
        str_column(&df, path, "segment")?,
    );
    let people = df
        .column("people")
        .and_then(|c| c.cast(&DataType::Float64))
        .map_err(|e| bad(path, "people", &e.to_string()))?;
    let people = people
        .f64()
        .map_err(|e| bad(path, "people", &e.to_string()))?;
    // Each row's key as codes into the slice's few distinct years and labels, and the
    // sums in a dense table of them: no hashing of strings per row.
    let (mut ys, mut bs, mut ss, mut gs) = (
        Distinct::default(),
        Distinct::default(),
        Distinct::default(),
        Distinct::default(),
    );
    let codes: Vec<[usize; 4]> = b
        .iter()
        .zip(s.iter())
        .zip(g.iter())
        .enumerate()
        .map(|(i, ((b, s), g))| {
            [
                ys.code(year[i]),
                bs.code(b.unwrap_or_default()),
                ss.code(s.unwrap_or_default()),
                gs.code(g.unwrap_or_default()),
            ]
        })
        .collect();
    let dims = [ys.0.len(), bs.0.len(), ss.0.len(), gs.0.len()];
    let at = |c: &[usize; 4]| ((c[0] * dims[1] + c[1]) * dims[2] + c[2]) * dims[3] + c[3];
    let cells = dims.iter().product();
    let (mut slice, mut seen) = (vec![0.0f64; cells], vec![false; cells]);
    for (c, p) in codes.iter().zip(people.iter()) {
        slice[at(c)] += p.unwrap_or(0.0);
        seen[at(c)] = true;
    }
    let mut out = Vec::new();
    for (y, yv) in ys.0.iter().enumerate() {
        for (b, bv) in bs.0.iter().enumerate() {
            for (s, sv) in ss.0.iter().enumerate() {
                for (g, gv) in gs.0.iter().enumerate() {
                    let i = at(&[y, b, s, g]);
                    if seen[i] {
                        out.push((
                            (*yv, bv.to_string(), sv.to_string(), gv.to_string()),
                            slice[i],
                        ));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The distinct values of a column with few of them, in first-seen order, and the code of
/// the last value looked up.
struct Distinct<T>(Vec<T>, usize);

impl<T> Default for Distinct<T> {
    fn default() -> Self {
        Distinct(Vec::new(), 0)
    }
}

impl<T: PartialEq + Copy> Distinct<T> {
    /// The index of `v` among the values seen, adding it if new. A table's rows repeat
    /// the last value or step to the next one (they run through the cells in order), so
    /// those two are tried first.
    fn code(&mut self, v: T) -> usize {
        let n = self.0.len();
        let next = if self.1 + 1 < n { self.1 + 1 } else { 0 };
        self.1 = if n > 0 && self.0[self.1] == v {
            self.1
        } else if n > 0 && self.0[next] == v {
            next
        } else {
            match self.0.iter().position(|x| *x == v) {
                Some(i) => i,
                None => {
                    self.0.push(v);
                    n
                }
            }
        };
        self.1
    }
}

/// The budget table of `capsim budget`: per place and neighbourhood, the last year's means.
pub fn budget_table_frame(year: i32, formula: &str, rows: &[BudgetTableRow]) -> Result<DataFrame> {
    let col = |j: usize| -> Vec<f64> { rows.iter().map(|r| r.values[j]).collect() };
    DataFrame::new_infer_height(vec![
        Column::new("year".into(), vec![year; rows.len()]),
        Column::new(
            "level".into(),
            rows.iter().map(|r| r.level.id()).collect::<Vec<_>>(),
        ),
        Column::new(
            "area".into(),
            rows.iter().map(|r| r.area.as_str()).collect::<Vec<_>>(),
        ),
        Column::new("formula".into(), vec![formula; rows.len()]),
        Column::new("population".into(), col(0)),
        Column::new("weighted_population".into(), col(1)),
        Column::new("budget_per_head".into(), col(2)),
        Column::new("cash_cost_per_head".into(), col(3)),
        Column::new("position".into(), col(4)),
        Column::new("position_after_risk_share".into(), col(5)),
    ])
    .map_err(|e| table_err("(budget table)", e))
}

/// The estimated need formula's coefficients (pounds per head a year), per group of
/// scenarios and per sector row, with the fit to person cost (R²) and the sample size.
pub fn formula_weights_frame(
    formulas: &[(String, &NeedFormula)],
    segments: &[String],
) -> Result<DataFrame> {
    let (mut group, mut sector, mut term, mut level) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut coefficient, mut person_r2, mut people) = (Vec::new(), Vec::new(), Vec::new());
    for (name, f) in formulas {
        for (r, betas) in f.coefficients.iter().enumerate() {
            for (t, beta) in f.terms.iter().zip(betas) {
                let (kind, lvl) = t.labels(segments);
                group.push(name.clone());
                sector.push(row_id(r));
                term.push(kind);
                level.push(lvl);
                coefficient.push(beta / 100.0);
                person_r2.push(f.person_r2[r]);
                people.push(f.people);
            }
        }
    }
    DataFrame::new_infer_height(vec![
        Column::new("scenario_group".into(), group),
        Column::new("sector".into(), sector),
        Column::new("term".into(), term),
        Column::new("level".into(), level),
        Column::new("coefficient".into(), coefficient),
        Column::new("person_r2".into(), person_r2),
        Column::new("estimation_people".into(), people),
    ])
    .map_err(|e| table_err("(formula weights)", e))
}

/// The fit of the estimated need formula for total cost: (person R², people in the
/// estimation sample), from `formula_weights.parquet`.
pub fn read_formula_fit(path: &Path) -> Result<Option<(f64, u64)>> {
    let df = read_parquet(path)?;
    let sector = strings(&df, path, "sector")?;
    let person = floats(&df, path, "person_r2")?;
    let people = df
        .column("estimation_people")
        .and_then(|c| c.cast(&DataType::Float64))
        .and_then(|c| {
            Ok(c.f64()?
                .iter()
                .map(|x| x.unwrap_or(0.0))
                .collect::<Vec<f64>>())
        })
        .map_err(|e| bad(path, "estimation_people", &e.to_string()))?;
    Ok(sector
        .iter()
        .position(|s| s == "total")
        .map(|i| (person[i], people[i] as u64)))
}

/// One Monte Carlo run's system-level values in its last year: (scenario, run, a value
/// per wanted metric, summed over systems; NaN where absent).
pub type RunValues = (String, u64, Vec<f64>);

/// Reads, for each scenario, every run's last-year system values of `wanted` from the
/// per-run metrics (`metrics/scenario=S/run=K/part-0.parquet`, or a flat `metrics.parquet`
/// for a single run), for charts drawn one point per run.
pub fn read_run_values(
    dir: &Path,
    scenarios: &[String],
    wanted: &[Metric],
) -> Result<Vec<RunValues>> {
    let values = |m: &Metrics| -> Vec<f64> {
        let last = m.year.iter().copied().max().unwrap_or(0);
        wanted
            .iter()
            .map(|w| {
                let picked: Vec<f64> = (0..m.len())
                    .filter(|&i| {
                        m.level[i] == Level::System && m.year[i] == last && m.metric(i) == w
                    })
                    .map(|i| m.value[i])
                    .collect();
                if picked.is_empty() {
                    f64::NAN
                } else {
                    picked.iter().sum()
                }
            })
            .collect()
    };
    // Only the last year's system rows are parsed.
    fn last_system(l: Level, y: i32, last: i32, _: &str) -> bool {
        l == Level::System && y == last
    }
    let keep: Keep = &last_system;
    let flat = dir.join("metrics.parquet");
    if flat.exists() {
        return match scenarios.first() {
            Some(s) => Ok(vec![(
                s.clone(),
                0,
                values(&read_metrics_where(&flat, keep)?),
            )]),
            None => Ok(Vec::new()),
        };
    }
    let mut parts = Vec::new();
    for s in scenarios {
        for run in 0.. {
            let path = dir.join(format!("metrics/scenario={s}/run={run}/part-0.parquet"));
            if !path.exists() {
                break;
            }
            parts.push((s, run, path));
        }
    }
    // One after another: read on rayon's workers, polars' reader took 600 MB for the
    // 400 small files of a 100-run batch, to save a tenth of a second.
    parts
        .into_iter()
        .map(|(s, run, path)| {
            let m = read_metrics_where(&path, &last_system)?;
            Ok((s.clone(), run, values(&m)))
        })
        .collect()
}
