//! The worked example of calibration (`examples/calibration/`): an observed file drawn
//! from a known "true" system, so that a fit can be checked against the truth. The true
//! system differs from capsim's defaults: each setting has its own level and spread of
//! area multipliers (lognormal, mean the level) and its own growth beyond demography.
//! Counts are Poisson around the simulator's demographic projection (the one the fit
//! uses, same seed) times the true multiplier and growth: the example tests the
//! statistics of the fit, not the demography.
//!
//! Years 2021-2024; GP appointments, A&E attendances, emergency admissions and outpatient
//! attendances by practice (as GPAD and SUS give them), emergency bed days by
//! neighbourhood, community nursing by place (CSDS). `truth.csv` holds every true
//! multiplier.

use std::fmt::Write as _;
use std::path::Path;

use rand_distr::{Distribution, Normal};

use crate::core::care::Setting;
use crate::core::error::{CapsimError, Result};
use crate::core::rng::{Purpose, StreamKey, StreamRng};
use crate::data::observed::{AreaIndex, AreaLevel};
use crate::engine::expected::ExpectedActivity;
use crate::io::tables::Staging;
use crate::model::activity::poisson;

use super::calibrate_local::{Calibrated, Context};

/// The observed years of the example; the last is held out.
pub const YEARS: [i32; 4] = [2021, 2022, 2023, 2024];
/// The year the example's validation starts.
pub const VALIDATE_FROM: i32 = 2024;

/// One setting of the true system: its level, log-scale spread between areas, yearly
/// growth beyond demography and the level it is observed at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrueSetting {
    pub setting: Setting,
    pub level: AreaLevel,
    pub multiplier: f64,
    pub spread: f64,
    pub growth: f64,
}

/// The true system (assumption: levels and spreads of the order of the variation between
/// practices, e.g. Dixon et al. BMJ 2011; growth of the order of recent years').
pub const TRUTH: [TrueSetting; 6] = [
    TrueSetting {
        setting: Setting::GpAppointments,
        level: AreaLevel::Practice,
        multiplier: 0.92,
        spread: 0.20,
        growth: 0.015,
    },
    TrueSetting {
        setting: Setting::AeAttendances,
        level: AreaLevel::Practice,
        multiplier: 1.10,
        spread: 0.15,
        growth: 0.03,
    },
    TrueSetting {
        setting: Setting::EmergencyAdmissions,
        level: AreaLevel::Practice,
        multiplier: 1.15,
        spread: 0.12,
        growth: 0.01,
    },
    TrueSetting {
        setting: Setting::OutpatientAttendances,
        level: AreaLevel::Practice,
        multiplier: 0.95,
        spread: 0.10,
        growth: 0.02,
    },
    TrueSetting {
        setting: Setting::EmergencyBedDays,
        level: AreaLevel::Neighbourhood,
        multiplier: 1.05,
        spread: 0.10,
        growth: -0.01,
    },
    TrueSetting {
        setting: Setting::CommunityNursing,
        level: AreaLevel::Place,
        multiplier: 1.20,
        spread: 0.15,
        growth: 0.0,
    },
];

fn rng(seed: u64, area: usize, what: u64) -> StreamRng {
    StreamKey {
        seed,
        run: what,
        neighbourhood: area as u64,
        year: 0,
        purpose: Purpose::Calibration,
    }
    .rng()
}

/// Writes `observed.csv` and `truth.csv` of seed `seed` into `dir`, atomically, against
/// the projection `expected` of `target` (which must cover [`YEARS`]).
pub fn write_example(
    target: &Calibrated,
    expected: &ExpectedActivity,
    seed: u64,
    dir: &Path,
) -> Result<()> {
    if (expected.years as usize) < YEARS.len() {
        return Err(CapsimError::InvalidSetting {
            setting: "example".into(),
            problem: format!("the projection must cover {} years", YEARS.len()),
        });
    }
    let index = AreaIndex::new(&target.geography, &target.practices);
    let ctx = Context {
        index: &index,
        expected,
        first: YEARS[0],
    };
    let mut observed = String::from("year,level,area,setting,count\n");
    let mut truth = String::from("level,area,setting,multiplier\n");
    let z = Normal::new(0.0, 1.0).expect("unit normal");
    for (k, t) in TRUTH.iter().enumerate() {
        for (a, area) in index.areas.iter().enumerate() {
            if area.level != t.level {
                continue;
            }
            let mut r = rng(seed, a, k as u64);
            let m = t.multiplier * (t.spread * z.sample(&mut r) - 0.5 * t.spread * t.spread).exp();
            let _ = writeln!(
                truth,
                "{},{},{},{m}",
                t.level.id(),
                csv(&area.name),
                t.setting.id()
            );
            for year in YEARS {
                let e = ctx.expected_of(a, year, t.setting);
                let grown = (1.0 + t.growth).powi(year - YEARS[0]);
                let count = poisson(e * m * grown, &mut r);
                let _ = writeln!(
                    observed,
                    "{year},{},{},{},{count}",
                    t.level.id(),
                    csv(&area.name),
                    t.setting.id()
                );
            }
        }
    }
    let mut staging = Staging::named(dir, "example")?;
    for (name, text) in [("observed.csv", observed), ("truth.csv", truth)] {
        let path = staging.path(name)?;
        std::fs::write(&path, text).map_err(|e| CapsimError::io(&path, e))?;
    }
    staging.commit()
}

/// A CSV cell, quoted when it holds a comma or quote.
fn csv(s: &str) -> String {
    if s.contains([',', '"']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
