//! What the charts are drawn from: the summary, sensitivity, one-way, risk, incremental
//! and ceaf tables and a population table of an output folder, read through `io` into
//! typed rows.

use std::collections::BTreeMap;
use std::path::Path;

use crate::accounts::incremental::{CeafRow, FrontierRow};
use crate::accounts::metric::{FormulaMetric, Metric};
use crate::accounts::one_way::OneWayRow;
use crate::accounts::summary::{RiskRow, SensitivityRow, Stat, SummaryRow};
use crate::core::error::Result;
use crate::core::level::Level;
use crate::io::areas::{
    read_geography, read_published_icbs, AreaRow, PublishedIcb, GEOGRAPHY_TABLE,
    PUBLISHED_ICBS_TABLE,
};
use crate::io::incremental::{read_ceaf, read_incremental};
use crate::io::summary::{
    read_formula_fit, read_one_way, read_population_by_cell, read_risk_where, read_run_values,
    read_sensitivity, read_summary_where, PeopleByCell, RunValues,
};
use crate::model::calibration::{CalibrationMeta, ValidationRow};
use crate::report::headline::Context;

/// (scenario, year, level, area, metric).
type Key = (String, i32, Level, String, Metric);

#[derive(Debug, Default)]
pub struct ReportData {
    /// Scenarios in output order.
    pub scenarios: Vec<String>,
    /// The summary as read, in file order.
    pub rows: Vec<SummaryRow>,
    /// The same, by key.
    pub summary: BTreeMap<Key, Stat>,
    /// The last year of the summary, found once: the maps ask for it per area, and a
    /// scan of every key each time made real England's report quadratic.
    pub(crate) last_year: std::sync::OnceLock<i32>,
    pub sensitivity: Vec<SensitivityRow>,
    /// The one-way table; `None` when the folder has none (a single run, or a folder
    /// written before the table existed).
    pub one_way: Option<Vec<OneWayRow>>,
    pub risk: Vec<RiskRow>,
    /// (year, band, sex, segment, people) of the first scenario's first run, summed.
    pub population: Vec<PeopleByCell>,
    /// Capitation formulas of the first scenario, in configured order.
    pub formulas: Vec<String>,
    /// Fit of the estimated need formula to person cost: (R², people in the estimation
    /// sample).
    pub need_fit: Option<(f64, u64)>,
    /// Per run, the last-year system values of [`RUN_METRICS`], for the scenarios with
    /// interventions.
    pub runs: Vec<RunValues>,
    /// Pounds per QALY of the first scenario's `[evaluation]` (default £20,000).
    pub qaly_threshold: f64,
    /// The first scenario's discounting and envelope growth, for the findings.
    pub context: Context,
    /// The efficiency frontier across the scenarios (`incremental.parquet`), when written.
    pub frontier: Vec<FrontierRow>,
    /// The acceptability frontier and EVPI (`ceaf.parquet`), when written.
    pub ceaf: Vec<CeafRow>,
    /// The simulated neighbourhoods of the first scenario's geography, with codes,
    /// locations and published populations (`geography.parquet`); empty in a folder
    /// written before the table existed.
    pub areas: Vec<AreaRow>,
    /// NHS England's published figures of every ICB (`published_icbs.parquet`), when the
    /// run is of real England.
    pub published_icbs: Vec<PublishedIcb>,
    /// The first scenario's formulas: (name, basis), in configured order.
    pub bases: Vec<(String, String)>,
    /// Each scenario's monthly profile of occupied bed days (`[capacity]
    /// monthly_profile`), by scenario name, for scenarios that set one.
    pub bed_profiles: BTreeMap<String, [f64; 12]>,
    /// The calibration the first scenario's runs used, if any.
    pub calibration: Option<CalibrationReport>,
}

/// The calibration a run used, as the report shows it.
#[derive(Debug, Clone, Default)]
pub struct CalibrationReport {
    /// `calibration.toml` as the scenario named it.
    pub file: String,
    /// Its metadata; `None` if it could not be read when the report was drawn.
    pub meta: Option<CalibrationMeta>,
    /// Its held-out area-years.
    pub validation: Vec<ValidationRow>,
}

/// The calibration the first scenario names, read from its folder.
fn calibration_of(dir: &Path) -> Option<CalibrationReport> {
    let file = first_scenario(dir)?["calibration"].as_str()?.to_string();
    let path = Path::new(&file);
    let meta = crate::io::calibration::read(path).ok().map(|c| c.meta);
    let validation = path
        .parent()
        .and_then(|p| crate::io::calibration::read_validation(p).ok())
        .unwrap_or_default();
    Some(CalibrationReport {
        file,
        meta,
        validation,
    })
}

/// The headline's context (discounting, envelope growth) of an output folder, from its
/// first scenario's settings; empty when they cannot be read.
pub fn context_of(dir: &Path) -> Context {
    first_scenario(dir)
        .map(|s| Context::of_scenario(&s))
        .unwrap_or_default()
}

