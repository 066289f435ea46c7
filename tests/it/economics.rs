//! Shift-left evaluation: time to effect (and, as they land, the other economics of the
//! evaluator's issue), checked against hand-worked expectations.

use crate::scenarios::write;
use crate::util::{capsim, capsim_ok};

/// A scenario with one intervention halving emergency admissions of everyone enrolled,
/// coverage 50% from year 1, and a time to effect given by `timing`.
fn scenario(timing: &str) -> String {
    format!(
        r#"name = "ttf"
years = 3
seed = 11
runs = 1
[population]
preset = "invented"
neighbourhoods = ["Harbourside PCN"]
[[intervention]]
name = "Wards"
coverage = {{ start = 0.5, target = 0.5 }}
cost_per_enrolled = 100
effects.emergency_admissions = -0.5
{timing}
"#
    )
}

/// System rows of a flat run's metrics: (year, metric) -> value.
fn system_metrics(csv: &str) -> std::collections::BTreeMap<(i64, String), f64> {
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|c| c[1] == "system")
        .map(|c| {
            (
                (c[0].parse().unwrap(), c[3].to_string()),
                c[4].parse().unwrap(),
            )
        })
        .collect()
}

/// With a year's delay the effect is nil in the enrolment year (the scenario draws exactly
/// the counterfactual's admissions, from the same random numbers) while the cost is paid;
/// from year 2 admissions fall. With no delay they fall at once.
#[test]
fn a_delay_holds_the_effect_back_but_not_the_cost() {
    let tmp = tempfile::tempdir().unwrap();
    for (file, timing) in [("now.toml", ""), ("later.toml", "effect_delay_years = 1")] {
        write(tmp.path(), file, &scenario(timing));
        let dir = file.replace(".toml", "");
        capsim_ok(
            tmp.path(),
            &["run", file, "--out", &dir, "--no-report", "--csv"],
        );
    }
    let read = |f: &str| {
        system_metrics(&std::fs::read_to_string(tmp.path().join(f).join("metrics.csv")).unwrap())
    };
    let (now, later) = (read("now"), read("later"));
    let m = |r: &std::collections::BTreeMap<(i64, String), f64>, y: i64, k: &str| {
        r[&(y, k.to_string())]
    };
    assert_eq!(m(&later, 1, "avoided_admissions"), 0.0);
    assert!(m(&later, 1, "programme_cost") > 0.0);
    assert_eq!(m(&later, 1, "programme_cost"), m(&now, 1, "programme_cost"));
    assert!(m(&now, 1, "avoided_admissions") > 0.0);
    assert!(m(&later, 2, "avoided_admissions") > 0.0);
}

#[test]
fn a_negative_or_absurd_time_to_effect_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for (timing, field) in [
        ("effect_delay_years = -1", "effect_delay_years"),
        (
            "effect_ramp_years = { dist = \"uniform\", min = 0, max = 500 }",
            "effect_ramp_years",
        ),
    ] {
        write(tmp.path(), "bad.toml", &scenario(timing));
        let out = capsim(tmp.path(), &["validate", "bad.toml"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("bad.toml") && err.contains("line 13") && err.contains(field),
            "{err}"
        );
        assert!(!err.contains("panicked"));
    }
}

