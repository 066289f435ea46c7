//! Capacity in a scenario: how bed days become beds (`[capacity]`), and what an
//! intervention can take on (`capacity` of an `[[intervention]]`: places or staff).
//!
//! Checked as each file is parsed, so errors carry the line: amounts may not be negative,
//! a service gives places or staff (not both), a stay comes with its episodes, roles'
//! shares sum to 1. Checks against the coverage (no enrolment without a place) run once the
//! intervention is read ([`check_against_coverage`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use crate::config::located::checked;

/// `[capacity]`: beds from bed days. Present, the run reports beds required (average at
/// the target occupancy, and the peak), beds released, and days over a given bed base.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    /// Share of beds occupied on average that beds are planned for. Default 0.92:
    /// assumption, NHS England's planning convention for general and acute beds (not read
    /// here); 0.85 is the older convention (Bagust, Place and Posnett, BMJ 1999;319:155:
    /// bed crises become frequent above 85%). Actual occupancy has run at about 90-95%
    /// (NHS England, Bed availability and occupancy KH03, 2023/24).
    #[serde(default = "target_occupancy", deserialize_with = "occupancy")]
    pub target_occupancy: f64,
    /// The share of days on which occupied beds may exceed the peak bed requirement
    /// (`beds_required_p95` at the default 0.05).
    #[serde(default = "peak_share", deserialize_with = "days_share")]
    pub days_over_allowed: f64,
    /// Occupied emergency bed days by month, January first, as multipliers (normalised to a
    /// mean of 1); absent, `accounts::capacity::DEFAULT_PROFILE` (an assumption).
    #[serde(default, deserialize_with = "monthly_profile")]
    pub monthly_profile: Option<[f64; 12]>,
    /// A CSV of current beds (`area,beds`), relative to the scenario file: areas are
    /// systems, places or neighbourhoods of the simulated geography.
    #[serde(default)]
    pub beds_file: Option<PathBuf>,
}

fn target_occupancy() -> f64 {
    0.92
}

fn peak_share() -> f64 {
    0.05
}

fn occupancy<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    checked(d, |v: &f64| {
        if v.is_finite() && (0.5..=1.0).contains(v) {
            Ok(())
        } else {
            Err(format!("{v} is not allowed; use 0.5 to 1"))
        }
    })
}

fn days_share<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    checked(d, |v: &f64| {
        if v.is_finite() && *v > 0.0 && *v < 1.0 {
            Ok(())
        } else {
            Err(format!(
                "{v} is not allowed; use a share of days above 0 and below 1 (e.g. 0.05)"
            ))
        }
    })
}

fn monthly_profile<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<[f64; 12]>, D::Error> {
    let v = Vec::<f64>::deserialize(d)?;
    let months: [f64; 12] = v.clone().try_into().map_err(|_| {
        D::Error::custom(format!(
            "{} values given; give 12, January to December",
            v.len()
        ))
    })?;
    if let Some(x) = months.iter().find(|x| !x.is_finite() || **x <= 0.0) {
        return Err(D::Error::custom(format!(
            "{x} is not allowed; each month's multiplier must be above 0"
        )));
    }
    Ok(Some(months))
}

/// Numbers by year (1 first), the last carried on; one number means every year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PerYear(pub Vec<f64>);

impl PerYear {
    /// The value in simulation year `year` (1-based).
    pub fn in_year(&self, year: u32) -> f64 {
        let i = (year.max(1) as usize - 1).min(self.0.len() - 1);
        self.0[i]
    }
}

impl<'de> Deserialize<'de> for PerYear {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(f64),
            Years(Vec<f64>),
        }
        let v = match Raw::deserialize(d).map_err(|_| {
            D::Error::custom("give a number, or a list of numbers by year (the last carried on)")
        })? {
            Raw::One(x) => vec![x],
            Raw::Years(v) => v,
        };
        if v.is_empty() {
            return Err(D::Error::custom(
                "the list is empty; give at least one year",
            ));
        }
        if let Some(x) = v.iter().find(|x| !x.is_finite() || **x < 0.0) {
            return Err(D::Error::custom(format!(
                "{x} is not allowed; use 0 or more"
            )));
        }
        Ok(PerYear(v))
    }
}

/// What an intervention's running cost follows when it declares capacity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostBasis {
    /// `cost_per_enrolled` x enrolled person-years: the capacity used (as without capacity).
    #[default]
    Used,
    /// `cost_per_enrolled` x the person-years the capacity provided could hold: places and
    /// staff are paid for whether filled or not.
    Provided,
}

