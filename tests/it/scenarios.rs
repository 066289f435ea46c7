//! Scenario files: the shipped examples load, `extends` overrides, sweeps expand, and bad
//! input gets one clear line naming file, line and field, exit code 2, and nothing written.

use std::path::Path;

use capsim::config::batch::Batch;
use capsim::config::scenario::Scenario;
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
        let g = s.geography(&d).unwrap();
        assert_eq!(g.neighbourhoods.len(), 37);
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
                assert_eq!(same.effects, i.effects, "{}", i.name);
                assert_eq!(same.coverage, i.coverage, "{}", i.name);
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
    assert!((i.effects.emergency_admissions.as_ref().unwrap().0.mean() + 0.2).abs() < 1e-12);
    assert!((i.cost_per_enrolled.0.mean() - 1500.0).abs() < 1e-9);
}

/// Runs `capsim validate` and `capsim run` on a bad file; both must exit 2 with one line
/// naming the file, the line and the field, and `run` must write nothing.
fn rejected(text: &str, line: usize, field: &str, says: &str) {
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
        3,
        "target.age_min",
        "five-year",
    );
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
