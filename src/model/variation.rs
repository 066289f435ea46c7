//! What differs between areas besides their people.
//!
//! **Unexplained variation of activity.** Real neighbourhoods differ in their use of care
//! for reasons no allocation formula sees: practice style (referral and admission
//! thresholds), supply (beds, clinics, community teams) and need the records miss. Each
//! neighbourhood gets a persistent lognormal multiplier (mean 1) on its activity rates in
//! every setting. Hospital settings share one hospital factor besides a part of their own,
//! so a neighbourhood that admits more also tends to attend and refer more; the other
//! settings vary independently. Emergency bed days follow admissions (length of stay is not
//! varied). The persistent multipliers come from a stream keyed by seed and neighbourhood
//! only, so they are the same in every Monte Carlo run: they are part of the systematic
//! error of a formula, not chance. A smaller year-to-year wobble (also lognormal, mean 1,
//! independent by setting) is drawn per run, neighbourhood and year: that is chance.
//!
//! **Local costs.** A place's market forces factor scales its unit costs in every setting,
//! and its rurality index further scales the settings delivered in people's homes
//! ([`Setting::cost_rises_with_distance`]), so that the capitation adjustments for them
//! compensate cost differences rather than creating surpluses.
//!
//! Both are computed once per neighbourhood-year and shared by the counterfactual and
//! every scenario simulated with it (common random numbers); with a setting switched off
//! its multipliers are exactly 1, which leaves every result as it was without them.

use rand_distr::{Distribution, StandardNormal};

use crate::config::scenario::Variation;
use crate::core::care::{Setting, N_SETTINGS};
use crate::core::rng::{Purpose, StreamKey, StreamRng};
use crate::data::datasets::{Datasets, PlaceFactors};

/// Multipliers of one neighbourhood-year, by setting ([`Setting::index`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AreaFactors {
    /// On expected activity (rates).
    pub activity: [f64; N_SETTINGS],
    /// On unit costs.
    pub cost: [f64; N_SETTINGS],
}

impl AreaFactors {
    /// National rates and costs.
    pub const NONE: AreaFactors = AreaFactors {
        activity: [1.0; N_SETTINGS],
        cost: [1.0; N_SETTINGS],
    };
}

/// The sizes of the variation (log-scale standard deviations, from
/// `datasets/parameters.csv`) and each place's cost factors.
#[derive(Debug, Clone)]
pub struct AreaVariation {
    hospital_shared_sd: f64,
    hospital_setting_sd: f64,
    other_sd: f64,
    yearly_sd: f64,
    places: Vec<PlaceFactors>,
    /// Multipliers fitted to observed activity (`capsim calibrate --observed`), by
    /// neighbourhood id: where given, they replace the random persistent ones.
    calibrated: Option<CalibratedRates>,
}

/// Persistent multipliers on national rates fitted to an area's observed activity, by
/// neighbourhood id and setting (`None`: not calibrated, the random one is kept).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CalibratedRates {
    pub by_neighbourhood: std::collections::BTreeMap<u64, [Option<f64>; N_SETTINGS]>,
}

/// Lane of the shared hospital factor within a neighbourhood's stream; settings take lanes
/// `1 + index`, so adding a setting does not move another's draw.
const SHARED_LANE: u64 = 0;

fn normal(rng: &mut StreamRng) -> f64 {
    StandardNormal.sample(rng)
}

/// A lognormal multiplier with mean 1 from a standard normal `z` and log-scale sd `sd`.
fn lognormal(z: f64, sd: f64) -> f64 {
    (sd * z - 0.5 * sd * sd).exp()
}

impl AreaVariation {
    pub fn new(d: &Datasets) -> Self {
        let p = &d.parameters;
        AreaVariation {
            hospital_shared_sd: p.variation_hospital_shared_sd,
            hospital_setting_sd: p.variation_hospital_setting_sd,
            other_sd: p.variation_other_sd,
            yearly_sd: p.variation_yearly_sd,
            places: d.place_factors.clone(),
            calibrated: None,
        }
    }

    /// The log-scale sd of the year-to-year wobble.
    pub fn yearly_sd(&self) -> f64 {
        self.yearly_sd
    }

    /// Replaces the random persistent multipliers by calibrated ones where they are given.
    pub fn calibrate(&mut self, rates: CalibratedRates) {
        self.calibrated = Some(rates);
    }

