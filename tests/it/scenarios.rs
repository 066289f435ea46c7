//! Scenario files: the shipped examples load, `extends` overrides, sweeps expand, and bad
//! input gets one clear line naming file, line and field, exit code 2, and nothing written.

use std::path::Path;

use capsim::config::batch::Batch;
use capsim::config::scenario::{Overrides, Runs, Scenario, Years};
use capsim::core::care::Setting;
use capsim::core::error::CapsimError;
use capsim::data::datasets::Datasets;
use proptest::prelude::*;

use crate::util::capsim;

/// A small population for quick runs: two neighbourhoods, three years.
pub const SMALL: &str = r#"
name = "small"
years = 3
seed = 7
runs = 6
[population]
preset = "invented"
neighbourhoods = ["Harbourside PCN", "Castlegate PCN"]
"#;

pub fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn shipped_examples_load_and_check() {
    let d = Datasets::bundled().unwrap();
    for (name, _) in capsim::config::scenario::EXAMPLES {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(name);
        let lines =
            capsim::app::batch::validate(&path, &capsim::data::datasets::DatasetSource::Bundled)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(lines.iter().all(|l| l.starts_with("ok: ")), "{lines:?}");
    }
    let b =
        Batch::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/batch.toml")).unwrap();
    assert_eq!(b.scenarios.len(), 5);
    // Every intervention says where its effect sizes come from.
    for s in &b.scenarios {
        for i in &s.interventions {
            assert!(
                i.evidence.as_deref().is_some_and(|e| e.len() > 20),
                "{}: {} has no evidence",
                s.name,
                i.name
            );
        }
        // The bundled scenarios run NHS South Yorkshire ICB: its 1,493,909 registered
        // people (NHS England's 2024/25 file, rounded) in four places.
        let g = s.geography(&d).unwrap();
        assert_eq!(g.systems, ["NHS South Yorkshire ICB (QF7)"]);
        assert_eq!(g.places.len(), 4);
        assert_eq!(g.total_population(), 1_493_909);
    }
    // "All of the above" carries the single scenarios' interventions unchanged, so their
    // uncertain parameters draw the same values run by run.
    let all = b
        .scenarios
        .iter()
        .find(|s| s.name == "all-of-the-above")
        .unwrap();
    for s in &b.scenarios {
        for i in &s.interventions {
            if s.name != all.name {
                let same = all.interventions.iter().find(|x| x.name == i.name).unwrap();
                // Everything but the file that defined it.
                let mut copy = same.clone();
                copy.file = i.file.clone();
                assert_eq!(&copy, i, "{} differs in all-of-the-above", i.name);
            }
        }
    }
}

#[test]
fn extends_overrides_settings_and_adds_interventions() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "base.toml", SMALL);
    let child = write(
        tmp.path(),
        "child.toml",
        r#"
name = "child"
extends = "base.toml"
years = 5
[[intervention]]
name = "Wards"
target = { segments = ["frailty"], age_min = 65 }
coverage = { start = 0.1, target = 0.5, ramp_years = 2 }
effects.emergency_admissions = { dist = "interval80", p10 = -0.2, p90 = 0.0 }
"#,
    );
    let s = Scenario::load(&child).unwrap();
    assert_eq!(s.name, "child");
    assert_eq!(s.years, 5, "overridden");
    assert_eq!(s.seed, 7, "inherited");
    assert_eq!(s.runs, 6, "inherited");
    assert_eq!(s.population.neighbourhoods.len(), 2, "inherited");
    assert_eq!(s.interventions.len(), 1);
    assert!((s.interventions[0].coverage.in_year(2) - 0.3).abs() < 1e-12);
}

#[test]
fn sweeps_expand_to_every_combination() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "base.toml", SMALL);
    write(
        tmp.path(),
        "wards.toml",
        r#"
name = "wards"
extends = "base.toml"
[[intervention]]
name = "Wards"
coverage = { start = 0.4, target = 0.4 }
cost_per_enrolled = 1000
effects.emergency_admissions = -0.1
"#,
    );
    let batch = write(
        tmp.path(),
        "batch.toml",
        r#"
scenarios = ["base.toml"]
[[sweep]]
base = "wards.toml"
intervention = "Wards"
coverage_target = [0.2, 0.6]
effect_scale = [0.5, 2.0]
cost_scale = [1.5]
"#,
    );
    let b = Batch::load(&batch).unwrap();
    assert_eq!(b.scenarios.len(), 1 + 4);
    let s = &b.scenarios[4];
    assert_eq!(s.name, "wards--cov0.6-eff2-cost1.5");
    let i = &s.interventions[0];
    assert_eq!(i.coverage.target.0, 0.6);
    assert!((i.effects.on(Setting::EmergencyAdmissions).unwrap().0.mean() + 0.2).abs() < 1e-12);
    assert!((i.cost_per_enrolled.0.mean() - 1500.0).abs() < 1e-9);
}

