//! Capitated budgets: exact allocation of the envelope, need weighting that follows need,
//! pace of change within its step, risk decomposition, and clear errors for bad settings.

use std::collections::BTreeMap;
use std::path::Path;

use capsim::accounts::capitation::Weights;
use capsim::app::run::{run, RunOptions};
use capsim::config::scenario::Overrides;
use capsim::core::dims::{band_of, n_cells, Cell};
use capsim::data::datasets::Datasets;
use capsim::model::Model;

use crate::scenarios::write;
use crate::util::capsim;

const CAPITATED: &str = r#"
name = "cap"
years = 4
seed = 5
runs = 1
[population]
places = ["Northvale City", "Eastmoor Dales"]
[envelope]
growth = 0.025
pooled_social_care = 0.5
[capitation]
formula = ["headcount", "need", { name = "need_adjusted", basis = "need", market_forces = true, inequalities = true, rurality = true }]
pace_of_change = { max_step = 0.003 }
risk_sharing = { pool = "place", pool_threshold = 0.01, provider_share = 0.5, cap = 0.02, collar = 0.02 }
"#;

/// Budget rows of a flat run: (formula, year, neighbourhood, sector) -> (budget, spend,
/// position, after), in pence.
type Rows = BTreeMap<(String, i64, String, String), (i64, i64, i64, i64)>;

fn rows(csv: &str) -> Rows {
    let mut out = BTreeMap::new();
    for line in csv.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        if c[11] != "neighbourhood" {
            continue;
        }
        let pence = |i: usize| (c[i].parse::<f64>().unwrap() * 100.0).round() as i64;
        out.insert(
            (
                c[5].to_string(),
                c[0].parse().unwrap(),
                c[3].to_string(),
                c[4].to_string(),
            ),
            (pence(7), pence(8), pence(9), pence(10)),
        );
    }
    out
}

#[test]
fn budgets_add_up_to_the_envelope_and_pace_stays_within_its_step() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "cap.toml", CAPITATED);
    let out = tmp.path().join("out");
    let options = RunOptions {
        scenario: Some(file),
        overrides: Overrides::default(),
        threads: 2,
        datasets: capsim::data::datasets::DatasetSource::Bundled,
        out: out.clone(),
    };
    run(&options, &|_, _| {}).unwrap();
    let csv = std::fs::read_to_string(out.join("budgets.csv")).unwrap();
    assert!(csv.starts_with("year,system,place,neighbourhood,sector,formula,weighted_population,budget,spend,position,position_after_risk_share"));
    let r = rows(&csv);
    // Places and systems are the sums of their neighbourhoods, to the penny.
    let level_total = |level: &str, year: &str| -> i64 {
        csv.lines()
            .skip(1)
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|c| c[11] == level && c[0] == year && c[4] == "total" && c[5] == "need")
            .map(|c| (c[7].parse::<f64>().unwrap() * 100.0).round() as i64)
            .sum()
    };
    for y in ["1", "4"] {
        let n = level_total("neighbourhood", y);
        assert_eq!(level_total("place", y), n);
        assert_eq!(level_total("system", y), n);
    }
    let sectors = [
        "acute",
        "community",
        "primary_care",
        "mental_health",
        "social_care",
    ];
    // The envelope: year-one spend without interventions (this scenario has none), grown.
    let spend1: i64 = r
        .iter()
        .filter(|((f, y, _, s), _)| f == "headcount" && *y == 1 && s == "total")
        .map(|(_, v)| v.1)
        .sum();
    for formula in ["headcount", "need", "need_adjusted"] {
        for year in 1..=4 {
            let envelope = (spend1 as f64 * 1.025f64.powi(year as i32 - 1)).round() as i64;
            let total: i64 = r
                .iter()
                .filter(|((f, y, _, s), _)| f == formula && *y == year && s == "total")
                .map(|(_, v)| v.0)
                .sum();
            assert_eq!(total, envelope, "{formula} year {year}: to the penny");
            // Each neighbourhood's sectors sum to its total, and positions are budget - spend.
            for ((f, y, nb, s), v) in &r {
                if f == formula && *y == year && s == "total" {
                    let by_sector: i64 = sectors
                        .iter()
                        .map(|sec| r[&(f.clone(), *y, nb.clone(), sec.to_string())].0)
                        .sum();
                    assert_eq!(by_sector, v.0, "{nb}");
                    assert_eq!(v.2, v.0 - v.1, "{nb}");
                    // Risk sharing leaves providers at most half, within the collar and cap.
                    assert!(v.3.abs() <= (v.2.abs() + 1) / 2 + 1, "{nb}: {v:?}");
                    assert!(v.3.abs() as f64 <= 0.02 * v.0 as f64 + 1.0, "{nb}: {v:?}");
                }
            }
        }
        // Pace of change: no neighbourhood's share of a sector moves by more than the step.
        for sec in sectors {
            let share = |y: i64, nb: &str| {
                let tot: i64 = r
                    .iter()
                    .filter(|((f, yy, _, s), _)| f == formula && *yy == y && s == sec)
                    .map(|(_, v)| v.0)
                    .sum();
                r[&(formula.to_string(), y, nb.to_string(), sec.to_string())].0 as f64 / tot as f64
            };
            let nbs: Vec<String> = r
                .keys()
                .filter(|(f, y, _, s)| f == formula && *y == 1 && s == sec)
                .map(|k| k.2.clone())
                .collect();
            for y in 2..=4 {
                for nb in &nbs {
                    let step = (share(y, nb) - share(y - 1, nb)).abs();
                    assert!(
                        step <= 0.003 + 1e-9,
                        "{formula} {sec} {nb} year {y}: {step}"
                    );
                }
            }
        }
    }
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    for needle in [
        "cap,2,place,Eastmoor Dales,pooled_deficit:need,",
        "cap,4,neighbourhood,Harbourside PCN,position_after_risk_share:need_adjusted,",
        "cap,1,system,Northvale and Eastmoor ICS,weighted_population:need,",
    ] {
        assert!(summary.contains(needle), "{needle}");
    }
}

