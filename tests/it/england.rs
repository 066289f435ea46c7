//! The England preset's first year lands within 15% of published national totals.

use capsim::core::care::Setting;
use capsim::data::datasets::Datasets;
use capsim::data::geography::{Geography, Preset};
use capsim::engine::simulation::{simulate, SimConfig};
use capsim::model::Model;

#[test]
fn england_year_one_matches_published_totals() {
    let d = Datasets::bundled().unwrap();
    let m = Model::new(&d).unwrap();
    let g = Geography::preset(&d, Preset::England).unwrap();
    assert_eq!(g.neighbourhoods.len(), 1250);
    let results = simulate(
        &m,
        &g,
        &SimConfig {
            seed: 1,
            run: 0,
            years: 1,
            variation: Default::default(),
            trends: Default::default(),
        },
        0,
        &|| {},
    )
    .unwrap();
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
    let required = [
        "deaths",
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
