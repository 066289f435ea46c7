//! What people contribute to a year's care: their exposure (risk-weighted presence) in the
//! model's cells, and, for checks of how spend concentrates, per-person draws.

use crate::core::care::Setting;
use crate::core::dims::Cell;
use crate::core::rng::StreamRng;
use crate::engine::population::People;
use crate::model::activity::{poisson, ActivityModel};

/// Adds a person's exposure (risk x weight) into `exposure` and their presence (weight)
/// into `presence`, in their own segment.
#[inline]
pub fn add_exposure(
    people: &People,
    i: usize,
    weight: f64,
    exposure: &mut [f64],
    presence: &mut [f64],
) {
    add_exposure_in(people, i, people.segment[i], weight, exposure, presence);
}

/// Like [`add_exposure`], in a given segment: a mother's year counts in maternity, and a
/// transition moves half a year from the old segment to the new one (a negative weight).
#[inline]
pub fn add_exposure_in(
    people: &People,
    i: usize,
    segment: u8,
    weight: f64,
    exposure: &mut [f64],
    presence: &mut [f64],
) {
    let c = Cell::of(people.age[i], people.sex[i], people.imd[i], segment).exposure();
    exposure[c] += weight * people.risk[i] as f64;
    presence[c] += weight;
}

/// Per-person draw of one year's hospital spend in pence (emergency, bed days, elective,
/// outpatient, A&E), for checks on how spend concentrates.
pub fn person_hospital_spend(
    model: &ActivityModel,
    people: &People,
    i: usize,
    rng: &mut StreamRng,
) -> i64 {
    let cell = Cell::of(
        people.age[i],
        people.sex[i],
        people.imd[i],
        people.segment[i],
    )
    .exposure();
    let risk = people.risk[i] as f64;
    let mut pence = 0i64;
    for s in [
        Setting::AeAttendances,
        Setting::EmergencyAdmissions,
        Setting::ElectiveAdmissions,
        Setting::OutpatientAttendances,
    ] {
        let n = poisson(model.rate(s, cell) * risk, rng);
        pence += n as i64 * model.unit_cost_pence(s, 1);
        if s == Setting::EmergencyAdmissions {
            let days = model.total_length_of_stay(n, model.los_of_cell(cell), rng);
            pence += days as i64 * model.unit_cost_pence(Setting::EmergencyBedDays, 1);
        }
    }
    pence
}