#[test]
fn need_weighting_gives_more_to_older_sicker_more_deprived_areas() {
    let d = Datasets::bundled().unwrap();
    let m = Model::new(&d).unwrap();
    let w = Weights::new(&m, &d);
    let ns = m.segments.len();
    let healthy = d.segment_index("healthy").unwrap();
    let frail = d.segment_index("frailty").unwrap();
    // Two areas of 1,000 people each: older, frail and most deprived; or young, healthy and
    // least deprived.
    let mut old = vec![0u32; n_cells(ns)];
    let mut young = vec![0u32; n_cells(ns)];
    for i in 0..1000u32 {
        old[Cell {
            band: band_of(80),
            sex: (i % 2) as usize,
            imd: 0,
            segment: frail,
        }
        .census(ns)] += 1;
        young[Cell {
            band: band_of(30),
            sex: (i % 2) as usize,
            imd: 4,
            segment: healthy,
        }
        .census(ns)] += 1;
    }
    for formula in ["need", "age_sex"] {
        let (a, b) = (
            w.weighted(formula, &old).unwrap(),
            w.weighted(formula, &young).unwrap(),
        );
        assert!(a > 2.0 * b, "{formula}: {a} vs {b}");
    }
    assert_eq!(
        w.weighted("headcount", &old),
        w.weighted("headcount", &young)
    );
    // Sicker at the same age and deprivation weighs more under need, not under age-sex.
    let mut sick = vec![0u32; n_cells(ns)];
    let mut well = vec![0u32; n_cells(ns)];
    sick[Cell {
        band: band_of(80),
        sex: 0,
        imd: 2,
        segment: frail,
    }
    .census(ns)] = 100;
    well[Cell {
        band: band_of(80),
        sex: 0,
        imd: 2,
        segment: healthy,
    }
    .census(ns)] = 100;
    assert!(w.weighted("need", &sick).unwrap() > w.weighted("need", &well).unwrap());
    assert_eq!(w.weighted("age_sex", &sick), w.weighted("age_sex", &well));
}