/// Runs `capsim validate` and `capsim run` on a bad file; both must exit 2 with one line
/// naming the file, the line and the field, and `run` must write nothing.
pub fn rejected(text: &str, line: usize, field: &str, says: &str) {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "base.toml", SMALL);
    write(tmp.path(), "bad.toml", text);
    for args in [
        vec!["validate", "bad.toml"],
        vec!["run", "bad.toml", "--out", "results"],
    ] {
        let out = capsim(tmp.path(), &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(err.contains("bad.toml"), "names the file: {err}");
        assert!(
            err.contains(&format!("line {line}")),
            "names line {line}: {err}"
        );
        assert!(err.contains(field), "names field {field}: {err}");
        assert!(err.contains(says), "says {says}: {err}");
        assert!(!tmp.path().join("results").exists(), "wrote nothing");
    }
}

#[test]
fn malformed_toml_is_rejected() {
    rejected("name = \"x\"\nyears = \n", 2, "(syntax)", "");
}

#[test]
fn unknown_field_is_rejected_with_the_allowed_ones() {
    rejected(
        "extends = \"base.toml\"\nyeers = 3\n",
        2,
        "yeers",
        "expected one of",
    );
}

#[test]
fn out_of_range_value_is_rejected() {
    rejected(
        "extends = \"base.toml\"\n\n[[intervention]]\nname = \"A\"\ncoverage = { start = 0.1, target = 1.5 }\n",
        5,
        "intervention[0].coverage.target",
        "not a share",
    );
}

#[test]
fn interval_with_p10_above_p90_is_rejected() {
    rejected(
        "extends = \"base.toml\"\n[[intervention]]\nname = \"A\"\ncoverage = { start = 0.1, target = 0.5 }\neffects.emergency_admissions = { dist = \"interval80\", p10 = 0.1, p90 = -0.2 }\n",
        5,
        "effects.emergency_admissions",
        "p10 <= p90",
    );
}

#[test]
fn unknown_segment_is_rejected_with_the_allowed_ones() {
    rejected(
        "extends = \"base.toml\"\n[[intervention]]\nname = \"A\"\ncoverage = { start = 0.1, target = 0.5 }\ntarget = { segments = [\"fraility\"] }\n",
        5,
        "target.segments",
        "frailty",
    );
}

#[test]
fn misaligned_age_is_rejected() {
    rejected(
        "extends = \"base.toml\"\n[[intervention]]\nname = \"A\"\ncoverage = { start = 0.1, target = 0.5 }\ntarget = { age_min = 67 }\n",
        5,
        "target.age_min",
        "five-year",
    );
}

/// `capsim validate FILE` in `dir` must exit 2 with one line naming `file`, `line N` and
/// `field`.
fn validate_fails(dir: &Path, file: &str, want: &str, line: usize, field: &str) -> String {
    let out = capsim(dir, &["validate", file]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(
        err.contains(&format!("{want}, line {line}, field `{field}`")),
        "names {want}, line {line}, field {field}: {err}"
    );
    err
}

/// The file, line and field of a scenario error.
fn located(e: CapsimError) -> (String, Option<usize>, String) {
    match e {
        CapsimError::Scenario {
            file, line, field, ..
        } => (file, line, field),
        other => panic!("not a scenario error: {other}"),
    }
}

#[test]
fn an_inherited_bad_value_names_the_base_file_and_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let base = "name = \"base\"\nyears = 3\n\n[[intervention]]\nname = \"Wards\"\ncoverage = { start = 0.1, target = 0.5 }\ntarget = { segments = [\"frailty\"], age_max = 70 }\n";
    write(tmp.path(), "base.toml", base);
    let child = write(
        tmp.path(),
        "child.toml",
        "name = \"child\"\nextends = \"base.toml\"\nyears = 5\n",
    );
    let err = validate_fails(
        tmp.path(),
        "child.toml",
        "base.toml",
        7,
        "intervention[0].target.age_max",
    );
    assert!(err.contains("five-year"), "{err}");
    let (file, line, field) = located(Scenario::load(&child).unwrap_err());
    assert!(file.ends_with("base.toml"), "{file}");
    assert_eq!(
        (line, field.as_str()),
        (Some(7), "intervention[0].target.age_max")
    );
}