/// The discounted cumulative net cost is each year's net cost weighed by
/// 1 / (1 + rate)^(t - 1), summed; the discounted ROI is discounted savings over
/// discounted costs. Checked against the run's own yearly flows.
#[test]
fn discounting_matches_the_yearly_flows() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "d.toml",
        &(scenario("") + "[evaluation]\ndiscount_rate = 0.1\n"),
    );
    capsim_ok(
        tmp.path(),
        &["run", "d.toml", "--out", "d", "--no-report", "--csv"],
    );
    let m = system_metrics(&std::fs::read_to_string(tmp.path().join("d/metrics.csv")).unwrap());
    let get = |y: i64, k: &str| m[&(y, k.to_string())];
    let df = |y: i64| 1.1f64.powi(-(y as i32 - 1));
    let want: f64 = (1..=3).map(|y| get(y, "net_cost") * df(y)).sum();
    let got = get(3, "discounted_cumulative_net_cost");
    assert!(
        (got - want).abs() < 1e-6 * want.abs().max(1.0),
        "{got} vs {want}"
    );
    // Return on investment is (savings - cost) / cost: minus the net cost over the
    // programme cost, discounted or not; the benefit-cost ratio is savings / cost.
    let cost: f64 = (1..=3).map(|y| get(y, "programme_cost") * df(y)).sum();
    let roi = get(3, "discounted_cumulative_roi");
    assert!(
        (roi - (-want / cost)).abs() < 1e-9,
        "{roi} vs {}",
        -want / cost
    );
    let (net, programme, savings): (f64, f64, f64) = (1..=3).fold((0.0, 0.0, 0.0), |a, y| {
        (
            a.0 + get(y, "net_cost"),
            a.1 + get(y, "programme_cost"),
            a.2 + get(y, "net_savings"),
        )
    });
    assert!((get(3, "cumulative_roi") - (-net / programme)).abs() < 1e-9);
    assert!((get(3, "cumulative_benefit_cost_ratio") - savings / programme).abs() < 1e-9);
    assert!(
        (get(3, "cumulative_roi") - (get(3, "cumulative_benefit_cost_ratio") - 1.0)).abs() < 1e-9
    );
    // Undiscounted and discounted agree in year 1.
    assert!(
        (get(1, "discounted_cumulative_net_cost") - get(1, "cumulative_net_cost")).abs() < 1e-6
    );
    // A rate outside 0 to 0.2 is refused with the file, line and field.
    write(
        tmp.path(),
        "bad.toml",
        &(scenario("") + "[evaluation]\ndiscount_rate = 3.5\n"),
    );
    let out = capsim(tmp.path(), &["validate", "bad.toml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad.toml") && err.contains("line 15") && err.contains("discount_rate"),
        "{err}"
    );
}

/// QALYs gained are the scenario's QALYs minus the counterfactual's, from the people in
/// each segment at the start and end of each year weighted by the segment's utility:
/// recomputed here from the population tables of the scenario and of the same run without
/// interventions (common random numbers make that run the counterfactual).
#[test]
fn qalys_gained_match_the_population_tables() {
    let d = capsim::data::datasets::Datasets::bundled().unwrap();
    let utility: std::collections::BTreeMap<String, f64> = d
        .segments
        .iter()
        .map(|s| (s.id.clone(), s.utility))
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let lives = scenario("") + "effects.mortality = -0.3\neffects.deterioration = -0.3\n";
    write(tmp.path(), "lives.toml", &lives);
    let none = scenario("").replace(
        r#"[[intervention]]
name = "Wards"
coverage = { start = 0.5, target = 0.5 }
cost_per_enrolled = 100
effects.emergency_admissions = -0.5
"#,
        "",
    );
    write(tmp.path(), "none.toml", &none);
    for f in ["lives", "none"] {
        capsim_ok(
            tmp.path(),
            &[
                "run",
                &format!("{f}.toml"),
                "--out",
                f,
                "--no-report",
                "--csv",
            ],
        );
    }
    // (year, life years, QALYs) from a population table: mean of start and end of year.
    let lived = |f: &str| -> Vec<(f64, f64)> {
        let csv = std::fs::read_to_string(tmp.path().join(f).join("population.csv")).unwrap();
        let mut by_year = [(0.0, 0.0); 5];
        for l in csv.lines().skip(1) {
            let c: Vec<&str> = l.split(',').collect();
            let (y, n): (usize, f64) = (c[0].parse().unwrap(), c[10].parse().unwrap());
            by_year[y].0 += n;
            by_year[y].1 += n * utility[c[9]];
        }
        (1..=3)
            .map(|y| {
                (
                    0.5 * (by_year[y].0 + by_year[y + 1].0),
                    0.5 * (by_year[y].1 + by_year[y + 1].1),
                )
            })
            .collect()
    };
    let (with, without) = (lived("lives"), lived("none"));
    let m = system_metrics(&std::fs::read_to_string(tmp.path().join("lives/metrics.csv")).unwrap());
    let get = |y: i64, k: &str| m[&(y, k.to_string())];
    for y in 1..=3 {
        let i = y as usize - 1;
        let (ly, q) = (with[i].0 - without[i].0, with[i].1 - without[i].1);
        assert!((get(y, "life_years_gained") - ly).abs() < 1e-6, "year {y}");
        // QALYs from life lived, plus those not lost to the admissions and bed days avoided.
        let from_care = get(y, "admission_qalys_gained");
        assert!(
            (get(y, "qalys_gained") - (q + from_care)).abs() < 1e-6,
            "year {y}"
        );
    }
    let total: f64 = (1..=3)
        .map(|y| get(y, "qalys_gained") * 1.035f64.powi(-(y as i32 - 1)))
        .sum();
    assert!((get(3, "discounted_cumulative_qalys_gained") - total).abs() < 1e-6);
    assert!(
        total > 0.0,
        "fewer deaths and less deterioration gain QALYs"
    );
    let nmb = 20_000.0 * total - get(3, "discounted_cumulative_net_cost");
    assert!((get(3, "net_monetary_benefit") - nmb).abs() < 1e-3 * nmb.abs().max(1.0));
    let deaths: f64 = (1..=3).map(|y| get(y, "deaths_averted")).sum();
    assert!(deaths > 0.0, "{deaths}");
}

