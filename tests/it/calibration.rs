//! Calibration to observed activity (issue 27): the worked example's true multipliers are
//! recovered within their stated uncertainty over several seeds; the command writes a
//! calibration a scenario uses, refused for another geography; bad observed files name
//! file, line and column, exit 2 and write nothing; results do not depend on threads.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use capsim::app::calibrate_local::{fit_with, geography_of, LocalOptions};
use capsim::app::calibration_example::{write_example, TRUTH, VALIDATE_FROM, YEARS};
use capsim::data::datasets::Datasets;
use capsim::data::observed::split_csv_line;
use capsim::engine::expected::expected_activity;
use capsim::model::Model;

use crate::util::{capsim, capsim_ok};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn example_observed() -> PathBuf {
    repo().join("examples/calibration/observed.csv")
}

/// `truth.csv` as (level, area, setting) -> multiplier.
fn truth_of(dir: &Path) -> HashMap<(String, String, String), f64> {
    let text = std::fs::read_to_string(dir.join("truth.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let c = split_csv_line(l);
            (
                (c[0].clone(), c[1].clone(), c[2].clone()),
                c[3].parse().unwrap(),
            )
        })
        .collect()
}

/// Over five seeds of the worked example (new true multipliers and counts each time),
/// the fitted 90% intervals hold the true multipliers about 90% of the time, the fitted
/// levels are the true ones, the growth intervals hold the true growth, and the held-out
/// year's counts fall inside the simulated 90% intervals about 90% of the time.
#[test]
fn calibration_recovers_the_true_multipliers_over_seeds() {
    let d = Datasets::bundled().unwrap();
    let model = Model::new(&d).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut o = LocalOptions::new(tmp.path().join("observed.csv"), tmp.path().join("out"));
    o.validate_from = Some(VALIDATE_FROM);
    let target = geography_of(&d, &o).unwrap();
    let projection = expected_activity(
        &model,
        &target.geography,
        o.seed,
        YEARS.len() as u32,
        o.projection_runs,
        0,
    )
    .unwrap();
    let (mut inside, mut total) = (0usize, 0usize);
    let (mut growth_inside, mut growth_total) = (0, 0);
    let (mut held_inside, mut held_total) = (0.0, 0.0);
    for seed in 1..=5u64 {
        let dir = tmp.path().join(format!("seed{seed}"));
        write_example(&target, &projection, seed, &dir).unwrap();
        o.observed = dir.join("observed.csv");
        let c = fit_with(&model, &target, &o, Some(&projection)).unwrap();
        let truth = truth_of(&dir);
        for e in &c.estimates {
            let t = truth[&(
                e.level.id().to_string(),
                e.area.clone(),
                e.setting.id().to_string(),
            )];
            total += 1;
            inside += usize::from(e.lo90 <= t && t <= e.hi90);
        }
        for t in TRUTH {
            let f = c.meta.fit.iter().find(|f| f.setting == t.setting).unwrap();
            let areas = f.areas as f64;
            // The level is the mean of the areas' true multipliers, known to about
            // spread / sqrt(areas).
            let tol = 4.0 * t.spread / areas.sqrt() + 0.01;
            assert!(
                (f.level_multiplier / t.multiplier - 1.0).abs() < tol,
                "seed {seed} {}: level {} vs {} (tolerance {tol})",
                t.setting.id(),
                f.level_multiplier,
                t.multiplier
            );
            let g = c
                .meta
                .growth
                .iter()
                .find(|g| g.setting == t.setting)
                .unwrap();
            growth_total += 1;
            growth_inside += usize::from(g.growth_lo90 <= t.growth && t.growth <= g.growth_hi90);
        }
        for v in &c.meta.validation {
            held_inside += v.coverage90 * v.areas as f64;
            held_total += v.areas as f64;
        }
    }
    let coverage = inside as f64 / total as f64;
    eprintln!(
        "multipliers: {inside}/{total} = {coverage:.3} inside their 90% intervals; growth \
         {growth_inside}/{growth_total}; held-out counts {:.3}",
        held_inside / held_total
    );
    assert!((0.85..=0.95).contains(&coverage), "coverage {coverage}");
    assert!(growth_inside as f64 >= 0.75 * growth_total as f64);
    let held = held_inside / held_total;
    assert!((0.85..=0.96).contains(&held), "held-out coverage {held}");
}

