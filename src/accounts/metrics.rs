//! One run's results as tidy metrics, per year and level (system, place, neighbourhood,
//! and deprivation quintile of the whole population): activity, spend, intervention costs,
//! and the comparison with the counterfactual (the same run without interventions, drawn
//! from the same random numbers). Care is drawn per (segment, quintile) and deaths and
//! births are counted per quintile, so quintile results are summed, not apportioned, and
//! add up to the totals exactly.
//!
//! Quantities that add up (people, counts, pence) are summed from neighbourhoods to places
//! and systems; ratios (return on investment, break-even) are formed after summing. Money
//! is summed in integer pence and written in pounds.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

use foldhash::fast::FixedState;

use crate::accounts::capitation::{budgets, BudgetRow, Budgets, Weights};
use crate::accounts::costs::Costs;
use crate::accounts::life::life_expectancy;
use crate::accounts::metric::{FormulaMetric::*, Gap, Metric};
use crate::config::scenario::Scenario;
use crate::core::care::{Sector, Setting, N_SECTORS, N_SETTINGS};
use crate::core::dims::{n_cells, N_BANDS, N_IMD, N_SEX};
use crate::core::level::{Level, ENGLAND};
use crate::core::money::pounds;
use crate::data::datasets::Datasets;
use crate::data::geography::Geography;
use crate::engine::levers::Levers;
use crate::engine::simulation::{LifeYear, NeighbourhoodResult};
use crate::model::Model;

/// Long-format metrics of one scenario-run.
///
/// Areas and metrics are held once each, rows keeping codes into them: real England's
/// comparison has 1.3 million rows a scenario over about 3,000 areas and 300 metrics, and
/// a name and a [`Metric`] (with its formula's name) held per row were 150 MB and 60 MB
/// of it, the metrics' names an allocation each.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    pub year: Vec<i32>,
    pub level: Vec<Level>,
    area: Vec<u32>,
    areas: Coded<String>,
    metric: Vec<u32>,
    metrics: Coded<Metric>,
    pub value: Vec<f64>,
}

/// Rows are equal when each row's year, level, area, metric and value are: the codes are
/// how the rows were written down, not what they say.
impl PartialEq for Metrics {
    fn eq(&self, o: &Metrics) -> bool {
        self.len() == o.len()
            && (0..self.len()).all(|i| {
                (
                    self.year[i],
                    self.level[i],
                    self.area(i),
                    self.metric(i),
                    self.value[i],
                ) == (o.year[i], o.level[i], o.area(i), o.metric(i), o.value[i])
            })
    }
}

/// The distinct values of a column (areas, metrics, metric names), each held once, coded
/// in order of first appearance.
#[derive(Debug, Clone)]
pub(crate) struct Coded<T> {
    pub(crate) values: Vec<T>,
    pub(crate) codes: HashMap<T, u32, FixedState>,
}

impl<T> Default for Coded<T> {
    fn default() -> Self {
        Coded {
            values: Vec::new(),
            codes: HashMap::default(),
        }
    }
}

/// Each code's rank in its values' sorted order (codes index `values`).
pub(crate) fn code_ranks<T: Ord>(values: &[T]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..values.len() as u32).collect();
    order.sort_unstable_by(|a, b| values[*a as usize].cmp(&values[*b as usize]));
    let mut rank = vec![0; order.len()];
    for (r, c) in order.iter().enumerate() {
        rank[*c as usize] = r as u32;
    }
    rank
}

impl<T: Hash + Eq + Clone> Coded<T> {
    pub(crate) fn code<Q>(&mut self, v: &Q) -> u32
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = T> + ?Sized,
    {
        // Rows come area by area, so the newest area is the likeliest.
        if self.values.last().is_some_and(|l| l.borrow() == v) {
            return (self.values.len() - 1) as u32;
        }
        if let Some(c) = self.codes.get(v) {
            return *c;
        }
        let c = u32::try_from(self.values.len()).expect("fewer than 4 billion values");
        self.values.push(v.to_owned());
        self.codes.insert(v.to_owned(), c);
        c
    }
}

impl Metrics {
    pub fn push(&mut self, year: u32, level: Level, area: &str, metric: Metric, value: f64) {
        self.year.push(year as i32);
        self.level.push(level);
        let code = self.areas.code(area);
        self.area.push(code);
        let code = self.metrics.code(&metric);
        self.metric.push(code);
        self.value.push(value);
    }