/// The metrics read run by run: discounted net cost and discounted QALYs gained.
pub const RUN_METRICS: [Metric; 2] = [
    Metric::DiscountedCumulativeNetCost,
    Metric::DiscountedQalysGained,
];

/// The first scenario's settings as written in `batch.json` or `run.json`.
fn first_scenario(dir: &Path) -> Option<serde_json::Value> {
    let read = |name: &str| -> Option<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).ok()?).ok()
    };
    read("batch.json")
        .map(|v| v["batch"]["scenarios"][0].clone())
        .or_else(|| read("run.json").map(|v| v["scenario"].clone()))
}

/// The first scenario's formulas as (name, basis), from `batch.json` or `run.json`.
fn bases_of(dir: &Path) -> Vec<(String, String)> {
    first_scenario(dir)
        .and_then(|s| s["capitation"]["formula"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|f| {
            let basis = f["basis"].as_str()?;
            let name = f["name"].as_str().unwrap_or(basis);
            Some((name.to_string(), basis.to_string()))
        })
        .collect()
}

/// The monthly bed-day profiles scenarios set (`[capacity] monthly_profile`), from
/// `batch.json` or `run.json`.
fn bed_profiles_of(dir: &Path) -> BTreeMap<String, [f64; 12]> {
    let read = |name: &str| -> Option<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).ok()?).ok()
    };
    let scenarios: Vec<serde_json::Value> = read("batch.json")
        .and_then(|v| v["batch"]["scenarios"].as_array().cloned())
        .or_else(|| read("run.json").map(|v| vec![v["scenario"].clone()]))
        .unwrap_or_default();
    scenarios
        .iter()
        .filter_map(|s| {
            let name = s["name"].as_str()?.to_string();
            let months: Vec<f64> = s["capacity"]["monthly_profile"]
                .as_array()?
                .iter()
                .filter_map(|x| x.as_f64())
                .collect();
            Some((name, months.try_into().ok()?))
        })
        .collect()
}