/// The committed example is what its generator writes (seed 1), byte for byte.
#[test]
fn the_worked_example_is_reproducible() {
    let d = Datasets::bundled().unwrap();
    let model = Model::new(&d).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let o = LocalOptions::new(tmp.path().join("observed.csv"), tmp.path().to_path_buf());
    let target = geography_of(&d, &o).unwrap();
    let p = expected_activity(&model, &target.geography, o.seed, 4, o.projection_runs, 1).unwrap();
    write_example(&target, &p, 1, tmp.path()).unwrap();
    for f in ["observed.csv", "truth.csv"] {
        let same = std::fs::read(tmp.path().join(f)).unwrap()
            == std::fs::read(repo().join("examples/calibration").join(f)).unwrap();
        assert!(
            same,
            "{f} differs from the committed example: rerun `cargo run --release --example calibration`"
        );
    }
}

/// The README's example: calibrate, then run a scenario on the calibrated system; its
/// run.json names the calibration and its activity follows the fitted levels. The same
/// calibration is refused for another geography.
#[test]
fn a_scenario_runs_on_its_calibration_and_another_geography_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let observed = example_observed();
    let out = capsim_ok(
        tmp.path(),
        &[
            "calibrate",
            "--observed",
            observed.to_str().unwrap(),
            "--icb",
            "QF7",
            "--validate-from",
            "2024",
            "--out",
            "calib",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("held-out years"), "{text}");
    for f in [
        "calibration.toml",
        "multipliers.csv",
        "multipliers.parquet",
        "applied_multipliers.csv",
        "validation.csv",
    ] {
        assert!(tmp.path().join("calib").join(f).exists(), "{f}");
    }
    let scenario = |name: &str, preset: &str| {
        std::fs::write(
            tmp.path().join(format!("{name}.toml")),
            format!(
                "name = \"{name}\"\nyears = 1\n[population]\npreset = \"{preset}\"\n\
                 [variation]\nbetween_areas = false\n[calibration]\nfile = \"calib/calibration.toml\"\n"
            ),
        )
        .unwrap();
    };
    scenario("calibrated", "QF7");
    capsim_ok(tmp.path(), &["run", "calibrated.toml", "--out", "run"]);
    let info = std::fs::read_to_string(tmp.path().join("run/run.json")).unwrap();
    assert!(info.contains("calib/calibration.toml"), "{info}");
    // The report says which calibration, with its validation table and chart.
    let report = std::fs::read_to_string(tmp.path().join("run").join(capsim::app::REPORT)).unwrap();
    assert!(
        report.contains("<h2>Calibration</h2>")
            && report.contains("calib/calibration.toml")
            && report.contains("calibration-validation")
            && report.contains("id=\"calibration_validation\" class=\"chart\""),
        "the report lacks the calibration"
    );
    assert!(tmp
        .path()
        .join("run")
        .join(capsim::app::CHARTS)
        .join("calibration_validation.png")
        .exists());
    scenario("other", "invented");
    let refused = capsim(
        tmp.path(),
        &["run", "other.toml", "--out", "run2", "--no-report"],
    );
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("other.toml") && err.contains("was made for QF7") && err.contains("invented"),
        "{err}"
    );
    assert!(!tmp.path().join("run2/run.json").exists());

    // The calibration's growth beyond demography becomes the runs' default trend for each
    // setting it fitted (the narrowest estimate of the levels); other settings keep the
    // datasets' default.
    let calibration =
        capsim::io::calibration::read(&tmp.path().join("calib/calibration.toml")).unwrap();
    let trends = capsim::app::pipeline::calibrated_trends(&calibration.meta.growth);
    assert!(!trends.is_empty());
    let scenario_file = tmp.path().join("calibrated.toml");
    let s = capsim::config::scenario::Scenario::load(&scenario_file).unwrap();
    let p = capsim::app::pipeline::prepare(
        &capsim::config::batch::Batch::single(s),
        &capsim::data::datasets::DatasetSource::Bundled,
    )
    .unwrap();
    let national = capsim::model::Model::new(&capsim::data::datasets::Datasets::bundled().unwrap())
        .unwrap()
        .activity
        .default_trends()
        .growth;
    let used = p.model.activity.default_trends().growth;
    for setting in capsim::core::care::Setting::ALL {
        let want = trends
            .iter()
            .find(|(s, _)| *s == setting)
            .map_or(national[setting.index()], |(_, g)| *g);
        assert_eq!(used[setting.index()], want, "{}", setting.id());
    }
}

