//! The counterfactual looks like England: demand grows beyond demography, the last year of life costs more, only
//! mothers and infants are in maternity, and long-stay care is not short in year one.

use capsim::core::care::Setting;
use capsim::core::dims::{band_of, n_cells, n_exposure_cells, Cell, FEMALE, N_BANDS, N_SEX};
use capsim::core::rng::StreamKey;
use capsim::engine::simulation::{simulate, NeighbourhoodResult, SimConfig};
use capsim::model::activity::Trends;

use crate::util::StepOne;
use crate::util::{bundled, people_of};

fn baseline(years: u32, trends: Trends) -> Vec<NeighbourhoodResult> {
    let (_, model, geography) = bundled();
    let config = SimConfig {
        seed: 11,
        run: 0,
        years,
        variation: Default::default(),
        mortality: Default::default(),
        trends,
    };
    simulate(&model, &geography, &config, 2, &|| {}).unwrap()
}

fn total(r: &[NeighbourhoodResult], year: usize, s: Setting) -> f64 {
    r.iter().map(|n| n.activity[year].count_of(s) as f64).sum()
}

/// The baseline's emergency admissions grow at England's historical pace: 3.2% a year
/// from 2006/07 to 2017/18 (Health Foundation, Emergency hospital admissions in England:
/// which may be avoidable and how?, 2018). Demography alone gives about 1.1% a year.
#[test]
fn baseline_emergency_admissions_grow_at_the_historical_pace() {
    let (_, model, _) = bundled();
    let growth = |r: &[NeighbourhoodResult]| {
        let a = Setting::EmergencyAdmissions;
        (total(r, 9, a) / total(r, 0, a)).powf(1.0 / 9.0) - 1.0
    };
    let with = growth(&baseline(10, model.activity.default_trends()));
    let without = growth(&baseline(10, Trends::NONE));
    eprintln!("emergency admissions a year: with trends {with:.4}, demography only {without:.4}");
    assert!((with - 0.032).abs() < 0.003, "with trends {with}");
    assert!(without < 0.02, "demography only {without}");
}

/// Only women of an age with births, and infants, are in maternity; every birth puts its
/// mother there for the year, so presence of women aged 15+ in maternity is the year's
/// mothers (a full year for those who stay, half for those who leave).
#[test]
fn maternity_holds_mothers_and_infants_only() {
    let (d, model, geography) = bundled();
    let ns = model.segments.len();
    let mat = model.segments.newborn() as usize;
    let r = baseline(3, Trends::NONE);
    let cells = n_cells(ns);
    for n in &r {
        for y in 0..=3 {
            for c in Cell::all(ns).filter(|c| c.segment == mat && c.band >= 3) {
                assert_eq!(
                    n.census[y * cells + c.census(ns)],
                    0,
                    "adult in maternity {c:?}"
                );
            }
        }
    }
    let people = people_of(&model, &geography, 3, 4);

    let key = |p| StreamKey {
        seed: 1,
        run: 0,
        neighbourhood: 0,
        year: 1,
        purpose: p,
    };
    let StepOne {
        exits: e,
        keep,
        mother,
        presence,
        ..
    } = crate::util::step_one(&model, &people, key);
    let (mut stay, mut left, mut men) = (0.0, 0.0, 0.0);
    for i in 0..people.len() {
        if mother[i] {
            if keep[i] {
                stay += 1.0
            } else {
                left += 1.0
            }
        }
    }
    let mut adult_women = 0.0;
    for c in Cell::all(ns).filter(|c| c.segment == mat && c.band >= 3) {
        if c.sex == FEMALE as usize {
            adult_women += presence[c.exposure()];
        } else {
            men += presence[c.exposure()];
        }
    }
    let born: u64 = e.born.iter().sum();
    eprintln!("births {born}, mothers staying {stay}, leaving {left}");
    assert_eq!(men, 0.0);
    assert_eq!((stay + left) as u64, born);
    assert!((adult_women - (stay + 0.5 * left)).abs() < 1e-6);
    let _ = d;
}