/// The summary CSV of the shipped batch at `runs` runs and `years` years.
fn shipped_batch_summary(runs: u32, years: u32) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let batch = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/batch.toml");
    let (runs, years) = (runs.to_string(), years.to_string());
    capsim_ok(
        tmp.path(),
        &[
            "batch",
            batch.to_str().unwrap(),
            "--runs",
            &runs,
            "--years",
            &years,
            "--out",
            "b",
            "--no-report",
        ],
    );
    std::fs::read_to_string(tmp.path().join("b/summary.csv")).unwrap()
}

/// Cash released never exceeds the net saving, in any area or year of the shipped
/// scenarios (a smaller run of them).
#[test]
fn cashable_savings_never_exceed_gross_savings() {
    let csv = shipped_batch_summary(2, 3);
    let mut gross = std::collections::BTreeMap::new();
    let mut cash = std::collections::BTreeMap::new();
    for l in csv.lines().skip(1) {
        let c: Vec<&str> = l.split(',').collect();
        let key = (
            c[0].to_string(),
            c[1].to_string(),
            c[2].to_string(),
            c[3].to_string(),
        );
        match c[4] {
            "net_savings" => gross.insert(key, c[5].parse::<f64>().unwrap()),
            "cashable_savings" => cash.insert(key, c[5].parse::<f64>().unwrap()),
            _ => None,
        };
    }
    assert!(!cash.is_empty());
    for (k, c) in &cash {
        assert!(
            *c <= gross[k] + 1e-6,
            "{k:?}: cashable {c} > gross {}",
            gross[k]
        );
    }
}

/// Rows of a summary CSV: (scenario, year, level, area, metric) -> mean.
fn summary_means(
    csv: &str,
) -> std::collections::BTreeMap<(String, i64, String, String, String), f64> {
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .map(|c| {
            (
                (
                    c[0].to_string(),
                    c[1].parse().unwrap(),
                    c[2].to_string(),
                    c[3].to_string(),
                    c[4].to_string(),
                ),
                c[5].parse().unwrap(),
            )
        })
        .collect()
}

/// Every additive metric of the deprivation quintiles adds up to the system's, in every
/// scenario and year; and the reported gap is quintile 1 minus quintile 5, recomputed from
/// the quintile rows of a one-run batch.
#[test]
fn quintiles_add_up_to_the_system_and_the_gap_is_q1_minus_q5() {
    let rows = summary_means(&shipped_batch_summary(1, 2));
    let additive = |m: &str| {
        m.starts_with("count.")
            || m.starts_with("care_spend") && m != "care_spend_per_head"
            || [
                "population",
                "births",
                "deaths",
                "enrolled",
                "programme_cost",
                "setup_cost",
                "total_cost",
                "cash_cost",
                "retained_fixed_cost",
                "cashable_savings",
                "net_savings",
                "funding_shift",
                "net_cost",
                "avoided_admissions",
                "avoided_bed_days",
                "deaths_averted",
                "life_years_gained",
                "qalys_gained",
            ]
            .contains(&m)
    };
    let mut checked = 0;
    for ((scenario, year, level, area, metric), total) in &rows {
        if level != "system" || !additive(metric) {
            continue;
        }
        let _ = area;
        let parts: f64 = (1..=5)
            .map(|q| {
                rows[&(
                    scenario.clone(),
                    *year,
                    "imd_quintile".to_string(),
                    q.to_string(),
                    metric.clone(),
                )]
            })
            .sum();
        assert!(
            (parts - total).abs() <= 1e-6 * total.abs().max(1.0),
            "{scenario} y{year} {metric}: quintiles {parts} vs system {total}"
        );
        checked += 1;
    }
    assert!(checked > 100, "{checked}");
    let q = |s: &str, y: i64, area: &str, m: &str| {
        rows[&(
            s.to_string(),
            y,
            "imd_quintile".to_string(),
            area.to_string(),
            m.to_string(),
        )]
    };
    let s = "frailty-virtual-wards";
    let per_head = |a: &str| q(s, 2, a, "care_spend") / q(s, 2, a, "population");
    let gap = q(s, 2, "1-5", "quintile_gap.care_spend_per_head");
    assert!(
        (gap - (per_head("1") - per_head("5"))).abs() < 1e-6,
        "{gap}"
    );
    assert!(gap > 0.0, "the most deprived use more care: {gap}");
    let adm =
        |a: &str| 1000.0 * q(s, 2, a, "count.emergency_admissions") / q(s, 2, a, "population");
    let gap = q(s, 2, "1-5", "quintile_gap.admissions_per_1000");
    assert!((gap - (adm("1") - adm("5"))).abs() < 1e-6, "{gap}");
    // The change is the scenario's gap less the counterfactual's (the baseline here,
    // drawn from the same random numbers with nobody's mortality changed).
    let change = q(s, 2, "1-5", "quintile_gap_change.admissions_per_1000");
    let cf = q("baseline", 2, "1-5", "quintile_gap.admissions_per_1000");
    assert!(
        (change - (gap - cf)).abs() < 1e-6,
        "{change} vs {gap} - {cf}"
    );
}