/// An intervention's capacity: places (virtual-ward beds, with a stay per episode, or
/// caseload places a person holds all year) or staff with a caseload each. Enrolment is
/// capped at what it can hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterventionCapacity {
    /// Places by year: virtual-ward beds (with `length_of_stay_days`) or caseload places.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub places: Option<PerYear>,
    /// Days a virtual-ward episode holds a place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length_of_stay_days: Option<f64>,
    /// Virtual-ward episodes per enrolled person-year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub episodes_per_enrolled: Option<f64>,
    /// Whole-time equivalent staff by year (instead of places).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_wte: Option<PerYear>,
    /// Enrolled people one WTE holds on its caseload (with `staff_wte`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caseload_per_wte: Option<f64>,
    /// Staff a place in use needs (with `places`), for the workforce figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wte_per_place: Option<f64>,
    /// Shares of the staff by role (names of letters, digits and '_'), summing to 1.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub roles: BTreeMap<String, f64>,
    /// Pounds a year per WTE (2023/24 prices): the staff cost, a part of the programme
    /// cost (not added to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_per_wte: Option<f64>,
    #[serde(default)]
    pub cost: CostBasis,
}

impl InterventionCapacity {
    /// Enrolled person-years the capacity can hold in year `year`: caseload places hold
    /// one person-year each; a virtual-ward place holds 365 / (stay x episodes per enrolled
    /// person-year); a WTE holds its caseload.
    pub fn person_years(&self, year: u32) -> f64 {
        match (&self.places, &self.staff_wte) {
            (Some(p), _) => p.in_year(year) * self.person_years_per_place(),
            (None, Some(s)) => s.in_year(year) * self.caseload_per_wte.unwrap_or(0.0),
            (None, None) => 0.0,
        }
    }

    /// Enrolled person-years one place holds.
    pub fn person_years_per_place(&self) -> f64 {
        match (self.length_of_stay_days, self.episodes_per_enrolled) {
            (Some(los), Some(e)) => 365.0 / (los * e),
            _ => 1.0,
        }
    }

    /// Places or staff provided in year `year`, in the unit given.
    pub fn provided(&self, year: u32) -> f64 {
        self.places
            .as_ref()
            .or(self.staff_wte.as_ref())
            .map_or(0.0, |p| p.in_year(year))
    }
}

fn positive(v: Option<f64>, what: &str) -> std::result::Result<(), String> {
    match v {
        Some(x) if !x.is_finite() || x <= 0.0 => {
            Err(format!("{what} = {x} is not allowed; use a number above 0"))
        }
        _ => Ok(()),
    }
}

/// Checks across the fields of an intervention's `capacity`.
pub(crate) fn intervention_capacity<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<InterventionCapacity>, D::Error> {
    checked(d, |c: &InterventionCapacity| {
        match (&c.places, &c.staff_wte) {
            (Some(_), Some(_)) => {
                return Err("give `places` or `staff_wte`, not both".into());
            }
            (None, None) => {
                return Err(
                    "give `places` (virtual-ward or caseload places) or `staff_wte` \
                            with `caseload_per_wte`"
                        .into(),
                );
            }
            _ => {}
        }
        positive(c.length_of_stay_days, "length_of_stay_days")?;
        positive(c.episodes_per_enrolled, "episodes_per_enrolled")?;
        positive(c.caseload_per_wte, "caseload_per_wte")?;
        if c.length_of_stay_days.is_some() != c.episodes_per_enrolled.is_some() {
            return Err(
                "`length_of_stay_days` and `episodes_per_enrolled` go together: a \
                        virtual-ward place is used for a stay per episode"
                    .into(),
            );
        }
        if c.staff_wte.is_some() {
            if c.caseload_per_wte.is_none() {
                return Err(
                    "`staff_wte` needs `caseload_per_wte` (enrolled people per WTE)".into(),
                );
            }
            if c.length_of_stay_days.is_some() || c.wte_per_place.is_some() {
                return Err("`length_of_stay_days`, `episodes_per_enrolled` and \
                            `wte_per_place` go with `places`, not `staff_wte`"
                    .into());
            }
        } else if c.caseload_per_wte.is_some() {
            return Err("`caseload_per_wte` goes with `staff_wte`".into());
        }
        if let Some(w) = c.wte_per_place {
            if !w.is_finite() || w < 0.0 {
                return Err(format!("wte_per_place = {w} is not allowed; use 0 or more"));
            }
        }
        if let Some(w) = c.cost_per_wte {
            if !w.is_finite() || w < 0.0 {
                return Err(format!(
                    "cost_per_wte = {w} is not allowed; use 0 or more pounds"
                ));
            }
        }
        let has_staff = c.staff_wte.is_some() || c.wte_per_place.is_some();
        if (c.cost_per_wte.is_some() || !c.roles.is_empty()) && !has_staff {
            return Err(
                "`roles` and `cost_per_wte` need staff: `wte_per_place` with \
                        `places`, or `staff_wte`"
                    .into(),
            );
        }
        check_roles(&c.roles)
    })
    .map(Some)
}