/// A calibrated run's activity in year 1 is the expected activity times the calibrated
/// multipliers: community nursing, calibrated by place at about 1.2 times national
/// rates, against the same run without the calibration.
#[test]
fn calibrated_runs_follow_the_fitted_multipliers() {
    let tmp = tempfile::tempdir().unwrap();
    let observed = example_observed();
    capsim_ok(
        tmp.path(),
        &[
            "calibrate",
            "--observed",
            observed.to_str().unwrap(),
            "--out",
            "calib",
        ],
    );
    let toml = std::fs::read_to_string(tmp.path().join("calib/calibration.toml")).unwrap();
    let meta: capsim::model::calibration::CalibrationMeta = toml::from_str(&toml).unwrap();
    let fit = |s: &str| {
        meta.fit
            .iter()
            .find(|f| f.setting.id() == s)
            .unwrap()
            .clone()
    };
    let body = "years = 1\n[population]\npreset = \"QF7\"\n[variation]\nbetween_areas = false\n";
    std::fs::write(
        tmp.path().join("plain.toml"),
        format!("name = \"plain\"\n{body}"),
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("cal.toml"),
        format!("name = \"cal\"\n{body}[calibration]\nfile = \"calib/calibration.toml\"\n"),
    )
    .unwrap();
    let count = |name: &str, setting: &str| -> f64 {
        let out = capsim_ok(
            tmp.path(),
            &["run", &format!("{name}.toml"), "--out", name, "--no-report"],
        );
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        text.lines()
            .find(|l| l.trim_start().starts_with(setting))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {setting} in {text}"))
    };
    for s in [
        "community_nursing",
        "gp_appointments",
        "emergency_admissions",
    ] {
        let ratio = count("cal", s) / count("plain", s);
        let want = fit(s).level_multiplier;
        // Areas' multipliers average to about the level, weighted by their size; each
        // count is Poisson around hundreds of thousands.
        assert!(
            (ratio / want - 1.0).abs() < 0.03,
            "{s}: ratio {ratio} vs level {want}"
        );
    }
}