    /// The calibrated multipliers of a neighbourhood, if any: applied whether or not
    /// `[variation] between_areas` is on, because they are the area's measured rates, not
    /// a draw; derived settings (bed days) follow their parent, as the random ones do.
    fn calibrated_of(&self, neighbourhood: u64) -> Option<[Option<f64>; N_SETTINGS]> {
        let mut m = *self
            .calibrated
            .as_ref()?
            .by_neighbourhood
            .get(&neighbourhood)?;
        for s in Setting::ALL {
            if let Some(parent) = s.derived_from() {
                m[s.index()] = m[parent.index()];
            }
        }
        Some(m)
    }

    /// The persistent multipliers of a neighbourhood (by its id): the same in every run.
    pub fn persistent(&self, seed: u64, neighbourhood: u64) -> [f64; N_SETTINGS] {
        let key = StreamKey {
            seed,
            run: 0,
            neighbourhood,
            year: 0,
            purpose: Purpose::AreaVariation,
        };
        let shared = normal(&mut key.lane(SHARED_LANE));
        let (hs, ss) = (self.hospital_shared_sd, self.hospital_setting_sd);
        let mut out = [1.0; N_SETTINGS];
        for s in Setting::ALL {
            if s.derived_from().is_some() {
                continue;
            }
            let own = normal(&mut key.lane(1 + s.index() as u64));
            out[s.index()] = if s.is_hospital() {
                (hs * shared + ss * own - 0.5 * (hs * hs + ss * ss)).exp()
            } else {
                lognormal(own, self.other_sd)
            };
        }
        follow_parents(&mut out);
        out
    }

    /// The year-to-year wobble of a neighbourhood-year in run `run`.
    pub fn yearly(&self, seed: u64, run: u64, neighbourhood: u64, year: u32) -> [f64; N_SETTINGS] {
        let key = StreamKey {
            seed,
            run,
            neighbourhood,
            year: year as u64,
            purpose: Purpose::YearVariation,
        };
        let mut out = [1.0; N_SETTINGS];
        for s in Setting::ALL {
            if s.derived_from().is_none() {
                out[s.index()] = lognormal(normal(&mut key.lane(s.index() as u64)), self.yearly_sd);
            }
        }
        follow_parents(&mut out);
        out
    }

    /// Unit cost multipliers of a place (by name; places not listed: 1): its market forces
    /// factor, times its rurality index where care is delivered at home.
    pub fn place_costs(&self, place: &str) -> [f64; N_SETTINGS] {
        let Some(p) = self.places.iter().find(|p| p.place == place) else {
            return [1.0; N_SETTINGS];
        };
        std::array::from_fn(|i| {
            let s = Setting::ALL[i];
            if s.cost_rises_with_distance() {
                p.market_forces_factor * p.rurality_index
            } else {
                p.market_forces_factor
            }
        })
    }

    /// Everything of one neighbourhood-year that the switches turn on.
    pub fn factors(
        &self,
        switches: Variation,
        (seed, run): (u64, u64),
        (neighbourhood, place): (u64, &str),
        year: u32,
    ) -> AreaFactors {
        let mut f = AreaFactors::NONE;
        if switches.between_areas {
            let p = self.persistent(seed, neighbourhood);
            let y = self.yearly(seed, run, neighbourhood, year);
            f.activity = std::array::from_fn(|i| p[i] * y[i]);
        }
        if let Some(c) = self.calibrated_of(neighbourhood) {
            let y = if switches.between_areas {
                self.yearly(seed, run, neighbourhood, year)
            } else {
                [1.0; N_SETTINGS]
            };
            for (i, m) in c.iter().enumerate() {
                if let Some(m) = m {
                    f.activity[i] = m * y[i];
                }
            }
        }
        if switches.place_costs {
            f.cost = self.place_costs(place);
        }
        f
    }
}