#[test]
fn batch_writes_budgets_and_the_risk_decomposition() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "cap.toml",
        &CAPITATED
            .replace("runs = 1", "runs = 5")
            .replace("years = 4", "years = 2"),
    );
    let out = capsim(tmp.path(), &["budget", "cap.toml", "--out", "b"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("Harbourside PCN") && said.contains("Eastmoor Dales"),
        "{said}"
    );
    let b = tmp.path().join("b");
    assert!(b
        .join("budgets/scenario=cap/run=4/part-0.parquet")
        .is_file());
    assert!(b.join("budget_table.csv").is_file());
    let risk = std::fs::read_to_string(b.join("risk.csv")).unwrap();
    let header = risk.lines().next().unwrap();
    assert_eq!(header, "scenario,year,level,area,formula,population,budget,mean_position,systematic,chance_sd,systematic_share,chance_sd_share_of_budget,p_deficit_over_5pct,runs");
    let mut n = 0;
    for line in risk.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        let share: f64 = c[10].parse().unwrap();
        assert!((0.0..=1.0).contains(&share), "{line}");
        assert_eq!(c[13], "5");
        n += 1;
    }
    // 2 years x (2 places + their neighbourhoods) x 3 formulas.
    assert!(n > 2 * 3 * 2, "{n}");
}

#[test]
fn bad_capitation_settings_are_rejected() {
    for (text, field, says) in [
        (
            "[envelope]\nsector_shares = { acute = 0.7, community = 0.2 }\n",
            "envelope.sector_shares",
            "sum to 1",
        ),
        (
            "[envelope]\nsector_shares = { acute = 1.2, community = -0.2 }\n",
            "envelope.sector_shares",
            "community",
        ),
        (
            "[envelope]\nsector_shares = { hospital = 1.0 }\n",
            "envelope.sector_shares",
            "acute",
        ),
        (
            "[capitation]\nformula = [\"headcount\", \"headcount\"]\n",
            "capitation.formula",
            "named",
        ),
        (
            "[capitation]\nrisk_sharing = { provider_share = 1.5 }\n",
            "capitation.risk_sharing.provider_share",
            "not a share",
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "bad.toml", text);
        let out = capsim(
            tmp.path(),
            &["run", "bad.toml", "--runs", "1", "--out", "results"],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(
            err.contains("bad.toml") && err.contains(field) && err.contains(says),
            "{err}"
        );
        assert!(!tmp.path().join("results").exists());
    }
}

#[test]
fn smaller_neighbourhoods_carry_more_chance_and_need_weighting_less_bias() {
    let tmp = tempfile::tempdir().unwrap();
    // The shipped baseline, with need and headcount each adjusted for market forces: unit
    // costs follow the market forces factor (`[variation] place_costs`), so a formula
    // without it misses cost differences, and like must be compared with like.
    let baseline = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml");
    write(
        tmp.path(),
        "formulas.toml",
        &format!(
            r#"extends = "{}"
[capitation]
formula = [
    "need",
    {{ name = "need_mff", basis = "need", market_forces = true }},
    {{ name = "headcount_mff", basis = "headcount", market_forces = true }},
]
pace_of_change = {{ max_step = 0.002, cash_floor = 0.0 }}
risk_sharing = {{ pool = "place", pool_threshold = 0.03, provider_share = 0.5, cap = 0.02, collar = 0.02 }}
"#,
            baseline.display()
        ),
    );
    let out = capsim(
        tmp.path(),
        &[
            "budget",
            "formulas.toml",
            "--runs",
            "16",
            "--years",
            "2",
            "--out",
            "b",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let risk = std::fs::read_to_string(tmp.path().join("b/risk.csv")).unwrap();
    let rows: Vec<Vec<String>> = risk
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .filter(|c: &Vec<String>| c[1] == "2" && c[2] == "neighbourhood")
        .collect();
    let col = |formula: &str, i: usize| -> Vec<f64> {
        rows.iter()
            .filter(|c| c[4] == formula)
            .map(|c| c[i].parse().unwrap())
            .collect()
    };
    // Chance (sd over runs as a share of budget) falls with population size.
    let rho = capsim::accounts::summary::spearman(&col("need", 5), &col("need", 11));
    assert!(rho < -0.3, "spearman(population, chance) = {rho}");
    // The need formula misjudges neighbourhoods less than headcount does.
    let bias = |f: &str| -> f64 {
        let (s, b) = (col(f, 8), col(f, 6));
        let mut v: Vec<f64> = s.iter().zip(&b).map(|(s, b)| (s / b).abs()).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    assert!(
        bias("need_mff") < bias("headcount_mff"),
        "{} vs {}",
        bias("need_mff"),
        bias("headcount_mff")
    );
}