/// One intervention on the complex-care segment, enrolling `enrolment` people.
fn case_finding_scenario(enrolment: &str) -> String {
    format!(
        r#"name = "cf"
years = 1
seed = 5
runs = 8
[[intervention]]
name = "Proactive"
target.segments = ["complex_multimorbidity"]
coverage = {{ start = 0.1, target = 0.1 }}
cost_per_enrolled = 100
effects.emergency_admissions = -0.3
{enrolment}
"#
    )
}

/// Enrolling the 10% a score of AUC 0.73 ranks highest avoids more admissions per
/// enrolled person than enrolling at random, by the ratio the risk distribution implies
/// (`CaseFinding::share(c) / c`, itself checked against a per-person simulation), here
/// through the whole simulation with its Poisson draws.
#[test]
fn case_finding_avoids_what_the_risk_distribution_implies() {
    use capsim::engine::case_finding::CaseFinding;
    let tmp = tempfile::tempdir().unwrap();
    let mut avoided = Vec::new();
    for (file, enrolment) in [
        ("random.toml", ""),
        (
            "highest.toml",
            "enrolment = \"highest_risk\"\ncase_finding_auc = 0.73",
        ),
    ] {
        write(tmp.path(), file, &case_finding_scenario(enrolment));
        let dir = file.replace(".toml", "");
        capsim_ok(
            tmp.path(),
            &["run", file, "--out", &dir, "--no-report", "--csv"],
        );
        let rows = summary_means(
            &std::fs::read_to_string(tmp.path().join(&dir).join("summary.csv")).unwrap(),
        );
        let get = |m: &str| {
            rows.iter()
                .find(|((_, y, l, _, metric), _)| *y == 1 && l == "system" && metric == m)
                .map(|(_, v)| *v)
                .unwrap()
        };
        avoided.push(get("avoided_admissions") / get("enrolled"));
    }
    // The engine's own share for this target, whose agreement with a per-person
    // simulation `engine::case_finding` tests.
    let (d, m, g) = crate::util::bundled();
    let s = capsim::config::scenario::Scenario::load(&tmp.path().join("highest.toml")).unwrap();
    let levers = capsim::engine::levers::Levers::draw(&s, &s.resolve(&d, &g).unwrap(), &m, 0);
    let want = levers.interventions[0].use_share[0] / 0.1;
    assert!(want > 1.5, "{want}");
    let got = avoided[1] / avoided[0];
    eprintln!(
        "case finding: avoided per enrolled, highest risk / random {got:.3}, expected {want:.3}"
    );
    assert!(
        (got / want - 1.0).abs() < 0.1,
        "avoided per enrolled, highest risk / random: {got} (expected {want})"
    );
    assert!(CaseFinding::with_rho(m.risk_shape, 0.0).share(0.1) - 0.1 < 1e-9);
}

