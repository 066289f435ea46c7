//! Monte Carlo batches: common random numbers, intervention effects against their analytic
//! expectation, and byte-identical summaries whatever the threads, sharding or interruption.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use capsim::app::batch::{merge, run_batch, BatchOptions};
use capsim::app::pipeline::{prepare, write_unit_in_chunks};
use capsim::config::batch::{Batch, Shard};
use capsim::config::scenario::Scenario;
use capsim::data::datasets::{DatasetSource, Datasets};
use capsim::engine::levers::Levers;
use capsim::engine::simulation::{simulate_plan, Plan, SimConfig};
use capsim::io::tables::Staging;
use capsim::model::Model;

use crate::scenarios::{write, SMALL};
use crate::util::capsim;

const WARDS: &str = r#"
name = "wards"
extends = "base.toml"
[[intervention]]
name = "Wards"
target = { segments = ["frailty", "complex_multimorbidity"], age_min = 65 }
coverage = { start = 0.2, target = 0.6, ramp_years = 2 }
cost_per_enrolled = { dist = "triangular", min = 300, mode = 400, max = 600 }
setup_cost = 50000
effects.emergency_admissions = { dist = "interval80", p10 = -0.3, p90 = 0.0 }
substitution.community_nursing = { per_avoided_admission = 6 }
funding_shift = { from = "acute", to = "community", share_of_savings = 0.5 }
"#;

const PREVENTION: &str = r#"
name = "prevention"
extends = "base.toml"
[[intervention]]
name = "Prevention"
target = { segments = ["stable_ltc"], age_min = 40 }
coverage = { start = 0.5, target = 0.5 }
cost_per_enrolled = 50
effects.deterioration = { dist = "uniform", min = -0.4, max = -0.1 }
effects.mortality = -0.05
"#;

fn batch_dir(dir: &Path) -> PathBuf {
    write(dir, "base.toml", SMALL);
    write(dir, "wards.toml", WARDS);
    write(dir, "prevention.toml", PREVENTION);
    write(
        dir,
        "batch.toml",
        "scenarios = [\"base.toml\", \"wards.toml\", \"prevention.toml\"]\n",
    )
}

fn options(out: &Path, threads: usize, shard: Option<Shard>) -> BatchOptions {
    BatchOptions {
        out: out.to_path_buf(),
        threads,
        shard,
        datasets: DatasetSource::Bundled,
    }
}

/// Every file under `dir` (relative path -> bytes), skipping the unit markers.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The Monte Carlo tables, including the incremental analysis across the scenarios
/// (`incremental`, `ceaf`), which resumed, sharded and merged batches must match too.
fn summary_bytes(dir: &Path) -> Vec<Vec<u8>> {
    [
        "summary.parquet",
        "summary.csv",
        "sensitivity.parquet",
        "sensitivity.csv",
        "incremental.parquet",
        "incremental.csv",
        "ceaf.parquet",
        "ceaf.csv",
        "one_way.parquet",
        "one_way.csv",
    ]
    .iter()
    .map(|f| std::fs::read(dir.join(f)).unwrap_or_else(|_| panic!("{f} in {dir:?}")))
    .collect()
}

/// A large unit is simulated and written a few scenarios at a time on one population path
/// (`app::pipeline::write_unit_in_chunks`) to bound memory: the same bytes, metrics and
/// person-years as simulating every scenario together. Four scenarios: three on the
/// counterfactual's path (so one is simulated in a later chunk than the counterfactual and
/// copies the population files of one written in an earlier chunk) and one on its own.
#[test]
fn a_unit_written_in_chunks_is_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    batch_dir(tmp.path());
    write(
        tmp.path(),
        "wards-b.toml",
        &WARDS.replace("name = \"wards\"", "name = \"wards-b\""),
    );
    write(
        tmp.path(),
        "four.toml",
        "scenarios = [\"base.toml\", \"wards.toml\", \"prevention.toml\", \"wards-b.toml\"]\n",
    );
    let batch = Batch::load(&tmp.path().join("four.toml")).unwrap();
    let p = prepare(&batch, &DatasetSource::Bundled).unwrap();
    let pool = capsim::engine::simulation::pool(2).unwrap();
    let written = |name: &str, stream: bool| {
        let out = tmp.path().join(name);
        std::fs::create_dir_all(&out).unwrap();
        let mut staging = Staging::named(&out, "unit").unwrap();
        // Each scenario's metrics as it is written, put back in batch order.
        let mut runs = Vec::new();
        let w = write_unit_in_chunks(
            &p,
            &batch,
            (0, 0),
            Some(&pool),
            (&mut staging, false),
            stream,
            &mut |s, run| {
                runs.push((s, run));
                Ok(())
            },
        )
        .unwrap();
        staging.commit().unwrap();
        runs.sort_by_key(|(s, _)| *s);
        (tree(&out), (w.person_years, runs))
    };
    let (together, a) = written("together", false);
    let (chunked, b) = written("chunked", true);
    assert_eq!(together.len(), 4 * 6, "six tables of four scenarios");
    assert_eq!(together, chunked);
    assert_eq!(a.0, b.0, "person-years");
    assert!(a.0 > 0);
    assert_eq!(a.1.len(), 4, "every scenario's metrics, once");
    assert_eq!(a.1, b.1);
}

