//! Capitated budgets: exact allocation of the envelope, need weighting that follows need,
//! pace of change within its step, risk decomposition, and clear errors for bad settings.

use std::collections::BTreeMap;
use std::path::Path;

use capsim::accounts::capitation::Weights;
use capsim::app::run::{run, RunOptions};
use capsim::config::scenario::Overrides;
use capsim::core::dims::{band_of, n_cells, Cell};
use capsim::data::datasets::Datasets;
use capsim::data::geography::Geography;
use capsim::model::Model;

use crate::scenarios::write;
use crate::util::capsim;

const CAPITATED: &str = r#"
name = "cap"
years = 4
seed = 5
runs = 1
[population]
preset = "invented"
places = ["Northvale City", "Eastmoor Dales"]
[envelope]
growth = 0.025
pooled_social_care = 0.5
[capitation]
formula = ["headcount", "need", { name = "need_adjusted", basis = "need", market_forces = true, inequalities = true, rurality = true }]
pace_of_change = { max_step = 0.02 }
risk_sharing = { pool = "place", gain_share = 0.5, loss_share = 0.5, cap = 0.02, collar = 0.02 }
"#;

/// Budget rows of a flat run: (formula, year, neighbourhood, sector) -> (budget, spend,
/// position, after, distance from target), in pence.
type Rows = BTreeMap<(String, i64, String, String), [i64; 5]>;

/// Pence of a column of a budgets CSV row.
fn pence(c: &[&str], i: usize) -> i64 {
    (c[i].parse::<f64>().unwrap() * 100.0).round() as i64
}

fn rows(csv: &str, level: &str) -> Rows {
    let mut out = BTreeMap::new();
    for line in csv.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        if c[13] != level {
            continue;
        }
        let area = if level == "neighbourhood" { c[5] } else { c[3] }.trim_matches('"');
        out.insert(
            (
                c[7].to_string(),
                c[0].parse().unwrap(),
                area.to_string(),
                c[6].to_string(),
            ),
            [
                pence(&c, 9),
                pence(&c, 10),
                pence(&c, 11),
                pence(&c, 12),
                pence(&c, 18),
            ],
        );
    }
    out
}

/// Capitation weights with the need formula estimated on `g` (seed 1) and no tables.
fn weights(d: &Datasets, m: &Model, g: &Geography) -> Weights {
    let estimated = capsim::accounts::need_formula::estimate(
        m,
        g,
        capsim::config::scenario::Variation::default(),
        1,
        capsim::app::pipeline::reference_segment(d),
        d.parameters.condition_recording_sensitivity,
    );
    Weights::new(m, d, estimated, Vec::new())
}

/// The expected year-one cost of the neighbourhoods of `places` in the default system
/// (pence): the envelope when `per_head` is not given.
fn expected_envelope(places: &[&str]) -> i64 {
    let d = Datasets::bundled().unwrap();
    let m = Model::new(&d).unwrap();
    let g = Geography::default_system(&d);
    let w = weights(&d, &m, &g);
    g.neighbourhoods
        .iter()
        .filter(|nb| places.contains(&g.places[nb.place].name.as_str()))
        .map(|nb| w.expected_cost(nb).iter().sum::<f64>())
        .sum::<f64>()
        .round() as i64
}

