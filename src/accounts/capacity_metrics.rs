//! The capacity rows of one scenario-run, at every level: beds from the emergency bed
//! days (average at the target occupancy, the peak, released against the counterfactual,
//! days over a given bed base and the year demand passes it), and the places, staff and
//! utilisation of interventions that declare capacity.
//!
//! Rows are added only when the scenario asks for them (`[capacity]` for beds, an
//! intervention's `capacity` for the service rows), so scenarios without capacity keep
//! their metric tables byte for byte. Beds and peaks are formed per area from the area's
//! summed bed days (a peak does not add up over areas); places and staff are summed.

use crate::accounts::capacity::{beds_at_occupancy, year_passing, Peak, Profile};
use crate::accounts::metric::Metric;
use crate::accounts::metrics::{areas, Area, Metrics};
use crate::config::capacity::{CostBasis, InterventionCapacity};
use crate::config::scenario::Scenario;
use crate::core::care::Setting;
use crate::core::dims::N_IMD;
use crate::data::geography::Geography;
use crate::engine::simulation::NeighbourhoodResult;
use crate::model::activity::ActivityModel;

/// Adds the capacity rows of a scenario-run to `out`. `bed_base` lists current beds by
/// area name (`config::resolve::Resolved::bed_base`).
pub fn push_capacity(
    out: &mut Metrics,
    activity: &ActivityModel,
    scenario: &Scenario,
    geography: &Geography,
    results: &[NeighbourhoodResult],
    counterfactual: &[NeighbourhoodResult],
    bed_base: &[(String, f64)],
) {
    let has_interventions = !scenario.interventions.is_empty();
    let services: Vec<(usize, &InterventionCapacity)> = scenario
        .interventions
        .iter()
        .enumerate()
        .filter_map(|(k, i)| i.capacity.as_ref().map(|c| (k, c)))
        .collect();
    let bed_days = bed_days(results, counterfactual);
    for area in areas(geography) {
        if let Some(cap) = &scenario.capacity {
            let beds = BedSettings {
                occupancy: cap.target_occupancy,
                alpha: cap.days_over_allowed,
                profile: cap
                    .monthly_profile
                    .map_or_else(Profile::default, Profile::new),
                has_interventions,
                horizon: scenario.years,
            };
            let base = bed_base
                .iter()
                .find(|(a, _)| area.quintile.is_none() && *a == area.name)
                .map(|(_, b)| *b);
            beds.rows(out, &area, &area_bed_days(&bed_days, &area), base);
        }
        if !services.is_empty() && area.quintile.is_none() {
            for y in 0..scenario.years as usize {
                let rows = service_rows(scenario, activity, &services, results, &area, y);
                for (metric, v) in rows {
                    out.push(y as u32 + 1, area.level, &area.name, metric, v);
                }
            }
        }
    }
}

/// Emergency bed days `[neighbourhood][year][quintile]`: (scenario, counterfactual).
type BedDays = Vec<Vec<[(f64, f64); N_IMD]>>;

fn bed_days(results: &[NeighbourhoodResult], counterfactual: &[NeighbourhoodResult]) -> BedDays {
    let bd = Setting::EmergencyBedDays;
    results
        .iter()
        .zip(counterfactual)
        .map(|(r, cf)| {
            r.activity
                .iter()
                .zip(&cf.activity)
                .map(|(a, c)| {
                    std::array::from_fn(|q| {
                        (a.in_quintile(bd, q).0 as f64, c.in_quintile(bd, q).0 as f64)
                    })
                })
                .collect()
        })
        .collect()
}

/// An area's bed days by year: (scenario, counterfactual).
fn area_bed_days(nb: &BedDays, area: &Area) -> Vec<(f64, f64)> {
    let years = nb.first().map_or(0, Vec::len);
    (0..years)
        .map(|y| {
            let mut sum = (0.0, 0.0);
            for k in &area.members {
                let quintiles = match area.quintile {
                    Some(q) => q..q + 1,
                    None => 0..N_IMD,
                };
                for q in quintiles {
                    sum.0 += nb[*k][y][q].0;
                    sum.1 += nb[*k][y][q].1;
                }
            }
            sum
        })
        .collect()
}