    /// The area of row `i`.
    pub fn area(&self, i: usize) -> &str {
        &self.areas.values[self.area[i] as usize]
    }

    /// The distinct areas of these rows, by code.
    pub fn areas(&self) -> &[String] {
        &self.areas.values
    }

    /// The code of row `i`'s area: rows of one area share it, within these metrics.
    pub fn area_code(&self, i: usize) -> u32 {
        self.area[i]
    }

    /// The metric of row `i`.
    pub fn metric(&self, i: usize) -> &Metric {
        &self.metrics.values[self.metric[i] as usize]
    }

    /// The code of row `i`'s metric, within these metrics: an index into
    /// [`Metrics::metrics`].
    pub fn metric_code(&self, i: usize) -> u32 {
        self.metric[i]
    }

    /// The distinct metrics of these rows, by code.
    pub fn metrics(&self) -> &[Metric] {
        &self.metrics.values
    }

    pub fn len(&self) -> usize {
        self.value.len()
    }

    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
}

/// Additive quantities of one area-year.
#[derive(Debug, Clone, Default)]
struct Sums {
    population: u64,
    cf_population: u64,
    births: u64,
    deaths: u64,
    count: [u64; N_SETTINGS],
    sector_spend: [i64; N_SECTORS],
    enrolled: f64,
    funding_shift: i64,
    cf_admissions: u64,
    cf_bed_days: u64,
    cf_deaths: u64,
    /// Care spend by setting (pence), scenario and counterfactual.
    setting_pence: [i64; N_SETTINGS],
    cf_setting_pence: [i64; N_SETTINGS],
    /// Programme running and set-up costs, and fixed costs of avoided activity still paid.
    programme: i64,
    setup: i64,
    retained: i64,
    /// Person-years lived and quality-adjusted life years (less those lost to emergency
    /// admissions and bed days), scenario and counterfactual.
    life_years: f64,
    cf_life_years: f64,
    qalys: f64,
    cf_qalys: f64,
    /// The QALYs lost to emergency admissions and bed days, scenario and counterfactual.
    admission_qalys: f64,
    cf_admission_qalys: f64,
}

/// An area-year's deaths and person-years by sex and age band, for life expectancy: added
/// up from the results' life tables when an area's sums are made, not copied into each
/// neighbourhood's [`Sums`] (608 bytes a neighbourhood, year and quintile: 49 MB of real
/// England's).
#[derive(Debug, Clone, Default)]
struct Life {
    deaths: [[f64; N_BANDS]; N_SEX],
    years: [[f64; N_BANDS]; N_SEX],
}

impl Life {
    /// Adds quintile `q` of a neighbourhood-year's life table.
    fn add(&mut self, life: &LifeYear, q: usize) {
        for x in 0..N_SEX {
            for b in 0..N_BANDS {
                self.deaths[x][b] += life.deaths[b][x][q] as f64;
                self.years[x][b] += life.person_years[b][x][q];
            }
        }
    }
}

/// An area's sums by year: its members' neighbourhood sums (of its quintile, or of all
/// five), with their life tables.
fn area_sums(
    nb: &[Vec<[Sums; N_IMD]>],
    results: &[NeighbourhoodResult],
    area: &Area,
    years: usize,
) -> Vec<(Sums, Life)> {
    let quintiles = match area.quintile {
        Some(q) => q..q + 1,
        None => 0..N_IMD,
    };
    (0..years)
        .map(|y| {
            let (mut s, mut life) = (Sums::default(), Life::default());
            for k in &area.members {
                for q in quintiles.clone() {
                    s.add(&nb[*k][y][q]);
                    life.add(&results[*k].life[y], q);
                }
            }
            (s, life)
        })
        .collect()
}