const SECTORS: [&str; 5] = [
    "acute",
    "community",
    "primary_care",
    "mental_health",
    "social_care",
];

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
        csv: false,
    };
    run(&options, &|_, _| {}).unwrap();
    let csv = std::fs::read_to_string(out.join("budgets.csv")).unwrap();
    assert!(csv.starts_with("year,system,system_code,place,place_code,neighbourhood,sector,formula,weighted_population,budget,cash_cost,position,position_after_risk_share,level,people,budget_per_head,cash_cost_per_head,position_per_head,distance_from_target"));
    let r = rows(&csv, "neighbourhood");
    // Places and systems are the sums of their neighbourhoods, to the penny.
    let level_total = |level: &str, year: &str| -> i64 {
        csv.lines()
            .skip(1)
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|c| c[13] == level && c[0] == year && c[6] == "total" && c[7] == "need")
            .map(|c| pence(&c, 9))
            .sum()
    };
    for y in ["1", "4"] {
        let n = level_total("neighbourhood", y);
        assert_eq!(level_total("place", y), n);
        assert_eq!(level_total("system", y), n);
    }
    // The envelope: the expected year-one cost, set in advance (not the run's spend),
    // grown.
    let start = expected_envelope(&["Northvale City", "Eastmoor Dales"]);
    let spend1: i64 = r
        .iter()
        .filter(|((f, y, _, s), _)| f == "headcount" && *y == 1 && s == "total")
        .map(|(_, v)| v[1])
        .sum();
    assert_ne!(start, spend1, "the envelope is not the realised spend");
    assert!(
        (start as f64 / spend1 as f64 - 1.0).abs() < 0.03,
        "{start} vs {spend1}"
    );
    let mut moved_by_pace = 0;
    for formula in ["headcount", "need", "need_adjusted"] {
        for year in 1..=4 {
            let envelope = (start as f64 * 1.025f64.powi(year as i32 - 1)).round() as i64;
            let total: i64 = r
                .iter()
                .filter(|((f, y, _, s), _)| f == formula && *y == year && s == "total")
                .map(|(_, v)| v[0])
                .sum();
            assert_eq!(total, envelope, "{formula} year {year}: to the penny");
            for ((f, y, nb, s), v) in &r {
                if f != formula || *y != year {
                    continue;
                }
                if s == "total" {
                    // Each neighbourhood's sectors sum to its total, and positions are
                    // budget - spend.
                    let by_sector: i64 = SECTORS
                        .iter()
                        .map(|sec| r[&(f.clone(), *y, nb.clone(), sec.to_string())][0])
                        .sum();
                    assert_eq!(by_sector, v[0], "{nb}");
                    assert_eq!(v[2], v[0] - v[1], "{nb}");
                }
                // Risk sharing leaves a neighbourhood at most half its position (the pool
                // takes or covers the other half), within the collar and cap.
                assert!(v[3].abs() <= (v[2].abs() + 1) / 2 + 1, "{nb}: {v:?}");
                assert!(v[3].abs() as f64 <= 0.02 * v[0] as f64 + 1.0, "{nb}: {v:?}");
                if SECTORS.contains(&s.as_str()) && v[4].abs() > 100 {
                    moved_by_pace += 1;
                }
            }
        }
        // Pace of change: each neighbourhood's budget in a sector moves by at most 2% of
        // where its share of last year's allocation leaves it in this year's envelope
        // (plus 2p of rounding: one penny at each level of the split).
        for sec in SECTORS {
            let sector_total = |y: i64| -> i64 {
                r.iter()
                    .filter(|((f, yy, _, s), _)| f == formula && *yy == y && s == sec)
                    .map(|(_, v)| v[0])
                    .sum()
            };
            for y in 2..=4 {
                let growth = sector_total(y) as f64 / sector_total(y - 1) as f64;
                for ((f, yy, nb, s), v) in &r {
                    if f != formula || *yy != y || s != sec {
                        continue;
                    }
                    let before = r[&(f.clone(), y - 1, nb.clone(), s.clone())][0];
                    let baseline = before as f64 * growth;
                    let step = (v[0] as f64 - baseline).abs();
                    assert!(
                        step <= 0.02 * baseline + 2.0,
                        "{formula} {sec} {nb} year {y}: moved {step}p from {baseline}p"
                    );
                }
            }
        }
    }
    // Pace of change binds: some budgets are held away from their target.
    assert!(moved_by_pace > 0);
    let places = rows(&csv, "place");
    let systems = rows(&csv, "system");
    let pools = rows(&csv, "pool");
    assert!(!pools.is_empty());
    for ((f, y, area, s), v) in &systems {
        // A system's budgets and targets both sum to the sector envelope.
        if SECTORS.contains(&s.as_str()) {
            assert_eq!(v[4], 0, "{f} {y} {area} {s}: distance from target");
        }
        // Money is conserved through the pools: neighbourhood positions after sharing
        // plus the pools' balances equal the positions, for every formula, year and row.
        let pooled: i64 = pools
            .iter()
            .filter(|((ff, yy, _, ss), _)| ff == f && yy == y && ss == s)
            .map(|(_, p)| p[3])
            .sum();
        assert_eq!(v[3] + pooled, v[2], "{f} {y} {s}: conservation");
        // Each pool is a place's: its balance is that place's positions less what they
        // keep.
        for ((ff, yy, place, ss), p) in pools
            .iter()
            .filter(|((ff, yy, _, ss), _)| ff == f && yy == y && ss == s)
        {
            let pl = places[&(ff.clone(), *yy, place.clone(), ss.clone())];
            assert_eq!(p[3], pl[2] - pl[3], "{ff} {yy} {place} {ss}");
        }
    }
    // The pooled fund is exact to the penny: the same in every formula (it is health plus
    // a share of social care, and the sectors are the same envelope in each).
    for y in 1..=4 {
        let pooled: Vec<[i64; 5]> = ["headcount", "need", "need_adjusted"]
            .iter()
            .map(|f| systems[&(f.to_string(), y, String::new(), "pooled".to_string())])
            .collect();
        assert!(
            pooled
                .iter()
                .all(|p| p[0] == pooled[0][0] && p[1] == pooled[0][1]),
            "year {y}: {pooled:?}"
        );
        let sc = systems[&(
            "need".to_string(),
            y,
            String::new(),
            "social_care".to_string(),
        )];
        let total = systems[&("need".to_string(), y, String::new(), "total".to_string())];
        assert_eq!(
            pooled[0][0],
            total[0] - sc[0] + (0.5 * sc[0] as f64).round() as i64
        );
    }
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    for needle in [
        "cap,2,place,Eastmoor Dales,pooled_deficit:need,",
        "cap,2,place,Eastmoor Dales,pool_balance:need,",
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
    let w = weights(&d, &m, &Geography::default_system(&d));
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
    for formula in ["need", "true_expected_cost", "age_sex"] {
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
    // The envelope is set in advance: each run's year-one system budget is the same, to
    // the penny, under every formula, though the runs' spend differs.
    let mut budgets: Vec<Vec<(String, i64, i64)>> = Vec::new();
    for run in 0..5 {
        let path = b.join(format!("budgets/scenario=cap/run={run}/part-0.parquet"));
        let df = capsim::io::read::read_parquet(&path).unwrap();
        let strings = |c: &str| capsim::io::read::strings(&df, &path, c).unwrap();
        let floats = |c: &str| capsim::io::read::floats(&df, &path, c).unwrap();
        let (level, sector, formula) = (strings("level"), strings("sector"), strings("formula"));
        let year = capsim::io::read::ints(&df, &path, "year").unwrap();
        let (budget, spend) = (floats("budget"), floats("cash_cost"));
        budgets.push(
            (0..year.len())
                .filter(|i| year[*i] == 1 && level[*i] == "system" && sector[*i] == "total")
                .map(|i| {
                    let p = |x: f64| (x * 100.0).round() as i64;
                    (formula[i].clone(), p(budget[i]), p(spend[i]))
                })
                .collect(),
        );
    }
    assert_eq!(budgets[0].len(), 3);
    for run in &budgets[1..] {
        for (a, b) in run.iter().zip(&budgets[0]) {
            assert_eq!(
                (&a.0, a.1),
                (&b.0, b.1),
                "year-one budget differs between runs"
            );
        }
    }
    assert!(budgets.iter().any(|r| r[0].2 != budgets[0][0].2));
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
    // Budget rows name their formula by a byte: more than 254 formulas are refused.
    let too_many = format!(
        "[capitation]\nformula = [{}]\n",
        (0..255)
            .map(|i| format!("{{ name = \"f{i}\", basis = \"headcount\" }}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (text, field, says) in [
        (
            too_many.as_str(),
            "capitation.formula",
            "255 formulas: give at most 254",
        ),
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
            "[capitation]\nrisk_sharing = { gain_share = 1.5 }\n",
            "capitation.risk_sharing.gain_share",
            "not a share",
        ),
        (
            "[capitation]\nrisk_sharing = { pool = \"region\", loss_share = 0.5 }\n",
            "capitation.risk_sharing.pool",
            "place",
        ),
        (
            "[capitation]\nrisk_sharing = { loss_share = 0.5, collar = -0.1 }\n",
            "capitation.risk_sharing.collar",
            "not a share",
        ),
        (
            "[capitation]\nrisk_sharing = { pool = \"system\" }\n",
            "capitation.risk_sharing",
            "shares nothing",
        ),
        // Settings of the earlier pool, which only moved where a deficit was reported,
        // are refused with what replaces them.
        (
            "[capitation]\nrisk_sharing = { provider_share = 0.5 }\n",
            "capitation.risk_sharing.provider_share",
            "replaced by `gain_share` and `loss_share`",
        ),
        (
            "[capitation.risk_sharing]\npool = \"place\"\npool_threshold = 0.03\n",
            "capitation.risk_sharing.pool_threshold",
            "replaced by `collar`",
        ),
        (
            "[capitation]\npace_of_change = { max_step = 2 }\n",
            "capitation.pace_of_change.max_step",
            "not a share",
        ),
        (
            "[capitation]\npace_of_change = { max_step = 0.02, step = 0.1 }\n",
            "capitation.pace_of_change",
            "unknown field",
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
            err.contains("bad.toml")
                && err.contains(", line ")
                && err.contains(&format!("field `{field}"))
                && err.contains(says),
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
    // without it misses cost differences, and like must be compared with like. No pace of
    // change, so budgets are each formula's own target rather than a step from the
    // expected-cost shares every formula starts from.
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
risk_sharing = {{ pool = "place", gain_share = 0.5, loss_share = 0.5, cap = 0.02, collar = 0.02 }}
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

/// A weight table in the published layout: every (age band, sex, quintile, segment), here
/// rising with age and with the segment's order.
fn weight_table(segments: &[&str]) -> String {
    let mut s = String::from("age_band,sex,imd_quintile,segment,weight\n");
    for (b, band) in capsim::core::dims::BAND_LABELS.iter().enumerate() {
        for sex in capsim::core::dims::SEX_LABELS {
            for q in 1..=5 {
                for (g, seg) in segments.iter().enumerate() {
                    s.push_str(&format!(
                        "{band},{sex},{q},{seg},{}\n",
                        1.0 + b as f64 * 0.2 + g as f64
                    ));
                }
            }
        }
    }
    s
}

#[test]
fn a_weight_table_is_a_basis_and_bad_tables_are_refused() {
    let d = Datasets::bundled().unwrap();
    let segments: Vec<&str> = d.segments.iter().map(|s| s.id.as_str()).collect();
    let tmp = tempfile::tempdir().unwrap();
    let scenario = CAPITATED.replace(
        r#"formula = ["headcount", "need", { name = "need_adjusted", basis = "need", market_forces = true, inequalities = true, rurality = true }]"#,
        r#"formula = ["need", { name = "national", basis = "table", weights = "tables/w.csv" }]"#,
    );
    write(
        tmp.path(),
        "cap.toml",
        &scenario.replace("years = 4", "years = 2"),
    );
    std::fs::create_dir_all(tmp.path().join("tables")).unwrap();
    let good = weight_table(&segments);
    std::fs::write(tmp.path().join("tables/w.csv"), &good).unwrap();
    let out = capsim(
        tmp.path(),
        &["run", "cap.toml", "--out", "r", "--no-report"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let budgets = std::fs::read_to_string(tmp.path().join("r/budgets.csv")).unwrap();
    assert!(
        budgets.contains(",national,"),
        "the table formula has budget rows"
    );
    // Bad tables: exit 2, one line naming the file, the line and the column.
    let lines: Vec<&str> = good.lines().collect();
    let negative = {
        let mut l = lines.clone();
        let bad = l[7].rsplit_once(',').unwrap().0.to_string() + ",-3";
        l[7] = &bad;
        l.join("\n") + "\n"
    };
    let unknown = good.replacen("frailty", "frail", 1);
    let missing = lines[..lines.len() - 1].join("\n") + "\n";
    for (table, needles) in [
        (negative, vec!["w.csv", "line 8", "`weight`", "-3"]),
        (unknown, vec!["w.csv", "`segment`", "`frail`"]),
        (missing, vec!["w.csv", "expected"]),
    ] {
        std::fs::write(tmp.path().join("tables/w.csv"), &table).unwrap();
        let out = capsim(
            tmp.path(),
            &["run", "cap.toml", "--out", "bad", "--no-report"],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        for n in needles {
            assert!(err.contains(n), "`{n}` missing from: {err}");
        }
        assert!(!err.contains("panicked"));
    }
    // A table basis without a file, or a file without the table basis, is refused too.
    for formula in [
        r#"formula = [{ name = "t", basis = "table" }]"#,
        r#"formula = [{ name = "t", basis = "need", weights = "tables/w.csv" }]"#,
    ] {
        let s = CAPITATED.replace(
            r#"formula = ["headcount", "need", { name = "need_adjusted", basis = "need", market_forces = true, inequalities = true, rurality = true }]"#,
            formula,
        );
        write(tmp.path(), "t.toml", &s);
        let out = capsim(tmp.path(), &["validate", "t.toml"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("t.toml") && err.contains("line"), "{err}");
    }
}

/// Year-1 spend over budget of each neighbourhood under `formula`, relative to the
/// system's (so an overspend every area shares is left out), from a summary CSV.
fn relative_positions(summary: &str, formula: &str) -> Vec<f64> {
    let mut spend: BTreeMap<(String, String), f64> = BTreeMap::new();
    let mut budget: BTreeMap<(String, String), f64> = BTreeMap::new();
    let want = format!("budget:{formula}");
    for line in summary.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        if c[1] != "1" {
            continue;
        }
        let key = (c[2].to_string(), c[3].to_string());
        let mean: f64 = c[5].parse().unwrap();
        if c[4] == "care_spend" {
            spend.insert(key, mean);
        } else if c[4] == want {
            budget.insert(key, mean);
        }
    }
    let ratio = |k: &(String, String)| spend[k] / budget[k];
    let system = budget
        .keys()
        .find(|k| k.0 == "system")
        .map(ratio)
        .expect("a system row");
    budget
        .keys()
        .filter(|k| k.0 == "neighbourhood")
        .map(|k| ratio(k) / system - 1.0)
        .collect()
}

fn sd(v: &[f64]) -> f64 {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

/// Calibration of the spread of neighbourhood positions under the estimated need formula,
/// against Dixon et al., "Person based resource allocation", BMJ 2011;343:d6608: about a
/// third of practices' hospital costs differed from the PBRA prediction by 10% or more,
/// which for normal errors is a practice-level sd of about 10%. A PCN pools about seven
/// practices, with (an assumption, see datasets/README.md) half the variance shared, so
/// about 7%. Accepted: an sd of 4% to 10% across the 37 PCNs, and at most a third of
/// them 10% or more off (fewer than practices, being larger). With the variation off and
/// the simulator's own expected costs as weights, the misses are chance alone, as before
/// this model had variation between areas: an sd under 3% and no PCN 5% off.
/// (Measured: need sd 5.0%, 1 PCN 10% or more off, 11 5% or more; oracle without
/// variation sd 0.9%, largest 1.9%.)
#[test]
fn need_budgets_miss_areas_as_much_as_published_and_the_oracle_only_by_chance() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = |variation: &str, formula: &str| {
        format!(
            r#"years = 1
seed = 9
runs = 8
[population]
preset = "invented"
[variation]
{variation}
[capitation]
formula = [{formula}]
"#
        )
    };
    write(
        tmp.path(),
        "on.toml",
        &scenario(
            "",
            r#"{ name = "need_mff", basis = "need", market_forces = true }"#,
        ),
    );
    write(
        tmp.path(),
        "off.toml",
        &scenario(
            "between_areas = false\nplace_costs = false",
            r#""true_expected_cost""#,
        ),
    );
    for (file, out) in [("on.toml", "on"), ("off.toml", "off")] {
        let o = capsim(tmp.path(), &["run", file, "--out", out, "--no-report"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let read =
        |out: &str| std::fs::read_to_string(tmp.path().join(out).join("summary.csv")).unwrap();
    let on = relative_positions(&read("on"), "need_mff");
    assert_eq!(on.len(), 37);
    let off10 = on.iter().filter(|x| x.abs() >= 0.10).count();
    assert!(
        (0.04..=0.10).contains(&sd(&on)) && off10 * 3 <= on.len(),
        "need: sd {:.3}, {off10} of {} PCNs 10% or more off",
        sd(&on),
        on.len()
    );
    let off = relative_positions(&read("off"), "true_expected_cost");
    assert!(
        sd(&off) < 0.03 && off.iter().all(|x| x.abs() < 0.05),
        "oracle without variation: sd {:.3}, largest {:.3}",
        sd(&off),
        off.iter().fold(0.0f64, |a, x| a.max(x.abs()))
    );
}