#[test]
fn an_inherited_unknown_name_names_the_base_file_and_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Datasets::bundled().unwrap();
    // An unknown segment in an intervention, on the second line of its list.
    write(
        tmp.path(),
        "base.toml",
        "name = \"base\"\n\n[[intervention]]\nname = \"Wards\"\ncoverage = { start = 0.1, target = 0.5 }\ntarget.segments = [\"frailty\",\n  \"fraility\"]\n",
    );
    let child = write(
        tmp.path(),
        "child.toml",
        "name = \"child\"\nextends = \"base.toml\"\nyears = 5\n\n[[intervention]]\nname = \"Other\"\ncoverage = { start = 0.1, target = 0.5 }\n",
    );
    let err = validate_fails(
        tmp.path(),
        "child.toml",
        "base.toml",
        7,
        "intervention[0].target.segments",
    );
    assert!(
        err.contains("`fraility` does not exist") && err.contains("frailty"),
        "{err}"
    );
    let s = Scenario::load(&child).unwrap();
    let (file, line, field) = located(s.geography(&d).unwrap_err());
    assert!(file.ends_with("base.toml"), "{file}");
    assert_eq!(
        (line, field.as_str()),
        (Some(7), "intervention[0].target.segments")
    );

    // An unknown neighbourhood of the population, inherited in the same way.
    write(
        tmp.path(),
        "base.toml",
        "name = \"base\"\n[population]\npreset = \"invented\"\nneighbourhoods = [\"Harbourside PCN\", \"Nowhere PCN\"]\n",
    );
    validate_fails(
        tmp.path(),
        "child.toml",
        "base.toml",
        4,
        "population.neighbourhoods",
    );
}

#[test]
fn a_bad_value_in_the_child_names_the_child_file_and_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "base.toml", SMALL);
    write(
        tmp.path(),
        "child.toml",
        "extends = \"base.toml\"\nyears = 5\n\n[[intervention]]\nname = \"Wards\"\ncoverage = { start = 0.1, target = 0.5 }\ntarget = { places = [\"Nowhere\"] }\n",
    );
    validate_fails(
        tmp.path(),
        "child.toml",
        "child.toml",
        7,
        "intervention[0].target.places",
    );
    write(
        tmp.path(),
        "child.toml",
        "extends = \"base.toml\"\nyears = 5\n\n[[intervention]]\nname = \"Wards\"\ncoverage = { start = 0.1, target = 0.5 }\n\ntarget.age_min = 62\n",
    );
    validate_fails(
        tmp.path(),
        "child.toml",
        "child.toml",
        8,
        "intervention[0].target.age_min",
    );
}

#[test]
fn checks_across_fields_name_the_line_of_their_table() {
    let iv = "extends = \"base.toml\"\n\n[[intervention]]\nname = \"A\"\ncoverage = { start = 0.1, target = 0.5 }\n";
    for (extra, line, field, says) in [
        (
            "target = { age_min = 70, age_max = 64 }\n",
            6,
            "intervention[0].target",
            "above age_max",
        ),
        (
            "\nfunding_shift = { from = \"acute\", to = \"acute\", share_of_savings = 0.5 }\n",
            7,
            "intervention[0].funding_shift",
            "same sector",
        ),
        (
            "[intervention.substitution.emergency_bed_days]\nper_enrolled = 1\n",
            6,
            "intervention[0].substitution",
            "derived",
        ),
        (
            "\n[[intervention]]\nname = \"A\"\ncoverage = { start = 0.2, target = 0.5 }\n",
            7,
            "intervention[1].name",
            "named twice",
        ),
    ] {
        rejected(&format!("{iv}{extra}"), line, field, says);
    }
    for (text, line, field, says) in [
        (
            "extends = \"base.toml\"\n\n[envelope]\ngrowth = 0.01\n[envelope.sector_shares]\nacute = 0.7\ncommunity = 0.2\n",
            5,
            "envelope.sector_shares",
            "sum to 1",
        ),
        (
            "extends = \"base.toml\"\n[capitation]\n\nformula = [\"need\", \"headcount\",\n  \"need\"]\n",
            4,
            "capitation.formula",
            "two formulas are named `need`",
        ),
        (
            "extends = \"base.toml\"\n[capitation]\nformula = \"need\"\n\n[capitation.risk_sharing]\npool = \"place\"\n",
            5,
            "capitation.risk_sharing",
            "shares nothing",
        ),
    ] {
        rejected(text, line, field, says);
    }
}

