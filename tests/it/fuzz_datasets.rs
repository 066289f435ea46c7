//! Issue 13, item 8: single-cell mutations of every numeric column of every bundled
//! dataset. Each mutated set of datasets must either be refused as bad input (exit 2) or
//! run to outputs whose numbers are all finite and whose costs are not negative; never a
//! panic. Runs in-process on one small neighbourhood for two years, so that the few
//! hundred cases take seconds.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use capsim::app::run::{run, RunOptions};
use capsim::app::{DatasetSource, Overrides};
use capsim::core::care::Setting;
use capsim::data::datasets::{column_bound, parameter_range, rate_range, Bound, BUNDLED};

/// Values written into a cell: absurdly large, negative, not numbers, empty. The column's
/// own upper bound is added per cell: it must be accepted without overflow.
const MUTATIONS: &[&str] = &["1e300", "-1e300", "-1", "NaN", "inf", "-inf", "lots", ""];

/// Rows mutated per column: the first and two more picked by a fixed hash (deterministic).
const ROWS_PER_COLUMN: usize = 3;

/// The smallest neighbourhood of the default system keeps every accepted run quick.
const SCENARIO: &str =
    "name = \"fuzz\"\n[population]\npreset = \"invented\"\nneighbourhoods = [\"NEIGHBOURHOOD\"]\n";

fn smallest_neighbourhood() -> String {
    let text = BUNDLED
        .iter()
        .find(|(n, _)| *n == "default_system.csv")
        .unwrap()
        .1;
    text.lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .min_by_key(|c| c[4].parse::<u64>().unwrap())
        .map(|c| c[2].to_string())
        .unwrap()
}

/// The upper bound of a cell, from the same table the loader uses.
fn upper_bound(file: &str, column: &str, cells: &[&str]) -> Option<f64> {
    match column_bound(file, column)? {
        Bound::Fixed(r) => Some(r.max),
        Bound::BySetting => Setting::ALL
            .iter()
            .find(|s| s.id() == cells[0])
            .map(|s| rate_range(*s).max),
        Bound::ByParameter => parameter_range(cells[0]).map(|r| r.max),
    }
}

/// A hash of small numbers, to pick rows without a random generator.
fn pick(a: usize, b: usize, n: usize) -> usize {
    let mut x = (a as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (b as u64 + 7);
    x ^= x >> 29;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 32;
    (x % n as u64) as usize
}

/// Every case: (file, line, column, value).
fn cases() -> Vec<(&'static str, usize, String, String)> {
    let mut out = Vec::new();
    for (f, (file, text)) in BUNDLED.iter().enumerate() {
        let lines: Vec<&str> = text.lines().collect();
        let header: Vec<&str> = lines[0].split(',').collect();
        let rows = lines.len() - 1;
        for (c, column) in header.iter().enumerate() {
            if column_bound(file, column).is_none() {
                continue;
            }
            let mut picked = vec![0];
            for k in 1..ROWS_PER_COLUMN {
                let r = pick(f * 100 + c, k, rows);
                if !picked.contains(&r) {
                    picked.push(r);
                }
            }
            for r in picked {
                let line = r + 2;
                let cells: Vec<&str> = lines[line - 1].split(',').collect();
                let mut values: Vec<String> = MUTATIONS.iter().map(|v| v.to_string()).collect();
                if let Some(max) = upper_bound(file, column, &cells) {
                    values.push(max.to_string());
                }
                for v in values {
                    out.push((*file, line, column.to_string(), v));
                }
            }
        }
    }
    out
}

/// Writes the bundled datasets into `dir` with one cell replaced. Numeric columns come
/// before any quoted column in every bundled file, so splitting up to the cell is safe.
fn write_mutated(dir: &Path, file: &str, line: usize, column: &str, value: &str) {
    for (name, text) in BUNDLED {
        let mut text = text.to_string();
        if *name == file {
            let mut lines: Vec<String> = text.lines().map(String::from).collect();
            let c = lines[0].split(',').position(|h| h == column).unwrap();
            let mut cells: Vec<&str> = lines[line - 1].splitn(c + 2, ',').collect();
            cells[c] = value;
            lines[line - 1] = cells.join(",");
            text = lines.join("\n") + "\n";
        }
        std::fs::write(dir.join(name), text).unwrap();
    }
}

/// Every number in the output CSVs is finite; counts and costs of care are not negative.
fn check_outputs(out: &Path, case: &str) {
    for entry in std::fs::read_dir(out).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "csv") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        for l in lines {
            for (h, cell) in header.iter().zip(l.split(',')) {
                if let Ok(x) = cell.parse::<f64>() {
                    assert!(x.is_finite(), "{case}: {name} `{h}` = {cell}");
                    if name == "activity.csv" && (*h == "cost" || *h == "count") {
                        assert!(x >= 0.0, "{case}: {name} `{h}` = {cell}");
                    }
                }
            }
        }
    }
}

#[test]
fn single_cell_mutations_are_refused_or_run_to_finite_costs() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("fuzz.toml");
    std::fs::write(
        &scenario,
        SCENARIO.replace("NEIGHBOURHOOD", &smallest_neighbourhood()),
    )
    .unwrap();
    let cases = cases();
    assert!(cases.len() > 300, "{} cases", cases.len());
    let (mut refused, mut ran) = (0, 0);
    for (k, (file, line, column, value)) in cases.iter().enumerate() {
        let case = format!("{file} line {line} `{column}` = `{value}`");
        let datasets = tmp.path().join(format!("d{k}"));
        std::fs::create_dir(&datasets).unwrap();
        write_mutated(&datasets, file, *line, column, value);
        let out = tmp.path().join(format!("o{k}"));
        let options = RunOptions {
            scenario: Some(scenario.clone()),
            overrides: Overrides {
                years: Some(2),
                runs: Some(1),
                population: None,
                geography: None,
                seed: Some(7),
                practices: None,
            },
            threads: 1,
            datasets: DatasetSource::Dir(datasets.clone()),
            out: out.clone(),
            // Every table as CSV: the finite-value check reads them all.
            csv: true,
        };
        let result = catch_unwind(AssertUnwindSafe(|| run(&options, &|_, _| {})));
        match result {
            Err(_) => panic!("{case}: panicked"),
            Ok(Err(e)) => {
                assert!(e.is_bad_input(), "{case}: exit 1, not 2: {e}");
                refused += 1;
            }
            Ok(Ok(_)) => {
                check_outputs(&out, &case);
                ran += 1;
            }
        }
        std::fs::remove_dir_all(&datasets).unwrap();
        let _ = std::fs::remove_dir_all(&out);
    }
    eprintln!("{} cases: {refused} refused, {ran} ran", cases.len());
    assert!(ran > 0 && refused > 0);
}
