//! Bad dataset values give one clear line naming file, column and line; exit code 2; no
//! panic; nothing written.

use std::path::Path;

use crate::util::{capsim, copy_datasets};

/// Sets the cell of `column` on `line` (1 = header) of a CSV file without quoted fields.
fn set_cell(file: &Path, line: usize, column: &str, value: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let col = lines[0].split(',').position(|c| c == column).unwrap();
    let mut cells: Vec<String> = lines[line - 1].split(',').map(String::from).collect();
    cells[col] = value.to_string();
    lines[line - 1] = cells.join(",");
    std::fs::write(file, lines.join("\n") + "\n").unwrap();
}

/// Runs capsim on the modified datasets and checks the failure is clean.
fn expect_rejected(change: impl FnOnce(&Path), must_mention: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let datasets = copy_datasets(tmp.path());
    change(&datasets);
    let out = capsim(
        tmp.path(),
        &[
            "run",
            "--years",
            "1",
            "--runs",
            "1",
            "--datasets",
            datasets.to_str().unwrap(),
            "--out",
            "results",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    for m in must_mention {
        assert!(stderr.contains(m), "`{m}` missing from: {stderr}");
    }
    let results = tmp.path().join("results");
    assert!(
        !results.exists() || std::fs::read_dir(&results).unwrap().next().is_none(),
        "nothing may be written"
    );
}

#[test]
fn probability_above_one() {
    expect_rejected(
        |d| set_cell(&d.join("life_table.csv"), 5, "qx_male", "1.5"),
        &["life_table.csv", "line 5", "qx_male", "1.5", "from 0 to 1"],
    );
}

#[test]
fn transition_row_not_summing_to_one() {
    expect_rejected(
        |d| {
            set_cell(
                &d.join("segment_transitions.csv"),
                2,
                "probability",
                "0.999",
            )
        },
        &["segment_transitions.csv", "probability", "must sum to 1"],
    );
}

#[test]
fn missing_column() {
    expect_rejected(
        |d| {
            let f = d.join("fertility.csv");
            let text = std::fs::read_to_string(&f).unwrap();
            std::fs::write(&f, text.replacen("rate", "births", 1)).unwrap();
        },
        &["fertility.csv", "missing column `rate`"],
    );
}

#[test]
fn negative_rate() {
    expect_rejected(
        |d| set_cell(&d.join("activity_rates.csv"), 7, "rate", "-0.2"),
        &[
            "activity_rates.csv",
            "line 7",
            "`rate`",
            "-0.2",
            "from 0 to 365",
        ],
    );
}

#[test]
fn unknown_segment_name() {
    expect_rejected(
        |d| set_cell(&d.join("segment_prevalence.csv"), 3, "segment", "unwell"),
        &[
            "segment_prevalence.csv",
            "line 3",
            "`segment`",
            "unwell",
            "healthy",
        ],
    );
}

#[test]
fn non_numeric_cell() {
    expect_rejected(
        |d| set_cell(&d.join("migration.csv"), 4, "in_rate", "lots"),
        &["migration.csv", "line 4", "in_rate", "lots", "a number"],
    );
}

#[test]
fn unknown_place_in_capitation_factors() {
    expect_rejected(
        |d| set_cell(&d.join("capitation_places.csv"), 3, "place", "Atlantis"),
        &[
            "capitation_places.csv",
            "line 3",
            "place",
            "Atlantis",
            "Kelbridge",
        ],
    );
}

#[test]
fn negative_capitation_weight() {
    expect_rejected(
        |d| {
            set_cell(
                &d.join("capitation_deprivation.csv"),
                2,
                "inequalities_uplift",
                "-0.1",
            )
        },
        &[
            "capitation_deprivation.csv",
            "line 2",
            "inequalities_uplift",
            "-0.1",
        ],
    );
}

#[test]
fn bad_setting_is_rejected_before_work() {
    let tmp = tempfile::tempdir().unwrap();
    let out = capsim(
        tmp.path(),
        &["run", "--years", "0", "--runs", "1", "--out", "results"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--years"));
    assert!(!tmp.path().join("results").exists());
}

#[test]
fn a_good_run_writes_every_table_and_run_json() {
    let tmp = tempfile::tempdir().unwrap();
    // A scenario of defaults: `run` with no file is the bundled comparison batch.
    std::fs::write(tmp.path().join("b.toml"), "name = \"b\"\n").unwrap();
    let out = capsim(
        tmp.path(),
        &[
            "run", "b.toml", "--years", "2", "--runs", "1", "--out", "results", "--csv",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("emergency_admissions"), "{stdout}");
    let dir = tmp.path().join("results");
    for t in capsim::io::tables::RunTable::ALL.map(|t| t.id()) {
        for ext in ["parquet", "csv"] {
            assert!(dir.join(format!("{t}.{ext}")).is_file(), "{t}.{ext}");
        }
    }
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(info["scenario"]["years"], 2);
    assert_eq!(info["datasets_checksum"].as_str().unwrap().len(), 64);
    let flows = std::fs::read_to_string(dir.join("flows.csv")).unwrap();
    assert!(flows.starts_with(
        "year,system,system_code,place,place_code,neighbourhood,start,births,deaths,migration_in,migration_out,end"
    ));
    assert!(std::fs::read_dir(&dir).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with(".capsim")));
}

/// Without `--csv`, only the tables a person opens are CSV; every table is Parquet.
#[test]
fn a_run_writes_csv_only_for_the_tables_a_person_opens() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("b.toml"), "name = \"b\"\n").unwrap();
    let out = capsim(
        tmp.path(),
        &[
            "run",
            "b.toml",
            "--years",
            "1",
            "--runs",
            "1",
            "--out",
            "r",
            "--no-report",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tmp.path().join("r");
    for t in capsim::io::tables::RunTable::ALL.map(|t| t.id()) {
        assert!(dir.join(format!("{t}.parquet")).is_file(), "{t}.parquet");
        let human = capsim::io::tables::CSV_TABLES.contains(&t);
        assert_eq!(dir.join(format!("{t}.csv")).is_file(), human, "{t}.csv");
    }
    assert!(dir.join("summary.csv").is_file());
}

#[test]
fn implausible_variation_between_areas() {
    // Line 16 of parameters.csv is variation_yearly_sd (17 before `emergency_los_mean` left
    // the file for length_of_stay.csv, issue 24).
    expect_rejected(
        |d| set_cell(&d.join("parameters.csv"), 16, "value", "0.9"),
        &[
            "parameters.csv",
            "line 16",
            "value",
            "0.9",
            "variation_yearly_sd",
            "from 0 to 0.5",
        ],
    );
    expect_rejected(
        |d| set_cell(&d.join("parameters.csv"), 13, "value", "-0.1"),
        &["parameters.csv", "line 13", "variation_hospital_shared_sd"],
    );
}

#[test]
fn implausible_market_forces_factor() {
    // It now scales unit costs as well as budgets.
    expect_rejected(
        |d| {
            set_cell(
                &d.join("capitation_places.csv"),
                2,
                "market_forces_factor",
                "1.9",
            )
        },
        &[
            "capitation_places.csv",
            "line 2",
            "market_forces_factor",
            "1.9",
        ],
    );
}

/// Issue 24, item 8: a length of stay beyond the plausible range is refused with the file,
/// line, column and range; so is a segment missing from the segment multipliers.
#[test]
fn implausible_length_of_stay() {
    expect_rejected(
        |d| set_cell(&d.join("length_of_stay.csv"), 18, "mean_days", "450"),
        &[
            "length_of_stay.csv",
            "line 18",
            "`mean_days`",
            "450",
            "from 0 to 60",
        ],
    );
    expect_rejected(
        |d| {
            set_cell(
                &d.join("length_of_stay_segments.csv"),
                7,
                "segment",
                "frail",
            )
        },
        &[
            "length_of_stay_segments.csv",
            "line 7",
            "`segment`",
            "frail",
        ],
    );
}