impl Sums {
    fn add(&mut self, o: &Sums) {
        self.population += o.population;
        self.cf_population += o.cf_population;
        self.births += o.births;
        self.deaths += o.deaths;
        for i in 0..N_SETTINGS {
            self.count[i] += o.count[i];
            self.setting_pence[i] += o.setting_pence[i];
            self.cf_setting_pence[i] += o.cf_setting_pence[i];
        }
        for i in 0..N_SECTORS {
            self.sector_spend[i] += o.sector_spend[i];
        }
        self.enrolled += o.enrolled;
        self.funding_shift += o.funding_shift;
        self.cf_admissions += o.cf_admissions;
        self.cf_bed_days += o.cf_bed_days;
        self.cf_deaths += o.cf_deaths;
        self.programme += o.programme;
        self.setup += o.setup;
        self.retained += o.retained;
        self.life_years += o.life_years;
        self.cf_life_years += o.cf_life_years;
        self.qalys += o.qalys;
        self.cf_qalys += o.cf_qalys;
        self.admission_qalys += o.admission_qalys;
        self.cf_admission_qalys += o.cf_admission_qalys;
    }

    /// Care at full average unit costs (pence).
    fn care(&self) -> i64 {
        self.setting_pence.iter().sum()
    }

    fn cf_care(&self) -> i64 {
        self.cf_setting_pence.iter().sum()
    }

    /// Programme running and set-up costs (pence).
    fn programme_cost(&self) -> i64 {
        self.programme + self.setup
    }

    /// The economic cost: care, programme and set-up (pence).
    fn total_cost(&self) -> i64 {
        self.care() + self.programme_cost()
    }

    /// The cost of activity avoided and of activity added, setting by setting (pence).
    fn avoided_and_added(&self) -> (i64, i64) {
        let (mut avoided, mut added) = (0, 0);
        for i in 0..N_SETTINGS {
            let d = self.cf_setting_pence[i] - self.setting_pence[i];
            if d > 0 {
                avoided += d;
            } else {
                added -= d;
            }
        }
        (avoided, added)
    }
}

/// Person-years lived and QALYs in year `y` (0-based) from a result's census, by
/// deprivation quintile: the mean of the people at the start and at the end of the year,
/// cell by cell, each year of life weighted by its segment's utility for QALYs.
pub fn years_lived(census: &[u32], y: usize, utility: &[f64]) -> [(f64, f64); N_IMD] {
    let ns = utility.len();
    let cells = n_cells(ns);
    let start = &census[y * cells..(y + 1) * cells];
    let end = &census[(y + 1) * cells..(y + 2) * cells];
    let mut out = [(0.0, 0.0); N_IMD];
    // Census cells run (band, sex, quintile), then segment: a run of `ns` cells shares a
    // quintile. The same terms in the same order as cell by cell.
    for (k, (start, end)) in start.chunks_exact(ns).zip(end.chunks_exact(ns)).enumerate() {
        let o = &mut out[k % N_IMD];
        for ((s, e), u) in start.iter().zip(end).zip(utility) {
            let py = 0.5 * (*s as f64 + *e as f64);
            o.0 += py;
            o.1 += py * u;
        }
    }
    out
}

/// People at the start of year `y` (0-based) by deprivation quintile, from a census.
fn residents(census: &[u32], y: usize, ns: usize) -> [u64; N_IMD] {
    let cells = n_cells(ns);
    let mut out = [0; N_IMD];
    for (k, run) in census[y * cells..(y + 1) * cells]
        .chunks_exact(ns)
        .enumerate()
    {
        out[k % N_IMD] += run.iter().map(|n| *n as u64).sum::<u64>();
    }
    out
}

/// A gap measure of one quintile's sums: the scenario's, and the counterfactual's.
fn gap_measure(s: &Sums, g: Gap) -> (f64, f64) {
    let per = |v: f64, n: u64| v / n.max(1) as f64;
    let adm = Setting::EmergencyAdmissions.index();
    match g {
        Gap::SpendPerHead => (
            per(pounds(s.care()), s.population),
            per(pounds(s.cf_care()), s.cf_population),
        ),
        Gap::AdmissionsPer1000 => (
            1000.0 * per(s.count[adm] as f64, s.population),
            1000.0 * per(s.cf_admissions as f64, s.cf_population),
        ),
        Gap::DeathsPer1000 => (
            1000.0 * per(s.deaths as f64, s.population),
            1000.0 * per(s.cf_deaths as f64, s.cf_population),
        ),
        Gap::QalysPerHead => (per(s.qalys, s.population), per(s.cf_qalys, s.cf_population)),
    }
}

/// The weight of year `year`'s money at `rate` a year: year 1 is undiscounted (the Green
/// Book's year 0), year t weighs 1 / (1 + rate)^(t - 1).
pub fn discount_factor(rate: f64, year: u32) -> f64 {
    (1.0 + rate).powi(-(year as i32 - 1))
}