#[test]
fn years_and_runs_have_one_range_for_files_and_flags() {
    let tmp = tempfile::tempdir().unwrap();
    for (key, flag, value, allowed) in [
        ("years", "--years", "0", "1 to 100"),
        ("years", "--years", "101", "1 to 100"),
        ("runs", "--runs", "0", "1 to 100000"),
        ("runs", "--runs", "100001", "1 to 100000"),
    ] {
        let problem = format!("{value} is not allowed; use {allowed}");
        write(
            tmp.path(),
            "s.toml",
            &format!("name = \"s\"\n{key} = {value}\n"),
        );
        let err = validate_fails(tmp.path(), "s.toml", "s.toml", 2, key);
        assert!(err.trim().ends_with(&problem), "{err}");
        write(tmp.path(), "s.toml", "name = \"s\"\n");
        let out = capsim(tmp.path(), &["run", "s.toml", flag, value, "--out", "r"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.trim().ends_with(&format!("{flag}: {problem}")), "{err}");
        assert!(!tmp.path().join("r").exists());
    }
    // The library's overrides refuse what the parser refuses, with the same words.
    let o = Overrides {
        years: Some(0),
        ..Default::default()
    };
    let from_flag = o.check().unwrap_err().to_string();
    let from_type = Years::try_from(0).unwrap_err();
    assert_eq!(from_flag, format!("--years: {from_type}"));
    assert!(Runs::try_from(100_000).is_ok() && Years::try_from(100).is_ok());
}

#[test]
fn init_writes_examples_that_validate() {
    let tmp = tempfile::tempdir().unwrap();
    let out = capsim(tmp.path(), &["init", "examples"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = capsim(tmp.path(), &["validate", "examples/batch.toml"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = capsim(tmp.path(), &["init", "examples"]);
    assert_eq!(again.status.code(), Some(2), "refuses to overwrite");
}

fn mutated() -> impl Strategy<Value = String> {
    let base = capsim::config::scenario::EXAMPLES[1].1.to_string();
    let len = base.len();
    (
        0..len,
        0..len,
        prop::sample::select(vec![
            "",
            "=",
            "[",
            "]",
            "{",
            "}",
            "\"",
            "-1e309",
            "0.5",
            "nan",
            "[[intervention]]",
            "dist = \"beta\"",
            "p10",
            "\n",
            "x",
        ]),
    )
        .prop_map(move |(a, b, s)| {
            let (a, b) = (a.min(b), a.max(b).min(a + 40));
            let mut t = String::new();
            t.push_str(base.get(..a).unwrap_or(""));
            t.push_str(s);
            t.push_str(base.get(b..).unwrap_or(""));
            t
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// No input makes the loader panic: it returns a scenario or an error.
    #[test]
    fn loader_never_panics(text in prop_oneof![mutated(), ".{0,300}"]) {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "baseline.toml", capsim::config::scenario::EXAMPLES[0].1);
        let p = write(tmp.path(), "s.toml", &text);
        let r = std::panic::catch_unwind(|| {
            if let Ok(s) = Scenario::load(&p) {
                let d = Datasets::bundled().unwrap();
                let _ = s.geography(&d);
            }
        });
        prop_assert!(r.is_ok());
    }
}

/// A closed stdout (`capsim init DIR | head -c 0`) ends capsim quietly with exit code 0:
/// no panic, nothing on stderr.
#[test]
fn a_closed_pipe_is_not_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        vec!["init", "examples"],
        vec!["validate", "examples/baseline.toml"],
        vec!["--help"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_capsim"))
            .current_dir(tmp.path())
            .args(&args)
            .stdout(writer)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{args:?}: {stderr}"
        );
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

#[test]
fn bad_variation_settings_are_rejected() {
    rejected(
        "extends = \"base.toml\"\n\n[variation]\nbetween_areas = \"yes\"\n",
        4,
        "variation.between_areas",
        "bool",
    );
    rejected(
        "extends = \"base.toml\"\n\n[variation]\nplace_costs = true\nwobble = 0.1\n",
        5,
        "variation.wobble",
        "expected `between_areas` or `place_costs`",
    );
}

#[test]
fn variation_defaults_on_is_inherited_and_splits_groups() {
    use capsim::config::scenario::Variation;
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "base.toml", SMALL);
    let base = Scenario::load(&tmp.path().join("base.toml")).unwrap();
    assert_eq!(base.variation, Variation::default());
    assert!(base.variation.between_areas && base.variation.place_costs);
    write(
        tmp.path(),
        "off.toml",
        &format!("{SMALL}\n[variation]\nbetween_areas = false\n"),
    );
    write(
        tmp.path(),
        "child.toml",
        "extends = \"off.toml\"\nname = \"child\"\n",
    );
    let child = Scenario::load(&tmp.path().join("child.toml")).unwrap();
    assert!(!child.variation.between_areas && child.variation.place_costs);
    // Scenarios with other variation settings cannot share a counterfactual.
    let batch = write(
        tmp.path(),
        "batch.toml",
        "name = \"b\"\nscenarios = [\"base.toml\", \"child.toml\"]\n",
    );
    let b = Batch::load(&batch).unwrap();
    assert_eq!(b.groups().len(), 2);
}