#[test]
fn an_auc_outside_half_to_one_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for auc in ["0.4", "1.2", "{ dist = \"uniform\", min = 0.3, max = 0.8 }"] {
        write(
            tmp.path(),
            "bad.toml",
            &case_finding_scenario(&format!(
                "enrolment = \"highest_risk\"\ncase_finding_auc = {auc}"
            )),
        );
        let out = capsim(tmp.path(), &["validate", "bad.toml"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("bad.toml") && err.contains("line 12") && err.contains("case_finding_auc"),
            "{err}"
        );
    }
    write(
        tmp.path(),
        "bad.toml",
        &case_finding_scenario("enrolment = \"the_worried_well\""),
    );
    let out = capsim(tmp.path(), &["validate", "bad.toml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("enrolment") && err.contains("highest_risk"),
        "{err}"
    );
}

/// The shipped scenarios of `all-of-the-above` and the baseline, simulated through the
/// library for one run of `years` years on the default system: (metrics, budgets) of the
/// scenario, its cost lines, and the counterfactual's metrics.
fn all_of_the_above(
    years: u32,
) -> (
    capsim::accounts::metrics::Metrics,
    capsim::accounts::capitation::Budgets,
    capsim::accounts::costs::Costs,
) {
    use capsim::accounts::capitation::Weights;
    use capsim::accounts::costs::Costs;
    use capsim::accounts::metrics::compute;
    use capsim::accounts::need_formula::estimate;
    use capsim::engine::levers::Levers;
    use capsim::engine::simulation::{simulate_plan_here, Plan, SimConfig};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut s =
        capsim::config::scenario::Scenario::load(&root.join("scenarios/all-of-the-above.toml"))
            .unwrap();
    s.years = years;
    let (d, m, _) = crate::util::bundled();
    let g = s.geography(&d).unwrap();
    let levers = Levers::draw(&s, &s.resolve(&d, &g).unwrap(), &m, 0);
    let plan = Plan::new(
        SimConfig {
            seed: s.seed,
            run: 0,
            years,
            variation: s.variation,
            mortality: s.mortality,
            trends: Default::default(),
        },
        vec![Levers::none(), levers.clone()],
    );
    let mut results = simulate_plan_here(&m, &g, &plan, true, &|| {});
    let scenario = results.pop().unwrap();
    let cf = results.pop().unwrap();
    let estimated = estimate(&m, &g, s.variation, s.seed, 0, 0.8);
    let weights = Weights::new(&m, &d, estimated, Vec::new());
    let (metrics, budgets) = compute(&m, &d, &weights, &g, &s, &levers, &scenario, &cf);
    let p = &d.parameters;
    let costs = Costs::new(
        &m,
        &g,
        &levers,
        &scenario,
        &cf,
        (p.ward_beds, p.bed_occupancy),
    );
    (metrics, budgets, costs)
}

/// Every pound a scenario costs is in exactly one budget line in the year it is paid:
/// summed over the neighbourhoods' sector lines, every formula's budget spend is the
/// cash cost (care + programme + set-up + fixed costs of avoided activity still paid) to
/// the penny, year by year; set-up costs are paid in year 1; and per-run metrics keep
/// total cost = care spend + programme cost and cash cost = total cost + retained fixed
/// cost in every row.
#[test]
fn every_pound_is_in_one_budget_line_to_the_penny() {
    use capsim::accounts::capitation::BudgetRow;
    use capsim::accounts::metric::Metric;
    use capsim::core::level::Level;
    let years = 3;
    let (metrics, budgets, costs) = all_of_the_above(years);
    for y in 1..=years as i32 {
        let lines = costs.lines.iter().flat_map(|n| n[y as usize - 1].iter());
        let (mut care, mut programme, mut setup, mut retained) = (0i64, 0i64, 0i64, 0i64);
        for l in lines {
            care += l.care_spend();
            programme += l.programme;
            setup += l.setup;
            retained += l.retained_cost();
        }
        assert!(programme > 0 && retained > 0, "y{y}");
        assert_eq!(setup > 0, y == 1, "set-up costs are paid in year 1 only");
        let cash = care + programme + setup + retained;
        for (k, formula) in budgets.formulas.iter().enumerate() {
            let spend: i64 = (0..budgets.year.len())
                .filter(|i| {
                    budgets.year[*i] == y
                        && budgets.level[*i] == Level::Neighbourhood
                        && matches!(budgets.sector[*i], BudgetRow::Sector(_))
                        && budgets.formula[*i] as usize == k
                })
                .map(|i| budgets.spend[i])
                .sum();
            assert_eq!(spend, cash, "{formula} y{y}: budget lines vs cash cost");
        }
        // The metrics say the same, in pounds.
        let get = |m: Metric| {
            (0..metrics.len())
                .find(|i| {
                    metrics.year[*i] == y
                        && metrics.level[*i] == Level::System
                        && *metrics.metric(*i) == m
                })
                .map(|i| metrics.value[i])
                .unwrap()
        };
        let pounds = |p: i64| p as f64 / 100.0;
        assert_eq!(get(Metric::CashCost), pounds(cash));
        assert_eq!(get(Metric::SetupCost), pounds(setup));
        assert_eq!(get(Metric::ProgrammeCost), pounds(programme + setup));
        assert_eq!(get(Metric::CareSpend), pounds(care));
        assert_eq!(get(Metric::RetainedFixedCost), pounds(retained));
    }
    // In every row: total = care + programme, cash = total + retained.
    let mut by_key = std::collections::BTreeMap::new();
    for i in 0..metrics.len() {
        by_key.insert(
            (
                metrics.year[i],
                metrics.level[i],
                metrics.area(i).to_string(),
                metrics.metric(i).name(),
            ),
            metrics.value[i],
        );
    }
    let mut checked = 0;
    for ((y, l, a, m), total) in &by_key {
        if m != "total_cost" {
            continue;
        }
        let get = |name: &str| by_key[&(*y, *l, a.clone(), name.to_string())];
        assert!((total - (get("care_spend") + get("programme_cost"))).abs() < 0.005);
        assert!((get("cash_cost") - (total + get("retained_fixed_cost"))).abs() < 0.005);
        if *l != Level::ImdQuintile || a != "1-5" {
            // Net cost is total cost minus the counterfactual's (its care alone).
            let cf_total = get("care_spend") + get("net_savings");
            assert!(
                (get("net_cost") - (total - cf_total)).abs() < 0.005,
                "{y} {a}"
            );
            // Gross savings less added activity are the net savings.
            let net = get("gross_savings") - get("added_activity_cost");
            assert!((net - get("net_savings")).abs() < 0.005);
        }
        checked += 1;
    }
    assert!(checked > 100, "{checked}");
}

/// With no interventions the cash cost is the total cost, and budget lines pay care alone.
#[test]
fn without_interventions_cash_is_the_total_cost() {
    use capsim::accounts::costs::Costs;
    use capsim::engine::levers::Levers;
    use capsim::engine::simulation::{simulate_plan_here, Plan, SimConfig};
    let (_, m, g) = crate::util::bundled();
    let plan = Plan::new(SimConfig::new(3, 0, 2), vec![Levers::none()]);
    let r = simulate_plan_here(&m, &g, &plan, true, &|| {})
        .pop()
        .unwrap();
    let costs = Costs::new(&m, &g, &Levers::none(), &r, &r, (28.0, 0.9));
    for l in costs.lines.iter().flatten().flatten() {
        assert_eq!(l.cash_cost(), l.total_cost());
        assert_eq!(l.total_cost(), l.care_spend());
    }
    let by_sector: i64 = costs.by_sector(&m).iter().flatten().flatten().sum();
    let care: i64 = r
        .iter()
        .flat_map(|n| n.activity.iter())
        .map(|a| {
            capsim::core::care::Setting::ALL
                .iter()
                .map(|s| a.pence_of(*s))
                .sum::<i64>()
        })
        .sum();
    assert_eq!(by_sector, care);
}

/// The summary's ICER is the ratio of the mean discounted net cost to the mean discounted
/// QALYs over every run (none dropped), recomputed here from the per-run metrics.
#[test]
fn the_summary_icer_is_the_ratio_of_means() {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenario = root.join("scenarios/prevention-stable-ltc.toml");
    capsim_ok(
        tmp.path(),
        &[
            "run",
            scenario.to_str().unwrap(),
            "--runs",
            "6",
            "--years",
            "3",
            "--out",
            "p",
            "--no-report",
        ],
    );
    let (mut cost, mut qalys) = (Vec::new(), Vec::new());
    for run in 0..6 {
        let m = capsim::io::summary::read_metrics(&tmp.path().join(format!(
            "p/metrics/scenario=prevention-stable-ltc/run={run}/part-0.parquet"
        )))
        .unwrap();
        let get = |metric: capsim::accounts::metric::Metric| {
            (0..m.len())
                .find(|i| {
                    m.year[*i] == 3
                        && m.level[*i] == capsim::core::level::Level::System
                        && *m.metric(*i) == metric
                })
                .map(|i| m.value[i])
        };
        use capsim::accounts::metric::Metric;
        cost.push(get(Metric::DiscountedCumulativeNetCost).unwrap());
        qalys.push(get(Metric::DiscountedQalysGained).unwrap());
        assert_eq!(get(Metric::CostPerQaly), None, "no per-run ICER");
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let rows = summary_means(&std::fs::read_to_string(tmp.path().join("p/summary.csv")).unwrap());
    let icer = rows
        .iter()
        .find(|((_, y, l, _, m), _)| *y == 3 && l == "system" && m == "cost_per_qaly")
        .map(|(_, v)| *v)
        .expect("an ICER row");
    let want = mean(&cost) / mean(&qalys);
    assert!(mean(&qalys) > 0.0);
    assert!((icer / want - 1.0).abs() < 1e-9, "{icer} vs {want}");
}

/// QALYs lost to emergency admissions and bed days: with fixed losses, the QALYs a
/// scenario gains from care are loss x admissions avoided + loss x bed days avoided, and
/// health is discounted at its own rate when one is given.
#[test]
fn qalys_follow_admissions_avoided_and_their_own_discount_rate() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "q.toml",
        &(scenario("")
            + "[evaluation]\nqaly_loss_per_admission = 0.01\nqaly_loss_per_bed_day = 0.001\nhealth_discount_rate = 0.015\n"),
    );
    capsim_ok(
        tmp.path(),
        &["run", "q.toml", "--out", "q", "--no-report", "--csv"],
    );
    let m = system_metrics(&std::fs::read_to_string(tmp.path().join("q/metrics.csv")).unwrap());
    let get = |y: i64, k: &str| m[&(y, k.to_string())];
    for y in 1..=3 {
        let want = 0.01 * get(y, "avoided_admissions") + 0.001 * get(y, "avoided_bed_days");
        assert!(want > 0.0);
        assert!(
            (get(y, "admission_qalys_gained") - want).abs() < 1e-9,
            "y{y}"
        );
        // No mortality or deterioration effect: every QALY gained comes from care.
        assert!((get(y, "qalys_gained") - want).abs() < 1e-9, "y{y}");
    }
    let total: f64 = (1..=3)
        .map(|y| get(y, "qalys_gained") * 1.015f64.powi(-(y as i32 - 1)))
        .sum();
    assert!((get(3, "discounted_cumulative_qalys_gained") - total).abs() < 1e-9);
}