/// An area a metric row describes: its level and name, the neighbourhoods it sums and,
/// for a deprivation quintile, the one quintile of them.
pub(crate) struct Area {
    pub(crate) level: Level,
    pub(crate) name: String,
    pub(crate) members: Vec<usize>,
    pub(crate) quintile: Option<usize>,
}

/// Capitation totals of one neighbourhood-year under one formula: weighted population,
/// budget, position, position after risk sharing, pooled deficit (pence).
type CapTotals = (f64, i64, i64, i64, i64);

/// Computes the metrics and budgets of one scenario in one run, step by step: every
/// pound's line ([`Costs`]), budgets against the cash, sums per neighbourhood-year and
/// quintile, capitation totals, then each area's rows, then the gaps between quintiles.
#[allow(clippy::too_many_arguments)]
pub fn compute(
    model: &Model,
    datasets: &Datasets,
    weights: &Weights,
    geography: &Geography,
    scenario: &Scenario,
    levers: &Levers,
    results: &[NeighbourhoodResult],
    counterfactual: &[NeighbourhoodResult],
) -> (Metrics, Budgets) {
    let p = &datasets.parameters;
    let costs = Costs::new(
        model,
        geography,
        levers,
        results,
        counterfactual,
        (p.ward_beds, p.bed_occupancy),
    );
    let budgets = budgets(
        model,
        datasets,
        weights,
        geography,
        scenario,
        levers,
        results,
        &costs.by_sector(model),
    );
    let utility: Vec<f64> = datasets.segments.iter().map(|s| s.utility).collect();
    let nb = neighbourhood_sums(model, &utility, levers, results, counterfactual, &costs);
    let cap = capitation_totals(&budgets, geography, scenario.years as usize);
    let ratio = system_position_ratios(&cap, geography);
    let writer = AreaRows {
        scenario,
        formulas: &budgets.formulas,
        cap: &cap,
        ratio: &ratio,
        pooled_at: budgets.pool_at,
        geography,
        has_interventions: !levers.interventions.is_empty(),
    };
    let mut out = Metrics::default();
    // Quintile sums by year, for the gaps between quintiles 1 and 5.
    let mut quintile_sums: Vec<[Sums; N_IMD]> = vec![Default::default(); scenario.years as usize];
    for area in areas(geography) {
        let sums = area_sums(&nb, results, &area, scenario.years as usize);
        if let Some(q) = area.quintile {
            for (y, (s, _)) in sums.iter().enumerate() {
                quintile_sums[y][q] = s.clone();
            }
        }
        writer.rows(&mut out, &area, &sums);
    }
    push_gaps(&mut out, &quintile_sums, writer.has_interventions);
    (out, budgets)
}

/// The metric rows of the top-level areas alone (England when there are several systems,
/// else each system), without budgets: what the one-way analysis reads
/// ([`crate::accounts::one_way::outcomes`]). They are [`compute`]'s rows of those areas
/// less the capitation rows, from the same cost lines and sums added in the same order, so
/// equal to the last bit; skipping the budgets and the rows of every place, neighbourhood
/// and quintile is most of what a simulation of the analysis costs beyond its simulation
/// for real England (a budget is priced per neighbourhood, formula and year).
pub fn compute_top(
    model: &Model,
    datasets: &Datasets,
    geography: &Geography,
    scenario: &Scenario,
    levers: &Levers,
    results: &[NeighbourhoodResult],
    counterfactual: &[NeighbourhoodResult],
) -> Metrics {
    let p = &datasets.parameters;
    let costs = Costs::new(
        model,
        geography,
        levers,
        results,
        counterfactual,
        (p.ward_beds, p.bed_occupancy),
    );
    let utility: Vec<f64> = datasets.segments.iter().map(|s| s.utility).collect();
    let nb = neighbourhood_sums(model, &utility, levers, results, counterfactual, &costs);
    let writer = AreaRows {
        scenario,
        formulas: &[],
        cap: &[],
        ratio: &[],
        pooled_at: None,
        geography,
        has_interventions: !levers.interventions.is_empty(),
    };
    let mut out = Metrics::default();
    for area in areas(geography) {
        if !matches!(area.level, Level::England | Level::System) {
            continue;
        }
        let sums = area_sums(&nb, results, &area, scenario.years as usize);
        writer.rows(&mut out, &area, &sums);
    }
    out
}