/// The first scenario's formula names, from `batch.json` or `run.json`.
fn formulas_of(dir: &Path) -> Vec<String> {
    first_scenario(dir)
        .and_then(|s| s["capitation"]["formula"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|f| {
            f["name"]
                .as_str()
                .or_else(|| f["basis"].as_str())
                .map(String::from)
        })
        .collect()
}

/// The summary rows the report draws: every system-level and national row, and per
/// neighbourhood only the few metrics of the per-area charts in their first and last
/// years. A national summary has hundreds of thousands of rows per neighbourhood and
/// place that no chart reads.
fn drawn(level: Level, year: i32, last: i32, metric: &str) -> bool {
    match level {
        Level::System | Level::England | Level::ImdQuintile => true,
        Level::Neighbourhood => {
            (year == 1 || year == last)
                && (matches!(metric, "population" | "care_spend" | "cash_cost_per_head")
                    || metric.starts_with("budget_per_head:")
                    || metric.starts_with("weighted_population:")
                    || metric.starts_with("budget:")
                    || metric.starts_with("position:"))
        }
        // The validation and published-against-estimated tables compare places.
        Level::Place => {
            (year == 1 || year == last)
                && (metric == "population"
                    || metric.starts_with("budget:")
                    || metric.starts_with("weighted_population:"))
        }
        Level::Pool => false,
    }
}

impl ReportData {
    pub fn load(dir: &Path) -> Result<Self> {
        let rows = read_summary_where(&dir.join("summary.parquet"), &drawn)?;
        let mut d = ReportData::default();
        for r in &rows {
            if !d.scenarios.contains(&r.scenario) {
                d.scenarios.push(r.scenario.clone());
            }
            d.summary.insert(
                (
                    r.scenario.clone(),
                    r.year,
                    r.level,
                    r.area.clone(),
                    r.metric.clone(),
                ),
                r.stat,
            );
        }
        d.rows = rows;
        d.context = context_of(dir);
        let path = dir.join("sensitivity.parquet");
        if path.exists() {
            d.sensitivity = read_sensitivity(&path)?;
        }
        let path = dir.join("one_way.parquet");
        if path.exists() {
            d.one_way = Some(read_one_way(&path)?);
        }
        let path = dir.join("risk.parquet");
        if path.exists() {
            // The charts and the systematic share read the last year's neighbourhoods.
            d.risk = read_risk_where(&path, &|l, y, last, _| {
                l == Level::Neighbourhood && y == last
            })?;
        }
        d.formulas = formulas_of(dir);
        d.bases = bases_of(dir);
        let path = dir.join(format!("{GEOGRAPHY_TABLE}.parquet"));
        if path.exists() {
            let first = d.scenarios.first().cloned().unwrap_or_default();
            let rows = read_geography(&path)?;
            // The first scenario's geography: its group's rows (named by the group's first
            // scenario, which is the output's first).
            let group = rows.first().map(|r| r.scenario.clone()).unwrap_or(first);
            d.areas = rows.into_iter().filter(|r| r.scenario == group).collect();
        }
        let path = dir.join(format!("{PUBLISHED_ICBS_TABLE}.parquet"));
        if path.exists() {
            d.published_icbs = read_published_icbs(&path)?;
        }
        d.bed_profiles = bed_profiles_of(dir);
        d.calibration = calibration_of(dir);
        d.qaly_threshold = first_scenario(dir)
            .and_then(|s| s["evaluation"]["qaly_threshold"].as_f64())
            .unwrap_or(20_000.0);
        d.runs = read_run_values(dir, &d.with_interventions(), &RUN_METRICS)?;
        let path = dir.join("incremental.parquet");
        if path.exists() {
            d.frontier = read_incremental(&path)?;
        }
        let path = dir.join("ceaf.parquet");
        if path.exists() {
            d.ceaf = read_ceaf(&path)?;
        }
        let path = dir.join("formula_weights.parquet");
        if path.exists() {
            d.need_fit = read_formula_fit(&path)?;
        }
        let first = d.scenarios.first().cloned().unwrap_or_default();
        let flat = dir.join("population.parquet");
        let hive = dir.join(format!("population/scenario={first}/run=0/part-0.parquet"));
        let path = if flat.exists() { flat } else { hive };
        if path.exists() {
            d.population = read_population_by_cell(&path)?;
        }
        Ok(d)
    }

    pub fn last_year(&self) -> i32 {
        *self
            .last_year
            .get_or_init(|| self.summary.keys().map(|k| k.1).max().unwrap_or(1))
    }

    /// The level and area the whole-population charts show: England when the output has
    /// several systems, else the (first) system.
    pub fn top(&self) -> (Level, String) {
        let find = |l: Level| {
            self.summary
                .keys()
                .find(|k| k.2 == l)
                .map(|k| (l, k.3.clone()))
        };
        find(Level::England)
            .or_else(|| find(Level::System))
            .unwrap_or((Level::System, String::new()))
    }

    /// The systems of the output, in order.
    pub fn systems(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for k in self.summary.keys().filter(|k| k.2 == Level::System) {
            if !v.contains(&k.3) {
                v.push(k.3.clone());
            }
        }
        v
    }

    pub fn get(
        &self,
        scenario: &str,
        year: i32,
        level: Level,
        area: &str,
        metric: &Metric,
    ) -> Option<Stat> {
        self.summary
            .get(&(
                scenario.to_string(),
                year,
                level,
                area.to_string(),
                metric.clone(),
            ))
            .copied()
    }

    /// A metric of the whole population ([`Self::top`]) over the years.
    pub fn system_series(&self, scenario: &str, metric: &Metric) -> Vec<(i32, Stat)> {
        let (level, area) = self.top();
        self.series(scenario, level, &area, metric)
    }

    /// A metric of one area over the years.
    pub fn series(
        &self,
        scenario: &str,
        level: Level,
        area: &str,
        metric: &Metric,
    ) -> Vec<(i32, Stat)> {
        (1..=self.last_year())
            .filter_map(|y| self.get(scenario, y, level, area, metric).map(|s| (y, s)))
            .collect()
    }

    /// The headline (first) formula's name.
    pub fn formula(&self) -> Option<String> {
        let first = self.scenarios.first()?;
        let (level, sys) = self.top();
        let has = |f: &str| {
            self.get(
                first,
                1,
                level,
                &sys,
                &Metric::formula(FormulaMetric::Budget, f),
            )
            .is_some()
        };
        if let Some(f) = self.formulas.first().filter(|f| has(f)) {
            return Some(f.clone());
        }
        self.summary
            .keys()
            .filter(|k| k.0 == *first && k.1 == 1 && k.2 == Level::System)
            .find_map(|k| match &k.4 {
                Metric::Formula(FormulaMetric::Budget, f) => Some(f.clone()),
                _ => None,
            })
    }

    /// Scenarios with interventions (they have a net cost).
    pub fn with_interventions(&self) -> Vec<String> {
        self.scenarios
            .iter()
            .filter(|s| !self.system_series(s, &Metric::NetCost).is_empty())
            .cloned()
            .collect()
    }

    /// The share of the spread of neighbourhood positions (relative to the system's, last
    /// year, headline formula, first scenario) that is systematic: the sum of squared
    /// mean positions over the sum of squared means and variances.
    pub fn systematic_share(&self) -> Option<f64> {
        let f = self.formula()?;
        let s = self.scenarios.first()?;
        let last = self.last_year();
        let (mut sys, mut all) = (0.0, 0.0);
        for r in &self.risk {
            if r.scenario == *s
                && r.year == last
                && r.level == Level::Neighbourhood
                && r.formula == f
            {
                sys += r.systematic * r.systematic;
                all += r.systematic * r.systematic + r.chance_sd * r.chance_sd;
            }
        }
        (all > 0.0).then(|| sys / all)
    }

    pub fn baseline(&self) -> Option<String> {
        let with = self.with_interventions();
        self.scenarios.iter().find(|s| !with.contains(s)).cloned()
    }
}