#[test]
fn batch_writes_hive_partitions_and_a_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let b = Batch::load(&batch_dir(tmp.path())).unwrap();
    let out = tmp.path().join("out");
    let r = run_batch(&b, &options(&out, 2, None), &|_, _| {}).unwrap();
    assert_eq!((r.units_total, r.units_run), (6, 6));
    assert!(r.summarised);
    for t in capsim::io::tables::RunTable::ALL.map(|t| t.id()) {
        for s in ["small", "wards", "prevention"] {
            for k in 0..6 {
                let p = out.join(format!("{t}/scenario={s}/run={k}/part-0.parquet"));
                assert!(p.is_file(), "{p:?}");
            }
        }
    }
    // One schema per table across partitions, and no partition column inside the files,
    // so DuckDB, pyarrow and R arrow read each table as one Hive-partitioned dataset.
    for t in capsim::io::tables::RunTable::ALL.map(|t| t.id()) {
        let first = capsim::io::read::read_parquet(
            &out.join(format!("{t}/scenario=small/run=0/part-0.parquet")),
        )
        .unwrap();
        assert!(first.column("scenario").is_err() && first.column("run").is_err());
        for s in ["wards", "prevention"] {
            let other = capsim::io::read::read_parquet(
                &out.join(format!("{t}/scenario={s}/run=5/part-0.parquet")),
            )
            .unwrap();
            assert_eq!(first.schema(), other.schema(), "{t}");
        }
    }
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(summary.starts_with("scenario,year,level,area,metric,mean,p5,p10,p50,p90,p95,runs"));
    for needle in [
        "wards,3,system,Northvale and Eastmoor ICS,net_cost,",
        "wards,3,neighbourhood,Castlegate PCN,avoided_admissions,",
        "wards,3,place,Northvale City,position:headcount,",
        "wards,3,system,Northvale and Eastmoor ICS,discounted_break_even_year,",
        "prevention,2,system,Northvale and Eastmoor ICS,cumulative_roi,",
        "small,1,system,Northvale and Eastmoor ICS,count.emergency_bed_days,",
    ] {
        assert!(summary.contains(needle), "{needle}");
    }
    let sens = std::fs::read_to_string(out.join("sensitivity.csv")).unwrap();
    assert!(
        sens.contains("wards,Wards/effects.emergency_admissions,"),
        "{sens}"
    );
    assert!(
        sens.contains("prevention,Prevention/effects.deterioration,"),
        "{sens}"
    );

    // Scenarios on one population path share their population and flows files (copied,
    // not encoded again): the bytes of wards written alone, and not those of prevention,
    // whose mortality effect puts it on a path of its own.
    let alone = tmp.path().join("alone");
    let wards = Scenario::load(&tmp.path().join("wards.toml")).unwrap();
    run_batch(&Batch::single(wards), &options(&alone, 2, None), &|_, _| {}).unwrap();
    for t in ["population", "flows"] {
        for k in 0..6 {
            let part = |dir: &Path, s: &str| {
                std::fs::read(dir.join(format!("{t}/scenario={s}/run={k}/part-0.parquet"))).unwrap()
            };
            assert!(part(&out, "wards") == part(&alone, "wards"), "{t} {k}");
            assert!(part(&out, "wards") == part(&out, "small"), "{t} {k}");
            assert!(part(&out, "prevention") != part(&out, "small"), "{t} {k}");
        }
    }

    // A re-run finds everything done and changes nothing.
    let before = tree(&out);
    let again = run_batch(&b, &options(&out, 2, None), &|_, _| {}).unwrap();
    assert_eq!((again.units_run, again.units_skipped), (0, 6));
    assert_eq!(tree(&out), before);
}