/// How bed days become beds (`[capacity]`).
struct BedSettings {
    occupancy: f64,
    alpha: f64,
    profile: Profile,
    has_interventions: bool,
    horizon: u32,
}

impl BedSettings {
    /// An area's bed rows year by year, and the years its bed base is passed.
    fn rows(&self, out: &mut Metrics, area: &Area, days: &[(f64, f64)], base: Option<f64>) {
        let mut required = (Vec::new(), Vec::new());
        for (y, &(scenario, cf)) in days.iter().enumerate() {
            let mut put = |m: Metric, v: f64| out.push(y as u32 + 1, area.level, &area.name, m, v);
            let (beds, cf_beds) = (
                beds_at_occupancy(scenario, self.occupancy),
                beds_at_occupancy(cf, self.occupancy),
            );
            let (peak, cf_peak) = (
                Peak::new(scenario, &self.profile),
                Peak::new(cf, &self.profile),
            );
            let p95 = peak.beds_for_exceedance(self.alpha) as f64;
            put(Metric::BedsRequired, beds);
            put(Metric::BedsRequiredP95, p95);
            if self.has_interventions {
                put(Metric::CounterfactualBedsRequired, cf_beds);
                put(Metric::BedsReleased, cf_beds - beds);
                put(
                    Metric::BedsReleasedP95,
                    cf_peak.beds_for_exceedance(self.alpha) as f64 - p95,
                );
            }
            if let Some(b) = base {
                // Whole beds: a fractional base counts its whole beds.
                let whole = b.floor() as u64;
                let over = peak.days_over(whole);
                put(Metric::BedBase, b);
                put(Metric::DaysOverBedBase, over);
                if self.has_interventions {
                    put(
                        Metric::DaysOverBedBaseChange,
                        over - cf_peak.days_over(whole),
                    );
                }
            }
            required.0.push(beds);
            required.1.push(cf_beds);
        }
        if let Some(b) = base {
            let never = self.horizon + 1;
            let year = self.horizon;
            let passed = year_passing(&required.0, b).unwrap_or(never);
            let cf_passed = year_passing(&required.1, b).unwrap_or(never);
            out.push(
                year,
                area.level,
                &area.name,
                Metric::BedBasePassedYear,
                passed as f64,
            );
            out.push(
                year,
                area.level,
                &area.name,
                Metric::CounterfactualBedBasePassedYear,
                cf_passed as f64,
            );
        }
    }
}

/// One intervention's capacity in an area-year: enrolled, wanted and held person-years.
#[derive(Default)]
struct Held {
    enrolled: f64,
    wanted: f64,
    held: f64,
}

fn held(results: &[NeighbourhoodResult], area: &Area, k: usize, y: usize) -> Held {
    let mut h = Held::default();
    for m in &area.members {
        let iy = &results[*m].interventions[y];
        h.enrolled += iy.enrolled[k].iter().sum::<f64>();
        h.wanted += iy.wanted[k].iter().sum::<f64>();
        h.held += iy.capacity[k].unwrap_or(0.0);
    }
    h
}