/// Each kind of bad observed file names the file, its line and column, exits 2 and writes
/// nothing.
#[test]
fn bad_observed_files_name_line_and_column_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let good = "year,level,area,setting,count\n2023,place,03N,gp_appointments,100\n";
    let cases: [(&str, String, &str); 8] = [
        (
            "unknown area",
            format!("{good}2023,place,XYZ,gp_appointments,5\n"),
            "line 3, column `area`",
        ),
        (
            "unknown setting",
            format!("{good}2023,place,03N,dentists,5\n"),
            "line 3, column `setting`",
        ),
        (
            "negative",
            format!("{good}2023,place,02P,gp_appointments,-5\n"),
            "line 3, column `count`",
        ),
        (
            "not a number",
            format!("{good}2023,place,02P,gp_appointments,many\n"),
            "line 3, column `count`",
        ),
        (
            "duplicate",
            format!("{good}2023,place,NHS Sheffield CCG (03N),gp_appointments,7\n"),
            "line 2 already gives",
        ),
        (
            "unknown level",
            format!("{good}2023,ward,03N,gp_appointments,5\n"),
            "line 3, column `level`",
        ),
        (
            "unknown practice",
            format!("{good}2023,practice,Z99999,gp_appointments,5\n"),
            "line 3, column `area`",
        ),
        (
            "missing column",
            "year,level,area,setting\n2023,place,03N,gp_appointments\n".into(),
            "missing column `count`",
        ),
    ];
    for (what, text, want) in cases {
        let file = tmp.path().join("observed.csv");
        std::fs::write(&file, text).unwrap();
        let out = capsim(
            tmp.path(),
            &["calibrate", "--observed", "observed.csv", "--out", "calib"],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {err}");
        assert!(
            err.contains("observed.csv") && err.contains(want),
            "{what}: {err}"
        );
        assert!(!err.contains("panicked"), "{what}: {err}");
        assert!(!tmp.path().join("calib").exists(), "{what}: wrote output");
    }
}

/// The fit is the same, byte for byte, on one thread or two.
#[test]
fn calibration_does_not_depend_on_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let observed = example_observed();
    for t in ["1", "2"] {
        capsim_ok(
            tmp.path(),
            &[
                "calibrate",
                "--observed",
                observed.to_str().unwrap(),
                "--validate-from",
                "2024",
                "--threads",
                t,
                "--out",
                &format!("t{t}"),
            ],
        );
    }
    for f in [
        "multipliers.csv",
        "applied_multipliers.csv",
        "validation.csv",
        "calibration.toml",
    ] {
        let same = std::fs::read(tmp.path().join("t1").join(f)).unwrap()
            == std::fs::read(tmp.path().join("t2").join(f)).unwrap();
        assert!(same, "{f} differs between one thread and two");
    }
}

/// A Parquet observed file is read as its CSV is: the same fit.
#[test]
fn parquet_and_csv_observed_files_fit_the_same() {
    use polars::prelude::*;
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(example_observed()).unwrap();
    // The place and neighbourhood rows, and a few practices: a small file.
    let lines: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || !l.contains(",practice,") || *i < 200)
        .map(|(_, l)| l)
        .collect();
    std::fs::write(tmp.path().join("observed.csv"), lines.join("\n") + "\n").unwrap();
    let rows: Vec<Vec<String>> = lines[1..].iter().map(|l| split_csv_line(l)).collect();
    let col = |k: usize| rows.iter().map(|r| r[k].clone()).collect::<Vec<_>>();
    let mut df = DataFrame::new_infer_height(vec![
        Column::new(
            "year".into(),
            col(0)
                .iter()
                .map(|y| y.parse::<i64>().unwrap())
                .collect::<Vec<_>>(),
        ),
        Column::new("level".into(), col(1)),
        Column::new("area".into(), col(2)),
        Column::new("setting".into(), col(3)),
        Column::new(
            "count".into(),
            col(4)
                .iter()
                .map(|c| c.parse::<i64>().unwrap())
                .collect::<Vec<_>>(),
        ),
    ])
    .unwrap();
    let f = std::fs::File::create(tmp.path().join("observed.parquet")).unwrap();
    ParquetWriter::new(f).finish(&mut df).unwrap();
    for (file, out) in [("observed.csv", "c"), ("observed.parquet", "p")] {
        capsim_ok(tmp.path(), &["calibrate", "--observed", file, "--out", out]);
    }
    for f in ["multipliers.csv", "applied_multipliers.csv"] {
        let same = std::fs::read(tmp.path().join("c").join(f)).unwrap()
            == std::fs::read(tmp.path().join("p").join(f)).unwrap();
        assert!(same, "{f} differs between the CSV and the Parquet file");
    }
}