/// Expected hospital cost of a death in the year (its last year of life: half a year of
/// ordinary use plus the extra of `end_of_life.csv`) against the published figure,
/// about £15,000 (Nuffield Trust and Health Economics Unit for Marie Curie, 2025:
/// £34,000 of public spending per death in 2022, 12/22 of it on health care and 81% of
/// that in hospital).
#[test]
fn hospital_cost_of_a_death_matches_the_published_figure() {
    let (_, model, geography) = bundled();
    let ns = model.segments.len();
    let people = people_of(&model, &geography, 10, 5);
    let ce = n_exposure_cells(ns);
    let key = |p| StreamKey {
        seed: 2,
        run: 0,
        neighbourhood: 0,
        year: 1,
        purpose: p,
    };
    let StepOne { dying, .. } = crate::util::step_one(&model, &people, key);
    let a = &model.activity;
    let groups: [(usize, usize); 4] = [(0, 12), (13, 14), (15, 16), (17, 18)];
    let mut total_cost = 0.0;
    let mut total_deaths = 0.0;
    for (lo, hi) in groups {
        // The decedents of these bands: half a year of ordinary use, plus the extra.
        let mut half = vec![0.0; ce];
        let mut only = vec![0.0; ce];
        let mut deaths = 0.0;
        for c in 0..ce {
            let band = (c / (N_SEX * 5)) % N_BANDS;
            if band >= lo && band <= hi {
                half[c] = 0.5 * dying[c];
                only[c] = dying[c];
                deaths += dying[c];
            }
        }
        let mut means = a.expected(&half);
        a.add_end_of_life(
            &only,
            None,
            &[1.0; capsim::core::care::N_SETTINGS],
            &mut means,
        );
        let ng = a.n_groups();
        let cost: f64 = Setting::ALL
            .iter()
            .filter(|s| s.is_hospital())
            .map(|s| {
                means[s.index() * ng..(s.index() + 1) * ng]
                    .iter()
                    .sum::<f64>()
                    * a.unit_cost_pence(*s, 1) as f64
                    / 100.0
            })
            .sum();
        eprintln!(
            "bands {lo}-{hi}: risk-weighted deaths {deaths:.0}, hospital cost per death £{:.0}",
            cost / deaths
        );
        total_cost += cost;
        total_deaths += deaths;
    }
    let per_death = total_cost / total_deaths;
    eprintln!("all: hospital cost per death £{per_death:.0}");
    assert!((per_death / 15_000.0 - 1.0).abs() < 0.1, "£{per_death:.0}");
    let _ = band_of(0);
}

/// Care home weeks in year one against the dataset's convention, rate x population
/// (15,548,000 weeks for England: Health Foundation IAU 2019 residents x 52, see
/// datasets/README.md), applied to the system's own people at the start (its age, sex
/// and deprivation mix). Counting the whole year in the start segment left it about 15%
/// short.
#[test]
fn care_home_weeks_in_year_one_match_rate_times_population() {
    let (d, model, _) = bundled();
    let ns = model.segments.len();
    let r = baseline(1, Trends::NONE);
    let s = Setting::CareHomeWeeks.index();
    let dep_mean: f64 = (0..5).map(|q| d.activity_deprivation[[s, q]]).sum::<f64>() / 5.0;
    let mut expected = 0.0;
    for n in &r {
        for c in Cell::all(ns) {
            let people = n.census[c.census(ns)] as f64;
            expected +=
                people * d.activity_rates[[s, c.band, c.sex]] * d.activity_deprivation[[s, c.imd]]
                    / dep_mean;
        }
    }
    let weeks = total(&r, 0, Setting::CareHomeWeeks);
    eprintln!(
        "care home weeks year 1: {weeks:.0}, rate x population {expected:.0} ({:+.1}%)",
        (weeks / expected - 1.0) * 100.0
    );
    // About -9% after the fix (from -15%); the rest is not yet explained (issue 13).
    assert!((weeks / expected - 1.0).abs() < 0.1);
}