/// The service rows of an area-year: utilisation, turned away, places, staff (in total,
/// by role and by intervention) and staff cost.
fn service_rows(
    scenario: &Scenario,
    activity: &ActivityModel,
    services: &[(usize, &InterventionCapacity)],
    results: &[NeighbourhoodResult],
    area: &Area,
    y: usize,
) -> Vec<(Metric, f64)> {
    let mut total = Held::default();
    let (mut places_provided, mut places_used, mut any_places) = (0.0, 0.0, false);
    let (mut staff, mut staff_cost, mut any_staff, mut any_cost) = (0.0, 0.0, false, false);
    let mut roles: Vec<(String, f64)> = Vec::new();
    let mut by_intervention = Vec::new();
    for (k, c) in services {
        let h = held(results, area, *k, y);
        let per_place = c.person_years_per_place();
        // Staff needed by the enrolment, and provided with the capacity.
        let (needed, provided) = match (&c.places, c.caseload_per_wte, c.wte_per_place) {
            (Some(_), _, Some(w)) => (h.enrolled / per_place * w, h.held / per_place * w),
            (None, Some(caseload), _) => (h.enrolled / caseload, h.held / caseload),
            _ => (0.0, 0.0),
        };
        if c.places.is_some() {
            any_places = true;
            places_provided += h.held / per_place;
            places_used += h.enrolled / per_place;
        }
        if c.staff_wte.is_some() || c.wte_per_place.is_some() {
            any_staff = true;
            staff += needed;
            by_intervention.push((scenario.interventions[*k].name.clone(), needed));
            for (role, share) in &c.roles {
                match roles.iter_mut().find(|(r, _)| r == role) {
                    Some((_, v)) => *v += share * needed,
                    None => roles.push((role.clone(), share * needed)),
                }
            }
        }
        if let Some(per_wte) = c.cost_per_wte {
            any_cost = true;
            let paid = match c.cost {
                CostBasis::Used => needed,
                CostBasis::Provided => provided,
            };
            // Grown as the programme cost is (`cost_inflation`, 0 in real prices).
            staff_cost += paid * per_wte * activity.cost_factor(y as u32 + 1);
        }
        total.enrolled += h.enrolled;
        total.wanted += h.wanted;
        total.held += h.held;
    }
    let mut rows = Vec::new();
    if total.held > 0.0 {
        rows.push((Metric::CapacityUtilisation, total.enrolled / total.held));
    }
    if total.wanted > 0.0 {
        rows.push((
            Metric::TurnedAwayShare,
            ((total.wanted - total.enrolled) / total.wanted).max(0.0),
        ));
    }
    if any_places {
        rows.push((Metric::PlacesProvided, places_provided));
        rows.push((Metric::PlacesUsed, places_used));
    }
    if any_staff {
        rows.push((Metric::StaffWte, staff));
        roles.sort_by(|a, b| a.0.cmp(&b.0));
        for (role, v) in roles {
            rows.push((Metric::RoleStaffWte(role), v));
        }
        for (name, v) in by_intervention {
            rows.push((Metric::InterventionStaffWte(name), v));
        }
    }
    if any_cost {
        rows.push((Metric::StaffCost, staff_cost));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::level::Level;

    /// By hand: 32,850 emergency bed days at 90% occupancy are 100 beds; a counterfactual
    /// of 36,135 (+10%) is 110, so 10 are released.
    #[test]
    fn beds_rows_by_hand() {
        let settings = BedSettings {
            occupancy: 0.9,
            alpha: 0.05,
            profile: Profile::flat(),
            has_interventions: true,
            horizon: 2,
        };
        let area = Area {
            level: Level::System,
            name: "S".into(),
            members: vec![0],
            quintile: None,
        };
        let mut out = Metrics::default();
        settings.rows(
            &mut out,
            &area,
            &[(32_850.0, 36_135.0), (32_850.0, 36_135.0)],
            Some(105.0),
        );
        let get = |m: Metric, year: i32| {
            (0..out.len())
                .find(|i| *out.metric(*i) == m && out.year[*i] == year)
                .map(|i| out.value[i])
        };
        assert!((get(Metric::BedsRequired, 1).unwrap() - 100.0).abs() < 1e-9);
        assert!((get(Metric::BedsReleased, 1).unwrap() - 10.0).abs() < 1e-9);
        // Mean occupied 90 a day; its 95% requirement is the Poisson(90) centile.
        let p95 = get(Metric::BedsRequiredP95, 1).unwrap();
        assert!(p95 > 90.0 && p95 < 110.0, "{p95}");
        // The counterfactual passes 105 beds in year 1, the scenario never (horizon + 1).
        assert_eq!(get(Metric::BedBasePassedYear, 2), Some(3.0));
        assert_eq!(get(Metric::CounterfactualBedBasePassedYear, 2), Some(1.0));
        assert!(get(Metric::DaysOverBedBaseChange, 1).unwrap() < 0.0);
    }
}