/// A 40-year horizon runs, and its headline warns when QALYs are still accruing.
#[test]
fn a_forty_year_horizon_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenario = root.join("scenarios/prevention-stable-ltc.toml");
    let out = capsim_ok(
        tmp.path(),
        &[
            "run",
            scenario.to_str().unwrap(),
            "--runs",
            "1",
            "--years",
            "40",
            "--population",
            "invented",
            "--out",
            "p",
            "--no-report",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("40 years"), "{text}");
}

/// `--out` naming an existing file is a bad argument: exit 2, no panic.
#[test]
fn an_output_path_that_is_a_file_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("taken"), "x").unwrap();
    let out = capsim(
        tmp.path(),
        &["run", "--runs", "1", "--years", "1", "--out", "taken"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("taken") && !err.contains("panicked"), "{err}");
}

/// Without `[envelope] growth` the envelope grows at the datasets' sourced real rate
/// (`envelope_real_growth`, 1%); pool funders must be shares summing to 1.
#[test]
fn the_envelope_grows_at_the_sourced_default_and_funders_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "g.toml", &scenario(""));
    capsim_ok(
        tmp.path(),
        &["run", "g.toml", "--out", "g", "--no-report", "--csv"],
    );
    let m = system_metrics(&std::fs::read_to_string(tmp.path().join("g/metrics.csv")).unwrap());
    let budget = |y: i64| {
        m.iter()
            .find(|((yy, k), _)| *yy == y && k.starts_with("budget:"))
            .map(|(_, v)| *v)
            .unwrap()
    };
    let d = capsim::data::datasets::Datasets::bundled().unwrap();
    let g = d.parameters.envelope_real_growth;
    assert_eq!(g, 0.01);
    for y in 2..=3 {
        assert!(
            (budget(y) / budget(y - 1) - (1.0 + g)).abs() < 1e-6,
            "y{y}: {}",
            budget(y) / budget(y - 1)
        );
    }
    write(
        tmp.path(),
        "bad.toml",
        &(scenario("")
            + "[capitation]\nrisk_sharing = { gain_share = 0.5, funders = { icb = 0.6, council = 0.3 } }\n"),
    );
    let out = capsim(tmp.path(), &["validate", "bad.toml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad.toml") && err.contains("funders") && err.contains("sum to 1"),
        "{err}"
    );
}