/// Derived settings (bed days) take the multiplier of the setting they derive from.
fn follow_parents(m: &mut [f64; N_SETTINGS]) {
    for s in Setting::ALL {
        if let Some(parent) = s.derived_from() {
            m[s.index()] = m[parent.index()];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> AreaVariation {
        AreaVariation::new(&Datasets::bundled().unwrap())
    }

    #[test]
    fn persistent_multipliers_have_mean_one_and_the_configured_spread() {
        let v = bundled();
        let n = 20_000;
        let adm = Setting::EmergencyAdmissions.index();
        let gp = Setting::GpAppointments.index();
        let (mut sum_adm, mut sum_gp, mut log_adm) = (0.0, 0.0, Vec::with_capacity(n));
        for k in 0..n as u64 {
            let m = v.persistent(3, k);
            sum_adm += m[adm];
            sum_gp += m[gp];
            log_adm.push(m[adm].ln());
            assert_eq!(m[Setting::EmergencyBedDays.index()], m[adm]);
        }
        assert!((sum_adm / n as f64 - 1.0).abs() < 0.005);
        assert!((sum_gp / n as f64 - 1.0).abs() < 0.005);
        let mean = log_adm.iter().sum::<f64>() / n as f64;
        let sd = (log_adm.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        let want = (v.hospital_shared_sd.powi(2) + v.hospital_setting_sd.powi(2)).sqrt();
        assert!((sd - want).abs() < 0.05 * want, "{sd} vs {want}");
    }

    #[test]
    fn hospital_settings_are_correlated_and_others_are_not() {
        let v = bundled();
        let n = 20_000;
        let corr = |a: Setting, b: Setting| {
            let xs: Vec<(f64, f64)> = (0..n as u64)
                .map(|k| {
                    let m = v.persistent(5, k);
                    (m[a.index()].ln(), m[b.index()].ln())
                })
                .collect();
            let (ma, mb) = (
                xs.iter().map(|x| x.0).sum::<f64>() / n as f64,
                xs.iter().map(|x| x.1).sum::<f64>() / n as f64,
            );
            let cov: f64 = xs.iter().map(|x| (x.0 - ma) * (x.1 - mb)).sum();
            let va: f64 = xs.iter().map(|x| (x.0 - ma).powi(2)).sum();
            let vb: f64 = xs.iter().map(|x| (x.1 - mb).powi(2)).sum();
            cov / (va * vb).sqrt()
        };
        let (hs, ss) = (v.hospital_shared_sd, v.hospital_setting_sd);
        let want = hs * hs / (hs * hs + ss * ss);
        let r = corr(Setting::AeAttendances, Setting::ElectiveAdmissions);
        assert!((r - want).abs() < 0.03, "{r} vs {want}");
        let r = corr(Setting::GpAppointments, Setting::CommunityNursing);
        assert!(r.abs() < 0.03, "{r}");
    }

    /// Calibrated multipliers replace the persistent ones of the settings and
    /// neighbourhoods they cover, times the yearly wobble when it is on, and exactly
    /// with it off; bed days follow admissions; everything else is untouched.
    #[test]
    fn calibrated_multipliers_replace_the_persistent_ones_they_cover() {
        let plain = bundled();
        let mut v = bundled();
        let (gp, adm, days) = (
            Setting::GpAppointments.index(),
            Setting::EmergencyAdmissions.index(),
            Setting::EmergencyBedDays.index(),
        );
        let mut m = [None; N_SETTINGS];
        m[gp] = Some(0.8);
        m[adm] = Some(1.3);
        let mut rates = CalibratedRates::default();
        rates.by_neighbourhood.insert(7, m);
        v.calibrate(rates);
        let on = Variation::default();
        let f = v.factors(on, (42, 3), (7, "Eastmoor Dales"), 2);
        let p = plain.factors(on, (42, 3), (7, "Eastmoor Dales"), 2);
        let y = plain.yearly(42, 3, 7, 2);
        assert_eq!(f.activity[gp], 0.8 * y[gp]);
        assert_eq!(f.activity[adm], 1.3 * y[adm]);
        assert_eq!(f.activity[days], 1.3 * y[days]);
        let ae = Setting::AeAttendances.index();
        assert_eq!(f.activity[ae], p.activity[ae]);
        assert_eq!(f.cost, p.cost);
        let other = v.factors(on, (42, 3), (8, "Eastmoor Dales"), 2);
        assert_eq!(other, plain.factors(on, (42, 3), (8, "Eastmoor Dales"), 2));
        let off = v.factors(Variation::OFF, (42, 3), (7, "Eastmoor Dales"), 2);
        assert_eq!(off.activity[gp], 0.8);
        assert_eq!(off.activity[days], 1.3);
        assert_eq!(off.activity[ae], 1.0);
    }

    #[test]
    fn switched_off_everything_is_exactly_one() {
        let v = bundled();
        for k in 0..50 {
            let f = v.factors(Variation::OFF, (42, 3), (k, "Eastmoor Dales"), 2);
            assert_eq!(f, AreaFactors::NONE);
        }
    }

    #[test]
    fn place_costs_follow_market_forces_and_rurality_at_home() {
        let v = bundled();
        let c = v.place_costs("Eastmoor Dales");
        assert_eq!(c[Setting::ElectiveAdmissions.index()], 0.96);
        assert_eq!(c[Setting::CommunityNursing.index()], 0.96 * 1.04);
        assert_eq!(c[Setting::HomeCareHours.index()], 0.96 * 1.04);
        assert_eq!(v.place_costs("Nowhere"), [1.0; N_SETTINGS]);
    }
}