/// Sums per neighbourhood, year and deprivation quintile `[neighbourhood][year][quintile]`.
/// QALYs are net of those lost to emergency admissions and bed days (the run's drawn
/// losses, the same for the scenario and its counterfactual).
fn neighbourhood_sums(
    model: &Model,
    utility: &[f64],
    levers: &Levers,
    results: &[NeighbourhoodResult],
    counterfactual: &[NeighbourhoodResult],
    costs: &Costs,
) -> Vec<Vec<[Sums; N_IMD]>> {
    let ns = model.segments.len();
    let adm = Setting::EmergencyAdmissions;
    let bd = Setting::EmergencyBedDays;
    let loss = levers.qaly_loss;
    let lost = |admissions: u64, bed_days: u64| {
        loss.per_admission * admissions as f64 + loss.per_bed_day * bed_days as f64
    };
    results
        .iter()
        .zip(counterfactual)
        .zip(&costs.lines)
        .map(|((r, cf), lines)| {
            (0..r.activity.len())
                .map(|y| {
                    let (a, ca) = (&r.activity[y], &cf.activity[y]);
                    let iy = &r.interventions[y];
                    let people = residents(&r.census, y, ns);
                    let cf_people = residents(&cf.census, y, ns);
                    let lived = years_lived(&r.census, y, utility);
                    let cf_lived = years_lived(&cf.census, y, utility);
                    std::array::from_fn(|q| {
                        let l = &lines[y][q];
                        let mut s = Sums {
                            population: people[q],
                            cf_population: cf_people[q],
                            births: r.flows[y].births_by_imd[q],
                            deaths: r.flows[y].deaths_by_imd[q],
                            cf_deaths: cf.flows[y].deaths_by_imd[q],
                            cf_admissions: ca.in_quintile(adm, q).0,
                            cf_bed_days: ca.in_quintile(bd, q).0,
                            enrolled: iy.enrolled.iter().map(|e| e[q]).sum(),
                            funding_shift: iy.shift_pence.iter().map(|c| c[q]).sum(),
                            setting_pence: l.care,
                            cf_setting_pence: l.cf_care,
                            programme: l.programme,
                            setup: l.setup,
                            retained: l.retained_cost(),
                            ..Default::default()
                        };
                        for setting in Setting::ALL {
                            let i = setting.index();
                            s.count[i] = a.in_quintile(setting, q).0;
                            s.sector_spend[model.activity.sector(setting) as usize] += l.care[i];
                        }
                        s.admission_qalys = lost(s.count[adm.index()], s.count[bd.index()]);
                        s.cf_admission_qalys = lost(s.cf_admissions, s.cf_bed_days);
                        (s.life_years, s.qalys) = lived[q];
                        (s.cf_life_years, s.cf_qalys) = cf_lived[q];
                        s.qalys -= s.admission_qalys;
                        s.cf_qalys -= s.cf_admission_qalys;
                        s
                    })
                })
                .collect()
        })
        .collect()
}

/// Capitation totals by formula, `[formula][neighbourhood][year]`, from the budgets'
/// neighbourhood rows of the total.
fn capitation_totals(
    budgets: &Budgets,
    geography: &Geography,
    years: usize,
) -> Vec<Vec<Vec<CapTotals>>> {
    let nn = geography.neighbourhoods.len();
    let mut cap = vec![vec![vec![(0.0, 0, 0, 0, 0); years]; nn]; budgets.formulas.len()];
    for i in 0..budgets.year.len() {
        if budgets.sector[i] != BudgetRow::Total || budgets.level[i] != Level::Neighbourhood {
            continue;
        }
        let f = budgets.formula[i] as usize;
        cap[f][budgets.area[i]][budgets.year[i] as usize - 1] = (
            budgets.weighted_population[i],
            budgets.budget[i],
            budgets.position[i],
            budgets.position_after_risk_share[i],
            budgets.pooled_deficit[i],
        );
    }
    cap
}

