//! The England preset's first year lands near published national figures: deaths within
//! 3% of ONS 2023 registrations, life expectancy within 0.3 years of ONS England 2021-23,
//! the life expectancy gap between deprivation quintiles 1 and 5 within a year of the
//! published gap, and activity within 15%.

use capsim::app::calibrate::simulated_life_expectancy;
use capsim::core::care::Setting;
use capsim::data::datasets::Datasets;
use capsim::data::geography::{Geography, Preset};
use capsim::engine::simulation::{simulate, SimConfig};
use capsim::model::Model;

#[test]
fn england_year_one_matches_published_totals() {
    let d = Datasets::bundled().unwrap();
    let m = Model::new(&d).unwrap();
    let g = Geography::preset(&d, Preset::EnglandInvented).unwrap();
    assert_eq!(g.neighbourhoods.len(), 1250);
    let results = simulate(&m, &g, &SimConfig::new(1, 0, 1), 0, &|| {}).unwrap();
    let setting_total = |s: Setting| -> f64 {
        results
            .iter()
            .map(|r| r.activity[0].count_of(s))
            .sum::<u64>() as f64
    };
    let simulated = |measure: &str| -> f64 {
        match measure {
            "deaths" => results.iter().map(|r| r.flows[0].deaths).sum::<u64>() as f64,
            "births" => results.iter().map(|r| r.flows[0].births).sum::<u64>() as f64,
            other => {
                let s = Setting::ALL
                    .into_iter()
                    .find(|s| s.id() == other)
                    .unwrap_or_else(|| panic!("unknown benchmark measure {other}"));
                setting_total(s)
            }
        }
    };
    let published = |measure: &str| {
        d.benchmarks
            .iter()
            .find(|b| b.measure == measure)
            .unwrap_or_else(|| panic!("england_benchmarks.csv lacks {measure}"))
            .value
    };
    let deaths = simulated("deaths") / published("deaths");
    assert!(
        (0.97..=1.03).contains(&deaths),
        "deaths: ratio {deaths:.3} to ONS 2023"
    );
    // Life expectancy from the simulated deaths and person-years (`accounts::life`).
    for (sex, name) in ["male", "female"].into_iter().enumerate() {
        let le = simulated_life_expectancy(&results, sex, &[0, 1, 2, 3, 4]).unwrap();
        let ons = published(&format!("life_expectancy_{name}"));
        assert!(
            (le - ons).abs() <= 0.3,
            "{name} life expectancy {le:.2} vs ONS {ons}"
        );
        // The gap between the least and most deprived quintiles against ONS's slope index
        // of inequality x 0.8 (datasets/README.md, england_benchmarks.csv). One year of
        // tolerance: the deprivation multipliers are shared by both sexes, and one year's
        // deaths in a fifth of England carry about 0.1 years of chance.
        let gap = simulated_life_expectancy(&results, sex, &[4]).unwrap()
            - simulated_life_expectancy(&results, sex, &[0]).unwrap();
        let target = published(&format!("life_expectancy_gap_{name}"));
        assert!(
            (gap - target).abs() <= 1.0,
            "{name} quintile gap {gap:.2} vs published {target}"
        );
    }
    let required = [
        "births",
        "emergency_admissions",
        "ae_attendances",
        "gp_appointments",
        "outpatient_attendances",
    ];
    for measure in required {
        let b = d
            .benchmarks
            .iter()
            .find(|b| b.measure == measure)
            .unwrap_or_else(|| panic!("england_benchmarks.csv lacks {measure}"));
        let sim = simulated(measure);
        let ratio = sim / b.value;
        assert!(
            (0.85..=1.15).contains(&ratio),
            "{measure}: simulated {sim:.0} vs published {} ({}): ratio {ratio:.3}",
            b.value,
            b.source
        );
    }
}

/// `capsim calibrate` runs and prints one line per published figure, each with the
/// simulated value and a finite ratio.
#[test]
fn calibrate_prints_every_benchmark() {
    let d = Datasets::bundled().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = crate::util::capsim(tmp.path(), &["calibrate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for b in &d.benchmarks {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(b.measure.as_str()))
            .unwrap_or_else(|| panic!("no row for {}:\n{text}", b.measure));
        let ratio: f64 = line.split_whitespace().nth(3).unwrap().parse().unwrap();
        assert!(ratio.is_finite() && ratio > 0.0, "{line}");
    }
    for measure in [
        "deaths",
        "births",
        "life_expectancy_male",
        "life_expectancy_female",
        "emergency_admissions",
        "ae_attendances",
        "gp_appointments",
        "outpatient_attendances",
        "care_home_residents",
        "top1_hospital_spend_share",
        "top5_hospital_spend_share",
    ] {
        assert!(
            d.benchmarks.iter().any(|b| b.measure == measure),
            "{measure}"
        );
    }
}