#[test]
fn summaries_do_not_depend_on_threads_or_sharding() {
    let tmp = tempfile::tempdir().unwrap();
    let b = Batch::load(&batch_dir(tmp.path())).unwrap();
    let one = tmp.path().join("one");
    run_batch(&b, &options(&one, 1, None), &|_, _| {}).unwrap();
    let two = tmp.path().join("two");
    run_batch(&b, &options(&two, 2, None), &|_, _| {}).unwrap();
    assert_eq!(summary_bytes(&one), summary_bytes(&two), "1 vs 2 threads");
    assert_eq!(tree(&one), tree(&two), "every partition, 1 vs 2 threads");

    let mut shards = Vec::new();
    for i in 0..4 {
        let d = tmp.path().join(format!("shard{i}"));
        let r = run_batch(
            &b,
            &options(&d, 1, Some(Shard { index: i, count: 4 })),
            &|_, _| {},
        )
        .unwrap();
        assert!(!r.summarised, "a shard alone has no summary");
        assert!(!d.join("summary.parquet").exists());
        shards.push(d);
    }
    let merged = tmp.path().join("merged");
    // Merging only some shards leaves the summary for later; the rest completes it.
    let (n, done) = merge(&shards[..2], &merged).unwrap();
    assert!(n < 6 && !done);
    let (n, done) = merge(&shards, &merged).unwrap();
    assert_eq!(n, 6);
    assert!(done);
    assert_eq!(
        summary_bytes(&one),
        summary_bytes(&merged),
        "merged vs unsharded"
    );
    assert_eq!(
        tree(&one),
        tree(&merged),
        "every partition, merged vs unsharded"
    );
}

#[test]
fn an_interrupted_batch_resumes_to_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let file = batch_dir(tmp.path());
    let b = Batch::load(&file).unwrap();
    let whole = tmp.path().join("whole");
    run_batch(&b, &options(&whole, 2, None), &|_, _| {}).unwrap();

    // A real kill: SIGKILL as soon as the first unit is complete.
    let out = tmp.path().join("killed");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_capsim"))
        .current_dir(tmp.path())
        .args([
            "batch",
            "batch.toml",
            "--runs",
            "40",
            "--years",
            "10",
            "--out",
            "killed",
            "--threads",
            "1",
        ])
        .spawn()
        .unwrap();
    let units = out.join(".units");
    let t0 = std::time::Instant::now();
    while std::fs::read_dir(&units).map_or(0, |d| d.count()) == 0 {
        assert!(t0.elapsed().as_secs() < 120, "no unit finished");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let finished = std::fs::read_dir(&units).unwrap().count();
    assert!(finished < 40, "killed midway ({finished} of 40 done)");
    assert!(
        !out.join("summary.parquet").exists(),
        "no summary from a partial batch"
    );
    let rerun = capsim(
        tmp.path(),
        &[
            "batch",
            "batch.toml",
            "--runs",
            "40",
            "--years",
            "10",
            "--out",
            "killed",
        ],
    );
    assert!(
        rerun.status.success(),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    let said = String::from_utf8_lossy(&rerun.stdout);
    assert!(said.contains("already complete"), "{said}");
    let whole40 = tmp.path().join("whole40");
    let fresh = capsim(
        tmp.path(),
        &[
            "batch",
            "batch.toml",
            "--runs",
            "40",
            "--years",
            "10",
            "--out",
            "whole40",
        ],
    );
    assert!(fresh.status.success());
    assert_eq!(
        summary_bytes(&out),
        summary_bytes(&whole40),
        "resumed vs unbroken"
    );
    assert!(std::fs::read_dir(&out).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with(".capsim-staging")));

    // A deterministic interruption: half the units lost, a stale staging folder left.
    let partial = tmp.path().join("partial");
    run_batch(&b, &options(&partial, 2, None), &|_, _| {}).unwrap();
    std::fs::remove_file(partial.join("summary.parquet")).unwrap();
    for k in [1, 3, 5] {
        std::fs::remove_file(partial.join(format!(".units/group0-run{k}.done"))).unwrap();
        std::fs::remove_file(
            partial.join(format!("metrics/scenario=wards/run={k}/part-0.parquet")),
        )
        .unwrap();
    }
    std::fs::create_dir_all(partial.join(".capsim-staging-999-g0-r1/activity")).unwrap();
    let r = run_batch(&b, &options(&partial, 2, None), &|_, _| {}).unwrap();
    assert_eq!((r.units_run, r.units_skipped), (3, 3));
    assert_eq!(tree(&partial), tree(&whole));
}

#[test]
fn a_folder_of_another_batch_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let b = Batch::load(&batch_dir(tmp.path())).unwrap();
    let out = tmp.path().join("out");
    run_batch(&b, &options(&out, 2, None), &|_, _| {}).unwrap();
    let mut other = b.clone();
    other.scenarios[0].seed = 8;
    let e = run_batch(&other, &options(&out, 2, None), &|_, _| {}).unwrap_err();
    assert!(e.to_string().contains("different batch"), "{e}");
}