/// Each system's overall position as a share of its budget, `[formula][system][year]`: a
/// neighbourhood's position relative to that separates what the formula gets wrong about
/// it from an overspend the whole system shares.
fn system_position_ratios(
    cap: &[Vec<Vec<CapTotals>>],
    geography: &Geography,
) -> Vec<Vec<Vec<f64>>> {
    let nn = geography.neighbourhoods.len();
    cap.iter()
        .map(|per_f| {
            (0..geography.systems.len())
                .map(|sys| {
                    let years = per_f.first().map_or(0, |v| v.len());
                    (0..years)
                        .map(|y| {
                            let (mut b, mut p) = (0i64, 0i64);
                            for k in (0..nn).filter(|k| geography.system_of(*k) == sys) {
                                b += per_f[k][y].1;
                                p += per_f[k][y].2;
                            }
                            if b != 0 {
                                p as f64 / b as f64
                            } else {
                                0.0
                            }
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// The areas of each level: the nation (with several systems), systems, places,
/// neighbourhoods, and the deprivation quintiles of the whole population.
pub(crate) fn areas(geography: &Geography) -> Vec<Area> {
    let nn = geography.neighbourhoods.len();
    let area = |level, name: &str, members, quintile| Area {
        level,
        name: name.to_string(),
        members,
        quintile,
    };
    let mut out = Vec::new();
    if geography.systems.len() > 1 {
        out.push(area(Level::England, ENGLAND, (0..nn).collect(), None));
    }
    for (i, name) in geography.systems.iter().enumerate() {
        let m: Vec<usize> = (0..nn).filter(|k| geography.system_of(*k) == i).collect();
        if !m.is_empty() {
            out.push(area(Level::System, name, m, None));
        }
    }
    for (i, place) in geography.places.iter().enumerate() {
        let m: Vec<usize> = (0..nn)
            .filter(|k| geography.neighbourhoods[*k].place == i)
            .collect();
        if !m.is_empty() {
            out.push(area(Level::Place, &place.name, m, None));
        }
    }
    for (k, n) in geography.neighbourhoods.iter().enumerate() {
        out.push(area(Level::Neighbourhood, &n.name, vec![k], None));
    }
    for q in 0..N_IMD {
        out.push(area(
            Level::ImdQuintile,
            &(q + 1).to_string(),
            (0..nn).collect(),
            Some(q),
        ));
    }
    out
}

/// Writes the metric rows of areas.
struct AreaRows<'a> {
    scenario: &'a Scenario,
    formulas: &'a [String],
    cap: &'a [Vec<Vec<CapTotals>>],
    ratio: &'a [Vec<Vec<f64>>],
    pooled_at: Option<Level>,
    geography: &'a Geography,
    has_interventions: bool,
}

/// Running totals of an area's evaluation over the years: cumulative and discounted
/// flows (pence; a discounted penny is not whole) and discounted QALYs.
#[derive(Debug, Default)]
struct Running {
    net: i64,
    net_savings: i64,
    programme: i64,
    d_net: f64,
    d_programme: f64,
    d_qalys: f64,
    /// First year the discounted cumulative net cost reached zero.
    break_even: Option<u32>,
}

impl AreaRows<'_> {
    /// Every row of one area, year by year.
    fn rows(&self, out: &mut Metrics, area: &Area, sums: &[(Sums, Life)]) {
        let mut running = Running::default();
        for (y, (s, life)) in sums.iter().enumerate() {
            let year = y as u32 + 1;
            let mut put =
                |metric: Metric, v: f64| out.push(year, area.level, &area.name, metric, v);
            people_rows(&mut put, s, life);
            cost_rows(&mut put, s);
            // Budgets are set for areas, not for deprivation groups.
            if area.quintile.is_none() {
                self.capitation_rows(&mut put, area, y, s);
            }
            if self.has_interventions {
                self.evaluation_rows(&mut put, &mut running, year, s);
            }
        }
        if self.has_interventions && matches!(area.level, Level::System | Level::England) {
            // A value above the horizon means "not within the horizon".
            let v = running.break_even.unwrap_or(self.scenario.years + 1);
            out.push(
                self.scenario.years,
                area.level,
                &area.name,
                Metric::BreakEvenYear,
                v as f64,
            );
        }
    }

    /// Each formula's weighted population, budget and positions.
    fn capitation_rows(&self, put: &mut impl FnMut(Metric, f64), area: &Area, y: usize, s: &Sums) {
        for (f, name) in self.formulas.iter().enumerate() {
            let (mut w, mut b, mut p, mut after, mut pooled) = (0.0, 0, 0, 0, 0);
            for k in &area.members {
                let c = self.cap[f][*k][y];
                w += c.0;
                b += c.1;
                p += c.2;
                after += c.3;
                pooled += c.4;
            }
            put(Metric::formula(WeightedPopulation, name), w);
            put(Metric::formula(Budget, name), pounds(b));
            put(
                Metric::formula(BudgetPerHead, name),
                pounds(b) / s.population.max(1) as f64,
            );
            put(Metric::formula(Position, name), pounds(p));
            let relative: f64 = area
                .members
                .iter()
                .map(|k| {
                    let c = self.cap[f][*k][y];
                    let r = self.ratio[f][self.geography.system_of(*k)][y];
                    (c.2 as f64 - c.1 as f64 * r) / 100.0
                })
                .sum();
            put(Metric::formula(RelativePosition, name), relative);
            put(Metric::formula(PositionAfterRiskShare, name), pounds(after));
            // At the pools' level, and summed over them at system and national level.
            let pooled_here = self.pooled_at == Some(area.level)
                || self.pooled_at.is_some() && matches!(area.level, Level::System | Level::England);
            if pooled_here {
                put(Metric::formula(PooledDeficit, name), pounds(pooled));
                // What the neighbourhoods paid into the pool less what it covered.
                put(Metric::formula(PoolBalance, name), pounds(p - after));
            }
        }
    }

    /// The comparison with the counterfactual: savings, net costs, returns, health.
    fn evaluation_rows(
        &self,
        put: &mut impl FnMut(Metric, f64),
        run: &mut Running,
        year: u32,
        s: &Sums,
    ) {
        let eval = &self.scenario.evaluation;
        let adm = Setting::EmergencyAdmissions.index();
        let bd = Setting::EmergencyBedDays.index();
        let (avoided, added) = s.avoided_and_added();
        let net_savings = s.cf_care() - s.care();
        let net = s.total_cost() - s.cf_care();
        let (df, hf) = (
            discount_factor(eval.discount_rate, year),
            discount_factor(eval.health_rate(), year),
        );
        run.net += net;
        run.net_savings += net_savings;
        run.programme += s.programme_cost();
        run.d_net += net as f64 * df;
        run.d_programme += s.programme_cost() as f64 * df;
        let gained = s.qalys - s.cf_qalys;
        run.d_qalys += gained * hf;
        if run.break_even.is_none() && run.d_net <= 0.0 {
            run.break_even = Some(year);
        }
        put(Metric::Enrolled, s.enrolled);
        put(Metric::FundingShift, pounds(s.funding_shift));
        put(Metric::GrossSavings, pounds(avoided));
        put(Metric::AddedActivityCost, pounds(added));
        put(Metric::NetSavings, pounds(net_savings));
        put(Metric::CashableSavings, pounds(net_savings - s.retained));
        put(Metric::RetainedFixedCost, pounds(s.retained));
        put(Metric::NetCost, pounds(net));
        put(Metric::CumulativeNetCost, pounds(run.net));
        put(Metric::DiscountedCumulativeNetCost, run.d_net / 100.0);
        put(Metric::NetCashCost, pounds(net + s.retained));
        put(
            Metric::AvoidedAdmissions,
            s.cf_admissions as f64 - s.count[adm] as f64,
        );
        put(
            Metric::AvoidedBedDays,
            s.cf_bed_days as f64 - s.count[bd] as f64,
        );
        if run.programme > 0 {
            put(Metric::Roi, -run.net as f64 / run.programme as f64);
            put(
                Metric::BenefitCostRatio,
                run.net_savings as f64 / run.programme as f64,
            );
            put(Metric::DiscountedRoi, -run.d_net / run.d_programme);
        }
        put(Metric::DeathsAverted, s.cf_deaths as f64 - s.deaths as f64);
        put(Metric::LifeYearsGained, s.life_years - s.cf_life_years);
        put(Metric::QalysGained, gained);
        put(
            Metric::AdmissionQalysGained,
            s.cf_admission_qalys - s.admission_qalys,
        );
        put(Metric::DiscountedQalysGained, run.d_qalys);
        put(
            Metric::NetMonetaryBenefit,
            eval.qaly_threshold * run.d_qalys - run.d_net / 100.0,
        );
        put(Metric::BrokenEven, (run.d_net <= 0.0) as u8 as f64);
    }
}

/// People, deaths, births, life expectancy and care counts.
fn people_rows(put: &mut impl FnMut(Metric, f64), s: &Sums, life: &Life) {
    put(Metric::Population, s.population as f64);
    put(Metric::Births, s.births as f64);
    put(Metric::Deaths, s.deaths as f64);
    // Period life expectancy of the year; a small area may lack deaths at 90+ in a year,
    // and then has none.
    for (x, metric) in [Metric::LifeExpectancyMale, Metric::LifeExpectancyFemale]
        .into_iter()
        .enumerate()
    {
        if let Some(e) = life_expectancy(&life.deaths[x], &life.years[x]) {
            put(metric, e);
        }
    }
    for setting in Setting::ALL {
        put(Metric::Count(setting), s.count[setting.index()] as f64);
    }
}

/// The cost lines: care (in total, by sector, per head), programme, set-up, total and
/// cash, so that total = care + programme and cash = total + retained fixed costs.
fn cost_rows(put: &mut impl FnMut(Metric, f64), s: &Sums) {
    let heads = s.population.max(1) as f64;
    put(Metric::CareSpend, pounds(s.care()));
    for sector in Sector::ALL {
        put(
            Metric::SectorSpend(sector),
            pounds(s.sector_spend[sector as usize]),
        );
    }
    put(Metric::CareSpendPerHead, pounds(s.care()) / heads);
    put(Metric::ProgrammeCost, pounds(s.programme_cost()));
    put(Metric::SetupCost, pounds(s.setup));
    put(Metric::TotalCost, pounds(s.total_cost()));
    put(Metric::TotalCostPerHead, pounds(s.total_cost()) / heads);
    put(Metric::CashCost, pounds(s.total_cost() + s.retained));
    put(
        Metric::CashCostPerHead,
        pounds(s.total_cost() + s.retained) / heads,
    );
}

/// The gaps between the most and least deprived quintiles, and how the scenario changes
/// them against the counterfactual.
fn push_gaps(out: &mut Metrics, quintile_sums: &[[Sums; N_IMD]], has_interventions: bool) {
    for (y, q) in quintile_sums.iter().enumerate() {
        for g in Gap::ALL {
            let ((most, cf_most), (least, cf_least)) =
                (gap_measure(&q[0], g), gap_measure(&q[N_IMD - 1], g));
            let year = y as u32 + 1;
            out.push(
                year,
                Level::ImdQuintile,
                "1-5",
                Metric::QuintileGap(g),
                most - least,
            );
            if has_interventions {
                out.push(
                    year,
                    Level::ImdQuintile,
                    "1-5",
                    Metric::QuintileGapChange(g),
                    (most - least) - (cf_most - cf_least),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{discount_factor, years_lived};

    use crate::core::dims::{n_cells, Cell};

    /// Hand-worked: 10 healthy (utility 0.9) and 4 sick (0.5) at the start of the year, 8
    /// and 4 at its end: 13 person-years, 0.9 x 9 + 0.5 x 4 = 10.1 QALYs.
    #[test]
    fn qalys_by_hand() {
        let ns = 2;
        let cells = n_cells(ns);
        let mut census = vec![0u32; 2 * cells];
        let at = |segment| {
            Cell {
                band: 14,
                sex: 1,
                imd: 2,
                segment,
            }
            .census(ns)
        };
        census[at(0)] = 10;
        census[at(1)] = 4;
        census[cells + at(0)] = 8;
        census[cells + at(1)] = 4;
        let (life, qalys) = years_lived(&census, 0, &[0.9, 0.5])[2];
        assert!(
            (life - 13.0).abs() < 1e-12 && (qalys - 10.1).abs() < 1e-12,
            "{life} {qalys}"
        );
    }

    /// Hand-worked: at 3.5%, a net cost of 100 a year for three years is worth
    /// 100 + 100/1.035 + 100/1.035^2 = 100 + 96.618... + 93.351... = 289.969... today.
    #[test]
    fn discounting_by_hand() {
        let total: f64 = (1..=3).map(|y| 100.0 * discount_factor(0.035, y)).sum();
        assert!((total - 289.9695).abs() < 1e-4, "{total}");
        assert_eq!(discount_factor(0.035, 1), 1.0);
        assert_eq!(discount_factor(0.0, 7), 1.0);
    }
}