fn check_roles(roles: &BTreeMap<String, f64>) -> std::result::Result<(), String> {
    for (name, share) in roles {
        let ok = !name.is_empty()
            && name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
        if !ok {
            return Err(format!(
                "role `{name}` is not allowed; use letters, digits and '_'"
            ));
        }
        if !share.is_finite() || *share < 0.0 {
            return Err(format!(
                "roles.{name} = {share} is not allowed; use a share from 0 to 1"
            ));
        }
    }
    let total: f64 = roles.values().sum();
    if !roles.is_empty() && (total - 1.0).abs() > 1e-9 {
        return Err(format!(
            "the roles' shares sum to {total}; they must sum to 1"
        ));
    }
    Ok(())
}

/// Refuses capacity that turns everyone away: a year with enrolment (coverage above 0)
/// and no places or staff. Years beyond the longer of the list and the coverage ramp
/// repeat the last, so those are all the years to check. Returns the problem.
pub(crate) fn check_against_coverage(
    c: &InterventionCapacity,
    coverage: impl Fn(u32) -> f64,
    ramp_years: u32,
) -> std::result::Result<(), String> {
    let listed = c
        .places
        .as_ref()
        .or(c.staff_wte.as_ref())
        .map_or(1, |p| p.0.len());
    let last = (listed as u32).max(ramp_years + 1);
    for year in 1..=last {
        if coverage(year) > 0.0 && c.provided(year) <= 0.0 {
            let what = if c.places.is_some() {
                "places"
            } else {
                "staff_wte"
            };
            return Err(format!(
                "{what} is 0 in year {year}, when coverage is {}: enrolment needs capacity; \
                 give a number above 0 (or coverage 0 that year)",
                coverage(year)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_virtual_ward_place_holds_its_episodes() {
        let c = InterventionCapacity {
            places: Some(PerYear(vec![10.0, 20.0])),
            length_of_stay_days: Some(7.0),
            episodes_per_enrolled: Some(0.5),
            staff_wte: None,
            caseload_per_wte: None,
            wte_per_place: None,
            roles: BTreeMap::new(),
            cost_per_wte: None,
            cost: CostBasis::Used,
        };
        // A place is used 365 / 7 stays a year, each person needs 0.5 stays.
        assert!((c.person_years(1) - 10.0 * 365.0 / 3.5).abs() < 1e-9);
        assert!((c.person_years(5) - 20.0 * 365.0 / 3.5).abs() < 1e-9);
        assert_eq!(c.provided(9), 20.0);
    }

    /// A caseload service: 4 WTE with 30 people each hold 120 person-years; year 3
    /// repeats the last listed year.
    #[test]
    fn staff_hold_their_caseload() {
        let c = InterventionCapacity {
            places: None,
            length_of_stay_days: None,
            episodes_per_enrolled: None,
            staff_wte: Some(PerYear(vec![2.0, 4.0])),
            caseload_per_wte: Some(30.0),
            wte_per_place: None,
            roles: BTreeMap::new(),
            cost_per_wte: None,
            cost: CostBasis::Provided,
        };
        assert_eq!(c.person_years(1), 60.0);
        assert_eq!(c.person_years(3), 120.0);
        assert!(check_against_coverage(&c, |_| 0.5, 0).is_ok());
        let none = InterventionCapacity {
            staff_wte: Some(PerYear(vec![0.0, 4.0])),
            ..c
        };
        let err = check_against_coverage(&none, |_| 0.5, 0).unwrap_err();
        assert!(err.contains("staff_wte is 0 in year 1"), "{err}");
        // No enrolment in year 1 needs no staff then.
        assert!(check_against_coverage(&none, |y| if y == 1 { 0.0 } else { 0.5 }, 0).is_ok());
    }
}