/// Per-run totals over the horizon of (counterfactual, scenario) for `metric`, simulating
/// directly through the library.
fn paired(scenario: &Scenario, seed: u64, runs: u64, setting: usize) -> Vec<(f64, f64)> {
    let d = Datasets::bundled().unwrap();
    let m = Model::new(&d).unwrap();
    let g = scenario.geography(&d).unwrap();
    (0..runs)
        .map(|run| {
            let none = Levers::none();
            let plan = Plan::new(
                SimConfig {
                    seed,
                    run,
                    years: scenario.years,
                    variation: scenario.variation,
                    mortality: scenario.mortality,
                    trends: Default::default(),
                },
                vec![
                    none,
                    Levers::draw(scenario, &scenario.resolve(&d, &g).unwrap(), &m, run),
                ],
            );
            let r = simulate_plan(&m, &g, &plan, 2, &|| {}).unwrap();
            let total = |s: usize| -> f64 {
                r[s].iter()
                    .flat_map(|n| &n.activity)
                    .map(|a| a.count_of(capsim::core::care::Setting::ALL[setting]) as f64)
                    .sum()
            };
            (total(0), total(1))
        })
        .collect()
}

fn variance(x: &[f64]) -> f64 {
    let m = x.iter().sum::<f64>() / x.len() as f64;
    x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() - 1) as f64
}

#[test]
fn common_random_numbers_make_differences_precise() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "base.toml", SMALL);
    let adm = capsim::core::care::Setting::EmergencyAdmissions.index();
    for (text, fixed) in [
        (
            WARDS.replace("{ dist = \"interval80\", p10 = -0.3, p90 = 0.0 }", "-0.15"),
            "wards",
        ),
        (
            PREVENTION.replace("{ dist = \"uniform\", min = -0.4, max = -0.1 }", "-0.25"),
            "prevention",
        ),
    ] {
        let s = Scenario::load(&write(tmp.path(), "s.toml", &text)).unwrap();
        let crn = paired(&s, 7, 30, adm);
        // The same scenario against a baseline with other random numbers.
        let indep: Vec<(f64, f64)> = crn
            .iter()
            .zip(paired(&s, 8, 30, adm))
            .map(|(a, b)| (b.0, a.1))
            .collect();
        let diff = |v: &[(f64, f64)]| -> Vec<f64> { v.iter().map(|(a, b)| b - a).collect() };
        let alone: Vec<f64> = crn.iter().map(|p| p.0).collect();
        let (v_crn, v_ind, v_alone) = (
            variance(&diff(&crn)),
            variance(&diff(&indep)),
            variance(&alone),
        );
        eprintln!("{fixed}: var(diff) CRN {v_crn:.0}, independent {v_ind:.0}, baseline alone {v_alone:.0}");
        assert!(v_crn < 0.2 * v_alone, "{fixed}: {v_crn} vs {v_alone}");
        assert!(v_crn < 0.2 * v_ind, "{fixed}: {v_crn} vs {v_ind}");
    }
}

#[test]
fn activity_effects_and_substitution_match_their_expectation() {
    // Everyone enrolled, admissions halved: the scenario's admissions must be half the
    // counterfactual's up to Poisson noise; community nursing gains 3 contacts per
    // enrolled person-year.
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "base.toml", SMALL);
    let s = Scenario::load(&write(
        tmp.path(),
        "half.toml",
        r#"
extends = "base.toml"
[[intervention]]
name = "Half"
coverage = { start = 1.0, target = 1.0 }
effects.emergency_admissions = -0.5
substitution.community_nursing = { per_enrolled = 3 }
"#,
    ))
    .unwrap();
    let adm = capsim::core::care::Setting::EmergencyAdmissions.index();
    let nursing = capsim::core::care::Setting::CommunityNursing.index();
    for (cf, sc) in paired(&s, 3, 3, adm) {
        crate::util::assert_close("halved admissions", sc, 0.5 * cf, 0.5 * cf, 5.0);
    }
    let d = Datasets::bundled().unwrap();
    let g = s.geography(&d).unwrap();
    let person_years: f64 = {
        let m = Model::new(&d).unwrap();
        let plan = Plan::new(
            SimConfig {
                seed: 3,
                run: 0,
                years: s.years,
                variation: s.variation,
                mortality: s.mortality,
                trends: Default::default(),
            },
            vec![Levers::draw(&s, &s.resolve(&d, &g).unwrap(), &m, 0)],
        );
        let r = simulate_plan(&m, &g, &plan, 2, &|| {}).unwrap();
        r[0].iter()
            .flat_map(|n| &n.interventions)
            .map(|i| i.enrolled[0].iter().sum::<f64>())
            .sum()
    };
    let (cf, sc) = paired(&s, 3, 1, nursing)[0];
    crate::util::assert_close(
        "substituted nursing",
        sc - cf,
        3.0 * person_years,
        sc + cf,
        5.0,
    );
}