/// Issue 24, item 5(b): an effect may act on any setting. `effects.care_home_weeks = -0.5`
/// for frail people aged 65+, 40% enrolled at random, lowers the expected care-home weeks
/// of the target by 0.4 x 0.5 of the target's own (worked by hand from the model's rates
/// and the people's exposure), and leaves everyone else's and every other setting alone.
#[test]
fn an_effect_on_care_home_weeks_lowers_the_targets_weeks_by_the_enrolled_share() {
    use capsim::config::scenario::{Scenario, Variation};
    use capsim::core::care::Setting;
    use capsim::core::dims::{n_exposure_cells, Cell};
    use capsim::engine::exposure::add_exposure;
    use capsim::engine::levers::{scenario_means, EffectScratch, Levers};

    let tmp = tempfile::tempdir().unwrap();
    let file = write(
        tmp.path(),
        "homes.toml",
        r#"name = "homes"
years = 1
seed = 5
runs = 1
[population]
preset = "invented"
neighbourhoods = ["Harbourside PCN"]
[[intervention]]
name = "Homes"
target = { segments = ["frailty"], age_min = 65 }
coverage = { start = 0.4, target = 0.4 }
effects.care_home_weeks = -0.5
"#,
    );
    let (d, m, g) = crate::util::bundled();
    let s = Scenario::load(&file).unwrap();
    let levers = Levers::draw(&s, &s.resolve(&d, &g).unwrap(), &m, 0);
    let ns = d.segments.len();
    let p = crate::util::people_of(&m, &g, 1, 5);
    let mut exposure = vec![0.0; n_exposure_cells(ns)];
    let mut presence = exposure.clone();
    for i in 0..p.len() {
        add_exposure(&p, i, 1.0, &mut exposure, &mut presence);
    }
    let nb = &g.neighbourhoods[0];
    let off = Variation {
        between_areas: false,
        place_costs: false,
    };
    let area = m
        .variation
        .factors(off, (5, 0), (nb.id, &g.places[nb.place].name), 1);
    let ng = m.activity.n_groups();
    let means = |l: &Levers| {
        let mut out = vec![0.0; Setting::COUNT * ng];
        let mut scratch = EffectScratch::default();
        scenario_means(
            &m.activity,
            l,
            &area,
            0,
            1,
            &exposure,
            &presence,
            &mut scratch,
            &mut out,
        );
        out
    };
    let (without, with) = (means(&Levers::none()), means(&levers));
    // By hand: the target's expected care-home weeks.
    let homes = Setting::CareHomeWeeks;
    let frail = d.segment_index("frailty").unwrap();
    let target: f64 = Cell::all(ns)
        .filter(|c| c.segment == frail && c.band >= 13)
        .map(|c| m.activity.rate(homes, c.exposure()) * exposure[c.exposure()])
        .sum();
    let total = |v: &[f64], s: Setting| v[s.index() * ng..(s.index() + 1) * ng].iter().sum::<f64>();
    let fall = total(&without, homes) - total(&with, homes);
    eprintln!("care-home weeks of the target {target:.1}, fall {fall:.2}");
    assert!(target > 100.0, "{target}");
    assert!(
        (fall / (0.4 * 0.5 * target) - 1.0).abs() < 1e-9,
        "{fall} vs {target}"
    );
    for s in Setting::ALL.into_iter().filter(|s| *s != homes) {
        assert!(
            (total(&without, s) - total(&with, s)).abs() < 1e-9,
            "{}",
            s.id()
        );
    }
}

/// A setting name an `effects` table does not know is refused (exit 2) with the file, the
/// line and every allowed name.
#[test]
fn an_unknown_effect_lists_the_allowed_settings() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "bad.toml",
        "name = \"bad\"\nyears = 1\n[[intervention]]\nname = \"A\"\ncoverage = { start = 0.1, target = 0.5 }\neffects.care_homes = -0.5\n",
    );
    for args in [
        vec!["validate", "bad.toml"],
        vec!["run", "bad.toml", "--out", "results"],
    ] {
        let out = capsim(tmp.path(), &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(!err.contains("panicked"), "{err}");
        for part in [
            "bad.toml",
            "line 6",
            "care_homes",
            "gp_appointments",
            "community_nursing",
            "care_home_weeks",
            "emergency_bed_days",
            "deterioration",
            "mortality",
        ] {
            assert!(err.contains(part), "`{part}` missing from: {err}");
        }
        assert!(!tmp.path().join("results").exists(), "wrote nothing");
    }
}
