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

use crate::accounts::capitation::{budgets, BudgetRow, Budgets, Weights};
use crate::accounts::life::life_expectancy;
use crate::accounts::metric::{FormulaMetric::*, Gap, Metric};
use crate::config::scenario::Scenario;
use crate::core::care::{Sector, Setting, N_SECTORS, N_SETTINGS};
use crate::core::dims::{n_cells, Cell, N_BANDS, N_IMD, N_SEX};
use crate::core::level::{Level, ENGLAND};
use crate::core::money::{largest_remainder, pounds};
use crate::data::datasets::Datasets;
use crate::data::geography::Geography;
use crate::engine::levers::Levers;
use crate::engine::simulation::NeighbourhoodResult;
use crate::model::Model;

/// Long-format metrics of one scenario-run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    pub year: Vec<i32>,
    pub level: Vec<Level>,
    pub area: Vec<String>,
    pub metric: Vec<Metric>,
    pub value: Vec<f64>,
}

impl Metrics {
    pub fn push(&mut self, year: u32, level: Level, area: &str, metric: Metric, value: f64) {
        self.year.push(year as i32);
        self.level.push(level);
        self.area.push(area.to_string());
        self.metric.push(metric);
        self.value.push(value);
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
    spend: i64,
    sector_spend: [i64; N_SECTORS],
    enrolled: f64,
    intervention_cost: i64,
    funding_shift: i64,
    cf_spend: i64,
    cf_admissions: u64,
    cf_bed_days: u64,
    cf_deaths: u64,
    /// Spend by setting (pence), scenario and counterfactual.
    setting_pence: [i64; N_SETTINGS],
    cf_setting_pence: [i64; N_SETTINGS],
    /// Person-years lived and quality-adjusted life years, scenario and counterfactual.
    life_years: f64,
    cf_life_years: f64,
    qalys: f64,
    cf_qalys: f64,
    /// Deaths and person-years by sex and age band, for life expectancy.
    life_deaths: [[f64; N_BANDS]; N_SEX],
    life_years_by_age: [[f64; N_BANDS]; N_SEX],
}

impl Sums {
    fn add(&mut self, o: &Sums) {
        self.population += o.population;
        self.cf_population += o.cf_population;
        self.births += o.births;
        self.deaths += o.deaths;
        for i in 0..N_SETTINGS {
            self.count[i] += o.count[i];
        }
        self.spend += o.spend;
        for i in 0..N_SECTORS {
            self.sector_spend[i] += o.sector_spend[i];
        }
        self.enrolled += o.enrolled;
        self.intervention_cost += o.intervention_cost;
        self.funding_shift += o.funding_shift;
        self.cf_spend += o.cf_spend;
        self.cf_admissions += o.cf_admissions;
        self.cf_bed_days += o.cf_bed_days;
        self.cf_deaths += o.cf_deaths;
        for i in 0..N_SETTINGS {
            self.setting_pence[i] += o.setting_pence[i];
            self.cf_setting_pence[i] += o.cf_setting_pence[i];
        }
        self.life_years += o.life_years;
        self.cf_life_years += o.cf_life_years;
        self.qalys += o.qalys;
        self.cf_qalys += o.cf_qalys;
        for x in 0..N_SEX {
            for b in 0..N_BANDS {
                self.life_deaths[x][b] += o.life_deaths[x][b];
                self.life_years_by_age[x][b] += o.life_years_by_age[x][b];
            }
        }
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
    for c in 0..cells {
        let py = 0.5 * (start[c] as f64 + end[c] as f64);
        let o = &mut out[Cell::from_census(c, ns).imd];
        o.0 += py;
        o.1 += py * utility[c % ns];
    }
    out
}

/// People at the start of year `y` (0-based) by deprivation quintile, from a census.
fn residents(census: &[u32], y: usize, ns: usize) -> [u64; N_IMD] {
    let cells = n_cells(ns);
    let mut out = [0; N_IMD];
    for (c, n) in census[y * cells..(y + 1) * cells].iter().enumerate() {
        out[Cell::from_census(c, ns).imd] += *n as u64;
    }
    out
}

/// A gap measure of one quintile's sums: the scenario's, and the counterfactual's.
fn gap_measure(s: &Sums, g: Gap) -> (f64, f64) {
    let per = |v: f64, n: u64| v / n.max(1) as f64;
    let adm = Setting::EmergencyAdmissions.index();
    match g {
        Gap::SpendPerHead => (
            per(pounds(s.spend), s.population),
            per(pounds(s.cf_spend), s.cf_population),
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

/// The cash an area-year's savings release (pence): for each setting, the variable share
/// of what less activity saves (more activity, such as substituted care, costs in full);
/// and for emergency bed days, the fixed rest of their cost only in whole wards, once the
/// bed days avoided fill a ward of `ward_beds` at `occupancy` for a year. At most the
/// gross saving.
fn cashable_savings(s: &Sums, model: &Model, ward_beds: f64, occupancy: f64) -> f64 {
    let mut cash = 0.0;
    for setting in Setting::ALL {
        let i = setting.index();
        let saved = (s.cf_setting_pence[i] - s.setting_pence[i]) as f64;
        cash += if saved > 0.0 {
            saved * model.activity.cashable(setting)
        } else {
            saved
        };
    }
    let bd = Setting::EmergencyBedDays;
    let avoided = s.cf_bed_days as f64 - s.count[bd.index()] as f64;
    let ward_year = ward_beds * 365.0 * occupancy;
    if avoided > 0.0 && s.cf_bed_days > 0 && ward_year > 0.0 {
        let wards = (avoided / ward_year).floor();
        let per_day = s.cf_setting_pence[bd.index()] as f64 / s.cf_bed_days as f64;
        cash += wards * ward_year * per_day * (1.0 - model.activity.cashable(bd));
    }
    cash.min((s.cf_spend - s.spend) as f64)
}

/// The weight of year `year`'s money at `rate` a year: year 1 is undiscounted (the Green
/// Book's year 0), year t weighs 1 / (1 + rate)^(t - 1).
pub fn discount_factor(rate: f64, year: u32) -> f64 {
    (1.0 + rate).powi(-(year as i32 - 1))
}

/// Computes the metrics and budgets of one scenario in one run.
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
    let budgets = budgets(
        model, datasets, weights, geography, scenario, levers, results,
    );
    let years = scenario.years as usize;
    let ns = model.segments.len();
    let nn = geography.neighbourhoods.len();
    let has_interventions = !levers.interventions.is_empty();
    // Sums per neighbourhood, year and deprivation quintile.
    let utility: Vec<f64> = datasets.segments.iter().map(|s| s.utility).collect();
    let mut nb: Vec<Vec<[Sums; N_IMD]>> = vec![vec![Default::default(); years]; nn];
    let adm = Setting::EmergencyAdmissions;
    let bd = Setting::EmergencyBedDays;
    for (k, r) in results.iter().enumerate() {
        let cf = &counterfactual[k];
        for (y, by_imd) in nb[k].iter_mut().enumerate() {
            let (a, ca) = (&r.activity[y], &cf.activity[y]);
            let iy = &r.interventions[y];
            let people = residents(&r.census, y, ns);
            let cf_people = residents(&cf.census, y, ns);
            let lived = years_lived(&r.census, y, &utility);
            let cf_lived = years_lived(&cf.census, y, &utility);
            for (q, s) in by_imd.iter_mut().enumerate() {
                s.population = people[q];
                s.cf_population = cf_people[q];
                s.births = r.flows[y].births_by_imd[q];
                s.deaths = r.flows[y].deaths_by_imd[q];
                s.cf_deaths = cf.flows[y].deaths_by_imd[q];
                for setting in Setting::ALL {
                    let i = setting.index();
                    let (count, pence) = a.in_quintile(setting, q);
                    let (_, cf_pence) = ca.in_quintile(setting, q);
                    s.count[i] = count;
                    s.spend += pence;
                    s.sector_spend[model.activity.sector(setting) as usize] += pence;
                    s.setting_pence[i] = pence;
                    s.cf_setting_pence[i] = cf_pence;
                    s.cf_spend += cf_pence;
                }
                s.cf_admissions = ca.in_quintile(adm, q).0;
                s.cf_bed_days = ca.in_quintile(bd, q).0;
                s.enrolled = iy.enrolled.iter().map(|e| e[q]).sum();
                s.intervention_cost = iy.cost_pence.iter().map(|c| c[q]).sum();
                s.funding_shift = iy.shift_pence.iter().map(|c| c[q]).sum();
                (s.life_years, s.qalys) = lived[q];
                (s.cf_life_years, s.cf_qalys) = cf_lived[q];
                let life = &r.life[y];
                for x in 0..N_SEX {
                    for b in 0..N_BANDS {
                        s.life_deaths[x][b] = life.deaths[b][x][q] as f64;
                        s.life_years_by_age[x][b] = life.person_years[b][x][q];
                    }
                }
            }
        }
    }
    // Set-up costs, once in year 1, shared by the neighbourhoods the intervention reaches,
    // and within them by quintile, in proportion to their people in its target.
    for (i, d) in levers.interventions.iter().enumerate() {
        let pence = (d.setup_cost * 100.0 * model.activity.cost_factor(1)).round();
        if pence <= 0.0 {
            continue;
        }
        let weights: Vec<f64> = results
            .iter()
            .flat_map(|r| r.interventions[0].target[i])
            .collect();
        if weights.iter().sum::<f64>() <= 0.0 {
            continue;
        }
        for (j, part) in largest_remainder(&weights, pence as u64)
            .into_iter()
            .enumerate()
        {
            nb[j / N_IMD][0][j % N_IMD].intervention_cost += part as i64;
        }
    }
    // Capitation totals by formula, `[formula][neighbourhood][year]`: weighted population,
    // budget, position, position after risk sharing, pooled deficit.
    let formulas: Vec<String> = scenario
        .capitation
        .formula
        .iter()
        .map(|f| f.name())
        .collect();
    let mut cap = vec![vec![vec![(0.0f64, 0i64, 0i64, 0i64, 0i64); years]; nn]; formulas.len()];
    for i in 0..budgets.year.len() {
        if budgets.sector[i] != BudgetRow::Total || budgets.level[i] != Level::Neighbourhood {
            continue;
        }
        let f = formulas
            .iter()
            .position(|n| *n == budgets.formula[i])
            .expect("known formula");
        cap[f][budgets.area[i]][budgets.year[i] as usize - 1] = (
            budgets.weighted_population[i],
            budgets.budget[i],
            budgets.position[i],
            budgets.position_after_risk_share[i],
            budgets.pooled_deficit[i],
        );
    }

    // Areas of each level, with the neighbourhoods they sum and, for a deprivation
    // quintile, the one quintile of them.
    let mut areas: Vec<(Level, String, Vec<usize>, Option<usize>)> = Vec::new();
    // With several systems (the England preset), the nation is their sum.
    if geography.systems.len() > 1 {
        areas.push((Level::England, ENGLAND.to_string(), (0..nn).collect(), None));
    }
    for (i, name) in geography.systems.iter().enumerate() {
        let m: Vec<usize> = (0..nn).filter(|k| geography.system_of(*k) == i).collect();
        if !m.is_empty() {
            areas.push((Level::System, name.clone(), m, None));
        }
    }
    for (i, place) in geography.places.iter().enumerate() {
        let m: Vec<usize> = (0..nn)
            .filter(|k| geography.neighbourhoods[*k].place == i)
            .collect();
        if !m.is_empty() {
            areas.push((Level::Place, place.name.clone(), m, None));
        }
    }
    for (k, n) in geography.neighbourhoods.iter().enumerate() {
        areas.push((Level::Neighbourhood, n.name.clone(), vec![k], None));
    }
    for q in 0..N_IMD {
        areas.push((
            Level::ImdQuintile,
            (q + 1).to_string(),
            (0..nn).collect(),
            Some(q),
        ));
    }
    // Quintile sums by year, for the gaps between quintiles 1 and 5.
    let mut quintile_sums: Vec<[Sums; N_IMD]> = vec![Default::default(); years];

    // Each system's overall position as a share of its budget, per formula and year: a
    // neighbourhood's position relative to that separates what the formula gets wrong
    // about it from an overspend the whole system shares.
    let n_sys = geography.systems.len();
    let mut ratio = vec![vec![vec![0.0f64; years]; n_sys]; formulas.len()];
    for (f, per_f) in ratio.iter_mut().enumerate() {
        for (sys, per_sys) in per_f.iter_mut().enumerate() {
            for (y, r) in per_sys.iter_mut().enumerate() {
                let (mut b, mut p) = (0i64, 0i64);
                for k in (0..nn).filter(|k| geography.system_of(*k) == sys) {
                    b += cap[f][k][y].1;
                    p += cap[f][k][y].2;
                }
                *r = if b != 0 { p as f64 / b as f64 } else { 0.0 };
            }
        }
    }
    let pooled_at = budgets.pool_at;
    let mut out = Metrics::default();
    for (level, name, members, quintile) in &areas {
        let (mut cum_net, mut cum_savings, mut cum_cost) = (0i64, 0i64, 0i64);
        // Discounted flows, in pence as floats (a discounted penny is not whole).
        let (mut d_net, mut d_savings, mut d_cost) = (0.0f64, 0.0f64, 0.0f64);
        // Discounted QALYs gained, at the same rate (NICE discounts health effects as costs).
        let mut d_qalys = 0.0f64;
        let mut break_even: Option<u32> = None;
        for y in 0..years {
            let mut s = Sums::default();
            for k in members {
                match quintile {
                    Some(q) => s.add(&nb[*k][y][*q]),
                    None => nb[*k][y].iter().for_each(|part| s.add(part)),
                }
            }
            if let Some(q) = quintile {
                quintile_sums[y][*q] = s.clone();
            }
            let year = y as u32 + 1;
            let mut put = |metric: Metric, v: f64| out.push(year, *level, name, metric, v);
            put(Metric::Population, s.population as f64);
            put(Metric::Births, s.births as f64);
            put(Metric::Deaths, s.deaths as f64);
            // Period life expectancy of the year; a small area may lack deaths at 90+ in a
            // year, and then has none.
            for (x, metric) in [Metric::LifeExpectancyMale, Metric::LifeExpectancyFemale]
                .into_iter()
                .enumerate()
            {
                if let Some(e) = life_expectancy(&s.life_deaths[x], &s.life_years_by_age[x]) {
                    put(metric, e);
                }
            }
            for setting in Setting::ALL {
                put(Metric::Count(setting), s.count[setting.index()] as f64);
            }
            put(Metric::Spend, pounds(s.spend));
            for sector in Sector::ALL {
                put(
                    Metric::SectorSpend(sector),
                    pounds(s.sector_spend[sector as usize]),
                );
            }
            put(
                Metric::SpendPerHead,
                pounds(s.spend) / s.population.max(1) as f64,
            );
            // Budgets are set for areas, not for deprivation groups.
            let formulas = if quintile.is_some() {
                &[][..]
            } else {
                &formulas[..]
            };
            for (f, name) in formulas.iter().enumerate() {
                let (mut w, mut b, mut p, mut after, mut pooled) = (0.0, 0, 0, 0, 0);
                for k in members {
                    let c = cap[f][*k][y];
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
                let relative: f64 = members
                    .iter()
                    .map(|k| {
                        let c = cap[f][*k][y];
                        (c.2 as f64 - c.1 as f64 * ratio[f][geography.system_of(*k)][y]) / 100.0
                    })
                    .sum();
                put(Metric::formula(RelativePosition, name), relative);
                put(Metric::formula(PositionAfterRiskShare, name), pounds(after));
                if pooled_at == Some(*level) {
                    put(Metric::formula(PooledDeficit, name), pounds(pooled));
                    // What the neighbourhoods paid into the pool less what it covered.
                    put(Metric::formula(PoolBalance, name), pounds(p - after));
                }
            }
            if !has_interventions {
                continue;
            }
            let savings = s.cf_spend - s.spend;
            let net = s.spend + s.intervention_cost - s.cf_spend;
            cum_net += net;
            cum_savings += savings;
            cum_cost += s.intervention_cost;
            let df = discount_factor(scenario.evaluation.discount_rate, year);
            d_net += net as f64 * df;
            d_savings += savings as f64 * df;
            d_cost += s.intervention_cost as f64 * df;
            if break_even.is_none() && cum_net <= 0 {
                break_even = Some(year);
            }
            put(Metric::Enrolled, s.enrolled);
            put(Metric::InterventionCost, pounds(s.intervention_cost));
            put(Metric::FundingShift, pounds(s.funding_shift));
            put(Metric::GrossSavings, pounds(savings));
            put(
                Metric::CashableSavings,
                cashable_savings(
                    &s,
                    model,
                    datasets.parameters.ward_beds,
                    datasets.parameters.bed_occupancy,
                ) / 100.0,
            );
            put(Metric::NetCost, pounds(net));
            put(Metric::CumulativeNetCost, pounds(cum_net));
            put(Metric::DiscountedCumulativeNetCost, d_net / 100.0);
            put(
                Metric::AvoidedAdmissions,
                s.cf_admissions as f64 - s.count[adm.index()] as f64,
            );
            put(
                Metric::AvoidedBedDays,
                s.cf_bed_days as f64 - s.count[bd.index()] as f64,
            );
            if cum_cost > 0 {
                put(Metric::Roi, cum_savings as f64 / cum_cost as f64);
                put(Metric::DiscountedRoi, d_savings / d_cost);
            }
            let gained = s.qalys - s.cf_qalys;
            d_qalys += gained * df;
            put(Metric::DeathsAverted, s.cf_deaths as f64 - s.deaths as f64);
            put(Metric::LifeYearsGained, s.life_years - s.cf_life_years);
            put(Metric::QalysGained, gained);
            put(Metric::DiscountedQalysGained, d_qalys);
            if d_qalys > 0.0 {
                put(Metric::CostPerQaly, d_net / 100.0 / d_qalys);
            }
            put(
                Metric::NetMonetaryBenefit,
                scenario.evaluation.qaly_threshold * d_qalys - d_net / 100.0,
            );
            put(Metric::BrokenEven, (cum_net <= 0) as u8 as f64);
        }
        if has_interventions && matches!(level, Level::System | Level::England) {
            // A value above the horizon means "not within the horizon".
            let v = break_even.unwrap_or(scenario.years + 1);
            out.push(
                scenario.years,
                *level,
                name,
                Metric::BreakEvenYear,
                v as f64,
            );
        }
    }
    // The gaps between the most and least deprived quintiles, and how the scenario changes
    // them against the counterfactual.
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
    (out, budgets)
}

#[cfg(test)]
mod tests {
    use super::{cashable_savings, discount_factor, years_lived, Sums};
    use crate::core::care::Setting;
    use crate::data::datasets::Datasets;
    use crate::model::Model;

    /// Hand-worked step-fixed release: 10,000 emergency bed days avoided at £400 (30%
    /// variable) with wards of 28 beds at 90% occupancy (9,198 bed days a year): the
    /// variable 30% of £4m, plus the fixed 70% of one whole ward, 9,198 x £400 x 0.7.
    #[test]
    fn cashable_savings_release_fixed_costs_in_whole_wards() {
        let d = Datasets::bundled().unwrap();
        let m = Model::new(&d).unwrap();
        let bd = Setting::EmergencyBedDays.index();
        let mut s = Sums {
            cf_bed_days: 50_000,
            ..Default::default()
        };
        s.count[bd] = 40_000;
        s.cf_setting_pence[bd] = 50_000 * 40_000;
        s.setting_pence[bd] = 40_000 * 40_000;
        s.cf_spend = s.cf_setting_pence[bd];
        s.spend = s.setting_pence[bd];
        let share = m.activity.cashable(Setting::EmergencyBedDays);
        assert_eq!(share, 0.3);
        let ward = 28.0 * 365.0 * 0.9;
        let want = 10_000.0 * 40_000.0 * 0.3 + ward * 40_000.0 * 0.7;
        let got = cashable_savings(&s, &m, 28.0, 0.9);
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        assert!(got <= (s.cf_spend - s.spend) as f64);
        // Fewer bed days than a ward: only the variable part.
        s.count[bd] = 45_000;
        s.setting_pence[bd] = 45_000 * 40_000;
        s.spend = s.setting_pence[bd];
        let got = cashable_savings(&s, &m, 28.0, 0.9);
        assert!((got - 5_000.0 * 40_000.0 * 0.3).abs() < 1e-6, "{got}");
    }
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
