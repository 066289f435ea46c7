//! The one-way tornado (issue 24, item 6): each bar is one uncertain parameter at its 10th
//! and 90th centile with the others at the base case (their medians), simulated from the
//! same random numbers, so a parameter that changes nothing has a bar of zero width
//! exactly at the base case, and a bar's end is a plain simulation with that value.

use std::path::Path;

use capsim::accounts::metric::Metric;
use capsim::accounts::one_way::OneWayRow;
use capsim::app::batch::{run_batch, BatchOptions};
use capsim::config::batch::Batch;
use capsim::core::level::Level;
use capsim::data::datasets::DatasetSource;
use capsim::io::summary::{read_metrics, read_one_way};

use crate::scenarios::{write, SMALL};
use crate::util::capsim_ok;

/// Wards that change outpatient attendances only, at an uncertain cost: no admission is
/// avoided, so the substitution per avoided admission, uncertain too, changes nothing.
/// The set-up cost is fixed, and an interval80 with p10 = p90 is known exactly: neither is
/// a bar.
const WARDS: &str = r#"
name = "wards"
extends = "base.toml"
[[intervention]]
name = "Wards"
target = { segments = ["frailty", "complex_multimorbidity"], age_min = 65 }
coverage = { start = 0.3, target = 0.6, ramp_years = 2 }
cost_per_enrolled = { dist = "uniform", min = 200, max = 400 }
setup_cost = 50000
effects.outpatient_attendances = { dist = "interval80", p10 = -0.2, p90 = -0.2 }
substitution.community_nursing = { per_avoided_admission = { dist = "uniform", min = 2, max = 8 } }
"#;

fn one_way_of(dir: &Path) -> Vec<OneWayRow> {
    write(dir, "base.toml", &SMALL.replace("runs = 6", "runs = 2"));
    let file = write(dir, "wards.toml", WARDS);
    let out = dir.join("out");
    let batch = Batch::single(capsim::config::scenario::Scenario::load(&file).unwrap());
    run_batch(
        &batch,
        &BatchOptions {
            out: out.clone(),
            threads: 2,
            shard: None,
            datasets: DatasetSource::Bundled,
        },
        &|_, _| {},
    )
    .unwrap();
    read_one_way(&out.join("one_way.parquet")).unwrap()
}

fn bar<'a>(rows: &'a [OneWayRow], parameter: &str) -> &'a OneWayRow {
    rows.iter()
        .find(|r| r.parameter == parameter && r.outcome == Metric::DiscountedCumulativeNetCost)
        .unwrap_or_else(|| panic!("{parameter} in {rows:?}"))
}

#[test]
fn a_one_way_tornado_whose_bar_has_zero_width() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = one_way_of(tmp.path());
    let cost = bar(&rows, "Wards/cost_per_enrolled");
    let idle = bar(
        &rows,
        "Wards/substitution.community_nursing.per_avoided_admission",
    );
    // Only uncertain parameters are bars: the intervention's two and the two QALY losses
    // of `[evaluation]`, for each outcome.
    assert_eq!(rows.len(), 4 * capsim::accounts::one_way::OUTCOMES.len());
    // A QALY loss changes health, never cost: a zero-width cost bar at the base case.
    let loss = bar(&rows, "evaluation/qaly_loss_per_admission");
    assert_eq!(loss.outcome_low, loss.outcome_base);
    assert_eq!(loss.outcome_high, loss.outcome_base);
    // Ends at the 10th and 90th centiles, the base case at the median.
    let near = |a: f64, b: f64| assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    near(idle.low_value, 2.6);
    near(idle.base_value, 5.0);
    near(idle.high_value, 7.4);
    near(cost.low_value, 220.0);
    near(cost.high_value, 380.0);
    // Same random numbers: the idle parameter's bar has zero width, exactly at the base.
    assert_eq!(idle.outcome_low, idle.outcome_base);
    assert_eq!(idle.outcome_high, idle.outcome_base);
    assert_eq!(idle.width(), 0.0);
    // The base case is the same on every bar, and a dearer service costs more.
    assert_eq!(cost.outcome_base, idle.outcome_base);
    assert!(cost.outcome_low < cost.outcome_base && cost.outcome_base < cost.outcome_high);
    // Ranked by width: the cost's bar first.
    assert_eq!(rows[0].parameter, "Wards/cost_per_enrolled");
}

/// A bar's low end and the base case are checked against plain single runs of the same
/// scenario with the parameters written in as fixed values.
#[test]
fn a_tornado_bar_end_is_a_direct_simulation_with_that_value() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = one_way_of(tmp.path());
    let cost = bar(&rows, "Wards/cost_per_enrolled");
    let idle = bar(
        &rows,
        "Wards/substitution.community_nursing.per_avoided_admission",
    );
    let direct = |name: &str, cost_per_enrolled: f64| -> f64 {
        let text = WARDS
            .replace(
                "{ dist = \"uniform\", min = 200, max = 400 }",
                &format!("{cost_per_enrolled:?}"),
            )
            .replace(
                "{ dist = \"uniform\", min = 2, max = 8 }",
                &format!("{:?}", idle.base_value),
            );
        write(tmp.path(), &format!("{name}.toml"), &text);
        capsim_ok(
            tmp.path(),
            &[
                "run",
                &format!("{name}.toml"),
                "--runs",
                "1",
                "--out",
                name,
                "--no-report",
            ],
        );
        let m = read_metrics(&tmp.path().join(name).join("metrics.parquet")).unwrap();
        (0..m.len())
            .find(|i| {
                m.year[*i] == 3
                    && m.level[*i] == Level::System
                    && *m.metric(*i) == Metric::DiscountedCumulativeNetCost
            })
            .map(|i| m.value[i])
            .expect("a net cost")
    };
    assert_eq!(direct("direct-low", cost.low_value), cost.outcome_low);
    assert_eq!(direct("direct-base", cost.base_value), cost.outcome_base);
}
